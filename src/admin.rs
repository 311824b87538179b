//! Topic administration against a real cluster (API.md "Admin").

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::util::Timeout;

use crate::config::Resolved;
use crate::error::{Error, ErrorKind, Result};
use crate::logging::{self, LibrdkafkaLog};
use crate::topic;

fn timeout(timeout: Option<Duration>) -> Timeout {
    timeout.map_or(Timeout::Never, Timeout::After)
}

fn client(config: &Resolved) -> Result<AdminClient<LibrdkafkaLog>> {
    let mut cc = config.client_config();
    cc.set_log_level(logging::rdkafka_log_level());
    cc.create_with_context(LibrdkafkaLog)
        .map_err(|e| Error::from_rdkafka(&e, "creating the admin client"))
}

fn options(wait: Option<Duration>) -> AdminOptions {
    let t = timeout(wait);
    AdminOptions::new()
        .request_timeout(Some(t))
        .operation_timeout(Some(t))
}

pub fn create_topic(
    config: &Resolved,
    name: &str,
    partitions: i32,
    replication_factor: i32,
    wait: Option<Duration>,
) -> Result<()> {
    topic::validate(name)?;
    if partitions < 1 {
        return Err(Error::invalid_argument(format!(
            "partitions must be at least 1, not {partitions}"
        )));
    }
    if replication_factor < 1 {
        return Err(Error::invalid_argument(format!(
            "replication_factor must be at least 1, not {replication_factor}"
        )));
    }
    let opts = options(wait);
    let admin = client(config)?;
    let new_topic = NewTopic::new(
        name,
        partitions,
        TopicReplication::Fixed(replication_factor),
    );
    let context = format!("creating topic {name:?}");
    let results = block_on(admin.create_topics([&new_topic], &opts))
        .map_err(|e| Error::from_rdkafka(&e, &context))?;
    one_result(results, &context)
}

pub fn delete_topic(config: &Resolved, name: &str, wait: Option<Duration>) -> Result<()> {
    topic::validate(name)?;
    let opts = options(wait);
    let admin = client(config)?;
    let context = format!("deleting topic {name:?}");
    let results = block_on(admin.delete_topics(&[name], &opts))
        .map_err(|e| Error::from_rdkafka(&e, &context))?;
    one_result(results, &context)
}

/// The cluster's topic names, sorted, without internal topics (names
/// starting with `__`, such as `__consumer_offsets`).
pub fn list_topics(config: &Resolved, wait: Option<Duration>) -> Result<Vec<String>> {
    let t = timeout(wait);
    let admin = client(config)?;
    let metadata = admin
        .inner()
        .fetch_metadata(None, t)
        .map_err(|e| Error::from_rdkafka(&e, "listing topics"))?;
    let mut names: Vec<String> = metadata
        .topics()
        .iter()
        .map(|t| t.name().to_owned())
        .filter(|n| !n.starts_with("__"))
        .collect();
    names.sort();
    Ok(names)
}

fn one_result(
    results: Vec<std::result::Result<String, (String, RDKafkaErrorCode)>>,
    context: &str,
) -> Result<()> {
    match results.into_iter().next() {
        Some(Ok(_)) => Ok(()),
        Some(Err((_, code))) => Err(Error::from_rdkafka_code(code, context)),
        None => Err(Error::new(
            ErrorKind::Broker,
            format!("{context}: no result"),
        )),
    }
}

/// Runs a future to completion on this thread. rust-rdkafka's admin futures
/// are completed by its own polling thread, so parking until woken is all
/// that is needed; no async runtime is pulled in for two calls.
fn block_on<F: Future>(future: F) -> F::Output {
    struct Unpark(Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        thread::park();
    }
}

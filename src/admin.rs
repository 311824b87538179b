//! Cluster administration: topics, metadata, groups. One admin client per
//! instance, made on first use and kept (API.md "Admin"; a librdkafka
//! client is threads and connections, not something to make per call).
//!
//! rust-rdkafka's admin client serves only its own result queue, so
//! librdkafka's log lines and errors (a refused login, a failed TLS
//! handshake) would pile up unseen on the main queue. A thread of ours
//! serves that queue: log lines become records, and a security refusal
//! ends the admin calls waiting on it with that refusal instead of a
//! timeout, as it does for producers and consumers.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions};
use rdkafka::error::{KafkaError as RdKafkaError, RDKafkaErrorCode};
use rdkafka::util::Timeout;
use rdkafka::TopicPartitionList;

use crate::config::Resolved;
use crate::error::{Error, ErrorKind, Result, SecurityFailure};
use crate::events::{EventSink, EventThread};
use crate::logging::{self, LibrdkafkaLog};
use crate::oauth::{self, TokenRefresher};
use crate::statistics::{self, Reporter};
use crate::sys::admin::{self as native_admin, Outcome, TopicRequest};
use crate::sys::{self, Queue};
use crate::topic;

mod groups;
mod topics;

use topics::at_least;

/// How often an admin call waiting on librdkafka checks for a security
/// refusal.
const CHECK_SLICE: Duration = Duration::from_millis(100);

/// The admin client of one instance.
pub struct Admin {
    /// Declared before `client`: stopped (and its queue released) first.
    _oauth: Option<TokenRefresher>,
    _events: EventThread,
    client: Arc<AdminClient<LibrdkafkaLog>>,
    security: Arc<SecurityFailure>,
    /// [`sys::fork_generation`] when made: a child of a fork makes its
    /// own (the threads of this one do not exist there).
    generation: u64,
    /// Set when librdkafka 2.12 would abort in destroying this client: a
    /// DeleteGroups refused as unsupported leaves a reference count one
    /// short (reproduced with rust-rdkafka alone, against the mock
    /// cluster). Such a client is never destroyed, and the instance makes
    /// a new one.
    never_destroy: AtomicBool,
    /// Set when a request to a group coordinator is still out after its
    /// caller stopped waiting: the instance stops using this client, which
    /// is destroyed once the calls in progress let go of it (see
    /// `sys::admin`: librdkafka must not time such a request out).
    retired: AtomicBool,
    /// The instance's slot holding this client, to leave it when retired.
    slot: OnceLock<Weak<Mutex<Option<Arc<Admin>>>>>,
}

/// Where the admin client's log lines, errors and statistics go.
struct AdminSink {
    source: usize,
    security: Arc<SecurityFailure>,
    statistics: Option<Reporter>,
}

impl EventSink for AdminSink {
    fn log(&self, syslog_level: i32, facility: &str, message: &str) {
        logging::forward_librdkafka_log(self.source, syslog_level, facility, message);
    }

    fn error(&self, code: RDKafkaErrorCode, reason: &str) {
        let e = RdKafkaError::Global(code);
        self.security.note(&e, reason);
        logging::forward_librdkafka_error(self.source, &e, reason);
    }

    fn statistics(&self, json: &str) {
        if let Some(reporter) = &self.statistics {
            reporter.offer(json);
        }
    }
}

impl Admin {
    fn new(config: &Resolved) -> Result<Self> {
        let mut cc = config.client_config();
        cc.set_log_level(logging::rdkafka_log_level());
        // Describing a topic must not create it (a producer-type client
        // asks brokers to, by default).
        cc.set("allow.auto.create.topics", "false");
        let client: AdminClient<LibrdkafkaLog> = cc
            .create_with_context(LibrdkafkaLog)
            .map_err(|e| Error::from_rdkafka(&e, "creating the admin client"))?;
        let client = Arc::new(client);
        let main = Queue::main_of(client.inner())
            .map_err(|e| Error::new(ErrorKind::Internal, format!("admin client: {e}")))?;
        let security = Arc::new(SecurityFailure::default());
        let sink = Arc::new(AdminSink {
            source: Arc::as_ptr(&client) as usize,
            security: Arc::clone(&security),
            statistics: statistics::reporter_for(&config.statistics, 0)?,
        });
        let events = EventThread::start("kafka-admin", main, sink, Arc::clone(&client), |_| {})
            .map_err(|e| {
                Error::new(
                    ErrorKind::Internal,
                    format!("admin client: no thread for its events: {e}"),
                )
            })?;
        let oauth = oauth::refresher_for(
            config.oauth.as_ref(),
            config.get("sasl.oauthbearer.config"),
            Arc::clone(&client),
            |c: &Arc<AdminClient<LibrdkafkaLog>>| c.inner(),
            Arc::as_ptr(&client) as usize,
        )?;
        Ok(Admin {
            _oauth: oauth,
            _events: events,
            client,
            security,
            generation: sys::fork_generation(),
            never_destroy: AtomicBool::new(false),
            retired: AtomicBool::new(false),
            slot: OnceLock::new(),
        })
    }

    /// Runs an admin future to completion, ended early by a security
    /// refusal of this client.
    fn wait<F: Future>(&self, future: F, context: &str) -> Result<F::Output> {
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
                return Ok(out);
            }
            if let Some(e) = self.security.get() {
                return Err(e.context(context));
            }
            thread::park_timeout(CHECK_SLICE);
        }
    }

    /// A timeout becomes the security refusal that explains it.
    fn explain(&self, e: Error) -> Error {
        match (e.kind, self.security.get()) {
            (ErrorKind::Timeout, Some(refusal)) => refusal,
            _ => e,
        }
    }

    /// What a native admin request came to, as a Result: a refusal keeps
    /// the broker's own words; an interrupted wait is the security
    /// refusal that interrupted it.
    fn outcome<T>(&self, outcome: Outcome<T>, context: &str) -> Result<T> {
        match outcome {
            Outcome::Done(t) => Ok(t),
            Outcome::Failed(code, why) => {
                let mut e = self.explain(Error::from_rdkafka_code(code, context));
                if !why.is_empty() && !e.message.contains(&why) {
                    e.message = format!("{}: {why}", e.message);
                }
                Err(e)
            }
            Outcome::Interrupted => Err(self.explain(Error::new(ErrorKind::Timeout, context))),
            Outcome::TimedOut => Err(Error::new(
                ErrorKind::Timeout,
                format!("{context}: the group's coordinator did not answer in time"),
            )),
        }
    }

    /// As [`Admin::outcome`], for a request to a group's coordinator: one
    /// still out when the wait ended retires this client.
    fn coordinator_outcome<T>(&self, outcome: Outcome<T>, context: &str) -> Result<T> {
        if matches!(outcome, Outcome::TimedOut | Outcome::Interrupted) {
            self.retire();
        }
        self.outcome(outcome, context)
    }

    /// Leaves the instance's slot: the next admin call makes a new
    /// client, and this one is destroyed on a thread of its own once the
    /// calls still using it return.
    fn retire(&self) {
        if self.retired.swap(true, Ordering::AcqRel) {
            return;
        }
        let Some(slot) = self.slot.get().and_then(Weak::upgrade) else {
            return;
        };
        let mut slot = slot.lock().unwrap_or_else(|p| p.into_inner());
        if slot
            .as_ref()
            .is_some_and(|a| std::ptr::eq(Arc::as_ptr(a), self))
        {
            if let Some(me) = slot.take() {
                drop(slot);
                if let Err(e) = sys::release_last_on_a_thread(me) {
                    let why =
                        format!("a retired admin client is kept: no thread to release it: {e}");
                    logging::log(
                        logging::Level::Warning,
                        "kafka_instance.admin",
                        "admin client",
                        &why,
                        None,
                    );
                }
            }
        }
    }

    /// Sends one topic request and waits for the broker's answer.
    fn topic_request(
        &self,
        what: TopicRequest<'_>,
        wait: Option<Duration>,
        context: &str,
    ) -> Result<()> {
        let wait = self.check_controller(wait, context)?;
        let stop = || self.security.get().is_some();
        let outcome = native_admin::topic_request(self.client.inner(), what, wait, &stop);
        self.outcome(outcome, context)
    }

    /// Refuses at once a request for the cluster's controller (topics
    /// created, deleted or grown, settings read or changed) when the
    /// controller the cluster names is none of its brokers: librdkafka
    /// would wait for it until the timeout. librdkafka's embedded broker
    /// names broker 0, which does not exist, and answers none of these
    /// requests; a broker that lacks one of them is refused by librdkafka
    /// itself, at once.
    /// Returns what is left of `wait` for the request itself.
    fn check_controller(&self, wait: Option<Duration>, context: &str) -> Result<Option<Duration>> {
        let deadline = wait.map(|w| Instant::now() + w);
        let left = || deadline.map(|d| d.saturating_duration_since(Instant::now()));
        let slice = || left().map_or(CONTROLLER_WAIT, |l| l.min(CONTROLLER_WAIT));
        let client = self.client.inner();
        if sys::controller_id(client, slice()).is_none() {
            return Ok(left());
        }
        // A fresh answer, and the controller it names (the one cached
        // before may have moved): without an answer, the request goes as
        // it is (and waits).
        let Some(brokers) = sys::broker_ids(client, slice()) else {
            return Ok(left());
        };
        let id = sys::controller_id(client, Duration::ZERO);
        match id {
            Some(id) if !brokers.contains(&id) => {}
            _ => return Ok(left()),
        }
        let id = id.unwrap_or_default();
        let mut e = Error::from_rdkafka_code(RDKafkaErrorCode::UnsupportedFeature, context);
        e.message = format!(
            "{}: {}",
            e.message,
            format_args!(
                "the cluster names broker {id} its controller, and has no such broker, so it \
                 answers no request for the controller (creating, deleting or growing topics, \
                 reading or changing their settings); librdkafka's embedded broker is such a \
                 cluster: create its topics with kafka_mock_cluster_create_topic"
            )
        );
        Err(e)
    }

    /// The cluster's metadata (all topics, or `topic`), asked in slices
    /// that grow (250 ms, 500 ms, ...) up to `wait`, so that a refused
    /// login ends the wait early.
    fn metadata(
        &self,
        topic: Option<&str>,
        wait: Option<Duration>,
        context: &str,
    ) -> Result<rdkafka::metadata::Metadata> {
        let deadline = wait.map(|w| Instant::now() + w);
        let mut slice = Duration::from_millis(250);
        loop {
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            let this = left.map_or(slice, |l| l.min(slice));
            match self.client.inner().fetch_metadata(topic, this) {
                Ok(m) => {
                    self.security.clear();
                    return Ok(m);
                }
                Err(e) => {
                    let e = Error::from_rdkafka(&e, context);
                    if let Some(refusal) = self.security.get() {
                        return Err(refusal.context(context));
                    }
                    let more = left.is_none_or(|l| l > this);
                    if e.kind != ErrorKind::Timeout || !more {
                        return Err(e);
                    }
                }
            }
            slice = (slice * 2).min(Duration::from_secs(4));
        }
    }
}

impl Drop for Admin {
    fn drop(&mut self) {
        let forked = self.generation != sys::fork_generation();
        if forked || self.never_destroy.load(Ordering::Acquire) {
            // In a forked child its threads do not exist; see
            // `never_destroy` for the other case. Never destroyed.
            std::mem::forget(Arc::clone(&self.client));
        }
        // Then `events` stops (joined unless this is its own thread, which
        // then releases its reference when the running callback returns).
    }
}

/// How long a controller request waits for the cluster to name its
/// controller before it goes to librdkafka as it is.
const CONTROLLER_WAIT: Duration = Duration::from_secs(2);

/// The admin client of an instance: made on first use, shared by its
/// clones, remade in a forked child.
#[derive(Clone, Default)]
pub struct Shared(Arc<Mutex<Option<Arc<Admin>>>>);

impl Shared {
    pub fn get(&self, config: &Resolved) -> Result<Arc<Admin>> {
        let mut slot = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(admin) = slot.as_ref() {
            let usable = !admin.never_destroy.load(Ordering::Acquire)
                && !admin.retired.load(Ordering::Acquire);
            if admin.generation == sys::fork_generation() && usable {
                return Ok(Arc::clone(admin));
            }
        }
        let admin = Arc::new(Admin::new(config)?);
        let _ = admin.slot.set(Arc::downgrade(&self.0));
        // An inherited one is dropped here: its Drop releases nothing.
        *slot = Some(Arc::clone(&admin));
        Ok(admin)
    }
}

fn options(wait: Option<Duration>) -> AdminOptions {
    let t = wait.map_or(Timeout::Never, Timeout::After);
    AdminOptions::new()
        .request_timeout(Some(t))
        .operation_timeout(Some(t))
}

/// One setting of a topic, as [`Admin::topic_config`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicSetting {
    pub name: String,
    /// None for a sensitive setting (never shown) or one without a value.
    pub value: Option<String>,
    /// Set on the topic itself (not inherited from the broker).
    pub set_on_topic: bool,
    pub is_default: bool,
    pub is_read_only: bool,
    pub is_sensitive: bool,
}

/// A committed offset that is not there (librdkafka's `OFFSET_INVALID`).
pub(crate) const NO_OFFSET: i64 = -1001;

/// Brokers and partitions, as [`Admin::describe`] found them.
#[derive(Debug, Clone)]
pub struct Cluster {
    /// None when the broker did not say in time (or is too old to).
    pub id: Option<String>,
    pub brokers: Vec<BrokerInfo>,
    /// Sorted by topic, then partition.
    pub partitions: Vec<PartitionInfo>,
}

#[derive(Debug, Clone)]
pub struct BrokerInfo {
    pub id: i32,
    pub host: String,
    pub port: i32,
}

#[derive(Debug, Clone)]
pub struct PartitionInfo {
    pub topic: String,
    pub partition: i32,
    /// -1: no leader now.
    pub leader: i32,
    pub replicas: Vec<i32>,
    pub in_sync: Vec<i32>,
    pub error: Option<RDKafkaErrorCode>,
}

#[derive(Debug, Clone)]
pub struct GroupInfo {
    pub name: String,
    /// As the coordinator says: "Stable", "Empty", "PreparingRebalance"...
    pub state: String,
    pub protocol_type: String,
    /// The assignor in use ("range", "cooperative-sticky"...).
    pub protocol: String,
    pub members: Vec<GroupMember>,
}

#[derive(Debug, Clone)]
pub struct GroupMember {
    pub id: String,
    pub client_id: String,
    pub host: String,
    /// (topic, partition), sorted.
    pub assignment: Vec<(String, i32)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Committed {
    pub topic: String,
    pub partition: i32,
    /// -1001 (`KAFKA_OFFSET_NONE`): nothing committed.
    pub offset: i64,
}

#[derive(Debug, Clone)]
pub struct Lag {
    pub committed: Committed,
    pub low: i64,
    pub high: i64,
    /// High watermark minus the committed offset (with nothing
    /// committed, everything retained: high minus low).
    pub lag: i64,
}

#[cfg(test)]
mod tests {
    use super::groups::decode_assignment;
    use super::topics::merged_settings;
    use super::TopicSetting;

    fn setting(name: &str, value: Option<&str>, set_on_topic: bool) -> TopicSetting {
        TopicSetting {
            name: name.into(),
            value: value.map(Into::into),
            set_on_topic,
            is_default: !set_on_topic,
            is_read_only: false,
            is_sensitive: value.is_none(),
        }
    }

    #[test]
    fn a_change_keeps_the_topics_other_settings_and_drops_inherited_ones() {
        let current = vec![
            setting("retention.ms", Some("1000"), true),
            setting("cleanup.policy", Some("delete"), false),
            setting("max.message.bytes", Some("2000"), true),
            setting("secret.thing", None, true),
        ];
        let got = merged_settings(
            current,
            &[("retention.ms", None), ("segment.ms", Some("60000"))],
        );
        let want = [("max.message.bytes", "2000"), ("segment.ms", "60000")]
            .map(|(k, v)| (k.to_owned(), v.to_owned()));
        assert_eq!(got, want);
    }

    #[test]
    fn a_consumer_protocol_assignment_decodes() {
        // version 1; 2 topics: "ab" [0, 2], "c" [1]; 0 bytes of user data.
        let mut b = vec![0, 1, 0, 0, 0, 2];
        b.extend([0, 2, b'a', b'b', 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 0]);
        b.extend([0, 1, b'c', 0, 0, 0, 1, 0, 0, 0, 1]);
        b.extend([0, 0, 0, 0]);
        let got = decode_assignment(&b);
        let want = [("ab", 0), ("ab", 2), ("c", 1)].map(|(t, p)| (t.to_owned(), p));
        assert_eq!(got, want);
        // Truncated or empty: none, never a panic.
        for n in 0..b.len() - 4 {
            let _ = decode_assignment(&b[..n]);
        }
        assert!(decode_assignment(&[]).is_empty());
    }
}

//! The consumer: subscribe, poll one or a batch, commit, close, and the
//! seed's topic handlers, over rust-rdkafka's `BaseConsumer`.

use std::ffi::CString;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer as _, ConsumerContext};
use rdkafka::error::{KafkaError as RdKafkaError, RDKafkaErrorCode};
use rdkafka::message::{BorrowedMessage, Headers, Message as _, Timestamp};
use rdkafka::{Offset, TopicPartitionList};
use serde_json::json;

use crate::config::{Config, Scope};
use crate::error::{is_security_code, Error, Result, SecurityFailure};
use crate::instance::Instance;
use crate::logging::{self, Level};
use crate::timeout::deadline;
use crate::topic;

const SUBJECT: &str = "Kafka Consumer";

/// A consumed message, owned: it outlives its consumer. Text fields are
/// kept NUL-terminated so that C callers read them without copies.
#[derive(Debug, Clone)]
pub struct Message {
    topic: Arc<CString>,
    partition: i32,
    offset: i64,
    timestamp_ms: i64,
    /// The key's bytes, then the value's, in one allocation (one malloc
    /// per message instead of two: the consumer's hot path).
    data: Box<[u8]>,
    /// `None`: no key (as opposed to an empty one).
    key_len: Option<usize>,
    /// `false`: no value (a tombstone), as opposed to an empty one.
    has_value: bool,
    headers: Vec<(CString, Option<Box<[u8]>>)>,
}

impl Message {
    pub fn topic(&self) -> &str {
        // Built from a &str, so always UTF-8.
        self.topic.to_str().unwrap_or_default()
    }
    pub fn topic_cstr(&self) -> &std::ffi::CStr {
        &self.topic
    }
    pub fn partition(&self) -> i32 {
        self.partition
    }
    pub fn offset(&self) -> i64 {
        self.offset
    }
    /// Milliseconds since the epoch, -1 if none.
    pub fn timestamp_ms(&self) -> i64 {
        self.timestamp_ms
    }
    pub fn key(&self) -> Option<&[u8]> {
        self.key_len.map(|n| &self.data[..n])
    }
    pub fn value(&self) -> Option<&[u8]> {
        self.has_value
            .then(|| &self.data[self.key_len.unwrap_or(0)..])
    }
    pub fn header_count(&self) -> usize {
        self.headers.len()
    }
    pub fn header(&self, index: usize) -> Option<(&std::ffi::CStr, Option<&[u8]>)> {
        self.headers
            .get(index)
            .map(|(name, value)| (name.as_c_str(), value.as_deref()))
    }
}

/// A topic handler: `Err` is logged with the message's coordinates and
/// processing goes on.
pub type Handler = Box<dyn FnMut(&Message) -> std::result::Result<(), String> + Send>;

/// The rust-rdkafka context: librdkafka's log lines, global errors and
/// rebalances go to our log.
struct Context {
    /// The last authentication or TLS failure, with librdkafka's reason,
    /// for `poll` to return.
    security: SecurityFailure,
}

impl ClientContext for Context {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, message: &str) {
        logging::forward_librdkafka_log(level as i32, fac, message);
    }

    fn error(&self, error: RdKafkaError, reason: &str) {
        self.security.note(&error, reason);
        logging::forward_librdkafka_error(&error, reason);
    }
}

impl ConsumerContext for Context {
    fn post_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &rdkafka::consumer::Rebalance<'_>) {
        if logging::enabled(Level::Info) {
            logging::log(
                Level::Info,
                "kafka_instance.consumer.rebalance",
                SUBJECT,
                &format!("rebalance: {rebalance:?}"),
                None,
            );
        }
    }
}

/// The default cap on one `consume` batch when `max_poll_records` is not
/// set (kafka-python's default).
pub const DEFAULT_MAX_POLL_RECORDS: usize = 500;

/// A subscribed consumer. Used by one thread at a time.
pub struct Consumer {
    inner: BaseConsumer<Context>,
    max_poll_records: Option<usize>,
    auto_commit: bool,
    handlers: Vec<(String, Handler)>,
    /// The last topic name seen, shared by its messages.
    last_topic: Option<Arc<CString>>,
    /// An error met after a batch already had messages, for the next poll.
    deferred: Option<Error>,
}

impl Consumer {
    /// A consumer with `instance`'s settings and `overrides` on top,
    /// subscribed to `topics` on return. The group id is required;
    /// producer-only settings in `overrides` are an error.
    pub fn new(instance: &Instance, topics: &[&str], overrides: Option<&Config>) -> Result<Self> {
        if topics.is_empty() {
            return Err(Error::invalid_argument("the topic list is empty"));
        }
        for t in topics {
            topic::validate(t)?;
        }
        let mut config = instance.config().for_client(Scope::Consumer, overrides)?;
        if !config.contains("group.id") {
            return Err(Error::config(
                "a consumer needs a group id: set group_id on the config or in the overrides",
            ));
        }
        // The seed's defaults, stated rather than inherited.
        if !config.contains("auto.offset.reset") {
            config.set("auto.offset.reset", "latest")?;
        }
        if !config.contains("enable.auto.commit") {
            config.set("enable.auto.commit", "true")?;
        }
        let auto_commit = config.get("enable.auto.commit").as_deref() == Some("true");
        let resolved = config.resolve()?;
        let mut cc = resolved.client_config();
        cc.set_log_level(logging::rdkafka_log_level());
        let inner: BaseConsumer<Context> = cc
            .create_with_context(Context {
                security: SecurityFailure::default(),
            })
            .map_err(|e| Error::from_rdkafka(&e, "creating the consumer"))?;
        inner
            .subscribe(topics)
            .map_err(|e| Error::from_rdkafka(&e, "subscribing"))?;
        Ok(Consumer {
            inner,
            max_poll_records: resolved.max_poll_records,
            auto_commit,
            handlers: Vec::new(),
            last_topic: None,
            deferred: None,
        })
    }

    pub fn auto_commit(&self) -> bool {
        self.auto_commit
    }

    /// One message, or `None` when none arrived within `timeout_ms`.
    /// Partition EOF and transient errors are logged, not returned; fatal
    /// errors, a failed `auto_offset_reset=none` and a refused
    /// authentication or TLS handshake are returned.
    pub fn poll(&mut self, timeout_ms: i32) -> Result<Option<Message>> {
        let deadline = deadline(timeout_ms)?;
        if let Some(e) = self.deferred.take() {
            return Err(e);
        }
        loop {
            let wait = match deadline {
                None => Duration::from_millis(100),
                Some(d) => d.saturating_duration_since(Instant::now()),
            };
            if let Some(m) = self.poll_once(wait)? {
                return Ok(Some(m));
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(None);
            }
        }
    }

    /// One poll of librdkafka, up to `wait`. `None` also when an event
    /// (rebalance, commit, skipped error) used the call.
    fn poll_once(&mut self, wait: Duration) -> Result<Option<Message>> {
        match self.inner.poll(wait) {
            None => Ok(None),
            Some(Ok(m)) => {
                self.inner.context().security.clear();
                Ok(Some(own(&mut self.last_topic, &m)))
            }
            Some(Err(e)) => {
                self.consider(e)?;
                Ok(None)
            }
        }
    }

    /// Decides what a consumer error means: returned, or logged and
    /// skipped.
    fn consider(&self, e: RdKafkaError) -> Result<()> {
        match e {
            RdKafkaError::PartitionEOF(p) => {
                if logging::enabled(Level::Debug) {
                    logging::log(
                        Level::Debug,
                        "kafka_instance.consumer.poll",
                        SUBJECT,
                        &format!("reached the end of partition {p}"),
                        None,
                    );
                }
                Ok(())
            }
            RdKafkaError::MessageConsumptionFatal(_) => {
                let mut err = Error::from_rdkafka(&e, "consuming");
                err.fatal = true;
                Err(err)
            }
            // The broker refused the connection (SASL, TLS): librdkafka
            // keeps retrying, but the caller should know now, with the
            // reason librdkafka gave the context.
            RdKafkaError::MessageConsumption(code) if is_security_code(code) => {
                Err(self.inner.context().security.get().unwrap_or_else(|| {
                    let mut err = Error::from_rdkafka(&e, "consuming");
                    err.retriable = false;
                    err
                }))
            }
            RdKafkaError::MessageConsumption(RDKafkaErrorCode::AutoOffsetReset) => Err(
                Error::from_rdkafka(&e, "no committed offset and auto_offset_reset is none"),
            ),
            other => {
                let err = Error::from_rdkafka(&other, "consuming");
                logging::log(
                    Level::Warning,
                    "kafka_instance.consumer.poll",
                    SUBJECT,
                    &err.message,
                    Some(json!({ "rdkafka_code": err.rdkafka_code, "retriable": err.retriable })),
                );
                Ok(())
            }
        }
    }

    /// Up to `capacity` messages (and at most `max_poll_records`): waits up
    /// to `timeout_ms` for the first, then takes only what is already
    /// there.
    pub fn poll_batch(&mut self, capacity: usize, timeout_ms: i32) -> Result<Vec<Message>> {
        let mut out = Vec::new();
        self.poll_each(capacity, timeout_ms, |m| out.push(m))?;
        Ok(out)
    }

    /// [`poll_batch`](Self::poll_batch), handing each message to `sink` as
    /// it comes instead of collecting them. Returns how many.
    pub fn poll_each(
        &mut self,
        capacity: usize,
        timeout_ms: i32,
        mut sink: impl FnMut(Message),
    ) -> Result<usize> {
        let limit = self.max_poll_records.map_or(capacity, |m| m.min(capacity));
        if limit == 0 {
            deadline(timeout_ms)?;
            return Ok(0);
        }
        match self.poll(timeout_ms)? {
            Some(m) => sink(m),
            None => return Ok(0),
        }
        let mut n = 1;
        while n < limit {
            match self.poll_once(Duration::ZERO) {
                Ok(Some(m)) => sink(m),
                Ok(None) => break,
                // Messages already handed over are the caller's: return
                // them, and the error on the next poll.
                Err(e) => {
                    self.deferred = Some(e);
                    break;
                }
            }
            n += 1;
        }
        Ok(n)
    }

    /// Commits the current positions (offset after each message returned)
    /// and waits for the broker. Nothing consumed yet is not an error.
    pub fn commit(&self) -> Result<()> {
        match self.inner.commit_consumer_state(CommitMode::Sync) {
            Ok(()) => Ok(()),
            Err(RdKafkaError::ConsumerCommit(RDKafkaErrorCode::NoOffset)) => Ok(()),
            Err(e) => Err(Error::from_rdkafka(&e, "committing offsets")),
        }
    }

    /// Commits `message.offset + 1` for its partition.
    pub fn commit_message(&self, message: &Message) -> Result<()> {
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(
            message.topic(),
            message.partition,
            Offset::Offset(message.offset + 1),
        )
        .map_err(|e| Error::from_rdkafka(&e, "committing a message"))?;
        self.inner
            .commit(&tpl, CommitMode::Sync)
            .map_err(|e| Error::from_rdkafka(&e, "committing a message"))
    }

    /// Adds a handler for `topic`; handlers run in registration order.
    pub fn register_handler(&mut self, topic: &str, handler: Handler) -> Result<()> {
        topic::validate(topic)?;
        self.handlers.push((topic.to_owned(), handler));
        Ok(())
    }

    /// The seed's `consume(timeout)`: polls one batch, runs each message's
    /// topic handlers in order (a failing handler is logged and the others
    /// still run), then commits when auto-commit is off. Returns how many
    /// messages were polled.
    pub fn consume(&mut self, timeout_ms: i32) -> Result<usize> {
        let cap = self.max_poll_records.unwrap_or(DEFAULT_MAX_POLL_RECORDS);
        let batch = self.poll_batch(cap, timeout_ms)?;
        for m in &batch {
            let mut handled = false;
            for (topic, handler) in self.handlers.iter_mut() {
                if topic.as_str() != m.topic() {
                    continue;
                }
                handled = true;
                let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handler(m)))
                    .unwrap_or_else(|_| Err("the handler panicked".to_owned()));
                if let Err(why) = outcome {
                    logging::log(
                        Level::Error,
                        "kafka_instance.consumer.consume",
                        SUBJECT,
                        &format!(
                            "handler for {:?} failed at partition {} offset {}: {why}",
                            m.topic(),
                            m.partition,
                            m.offset
                        ),
                        Some(json!({
                            "topic": m.topic(),
                            "partition": m.partition,
                            "offset": m.offset,
                        })),
                    );
                }
            }
            if !handled && logging::enabled(Level::Debug) {
                logging::log(
                    Level::Debug,
                    "kafka_instance.consumer.consume",
                    SUBJECT,
                    &format!("no handler for topic {:?}; message consumed", m.topic()),
                    None,
                );
            }
        }
        if !self.auto_commit && !batch.is_empty() {
            self.commit()?;
        }
        Ok(batch.len())
    }

    /// Leaves the group (its partitions go to the remaining members at
    /// once), committing first when auto-commit is on, and releases
    /// everything.
    pub fn close(self) -> Result<()> {
        // rust-rdkafka's drop closes the consumer queue and polls until
        // librdkafka reports the consumer closed: the final commit and the
        // LeaveGroup happen there.
        drop(self.inner);
        Ok(())
    }
}

/// Copies a librdkafka message into an owned one; `last_topic` lets a run
/// of messages from one topic share its name.
fn own(last_topic: &mut Option<Arc<CString>>, m: &BorrowedMessage<'_>) -> Message {
    let topic = match last_topic {
        Some(t) if t.as_bytes() == m.topic().as_bytes() => t.clone(),
        _ => {
            let t = Arc::new(CString::new(m.topic()).unwrap_or_default());
            *last_topic = Some(t.clone());
            t
        }
    };
    let headers = m
        .headers()
        .map(|hs| {
            hs.iter()
                .map(|h| {
                    (
                        CString::new(h.key.replace('\0', " ")).unwrap_or_default(),
                        h.value.map(Box::from),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let (key, value) = (m.key(), m.payload());
    let mut data = Vec::with_capacity(key.map_or(0, <[u8]>::len) + value.map_or(0, <[u8]>::len));
    data.extend_from_slice(key.unwrap_or_default());
    data.extend_from_slice(value.unwrap_or_default());
    let data = data.into_boxed_slice();
    Message {
        topic,
        partition: m.partition(),
        offset: m.offset(),
        timestamp_ms: match m.timestamp() {
            Timestamp::CreateTime(t) | Timestamp::LogAppendTime(t) => t,
            Timestamp::NotAvailable => -1,
        },
        data,
        key_len: key.map(<[u8]>::len),
        has_value: value.is_some(),
        headers,
    }
}

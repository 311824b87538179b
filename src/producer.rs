//! The producer: JSON and raw sends, acknowledged sends, delivery
//! notifications, flush and close, over rust-rdkafka's `ThreadedProducer`.
//!
//! Delivery reports are served by the producer's own polling thread; the
//! caller never polls. Every message that was queued gets exactly one
//! notification: success, failure, timeout, or purge at close (all served
//! on that thread, before `close` returns).
//!
//! Notifications may call back into the library. What would wait for the
//! polling thread from the polling thread itself (`flush`, `send_sync`,
//! `close` of the producer being served) is refused with
//! [`ErrorKind::State`]: the thread knows which producer it serves.

use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::{KafkaError as RdKafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, Message, OwnedHeaders, Timestamp};
use rdkafka::producer::{
    BaseRecord, DeliveryResult, Producer as _, ProducerContext, PurgeConfig, ThreadedProducer,
};
use serde_json::json;

use crate::config::{Config, Scope};
use crate::error::{Error, ErrorKind, Result, SecurityFailure};
use crate::fork::Origin;
use crate::instance::Instance;
use crate::logging::{self, Level};
use crate::oauth::{self, TokenRefresher};
use crate::statistics::{self, Reporter};
use crate::sys::{Note, TopicHandle};
use crate::timeout::{deadline, millis, remaining};
use crate::topic;

mod context;
mod handover;
mod missing;
mod queueing;
mod transaction;

pub use queueing::unpack;

use context::{wait_until, Context, Notify, Shared, SyncSlot};
use queueing::{deadline_after, failure, tracked, walk_packed, Queueing};

const SUBJECT: &str = "Kafka Producer";

/// The outcome of one message, as reported to a delivery notification.
#[derive(Debug, Clone)]
pub struct Delivery<'a> {
    pub topic: &'a str,
    /// -1 when the message never reached a partition.
    pub partition: i32,
    /// -1 when the broker did not acknowledge the message.
    pub offset: i64,
    /// Milliseconds since the epoch, -1 when unknown.
    pub timestamp_ms: i64,
    /// `None` when delivered.
    pub error: Option<Error>,
}

/// Where an acknowledged message went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    pub partition: i32,
    pub offset: i64,
    pub timestamp_ms: i64,
}

/// Called once per message on the producer's thread.
pub type OnDelivery = Box<dyn Fn(&Delivery<'_>) + Send + Sync>;

/// A message to send. Borrowed: nothing is copied until librdkafka copies
/// it into its queue.
#[derive(Debug, Default, Clone, Copy)]
pub struct Record<'a> {
    pub topic: &'a str,
    pub key: Option<&'a [u8]>,
    /// `None`: a tombstone (no value).
    pub value: Option<&'a [u8]>,
    /// `(name, value)`; a `None` value is a header without a value.
    pub headers: &'a [(&'a str, Option<&'a [u8]>)],
    pub partition: Option<i32>,
    /// Milliseconds since the epoch; `None` means now.
    pub timestamp_ms: Option<i64>,
}

/// The outcome of a message sent with [`Producer::send_tracked`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tracked {
    /// The caller's tag.
    pub tag: u64,
    /// Where it went, or why it did not.
    pub outcome: std::result::Result<Delivered, TrackedFailure>,
}

/// Why a tracked message was not delivered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackedFailure {
    pub kind: ErrorKind,
    pub rdkafka_code: i32,
}

thread_local! {
    /// The producer whose notifications this thread is serving right now
    /// (its polling thread, inside a callback), compared by address only.
    static SERVING: Cell<*const Shared> = const { Cell::new(std::ptr::null()) };
}

/// A producer. Safe to share between threads.
pub struct Producer {
    /// Stopped first: it holds a reference to the client.
    oauth: Option<TokenRefresher>,
    /// Shared with the token refresher, when there is one.
    inner: Arc<ThreadedProducer<Context>>,
    shared: Arc<Shared>,
    queueing: Arc<Queueing>,
    nothing: Arc<Notify>,
    origin: Origin,
    /// A `transactional.id` is set.
    transactional: bool,
}

impl Producer {
    /// A producer with `instance`'s settings and `overrides` on top.
    /// Consumer-only settings in `overrides` are an error; those of the
    /// instance (a group id, say) are left out.
    ///
    /// Defaults differing from librdkafka's: `enable.idempotence=true`
    /// (unless `acks` or in-flight settings that exclude it were set), and
    /// `partitioner=murmur2_random` (the Java client's, so keyed messages
    /// land where Java producers put them).
    pub fn new(instance: &Instance, overrides: Option<&Config>) -> Result<Self> {
        let mut config = instance.config().for_client(Scope::Producer, overrides)?;
        if !config.contains("enable.idempotence") && idempotence_fits(&config) {
            config.set("enable.idempotence", "true")?;
        }
        if !config.contains("partitioner") {
            config.set("partitioner", "murmur2_random")?;
        }
        let transactional = config.contains("transactional.id");
        let resolved = config.resolve()?;
        let mut cc = resolved.client_config();
        cc.set_log_level(logging::rdkafka_log_level());
        let shared = Arc::new(Shared {
            pending: AtomicUsize::new(0),
            idle_lock: Mutex::new(()),
            idle: Condvar::new(),
            room: Condvar::new(),
            waiting_for_room: AtomicUsize::new(0),
            security: SecurityFailure::default(),
            closing: AtomicBool::new(false),
            silenced: AtomicBool::new(false),
            tracked: Mutex::new(std::collections::VecDeque::new()),
            tracked_ready: Condvar::new(),
            asked: Mutex::new(None),
        });
        let nothing = Arc::new(Notify::Nothing);
        let origin = Origin::here();
        let context = Context {
            source: logging::new_source(),
            shared: shared.clone(),
            repeat: Mutex::new(None),
            statistics: statistics::reporter_for(
                &resolved.statistics,
                Arc::as_ptr(&shared) as usize,
            )?,
        };
        let inner: ThreadedProducer<Context> = cc
            .create_with_context(context)
            .map_err(|e| Error::from_rdkafka(&e, "creating the producer"))?;
        let inner = Arc::new(inner);
        let oauth = oauth::refresher_for(
            resolved.oauth.as_ref(),
            resolved.get("sasl.oauthbearer.config"),
            Arc::clone(&inner),
            |p: &Arc<ThreadedProducer<Context>>| p.client(),
            inner.context().source(),
        )?;
        let queueing = Arc::new(Queueing {
            inner: Arc::clone(&inner),
            shared: Arc::clone(&shared),
            origin,
            handover: handover::Handover::default(),
        });
        Ok(Producer {
            oauth,
            inner,
            shared,
            queueing,
            nothing,
            origin,
            transactional,
        })
    }

    /// Queues `record`; `on_delivery` (if any) is called once with its
    /// outcome. Returns as soon as librdkafka has queued it.
    pub fn send(&self, record: &Record<'_>, on_delivery: Option<OnDelivery>) -> Result<()> {
        self.queueing
            .enqueue(record, self.notify(on_delivery), None)
    }

    /// Queues `record`; its outcome, tagged with `tag`, is kept for
    /// [`take_reports`](Self::take_reports) instead of calling anything:
    /// for callers to whom a call per message is expensive (an FFI
    /// crossing, a language runtime to enter), who then take outcomes in
    /// bulk.
    pub fn send_tracked(&self, record: &Record<'_>, tag: u64) -> Result<()> {
        self.queueing.enqueue(record, tracked(tag), None)
    }

    /// Sends `records` in order, each tracked with `first_tag` + its
    /// index, waiting up to `timeout` in all for room when the queue is
    /// full. Stops at the first record that cannot be queued: returns how
    /// many were queued before it, and its error (`None` when all were).
    pub fn send_tracked_all(
        &self,
        records: &[Record<'_>],
        first_tag: u64,
        timeout: Duration,
    ) -> (usize, Option<Error>) {
        self.queueing.send_tracked_all(records, first_tag, timeout)
    }

    /// Up to `max` outcomes of tracked sends, oldest first, waiting up to
    /// `timeout` (`None`: no limit) for the first when none is there; an
    /// empty list when none came. Waiting is refused inside this
    /// producer's own callbacks (their thread brings the outcomes).
    pub fn take_reports(&self, max: usize, timeout: Option<Duration>) -> Result<Vec<Tracked>> {
        self.take_reports_gathered(max, timeout, Duration::ZERO)
    }

    /// [`take_reports`](Self::take_reports), and once the first outcome
    /// is there, up to `gather` more for others to join it, until `max`
    /// are there or no message is in flight: for a taker who pays per
    /// take (a lock to get, a language runtime to enter), fewer and larger
    /// takes while messages stream, and no added wait when none is in
    /// flight.
    pub fn take_reports_gathered(
        &self,
        max: usize,
        timeout: Option<Duration>,
        gather: Duration,
    ) -> Result<Vec<Tracked>> {
        self.check_process()?;
        if !gather.is_zero() {
            self.shared
                .refuse_wait_in_callback("gathering delivery reports")?;
        }
        if timeout != Some(Duration::ZERO) {
            self.shared
                .refuse_wait_in_callback("waiting for delivery reports")?;
        }
        let deadline = deadline(timeout);
        let mut queue = self
            .shared
            .tracked
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        while queue.is_empty() {
            let wait = match deadline {
                None => Duration::from_secs(3600),
                Some(d) => d.saturating_duration_since(Instant::now()),
            };
            if wait.is_zero() {
                break;
            }
            queue = self
                .shared
                .tracked_ready
                .wait_timeout(queue, wait)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        if !queue.is_empty() && !gather.is_zero() {
            // Outcomes come a batch at a time from the polling thread:
            // looking every millisecond is enough, and a sleep here costs
            // the taker nothing.
            let until = Instant::now() + gather;
            while queue.len() < max && self.shared.pending.load(Ordering::Acquire) > 0 {
                let left = until.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                drop(queue);
                std::thread::sleep(left.min(Duration::from_millis(1)));
                queue = self
                    .shared
                    .tracked
                    .lock()
                    .unwrap_or_else(|e| e.into_inner());
            }
        }
        let n = queue.len().min(max);
        Ok(queue.drain(..n).collect())
    }

    /// [`send`](Self::send), waiting up to `timeout` for room when the
    /// local queue is full (instead of [`ErrorKind::QueueFull`] at once);
    /// [`ErrorKind::Timeout`] when none came in time. Refused inside this
    /// producer's own callbacks, whose thread makes the room.
    pub fn send_wait(
        &self,
        record: &Record<'_>,
        on_delivery: Option<OnDelivery>,
        timeout: Duration,
    ) -> Result<()> {
        self.shared
            .refuse_wait_in_callback("a send that waits for room")?;
        let notify = self.notify(on_delivery);
        self.queueing.enqueue_waiting(
            record,
            notify,
            None,
            Instant::now() + timeout,
            timeout,
            None,
        )
    }

    /// An acknowledged send: queues
    /// `record` and waits for the broker's acknowledgement.
    ///
    /// On [`ErrorKind::Timeout`] the message stays queued and may still be
    /// delivered later (once: idempotence is on by default); its outcome is
    /// then logged if it fails.
    pub fn send_sync(&self, record: &Record<'_>, timeout: Option<Duration>) -> Result<Delivered> {
        let deadline = deadline(timeout);
        self.shared
            .refuse_wait_in_callback("an acknowledged send")?;
        let slot = Arc::new(SyncSlot::default());
        self.queueing.enqueue(
            record,
            Note::Shared(Arc::new(Notify::Wake(slot.clone()))),
            None,
        )?;
        let (asking, keep) = missing::split(deadline);
        let outcome = slot.outcome.lock().unwrap_or_else(|e| e.into_inner());
        let mut waited = wait_until(&slot.ready, outcome, asking, Option::take);
        let mut absent = Vec::new();
        if waited.is_none() {
            absent = self.missing_topics(keep, Some(record.topic));
            let outcome = slot.outcome.lock().unwrap_or_else(|e| e.into_inner());
            waited = wait_until(&slot.ready, outcome, deadline, Option::take);
        }
        let Some(result) = waited else {
            let e = self.shared.security.explain(Error::new(
                ErrorKind::Timeout,
                format!(
                    "no acknowledgement for the message to {:?} within {} ms; it stays queued",
                    record.topic,
                    millis(timeout)
                ),
            ));
            return Err(missing::explain(e, &absent));
        };
        if let Ok(d) = &result {
            if logging::enabled(Level::Info) {
                logging::log(
                    Level::Info,
                    "kafka_instance.producer.send_sync",
                    SUBJECT,
                    &format!(
                        "message delivered to {:?} partition {} offset {}",
                        record.topic, d.partition, d.offset
                    ),
                    Some(json!({
                        "topic": record.topic,
                        "partition": d.partition,
                        "offset": d.offset,
                    })),
                );
            }
        }
        result
    }

    /// What to do with a message's outcome: call `on_delivery`, or nothing.
    fn notify(&self, on_delivery: Option<OnDelivery>) -> Note<Notify> {
        Note::Shared(match on_delivery {
            Some(f) => Arc::new(Notify::Call(f)),
            None => self.nothing.clone(),
        })
    }

    /// librdkafka's error `e` while doing `what` (see [`failure`]).
    fn failure(&self, e: &RdKafkaError, what: &str) -> Error {
        failure(&self.inner, e, what)
    }

    /// Messages queued whose outcome is not yet reported.
    pub fn in_flight(&self) -> usize {
        self.shared.pending.load(Ordering::Acquire)
    }

    /// [`ErrorKind::State`] in a forked child.
    pub fn check_process(&self) -> Result<()> {
        self.origin.check("producer")
    }

    /// Waits until every queued message has been reported (delivered or
    /// failed), or the timeout passes: then [`ErrorKind::Timeout`] saying how
    /// many remain. Reports are served by the producer's thread, not here.
    pub fn flush(&self, timeout: Option<Duration>) -> Result<()> {
        self.check_process()?;
        self.shared.refuse_wait_in_callback("flush")?;
        self.flush_until(timeout)
    }

    fn flush_until(&self, timeout: Option<Duration>) -> Result<()> {
        let timeout_ms = millis(timeout);
        let Err(absent) = self.wait_idle_asking(deadline(timeout)) else {
            return Ok(());
        };
        let left = self.in_flight();
        let e = self.shared.security.explain(Error::new(
            ErrorKind::Timeout,
            format!(
                "flush timed out after {timeout_ms} ms with {left} message(s) not yet delivered"
            ),
        ));
        Err(missing::explain(e, &absent))
    }

    /// Waits until nothing is pending or `deadline`; out of time, the
    /// topics used that the cluster does not have (asked before the end).
    fn wait_idle_asking(&self, deadline: Option<Instant>) -> std::result::Result<(), Vec<String>> {
        let (asking, keep) = missing::split(deadline);
        if self.shared.wait_idle(asking) {
            return Ok(());
        }
        let absent = self.missing_topics(keep, None);
        match self.shared.wait_idle(deadline) {
            true => Ok(()),
            false => Err(absent),
        }
    }

    /// Stops running user code for librdkafka's log lines and errors: for
    /// the moment the producer is dropped after [`close`](Self::close),
    /// when its last lines could only reach a handle being freed.
    pub fn silence(&self) {
        self.shared.silenced.store(true, Ordering::Release);
    }

    /// Whether [`close`](Self::close) may run now: not in a forked child,
    /// and not inside this producer's own callbacks. Nothing changes when
    /// it may not.
    pub fn check_close(&self) -> Result<()> {
        self.origin.check_release("producer")?;
        self.shared.refuse_wait_in_callback("close")
    }

    /// Stops sending, flushes (up to `timeout`; `None`: no limit), then purges what is
    /// left: each purged message gets its failure notification, on the
    /// producer's thread, before this returns, and the result is
    /// [`ErrorKind::Timeout`] with their count. Dropping the producer after
    /// this releases it without waiting.
    pub fn close(&self, timeout: Option<Duration>) -> Result<()> {
        self.check_close()?;
        self.shared.closing.store(true, Ordering::Release);
        // Records handed over before are queued first; those still waiting
        // when the time is up fail (as purged).
        let deadline = deadline(timeout);
        let handed_over = self.queueing.handover.wait_sent(deadline);
        let flushed = match handed_over {
            true => self.wait_idle_asking(deadline),
            false => Err(Vec::new()),
        };
        let timeout_ms = millis(timeout);
        let left = self.in_flight();
        if flushed.is_err() {
            // What is still handed over fails at once, and nothing refills
            // the queue below. A send that passed the closing check just
            // before it was set may land after a purge: purge until nothing
            // is pending.
            self.queueing.handover.stop();
            loop {
                self.inner.purge(PurgeConfig::default().queue().inflight());
                if self
                    .shared
                    .wait_idle(Some(Instant::now() + Duration::from_millis(100)))
                {
                    break;
                }
            }
        }
        // No statistics or token callback after close (one already
        // running when the time is up may finish after).
        if let Some(reporter) = &self.inner.context().statistics {
            reporter.stop(deadline);
        }
        if let Some(oauth) = &self.oauth {
            oauth.stop(deadline);
        }
        let Err(absent) = flushed else {
            return Ok(());
        };
        let e = self.shared.security.explain(Error::new(
            ErrorKind::Timeout,
            format!("producer closed after {timeout_ms} ms with {left} message(s) not delivered (purged and reported as failed)"),
        ));
        Err(missing::explain(e, &absent))
    }
}

impl Drop for Producer {
    /// Stops the sender thread of hand-overs (what it still holds fails,
    /// as purged) before the client goes.
    fn drop(&mut self) {
        // In a forked child the thread is the parent's: nothing to stop.
        if self.origin.is_here() {
            self.queueing.handover.stop();
        }
    }
}

/// Whether idempotence can be turned on by default: librdkafka requires
/// acks=all, at most 5 requests in flight, and retries.
fn idempotence_fits(config: &Config) -> bool {
    let acks_ok = config
        .get("acks")
        .is_none_or(|a| matches!(a.trim().to_ascii_lowercase().as_str(), "all" | "-1"));
    let in_flight_ok = config
        .get("max.in.flight.requests.per.connection")
        .and_then(|v| v.trim().parse::<u32>().ok())
        .is_none_or(|n| n <= 5);
    let retries_ok = config
        .get("retries")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .is_none_or(|n| n > 0);
    acks_ok && in_flight_ok && retries_ok
}

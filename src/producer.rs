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
use crate::sys::{Note, TopicHandle};
use crate::fork::Origin;
use crate::instance::Instance;
use crate::logging::{self, Level};
use crate::oauth::{self, TokenRefresher};
use crate::statistics::{self, Reporter};
use crate::timeout::{deadline, millis, remaining};
use crate::topic;

mod handover;
mod missing;
mod transaction;

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

/// What to do when a message's outcome is known.
enum Notify {
    Nothing,
    Call(OnDelivery),
    Wake(Arc<SyncSlot>),
    /// Queue the outcome, tagged, for [`Producer::take_reports`].
    Track(u64),
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

/// The meeting point of an acknowledged send and the polling thread.
#[derive(Default)]
struct SyncSlot {
    outcome: Mutex<Option<Result<Delivered>>>,
    ready: Condvar,
}

/// Shared between the producer handle and its polling thread's context.
struct Shared {
    /// The last answer about missing topics, and when it came (see
    /// `missing`).
    asked: Mutex<Option<(Instant, Vec<String>)>>,
    /// Messages queued and not yet notified.
    pending: AtomicUsize,
    idle_lock: Mutex<()>,
    idle: Condvar,
    /// Signalled at each notification while a send waits for room.
    room: Condvar,
    /// Sends waiting for room in a full queue.
    waiting_for_room: AtomicUsize,
    /// An authentication or TLS failure since the last delivery.
    security: SecurityFailure,
    /// `close` has begun: no more sends.
    closing: AtomicBool,
    /// The producer is being released: librdkafka's last log lines are
    /// dropped instead of running user code that could reach the handle
    /// being freed. Nothing is pending by then.
    silenced: AtomicBool,
    /// Outcomes of tracked sends not yet taken, oldest first.
    tracked: Mutex<std::collections::VecDeque<Tracked>>,
    tracked_ready: Condvar,
}

thread_local! {
    /// The producer whose notifications this thread is serving right now
    /// (its polling thread, inside a callback), compared by address only.
    static SERVING: Cell<*const Shared> = const { Cell::new(std::ptr::null()) };
}

/// Marks the current thread as serving a producer until dropped.
struct Serving(*const Shared);

impl Serving {
    fn begin(shared: &Shared) -> Serving {
        Serving(SERVING.with(|s| s.replace(shared)))
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        SERVING.with(|s| s.set(self.0));
    }
}

/// The rust-rdkafka context: delivery reports and librdkafka's log lines.
struct Context {
    /// This client, for the log records it repeats.
    source: usize,
    shared: Arc<Shared>,
    /// The error last handed to `error`, to drop its repeat: rust-rdkafka
    /// 0.39 hands every producer error event to the context twice (once in
    /// `Client::poll_event`, once in `BaseProducer::poll`), back to back on
    /// the polling thread.
    repeat: Mutex<Option<(Option<RDKafkaErrorCode>, String)>>,
    /// Hands each statistics report to the callback, on its own thread.
    statistics: Option<Reporter>,
}

impl Context {
    /// This client, for the log records it repeats.
    fn source(&self) -> usize {
        self.source
    }
}

impl ClientContext for Context {
    // rust-rdkafka serves librdkafka's log lines and errors on the polling
    // thread: logging them runs the user's log callback, which may call
    // back in, so the thread is marked as serving this producer.
    fn log(&self, level: RDKafkaLogLevel, fac: &str, message: &str) {
        if self.shared.silenced.load(Ordering::Acquire) {
            return;
        }
        let _serving = Serving::begin(&self.shared);
        logging::forward_librdkafka_log(self.source(), level as i32, fac, message);
    }

    fn stats_raw(&self, statistics: &[u8]) {
        let Some(reporter) = &self.statistics else {
            return;
        };
        if self.shared.silenced.load(Ordering::Acquire) {
            return;
        }
        // Never the callback itself here: a slow one would hold delivery
        // reports behind it (see `statistics::Reporter`).
        reporter.offer(&String::from_utf8_lossy(statistics));
    }

    fn error(&self, error: RdKafkaError, reason: &str) {
        if self.shared.silenced.load(Ordering::Acquire) {
            return;
        }
        let _serving = Serving::begin(&self.shared);
        let this = (error.rdkafka_error_code(), reason.to_owned());
        {
            let mut last = self.repeat.lock().unwrap_or_else(|e| e.into_inner());
            if last.as_ref() == Some(&this) {
                *last = None;
                return;
            }
            *last = Some(this);
        }
        self.shared.security.note(&error, reason);
        logging::forward_librdkafka_error(self.source(), &error, reason);
    }
}

impl ProducerContext for Context {
    type DeliveryOpaque = Note<Notify>;

    fn delivery(&self, result: &DeliveryResult<'_>, note: Note<Notify>) {
        let _serving = Serving::begin(&self.shared);
        if result.is_ok() {
            self.shared.security.clear();
        }
        let notify = match note {
            // A tracked send's tag: the common case of bulk senders, kept
            // to a push on the queue of outcomes.
            Note::Tag(tag) => {
                self.track(tag, Delivery::outcome(result));
                self.shared.reported();
                return;
            }
            Note::Shared(notify) => notify,
        };
        // Delivered, and nobody asked to hear of it (a plain send): the
        // common case, kept short.
        let counted = match (result.is_ok(), &*notify) {
            (true, Notify::Nothing) => false,
            (_, to) => self.tell(&Delivery::of(result), to),
        };
        drop(notify);
        if !counted {
            self.shared.reported();
        }
    }
}

impl Context {
    /// Keeps a tracked send's outcome for [`Producer::take_reports`].
    fn track(&self, tag: u64, outcome: std::result::Result<Delivered, TrackedFailure>) {
        let mut queue = self
            .shared
            .tracked
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        // Takers wait only while the queue is empty: one wake-up when it
        // stops being empty, not a system call per message.
        let was_empty = queue.is_empty();
        queue.push_back(Tracked { tag, outcome });
        drop(queue);
        if was_empty {
            self.shared.tracked_ready.notify_all();
        }
    }

    /// Gives a delivery to whoever asked for it. True when this counted
    /// the message out itself: before an acknowledged send's waiter wakes,
    /// so that once it returns, its message is no longer in flight.
    fn tell(&self, delivery: &Delivery<'_>, to: &Notify) -> bool {
        match to {
            Notify::Nothing => {
                if let Some(e) = &delivery.error {
                    // Nobody else will hear of it: never lose a failure
                    // silently.
                    logging::log(
                        Level::Error,
                        "kafka_instance.producer.delivery",
                        SUBJECT,
                        &format!(
                            "message to {:?} not delivered: {}",
                            delivery.topic, e.message
                        ),
                        Some(json!({ "topic": delivery.topic, "rdkafka_code": e.rdkafka_code })),
                    );
                }
                false
            }
            Notify::Call(f) => {
                // A panicking callback must not take the polling thread down.
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(delivery)));
                false
            }
            Notify::Track(tag) => {
                let outcome = match &delivery.error {
                    None => Ok(Delivered {
                        partition: delivery.partition,
                        offset: delivery.offset,
                        timestamp_ms: delivery.timestamp_ms,
                    }),
                    Some(e) => Err(TrackedFailure {
                        kind: e.kind,
                        rdkafka_code: e.rdkafka_code,
                    }),
                };
                self.track(*tag, outcome);
                false
            }
            Notify::Wake(slot) => {
                let outcome = match &delivery.error {
                    None => Ok(Delivered {
                        partition: delivery.partition,
                        offset: delivery.offset,
                        timestamp_ms: delivery.timestamp_ms,
                    }),
                    Some(e) => Err(e.clone()),
                };
                self.shared.reported();
                *slot.outcome.lock().unwrap_or_else(|e| e.into_inner()) = Some(outcome);
                slot.ready.notify_all();
                true
            }
        }
    }
}

impl<'a> Delivery<'a> {
    /// The outcome librdkafka reported for one message.
    fn of(result: &'a DeliveryResult<'_>) -> Self {
        let (message, error) = match result {
            Ok(m) => (m, None),
            Err((e, m)) => (m, Some(Error::from_rdkafka(e, "delivering a message"))),
        };
        Delivery {
            topic: message.topic(),
            partition: message.partition().max(-1),
            offset: if error.is_none() && message.offset() >= 0 {
                message.offset()
            } else {
                -1
            },
            timestamp_ms: timestamp_ms(message),
            error,
        }
    }

    /// The same outcome as a tracked send keeps it, without the topic's
    /// name (or a message, unless it failed).
    fn outcome(result: &DeliveryResult<'_>) -> std::result::Result<Delivered, TrackedFailure> {
        match result {
            Ok(m) => Ok(Delivered {
                partition: m.partition().max(-1),
                offset: if m.offset() >= 0 { m.offset() } else { -1 },
                timestamp_ms: timestamp_ms(m),
            }),
            Err((e, _)) => {
                let e = Error::from_rdkafka(e, "delivering a message");
                Err(TrackedFailure {
                    kind: e.kind,
                    rdkafka_code: e.rdkafka_code,
                })
            }
        }
    }
}

/// A message's timestamp in milliseconds since the epoch, -1 when unknown.
fn timestamp_ms(message: &impl Message) -> i64 {
    match message.timestamp() {
        Timestamp::CreateTime(t) | Timestamp::LogAppendTime(t) => t,
        Timestamp::NotAvailable => -1,
    }
}

impl Shared {
    /// One queued message has had its notification.
    fn reported(&self) {
        let before = self.pending.fetch_sub(1, Ordering::AcqRel);
        let idle = before == 1;
        // A send waiting for room looks again every 1 ms anyway, and room
        // comes a batch of notifications at a time: a wake-up every 64
        // messages spares a system call per message.
        let waiting = before % 64 == 0 && self.waiting_for_room.load(Ordering::Acquire) > 0;
        if idle || waiting {
            let _guard = self.idle_lock.lock().unwrap_or_else(|e| e.into_inner());
            if idle {
                self.idle.notify_all();
            }
            if waiting {
                self.room.notify_all();
            }
        }
    }

    /// Waits until a notification may have freed room in the queue, or at
    /// most until `deadline`, and never more than 1 ms: librdkafka frees a
    /// message's room only after the whole batch of notifications it came
    /// with, so the last one of a batch comes a little before the room.
    fn wait_for_room(&self, deadline: Instant) {
        let guard = self.idle_lock.lock().unwrap_or_else(|e| e.into_inner());
        let wait = deadline
            .saturating_duration_since(Instant::now())
            .min(Duration::from_millis(1));
        let _ = self.room.wait_timeout(guard, wait);
    }

    /// [`ErrorKind::State`] when this thread is serving this producer's
    /// notifications: waiting for them here would wait for ourselves.
    fn refuse_wait_in_callback(&self, what: &str) -> Result<()> {
        let owner = self as *const Shared as usize;
        if std::ptr::eq(SERVING.with(Cell::get), self) || statistics::serving(owner) {
            return Err(Error::state(format!(
                "{what} was called inside a delivery, log or statistics callback of the same producer, \
                 whose thread would wait for itself: call it from another thread, or after \
                 the callback returned"
            )));
        }
        Ok(())
    }

    /// Waits until no message is pending or `deadline` passes; whether none
    /// is pending.
    fn wait_idle(&self, deadline: Option<Instant>) -> bool {
        let guard = self.idle_lock.lock().unwrap_or_else(|e| e.into_inner());
        wait_until(&self.idle, guard, deadline, |_| {
            (self.pending.load(Ordering::Acquire) == 0).then_some(())
        })
        .is_some()
    }
}

/// Waits on `ready` (with `guard` of its mutex) until `done` gives an
/// answer or `deadline` passes (`None`). Wakes at least every 100 ms to
/// look again, so a missed notification costs at most that.
fn wait_until<T, R>(
    ready: &Condvar,
    mut guard: MutexGuard<'_, T>,
    deadline: Option<Instant>,
    mut done: impl FnMut(&mut T) -> Option<R>,
) -> Option<R> {
    loop {
        if let Some(answer) = done(&mut guard) {
            return Some(answer);
        }
        let wait = match remaining(deadline) {
            Some(left) if left.is_zero() => return None,
            Some(left) => left.min(Duration::from_millis(100)),
            None => Duration::from_millis(100),
        };
        guard = ready
            .wait_timeout(guard, wait)
            .unwrap_or_else(|e| e.into_inner())
            .0;
    }
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

/// What queues messages into librdkafka: shared by the producer and the
/// thread that sends what was handed over to it.
struct Queueing {
    inner: Arc<ThreadedProducer<Context>>,
    shared: Arc<Shared>,
    origin: Origin,
    handover: handover::Handover,
}

impl Queueing {
    /// Sends `records` in order, each tracked with `first_tag` + its
    /// index, waiting up to `timeout` in all for room when the queue is
    /// full. Stops at the first record that cannot be queued: returns how
    /// many were queued before it, and its error (`None` when all were).
    fn send_tracked_all(
        &self,
        records: &[Record<'_>],
        first_tag: u64,
        timeout: Duration,
    ) -> (usize, Option<Error>) {
        if !timeout.is_zero() {
            if let Err(e) = self
                .shared
                .refuse_wait_in_callback("a send that waits for room")
            {
                return (0, Some(e));
            }
        }
        let deadline = deadline_after(timeout);
        // One handle per run of records to the same topic: no lookup of
        // its name per message.
        let mut handle: Option<(&str, Option<TopicHandle>)> = None;
        for (i, record) in records.iter().enumerate() {
            if handle.as_ref().is_none_or(|(t, _)| *t != record.topic) {
                if let Err(e) = topic::validate(record.topic) {
                    return (i, Some(e));
                }
                handle = Some((
                    record.topic,
                    TopicHandle::new(self.inner.client(), record.topic),
                ));
            }
            let fast = handle.as_ref().and_then(|(_, h)| h.as_ref());
            let note = tracked(first_tag.wrapping_add(i as u64));
            if let Err(e) = self.enqueue_waiting(record, note, fast, deadline, timeout, None) {
                return (i, Some(e));
            }
        }
        (records.len(), None)
    }

    /// Queues `record`, waiting until `deadline` for room in a full
    /// queue (`timeout` is what the caller asked, for the message).
    /// `handed_over`: the record was counted in flight at its hand-over
    /// (when this many purges had been made), and is queued even while
    /// the producer closes, unless purged or abandoned meanwhile.
    fn enqueue_waiting(
        &self,
        record: &Record<'_>,
        notify: Note<Notify>,
        topic: Option<&TopicHandle>,
        deadline: Instant,
        timeout: Duration,
        handed_over: Option<u64>,
    ) -> Result<()> {
        loop {
            let queued = match handed_over {
                // Checked before every attempt, the one after a wait for
                // room too: a purge is what makes room.
                Some(purges) => self
                    .handover
                    .unless_gone(purges, || self.produce(record, notify.clone(), topic))
                    .unwrap_or_else(|| Err(self.abandoned_error(record.topic))),
                None => self.enqueue(record, notify.clone(), topic),
            };
            match queued {
                // Not waiting at all: the full queue itself is the answer.
                Err(e) if e.kind == ErrorKind::QueueFull && timeout.is_zero() => return Err(e),
                Err(e) if e.kind == ErrorKind::QueueFull => {}
                other => return other,
            }
            if Instant::now() >= deadline {
                return Err(Error::new(
                    ErrorKind::Timeout,
                    format!(
                        "no room in the local queue for the message to {:?} within {} ms \
                         (queue.buffering.max.messages / queue.buffering.max.kbytes); it was \
                         not queued",
                        record.topic,
                        timeout.as_millis()
                    ),
                ));
            }
            self.shared.waiting_for_room.fetch_add(1, Ordering::AcqRel);
            self.shared.wait_for_room(deadline);
            self.shared.waiting_for_room.fetch_sub(1, Ordering::AcqRel);
        }
    }

    /// [`ErrorKind::State`] once `close` has begun.
    fn refuse_when_closing(&self) -> Result<()> {
        if self.shared.closing.load(Ordering::Acquire) {
            return Err(Error::state(
                "the producer is closing: nothing more can be sent",
            ));
        }
        Ok(())
    }

    /// Queues `record`, counted in flight until its report. `topic`: the
    /// handle of its topic, already checked, for a record with neither
    /// headers nor a timestamp.
    fn enqueue(
        &self,
        record: &Record<'_>,
        notify: Note<Notify>,
        topic: Option<&TopicHandle>,
    ) -> Result<()> {
        self.origin.check("producer")?;
        self.refuse_when_closing()?;
        // Counted before librdkafka can report it, so the count never dips
        // below the truth.
        self.shared.pending.fetch_add(1, Ordering::AcqRel);
        let queued = self.produce(record, notify, topic);
        if queued.is_err() {
            // Not queued: no report will come.
            self.shared.pending.fetch_sub(1, Ordering::AcqRel);
        }
        queued
    }

    /// Hands `record` to librdkafka (see [`enqueue`](Self::enqueue)),
    /// counting nothing.
    fn produce(
        &self,
        record: &Record<'_>,
        notify: Note<Notify>,
        topic: Option<&TopicHandle>,
    ) -> Result<()> {
        if let Some(handle) = topic.filter(|_| record.headers.is_empty()) {
            if record.timestamp_ms.is_none() {
                return self.produce_to(handle, record, notify);
            }
        }
        topic::validate(record.topic)?;
        let mut base: BaseRecord<'_, [u8], [u8], Note<Notify>> =
            BaseRecord::with_opaque_to(record.topic, notify);
        if let Some(key) = record.key {
            base = base.key(key);
        }
        if let Some(value) = record.value {
            base = base.payload(value);
        }
        if let Some(p) = record.partition {
            if p < 0 {
                return Err(Error::invalid_argument(format!(
                    "partition must be at least 0, not {p}"
                )));
            }
            base = base.partition(p);
        }
        if let Some(ts) = record.timestamp_ms {
            if ts < 0 {
                return Err(Error::invalid_argument(format!(
                    "timestamp_ms must be at least 0 (0 is now), not {ts}"
                )));
            }
            base = base.timestamp(ts);
        }
        if !record.headers.is_empty() {
            let mut headers = OwnedHeaders::new_with_capacity(record.headers.len());
            for (key, value) in record.headers {
                headers = headers.insert(Header { key, value: *value });
            }
            base = base.headers(headers);
        }
        // Not queued: dropping the record releases its notification;
        // nobody is waiting on it.
        self.inner.send(base).map_err(|(e, _record)| {
            failure(
                &self.inner,
                &e,
                &format!("queueing a message to {:?}", record.topic),
            )
        })
    }

    /// [`produce`](Self::produce) of a record without headers or a
    /// timestamp, through its topic's handle.
    fn produce_to(
        &self,
        handle: &TopicHandle,
        record: &Record<'_>,
        notify: Note<Notify>,
    ) -> Result<()> {
        let partition = match record.partition {
            None => -1,
            Some(p) if p >= 0 => p,
            Some(p) => {
                return Err(Error::invalid_argument(format!(
                    "partition must be at least 0, not {p}"
                )))
            }
        };
        handle
            .produce(partition, record.key, record.value, notify)
            .map_err(|code| {
                let e = RdKafkaError::MessageProduction(code);
                failure(
                    &self.inner,
                    &e,
                    &format!("queueing a message to {:?}", record.topic),
                )
            })
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

/// librdkafka's error `e` while doing `what`; when it is the producer's
/// fatal error (librdkafka's sends then say only "fatal error"), that
/// error with its reason.
fn failure(inner: &ThreadedProducer<Context>, e: &RdKafkaError, what: &str) -> Error {
    let err = Error::from_rdkafka(e, what);
    match transaction::fatal_error_of(inner).filter(|_| err.fatal) {
        Some(fatal) => fatal.context(what),
        None => err,
    }
}

/// The records of a packed buffer: `data` holds each record's key then
/// value, back to back; `lengths` their lengths, two per record (-1: none).
/// [`ErrorKind::InvalidArgument`] when they do not add up to `data`.
pub fn unpack<'a>(topic: &'a str, data: &'a [u8], lengths: &[i64]) -> Result<Vec<Record<'a>>> {
    let mut records = Vec::with_capacity(lengths.len() / 2);
    walk_packed(data, lengths, |key, value| {
        records.push(Record {
            topic,
            key,
            value,
            ..Record::default()
        })
    })?;
    Ok(records)
}

/// Checks a packed buffer (see [`unpack`]), handing each record's key and
/// value to `each`; how many records it holds.
fn walk_packed<'a>(
    data: &'a [u8],
    lengths: &[i64],
    mut each: impl FnMut(Option<&'a [u8]>, Option<&'a [u8]>),
) -> Result<usize> {
    if lengths.len() % 2 != 0 {
        return Err(Error::invalid_argument(format!(
            "lengths holds {} numbers: two per record (key, value) are needed",
            lengths.len()
        )));
    }
    let mut at = 0usize;
    let mut take = |len: i64, what: &str, i: usize| -> Result<Option<&'a [u8]>> {
        match len {
            -1 => return Ok(None),
            ..=-2 => {
                return Err(Error::invalid_argument(format!(
                    "record {i}: its {what} length is {len}: a length is 0 or more, or -1 for none"
                )))
            }
            _ => {}
        }
        let end = usize::try_from(len)
            .ok()
            .and_then(|len| at.checked_add(len))
            .filter(|&end| end <= data.len())
            .ok_or_else(|| {
                Error::invalid_argument(format!(
                    "record {i}: its {what} ({len} bytes) runs past the end of data ({} bytes)",
                    data.len()
                ))
            })?;
        let bytes = &data[at..end];
        at = end;
        Ok(Some(bytes))
    };
    for (i, pair) in lengths.chunks_exact(2).enumerate() {
        let key = take(pair[0], "key", i)?;
        let value = take(pair[1], "value", i)?;
        each(key, value);
    }
    if at != data.len() {
        return Err(Error::invalid_argument(format!(
            "the lengths add up to {at} bytes, data has {}",
            data.len()
        )));
    }
    Ok(lengths.len() / 2)
}

/// When a wait of `timeout` from now ends; a timeout too long for the
/// clock (`Duration::MAX`: no limit) gives a deadline far enough never to
/// come.
fn deadline_after(timeout: Duration) -> Instant {
    Instant::now()
        .checked_add(timeout)
        .unwrap_or_else(|| Instant::now() + Duration::from_secs(100 * 365 * 86400))
}

/// A tracked send's note: its tag, without an allocation when it fits.
fn tracked(tag: u64) -> Note<Notify> {
    Note::tag(tag, || Arc::new(Notify::Track(tag)))
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

//! The consumer: subscribe, poll one or a batch, commit, close, and topic
//! handlers, over rust-rdkafka's `BaseConsumer`.
//!
//! # Offsets: at-least-once
//!
//! librdkafka's own offset store and auto-commit stay off underneath
//! (`enable.auto.offset.store=false`, `enable.auto.commit=false`): left on,
//! librdkafka stores a message's offset as soon as the message leaves its
//! queue (prefetched, or drained by a close, never seen by the
//! application) and commits it on a timer, before it was processed. This
//! module stores an offset only when the application is done with the
//! message:
//!
//! - [`Consumer::consume`]: once every handler for the message returned;
//! - [`Consumer::poll`] / [`Consumer::poll_batch`]: when the application
//!   comes back for more (the next poll, batch or consume), commits, or
//!   closes; unless the user's `enable.auto.offset.store` is false, when
//!   only [`Consumer::store`] counts;
//! - explicitly, by [`Consumer::store`].
//!
//! Stored offsets are kept here and handed to librdkafka's store just
//! before a commit. With auto-commit on (the default), they are committed
//! asynchronously from `poll` every `auto.commit.interval.ms` (the Java
//! client's rule), synchronously before partitions are revoked, and
//! synchronously by `close`, which reports a failure.
//!
//! # Re-entrancy and waking
//!
//! Every method takes `&self`: a handler may call back into its consumer.
//! A poll inside a handler is refused ([`ErrorKind::State`]): it would store
//! offsets past messages of the batch not yet handled. [`Consumer::wakeup`]
//! makes a blocked (or the next) poll return [`ErrorKind::Wakeup`]; it only
//! stores a flag and writes a byte to a pipe, so a signal handler may call
//! it. Polls wait on that pipe when the queue is empty; librdkafka writes
//! to it too, when a
//! message or event arrives.

use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rdkafka::client::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{BaseConsumer, Consumer as _, ConsumerContext, Rebalance};
use rdkafka::error::{KafkaError as RdKafkaError, RDKafkaErrorCode};
use rdkafka::{Offset, TopicPartitionList};
use serde_json::json;

use crate::config::{Config, Scope};
use crate::error::{is_security_code, Error, ErrorKind, Result, SecurityFailure};
use crate::events::{EventSink, EventThread};
use crate::sys::{self, CommitFailure, Queue, WakePipe};
use crate::text::NulText;
use crate::fork::Origin;
use crate::instance::Instance;
use crate::logging::{self, Level};
use crate::oauth::{self, TokenRefresher};
use crate::statistics::{self, Reporter};
use crate::topic;

mod async_commit;
mod control;
mod message;
mod missing;
mod rewind;
mod starts;
use async_commit::AsyncCommits;
pub use async_commit::CommitDone;
pub use control::{Lag, PartitionOffset, Start};
pub use message::Message;
use rewind::Rewound;
use starts::Starts;

/// What a rebalance did to this consumer's partitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RebalanceEvent {
    /// Partitions are being assigned: the library starts them when the
    /// hook returns, where a seek from the hook put them (else at their
    /// committed offset).
    Assigned,
    /// Partitions are about to be revoked: the library commits what is
    /// done (with auto-commit) once the hook returns.
    Revoked,
    /// Partitions were lost (session expired, fenced): nothing can be
    /// committed for them any more.
    Lost,
}

/// The application's rebalance hook, called on the polling thread.
pub type RebalanceHook = Arc<dyn Fn(RebalanceEvent, Vec<PartitionOffset>) + Send + Sync>;

const SUBJECT: &str = "Kafka Consumer";

/// The longest a poll waits on its pipe before asking librdkafka again.
/// librdkafka counts a consumer that has not called it for
/// `max.poll.interval.ms` as gone, and a wake-up that went missing costs
/// at most this much.
const MAX_WAIT: Duration = Duration::from_millis(500);

/// How long a poll with nothing to return waits inside librdkafka before
/// it waits on its pipe: also the longest a wake-up from a signal handler
/// (which can only write to the pipe) takes to end it.
const SPELL: Duration = Duration::from_millis(1);

/// A topic handler: `Err` is logged with the message's coordinates and
/// processing goes on. Shared, so that a handler registered while another
/// runs does not move it.
pub type Handler = Arc<dyn Fn(&Message) -> std::result::Result<(), String> + Send + Sync>;

/// The offset to resume a partition at: one past the last message done.
#[derive(Debug, Clone)]
struct Position {
    topic: Arc<NulText>,
    partition: i32,
    next: i64,
}

/// Sets `position`'s partition to it (the last store wins, as in
/// librdkafka's own store). Consecutive messages are mostly of one
/// partition, so the last entry is tried first.
fn mark(list: &mut Vec<Position>, position: Position) {
    let same = |p: &Position| p.partition == position.partition && p.topic == position.topic;
    if let Some(last) = list.last_mut().filter(|p| same(p)) {
        last.next = position.next;
    } else if let Some(found) = list.iter_mut().find(|p| same(p)) {
        found.next = position.next;
    } else {
        list.push(position);
    }
}

/// The rust-rdkafka context: librdkafka's log lines, global errors,
/// commits and rebalances, and the offsets the application is done with
/// (which a rebalance must commit before the partitions go).
struct Context {
    /// This client, for the log records it repeats.
    source: usize,
    /// The last authentication or TLS failure, with librdkafka's reason,
    /// for `poll` to return.
    security: SecurityFailure,
    /// The offsets marked done and the polling side's state: the
    /// consumer's, kept here for the rebalance callbacks.
    shared: Mutex<PollState>,
    /// Commit what is done before partitions are revoked (auto-commit).
    commit_on_revoke: bool,
    /// The bound of commits made without a timeout of the caller's
    /// (`default.api.timeout.ms`).
    api_timeout: Duration,
    /// Set once `close` made its final commit: the revocation that closing
    /// causes must not commit (and wait) again.
    closing: AtomicBool,
    /// The client is being released in the background: its log lines and
    /// errors no longer run user code.
    silenced: AtomicBool,
    /// `Consumer::store` stored offsets since the last automatic commit
    /// began (other stores happen as part of a commit).
    uncommitted: AtomicBool,
    /// The application's rebalance hook.
    rebalance: Mutex<Option<RebalanceHook>>,
    /// A rebalance hook is running: assignment changes from it are
    /// refused (the library is in the middle of its own).
    in_rebalance: AtomicBool,
    /// Where the partitions being assigned start, as seeks from the hook
    /// chose.
    starts: Starts,
    /// Partitions sought since their last commit: their next commit is
    /// explicit (see `rewind`).
    rewound: Rewound,
    /// Called with each statistics report.
    statistics: Option<Reporter>,
    /// The consumer's wake-up pipe: a security refusal noted on the event
    /// thread wakes a poll waiting on it, which returns the refusal.
    wake: Arc<WakePipe>,
}

// librdkafka's log lines, errors and statistics for a consumer arrive on
// the consumer's event thread (its main queue is no longer forwarded to
// the consumer queue), so they do not wait for the application's poll.
impl EventSink for Context {
    fn log(&self, syslog_level: i32, facility: &str, message: &str) {
        if !self.silenced.load(Ordering::Acquire) {
            logging::forward_librdkafka_log(self.source(), syslog_level, facility, message);
        }
    }

    fn error(&self, code: RDKafkaErrorCode, reason: &str) {
        let error = RdKafkaError::Global(code);
        if self.security.note(&error, reason) {
            self.wake.wake();
        }
        if !self.silenced.load(Ordering::Acquire) {
            logging::forward_librdkafka_error(self.source(), &error, reason);
        }
    }

    fn statistics(&self, json: &str) {
        if let Some(reporter) = &self.statistics {
            if !self.silenced.load(Ordering::Acquire) {
                reporter.offer(json);
            }
        }
    }
}

impl Context {
    /// This client, for the log records it repeats.
    fn source(&self) -> usize {
        self.source
    }

    /// Runs the application's rebalance hook, if any (not once the client
    /// is being released: it runs no user code then).
    fn tell_rebalance(&self, event: RebalanceEvent, partitions: &TopicPartitionList) {
        if self.silenced.load(Ordering::Acquire) {
            return;
        }
        let hook = self
            .rebalance
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let Some(hook) = hook else {
            return;
        };
        let list: Vec<PartitionOffset> = partitions
            .elements()
            .iter()
            .map(|e| PartitionOffset {
                topic: e.topic().to_owned(),
                partition: e.partition(),
                offset: None,
            })
            .collect();
        self.in_rebalance.store(true, Ordering::Release);
        // A panicking hook must not unwind through librdkafka.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| hook(event, list)));
        self.in_rebalance.store(false, Ordering::Release);
    }

    fn shared(&self) -> MutexGuard<'_, PollState> {
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Marks `also` done (when given), then hands every offset marked done
    /// to librdkafka's store. Returns the positions librdkafka refused
    /// (their partitions are no longer assigned) with its reason.
    fn store_done(
        &self,
        consumer: &BaseConsumer<Context>,
        also: Option<Position>,
    ) -> Vec<(Position, RDKafkaErrorCode)> {
        let mut shared = self.shared();
        let done = &mut shared.done;
        if let Some(p) = also {
            mark(done, p);
        }
        if done.is_empty() {
            return Vec::new();
        }
        let mut tpl = TopicPartitionList::with_capacity(done.len());
        for p in done.iter() {
            // Topic names come from librdkafka and hold no NUL.
            let topic = p.topic.as_str();
            let _ = tpl.add_partition_offset(topic, p.partition, Offset::Offset(p.next));
        }
        // librdkafka's store takes no callback and logs nothing: holding
        // the lock here keeps concurrent stores in order.
        let refused: Vec<(Position, RDKafkaErrorCode)> = match consumer.store_offsets(&tpl) {
            Ok(()) => tpl
                .elements()
                .iter()
                .zip(done.iter())
                .filter_map(|(e, p)| e.error().err().map(|err| (p.clone(), code_of(&err))))
                .collect(),
            Err(e) => done.iter().map(|p| (p.clone(), code_of(&e))).collect(),
        };
        for p in done.iter() {
            let same = |r: &(Position, RDKafkaErrorCode)| {
                r.0.partition == p.partition && r.0.topic == p.topic
            };
            if !refused.iter().any(same) {
                let topic = p.topic.as_str();
                self.rewound.stored(topic, p.partition, p.next);
            }
        }
        done.clear();
        refused
    }

    /// Commits explicitly, within `timeout`, the positions of partitions
    /// sought since their last commit (see `rewind`).
    fn commit_rewound(&self, consumer: &BaseConsumer<Context>, timeout: Duration) -> Result<()> {
        let offsets = self.rewound.take();
        if offsets.is_empty() {
            return Ok(());
        }
        let result = commit_within(consumer, Some(&rewind::borrowed(&offsets)), timeout);
        match &result {
            Ok(()) => self.rewound.committed(&offsets),
            Err(_) => self.rewound.failed(&offsets),
        }
        result
    }

    /// Forgets what was marked done in `partitions` (lost, or revoked
    /// without a commit); returns how many positions that was.
    fn forget(&self, partitions: &TopicPartitionList) -> usize {
        let mut shared = self.shared();
        let done = &mut shared.done;
        let before = done.len();
        done.retain(|p| {
            let topic = p.topic.as_str();
            partitions.find_partition(topic, p.partition).is_none()
        });
        self.rewound
            .forget(|t, p| partitions.find_partition(t, p).is_some());
        before - done.len()
    }
}

fn code_of(e: &RdKafkaError) -> RDKafkaErrorCode {
    e.rdkafka_error_code().unwrap_or(RDKafkaErrorCode::Unknown)
}

/// Logs the stores librdkafka refused: the messages stay uncommitted and
/// are consumed again by the partition's next owner.
fn log_refused(refused: &[(Position, RDKafkaErrorCode)]) {
    for (p, code) in refused {
        logging::log(
            Level::Warning,
            "kafka_instance.consumer.store",
            SUBJECT,
            &format!(
                "offset {} of {:?} partition {} not stored ({code}): the partition is no \
                 longer assigned to this consumer, so its messages from there on will be \
                 consumed again by its new owner",
                p.next,
                p.topic.as_str(),
                p.partition
            ),
            Some(json!({
                "topic": p.topic.as_str(),
                "partition": p.partition,
                "offset": p.next,
            })),
        );
    }
}

/// Commits librdkafka's stored offsets (after storing what is done) and
/// waits up to `default.api.timeout.ms`. Nothing to commit is success.
/// (Commits not waited for go through [`Consumer::start_commit`].)
fn commit_stored(consumer: &BaseConsumer<Context>) -> Result<()> {
    let context = consumer.context();
    let refused = context.store_done(consumer, None);
    log_refused(&refused);
    let deadline = Instant::now() + context.api_timeout;
    // Both, whatever the first did: a partition whose explicit commit
    // fails must not hold back the others'. The first failure is returned.
    let rewound = context.commit_rewound(consumer, context.api_timeout);
    let left = deadline.saturating_duration_since(Instant::now());
    let stored = commit_within(consumer, None, left);
    rewound.and(stored)
}

/// [`sys::commit_within`] as a `Result`: nothing to commit is success,
/// no answer in time is [`ErrorKind::Timeout`].
fn commit_within(
    consumer: &BaseConsumer<Context>,
    offsets: Option<&[(&str, i32, i64)]>,
    timeout: Duration,
) -> Result<()> {
    match sys::commit_within(consumer, offsets, timeout) {
        Ok(()) | Err(CommitFailure::Refused(RDKafkaErrorCode::NoOffset)) => Ok(()),
        Err(CommitFailure::Refused(code)) => {
            Err(Error::from_rdkafka_code(code, "committing offsets"))
        }
        Err(CommitFailure::TimedOut) => Err(Error::new(
            ErrorKind::Timeout,
            format!(
                "committing offsets: no answer within {} ms (default_api_timeout_ms): the group \
                 coordinator is unreachable; the commit may still complete later",
                timeout.as_millis()
            ),
        )),
    }
}

impl ClientContext for Context {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, message: &str) {
        if !self.silenced.load(Ordering::Acquire) {
            logging::forward_librdkafka_log(self.source(), level as i32, fac, message);
        }
    }

    fn error(&self, error: RdKafkaError, reason: &str) {
        self.security.note(&error, reason);
        if !self.silenced.load(Ordering::Acquire) {
            logging::forward_librdkafka_error(self.source(), &error, reason);
        }
    }
}

impl ConsumerContext for Context {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let partitions = match rebalance {
            Rebalance::Revoke(partitions) => partitions,
            Rebalance::Assign(partitions) => {
                // Before librdkafka starts them: a seek from the hook sets
                // where each starts (see `starts`).
                self.starts.open(partitions);
                self.tell_rebalance(RebalanceEvent::Assigned, partitions);
                self.starts.apply(partitions);
                return;
            }
            Rebalance::Error(_) => return,
        };
        if self.silenced.load(Ordering::Acquire) {
            self.forget(partitions);
            return;
        }
        if consumer.assignment_lost() {
            // The group moved on without us: a commit would be refused.
            self.tell_rebalance(RebalanceEvent::Lost, partitions);
            let n = self.forget(partitions);
            logging::log(
                Level::Warning,
                "kafka_instance.consumer.rebalance",
                SUBJECT,
                &format!(
                    "{} partition(s) lost (session timed out or fenced): {n} uncommitted \
                     position(s) dropped; their messages will be consumed again by the new owner",
                    partitions.count()
                ),
                None,
            );
            return;
        }
        self.tell_rebalance(RebalanceEvent::Revoked, partitions);
        if !self.commit_on_revoke || self.closing.load(Ordering::Acquire) {
            self.forget(partitions);
            return;
        }
        let committed = commit_stored(consumer);
        // Theirs no more: a later commit must not carry their positions.
        self.rewound
            .forget(|t, p| partitions.find_partition(t, p).is_some());
        if let Err(e) = committed {
            logging::log(
                Level::Error,
                "kafka_instance.consumer.rebalance",
                SUBJECT,
                &format!(
                    "committing before {} partition(s) were revoked failed: {}; messages \
                     processed since the last commit will be consumed again by their new owner",
                    partitions.count(),
                    e.message
                ),
                Some(json!({ "rdkafka_code": e.rdkafka_code, "retriable": e.retriable })),
            );
        }
    }

    fn post_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(_) = rebalance {
            // Paused from the hook before librdkafka had them.
            let paused = self.starts.take_paused();
            if !paused.is_empty() {
                let mut tpl = TopicPartitionList::with_capacity(paused.len());
                for (t, p) in &paused {
                    tpl.add_partition(t, *p);
                }
                if let Err(e) = consumer.pause(&tpl) {
                    logging::log(
                        Level::Error,
                        "kafka_instance.consumer.rebalance",
                        SUBJECT,
                        &format!(
                            "pausing {} partition(s) the rebalance callback paused: {e}",
                            paused.len()
                        ),
                        None,
                    );
                }
            }
        }
        if logging::enabled(Level::Info) && !self.silenced.load(Ordering::Acquire) {
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

fn log_auto_commit_failure(why: &str, rdkafka_code: i32, partitions: usize) {
    logging::log(
        Level::Warning,
        "kafka_instance.consumer.auto_commit",
        SUBJECT,
        &format!(
            "automatic commit of {partitions} partition(s) failed: {why}; it is retried at the \
             next interval, and close commits synchronously"
        ),
        Some(json!({ "rdkafka_code": rdkafka_code })),
    );
}

/// The default cap on one `consume` batch when `max_poll_records` is not
/// set (kafka-python's default).
const DEFAULT_CONSUME_BATCH: usize = 500;

/// The default `default.api.timeout.ms`: the bound of the calls without a
/// timeout of their own (commits, close). The Java client's default is 60
/// s; 10 s lets a service's shutdown fit in a container's grace period.
const DEFAULT_API_TIMEOUT: Duration = Duration::from_secs(10);

/// librdkafka's default `auto.commit.interval.ms`.
const DEFAULT_AUTO_COMMIT_INTERVAL: Duration = Duration::from_millis(5000);

/// What the polling side keeps between calls, and the offsets marked
/// done, under one lock (the hot path takes it twice per poll).
struct PollState {
    /// Offsets the application is done with, not yet in librdkafka's store.
    done: Vec<Position>,
    /// The last topic name seen, shared by its messages.
    last_topic: Option<Arc<NulText>>,
    /// An error met after a batch already had messages, for the next poll.
    deferred: Option<Error>,
    /// Handed out by the last poll or batch; done when the application
    /// comes back.
    handed: Vec<Position>,
    /// When auto-commit last ran ([`sys::coarse_now`]).
    last_commit: Duration,
}

/// A subscribed consumer. One thread polls it at a time; `store`,
/// `wakeup` and `register_handler` may come from any thread.
pub struct Consumer {
    // Fields drop in this order: the event thread (joined: it releases the
    // main queue and its reference to the client), the queue handles
    // before the client they belong to, the client (which librdkafka may
    // still make write to the pipe) before the pipe. The token refresher
    // goes first: it holds a reference to the client too.
    oauth: Option<TokenRefresher>,
    events: EventThread,
    queue: Queue,
    /// Where the outcomes of `commit_async` arrive.
    commits: Queue,
    /// Shared only to be released on another thread when close cannot
    /// finish in time.
    inner: Arc<BaseConsumer<Context>>,
    pipe: Arc<WakePipe>,
    woken: AtomicBool,
    /// Set once the pipe's read end was handed out as the consumer's
    /// event fd: librdkafka then writes to the pipe whenever a message or
    /// event arrives (not only while a poll waits), and every poll leaves
    /// the pipe readable exactly when the next one would return at once.
    readiness: AtomicBool,
    /// The count of security refusals (`SecurityFailure::notes`) the
    /// polls have returned.
    security_seen: AtomicU64,
    origin: Origin,
    max_poll_records: Option<usize>,
    /// Messages keep librdkafka's buffer (`zero_copy_messages`).
    zero_copy: bool,
    /// `Some(interval)` when auto-commit is on; an interval of zero commits
    /// only on revocation and close (librdkafka's "0 = disable").
    auto_commit: Option<Duration>,
    /// Whether coming back for more marks what was handed out as done
    /// (the user's `enable.auto.offset.store`, true by default).
    store_on_return: bool,
    handlers: Mutex<Arc<Vec<(String, Handler)>>>,
    /// A poll, batch or consume is running (a handler calling poll is
    /// refused).
    polling: AtomicBool,
    /// `close` has begun: every later call is refused.
    closed: AtomicBool,
    /// `commit_async` calls whose outcome was not served yet.
    async_commits: Mutex<AsyncCommits>,
    /// Their number: the poll loop's one check when there are none.
    pending_commits: AtomicUsize,
    /// When the subscribed topics were last looked up as missing
    /// ([`sys::coarse_now`] in ms; 0: never).
    asked_missing: AtomicU64,
}

/// Reads a boolean setting as librdkafka would.
fn flag(value: Option<&str>) -> Option<bool> {
    value.map(|v| {
        matches!(
            v.trim().to_ascii_lowercase().as_str(),
            "true" | "t" | "1" | "yes" | "on"
        )
    })
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
            control::validate_subscription(t)?;
        }
        let mut config = instance.config().for_client(Scope::Consumer, overrides)?;
        if !config.contains("group.id") {
            return Err(Error::config(
                "a consumer needs a group id: set group_id on the config or in the overrides",
            ));
        }
        if !config.contains("auto.offset.reset") {
            config.set("auto.offset.reset", "latest")?;
        }
        let mut resolved = config.resolve()?;
        // The offset rule (module docs): this module stores and commits;
        // librdkafka's own store and timer stay off.
        let take = |rdkafka: &mut Vec<(String, String)>, key: &str| {
            let at = rdkafka.iter().position(|(k, _)| k == key)?;
            Some(rdkafka.remove(at).1)
        };
        let auto_commit_setting = take(&mut resolved.rdkafka, "enable.auto.commit");
        let legacy_auto_commit = take(&mut resolved.rdkafka, "auto.commit.enable");
        let auto_commit =
            flag(auto_commit_setting.or(legacy_auto_commit).as_deref()).unwrap_or(true);
        let store_on_return =
            flag(take(&mut resolved.rdkafka, "enable.auto.offset.store").as_deref())
                .unwrap_or(true);
        let api_timeout = resolved.default_api_timeout.unwrap_or(DEFAULT_API_TIMEOUT);
        let interval = resolved
            .get("auto.commit.interval.ms")
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map_or(DEFAULT_AUTO_COMMIT_INTERVAL, Duration::from_millis);
        resolved
            .rdkafka
            .push(("enable.auto.commit".into(), "false".into()));
        resolved
            .rdkafka
            .push(("enable.auto.offset.store".into(), "false".into()));
        let mut cc = resolved.client_config();
        cc.set_log_level(logging::rdkafka_log_level());
        let origin = Origin::here();
        // Created before the client, so that a failure below drops the
        // client first, while the pipe it writes to is still open.
        let pipe = WakePipe::new()
            .map(Arc::new)
            .map_err(|e| Error::new(ErrorKind::Internal, format!("creating a pipe: {e}")))?;
        let source = logging::new_source();
        let inner: BaseConsumer<Context> = cc
            .create_with_context(Context {
                source,
                security: SecurityFailure::default(),
                shared: Mutex::new(PollState {
                    done: Vec::new(),
                    last_topic: None,
                    deferred: None,
                    handed: Vec::new(),
                    last_commit: sys::coarse_now(),
                }),
                commit_on_revoke: auto_commit,
                api_timeout,
                closing: AtomicBool::new(false),
                silenced: AtomicBool::new(false),
                uncommitted: AtomicBool::new(false),
                rebalance: Mutex::new(None),
                in_rebalance: AtomicBool::new(false),
                starts: Starts::default(),
                rewound: Rewound::default(),
                statistics: statistics::reporter_for(&resolved.statistics, source)?,
                wake: Arc::clone(&pipe),
            })
            .map_err(|e| Error::from_rdkafka(&e, "creating the consumer"))?;
        let inner = Arc::new(inner);
        // Stopped before the client is destroyed, the thread forwards the
        // main queue back to the consumer queue: librdkafka's destroy
        // purges that one, and waits for what the main queue holds.
        let events = Queue::main_of(inner.client())
            .and_then(|main| {
                let back = Queue::of(&inner)?;
                main.unforward();
                let context = Arc::clone(inner.context());
                let client = Arc::clone(&inner);
                let finish = move |main: &Queue| main.forward_to(&back);
                EventThread::start("kafka-consumer", main, context, client, finish)
            })
            .map_err(|e| {
                Error::new(
                    ErrorKind::Internal,
                    format!("serving the consumer's events: {e}"),
                )
            })?;
        let oauth = oauth::refresher_for(
            resolved.oauth.as_ref(),
            resolved.get("sasl.oauthbearer.config"),
            Arc::clone(&inner),
            |c: &Arc<BaseConsumer<Context>>| c.client(),
            inner.context().source(),
        )?;
        let queue = Queue::of(&inner)
            .map_err(|e| Error::new(ErrorKind::Internal, format!("watching the queue: {e}")))?;
        // The queue writes to the pipe only while a poll waits on it (see
        // `next`).
        let commits = Queue::new(&inner)
            .map_err(|e| Error::new(ErrorKind::Internal, format!("creating a queue: {e}")))?;
        commits.wake_on_arrival(Some(&pipe));
        inner
            .subscribe(topics)
            .map_err(|e| Error::from_rdkafka(&e, "subscribing"))?;
        Ok(Consumer {
            oauth,
            events,
            queue,
            commits,
            inner,
            pipe,
            woken: AtomicBool::new(false),
            readiness: AtomicBool::new(false),
            security_seen: AtomicU64::new(0),
            origin,
            max_poll_records: resolved.max_poll_records,
            zero_copy: resolved.zero_copy_messages,
            auto_commit: auto_commit.then_some(interval),
            store_on_return,
            handlers: Mutex::new(Arc::new(Vec::new())),
            polling: AtomicBool::new(false),
            closed: AtomicBool::new(false),
            async_commits: Mutex::new(AsyncCommits::default()),
            pending_commits: AtomicUsize::new(0),
            asked_missing: AtomicU64::new(0),
        })
    }

    /// Whether this is the process the consumer was created in (one
    /// atomic load: async-signal-safe).
    pub fn is_in_its_process(&self) -> bool {
        self.origin.is_here()
    }

    /// [`ErrorKind::State`] in a forked child.
    pub fn check_process(&self) -> Result<()> {
        self.origin.check("consumer")
    }

    /// [`ErrorKind::State`] in a forked child, checked more strictly: before
    /// anything is released.
    pub fn check_release(&self) -> Result<()> {
        self.origin.check_release("consumer")
    }

    /// [`ErrorKind::State`] on this consumer's event thread: inside a log,
    /// error or statistics callback it runs, where a poll or a close would
    /// wait for (or free) the thread that is running it.
    pub fn check_not_serving_events(&self, what: &str) -> Result<()> {
        let statistics = statistics::serving(self.inner.context().source());
        match self.events.is_current() || statistics {
            false => Ok(()),
            true => Err(Error::state(format!(
                "{what} was called inside a log, error or statistics callback of this \
                 consumer: call it from the application's own thread"
            ))),
        }
    }

    /// [`ErrorKind::State`] in a forked child or once `close` has begun.
    fn check_usable(&self) -> Result<()> {
        self.check_process()?;
        if self.closed.load(Ordering::Acquire) {
            return Err(Error::state("the consumer is closed"));
        }
        Ok(())
    }

    fn state(&self) -> MutexGuard<'_, PollState> {
        self.inner.context().shared()
    }

    fn async_commits(&self) -> MutexGuard<'_, AsyncCommits> {
        self.async_commits.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Enters a poll, batch or consume: refused in a forked child, after
    /// close, and inside a handler of this consumer. The application came
    /// back for more, so what it was handed is done; auto-commit runs when
    /// due.
    fn enter_poll(&self) -> Result<PollGuard<'_>> {
        self.check_usable()?;
        self.check_not_serving_events("a poll, poll_batch or consume")?;
        if self.polling.swap(true, Ordering::AcqRel) {
            return Err(Error::state(
                "a poll, poll_batch or consume was called inside a handler (or from another \
                 thread while one runs): the batch being handled would be committed out of \
                 order; return from the handler first",
            ));
        }
        let guard = PollGuard(self);
        // One lock for the three (the hot path: once per poll).
        let due = {
            let mut state = self.state();
            self.settle(&mut state);
            if let Some(e) = state.deferred.take() {
                return Err(e);
            }
            self.commit_due(&mut state)
        };
        if due {
            self.auto_commit();
        }
        Ok(guard)
    }

    /// Starts an asynchronous commit when auto-commit is on, its interval
    /// has passed, and something new is done. Runs from the poll calls
    /// (also while one waits), so it commits on the polling thread, as the
    /// Java client does.
    fn auto_commit_if_due(&self) {
        if self.commit_due(&mut self.state()) {
            self.auto_commit();
        }
    }

    /// Whether auto-commit is on and its interval has passed (then it
    /// counts from now).
    fn commit_due(&self, state: &mut PollState) -> bool {
        let Some(interval) = self.auto_commit.filter(|i| !i.is_zero()) else {
            return false;
        };
        let now = sys::coarse_now();
        if now.saturating_sub(state.last_commit) < interval {
            return false;
        }
        state.last_commit = now;
        true
    }

    /// The automatic commit, once due: only when something new is done.
    fn auto_commit(&self) {
        let context = self.inner.context();
        // Something to commit: stored by `store` (or left by a failed
        // commit) since the last commit began, or marked done and not yet
        // stored.
        if context.uncommitted.swap(false, Ordering::AcqRel) || !context.shared().done.is_empty() {
            // The outcome is served by a later poll (a failure is logged);
            // a commit that cannot even start is logged the same way.
            if let Err(e) = self.start_commit(None, None, true) {
                context.uncommitted.store(true, Ordering::Release);
                log_auto_commit_failure(&e.message, e.rdkafka_code, 0);
            }
        }
    }

    /// Marks what the last poll handed out as done (when coming back for
    /// more counts, see the module docs).
    fn settle_handed(&self) {
        self.settle(&mut self.state());
    }

    /// [`settle_handed`](Self::settle_handed) under the caller's lock. The
    /// list keeps its capacity: no allocation per poll.
    fn settle(&self, state: &mut PollState) {
        if !self.store_on_return || state.handed.is_empty() {
            return;
        }
        let PollState { handed, done, .. } = state;
        for p in handed.drain(..) {
            mark(done, p);
        }
    }

    /// Records what a poll returns, to be marked done when the application
    /// comes back. Called once the poll has its messages, so that a commit
    /// made meanwhile (from a log callback) cannot count them.
    fn hand_out(&self, positions: Vec<Position>) {
        if self.store_on_return && !positions.is_empty() {
            let mut state = self.state();
            for p in positions {
                mark(&mut state.handed, p);
            }
        }
    }

    /// One message, or `None` when none arrived within `timeout` (`None`:
    /// no limit).
    /// Partition EOF and transient errors are logged, not returned; fatal
    /// errors, a failed `auto_offset_reset=none`, a refused authentication
    /// or TLS handshake, and a wake-up are returned.
    pub fn poll(&self, timeout: Option<Duration>) -> Result<Option<Message>> {
        let _polling = self.enter_poll()?;
        // Handed out as it is made: nothing runs between the two.
        self.next(timeout, true)
    }

    /// The next message, waiting up to `timeout` (`None`: forever).
    /// `hand`: record the message as handed out (see `hand_out`).
    fn next(&self, timeout: Option<Duration>, hand: bool) -> Result<Option<Message>> {
        // Set after the first attempt: a message already there costs no
        // clock read (on some virtual machines one costs a few hundred
        // nanoseconds, a tenth of a message on the embedded broker).
        let mut deadline: Option<Instant> = None;
        loop {
            if self.woken.load(Ordering::Acquire) && self.woken.swap(false, Ordering::AcqRel) {
                return Err(Error::new(
                    ErrorKind::Wakeup,
                    "woken by kafka_consumer_wakeup",
                ));
            }
            if let Some(refused) = self.new_security_failure() {
                return Err(refused);
            }
            self.serve_commits(Duration::ZERO);
            let wait = match (timeout, deadline) {
                (None, _) => MAX_WAIT,
                (Some(t), None) => t.min(MAX_WAIT),
                (Some(_), Some(d)) => d.saturating_duration_since(Instant::now()).min(MAX_WAIT),
            };
            // First inside librdkafka, briefly: a consumer faster than its
            // fetcher waits for nearly every message, and librdkafka's
            // condition variable wakes it at less cost than the pipe.
            let spell = wait.min(SPELL);
            if let Some(m) = self.poll_once(hand, spell)? {
                return Ok(Some(m));
            }
            if let (Some(t), None) = (timeout, deadline) {
                deadline = Some(Instant::now() + t.saturating_sub(spell));
            }
            // An event (a log line, a commit, a rebalance) used that call:
            // the queue may hold more, and librdkafka signals only a queue
            // that was empty.
            if self.queue.len() > 0 {
                continue;
            }
            if wait.is_zero() {
                return Ok(None);
            }
            if wait > spell {
                self.wait_on_pipe(wait - spell);
            }
            self.auto_commit_if_due();
        }
    }

    /// Waits up to `wait` on the pipe for a message, an event or a
    /// wake-up. librdkafka writes to it only meanwhile: a write for every
    /// message that finds the queue empty costs its fetcher a syscall
    /// that a consumer waiting inside librdkafka does not need.
    fn wait_on_pipe(&self, wait: Duration) {
        self.queue.wake_on_arrival(Some(&self.pipe));
        // Anything that came before the line above wrote nothing.
        if self.queue.len() == 0 && self.pipe.wait(wait) {
            self.pipe.drain();
        }
        if !self.readiness.load(Ordering::Acquire) {
            self.queue.wake_on_arrival(None);
        }
    }

    /// The consumer's event file descriptor: readable while a poll would
    /// return at once (a message, an event its callbacks handle, a commit
    /// outcome, a refused login, a wake-up), for select/poll/epoll,
    /// asyncio's `add_reader` or libuv. The caller never reads or closes
    /// it; it is closed with the consumer.
    pub fn event_fd(&self) -> Result<RawFd> {
        self.check_usable()?;
        if !self.readiness.load(Ordering::Acquire) && self.polling.load(Ordering::Acquire) {
            // A poll waiting now would turn the arrivals' writes off again
            // when it ends.
            return Err(Error::state(
                "kafka_consumer_event_fd was asked while a poll of this consumer runs: ask \
                 for it before polling, or between polls",
            ));
        }
        if !self.readiness.swap(true, Ordering::AcqRel) {
            // From now on librdkafka writes whenever something arrives.
            self.queue.wake_on_arrival(Some(&self.pipe));
            self.refresh_readiness();
        }
        Ok(self.pipe.read_fd())
    }

    /// Leaves the pipe readable exactly when the next poll would return
    /// at once. Emptied first, then filled again if anything is there: a
    /// write librdkafka makes after the check finds the pipe as it should.
    fn refresh_readiness(&self) {
        self.pipe.drain();
        let security = &self.inner.context().security;
        let pending = self.queue.len() > 0
            || self.commits.len() > 0
            || self.woken.load(Ordering::Acquire)
            || security.notes() != self.security_seen.load(Ordering::Acquire)
            || self.state().deferred.is_some();
        if pending {
            self.pipe.wake();
        }
    }

    /// A refused login or TLS handshake noted since a poll last returned
    /// one (librdkafka retries; each new refusal is returned once).
    fn new_security_failure(&self) -> Option<Error> {
        let security = &self.inner.context().security;
        let notes = security.notes();
        if notes == self.security_seen.load(Ordering::Acquire) {
            return None;
        }
        self.security_seen.store(notes, Ordering::Release);
        security.get()
    }

    /// One poll of librdkafka, waiting up to `wait`. `None` also when an event
    /// (rebalance, commit, log line, skipped error) used the call. `hand`:
    /// record the message as handed out, under the same lock.
    fn poll_once(&self, hand: bool, wait: Duration) -> Result<Option<Message>> {
        match self.inner.poll(wait) {
            None => Ok(None),
            Some(Ok(m)) => {
                self.inner.context().security.clear();
                let mut state = self.state();
                let held = self.zero_copy.then_some(&self.inner);
                let m = Message::new(&mut state.last_topic, m, held);
                if hand && self.store_on_return {
                    mark(&mut state.handed, m.next_position());
                }
                Ok(Some(m))
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
                let mut err = Error::from_rdkafka(&other, "consuming");
                if err.rdkafka_code == RDKafkaErrorCode::UnknownTopicOrPartition as i32 {
                    err.message = format!("{}{}", self.missing_subscribed(), err.message);
                }
                logging::log_repeating(
                    self.inner.context().source(),
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
    /// to `timeout` for the first, then takes only what is already there.
    pub fn poll_batch(&self, capacity: usize, timeout: Option<Duration>) -> Result<Vec<Message>> {
        let mut out = Vec::new();
        self.poll_each(capacity, timeout, |m| out.push(m))?;
        Ok(out)
    }

    /// [`poll_batch`](Self::poll_batch), handing each message to `sink` as
    /// it comes instead of collecting them. Returns how many.
    pub fn poll_each(
        &self,
        capacity: usize,
        timeout: Option<Duration>,
        mut sink: impl FnMut(Message),
    ) -> Result<usize> {
        let _polling = self.enter_poll()?;
        let mut positions = Vec::new();
        let n = self.fetch(capacity, timeout, |m| {
            positions.push(m.next_position());
            sink(m)
        });
        // Even when the batch ended in an error: what it holds is handed out.
        self.hand_out(positions);
        n
    }

    /// Up to `capacity` (and `max_poll_records`) messages into `sink`:
    /// waits until `deadline` for the first, then takes only what is
    /// already there.
    fn fetch(
        &self,
        capacity: usize,
        timeout: Option<Duration>,
        mut sink: impl FnMut(Message),
    ) -> Result<usize> {
        /// Events (log lines, commits) taken between two messages of a
        /// batch before it ends: a stream of them cannot keep it open.
        const EVENTS_PER_BATCH: usize = 64;
        let limit = self.max_poll_records.map_or(capacity, |m| m.min(capacity));
        if limit == 0 {
            return Ok(0);
        }
        match self.next(timeout, false)? {
            Some(m) => sink(m),
            None => return Ok(0),
        }
        let (mut n, mut events) = (1, 0);
        while n < limit {
            match self.poll_once(false, Duration::ZERO) {
                Ok(Some(m)) => {
                    sink(m);
                    n += 1;
                }
                Ok(None) if events < EVENTS_PER_BATCH && self.queue.len() > 0 => events += 1,
                Ok(None) => break,
                // Messages already handed over are the caller's: return
                // them, and the error on the next poll.
                Err(e) => {
                    self.state().deferred = Some(e);
                    break;
                }
            }
        }
        Ok(n)
    }

    /// Commits every offset the application is done with (see the module
    /// docs; what the last poll handed out counts as done) and waits for
    /// the broker. Nothing to commit is success.
    pub fn commit(&self) -> Result<()> {
        self.check_usable()?;
        self.settle_handed();
        commit_stored(&self.inner)
    }

    /// Commits `message.offset + 1` for its partition, and nothing else,
    /// and waits for the broker.
    pub fn commit_message(&self, message: &Message) -> Result<()> {
        self.check_usable()?;
        let offsets = [(message.topic(), message.partition(), message.offset() + 1)];
        commit_within(
            &self.inner,
            Some(&offsets),
            self.inner.context().api_timeout,
        )
        .map_err(|e| e.context("committing a message"))
    }

    /// Marks `message`, and everything before it on its partition, as done:
    /// its offset + 1 is stored now and committed by the next commit
    /// (automatic or explicit). A partition no longer assigned to this
    /// consumer is [`ErrorKind::State`]: its new owner consumes the message
    /// again.
    pub fn store(&self, message: &Message) -> Result<()> {
        self.check_usable()?;
        let context = self.inner.context();
        let refused = context.store_done(&self.inner, Some(message.next_position()));
        context.uncommitted.store(true, Ordering::Release);
        let (mine, others): (Vec<_>, Vec<_>) = refused.into_iter().partition(|(p, _)| {
            p.partition == message.partition() && p.topic.as_str() == message.topic()
        });
        log_refused(&others);
        match mine.first() {
            None => Ok(()),
            Some((_, code)) => {
                let mut e = Error::state(format!(
                    "offset {} of {:?} partition {} not stored: the partition is not assigned \
                     to this consumer (any more); its new owner consumes the message again",
                    message.offset() + 1,
                    message.topic(),
                    message.partition()
                ));
                e.rdkafka_code = *code as i32;
                Err(e)
            }
        }
    }

    /// Adds a handler for `topic`; handlers run in registration order.
    /// Inside a handler, it takes effect from the next message.
    pub fn register_handler(&self, topic: &str, handler: Handler) -> Result<()> {
        self.check_usable()?;
        topic::validate(topic)?;
        let mut handlers = self.handlers.lock().unwrap_or_else(|e| e.into_inner());
        let mut next = Vec::clone(&handlers);
        next.push((topic.to_owned(), handler));
        *handlers = Arc::new(next);
        Ok(())
    }

    /// Sets (or, with `None`, removes) the rebalance hook. It runs on the
    /// polling thread, inside poll, poll_batch and consume (and close, for
    /// the final revocation).
    pub fn set_rebalance_hook(&self, hook: Option<RebalanceHook>) -> Result<()> {
        self.check_usable()?;
        *self
            .inner
            .context()
            .rebalance
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = hook;
        Ok(())
    }

    /// Refuses a change of assignment or subscription from a rebalance
    /// hook: the library is in the middle of its own.
    fn check_not_rebalancing(&self, what: &str) -> Result<()> {
        if self.inner.context().in_rebalance.load(Ordering::Acquire) {
            return Err(Error::state(format!(
                "{what} inside a rebalance callback: the library assigns and revokes the \
                 partitions itself; seek, pause or commit there instead"
            )));
        }
        Ok(())
    }

    /// Makes the blocked (or the next) poll, batch or consume return
    /// [`ErrorKind::Wakeup`]. Async-signal-safe: an atomic store and one
    /// `write(2)`, no lock, no allocation.
    pub fn wakeup(&self) {
        self.woken.store(true, Ordering::Release);
        self.pipe.wake();
    }

    /// Polls one batch, runs each message's topic handlers in order (a
    /// failing handler is logged and the others still run), and marks the
    /// message done once they all returned. With auto-commit off, commits
    /// after the batch. `dispatched` gets how many messages were polled,
    /// also when that commit fails.
    pub fn consume(&self, timeout: Option<Duration>, dispatched: &mut usize) -> Result<()> {
        *dispatched = 0;
        let polling = self.enter_poll()?;
        let cap = self.max_poll_records.unwrap_or(DEFAULT_CONSUME_BATCH);
        let mut batch = Vec::new();
        let fetched = self.fetch(cap, timeout, |m| batch.push(m));
        for m in &batch {
            self.dispatch(m);
            mark(&mut self.state().done, m.next_position());
            *dispatched += 1;
        }
        drop(polling);
        fetched?;
        if self.auto_commit.is_none() && !batch.is_empty() {
            commit_stored(&self.inner)?;
        }
        Ok(())
    }

    /// Runs `m`'s topic handlers, in registration order, as registered
    /// when `m`'s turn came.
    fn dispatch(&self, m: &Message) {
        let handlers = Arc::clone(&self.handlers.lock().unwrap_or_else(|e| e.into_inner()));
        let mut handled = false;
        for (topic, handler) in handlers.iter() {
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
                        m.partition(),
                        m.offset()
                    ),
                    Some(json!({
                        "topic": m.topic(),
                        "partition": m.partition(),
                        "offset": m.offset(),
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

    /// Commits what is done (with auto-commit on; what the last poll
    /// handed out counts as done), leaves the group (its partitions go to
    /// the remaining members at once) and stops the client, within
    /// `default.api.timeout.ms` in all. Dropping the consumer afterwards
    /// releases it without waiting or running user code.
    ///
    /// A failed final commit is returned once the consumer has stopped:
    /// the messages processed since the last commit are consumed again by
    /// the partitions' next owner. When librdkafka cannot finish within the
    /// time (the broker is unreachable, a request to it is stuck), the
    /// client is released on a thread of its own once it can and the
    /// result says so: close never waits longer.
    ///
    /// [`ErrorKind::State`], with nothing done, in a forked child (there the
    /// consumer must be forgotten, not dropped: what it holds is the
    /// parent's) and when already closed.
    pub fn close(&self) -> Result<()> {
        self.check_release()?;
        if self.closed.swap(true, Ordering::AcqRel) {
            return Err(Error::state("the consumer is already closed"));
        }
        let context = self.inner.context();
        let deadline = Instant::now() + context.api_timeout;
        // One record of its own, from the closing thread: what runs inside
        // close (a log callback calling back in) does not depend on
        // librdkafka having something to say.
        if logging::enabled(Level::Debug) {
            logging::log(
                Level::Debug,
                "kafka_instance.consumer.close",
                SUBJECT,
                "closing: final commit, then leaving the group",
                None,
            );
        }
        let committed = match self.auto_commit {
            Some(_) => {
                self.settle_handed();
                commit_stored(&self.inner)
            }
            None => Ok(()),
        };
        self.finish_commits(deadline);
        context.closing.store(true, Ordering::Release);
        // No statistics callback after close (one already running when
        // the time is up may finish after).
        if let Some(reporter) = &context.statistics {
            reporter.stop(Some(deadline));
        }
        if let Some(oauth) = &self.oauth {
            oauth.stop(Some(deadline));
        }
        self.queue.wake_on_arrival(None);
        self.commits.wake_on_arrival(None);
        // librdkafka's asynchronous close: the revocation and the
        // LeaveGroup arrive as events on the consumer queue. Messages
        // still fetched there are dropped unstored.
        let left = match self.inner.close_queue() {
            Ok(()) => loop {
                if self.inner.closed() {
                    break Ok(());
                }
                let wait = deadline.saturating_duration_since(Instant::now());
                if wait.is_zero() {
                    break Err(self.release_in_background());
                }
                let _ = self.inner.poll(wait.min(Duration::from_millis(100)));
            },
            Err(e) => Err(Error::from_rdkafka(&e, "closing the consumer queue")),
        };
        match (committed, left) {
            (Err(e), _) => Err(e.context(
                "closing: the final commit failed, so messages processed since the last \
                 commit will be consumed again",
            )),
            (Ok(()), Err(e)) => Err(e),
            (Ok(()), Ok(())) => Ok(()),
        }
    }

    /// Hands the client to a thread that drops it once librdkafka lets go
    /// of it (its drop waits for librdkafka's close), silenced: it runs no
    /// user code any more. Returns what close reports.
    fn release_in_background(&self) -> Error {
        let context = self.inner.context();
        context.silenced.store(true, Ordering::Release);
        if let Err(e) = sys::release_last_on_a_thread(Arc::clone(&self.inner)) {
            // Without a thread, the client is released with the handle,
            // which waits: still better than leaking it.
            logging::log(
                Level::Warning,
                "kafka_instance.consumer.close",
                SUBJECT,
                &format!("no thread to release the consumer in the background: {e}"),
                None,
            );
        }
        Error::new(
            ErrorKind::Timeout,
            format!(
                "closing: the consumer did not finish leaving its group within {} ms \
                 (default_api_timeout_ms; the broker may be unreachable); it is released in the \
                 background once librdkafka lets go of it",
                context.api_timeout.as_millis()
            ),
        )
    }
}

/// Marks a poll as running for as long as it lives; when it ends, the
/// event fd (if handed out) tells whether the next poll has something.
struct PollGuard<'a>(&'a Consumer);

impl Drop for PollGuard<'_> {
    fn drop(&mut self) {
        if self.0.readiness.load(Ordering::Acquire) {
            self.0.refresh_readiness();
        }
        self.0.polling.store(false, Ordering::Release);
    }
}

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
use crate::fork::Origin;
use crate::instance::Instance;
use crate::logging::{self, Level};
use crate::oauth::{self, TokenRefresher};
use crate::statistics::{self, Reporter};
use crate::sys::{self, CommitFailure, Queue, WakePipe};
use crate::text::NulText;
use crate::topic;

mod async_commit;
mod commits;
mod context;
mod control;
mod handlers;
mod message;
mod missing;
mod polling;
mod rewind;
mod starts;
use async_commit::AsyncCommits;
pub use async_commit::CommitDone;
pub use control::{Lag, PartitionOffset, Start};
pub use message::Message;

use context::{
    commit_stored, commit_within, log_auto_commit_failure, log_refused, Context, PollState,
};
use polling::PollGuard;
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

/// The default cap on one `consume` batch when `max_poll_records` is not
/// set (kafka-python's default).
const DEFAULT_CONSUME_BATCH: usize = 500;

/// The default `default.api.timeout.ms`: the bound of the calls without a
/// timeout of their own (commits, close). The Java client's default is 60
/// s; 10 s lets a service's shutdown fit in a container's grace period.
const DEFAULT_API_TIMEOUT: Duration = Duration::from_secs(10);

/// librdkafka's default `auto.commit.interval.ms`.
const DEFAULT_AUTO_COMMIT_INTERVAL: Duration = Duration::from_millis(5000);

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

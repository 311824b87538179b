//! Commits the caller does not wait for: [`Consumer::commit_async`]. Each
//! is posted to a queue of the consumer's own with an id, and its outcome
//! handed to its callback on the thread that polls (inside `poll`,
//! `poll_batch` or `consume`), or by `close`, which waits for what is
//! still out. Exactly one outcome per commit that was started.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use rdkafka::consumer::Consumer as _;
use rdkafka::error::RDKafkaErrorCode;

use super::control::check_offsets;
use super::{rewind, Consumer, PartitionOffset};
use serde_json::json;

use crate::error::{Error, ErrorKind, Result};
use crate::logging::{self, Level};
use crate::sys::CommitOutcome;

/// What an asynchronous commit's outcome is handed to: the result and the
/// offsets librdkafka reports (none when there was nothing to commit).
pub type CommitDone = Box<dyn FnOnce(Result<()>, Vec<PartitionOffset>) + Send>;

/// The asynchronous commits of one consumer whose outcome was not served:
/// the application's and auto-commit's (whose failures are logged).
#[derive(Default)]
pub(super) struct AsyncCommits {
    next_id: u64,
    /// Started, outcome not yet arrived: id, callback, whether auto-commit
    /// started it.
    waiting: Vec<(u64, Option<CommitDone>, bool)>,
}

impl Consumer {
    /// Starts a commit and returns at once: of `offsets` (each the offset
    /// of the next message to consume, 0 or more) or, with `None`, of what
    /// the application is done with (as [`commit`](Self::commit)). `done`
    /// is called exactly once when this returns `Ok`, never when it returns
    /// `Err`: on the thread that polls, inside a later `poll`, `poll_batch`
    /// or `consume`, or inside `close`, which waits for what is still out
    /// (until `default_api_timeout_ms`; what has no outcome by then gets
    /// [`ErrorKind::Timeout`]).
    pub fn commit_async(
        &self,
        offsets: Option<&[(&str, i32, i64)]>,
        done: Option<CommitDone>,
    ) -> Result<()> {
        self.check_usable()?;
        match offsets {
            Some(offsets) => check_offsets(offsets)?,
            None => self.settle_handed(),
        }
        self.start_commit(offsets, done, false)
    }

    /// Starts a commit whose outcome is served from the reply queue (after
    /// storing what is done, for a commit of the stored offsets). `auto`:
    /// auto-commit's, whose failure is logged.
    pub(super) fn start_commit(
        &self,
        offsets: Option<&[(&str, i32, i64)]>,
        done: Option<CommitDone>,
        auto: bool,
    ) -> Result<()> {
        if offsets.is_none() {
            let context = self.inner.context();
            let refused = context.store_done(&self.inner, None);
            super::log_refused(&refused);
            // Partitions sought since their last commit first, explicitly
            // (see `rewind`), as a commit of its own whose failure is
            // logged as auto-commit's are.
            let sought = context.rewound.take();
            if !sought.is_empty() {
                let id = self.register(None, true);
                context.rewound.started(id, sought.clone());
                let list = rewind::borrowed(&sought);
                if let Err(code) = self.commits.commit(&self.inner, Some(&list), id) {
                    drop(self.forget_commit(id));
                    context.rewound.finished(id, false);
                    return Err(Error::from_rdkafka_code(code, "starting a commit"));
                }
            }
        }
        let id = self.register(done, auto);
        self.commits
            .commit(&self.inner, offsets, id)
            .map_err(|code| {
                // Not started: no outcome will come, and the callback is never
                // called (the caller gets this error instead).
                drop(self.forget_commit(id));
                Error::from_rdkafka_code(code, "starting a commit")
            })
    }

    /// A new commit id, registered as waiting (before the commit starts:
    /// its outcome may arrive before `commit` returns).
    fn register(&self, done: Option<CommitDone>, auto: bool) -> u64 {
        let id = {
            let mut commits = self.async_commits();
            commits.next_id += 1;
            let id = commits.next_id;
            commits.waiting.push((id, done, auto));
            id
        };
        self.pending_commits.fetch_add(1, Ordering::AcqRel);
        id
    }

    /// Removes commit `id` from the waiting ones: its callback, and
    /// whether auto-commit started it.
    fn forget_commit(&self, id: u64) -> Option<(Option<CommitDone>, bool)> {
        let mut commits = self.async_commits();
        let at = commits.waiting.iter().position(|(i, _, _)| *i == id)?;
        self.pending_commits.fetch_sub(1, Ordering::AcqRel);
        let (_, done, auto) = commits.waiting.remove(at);
        Some((done, auto))
    }

    /// Hands every outcome already here to its callback, waiting up to
    /// `wait` for the first. One atomic load when no commit is out (the
    /// poll loop calls it).
    pub(super) fn serve_commits(&self, wait: Duration) {
        if self.pending_commits.load(Ordering::Acquire) == 0 {
            return;
        }
        let mut wait = wait;
        while let Some(outcome) = self.commits.take(wait) {
            wait = Duration::ZERO;
            self.deliver(outcome);
        }
    }

    fn deliver(&self, outcome: CommitOutcome) {
        let ok = matches!(outcome.result, Ok(()) | Err(RDKafkaErrorCode::NoOffset));
        self.inner.context().rewound.finished(outcome.id, ok);
        let Some((done, auto)) = self.forget_commit(outcome.id) else {
            return;
        };
        let result = match outcome.result {
            Ok(()) | Err(RDKafkaErrorCode::NoOffset) => Ok(()),
            Err(code) => {
                // What was stored is still there: the next commit retries it.
                self.inner
                    .context()
                    .uncommitted
                    .store(true, Ordering::Release);
                Err(Error::from_rdkafka_code(code, "committing offsets"))
            }
        };
        let offsets: Vec<PartitionOffset> = outcome
            .offsets
            .into_iter()
            .map(|(topic, partition, offset)| PartitionOffset {
                topic,
                partition,
                offset: (offset >= 0).then_some(offset),
            })
            .collect();
        match (done, result) {
            (Some(done), result) => call_done(done, result, offsets),
            (None, Err(e)) if auto => {
                super::log_auto_commit_failure(&e.message, e.rdkafka_code, offsets.len())
            }
            // Nobody to tell: the log is.
            (None, Err(e)) => logging::log(
                Level::Warning,
                "kafka_instance.consumer.commit_async",
                super::SUBJECT,
                &format!("{} (no callback was given)", e.message),
                Some(json!({ "rdkafka_code": e.rdkafka_code })),
            ),
            (None, Ok(())) => {}
        }
    }

    /// For `close`: serves outcomes until none is out or `deadline`, then
    /// gives each commit still out [`ErrorKind::Timeout`].
    pub(super) fn finish_commits(&self, deadline: Instant) {
        while self.pending_commits.load(Ordering::Acquire) > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            self.serve_commits(left.min(Duration::from_millis(100)));
        }
        let waiting = std::mem::take(&mut self.async_commits().waiting);
        for (_, done, _) in waiting {
            self.pending_commits.fetch_sub(1, Ordering::AcqRel);
            if let Some(done) = done {
                let e = Error::new(
                    ErrorKind::Timeout,
                    "asynchronous commit: no outcome before the consumer closed \
                     (default_api_timeout_ms); it may still have completed",
                );
                call_done(done, Err(e), Vec::new());
            }
        }
    }
}

/// Calls a commit callback; a panic in it (Rust callers) is contained, so
/// the callbacks after it still run.
fn call_done(done: CommitDone, result: Result<()>, offsets: Vec<PartitionOffset>) {
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| done(result, offsets)));
}

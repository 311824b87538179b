//! The thread that runs a client's statistics callback.
//!
//! librdkafka posts a statistics report every `statistics.interval.ms` to
//! the queue that also carries delivery reports and log lines. Run there,
//! a callback slower than the interval would hold everything behind a
//! backlog that only grows: delivery reports, and so flush and close,
//! would wait for ever. Here the serving thread only leaves the report in
//! a slot; this thread hands the newest one to the callback. Reports that
//! arrive while the callback runs replace each other (statistics are
//! snapshots: the newest says all the older ones did, and more).

use std::cell::Cell;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::events::{join_library_thread_by, Ending};
use crate::sys::fork_generation;

use super::StatisticsCallback;
use crate::logging::{self, Level};

/// One client's statistics thread. Stopping it (or dropping it) ends it
/// once the callback running, if any, returns.
pub struct Reporter {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
    ending: Arc<Ending>,
    generation: u64,
}

struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Default)]
struct State {
    latest: Option<String>,
    /// Reports replaced before the callback saw them, since the last note.
    skipped: u64,
    stop: bool,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

thread_local! {
    /// The owner of the statistics callback running on this thread (0:
    /// none).
    static SERVING: Cell<usize> = const { Cell::new(0) };
}

/// Whether the calling thread runs a statistics callback of `owner`'s:
/// closing that client from there would wait for (or free) itself.
pub fn serving(owner: usize) -> bool {
    owner != 0 && SERVING.with(Cell::get) == owner
}

impl Reporter {
    /// A thread that hands reports to `callback`, as `owner`'s (see
    /// [`serving`]).
    pub fn start(callback: StatisticsCallback, owner: usize) -> std::io::Result<Self> {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            changed: Condvar::new(),
        });
        let ending = Arc::new(Ending::default());
        let (serving, ended) = (Arc::clone(&shared), Arc::clone(&ending));
        let thread = thread::Builder::new()
            .name("kafka-statistics".into())
            .spawn(move || {
                SERVING.with(|s| s.set(owner));
                serve(&serving, &callback);
                ended.mark();
            })?;
        Ok(Reporter {
            shared,
            thread: Mutex::new(Some(thread)),
            ending,
            generation: fork_generation(),
        })
    }

    /// Leaves `json` for the callback, replacing a report it has not taken
    /// yet. Never waits for the callback.
    pub fn offer(&self, json: &str) {
        let mut state = self.shared.lock();
        if state.stop {
            return;
        }
        if state.latest.replace(json.to_owned()).is_some() {
            state.skipped += 1;
        }
        drop(state);
        self.shared.changed.notify_all();
    }

    /// Hands out no more reports, and waits until `deadline` (`None`: as
    /// long as it takes) for a callback still running. Whether the thread
    /// ended: if not, it ends by itself once that callback returns.
    pub fn stop(&self, deadline: Option<Instant>) -> bool {
        {
            let mut state = self.shared.lock();
            state.stop = true;
            state.latest = None;
        }
        self.shared.changed.notify_all();
        let thread = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take();
        join_library_thread_by(thread, self.generation, &self.ending, deadline)
    }
}

impl Drop for Reporter {
    fn drop(&mut self) {
        // Bounded: a client being released does not wait long for a slow
        // callback (the thread ends by itself when it returns).
        self.stop(Some(Instant::now() + Duration::from_secs(1)));
    }
}

fn serve(shared: &Shared, callback: &StatisticsCallback) {
    loop {
        let (json, skipped) = {
            let mut state = shared.lock();
            loop {
                if state.stop {
                    return;
                }
                if let Some(json) = state.latest.take() {
                    break (json, std::mem::take(&mut state.skipped));
                }
                state = shared
                    .changed
                    .wait(state)
                    .unwrap_or_else(|e| e.into_inner());
            }
        };
        if skipped > 0 && logging::enabled(Level::Debug) {
            logging::log(
                Level::Debug,
                "kafka_instance.statistics",
                "Statistics",
                &format!(
                    "{skipped} statistics report(s) replaced by newer ones before the callback \
                     took them: it is slower than statistics_interval_ms"
                ),
                None,
            );
        }
        // A panicking callback (Rust callers) must not end the thread.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| callback(&json)));
    }
}

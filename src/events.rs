//! A thread of the library that serves a client's main queue: librdkafka's
//! log lines, errors and statistics for a client whose own thread does not
//! (the admin client, whose rust-rdkafka wrapper serves only its results;
//! the consumer, whose main queue would otherwise wait for the
//! application's next poll). What it serves goes to an [`EventSink`].

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use rdkafka::error::RDKafkaErrorCode;

use crate::sys::{self, ClientEvent, Queue};

/// How long the thread waits for an event before it checks whether it
/// should stop (the bound on how long stopping it waits).
const SLICE: Duration = Duration::from_millis(100);

/// Where a client's events go.
pub trait EventSink: Send + Sync + 'static {
    fn log(&self, syslog_level: i32, facility: &str, message: &str);
    fn error(&self, code: RDKafkaErrorCode, reason: &str);
    /// librdkafka's statistics JSON (`statistics.interval.ms`).
    fn statistics(&self, json: &str);
}

/// The serving thread of one client. Stopping it (or dropping it) joins
/// it, except from the thread itself (a callback it runs released the
/// client: it ends once that callback returns) and in a forked child
/// (where it does not exist).
pub struct EventThread {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
    generation: u64,
}

impl EventThread {
    /// Serves `main` until stopped, then runs `finish` with it. The thread
    /// owns `main` and `client` (what keeps the librdkafka client alive,
    /// e.g. an `Arc` of it), and releases the queue first.
    pub fn start<S: EventSink, K: Send + 'static>(
        name: &str,
        main: Queue,
        sink: Arc<S>,
        client: K,
        finish: impl FnOnce(&Queue) + Send + 'static,
    ) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let thread = thread::Builder::new().name(name.into()).spawn(move || {
            serve(&main, &*sink, &stopped);
            finish(&main);
            drop(main);
            drop(client);
        })?;
        Ok(EventThread {
            stop,
            thread: Some(thread),
            generation: sys::fork_generation(),
        })
    }

    /// Whether the calling thread is this one (a callback it runs).
    pub fn is_current(&self) -> bool {
        self.thread
            .as_ref()
            .is_some_and(|t| t.thread().id() == thread::current().id())
    }

    pub fn stop(&mut self) {
        self.stop.store(true, Ordering::Release);
        join_library_thread(self.thread.take(), self.generation);
    }
}

/// Joins a library thread told to stop, except in a forked child (where
/// it does not exist: forgotten) and from the thread itself (a callback it
/// runs released its owner: it ends once that callback returns).
pub fn join_library_thread(thread: Option<JoinHandle<()>>, generation: u64) {
    let Some(thread) = thread else {
        return;
    };
    if generation != sys::fork_generation() {
        std::mem::forget(thread);
        return;
    }
    if thread.thread().id() != thread::current().id() {
        let _ = thread.join();
    }
}

/// The end of a library thread that runs user callbacks, for a join that
/// must not wait past a deadline for a callback that takes its time.
#[derive(Default)]
pub struct Ending {
    ended: Mutex<bool>,
    changed: Condvar,
}

impl Ending {
    /// Called by the thread as it ends.
    pub fn mark(&self) {
        *self.ended.lock().unwrap_or_else(|e| e.into_inner()) = true;
        self.changed.notify_all();
    }

    /// Waits until the thread ended or `deadline` (`None`: no limit)
    /// passed; whether it ended.
    fn wait(&self, deadline: Option<Instant>) -> bool {
        let mut ended = self.ended.lock().unwrap_or_else(|e| e.into_inner());
        while !*ended {
            let slice = match deadline {
                None => SLICE,
                Some(d) => match d.saturating_duration_since(Instant::now()) {
                    left if left.is_zero() => return false,
                    left => left.min(SLICE),
                },
            };
            ended = self
                .changed
                .wait_timeout(ended, slice)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        true
    }
}

/// [`join_library_thread`], waiting until `deadline` at most for the
/// thread (told to stop) to mark `ending`: one still running then, inside
/// a user callback, is left to end by itself once the callback returns.
/// Whether it ended.
pub fn join_library_thread_by(
    thread: Option<JoinHandle<()>>,
    generation: u64,
    ending: &Ending,
    deadline: Option<Instant>,
) -> bool {
    let Some(handle) = thread.as_ref() else {
        return false;
    };
    if generation != sys::fork_generation() || handle.thread().id() == thread::current().id() {
        join_library_thread(thread, generation);
        return false;
    }
    if !ending.wait(deadline) {
        return false;
    }
    join_library_thread(thread, generation);
    true
}

impl Drop for EventThread {
    fn drop(&mut self) {
        self.stop();
    }
}

fn serve<S: EventSink>(main: &Queue, sink: &S, stop: &AtomicBool) {
    while !stop.load(Ordering::Acquire) {
        match main.next_event(SLICE) {
            Some(ClientEvent::Log {
                syslog_level,
                facility,
                message,
            }) => sink.log(syslog_level, &facility, &message),
            Some(ClientEvent::Error { code, reason }) => sink.error(code, &reason),
            Some(ClientEvent::Statistics(json)) => sink.statistics(&json),
            Some(ClientEvent::Other) | None => {}
        }
    }
}

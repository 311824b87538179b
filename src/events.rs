//! A thread of the library that serves a client's main queue: librdkafka's
//! log lines, errors and statistics for a client whose own thread does not
//! (the admin client, whose rust-rdkafka wrapper serves only its results;
//! the consumer, whose main queue would otherwise wait for the
//! application's next poll). What it serves goes to an [`EventSink`].

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use rdkafka::error::RDKafkaErrorCode;

use crate::ffi::native::{self, ClientEvent, Queue};

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
            generation: native::fork_generation(),
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
    if generation != native::fork_generation() {
        std::mem::forget(thread);
        return;
    }
    if thread.thread().id() != thread::current().id() {
        let _ = thread.join();
    }
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

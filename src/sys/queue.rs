//! librdkafka queues of a client: the consumer queue, the main queue
//! (log lines, errors, statistics), and queues of our own that commit
//! outcomes are posted to.

use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::AsRawFd;
use std::time::Duration;

use rdkafka::bindings as rd;
use rdkafka::consumer::{BaseConsumer, Consumer as _, ConsumerContext};
use rdkafka::error::RDKafkaErrorCode;

use super::owned::Owned;
use super::partitions;
use super::pipe::WakePipe;

/// A librdkafka queue of a consumer's client: its consumer queue, where
/// its messages and events (log lines, commits, rebalances: rust-rdkafka
/// forwards the main queue there) arrive, or one of our own that commit
/// outcomes are posted to, each tagged with the id its commit was given
/// (librdkafka's global commit callback cannot tell one commit from
/// another). Drop it before the client.
pub(crate) struct Queue(pub(super) *mut rd::rd_kafka_queue_t);

// SAFETY: librdkafka's queue handles may be used from any thread.
unsafe impl Send for Queue {}
// SAFETY: as above; every call through it is thread-safe in librdkafka.
unsafe impl Sync for Queue {}

impl Queue {
    /// The consumer queue of `consumer`.
    pub(crate) fn of<C: ConsumerContext>(consumer: &BaseConsumer<C>) -> io::Result<Self> {
        // SAFETY: the client pointer is live for the call; the handle we
        // get holds its own reference on the queue.
        let queue = unsafe { rd::rd_kafka_queue_get_consumer(consumer.client().native_ptr()) };
        Self::made(queue, "the consumer has no consumer queue")
    }

    /// A new queue on `consumer`'s client, for commit outcomes.
    pub(crate) fn new<C: ConsumerContext>(consumer: &BaseConsumer<C>) -> io::Result<Self> {
        // SAFETY: the client pointer is live for the call.
        let queue = unsafe { rd::rd_kafka_queue_new(consumer.client().native_ptr()) };
        Self::made(queue, "librdkafka could not create a queue")
    }

    fn made(queue: *mut rd::rd_kafka_queue_t, failure: &str) -> io::Result<Self> {
        match queue.is_null() {
            true => Err(io::Error::other(failure.to_owned())),
            false => Ok(Queue(queue)),
        }
    }

    /// How many messages and events wait in the queue.
    pub(crate) fn len(&self) -> usize {
        // SAFETY: a live queue handle.
        unsafe { rd::rd_kafka_queue_length(self.0) }
    }

    /// Makes librdkafka write a byte to `pipe` whenever the queue goes from
    /// empty to not empty; `None` stops it (dropping the queue does too).
    /// Stop it before the pipe is closed.
    pub(crate) fn wake_on_arrival(&self, pipe: Option<&WakePipe>) {
        io_event(self.0, pipe);
    }
}

/// Why a commit did not succeed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum CommitFailure {
    /// librdkafka or the broker refused it.
    Refused(RDKafkaErrorCode),
    /// No outcome within the time given: the commit may still complete.
    TimedOut,
}

/// The outcome of one commit made through a [`Queue`].
#[derive(Debug)]
pub(crate) struct CommitOutcome {
    /// The `id` given to [`Queue::commit`].
    pub(crate) id: u64,
    /// The request's error, else the first partition's.
    pub(crate) result: Result<(), RDKafkaErrorCode>,
    /// `(topic, partition, offset)` as librdkafka reports them committed.
    pub(crate) offsets: Vec<(String, i32, i64)>,
}

impl Queue {
    /// Starts a commit of `offsets` (`(topic, partition, next offset)`;
    /// `None`: the stored offsets of the current assignment) whose outcome
    /// is posted here with `id`.
    pub(crate) fn commit<C: ConsumerContext>(
        &self,
        consumer: &BaseConsumer<C>,
        offsets: Option<&[(&str, i32, i64)]>,
        id: u64,
    ) -> Result<(), RDKafkaErrorCode> {
        let rk = consumer.client().native_ptr();
        let topics: Vec<CString> = offsets
            .unwrap_or_default()
            .iter()
            .map(|(t, _, _)| CString::new(*t).unwrap_or_default())
            .collect();
        let list = match offsets {
            None => None,
            Some(offsets) => {
                // SAFETY: a new list, handed to its owner at once.
                let list = unsafe {
                    Owned::new(rd::rd_kafka_topic_partition_list_new(offsets.len() as i32))
                };
                let list = list.ok_or(RDKafkaErrorCode::Fail)?;
                for ((_, partition, next), topic) in offsets.iter().zip(&topics) {
                    // SAFETY: a live list of ours and a NUL-terminated name,
                    // which librdkafka copies; the element it returns
                    // lives in the list.
                    unsafe {
                        let e = rd::rd_kafka_topic_partition_list_add(
                            list.ptr(),
                            topic.as_ptr(),
                            *partition,
                        );
                        (*e).offset = *next;
                    }
                }
                Some(list)
            }
        };
        let list_ptr = list.as_ref().map_or(std::ptr::null_mut(), Owned::ptr);
        // SAFETY: rk is the live client of `consumer`; librdkafka copies
        // the list (released after the call by its owner); the queue keeps
        // a reference of librdkafka's for a reply still due when we drop
        // ours. The opaque is a number, never dereferenced.
        let err =
            unsafe { rd::rd_kafka_commit_queue(rk, list_ptr, self.0, None, id as usize as *mut _) };
        match err {
            rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR => Ok(()),
            other => Err(RDKafkaErrorCode::from(other)),
        }
    }

    /// The next outcome, waiting up to `wait` for one.
    pub(crate) fn take(&self, wait: Duration) -> Option<CommitOutcome> {
        let ms = wait.as_millis().min(i32::MAX as u128) as i32;
        // SAFETY: a live queue; the event is ours (released by its owner
        // when this returns), and nothing read from it outlives it (the
        // strings are copied).
        unsafe {
            let event = Owned::new(rd::rd_kafka_queue_poll(self.0, ms))?;
            let event = event.ptr();
            let mut err = rd::rd_kafka_event_error(event);
            let elems = partitions(rd::rd_kafka_event_topic_partition_list(event));
            let ok = rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR;
            if err == ok {
                if let Some(e) = elems.iter().find(|e| e.err != ok) {
                    err = e.err;
                }
            }
            let offsets = elems
                .iter()
                .map(|e| {
                    let topic = std::ffi::CStr::from_ptr(e.topic)
                        .to_string_lossy()
                        .into_owned();
                    (topic, e.partition, e.offset)
                })
                .collect();
            let id = rd::rd_kafka_event_opaque(event) as usize as u64;
            Some(CommitOutcome {
                id,
                result: if err == ok {
                    Ok(())
                } else {
                    Err(RDKafkaErrorCode::from(err))
                },
                offsets,
            })
        }
    }
}

/// A log line or error that librdkafka posted to a client's main queue.
#[derive(Debug)]
pub(crate) enum ClientEvent {
    Log {
        syslog_level: i32,
        facility: String,
        message: String,
    },
    Error {
        code: RDKafkaErrorCode,
        reason: String,
    },
    /// librdkafka's statistics JSON.
    Statistics(String),
    /// Anything else (nothing this client asked for): dropped.
    Other,
}

impl Queue {
    /// The main queue of `client`, where librdkafka posts its log lines
    /// (rust-rdkafka turns `log.queue` on) and errors for a client that
    /// set no callbacks for them: rust-rdkafka's admin client.
    pub(crate) fn main_of<C: rdkafka::client::ClientContext>(
        client: &rdkafka::client::Client<C>,
    ) -> io::Result<Self> {
        // SAFETY: the client pointer is live for the call; the handle we
        // get holds its own reference on the queue.
        let queue = unsafe { rd::rd_kafka_queue_get_main(client.native_ptr()) };
        Self::made(queue, "the client has no main queue")
    }

    /// Stops forwarding this queue to another (rust-rdkafka forwards a
    /// consumer's main queue to its consumer queue): what arrives stays
    /// here, for whoever serves it.
    pub(crate) fn unforward(&self) {
        // SAFETY: a live queue handle; NULL ends the forwarding.
        unsafe { rd::rd_kafka_queue_forward(self.0, std::ptr::null_mut()) };
    }

    /// Forwards what arrives on this queue to `to` (how rust-rdkafka sets
    /// a consumer's main queue up), from now on.
    pub(crate) fn forward_to(&self, to: &Queue) {
        // SAFETY: two live queue handles of the same client.
        unsafe { rd::rd_kafka_queue_forward(self.0, to.0) };
    }

    /// The next event on the queue, waiting up to `wait` for one.
    pub(crate) fn next_event(&self, wait: Duration) -> Option<ClientEvent> {
        let ms = wait.as_millis().min(i32::MAX as u128) as i32;
        let text = |p: *const std::ffi::c_char| match p.is_null() {
            true => String::new(),
            // SAFETY: a NUL-terminated string of the event, read before
            // the event is destroyed.
            false => unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned(),
        };
        // SAFETY: a live queue; the event is ours (released by its owner
        // when this returns), and nothing read from it outlives it (the
        // strings are copied).
        unsafe {
            let owner = Owned::new(rd::rd_kafka_queue_poll(self.0, ms))?;
            let event = owner.ptr();
            let got = match rd::rd_kafka_event_type(event) {
                rd::RD_KAFKA_EVENT_LOG => {
                    let (mut fac, mut msg, mut level) = (std::ptr::null(), std::ptr::null(), 0);
                    match rd::rd_kafka_event_log(event, &mut fac, &mut msg, &mut level) {
                        0 => ClientEvent::Log {
                            syslog_level: level,
                            facility: text(fac),
                            message: text(msg),
                        },
                        _ => ClientEvent::Other,
                    }
                }
                rd::RD_KAFKA_EVENT_ERROR => ClientEvent::Error {
                    code: RDKafkaErrorCode::from(rd::rd_kafka_event_error(event)),
                    reason: text(rd::rd_kafka_event_error_string(event)),
                },
                rd::RD_KAFKA_EVENT_STATS => {
                    ClientEvent::Statistics(text(rd::rd_kafka_event_stats(event)))
                }
                _ => ClientEvent::Other,
            };
            Some(got)
        }
    }
}

impl Drop for Queue {
    fn drop(&mut self) {
        // A reply still due keeps the queue alive inside librdkafka: it
        // must not write to a pipe that may be closed (or reused) by then.
        io_event(self.0, None);
        // SAFETY: the handle came from rd_kafka_queue_new or
        // rd_kafka_queue_get_consumer and is released once.
        unsafe { rd::rd_kafka_queue_destroy(self.0) };
    }
}

/// Sets or clears (`None`) the byte librdkafka writes to `pipe` when
/// `queue` goes from empty to not empty.
fn io_event(queue: *mut rd::rd_kafka_queue_t, pipe: Option<&WakePipe>) {
    let fd = pipe.map_or(-1, |p| p.write.as_raw_fd());
    // SAFETY: a live queue handle; librdkafka copies the one-byte payload,
    // and callers keep the fd open while it is set.
    unsafe { rd::rd_kafka_queue_io_event_enable(queue, fd, b"1".as_ptr().cast(), 1) };
}

/// Commits `offsets` (as [`Queue::commit`]) and waits up to `timeout`
/// for the outcome. librdkafka's own synchronous commit has no bound: a
/// request queued for a coordinator that went away waits for it to come
/// back, its timeout restarting at every reconnection attempt.
pub(crate) fn commit_within<C: ConsumerContext>(
    consumer: &BaseConsumer<C>,
    offsets: Option<&[(&str, i32, i64)]>,
    timeout: Duration,
) -> Result<(), CommitFailure> {
    let queue = Queue::new(consumer).map_err(|_| CommitFailure::Refused(RDKafkaErrorCode::Fail))?;
    queue
        .commit(consumer, offsets, 0)
        .map_err(CommitFailure::Refused)?;
    match queue.take(timeout) {
        None => Err(CommitFailure::TimedOut),
        Some(outcome) => outcome.result.map_err(CommitFailure::Refused),
    }
}

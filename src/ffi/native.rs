//! The few native calls the safe layer needs that neither std nor
//! rust-rdkafka offers, each behind a safe function: a count of forks
//! (`pthread_atfork`), a self-pipe that a signal handler may write to,
//! librdkafka's queues (I/O event, length), commits whose outcome
//! arrives on a queue of our own (with a bound on the wait, or later,
//! tagged with an id), and messages kept without a copy. Their `unsafe`
//! lives here because this is the crate's one place for it; nothing here
//! is part of the C API.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Once;
use std::time::Duration;

use std::ffi::{CStr, CString};
use std::mem::ManuallyDrop;
use std::sync::{Arc, OnceLock};

use rdkafka::bindings as rd;
use rdkafka::consumer::{BaseConsumer, Consumer as _, ConsumerContext};
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::message::BorrowedMessage;

pub(crate) mod admin;

static FORKS: AtomicU64 = AtomicU64::new(0);

extern "C" fn count_fork_in_child() {
    // Runs in the child before fork() returns there, on its only thread.
    FORKS.fetch_add(1, Ordering::Relaxed);
}

/// How many `fork()`s separate this process from the one that loaded the
/// library: a client remembers the value it was created with, and a
/// different value means it is being used in a forked child, where its
/// threads do not exist. One atomic load (the hot path calls it).
pub(crate) fn fork_generation() -> u64 {
    static REGISTER: Once = Once::new();
    REGISTER.call_once(|| {
        // SAFETY: the handler only touches an atomic, which is
        // async-signal-safe as a child handler must be.
        unsafe { libc::pthread_atfork(None, None, Some(count_fork_in_child)) };
    });
    FORKS.load(Ordering::Relaxed)
}

/// A pipe that one side writes a byte to and the other waits on: the
/// self-pipe pattern. `wake` is async-signal-safe (one `write(2)`).
#[derive(Debug)]
pub(crate) struct WakePipe {
    read: OwnedFd,
    write: OwnedFd,
}

impl WakePipe {
    /// Both ends non-blocking and close-on-exec.
    pub(crate) fn new() -> io::Result<Self> {
        let mut fds = [0 as libc::c_int; 2];
        let flags = libc::O_NONBLOCK | libc::O_CLOEXEC;
        // SAFETY: fds has room for the two descriptors pipe2() writes.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), flags) } != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: pipe2() succeeded, so both are open descriptors we own.
        let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        Ok(WakePipe { read, write })
    }

    /// The read end, for the caller to wait on (never to read or close).
    pub(crate) fn read_fd(&self) -> std::os::fd::RawFd {
        self.read.as_raw_fd()
    }

    /// Makes the read end readable. Async-signal-safe: one `write(2)`, no
    /// lock, no allocation, and `errno` as it was. A full pipe is already
    /// readable, so a failed write loses nothing.
    pub(crate) fn wake(&self) {
        // SAFETY: errno is this thread's; the write sends one byte from a
        // static buffer to our descriptor.
        unsafe {
            let errno = *libc::__errno_location();
            libc::write(self.write.as_raw_fd(), b"w".as_ptr().cast(), 1);
            *libc::__errno_location() = errno;
        }
    }

    /// Waits until the read end is readable or `timeout` passes; `true`
    /// when readable. An interrupted wait (EINTR) returns `false` early:
    /// callers loop to their own deadline.
    pub(crate) fn wait(&self, timeout: Duration) -> bool {
        let mut pfd = libc::pollfd {
            fd: self.read.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = timeout.as_millis().min(i32::MAX as u128) as libc::c_int;
        // SAFETY: one pollfd, valid for the call.
        unsafe { libc::poll(&mut pfd, 1, ms) > 0 }
    }

    /// Empties the pipe, so that the next `wait` blocks until the next
    /// write.
    pub(crate) fn drain(&self) {
        let mut buf = [0u8; 256];
        // SAFETY: reads into a local buffer of the stated size. A read
        // that did not fill it emptied the pipe: no second call to learn so.
        while unsafe { libc::read(self.read.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) }
            == buf.len() as isize
        {}
    }
}

/// A librdkafka queue of a consumer's client: its consumer queue, where
/// its messages and events (log lines, commits, rebalances: rust-rdkafka
/// forwards the main queue there) arrive, or one of our own that commit
/// outcomes are posted to, each tagged with the id its commit was given
/// (librdkafka's global commit callback cannot tell one commit from
/// another). Drop it before the client.
pub(crate) struct Queue(*mut rd::rd_kafka_queue_t);

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
        // SAFETY: rk is the live client of `consumer`. The list is built
        // here, copied by rd_kafka_commit_queue and destroyed after it; the
        // queue keeps a reference of librdkafka's for a reply still due
        // when we drop ours. The opaque is a number, never dereferenced.
        unsafe {
            let list = match offsets {
                None => std::ptr::null_mut(),
                Some(offsets) => {
                    let list = rd::rd_kafka_topic_partition_list_new(offsets.len() as i32);
                    for ((_, partition, next), topic) in offsets.iter().zip(&topics) {
                        let e =
                            rd::rd_kafka_topic_partition_list_add(list, topic.as_ptr(), *partition);
                        (*e).offset = *next;
                    }
                    list
                }
            };
            let err = rd::rd_kafka_commit_queue(rk, list, self.0, None, id as usize as *mut _);
            if !list.is_null() {
                rd::rd_kafka_topic_partition_list_destroy(list);
            }
            match err {
                rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR => Ok(()),
                other => Err(RDKafkaErrorCode::from(other)),
            }
        }
    }

    /// The next outcome, waiting up to `wait` for one.
    pub(crate) fn take(&self, wait: Duration) -> Option<CommitOutcome> {
        let ms = wait.as_millis().min(i32::MAX as u128) as i32;
        // SAFETY: a live queue; the event is read, then destroyed once, and
        // nothing read from it outlives it (the strings are copied).
        unsafe {
            let event = rd::rd_kafka_queue_poll(self.0, ms);
            if event.is_null() {
                return None;
            }
            let mut err = rd::rd_kafka_event_error(event);
            let list = rd::rd_kafka_event_topic_partition_list(event);
            let elems = if list.is_null() || (*list).cnt <= 0 {
                &[][..]
            } else {
                std::slice::from_raw_parts((*list).elems, (*list).cnt as usize)
            };
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
            rd::rd_kafka_event_destroy(event);
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
        // SAFETY: a live queue; the event is read, then destroyed once,
        // and nothing read from it outlives it (the strings are copied).
        unsafe {
            let event = rd::rd_kafka_queue_poll(self.0, ms);
            if event.is_null() {
                return None;
            }
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
            rd::rd_kafka_event_destroy(event);
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

/// A consumed message kept as librdkafka delivered it, without a copy:
/// its key, value and headers stay in librdkafka's fetch buffer, and the
/// client it came from stays alive (though closed) as long as it does.
pub(crate) struct HeldMessage<C: ConsumerContext + 'static> {
    message: ManuallyDrop<BorrowedMessage<'static>>,
    client: ManuallyDrop<Arc<BaseConsumer<C>>>,
    /// librdkafka parses headers on first use, without a lock: once here,
    /// so that threads reading one message do not race (0: none).
    headers: OnceLock<usize>,
    /// [`fork_generation`] when held: in a forked child nothing of
    /// librdkafka's is touched, the message is left as it is.
    generation: u64,
}

impl<C: ConsumerContext + 'static> HeldMessage<C> {
    /// Keeps `message`, polled from `client`.
    pub(crate) fn hold(client: &Arc<BaseConsumer<C>>, message: BorrowedMessage<'_>) -> Self {
        // SAFETY: the lifetime only says that the client outlives the
        // message; the Arc kept beside it does, and `drop` releases the
        // message first. BorrowedMessage is Send and Sync.
        let message = unsafe {
            std::mem::transmute::<BorrowedMessage<'_>, BorrowedMessage<'static>>(message)
        };
        HeldMessage {
            message: ManuallyDrop::new(message),
            client: ManuallyDrop::new(Arc::clone(client)),
            headers: OnceLock::new(),
            generation: fork_generation(),
        }
    }

    pub(crate) fn message(&self) -> &BorrowedMessage<'_> {
        &self.message
    }

    /// How many headers the message has.
    pub(crate) fn header_count(&self) -> usize {
        self.headers().map_or(0, |h| {
            // SAFETY: a live header list owned by the message.
            unsafe { rd::rd_kafka_header_cnt(h) }
        })
    }

    /// Header `index`: its name (NUL-terminated, as librdkafka keeps it)
    /// and its value (`None`: no value).
    pub(crate) fn header(&self, index: usize) -> Option<(&CStr, Option<&[u8]>)> {
        let headers = self.headers()?;
        let (mut name, mut value, mut size) = (std::ptr::null(), std::ptr::null(), 0usize);
        // SAFETY: a live header list; the pointers it fills point into it,
        // which lives as long as the message (and so as `&self`).
        unsafe {
            let err = rd::rd_kafka_header_get_all(headers, index, &mut name, &mut value, &mut size);
            if err != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR || name.is_null() {
                return None;
            }
            let value =
                (!value.is_null()).then(|| std::slice::from_raw_parts(value.cast::<u8>(), size));
            Some((CStr::from_ptr(name), value))
        }
    }

    fn headers(&self) -> Option<*mut rd::rd_kafka_headers_t> {
        let parsed = *self.headers.get_or_init(|| {
            let mut headers = std::ptr::null_mut();
            // SAFETY: a live message; parsed once (OnceLock), and librdkafka
            // keeps the result with the message.
            let err = unsafe { rd::rd_kafka_message_headers(self.message.ptr(), &mut headers) };
            match err {
                rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR => headers as usize,
                _ => 0,
            }
        });
        (parsed != 0).then_some(parsed as *mut rd::rd_kafka_headers_t)
    }
}

impl<C: ConsumerContext + 'static> Drop for HeldMessage<C> {
    fn drop(&mut self) {
        if fork_generation() != self.generation {
            // A forked child: librdkafka's threads and locks are the
            // parent's. Leave everything as it is.
            return;
        }
        // SAFETY: each field is dropped once, the message before the
        // client it borrows from.
        let client = unsafe {
            ManuallyDrop::drop(&mut self.message);
            ManuallyDrop::take(&mut self.client)
        };
        // The last reference releases the client, which may wait for
        // librdkafka (a close that timed out): not on the freeing thread.
        if let Some(client) = Arc::into_inner(client) {
            // Without a thread it is dropped here, which waits: still
            // better than leaking it.
            let _ = release_on_a_thread(client);
        }
    }
}

/// Releases `client` on a thread of its own once every other holder has
/// let go of it, so that the release that waits for librdkafka (a close
/// that timed out: rust-rdkafka's drop polls until the group is left) is
/// this thread's, never the caller's. When no thread can be made, the
/// error is returned and `client` is dropped here.
pub(crate) fn release_last_on_a_thread<T: Send + Sync + 'static>(client: Arc<T>) -> io::Result<()> {
    std::thread::Builder::new()
        .name("kafka-release".into())
        .spawn(move || {
            while Arc::strong_count(&client) > 1 {
                std::thread::sleep(Duration::from_millis(10));
            }
            drop(client)
        })
        .map(drop)
}

/// Drops `client` on a thread of its own, for a release that may wait
/// for librdkafka (a close that timed out). When no thread can be made,
/// it is dropped before this returns the error.
pub(crate) fn release_on_a_thread<T: Send + 'static>(client: T) -> io::Result<()> {
    std::thread::Builder::new()
        .name("kafka_instance consumer release".into())
        .spawn(move || drop(client))
        .map(drop)
}

/// The monotonic clock read at the kernel tick's resolution (a few
/// milliseconds), for intervals of seconds checked once per poll: it
/// reads a value the kernel keeps, where `Instant::now` may cost a few
/// hundred nanoseconds on a virtual machine.
pub(crate) fn coarse_now() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: fills a timespec of ours; this clock id always exists on
    // Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC_COARSE, &mut ts) };
    Duration::new(
        ts.tv_sec.max(0) as u64,
        ts.tv_nsec.clamp(0, 999_999_999) as u32,
    )
}

/// Hands `client` an OAUTHBEARER token (librdkafka checks it: a lifetime in
/// the past, an empty token or a principal with spaces are refused, with
/// its reason).
pub(crate) fn set_oauth_token<C: rdkafka::client::ClientContext>(
    client: &rdkafka::client::Client<C>,
    token: &str,
    lifetime_ms: i64,
    principal: &str,
) -> Result<(), String> {
    let token = CString::new(token).map_err(|_| "the token holds a NUL byte".to_owned())?;
    let principal =
        CString::new(principal).map_err(|_| "the principal holds a NUL byte".to_owned())?;
    let mut errstr = [0 as std::ffi::c_char; 512];
    // SAFETY: the client is live for the call; the strings and the error
    // buffer outlive it and librdkafka copies what it keeps.
    let err = unsafe {
        rd::rd_kafka_oauthbearer_set_token(
            client.native_ptr(),
            token.as_ptr(),
            lifetime_ms,
            principal.as_ptr(),
            std::ptr::null_mut(),
            0,
            errstr.as_mut_ptr(),
            errstr.len(),
        )
    };
    if err == rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
        return Ok(());
    }
    // SAFETY: librdkafka NUL-terminates what it writes into errstr.
    let why = unsafe { CStr::from_ptr(errstr.as_ptr()) }.to_string_lossy();
    Err(match why.is_empty() {
        true => format!("{:?}", RDKafkaErrorCode::from(err)),
        false => why.into_owned(),
    })
}

/// Tells `client` no token could be had: librdkafka reports it as an
/// authentication error of the client and keeps its connections waiting.
pub(crate) fn set_oauth_failure<C: rdkafka::client::ClientContext>(
    client: &rdkafka::client::Client<C>,
    why: &str,
) {
    let why = CString::new(why.replace('\0', " ")).unwrap_or_default();
    // SAFETY: the client is live for the call; librdkafka copies the text.
    unsafe { rd::rd_kafka_oauthbearer_set_token_failure(client.native_ptr(), why.as_ptr()) };
}

/// The cluster's id, waiting up to `wait` for it to be known (rust-rdkafka's
/// `fetch_cluster_id` leaks the copy librdkafka makes of it: one string
/// per call, found by valgrind in tests/memory.rs).
pub(crate) fn cluster_id<C: rdkafka::client::ClientContext>(
    client: &rdkafka::client::Client<C>,
    wait: Duration,
) -> Option<String> {
    let ms = wait.as_millis().min(i32::MAX as u128) as i32;
    // SAFETY: a live client; the returned string is librdkafka's
    // allocation, copied and then released with rd_kafka_mem_free.
    unsafe {
        let id = rd::rd_kafka_clusterid(client.native_ptr(), ms);
        if id.is_null() {
            return None;
        }
        let copy = CStr::from_ptr(id).to_string_lossy().into_owned();
        rd::rd_kafka_mem_free(client.native_ptr(), id.cast());
        Some(copy)
    }
}

/// The topics this client has used that the cluster says do not exist
/// (UNKNOWN_TOPIC_OR_PART in its metadata), asked for up to `wait`; none
/// when it did not answer in time.
pub(crate) fn missing_topics<C: rdkafka::client::ClientContext>(
    client: &rdkafka::client::Client<C>,
    wait: Duration,
) -> Vec<String> {
    let ms = wait.as_millis().clamp(1, i32::MAX as u128) as i32;
    let mut md: *const rd::rd_kafka_metadata_t = std::ptr::null();
    // SAFETY: a live client; with all_topics 0 librdkafka asks for the
    // topics it holds locally. The metadata it returns is read, then
    // released once with rd_kafka_metadata_destroy.
    unsafe {
        let err = rd::rd_kafka_metadata(client.native_ptr(), 0, std::ptr::null_mut(), &mut md, ms);
        if err != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR || md.is_null() {
            return Vec::new();
        }
        let topics = match (*md).topic_cnt {
            n if n > 0 && !(*md).topics.is_null() => {
                std::slice::from_raw_parts((*md).topics, n as usize)
            }
            _ => &[][..],
        };
        let unknown = rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
        let missing = topics
            .iter()
            .filter(|t| t.err == unknown && !t.topic.is_null())
            .map(|t| CStr::from_ptr(t.topic).to_string_lossy().into_owned())
            .collect();
        rd::rd_kafka_metadata_destroy(md);
        missing
    }
}

/// What a message carries to its delivery report (librdkafka's opaque):
/// a tag, held in the pointer itself (an odd value), so that a tracked
/// send allocates nothing, or a shared value.
pub(crate) enum Note<T> {
    Tag(u64),
    Shared(Arc<T>),
}

impl<T> Note<T> {
    /// `tag` held inline when it fits in a pointer beside the marker bit,
    /// else `shared()`.
    pub(crate) fn tag(tag: u64, shared: impl FnOnce() -> Arc<T>) -> Self {
        match usize::try_from(tag) {
            Ok(t) if t <= usize::MAX >> 1 => Note::Tag(tag),
            _ => Note::Shared(shared()),
        }
    }
}

impl<T> Clone for Note<T> {
    fn clone(&self) -> Self {
        match self {
            Note::Tag(t) => Note::Tag(*t),
            Note::Shared(a) => Note::Shared(Arc::clone(a)),
        }
    }
}

impl<T: Send + Sync> rdkafka::util::IntoOpaque for Note<T> {
    fn into_ptr(self) -> *mut std::ffi::c_void {
        match self {
            // `Note::tag` made sure the shift loses nothing.
            Note::Tag(t) => ((t as usize) << 1 | 1) as *mut std::ffi::c_void,
            // An Arc's data is aligned to at least a usize: an even address.
            Note::Shared(a) => Arc::into_raw(a).cast_mut().cast(),
        }
    }

    unsafe fn from_ptr(p: *mut std::ffi::c_void) -> Self {
        let v = p as usize;
        if v & 1 == 1 {
            Note::Tag((v >> 1) as u64)
        } else {
            // SAFETY: an even value came from `into_ptr` of a Shared, once
            // (librdkafka hands each message's opaque back once).
            Note::Shared(unsafe { Arc::from_raw(p.cast_const().cast()) })
        }
    }
}

/// A topic's handle in a producer, for a run of sends to it without a
/// lookup of its name (and a copy of the name) per message.
pub(crate) struct TopicHandle(std::ptr::NonNull<rd::rd_kafka_topic_t>);

impl TopicHandle {
    /// `None` when librdkafka refuses the name (the caller then sends
    /// through the path that reports why).
    pub(crate) fn new<C: rdkafka::client::ClientContext>(
        client: &rdkafka::client::Client<C>,
        name: &str,
    ) -> Option<Self> {
        let name = CString::new(name).ok()?;
        // SAFETY: a live client and a NUL-terminated name, which librdkafka
        // copies; a null configuration means the client's defaults.
        let rkt = unsafe {
            rd::rd_kafka_topic_new(client.native_ptr(), name.as_ptr(), std::ptr::null_mut())
        };
        std::ptr::NonNull::new(rkt).map(TopicHandle)
    }

    /// Queues a copy of `key` and `value` for `partition` (-1: the
    /// partitioner chooses), carrying `note` to its delivery report. On
    /// failure the note is dropped here and librdkafka's error returned.
    pub(crate) fn produce<T: Send + Sync>(
        &self,
        partition: i32,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        note: Note<T>,
    ) -> Result<(), RDKafkaErrorCode> {
        use rdkafka::util::IntoOpaque;
        let (kp, kl) = key.map_or((std::ptr::null(), 0), |k| (k.as_ptr(), k.len()));
        let (vp, vl) = value.map_or((std::ptr::null(), 0), |v| (v.as_ptr(), v.len()));
        let opaque = note.into_ptr();
        // SAFETY: the handle keeps the topic (and its client) alive; with
        // F_COPY librdkafka copies key and value before returning, and
        // does not write through the value pointer.
        let rc = unsafe {
            rd::rd_kafka_produce(
                self.0.as_ptr(),
                partition,
                rd::RD_KAFKA_MSG_F_COPY,
                vp.cast_mut().cast(),
                vl,
                kp.cast(),
                kl,
                opaque,
            )
        };
        if rc == 0 {
            return Ok(());
        }
        // SAFETY: not queued, so librdkafka keeps no copy of the opaque;
        // it is reclaimed once, here.
        drop(unsafe { Note::<T>::from_ptr(opaque) });
        // SAFETY: reads the calling thread's last librdkafka error.
        Err(RDKafkaErrorCode::from(unsafe { rd::rd_kafka_last_error() }))
    }
}

impl Drop for TopicHandle {
    fn drop(&mut self) {
        // SAFETY: the handle came from rd_kafka_topic_new and is released
        // once; the client outlives it (it is dropped within the call that
        // made it).
        unsafe { rd::rd_kafka_topic_destroy(self.0.as_ptr()) };
    }
}

//! `KafkaConsumer`: subscribe, poll, batches, commits, close, handlers and
//! the scoped consumer.

use std::ffi::{c_char, c_int, c_void};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::Arc;

use crate::consumer::{CommitDone, Consumer, Message, PartitionOffset, RebalanceEvent, Start};
use crate::error::{Error, Result};
use crate::ffi::config::KafkaConfig;
use crate::ffi::error::{KafkaError, KafkaErrorCode};
use crate::ffi::instance::KafkaInstance;
use crate::ffi::message::KafkaMessage;
use crate::ffi::partition_list::{
    list_arg, opt_offsets_arg, KafkaPartitionList, KAFKA_OFFSET_BEGINNING, KAFKA_OFFSET_END,
};
use crate::ffi::{
    arg_str, arg_strs, arg_timeout, call, free_handle, handle, here, into_handle, opt_handle,
    out_slot, run_scope, Handle,
};

mod commits;
mod control;
mod handlers;

// Every C function and type of the handle, wherever its concern put it.
pub use commits::*;
pub use control::*;
pub use handlers::*;

/// A subscribed consumer. One thread polls it at a time;
/// `kafka_consumer_store_message`, `kafka_consumer_wakeup` and
/// `kafka_consumer_register_handler` may be called from any thread, and
/// handlers may call any function on it (see `KafkaHandler`). Close it
/// with `kafka_consumer_close`.
pub struct KafkaConsumer {
    inner: Consumer,
    /// Made by `kafka_instance_with_consumer`, which closes it.
    scoped: bool,
    /// Calls on this handle that have not returned: a handler or a log
    /// callback calling back in sees its own call here, so closing from
    /// there is refused instead of freeing the running consumer.
    calls: AtomicU32,
    /// `kafka_consumer_close` has begun: calls from the callbacks it runs
    /// (log records) are refused, and the handle is freed once it is done.
    closing: AtomicBool,
}

impl Handle for KafkaConsumer {}

impl KafkaConsumer {
    fn new(inner: Consumer, scoped: bool) -> *mut KafkaConsumer {
        into_handle(KafkaConsumer {
            inner,
            scoped,
            calls: AtomicU32::new(0),
            closing: AtomicBool::new(false),
        })
    }

    /// Whether `kafka_consumer_close` may close this consumer now (then it
    /// is marked closing): not in a forked child, not the scoped
    /// consumer, not inside one of its own calls or callbacks, not twice.
    fn begin_close(&self) -> Result<()> {
        self.inner.check_process()?;
        self.inner
            .check_not_serving_events("kafka_consumer_close")?;
        if self.scoped {
            return Err(Error::state(
                "this consumer belongs to kafka_instance_with_consumer, which closes it when \
                 the scope function returns",
            ));
        }
        if self.calls.load(Ordering::Acquire) > 0 {
            return Err(Error::state(
                "kafka_consumer_close was called inside a handler or callback of this \
                 consumer (or while another call on it runs): close it once that call returned",
            ));
        }
        if self.closing.swap(true, Ordering::AcqRel) {
            return Err(Error::state(
                "kafka_consumer_close was called inside a callback run by its own close",
            ));
        }
        Ok(())
    }

    /// Closes the consumer in place, then frees the handle: nothing the
    /// close runs (log callbacks) can see a freed or moved consumer.
    ///
    /// # Safety
    /// `handle` came from [`KafkaConsumer::new`], is not used after, and
    /// no other thread is in a call on it.
    unsafe fn close_and_free(handle: *mut KafkaConsumer) -> Result<()> {
        // SAFETY: the caller's contract.
        let consumer = &unsafe { &*handle }.inner;
        // In a forked child, release nothing: it is the parent's.
        consumer.check_release()?;
        let closed = consumer.close();
        // SAFETY: as above; close has returned, so nothing refers to it.
        unsafe { free_handle(handle) };
        closed
    }
}

/// Counts a call on a consumer handle for as long as it lives.
struct InCall<'a>(&'a AtomicU32);

impl Drop for InCall<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The consumer behind `c`, with the call counted until `f` returns.
///
/// # Safety
/// `c` is NULL or a live consumer handle.
pub(crate) unsafe fn with<R>(
    c: *const KafkaConsumer,
    f: impl FnOnce(&Consumer) -> Result<R>,
) -> Result<R> {
    // SAFETY: the caller's contract.
    let c = unsafe { handle(c, "c") }?;
    if c.closing.load(Ordering::Acquire) {
        return Err(Error::state(
            "the consumer is closing (a callback run by kafka_consumer_close called back in)",
        ));
    }
    c.calls.fetch_add(1, Ordering::AcqRel);
    let _in_call = InCall(&c.calls);
    f(&c.inner)
}

/// [`with`], for calls that answer only success or failure.
///
/// # Safety
/// As [`with`].
unsafe fn act(
    c: *const KafkaConsumer,
    f: impl FnOnce(&Consumer) -> Result<()>,
) -> Result<KafkaErrorCode> {
    // SAFETY: the caller's contract.
    unsafe { with(c, f) }.map(|()| KafkaErrorCode::KAFKA_OK)
}

const SUBJECT: &str = "Kafka Consumer";

/// Creates a consumer subscribed to `topic_count` topics.
///
/// Its settings are the instance's (producer-only ones left out), then
/// `overrides`. `auto_offset_reset` defaults to latest and
/// `enable_auto_commit` to true. `zero_copy_messages=true` makes its
/// messages keep librdkafka's fetch buffer instead of a copy: faster, and a
/// kept message keeps that buffer (and, once the consumer is closed, its
/// client) in memory until freed.
///
/// Offsets (at-least-once): a message's offset is stored, and so becomes
/// committable, only once the application is done with it:
/// - with `kafka_consumer_consume`, when every handler for it returned;
/// - with `kafka_consumer_poll` / `_poll_batch`, when the application comes
///   back for more (the next poll, batch or consume), commits, or closes;
///   with `enable.auto.offset.store` set to false, only
///   `kafka_consumer_store_message` stores;
/// - with `kafka_consumer_store_message`, when called.
///
/// A message that was fetched but never handed to the application (still
/// in the local queue at close, or of a partition revoked meanwhile) is
/// never stored or committed. With `enable_auto_commit` (the default), what
/// is stored is committed by `poll`, `_poll_batch` and `_consume` every
/// `auto_commit_interval_ms` (5000), synchronously before a rebalance takes
/// partitions away, and synchronously by `kafka_consumer_close`.
///
/// @param inst        The instance.
/// @param topics      `topic_count` topic names, NUL-terminated.
/// @param topic_count How many names `topics` holds (1 or more).
/// @param overrides   NULL, or any settings `kafka_config_set` accepts, e.g.
///                    `max_poll_records`, `session_timeout_ms`,
///                    `fetch_min_bytes`, applied over the instance's.
/// @param err         NULL, or where a failure is described (`KAFKA_OK` on
///                    success).
/// @return The consumer (close it with `kafka_consumer_close`), or NULL on
///         failure: `KAFKA_ERR_CONFIG` (no group id, which is required;
///         producer-only settings in `overrides`),
///         `KAFKA_ERR_INVALID_ARGUMENT` (`inst` NULL, an empty topic list or
///         an invalid topic name).
#[no_mangle]
pub unsafe extern "C" fn kafka_instance_get_consumer(
    inst: *const KafkaInstance,
    topics: *const *const c_char,
    topic_count: usize,
    overrides: *const KafkaConfig,
    err: *mut KafkaError,
) -> *mut KafkaConsumer {
    call(here!(SUBJECT), err, || {
        // SAFETY: `inst` is NULL or a live instance from `kafka_instance_new`, shareable between
        // threads (the header's contract); `handle` refuses NULL.
        let inst = unsafe { handle(inst, "inst") }?;
        // SAFETY: `topics` is NULL or `topic_count` pointers, each NULL or a C string, read while
        // the consumer is made (the header's contract); `arg_strs` refuses NULL entries.
        let topics = unsafe { arg_strs(topics, topic_count, "topics", "topic_count") }?;
        // SAFETY: `overrides` is NULL (no overrides) or a live config no thread changes during the
        // call (the header's contract); read only while the consumer is made.
        let overrides = unsafe { opt_handle(overrides) }.map(|o| &o.inner);
        let inner = Consumer::new(&inst.inner, &topics, overrides)?;
        Ok(KafkaConsumer::new(inner, false))
    })
}

/// Waits up to `timeout_ms` for one message.
///
/// Partition ends and transient broker errors are logged, not returned.
/// Calling it marks the messages of the previous poll or batch as done
/// (see `kafka_instance_get_consumer`). After a refused login librdkafka
/// keeps reconnecting, so a later poll may succeed once the broker's side
/// is fixed.
///
/// @param c          The consumer.
/// @param timeout_ms How long to wait (-1: forever).
/// @param out        Receives the message (free it with `kafka_message_free`),
///                   or NULL with `KAFKA_OK` when none arrived.
/// @param err        NULL, or where a failure is described (`KAFKA_OK` on
///                   success).
/// @return `KAFKA_OK` (with a message or none), or the failure's code:
///         `KAFKA_ERR_BROKER` (a fatal error, with `fatal` set; with
///         `auto_offset_reset` none, a partition without a committed offset,
///         `rdkafka_code` -140 (`_AUTO_OFFSET_RESET`); a refused SASL
///         authentication or TLS handshake, returned as soon as librdkafka
///         reports it, `retriable` false, `rdkafka_code` -169
///         (`_AUTHENTICATION`) or -181 (`_SSL`)), `KAFKA_ERR_WAKEUP`
///         (`kafka_consumer_wakeup` was called before or during the wait),
///         `KAFKA_ERR_STATE` (inside a handler of this consumer),
///         `KAFKA_ERR_INVALID_ARGUMENT` (`c` or `out` NULL, a bad timeout).
#[no_mangle]
pub unsafe extern "C" fn kafka_consumer_poll(
    c: *mut KafkaConsumer,
    timeout_ms: i32,
    out: *mut *mut KafkaMessage,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: `out` is NULL or writable for one message pointer (the header's contract);
        // `out_slot` refuses NULL and sets `*out` to NULL.
        let out = unsafe { out_slot(out, "out") }?;
        // SAFETY: `c` is NULL or a live consumer from `kafka_instance_get_consumer` (the header's
        // contract); `with` refuses NULL and a closing consumer.
        if let Some(m) = unsafe { with(c, |c| c.poll(arg_timeout(timeout_ms)?)) }? {
            *out = into_handle(KafkaMessage(m));
        }
        Ok(KafkaErrorCode::KAFKA_OK)
    })
}

/// Fills `out[0..*count]` with up to `capacity` messages (and at most
/// `max_poll_records` when set).
///
/// It waits up to `timeout_ms` for the first, then takes only those already
/// fetched, returning at once. An error met once some messages are in `out`
/// ends the batch early: those messages are returned (`KAFKA_OK`) and the
/// error comes from the next poll, so no fetched message is dropped.
/// Offsets, wake-ups and handlers as for `kafka_consumer_poll`.
///
/// @param c          The consumer.
/// @param out        Room for `capacity` messages; each one written must be
///                   freed with `kafka_message_free`.
/// @param capacity   How many messages `out` has room for.
/// @param timeout_ms How long to wait for the first message (-1: forever).
/// @param count      NULL, or receives how many messages were written.
/// @param err        NULL, or where a failure is described (`KAFKA_OK` on
///                   success).
/// @return `KAFKA_OK`, or the failure's code, as for `kafka_consumer_poll`;
///         `KAFKA_ERR_INVALID_ARGUMENT` also for `out` NULL with `capacity`
///         not 0.
#[no_mangle]
pub unsafe extern "C" fn kafka_consumer_poll_batch(
    c: *mut KafkaConsumer,
    out: *mut *mut KafkaMessage,
    capacity: usize,
    timeout_ms: i32,
    count: *mut usize,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: `count` is NULL or writable for one `size_t` (the header's contract); written
        // only after the poll, whatever its result.
        let count = unsafe { count.as_mut() };
        let mut written = 0;
        let fill = |c: &Consumer| {
            if out.is_null() && capacity > 0 {
                return Err(Error::invalid_argument("out is NULL but capacity is not 0"));
            }
            c.poll_each(capacity, arg_timeout(timeout_ms)?, |m| {
                // SAFETY: out holds capacity slots; poll_each hands over
                // at most that many.
                unsafe { *out.add(written) = into_handle(KafkaMessage(m)) };
                written += 1;
            })?;
            Ok(KafkaErrorCode::KAFKA_OK)
        };
        // SAFETY: `c` is NULL or a live consumer polled by this thread alone (the header's
        // contract); `with` refuses NULL and a closing consumer.
        let result = unsafe { with(c, fill) };
        if let Some(n) = count {
            *n = written;
        }
        result
    })
}

/// Commits, for every partition, the offset after the last message the
/// application is done with, and waits for the broker.
///
/// What the last poll or batch handed out counts as done, and so do
/// messages whose handlers returned and messages given to
/// `kafka_consumer_store_message` (see `kafka_instance_get_consumer`). The
/// wait is at most `default_api_timeout_ms` (10000 unless set). Nothing to
/// commit is not an error.
///
/// @param c   The consumer.
/// @param err NULL, or where a failure is described (`KAFKA_OK` on success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_TIMEOUT` (the wait
///         ran out; the commit may still complete later), `KAFKA_ERR_BROKER`,
///         `KAFKA_ERR_INVALID_ARGUMENT` (`c` NULL).
#[no_mangle]
pub unsafe extern "C" fn kafka_consumer_commit(
    c: *mut KafkaConsumer,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: `c` is NULL or a live consumer from `kafka_instance_get_consumer` (the header's
        // contract); `act` refuses NULL and a closing consumer.
        unsafe { act(c, Consumer::commit) }
    })
}

/// Commits `m`'s offset + 1 for its partition (the next message to read),
/// and nothing else, and waits for the broker.
///
/// The wait is at most `default_api_timeout_ms`, as for
/// `kafka_consumer_commit`. It does not change what later commits commit.
///
/// @param c   The consumer.
/// @param m   The message whose offset is committed.
/// @param err NULL, or where a failure is described (`KAFKA_OK` on success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_TIMEOUT`,
///         `KAFKA_ERR_BROKER`, `KAFKA_ERR_INVALID_ARGUMENT` (`c` or `m`
///         NULL).
#[no_mangle]
pub unsafe extern "C" fn kafka_consumer_commit_message(
    c: *mut KafkaConsumer,
    m: *const KafkaMessage,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: `m` is NULL or a live message not yet given to `kafka_message_free` (the
        // header's contract); `handle` refuses NULL, and `m` outlives the call.
        let m = &unsafe { handle(m, "m") }?.0;
        // SAFETY: `c` is NULL or a live consumer (the header's contract); `act` refuses NULL and a
        // closing consumer, and borrows `c` for the commit of `m`, which lives past it only.
        unsafe { act(c, |c| c.commit_message(m)) }
    })
}

/// Marks `m`, and every earlier message of its partition, as done.
///
/// Its offset + 1 is stored now and committed by the next commit (automatic,
/// `kafka_consumer_commit`, a rebalance or the close). For applications
/// that finish messages on other threads: it may be called from any
/// thread, while another polls. Set `enable.auto.offset.store` to false
/// so that only these calls count.
///
/// @param c   The consumer.
/// @param m   The message the application is done with.
/// @param err NULL, or where a failure is described (`KAFKA_OK` on success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_STATE` (a message
///         of a partition no longer assigned to this consumer: its new owner
///         consumes it again), `KAFKA_ERR_INVALID_ARGUMENT` (`c` or `m`
///         NULL).
#[no_mangle]
pub unsafe extern "C" fn kafka_consumer_store_message(
    c: *mut KafkaConsumer,
    m: *const KafkaMessage,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: `m` is NULL or a live message not yet given to `kafka_message_free` (the
        // header's contract); `handle` refuses NULL, and `m` outlives the call.
        let m = &unsafe { handle(m, "m") }?.0;
        // SAFETY: `c` is NULL or a live consumer, which this function may use from any thread (the
        // header's contract); `act` refuses NULL and a closing consumer.
        unsafe { act(c, |c| c.store(m)) }
    })
}

/// Gives a file descriptor that is readable while a poll of `c` would
/// return at once.
///
/// That is: a message, an event its callbacks handle (a rebalance, a commit
/// outcome), a refused login, or a wake-up (`kafka_consumer_wakeup`, the
/// way to end a loop's wait from another thread or a signal handler). For
/// event loops: wait for it with select/poll/epoll, libuv's `uv_poll_t`
/// or asyncio's `add_reader`, then call `kafka_consumer_poll` (or
/// `_poll_batch`, `_consume`) with timeout 0 until it returns nothing;
/// every poll leaves the descriptor readable exactly when the next one
/// has something, so the loop never misses an arrival and never spins.
///
/// The descriptor belongs to the consumer: never read, write or close
/// it. It is closed by `kafka_consumer_close`: take it out of the event
/// loop first. Asking again returns the same one.
///
/// Once asked for, librdkafka writes to it whenever a message arrives
/// while none is waiting (one write per quiet period, not per message).
///
/// A loop must still poll when nothing arrives, at least every
/// `auto_commit_interval_ms` (auto-commit runs inside polls) and well
/// within `max_poll_interval_ms` (a consumer that does not poll for that
/// long leaves its group): add a timer, as `examples-c/event_loop.c`
/// does. Ask for the descriptor from the thread that polls, not while a
/// poll runs.
///
/// @param c   The consumer.
/// @param err NULL, or where a failure is described (`KAFKA_OK` on success).
/// @return The descriptor, or -1 with `err` set when `c` is NULL, closing,
///         or inherited across fork(), and while a poll runs
///         (`KAFKA_ERR_STATE`).
#[no_mangle]
pub unsafe extern "C" fn kafka_consumer_event_fd(
    c: *mut KafkaConsumer,
    err: *mut KafkaError,
) -> c_int {
    call(here!(SUBJECT), err, || {
        // SAFETY: `c` is NULL or a live consumer from `kafka_instance_get_consumer` (the header's
        // contract); `with` refuses NULL and a closing consumer.
        unsafe { with(c, |c| c.event_fd()) }
    })
}

/// Makes the consumer's blocked `kafka_consumer_poll`, `_poll_batch` or
/// `_consume` return `KAFKA_ERR_WAKEUP` at once, or, when none is
/// running, the next one.
///
/// Safe from any thread and from a signal handler: it only sets a flag and
/// writes one byte to a pipe (no lock, no allocation), and, unlike every
/// other function, it never logs. A shutdown looks like this: a `SIGTERM`
/// handler (or another thread) calls `kafka_consumer_wakeup(c, NULL)`; the
/// polling thread sees `KAFKA_ERR_WAKEUP`, leaves its loop and calls
/// `kafka_consumer_close`.
///
/// @param c   The consumer. It must still be open: close it only once
///            nothing can call this any more.
/// @param err NULL, or where a failure is described (`KAFKA_OK` on success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_INVALID_ARGUMENT`
///         (`c` NULL), `KAFKA_ERR_STATE` (`c` was created in another process,
///         before a fork()).
#[no_mangle]
pub unsafe extern "C" fn kafka_consumer_wakeup(
    c: *mut KafkaConsumer,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    // Not through `call`: it logs failures, which takes locks and
    // allocates, and nothing below can panic.
    // SAFETY: `c` is NULL or a consumer still open, as the header requires of a wake-up from
    // any thread or a signal handler; NULL is answered below.
    let (code, why) = match unsafe { c.as_ref() } {
        None => (KafkaErrorCode::KAFKA_ERR_INVALID_ARGUMENT, "c is NULL"),
        Some(c) if !c.inner.is_in_its_process() => (
            KafkaErrorCode::KAFKA_ERR_STATE,
            "this consumer was created in another process and cannot be used after fork()",
        ),
        Some(c) => {
            c.inner.wakeup();
            (KafkaErrorCode::KAFKA_OK, "")
        }
    };
    // SAFETY: `err` is NULL or points to a `KafkaError` the caller owns for the call (the
    // header's convention); only fixed fields and text are written.
    if let Some(out) = unsafe { err.as_mut() } {
        out.set_static(code, why);
    }
    code
}

/// Commits what the application is done with, leaves the group and
/// releases the consumer.
///
/// The commit is made with `enable_auto_commit` (the default); messages the
/// last poll or batch handed out count as done. Leaving the group makes its
/// partitions go to the remaining members at once. Messages already polled
/// stay valid.
///
/// Nothing fetched but not handed to the application is committed. When
/// the final commit fails the consumer is still released and the failure
/// is returned (and logged): the messages processed since the last
/// successful commit will be consumed again.
///
/// Close returns within `default_api_timeout_ms` (10000 unless set), the
/// commit and the leaving of the group together, even with the broker
/// unreachable. When librdkafka could not finish in that time, the result
/// is `KAFKA_ERR_TIMEOUT` (or the failed commit) and librdkafka's client is
/// released on a thread of its own once it lets go; it runs none of your
/// callbacks from then on. The bound holds whatever the callbacks do: a
/// statistics or token callback still running when the time is up
/// finishes on its own thread, and none starts after close returns.
///
/// @param c   The consumer to close; NULL is a no-op. `c` is invalid after,
///            even on failure, unless the close was refused
///            (`KAFKA_ERR_STATE`, below).
/// @param err NULL, or where a failure is described (`KAFKA_OK` on success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_TIMEOUT`, or the
///         failed final commit's code (the consumer is released either way);
///         `KAFKA_ERR_STATE` when refused, leaving `c` open: inside a handler
///         or any callback of this consumer (close it after the call that ran
///         the callback returns), on the consumer of
///         `kafka_instance_with_consumer` (the scope closes it), and in a
///         process forked from the one that created it (there it releases
///         nothing: what it holds is the parent's).
#[no_mangle]
pub unsafe extern "C" fn kafka_consumer_close(
    c: *mut KafkaConsumer,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        if c.is_null() {
            return Ok(KafkaErrorCode::KAFKA_OK);
        }
        // SAFETY: `c` is not NULL (checked above) and, by the header's contract, a consumer from
        // `kafka_instance_get_consumer` not closed before.
        unsafe { handle(c, "c") }?.begin_close()?;
        // SAFETY: as above; no call on it is running (checked), and the
        // caller gives up the handle.
        unsafe { KafkaConsumer::close_and_free(c) }?;
        Ok(KafkaErrorCode::KAFKA_OK)
    })
}

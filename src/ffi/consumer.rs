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

pub use commits::KafkaCommitCallback;
pub use control::{KafkaRebalanceCallback, KafkaRebalanceEvent};

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

/// A topic handler: called with each consumed message of its topic, in
/// registration order, on the thread that called `kafka_consumer_consume`.
/// Return 0 for success; non-zero is logged (with topic, partition and
/// offset) and processing goes on: the message counts as done either way.
/// `m` is valid only during the call.
///
/// A handler may call any function on its consumer: commit
/// (`kafka_consumer_commit` commits every message done so far, this batch's
/// included), `kafka_consumer_commit_message`,
/// `kafka_consumer_store_message`, `kafka_consumer_register_handler` (the
/// new handler runs from the next message on) and `kafka_consumer_wakeup`.
/// Two calls are refused with `KAFKA_ERR_STATE` and do nothing: closing the
/// consumer (close it after `kafka_consumer_consume` returns) and polling it
/// (`kafka_consumer_poll`, `_poll_batch`, `_consume`), which would commit
/// past messages of the batch that are not handled yet.
pub type KafkaHandler =
    Option<unsafe extern "C" fn(m: *const KafkaMessage, opaque: *mut c_void) -> c_int>;

/// The body of `kafka_instance_with_consumer`. Return 0 for success.
/// Closing `c` here is refused (`KAFKA_ERR_STATE`): the scope closes it.
pub type KafkaConsumerScope =
    Option<unsafe extern "C" fn(c: *mut KafkaConsumer, opaque: *mut c_void) -> c_int>;

const SUBJECT: &str = "Kafka Consumer";

/// Creates a consumer subscribed to `topic_count` topics: the instance's
/// settings (producer-only ones left out), then `overrides` (NULL or any
/// settings `kafka_config_set` accepts, e.g. `max_poll_records`,
/// `session_timeout_ms`, `fetch_min_bytes`). A group id is required
/// (`KAFKA_ERR_CONFIG`); `auto_offset_reset` defaults to latest and
/// `enable_auto_commit` to true. Producer-only settings in `overrides`,
/// an empty topic list or an invalid topic name fail. NULL on failure.
/// `zero_copy_messages=true` makes its messages keep librdkafka's fetch
/// buffer instead of a copy: faster, and a kept message keeps that buffer
/// (and, once the consumer is closed, its client) in memory until freed.
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
#[no_mangle]
pub unsafe extern "C" fn kafka_instance_get_consumer(
    inst: *const KafkaInstance,
    topics: *const *const c_char,
    topic_count: usize,
    overrides: *const KafkaConfig,
    err: *mut KafkaError,
) -> *mut KafkaConsumer {
    call(here!(SUBJECT), err, || {
        // SAFETY: module contract.
        let inst = unsafe { handle(inst, "inst") }?;
        // SAFETY: module contract.
        let topics = unsafe { arg_strs(topics, topic_count, "topics", "topic_count") }?;
        // SAFETY: module contract (NULL means no overrides).
        let overrides = unsafe { opt_handle(overrides) }.map(|o| &o.inner);
        let inner = Consumer::new(&inst.inner, &topics, overrides)?;
        Ok(KafkaConsumer::new(inner, false))
    })
}

/// Waits up to `timeout_ms` for one message. `*out` receives it (free it
/// with `kafka_message_free`), or NULL with `KAFKA_OK` when none arrived.
/// Partition ends and transient broker errors are logged, not returned.
/// A fatal error is `KAFKA_ERR_BROKER` with `fatal` set; with
/// `auto_offset_reset` none, a partition without a committed offset is
/// `KAFKA_ERR_BROKER` with `rdkafka_code` -140 (`_AUTO_OFFSET_RESET`).
/// A refused SASL authentication or TLS handshake is returned as soon as
/// librdkafka reports it: `KAFKA_ERR_BROKER`, `retriable` false,
/// `rdkafka_code` -169 (`_AUTHENTICATION`) or -181 (`_SSL`); librdkafka
/// keeps reconnecting, so a later poll may succeed once the broker's
/// side is fixed.
///
/// Calling it marks the messages of the previous poll or batch as done
/// (see `kafka_instance_get_consumer`). `KAFKA_ERR_WAKEUP` when
/// `kafka_consumer_wakeup` was called before or during the wait;
/// `KAFKA_ERR_STATE` inside a handler of this consumer.
#[no_mangle]
pub unsafe extern "C" fn kafka_consumer_poll(
    c: *mut KafkaConsumer,
    timeout_ms: i32,
    out: *mut *mut KafkaMessage,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: module contract.
        let out = unsafe { out_slot(out, "out") }?;
        // SAFETY: module contract.
        if let Some(m) = unsafe { with(c, |c| c.poll(arg_timeout(timeout_ms)?)) }? {
            *out = into_handle(KafkaMessage(m));
        }
        Ok(KafkaErrorCode::KAFKA_OK)
    })
}

/// Fills `out[0..*count]` with up to `capacity` messages (and at most
/// `max_poll_records` when set): waits up to `timeout_ms` for the first,
/// then takes only those already fetched, returning at once. `*count`
/// (may be NULL) receives how many; each must be freed with
/// `kafka_message_free`. An error met once some messages are in `out`
/// ends the batch early: those messages are returned (`KAFKA_OK`) and the
/// error comes from the next poll, so no fetched message is dropped.
/// Offsets, wake-ups and handlers as for `kafka_consumer_poll`.
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
        // SAFETY: count is NULL or writable (module contract).
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
        // SAFETY: module contract.
        let result = unsafe { with(c, fill) };
        if let Some(n) = count {
            *n = written;
        }
        result
    })
}

/// Commits, for every partition, the offset after the last message the
/// application is done with (see `kafka_instance_get_consumer`: what the
/// last poll or batch handed out counts as done, and so do messages whose
/// handlers returned and messages given to
/// `kafka_consumer_store_message`), and waits for the broker, at most
/// `default_api_timeout_ms` (10000 unless set): then `KAFKA_ERR_TIMEOUT`,
/// and the commit may still complete later. Nothing to commit is not an
/// error.
#[no_mangle]
pub unsafe extern "C" fn kafka_consumer_commit(
    c: *mut KafkaConsumer,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: module contract.
        unsafe { act(c, Consumer::commit) }
    })
}

/// Commits `m`'s offset + 1 for its partition (the next message to read),
/// and nothing else, and waits for the broker (at most
/// `default_api_timeout_ms`, as `kafka_consumer_commit`). It does not
/// change what later commits commit.
#[no_mangle]
pub unsafe extern "C" fn kafka_consumer_commit_message(
    c: *mut KafkaConsumer,
    m: *const KafkaMessage,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: module contract.
        let m = &unsafe { handle(m, "m") }?.0;
        // SAFETY: module contract.
        unsafe { act(c, |c| c.commit_message(m)) }
    })
}

/// Marks `m`, and every earlier message of its partition, as done: its
/// offset + 1 is stored now and committed by the next commit (automatic,
/// `kafka_consumer_commit`, a rebalance or the close). For applications
/// that finish messages on other threads: it may be called from any
/// thread, while another polls. Set `enable.auto.offset.store` to false
/// so that only these calls count. A message of a partition no longer
/// assigned to this consumer is `KAFKA_ERR_STATE` (its new owner consumes
/// it again).
#[no_mangle]
pub unsafe extern "C" fn kafka_consumer_store_message(
    c: *mut KafkaConsumer,
    m: *const KafkaMessage,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: module contract.
        let m = &unsafe { handle(m, "m") }?.0;
        // SAFETY: module contract.
        unsafe { act(c, |c| c.store(m)) }
    })
}

/// A file descriptor that is readable while a poll of `c` would return at
/// once: a message, an event its callbacks handle (a rebalance, a commit
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
/// loop first. Asking again returns the same one. -1 with `err` set when
/// `c` is NULL, closing, or inherited across fork().
///
/// Once asked for, librdkafka writes to it whenever a message arrives
/// while none is waiting (one write per quiet period, not per message).
///
/// A loop must still poll when nothing arrives, at least every
/// `auto_commit_interval_ms` (auto-commit runs inside polls) and well
/// within `max_poll_interval_ms` (a consumer that does not poll for that
/// long leaves its group): add a timer, as `examples-c/event_loop.c`
/// does. Ask for the descriptor from the thread that polls, not while a
/// poll runs (`KAFKA_ERR_STATE`).
#[no_mangle]
pub unsafe extern "C" fn kafka_consumer_event_fd(
    c: *mut KafkaConsumer,
    err: *mut KafkaError,
) -> c_int {
    call(here!(SUBJECT), err, || {
        // SAFETY: module contract.
        unsafe { with(c, |c| c.event_fd()) }
    })
}

/// Makes the consumer's blocked `kafka_consumer_poll`, `_poll_batch` or
/// `_consume` return `KAFKA_ERR_WAKEUP` at once, or, when none is
/// running, the next one. Safe from any thread and from a signal handler:
/// it only sets a flag and writes one byte to a pipe (no lock, no
/// allocation), and, unlike every other function, it never logs. A shutdown
/// looks like this: a `SIGTERM` handler (or another thread) calls
/// `kafka_consumer_wakeup(c, NULL)`; the polling thread sees
/// `KAFKA_ERR_WAKEUP`, leaves its loop and calls `kafka_consumer_close`.
/// `c` must still be open: close it only once nothing can call this any
/// more.
#[no_mangle]
pub unsafe extern "C" fn kafka_consumer_wakeup(
    c: *mut KafkaConsumer,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    // Not through `call`: it logs failures, which takes locks and
    // allocates, and nothing below can panic.
    // SAFETY: module contract.
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
    // SAFETY: err is NULL or writable (module contract).
    if let Some(out) = unsafe { err.as_mut() } {
        out.set_static(code, why);
    }
    code
}

/// Commits what the application is done with (with `enable_auto_commit`,
/// the default; messages the last poll or batch handed out count as done),
/// leaves the group so that its partitions go to the remaining members at
/// once, and releases the consumer; `c` is invalid after, even on failure.
/// Messages already polled stay valid. NULL is a no-op.
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
/// Refused with `KAFKA_ERR_STATE`, leaving `c` open: inside a handler or
/// any callback of this consumer (close it after the call that ran the
/// callback returns), on the consumer of `kafka_instance_with_consumer`
/// (the scope closes it), and in a process forked from the one that
/// created it (there it releases nothing: what it holds is the parent's).
#[no_mangle]
pub unsafe extern "C" fn kafka_consumer_close(
    c: *mut KafkaConsumer,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        if c.is_null() {
            return Ok(KafkaErrorCode::KAFKA_OK);
        }
        // SAFETY: c came from kafka_instance_get_consumer (module contract).
        unsafe { handle(c, "c") }?.begin_close()?;
        // SAFETY: as above; no call on it is running (checked), and the
        // caller gives up the handle.
        unsafe { KafkaConsumer::close_and_free(c) }?;
        Ok(KafkaErrorCode::KAFKA_OK)
    })
}

/// A scoped consumer: creates a consumer (as
/// `kafka_instance_get_consumer`), calls `fn(c, opaque)`, then closes it
/// whatever `fn` returned. `fn` returning non-zero gives
/// `KAFKA_ERR_CALLBACK` (after the close); otherwise a failed close (its
/// final commit) is the result.
#[no_mangle]
pub unsafe extern "C" fn kafka_instance_with_consumer(
    inst: *const KafkaInstance,
    topics: *const *const c_char,
    topic_count: usize,
    overrides: *const KafkaConfig,
    scope: KafkaConsumerScope,
    opaque: *mut c_void,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: module contract.
        let inst = unsafe { handle(inst, "inst") }?;
        let body = scope.ok_or_else(|| Error::invalid_argument("scope is NULL"))?;
        // SAFETY: module contract.
        let topics = unsafe { arg_strs(topics, topic_count, "topics", "topic_count") }?;
        // SAFETY: module contract.
        let overrides = unsafe { opt_handle(overrides) }.map(|o| &o.inner);
        let scoped = KafkaConsumer::new(Consumer::new(&inst.inner, &topics, overrides)?, true);
        run_scope(
            scoped,
            "consumer",
            // SAFETY: the caller's function, given a live consumer.
            |c| unsafe { body(c, opaque) },
            // SAFETY: the handle came from KafkaConsumer::new above, is
            // still open (closing it inside the scope is refused) and
            // the scope has returned.
            |c| unsafe {
                (*c).closing.store(true, Ordering::Release);
                KafkaConsumer::close_and_free(c)
            },
        )
    })
}

/// Adds `fn` for `topic`. Several handlers per topic run in registration
/// order. `topic` need not be subscribed (its handlers then never run).
/// Called inside a handler, the new handler runs from the next message
/// on. `opaque` is passed to `fn`, on the thread that calls
/// `kafka_consumer_consume`.
#[no_mangle]
pub unsafe extern "C" fn kafka_consumer_register_handler(
    c: *mut KafkaConsumer,
    topic: *const c_char,
    handler: KafkaHandler,
    opaque: *mut c_void,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: module contract.
        let topic = unsafe { arg_str(topic, "topic") }?;
        let f = handler.ok_or_else(|| Error::invalid_argument("fn is NULL"))?;
        // Handlers run on the thread that calls consume, as documented.
        let opaque = opaque as usize;
        let handler = Arc::new(move |m: &Message| {
            // SAFETY: the caller's handler, given a message alive for the call.
            match unsafe { f(KafkaMessage::lend(m), opaque as *mut c_void) } {
                0 => Ok(()),
                rc => Err(format!("the handler returned {rc}")),
            }
        });
        // SAFETY: module contract.
        unsafe { act(c, |c| c.register_handler(topic, handler)) }
    })
}

/// Polls one batch (up to `max_poll_records`, default 500) and dispatches
/// each message to its topic's handlers (a non-zero return is logged and
/// processing goes on; a message of a topic without handlers is logged at
/// debug and still counts as consumed). A message is done, and its offset
/// stored, once its handlers returned. With auto-commit disabled, commits
/// after the batch. `*dispatched` (may be NULL) receives how many messages
/// were polled. Wake-ups and offsets as for `kafka_consumer_poll`.
#[no_mangle]
pub unsafe extern "C" fn kafka_consumer_consume(
    c: *mut KafkaConsumer,
    timeout_ms: i32,
    dispatched: *mut usize,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: dispatched is NULL or writable (module contract).
        let dispatched = unsafe { dispatched.as_mut() };
        let mut n = 0;
        // SAFETY: module contract.
        let result = unsafe { with(c, |c| c.consume(arg_timeout(timeout_ms)?, &mut n)) };
        if let Some(d) = dispatched {
            *d = n;
        }
        result.map(|_| KafkaErrorCode::KAFKA_OK)
    })
}


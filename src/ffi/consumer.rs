//! `KafkaConsumer`: subscribe, poll, batches, commits, close, handlers and
//! the scoped consumer.

use std::ffi::{c_char, c_int, c_void};

use crate::consumer::{Consumer, Message};
use crate::error::{Error, ErrorKind, Result};
use crate::ffi::config::KafkaConfig;
use crate::ffi::error::{KafkaError, KafkaErrorCode};
use crate::ffi::instance::KafkaInstance;
use crate::ffi::{arg, arg_mut, arg_str, call, into_handle, site};

/// A subscribed consumer. Use it from one thread at a time. Close it with
/// `kafka_consumer_close`.
pub struct KafkaConsumer {
    inner: Consumer,
}

/// A topic handler: called with each consumed message of its topic, in
/// registration order. Return 0 for success; non-zero is logged (with
/// topic, partition and offset) and processing goes on. `m` is valid only
/// during the call.
pub type KafkaHandler =
    Option<unsafe extern "C" fn(m: *const Message, opaque: *mut c_void) -> c_int>;

/// The body of `kafka_instance_with_consumer`. Return 0 for success; it
/// must not close `c`.
pub type KafkaConsumerScope =
    Option<unsafe extern "C" fn(c: *mut KafkaConsumer, opaque: *mut c_void) -> c_int>;

const SUBJECT: &str = "Kafka Consumer";

/// The topic names from a C array.
///
/// # Safety
/// `topics` is NULL or points to `count` NUL-terminated strings.
unsafe fn topic_list<'a>(topics: *const *const c_char, count: usize) -> Result<Vec<&'a str>> {
    if count == 0 {
        return Err(Error::invalid_argument(
            "the topic list is empty (topic_count is 0)",
        ));
    }
    // SAFETY: the caller's contract.
    let list = unsafe { std::slice::from_raw_parts(arg(topics, "topics")?, count) };
    list.iter()
        .enumerate()
        // SAFETY: the caller's contract.
        .map(|(i, t)| unsafe { arg_str(*t, &format!("topics[{i}]")) })
        .collect()
}

/// Creates a consumer subscribed to `topic_count` topics: the instance's
/// settings (producer-only ones left out), then `overrides` (NULL or any
/// settings `kafka_config_set` accepts, e.g. `max_poll_records`,
/// `session_timeout_ms`, `fetch_min_bytes`). A group id is required
/// (`KAFKA_ERR_CONFIG`); `auto_offset_reset` defaults to latest and
/// `enable_auto_commit` to true. Producer-only settings in `overrides`,
/// an empty topic list or an invalid topic name fail. NULL on failure.
#[no_mangle]
pub unsafe extern "C" fn kafka_instance_get_consumer(
    inst: *mut KafkaInstance,
    topics: *const *const c_char,
    topic_count: usize,
    overrides: *const KafkaConfig,
    err: *mut KafkaError,
) -> *mut KafkaConsumer {
    call(
        site("kafka_instance.instance.get_consumer", SUBJECT),
        err,
        || {
            // SAFETY: module contract.
            let inst = unsafe { arg(inst, "inst") }?;
            // SAFETY: module contract.
            let topics = unsafe { topic_list(topics, topic_count) }?;
            // SAFETY: module contract (NULL means no overrides).
            let overrides = unsafe { overrides.as_ref() }.map(|o| &o.inner);
            let inner = Consumer::new(&inst.inner, &topics, overrides)?;
            Ok(into_handle(KafkaConsumer { inner }))
        },
    )
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
#[no_mangle]
pub unsafe extern "C" fn kafka_consumer_poll(
    c: *mut KafkaConsumer,
    timeout_ms: i32,
    out: *mut *mut Message,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(site("kafka_instance.consumer.poll", SUBJECT), err, || {
        // SAFETY: module contract.
        let out = unsafe { arg_mut(out, "out") }?;
        *out = std::ptr::null_mut();
        // SAFETY: module contract.
        let c = unsafe { arg_mut(c, "c") }?;
        if let Some(m) = c.inner.poll(timeout_ms)? {
            *out = into_handle(m);
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
#[no_mangle]
pub unsafe extern "C" fn kafka_consumer_poll_batch(
    c: *mut KafkaConsumer,
    out: *mut *mut Message,
    capacity: usize,
    timeout_ms: i32,
    count: *mut usize,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(
        site("kafka_instance.consumer.poll_batch", SUBJECT),
        err,
        || {
            // SAFETY: count is NULL or writable (module contract).
            let count = unsafe { count.as_mut() };
            let mut written = 0;
            let result = (|| {
                // SAFETY: module contract.
                let c = unsafe { arg_mut(c, "c") }?;
                if out.is_null() && capacity > 0 {
                    return Err(Error::invalid_argument("out is NULL but capacity is not 0"));
                }
                c.inner.poll_each(capacity, timeout_ms, |m| {
                    // SAFETY: out holds capacity slots; poll_each hands over
                    // at most that many.
                    unsafe { *out.add(written) = into_handle(m) };
                    written += 1;
                })?;
                Ok(KafkaErrorCode::KAFKA_OK)
            })();
            if let Some(n) = count {
                *n = written;
            }
            result
        },
    )
}

/// Commits the current positions (the offset after each message returned
/// so far) and waits for the broker. Nothing consumed yet is not an error.
#[no_mangle]
pub unsafe extern "C" fn kafka_consumer_commit(
    c: *mut KafkaConsumer,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(site("kafka_instance.consumer.commit", SUBJECT), err, || {
        // SAFETY: module contract.
        let c = unsafe { arg(c, "c") }?;
        c.inner.commit()?;
        Ok(KafkaErrorCode::KAFKA_OK)
    })
}

/// Commits `m`'s offset + 1 for its partition (the next message to read)
/// and waits for the broker.
#[no_mangle]
pub unsafe extern "C" fn kafka_consumer_commit_message(
    c: *mut KafkaConsumer,
    m: *const Message,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(
        site("kafka_instance.consumer.commit_message", SUBJECT),
        err,
        || {
            // SAFETY: module contract.
            let c = unsafe { arg(c, "c") }?;
            // SAFETY: module contract.
            let m = unsafe { arg(m, "m") }?;
            c.inner.commit_message(m)?;
            Ok(KafkaErrorCode::KAFKA_OK)
        },
    )
}

/// Leaves the group cleanly (its partitions go to the remaining members
/// at once), committing first when auto-commit is on, then releases the
/// consumer; `c` is invalid after. Messages already polled stay valid.
/// NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn kafka_consumer_close(
    c: *mut KafkaConsumer,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(site("kafka_instance.consumer.close", SUBJECT), err, || {
        if c.is_null() {
            return Ok(KafkaErrorCode::KAFKA_OK);
        }
        // SAFETY: c came from kafka_instance_get_consumer (module contract).
        let consumer = unsafe { Box::from_raw(c) };
        consumer.inner.close()?;
        Ok(KafkaErrorCode::KAFKA_OK)
    })
}

/// The seed's `consumer_context()`: creates a consumer (as
/// `kafka_instance_get_consumer`), calls `fn(c, opaque)`, then closes it
/// whatever `fn` returned. `fn` returning non-zero gives
/// `KAFKA_ERR_CALLBACK` (after the close).
#[no_mangle]
pub unsafe extern "C" fn kafka_instance_with_consumer(
    inst: *mut KafkaInstance,
    topics: *const *const c_char,
    topic_count: usize,
    overrides: *const KafkaConfig,
    scope: KafkaConsumerScope,
    opaque: *mut c_void,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(
        site("kafka_instance.instance.with_consumer", SUBJECT),
        err,
        || {
            // SAFETY: module contract.
            let inst = unsafe { arg(inst, "inst") }?;
            let body = scope.ok_or_else(|| Error::invalid_argument("scope is NULL"))?;
            // SAFETY: module contract.
            let topics = unsafe { topic_list(topics, topic_count) }?;
            // SAFETY: module contract.
            let overrides = unsafe { overrides.as_ref() }.map(|o| &o.inner);
            let handle = into_handle(KafkaConsumer {
                inner: Consumer::new(&inst.inner, &topics, overrides)?,
            });
            // SAFETY: the caller's function, given a live consumer.
            let rc = unsafe { body(handle, opaque) };
            // SAFETY: handle came from into_handle above and fn must not close it.
            let consumer = unsafe { Box::from_raw(handle) };
            let closed = consumer.inner.close();
            if rc != 0 {
                return Err(Error::new(
                    ErrorKind::Callback,
                    format!("the consumer scope function returned {rc}"),
                ));
            }
            closed.map(|_| KafkaErrorCode::KAFKA_OK)
        },
    )
}

/// The seed's `Consumer.register_handler(topic, fn)`: adds `fn` for
/// `topic`. Several handlers per topic run in registration order. `topic`
/// need not be subscribed (its handlers then never run).
#[no_mangle]
pub unsafe extern "C" fn kafka_consumer_register_handler(
    c: *mut KafkaConsumer,
    topic: *const c_char,
    handler: KafkaHandler,
    opaque: *mut c_void,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(
        site("kafka_instance.consumer.register_handler", SUBJECT),
        err,
        || {
            // SAFETY: module contract.
            let c = unsafe { arg_mut(c, "c") }?;
            // SAFETY: module contract.
            let topic = unsafe { arg_str(topic, "topic") }?;
            let f = handler.ok_or_else(|| Error::invalid_argument("fn is NULL"))?;
            // The consumer is used by one thread at a time; so is opaque.
            let opaque = opaque as usize;
            c.inner.register_handler(
                topic,
                Box::new(move |m: &Message| {
                    // SAFETY: the caller's handler, given a message alive for the call.
                    match unsafe { f(m, opaque as *mut c_void) } {
                        0 => Ok(()),
                        rc => Err(format!("the handler returned {rc}")),
                    }
                }),
            )?;
            Ok(KafkaErrorCode::KAFKA_OK)
        },
    )
}

/// The seed's `Consumer.consume(timeout)`: polls one batch (up to
/// `max_poll_records`, default 500), dispatches each message to its
/// topic's handlers (a non-zero return is logged and processing goes on;
/// a message of a topic without handlers is logged at debug and still
/// counts as consumed), then commits when auto-commit is disabled.
/// `*dispatched` (may be NULL) receives how many messages were polled.
#[no_mangle]
pub unsafe extern "C" fn kafka_consumer_consume(
    c: *mut KafkaConsumer,
    timeout_ms: i32,
    dispatched: *mut usize,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(
        site("kafka_instance.consumer.consume", SUBJECT),
        err,
        || {
            // SAFETY: dispatched is NULL or writable (module contract).
            let dispatched = unsafe { dispatched.as_mut() };
            // SAFETY: module contract.
            let c = unsafe { arg_mut(c, "c") };
            let n = c.and_then(|c| c.inner.consume(timeout_ms));
            if let Some(d) = dispatched {
                *d = *n.as_ref().unwrap_or(&0);
            }
            n.map(|_| KafkaErrorCode::KAFKA_OK)
        },
    )
}

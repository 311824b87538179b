//! `KafkaProducer`: JSON and raw sends, acknowledged sends, delivery
//! callbacks, flush, close, and the scoped producer.

use std::cell::Cell;
use std::ffi::{c_char, c_int, c_void, CString};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::error::{Error, Result};
use crate::ffi::config::KafkaConfig;
use crate::ffi::consumer::{self, KafkaConsumer};
use crate::ffi::error::{KafkaError, KafkaErrorCode};
use crate::ffi::instance::KafkaInstance;
use crate::ffi::partition_list::{opt_offsets_arg, KafkaPartitionList};
use crate::ffi::{
    arg, arg_bytes, arg_opt_str, arg_slice, arg_str, arg_timeout, call, call_infallible,
    free_handle, handle, here, into_handle, opt_handle, opt_slice, out_slice, run_scope, Handle,
    Lent,
};
use crate::producer::{unpack, Delivered, Delivery, OnDelivery, Producer, Record, Tracked};

mod acknowledged;
mod batch;
mod bindings;
mod transaction;

// Every C function and type of the handle, wherever its concern put it.
use acknowledged::report_to;
pub use acknowledged::*;
pub use batch::*;
pub use bindings::*;
pub use transaction::*;

/// A producer. Safe to share between threads: any number may send, flush
/// and query it at once. Delivery callbacks run on a thread the library
/// owns; you never poll. Close it with `kafka_producer_close` once no other
/// thread uses it.
///
/// A topic the cluster does not have, on a cluster that does not create
/// topics on first use, keeps its messages queued: a `KAFKA_ERR_TIMEOUT`
/// of `kafka_producer_send_sync`, `_send_json_sync`, `_flush` or `_close`
/// then says which topic does not exist, with `rdkafka_code` 3
/// (UNKNOWN_TOPIC_OR_PART), asked of the cluster before the timeout ends
/// (in its last quarter, 500 ms at most). Without that code, the brokers
/// did not answer.
pub struct KafkaProducer {
    inner: Producer,
    /// Made by `kafka_instance_with_producer`, which closes it.
    scoped: bool,
    /// `kafka_producer_close` has begun: a second close (from a callback
    /// the first one runs) is refused instead of freeing the handle twice.
    closing: AtomicBool,
}

impl Handle for KafkaProducer {}

impl KafkaProducer {
    fn new(inner: Producer, scoped: bool) -> *mut KafkaProducer {
        into_handle(KafkaProducer {
            inner,
            scoped,
            closing: AtomicBool::new(false),
        })
    }

    /// Whether `kafka_producer_close` may close this producer now (then it
    /// is marked closing): not in a forked child or inside its own
    /// callbacks, not the scoped producer, not twice.
    fn begin_close(&self) -> Result<()> {
        self.inner.check_close()?;
        if self.scoped {
            return Err(Error::state(
                "this producer belongs to kafka_instance_with_producer, which closes it when \
                 the scope function returns",
            ));
        }
        if self.closing.swap(true, Ordering::AcqRel) {
            return Err(Error::state(
                "kafka_producer_close was called inside a callback run by its own close",
            ));
        }
        Ok(())
    }

    /// Closes the producer in place (every callback runs before this
    /// returns), then frees the handle, running no user code meanwhile.
    ///
    /// # Safety
    /// `handle` came from [`KafkaProducer::new`], is not used after, and no
    /// other thread uses it.
    unsafe fn close_and_free(handle: *mut KafkaProducer, timeout: Option<Duration>) -> Result<()> {
        // SAFETY: the caller's contract.
        let producer = &unsafe { &*handle }.inner;
        // In a forked child, release nothing: it is the parent's.
        producer.check_close()?;
        let closed = producer.close(timeout);
        producer.silence();
        // SAFETY: as above; every callback has run.
        unsafe { free_handle(handle) };
        closed
    }
}

/// One message header. `value` may be NULL (with `value_len` 0) for a
/// header without a value.
#[repr(C)]
pub struct KafkaHeader {
    /// NUL-terminated UTF-8.
    pub name: *const c_char,
    pub value: *const c_void,
    pub value_len: usize,
}

impl Lent for KafkaHeader {}

/// A message for `kafka_producer_send` / `kafka_producer_send_sync`.
///
/// A zero-initialized record plus a topic is valid and means: no key, no
/// value, the partitioner chooses, timestamp now, no headers.
/// (`KafkaRecord r = {0}; r.topic = "orders";`)
///
/// Layout stability: these fields never change. New fields, if any, will
/// come with a new send function that takes the struct's size, so code
/// compiled against this header keeps working unchanged.
#[repr(C)]
pub struct KafkaRecord {
    /// The topic, NUL-terminated: 1 to 249 of `[A-Za-z0-9._-]`.
    pub topic: *const c_char,
    /// NULL: no key. (A non-NULL key of length 0 is an empty key.)
    pub key: *const c_void,
    pub key_len: usize,
    /// NULL: no value (a tombstone).
    pub value: *const c_void,
    pub value_len: usize,
    /// `header_count` headers, or NULL when `header_count` is 0.
    pub headers: *const KafkaHeader,
    pub header_count: usize,
    /// false: the partitioner chooses (murmur2 of the key, like the Java
    /// client; random without a key).
    pub has_partition: bool,
    pub partition: i32,
    /// Milliseconds since the epoch; 0: now.
    pub timestamp_ms: i64,
}

impl Lent for KafkaRecord {}

/// The outcome of one message.
#[repr(C)]
pub struct KafkaDeliveryReport {
    /// `KAFKA_OK` when the broker acknowledged the message.
    pub code: KafkaErrorCode,
    /// librdkafka's error code, 0 on success.
    pub rdkafka_code: i32,
    /// In a callback: valid only during the callback. From a sync send:
    /// the `topic` pointer the caller passed in.
    pub topic: *const c_char,
    /// -1 when the message did not reach a partition.
    pub partition: i32,
    /// -1 when the message was not acknowledged.
    pub offset: i64,
    /// Milliseconds since the epoch, -1 when unknown.
    pub timestamp_ms: i64,
}

/// Receives the outcome of one message sent with `kafka_producer_send`.
///
/// Called once per message, on the producer's own thread, with the
/// message's outcome (success, failure, timeout, or purge at close). It
/// should not block for long: the next reports wait for it.
///
/// It may call any function of this library, on any producer. On the
/// producer it reports on, the calls that would wait for this very thread
/// (`kafka_producer_flush`, `_send_sync`, `_send_json_sync`, `_close`)
/// return `KAFKA_ERR_STATE` at once and do nothing; sends and
/// `kafka_producer_in_flight` work. Closing another producer works and
/// waits for that producer's own callbacks (which run on its thread), so
/// two producers whose callbacks wait for each other with timeout -1 can
/// deadlock, as two threads waiting on each other would.
///
/// @param report The outcome, valid only during the call (see
///               `KafkaDeliveryReport`).
/// @param opaque The `opaque` given with the message.
pub type KafkaDeliveryCallback =
    Option<unsafe extern "C" fn(report: *const KafkaDeliveryReport, opaque: *mut c_void)>;

const SUBJECT: &str = "Kafka Producer";

/// Creates a producer: the instance's settings (consumer-only ones left
/// out), then `overrides` on top.
///
/// Idempotence is on by default (unless `acks` or in-flight settings that
/// exclude it are set); the partitioner is `murmur2_random`, the Java
/// client's. The producer keeps working after the instance is freed.
///
/// @param inst      The instance.
/// @param overrides NULL, or any settings `kafka_config_set` accepts.
/// @param err       NULL, or where a failure is described (`KAFKA_OK` on
///                  success).
/// @return The producer (close it with `kafka_producer_close`), or NULL on
///         failure: `KAFKA_ERR_CONFIG` (consumer-only settings in
///         `overrides`, settings librdkafka refuses),
///         `KAFKA_ERR_INVALID_ARGUMENT` (`inst` NULL).
#[no_mangle]
pub unsafe extern "C" fn kafka_instance_get_producer(
    inst: *const KafkaInstance,
    overrides: *const KafkaConfig,
    err: *mut KafkaError,
) -> *mut KafkaProducer {
    call(here!(SUBJECT), err, || {
        // SAFETY: `inst` is NULL or a live instance from `kafka_instance_new` (the header's
        // contract); `handle` refuses NULL.
        let inst = unsafe { handle(inst, "inst") }?;
        // SAFETY: `overrides` is NULL (no overrides) or a live config no thread changes during the
        // call (the header's contract); read only while the producer is made.
        let overrides = unsafe { opt_handle(overrides) }.map(|o| &o.inner);
        let inner = Producer::new(&inst.inner, overrides)?;
        Ok(KafkaProducer::new(inner, false))
    })
}

/// Converts a C record into the safe layer's, borrowing its memory.
///
/// # Safety
/// `record` is valid, and its pointers as its doc comment says.
unsafe fn record_from<'a>(
    record: &'a KafkaRecord,
    headers: &'a mut Vec<(&'a str, Option<&'a [u8]>)>,
) -> Result<Record<'a>> {
    // SAFETY (all below): the caller's record contract.
    let topic = unsafe { arg_str(record.topic, "record->topic") }?;
    let key = unsafe { arg_bytes(record.key, record.key_len, "record->key") }?;
    let value = unsafe { arg_bytes(record.value, record.value_len, "record->value") }?;
    let list = unsafe { arg_slice(record.headers, record.header_count, "record->headers") }?;
    for (i, h) in list.iter().enumerate() {
        let name = unsafe { arg_str(h.name, &format!("record->headers[{i}].name")) }?;
        let value =
            unsafe { arg_bytes(h.value, h.value_len, &format!("record->headers[{i}].value")) }?;
        headers.push((name, value));
    }
    Ok(Record {
        topic,
        key,
        value,
        headers,
        partition: record.has_partition.then_some(record.partition),
        timestamp_ms: (record.timestamp_ms != 0).then_some(record.timestamp_ms),
    })
}

/// A JSON record from the JSON send functions' arguments.
///
/// # Safety
/// The pointers are NULL or NUL-terminated strings.
unsafe fn json_record<'a>(
    topic: *const c_char,
    key: *const c_char,
    json: *const c_char,
) -> Result<Record<'a>> {
    // SAFETY (all below): `topic`, `key` and `json` are the JSON send's arguments: NULL or
    // NUL-terminated strings kept for the call (the header's contract).
    let topic = unsafe { arg_str(topic, "topic") }?;
    let key = unsafe { arg_opt_str(key, "key") }?;
    let json = unsafe { arg_str(json, "json") }?;
    crate::json::validate(json)?;
    Ok(Record {
        topic,
        key: key.map(str::as_bytes),
        value: Some(json.as_bytes()),
        ..Record::default()
    })
}

/// Fills a sync report (when not NULL) from an outcome.
fn fill_report(
    report: Option<&mut KafkaDeliveryReport>,
    topic: *const c_char,
    outcome: &Result<Delivered>,
) {
    if let Some(r) = report {
        r.topic = topic;
        match outcome {
            Ok(d) => {
                r.code = KafkaErrorCode::KAFKA_OK;
                r.rdkafka_code = 0;
                r.partition = d.partition;
                r.offset = d.offset;
                r.timestamp_ms = d.timestamp_ms;
            }
            Err(e) => {
                r.code = e.kind.into();
                r.rdkafka_code = e.rdkafka_code;
                r.partition = -1;
                r.offset = -1;
                r.timestamp_ms = -1;
            }
        }
    }
}

/// Sends a JSON value.
///
/// The bytes sent are `json` as given (not re-encoded). Asynchronous:
/// returns once queued; a delivery failure is logged at error level.
///
/// @param p     The producer.
/// @param topic The topic, NUL-terminated.
/// @param key   NULL (no key) or a NUL-terminated string.
/// @param json  Exactly one valid JSON text, NUL-terminated.
/// @param err   NULL, or where a failure is described (`KAFKA_OK` on
///              success).
/// @return `KAFKA_OK` once queued, or the failure's code:
///         `KAFKA_ERR_SERIALIZATION` (`json` is not exactly one valid JSON
///         text; the message says where it broke, and nothing is sent),
///         `KAFKA_ERR_QUEUE_FULL` (a full queue: nothing queued; retry
///         later), `KAFKA_ERR_INVALID_ARGUMENT` (`p`, `topic` or `json` NULL,
///         an invalid topic, invalid UTF-8).
#[no_mangle]
pub unsafe extern "C" fn kafka_producer_send_json(
    p: *mut KafkaProducer,
    topic: *const c_char,
    key: *const c_char,
    json: *const c_char,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: `p` is NULL or a live producer, shareable between threads and not closed while
        // this queues the JSON send (the header's contract); `handle` refuses NULL.
        let p = unsafe { handle(p, "p") }?;
        // SAFETY: `topic`, `key` and `json` are NULL or NUL-terminated strings kept for the call,
        // as `json_record` requires (the header's contract).
        let record = unsafe { json_record(topic, key, json) }?;
        p.inner.send(&record, None)?;
        Ok(KafkaErrorCode::KAFKA_OK)
    })
}

thread_local! {
    /// The last topic name handed to a delivery callback on this thread,
    /// so that a stream of reports for one topic allocates nothing. Taken
    /// out while a callback runs: a callback that makes another producer
    /// report on this thread finds it empty, and allocates.
    static TOPIC: Cell<CString> = Cell::new(CString::default());
}

/// Sends a record with binary key and value, headers, an explicit
/// partition or timestamp.
///
/// Asynchronous: returns once queued.
///
/// @param p      The producer.
/// @param record The message (see `KafkaRecord`), lent for the call.
/// @param cb     NULL, or called exactly once with the outcome, on the
///               producer's thread.
/// @param opaque Passed to `cb`.
/// @param err    NULL, or where a failure is described (`KAFKA_OK` on
///               success).
/// @return `KAFKA_OK` once queued, or the failure's code: invalid records
///         (`KAFKA_ERR_INVALID_ARGUMENT`) and a full queue
///         (`KAFKA_ERR_QUEUE_FULL`) fail here and queue nothing (no callback
///         is made for them).
#[no_mangle]
pub unsafe extern "C" fn kafka_producer_send(
    p: *mut KafkaProducer,
    record: *const KafkaRecord,
    cb: KafkaDeliveryCallback,
    opaque: *mut c_void,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: `p` is NULL or a live producer and `record` NULL or a `KafkaRecord` the caller
        // lends for this call (the header's contract), as `send_with` needs.
        unsafe { send_with(p, record, cb, opaque, Producer::send) }
    })
}

/// Converts the C record and hands it, with `cb`'s notification (`opaque`
/// passed to it), to `send`.
///
/// # Safety
/// `p` and `record` as the module contract says; the caller promises
/// `opaque` may be used from the producer's thread.
unsafe fn send_with(
    p: *mut KafkaProducer,
    record: *const KafkaRecord,
    cb: KafkaDeliveryCallback,
    opaque: *mut c_void,
    send: impl FnOnce(&Producer, &Record<'_>, Option<OnDelivery>) -> Result<()>,
) -> Result<KafkaErrorCode> {
    // SAFETY (all three): the caller's contract.
    let p = unsafe { handle(p, "p") }?;
    let record = unsafe { arg(record, "record") }?;
    let mut headers = Vec::new();
    let record = unsafe { record_from(record, &mut headers) }?;
    send(&p.inner, &record, cb.map(|f| report_to(f, opaque as usize)))?;
    Ok(KafkaErrorCode::KAFKA_OK)
}

/// Waits until every queued message is acknowledged or has failed (and
/// its callback has returned).
///
/// @param p          The producer.
/// @param timeout_ms How long to wait.
/// @param remaining  NULL, or receives how many messages remain, whatever
///                   the result.
/// @param err        NULL, or where a failure is described (`KAFKA_OK` on
///                   success).
/// @return `KAFKA_OK` when none remain, or the failure's code:
///         `KAFKA_ERR_TIMEOUT` (some remain after `timeout_ms`; when the
///         broker refused the connection (SASL, TLS), that failure is
///         returned instead of the timeout, as for
///         `kafka_producer_send_json_sync`), `KAFKA_ERR_STATE` (inside this
///         producer's delivery callback), `KAFKA_ERR_INVALID_ARGUMENT` (`p`
///         NULL, a bad timeout).
#[no_mangle]
pub unsafe extern "C" fn kafka_producer_flush(
    p: *mut KafkaProducer,
    timeout_ms: i32,
    remaining: *mut usize,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: `p` is NULL or a live producer, shareable between threads and not closed while
        // this flushes (the header's contract); `handle` refuses NULL.
        let p = unsafe { handle(p, "p") }?;
        let result = arg_timeout(timeout_ms).and_then(|t| p.inner.flush(t));
        // SAFETY: `remaining` is NULL or writable for one `size_t` (the header's contract); NULL
        // is skipped.
        if let Some(out) = unsafe { remaining.as_mut() } {
            *out = p.inner.in_flight();
        }
        result.map(|_| KafkaErrorCode::KAFKA_OK)
    })
}

/// Counts the messages queued whose outcome has not been reported yet.
///
/// @param p The producer, or NULL.
/// @return The count; 0 for NULL.
#[no_mangle]
pub unsafe extern "C" fn kafka_producer_in_flight(p: *const KafkaProducer) -> usize {
    call_infallible(here!(SUBJECT), || {
        // SAFETY: `p` is NULL or a live producer, shareable between threads (the header's
        // contract); `opt_handle` maps NULL to `None`.
        unsafe { opt_handle(p) }.map_or(0, |p| p.inner.in_flight())
    })
}

/// Stops sending, flushes for up to `timeout_ms`, then releases the
/// producer.
///
/// Messages still queued when the timeout passes are purged: each gets its
/// failure callback before this returns. The timeout holds whatever the
/// callbacks do (a statistics callback slower than its interval, a token
/// callback that takes its time). Callbacks never run after this returns,
/// except a statistics or token callback already running when the time was
/// up, which finishes on its own thread. (Callbacks that run meanwhile may
/// still call functions on `p`: sends fail with `KAFKA_ERR_STATE`, the
/// producer is closing.)
///
/// @param p          The producer; NULL is a no-op. Call this once no other
///                   thread uses `p`: the handle is freed when it returns, so
///                   `p` is invalid after, even on failure, unless the close
///                   was refused (below).
/// @param timeout_ms How long to flush before purging.
/// @param err        NULL, or where a failure is described (`KAFKA_OK` on
///                   success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_TIMEOUT` (messages
///         were purged; the message says how many). Refused, leaving `p`
///         open: an invalid timeout (below -1, `KAFKA_ERR_INVALID_ARGUMENT`);
///         and with `KAFKA_ERR_STATE`, a call inside `p`'s own delivery
///         callback (its thread would wait for itself), on the producer of
///         `kafka_instance_with_producer` (the scope closes it), and in a
///         process forked from the one that created `p` (there it releases
///         nothing: what it holds is the parent's).
#[no_mangle]
pub unsafe extern "C" fn kafka_producer_close(
    p: *mut KafkaProducer,
    timeout_ms: i32,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        if p.is_null() {
            return Ok(KafkaErrorCode::KAFKA_OK);
        }
        let timeout = arg_timeout(timeout_ms)?;
        // SAFETY: `p` is not NULL (checked above) and, by the header's contract, a producer from
        // `kafka_instance_get_producer` not closed before.
        unsafe { handle(p, "p") }?.begin_close()?;
        // SAFETY: as above, and the caller gives up the handle.
        unsafe { KafkaProducer::close_and_free(p, timeout) }?;
        Ok(KafkaErrorCode::KAFKA_OK)
    })
}

/// Runs `f` on the producer behind `p`; `KAFKA_OK` when it succeeds.
///
/// # Safety
/// `p` is NULL or a live producer (module contract).
unsafe fn act(
    p: *const KafkaProducer,
    f: impl FnOnce(&Producer) -> Result<()>,
) -> Result<KafkaErrorCode> {
    // SAFETY: the caller's contract.
    let p = unsafe { handle(p, "p") }?;
    f(&p.inner).map(|()| KafkaErrorCode::KAFKA_OK)
}

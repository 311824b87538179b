//! Sends acknowledged before they return (`kafka_producer_send_sync`,
//! `_send_json_sync`) and the scoped producer (`kafka_instance_with_producer`).

use super::*;

/// The body of `kafka_instance_with_producer`.
///
/// Closing `p` here is refused (`KAFKA_ERR_STATE`): the scope closes it.
///
/// @param p      The scope's producer.
/// @param opaque The `opaque` given to `kafka_instance_with_producer`.
/// @return 0 for success; non-zero makes `kafka_instance_with_producer`
///         return `KAFKA_ERR_CALLBACK`.
pub type KafkaProducerScope =
    Option<unsafe extern "C" fn(p: *mut KafkaProducer, opaque: *mut c_void) -> c_int>;

/// Sends a JSON value and waits for the broker's acknowledgement.
///
/// A message not acknowledged in time stays queued and may still be
/// delivered (once, with idempotence).
///
/// @param p          The producer.
/// @param topic      The topic, NUL-terminated.
/// @param key        NULL (no key) or a NUL-terminated string.
/// @param json       Exactly one valid JSON text, NUL-terminated.
/// @param timeout_ms How long to wait (10000 ms is the recommended
///                   timeout).
/// @param report     NULL, or receives partition, offset and timestamp.
/// @param err        NULL, or where a failure is described (`KAFKA_OK` on
///                   success).
/// @return `KAFKA_OK` once acknowledged, or the failure's code:
///         `KAFKA_ERR_TIMEOUT` (no acknowledgement came in time; when the
///         broker refused this producer's connection meanwhile (SASL
///         authentication, TLS handshake), the result is that failure
///         instead: `KAFKA_ERR_BROKER`, `retriable` false, `rdkafka_code`
///         -169 (`_AUTHENTICATION`) or -181 (`_SSL`), with librdkafka's
///         reason in the message), `KAFKA_ERR_SERIALIZATION`,
///         `KAFKA_ERR_STATE` (inside this producer's delivery callback),
///         `KAFKA_ERR_INVALID_ARGUMENT` (as for `kafka_producer_send_json`,
///         or a bad timeout).
#[no_mangle]
pub unsafe extern "C" fn kafka_producer_send_json_sync(
    p: *mut KafkaProducer,
    topic: *const c_char,
    key: *const c_char,
    json: *const c_char,
    timeout_ms: i32,
    report: *mut KafkaDeliveryReport,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: `p` is NULL or a live producer, shareable between threads and not closed while
        // this waits for the JSON send (the header's contract); `handle` refuses NULL.
        let p = unsafe { handle(p, "p") }?;
        // SAFETY: `topic`, `key` and `json` are NULL or NUL-terminated strings kept for the call,
        // as `json_record` requires (the header's contract).
        let record = unsafe { json_record(topic, key, json) }?;
        let outcome = arg_timeout(timeout_ms).and_then(|t| p.inner.send_sync(&record, t));
        // SAFETY: `report` is NULL or a writable `KafkaDeliveryReport` the caller owns (the
        // header's contract); NULL is skipped.
        fill_report(unsafe { report.as_mut() }, topic, &outcome);
        outcome.map(|_| KafkaErrorCode::KAFKA_OK)
    })
}

/// A delivery callback for the safe layer that calls the caller's `f`
/// with a `KafkaDeliveryReport`, on the producer's thread. The topic's C
/// string is kept per thread and rebuilt only when the topic changes.
pub(super) fn report_to(
    f: unsafe extern "C" fn(*const KafkaDeliveryReport, *mut c_void),
    opaque: usize,
) -> crate::producer::OnDelivery {
    Box::new(move |d: &Delivery<'_>| {
        let mut topic = TOPIC.take();
        if topic.as_bytes() != d.topic.as_bytes() {
            topic = CString::new(d.topic).unwrap_or_default();
        }
        let (code, rdkafka_code) = match &d.error {
            None => (KafkaErrorCode::KAFKA_OK, 0),
            Some(e) => (e.kind.into(), e.rdkafka_code),
        };
        let report = KafkaDeliveryReport {
            code,
            rdkafka_code,
            topic: topic.as_ptr(),
            partition: d.partition,
            offset: d.offset,
            timestamp_ms: d.timestamp_ms,
        };
        // SAFETY: the caller's callback; report lives until it returns.
        unsafe { f(&report, opaque as *mut c_void) };
        TOPIC.set(topic);
    })
}

/// Sends a record and waits for the broker's acknowledgement.
///
/// @param p          The producer.
/// @param record     The message (see `KafkaRecord`), lent for the call.
/// @param timeout_ms How long to wait for the acknowledgement.
/// @param report     NULL, or receives where the message went.
/// @param err        NULL, or where a failure is described (`KAFKA_OK` on
///                   success).
/// @return `KAFKA_OK` once acknowledged, or the failure's code: timeouts and
///         refused connections as for `kafka_producer_send_json_sync`,
///         `KAFKA_ERR_INVALID_ARGUMENT` (an invalid record).
#[no_mangle]
pub unsafe extern "C" fn kafka_producer_send_sync(
    p: *mut KafkaProducer,
    record: *const KafkaRecord,
    timeout_ms: i32,
    report: *mut KafkaDeliveryReport,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: `p` is NULL or a live producer, shareable between threads and not closed while
        // this waits for the send (the header's contract); `handle` refuses NULL.
        let p = unsafe { handle(p, "p") }?;
        // SAFETY: `record` is NULL or points to a `KafkaRecord` the caller lends for this call
        // (the header's contract); `arg` refuses NULL.
        let c_record = unsafe { arg(record, "record") }?;
        let mut headers = Vec::new();
        // SAFETY: the record's pointers per its contract.
        let record = unsafe { record_from(c_record, &mut headers) }?;
        let outcome = arg_timeout(timeout_ms).and_then(|t| p.inner.send_sync(&record, t));
        // SAFETY: `report` is NULL or a writable `KafkaDeliveryReport` the caller owns (the
        // header's contract); NULL is skipped.
        fill_report(unsafe { report.as_mut() }, c_record.topic, &outcome);
        outcome.map(|_| KafkaErrorCode::KAFKA_OK)
    })
}

/// A scoped producer: creates a producer (as `kafka_instance_get_producer`),
/// calls `scope(p, opaque)`, then flushes and closes it whatever `scope`
/// returned.
///
/// The flush waits until every message is delivered or failed, which
/// librdkafka bounds by `delivery.timeout.ms`.
///
/// @param inst      The instance.
/// @param overrides NULL, or settings over the instance's, as for
///                  `kafka_instance_get_producer`.
/// @param scope     The function to run with the producer (see
///                  `KafkaProducerScope`).
/// @param opaque    Passed to `scope` as is.
/// @param err       NULL, or where a failure is described (`KAFKA_OK` on
///                  success).
/// @return `KAFKA_ERR_CALLBACK` when `scope` returned non-zero (after the
///         cleanup); otherwise the close's result. A producer that cannot be
///         created fails as `kafka_instance_get_producer` does, and a NULL
///         `scope` is `KAFKA_ERR_INVALID_ARGUMENT`; `scope` is not called
///         then.
#[no_mangle]
pub unsafe extern "C" fn kafka_instance_with_producer(
    inst: *const KafkaInstance,
    overrides: *const KafkaConfig,
    scope: KafkaProducerScope,
    opaque: *mut c_void,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: `inst` is NULL or a live instance (the header's contract), borrowed only until
        // the scoped producer is made; `handle` refuses NULL.
        let inst = unsafe { handle(inst, "inst") }?;
        let body = scope.ok_or_else(|| Error::invalid_argument("scope is NULL"))?;
        // SAFETY: `overrides` is NULL (none) or a live config no thread changes during the call
        // (the header's contract); read only while the scoped producer is made.
        let overrides = unsafe { opt_handle(overrides) }.map(|o| &o.inner);
        let scoped = KafkaProducer::new(Producer::new(&inst.inner, overrides)?, true);
        run_scope(
            scoped,
            "producer",
            // SAFETY: the caller's function, given a live producer.
            |p| unsafe { body(p, opaque) },
            // SAFETY: the handle came from KafkaProducer::new above, is
            // still open (closing it inside the scope is refused) and
            // the scope has returned.
            |p| unsafe {
                (*p).closing.store(true, Ordering::Release);
                KafkaProducer::close_and_free(p, None)
            },
        )
    })
}

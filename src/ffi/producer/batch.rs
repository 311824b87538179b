//! `KafkaProducer`'s batches: records, JSON values and JSON arrays sent in
//! one call, and the send that waits for room.

use super::*;

/// Queues `count` records in one call (the way for callers that pay for
/// each call across a language boundary).
///
/// Each record is checked and queued as by `kafka_producer_send`; one that
/// is invalid or finds the queue full is refused alone, and the others are
/// still queued.
///
/// @param p       The producer.
/// @param records `count` records, lent for the call.
/// @param count   How many records.
/// @param cb      NULL, or called once with the delivery of each record
///                queued.
/// @param opaques NULL, or `count` values: `cb` is given `opaques[i]` for
///                record `i` (NULL when `opaques` is NULL).
/// @param results NULL, or room for `count` codes: each record's outcome,
///                `KAFKA_OK` (queued: `cb`, when not NULL, will be called
///                once with its delivery) or why it was refused (nothing
///                queued, no callback).
/// @param err     NULL, or where a failure is described (`KAFKA_OK` on
///                success).
/// @return `KAFKA_OK` when all were queued, else the first refusal's code,
///         with a message that counts them; `KAFKA_ERR_INVALID_ARGUMENT`,
///         nothing queued, when `p` is NULL or `records` is NULL with
///         `count` not 0.
#[no_mangle]
pub unsafe extern "C" fn kafka_producer_send_batch(
    p: *mut KafkaProducer,
    records: *const KafkaRecord,
    count: usize,
    cb: KafkaDeliveryCallback,
    opaques: *const *mut c_void,
    results: *mut KafkaErrorCode,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY (all below): `p` is NULL or a live producer; `records`, and `opaques` and
        // `results` when not NULL, hold `count` entries (the header's contract).
        let p = unsafe { handle(p, "p") }?;
        let records = unsafe { arg_slice(records, count, "records") }?;
        let opaques = unsafe { opt_slice(opaques, count, "opaques") }?;
        let results = unsafe { out_slice(results, count, "results") }?;
        send_each(count, cb, opaques, results, |i, on_delivery| {
            let mut headers = Vec::new();
            let record = unsafe { record_from(&records[i], &mut headers) }?;
            p.inner.send(&record, on_delivery)
        })
    })
}

/// `kafka_producer_send_batch` for JSON values to one topic.
///
/// @param p       The producer.
/// @param topic   The topic, NUL-terminated.
/// @param keys    NULL (no keys), or `count` keys, NUL-terminated: `keys[i]`
///                goes with `values[i]` (a NULL entry: no key for that one).
/// @param values  `count` values, NUL-terminated, each checked to be JSON.
/// @param count   How many values.
/// @param cb      As for `kafka_producer_send_batch`.
/// @param opaques As for `kafka_producer_send_batch`.
/// @param results As for `kafka_producer_send_batch`.
/// @param err     NULL, or where a failure is described (`KAFKA_OK` on
///                success).
/// @return As for `kafka_producer_send_batch`.
#[no_mangle]
pub unsafe extern "C" fn kafka_producer_send_json_batch(
    p: *mut KafkaProducer,
    topic: *const c_char,
    keys: *const *const c_char,
    values: *const *const c_char,
    count: usize,
    cb: KafkaDeliveryCallback,
    opaques: *const *mut c_void,
    results: *mut KafkaErrorCode,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY (all below): `p` is NULL or a live producer; `values`, and `keys`, `opaques` and
        // `results` when not NULL, hold `count` entries (the header's contract).
        let p = unsafe { handle(p, "p") }?;
        let values = unsafe { arg_slice(values, count, "values") }?;
        let keys = unsafe { opt_slice(keys, count, "keys") }?;
        let opaques = unsafe { opt_slice(opaques, count, "opaques") }?;
        let results = unsafe { out_slice(results, count, "results") }?;
        send_each(count, cb, opaques, results, |i, on_delivery| {
            let key = keys.map_or(std::ptr::null(), |k| k[i]);
            let record = unsafe { json_record(topic, key, values[i]) }?;
            p.inner.send(&record, on_delivery)
        })
    })
}

/// `kafka_producer_send_json_batch` with the values in one JSON text.
///
/// The way for callers whose language encodes a list in one call faster
/// than each item (Python's `json.dumps(list)`). When `keys_json` or
/// `values_json` is not such an array, or an argument is invalid, nothing
/// is queued and the call fails as a whole.
///
/// @param p           The producer.
/// @param topic       The topic, NUL-terminated.
/// @param keys_json   NULL (no keys) or a JSON array of `count` strings (the
///                    key's UTF-8 bytes) or nulls (no key).
/// @param values_json A JSON array of exactly `count` values; each element,
///                    its text exactly as written, is one record's value.
/// @param count       How many records.
/// @param cb          As for `kafka_producer_send_batch`.
/// @param opaques     As for `kafka_producer_send_batch`.
/// @param results     NULL, or room for `count` codes. When the call fails as
///                    a whole, it holds that code for every record, so it
///                    always says what became of each; otherwise as for
///                    `kafka_producer_send_batch`.
/// @param err         NULL, or where a failure is described (`KAFKA_OK` on
///                    success).
/// @return As for `kafka_producer_send_batch`; when the call fails as a
///         whole, that failure's code.
#[no_mangle]
pub unsafe extern "C" fn kafka_producer_send_json_array(
    p: *mut KafkaProducer,
    topic: *const c_char,
    keys_json: *const c_char,
    values_json: *const c_char,
    count: usize,
    cb: KafkaDeliveryCallback,
    opaques: *const *mut c_void,
    results: *mut KafkaErrorCode,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY (all below): `results` and `opaques` are NULL or hold `count` entries, `p` is
        // NULL or a live producer, the strings NULL or NUL-terminated (the header).
        let mut results = unsafe { out_slice(results, count, "results") }?;
        let checked = (|| -> Result<_> {
            let p = unsafe { handle(p, "p") }?;
            let topic = unsafe { arg_str(topic, "topic") }?;
            let opaques = unsafe { opt_slice(opaques, count, "opaques") }?;
            let values = unsafe { arg_str(values_json, "values_json") }?;
            let values = crate::json::array_elements(values, count, "values_json")?;
            let keys = match unsafe { arg_opt_str(keys_json, "keys_json") }? {
                Some(k) => Some(crate::json::array_keys(k, count, "keys_json")?),
                None => None,
            };
            Ok((p, topic, opaques, values, keys))
        })();
        let (p, topic, opaques, values, keys) = match checked {
            Ok(checked) => checked,
            Err(e) => {
                if let Some(out) = results.as_deref_mut() {
                    out.fill(KafkaErrorCode::from(e.kind));
                }
                return Err(e);
            }
        };
        send_each(count, cb, opaques, results, |i, on_delivery| {
            let key = keys.as_ref().and_then(|k| k[i].as_deref());
            let record = Record {
                topic,
                key: key.map(str::as_bytes),
                value: Some(values[i].as_bytes()),
                ..Record::default()
            };
            p.inner.send(&record, on_delivery)
        })
    })
}

/// Sends records `0..count` with `send_one(i, its notification)` (`cb`
/// given `opaques[i]`, or NULL), writing each outcome's code to `results`
/// (when given); `KAFKA_OK` when all were queued, else the first refusal,
/// counted.
fn send_each(
    count: usize,
    cb: KafkaDeliveryCallback,
    opaques: Option<&[*mut c_void]>,
    mut results: Option<&mut [KafkaErrorCode]>,
    mut send_one: impl FnMut(usize, Option<OnDelivery>) -> Result<()>,
) -> Result<KafkaErrorCode> {
    let mut first: Option<Error> = None;
    let mut refused = 0usize;
    for i in 0..count {
        // The caller promises each opaque may be used from the producer's
        // thread.
        let opaque = opaques.map_or(0, |o| o[i] as usize);
        let code = match send_one(i, cb.map(|f| report_to(f, opaque))) {
            Ok(()) => KafkaErrorCode::KAFKA_OK,
            Err(e) => {
                refused += 1;
                let code = KafkaErrorCode::from(e.kind);
                first.get_or_insert(e.context(&format!("record {i}")));
                code
            }
        };
        if let Some(out) = results.as_deref_mut() {
            out[i] = code;
        }
    }
    match first {
        None => Ok(KafkaErrorCode::KAFKA_OK),
        Some(e) => Err(e.context(&format!(
            "{refused} of {count} records refused (the others are queued); the first"
        ))),
    }
}

/// `kafka_producer_send`, waiting for room when the local queue is full
/// (`queue_buffering_max_messages` / `_kbytes`), instead of failing with
/// `KAFKA_ERR_QUEUE_FULL` at once.
///
/// @param p          The producer.
/// @param record     The message (see `KafkaRecord`), lent for the call.
/// @param cb         As for `kafka_producer_send`.
/// @param opaque     Passed to `cb`.
/// @param timeout_ms How long to wait for room: 0 or more (the wait is
///                   always bounded).
/// @param err        NULL, or where a failure is described (`KAFKA_OK` on
///                   success).
/// @return `KAFKA_OK` once queued, or the failure's code:
///         `KAFKA_ERR_TIMEOUT` (no room came in time: the record was not
///         queued and `cb` is not called), `KAFKA_ERR_STATE` (refused inside
///         this producer's own callbacks: their thread is the one that makes
///         room), `KAFKA_ERR_INVALID_ARGUMENT` (an invalid record, a negative
///         `timeout_ms`).
#[no_mangle]
pub unsafe extern "C" fn kafka_producer_send_wait(
    p: *mut KafkaProducer,
    record: *const KafkaRecord,
    cb: KafkaDeliveryCallback,
    opaque: *mut c_void,
    timeout_ms: i32,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        if timeout_ms < 0 {
            return Err(Error::invalid_argument(format!(
                "timeout_ms must be 0 or more (the wait for room is always bounded), not \
                 {timeout_ms}"
            )));
        }
        let timeout = Duration::from_millis(timeout_ms as u64);
        let send = |p: &Producer, r: &Record<'_>, d| p.send_wait(r, d, timeout);
        // SAFETY: `p` is NULL or a live producer and `record` NULL or a `KafkaRecord` the caller
        // lends for this call (the header's contract), as `send_with` needs.
        unsafe { send_with(p, record, cb, opaque, send) }
    })
}

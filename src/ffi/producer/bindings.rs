//! The sends for language bindings: tracked, packed and handed-over
//! sends whose outcomes are taken in bulk (`kafka_producer_reports`,
//! `_reports_gathered`) instead of a callback per message.

use super::*;

/// The outcome of a message sent with `kafka_producer_send_tracked`.
#[repr(C)]
pub struct KafkaTrackedReport {
    /// The tag the message was sent with.
    pub tag: u64,
    /// `KAFKA_OK` when the broker acknowledged the message.
    pub code: KafkaErrorCode,
    /// librdkafka's error code, 0 on success.
    pub rdkafka_code: i32,
    /// -1 when the message was not delivered.
    pub partition: i32,
    /// -1 when the message was not acknowledged.
    pub offset: i64,
    /// Milliseconds since the epoch, -1 when unknown.
    pub timestamp_ms: i64,
}

impl Lent for KafkaTrackedReport {}

impl From<&Tracked> for KafkaTrackedReport {
    fn from(t: &Tracked) -> Self {
        match &t.outcome {
            Ok(d) => KafkaTrackedReport {
                tag: t.tag,
                code: KafkaErrorCode::KAFKA_OK,
                rdkafka_code: 0,
                partition: d.partition,
                offset: d.offset,
                timestamp_ms: d.timestamp_ms,
            },
            Err(f) => KafkaTrackedReport {
                tag: t.tag,
                code: f.kind.into(),
                rdkafka_code: f.rdkafka_code,
                partition: -1,
                offset: -1,
                timestamp_ms: -1,
            },
        }
    }
}

/// Sends `record` as `kafka_producer_send` does, but keeps its outcome,
/// tagged with `tag`, for `kafka_producer_reports` instead of calling a
/// function per message.
///
/// For bindings to whom a call per message from the producer's thread is
/// expensive (entering Python, Node or Go from a foreign thread costs more
/// than the send), which then take outcomes in bulk. Every message sent
/// this way gets exactly one report (delivered, failed, or purged at
/// close); take them, or they are kept until the producer is closed.
///
/// @param p      The producer.
/// @param record The message (see `KafkaRecord`), lent for the call.
/// @param tag    The tag its report carries.
/// @param err    NULL, or where a failure is described (`KAFKA_OK` on
///               success).
/// @return `KAFKA_OK` once queued, or the failure's code: invalid records
///         (`KAFKA_ERR_INVALID_ARGUMENT`) and a full queue
///         (`KAFKA_ERR_QUEUE_FULL`) fail here and queue nothing (no report).
#[no_mangle]
pub unsafe extern "C" fn kafka_producer_send_tracked(
    p: *mut KafkaProducer,
    record: *const KafkaRecord,
    tag: u64,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY (all three): `p` is NULL or a live producer, `record` NULL or a `KafkaRecord` the
        // caller lends for this call, its pointers as its fields say (the header).
        let p = unsafe { handle(p, "p") }?;
        let record = unsafe { arg(record, "record") }?;
        let mut headers = Vec::new();
        let record = unsafe { record_from(record, &mut headers) }?;
        p.inner.send_tracked(&record, tag)?;
        Ok(KafkaErrorCode::KAFKA_OK)
    })
}

/// Sends `count` records to `topic` in one call, each tracked as by
/// `kafka_producer_send_tracked` with tag `first_tag + i`.
///
/// For bindings that gather records (in one buffer) and cross into the
/// library once per batch. It stops at the first record that cannot be
/// queued: its later records are not sent (send them again after dealing
/// with it).
///
/// @param p          The producer.
/// @param topic      The topic, NUL-terminated.
/// @param data       For each record in order, its key then its value, back
///                   to back.
/// @param data_len   The bytes in `data`, in all.
/// @param lengths    `2 * count` lengths, key then value for each record, -1
///                   for none (no key, a tombstone).
/// @param count      How many records.
/// @param first_tag  The first record's tag.
/// @param timeout_ms How long to wait in all for room when the local queue
///                   is full (0: not at all; -1: no limit; refused inside
///                   this producer's callbacks).
/// @param queued     NULL, or receives how many were queued before the
///                   first that could not be (`count` when all were).
/// @param err        NULL, or where a failure is described (`KAFKA_OK` on
///                   success).
/// @return `KAFKA_OK` when all were queued, else why the first record that
///         was not could not be; lengths that do not add up to `data_len`,
///         and a length below -1, queue nothing
///         (`KAFKA_ERR_INVALID_ARGUMENT`, naming the record).
#[no_mangle]
pub unsafe extern "C" fn kafka_producer_send_tracked_packed(
    p: *mut KafkaProducer,
    topic: *const c_char,
    data: *const c_void,
    data_len: usize,
    lengths: *const i64,
    count: usize,
    first_tag: u64,
    timeout_ms: i32,
    queued: *mut usize,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: `queued` is NULL or writable for one `size_t` (the header's contract); written
        // only after the sends, whatever their result.
        let queued = unsafe { queued.as_mut() };
        let mut done = 0;
        let result = (|| {
            // SAFETY: `p`, `topic`, `data` (`data_len` bytes) and `lengths` (`2 * count`) are NULL
            // or valid as the header says, as `packed_args` requires.
            let (p, topic, data, lengths) =
                unsafe { packed_args(p, topic, data, data_len, lengths, count) }?;
            let records = unpack(topic, data, lengths)?;
            let timeout = arg_timeout(timeout_ms)?.unwrap_or(Duration::MAX);
            let (n, failure) = p.inner.send_tracked_all(&records, first_tag, timeout);
            done = n;
            match failure {
                None => Ok(KafkaErrorCode::KAFKA_OK),
                Some(e) => Err(e),
            }
        })();
        if let Some(q) = queued {
            *q = done;
        }
        result
    })
}

/// The arguments of a packed send, checked.
///
/// # Safety
/// As the module contract says of each.
unsafe fn packed_args<'a>(
    p: *mut KafkaProducer,
    topic: *const c_char,
    data: *const c_void,
    data_len: usize,
    lengths: *const i64,
    count: usize,
) -> Result<(&'a KafkaProducer, &'a str, &'a [u8], &'a [i64])> {
    // SAFETY (all four): the caller's contract.
    let p = unsafe { handle(p, "p") }?;
    let topic = unsafe { arg_str(topic, "topic") }?;
    let data = unsafe { arg_bytes(data, data_len, "data") }?.unwrap_or_default();
    let lengths =
        unsafe { opt_slice(lengths, count.saturating_mul(2), "lengths") }?.unwrap_or_default();
    if lengths.len() != count.saturating_mul(2) {
        return Err(Error::invalid_argument(
            "lengths is NULL but count is not 0",
        ));
    }
    Ok((p, topic, data, lengths))
}

/// Hands `count` packed records to the producer's own sender thread and
/// returns once they are copied.
///
/// For a binding whose sending thread is its busiest (Python's, holding the
/// interpreter's lock), which should not pay librdkafka's cost per message
/// or wait for its room. The thread queues them in the order they were
/// handed over. A record that cannot be queued gets a failed report
/// (`KAFKA_ERR_TIMEOUT`, a too-large record's code, `KAFKA_ERR_BROKER` with
/// librdkafka's purge code when purged, aborted or closed out of time) and
/// the records after it go on: every record handed over gets exactly one
/// report. They count as in flight from now: flush and close wait for
/// them, and `kafka_producer_purge` with `queued` and
/// `kafka_producer_abort_transaction` fail those not yet queued.
///
/// Never waits. A message sent another way after this call may be queued
/// before these: call `kafka_producer_wait_handed_over` first when the
/// order matters.
///
/// @param p          The producer.
/// @param topic      The topic, NUL-terminated.
/// @param data       The keys and values, laid out as for
///                   `kafka_producer_send_tracked_packed`.
/// @param data_len   The bytes in `data`, in all.
/// @param lengths    `2 * count` lengths, as for
///                   `kafka_producer_send_tracked_packed`.
/// @param count      How many records.
/// @param first_tag  The first record's tag: record `i` is tracked with tag
///                   `first_tag + i`.
/// @param timeout_ms How long after this call a record waits for room in the
///                   local queue (-1: no limit).
/// @param err        NULL, or where a failure is described (`KAFKA_OK` on
///                   success).
/// @return `KAFKA_OK` when the records were taken, or the failure's code,
///         with nothing taken: `KAFKA_ERR_QUEUE_FULL` (20,000 records wait
///         for the thread already; wait for room with
///         `kafka_producer_wait_handed_over`), `KAFKA_ERR_INVALID_ARGUMENT`
///         (lengths that do not add up or a length below -1, naming the
///         record), `KAFKA_ERR_STATE` (a closing producer).
#[no_mangle]
pub unsafe extern "C" fn kafka_producer_hand_over_tracked_packed(
    p: *mut KafkaProducer,
    topic: *const c_char,
    data: *const c_void,
    data_len: usize,
    lengths: *const i64,
    count: usize,
    first_tag: u64,
    timeout_ms: i32,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: `p`, `topic`, `data` (`data_len` bytes) and `lengths` (`2 * count`) are NULL or
        // valid as the header says, as `packed_args` requires; the data is copied.
        let (p, topic, data, lengths) =
            unsafe { packed_args(p, topic, data, data_len, lengths, count) }?;
        let timeout = arg_timeout(timeout_ms)?.unwrap_or(Duration::MAX);
        p.inner
            .hand_over_tracked(topic, data, lengths, first_tag, timeout)?;
        Ok(KafkaErrorCode::KAFKA_OK)
    })
}

/// Waits until every record handed over before the call
/// (`kafka_producer_hand_over_tracked_packed`) is in the local queue or
/// has its failed report.
///
/// A message sent after it returns is queued after them. Records handed
/// over meanwhile do not hold it up.
///
/// @param p          The producer.
/// @param timeout_ms How long to wait (-1: no limit).
/// @param err        NULL, or where a failure is described (`KAFKA_OK` on
///                   success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_TIMEOUT`,
///         `KAFKA_ERR_STATE` (refused inside this producer's callbacks),
///         `KAFKA_ERR_INVALID_ARGUMENT` (`p` NULL, a bad timeout).
#[no_mangle]
pub unsafe extern "C" fn kafka_producer_wait_handed_over(
    p: *mut KafkaProducer,
    timeout_ms: i32,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: `p` is NULL or a live producer, shareable between threads and not closed while
        // this waits for the hand-over (the header's contract); `handle` refuses NULL.
        let p = unsafe { handle(p, "p") }?;
        p.inner.wait_handed_over(arg_timeout(timeout_ms)?)?;
        Ok(KafkaErrorCode::KAFKA_OK)
    })
}

/// Writes up to `capacity` outcomes of `kafka_producer_send_tracked`
/// messages to `out`, oldest first.
///
/// A thread blocked here must return before the producer is closed.
///
/// @param p          The producer.
/// @param out        Room for `capacity` reports.
/// @param capacity   How many reports `out` has room for (1 or more).
/// @param timeout_ms How long to wait for the first when none is there (-1:
///                   no limit, 0: not at all).
/// @param count      NULL, or receives how many reports were written (0 when
///                   none came in time).
/// @param err        NULL, or where a failure is described (`KAFKA_OK` on
///                   success).
/// @return `KAFKA_OK`, also when none came in time, or the failure's code:
///         `KAFKA_ERR_STATE` (waiting is refused inside this producer's own
///         callbacks), `KAFKA_ERR_INVALID_ARGUMENT` (`p` NULL, `out` NULL or
///         `capacity` 0, a bad timeout).
#[no_mangle]
pub unsafe extern "C" fn kafka_producer_reports(
    p: *mut KafkaProducer,
    out: *mut KafkaTrackedReport,
    capacity: usize,
    timeout_ms: i32,
    count: *mut usize,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    // SAFETY: the same contract; it goes through the panic boundary.
    unsafe { kafka_producer_reports_gathered(p, out, capacity, timeout_ms, 0, count, err) }
}

/// `kafka_producer_reports`, and once the first outcome is there, up to
/// `gather_ms` more for others to join it.
///
/// It gathers until `capacity` are there or no message of this producer is
/// in flight (so a lone message's outcome is not held back). For a caller
/// who pays per call (a lock to take, a language runtime to enter): while
/// messages stream, fewer calls that each take more.
///
/// @param p          The producer.
/// @param out        Room for `capacity` reports.
/// @param capacity   How many reports `out` has room for (1 or more).
/// @param timeout_ms As for `kafka_producer_reports`.
/// @param gather_ms  How long to gather after the first outcome; 0 is
///                   `kafka_producer_reports`.
/// @param count      NULL, or receives how many reports were written.
/// @param err        NULL, or where a failure is described (`KAFKA_OK` on
///                   success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_STATE` (gathering
///         is refused inside this producer's own callbacks),
///         `KAFKA_ERR_INVALID_ARGUMENT` (a negative `gather_ms`, and as for
///         `kafka_producer_reports`).
#[no_mangle]
pub unsafe extern "C" fn kafka_producer_reports_gathered(
    p: *mut KafkaProducer,
    out: *mut KafkaTrackedReport,
    capacity: usize,
    timeout_ms: i32,
    gather_ms: i32,
    count: *mut usize,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: `count` is NULL or writable for one `size_t` (the header's contract); NULL is
        // skipped.
        if let Some(n) = unsafe { count.as_mut() } {
            *n = 0;
        }
        // SAFETY: `p` is NULL or a live producer, not closed while a call waits here (the header's
        // contract); `handle` refuses NULL.
        let p = unsafe { handle(p, "p") }?;
        // SAFETY: `out` is NULL or writable for `capacity` reports that nothing else touches
        // during the call (the header's contract); NULL is refused below.
        let slots = unsafe { out_slice(out, capacity, "out") }?;
        let Some(slots) = slots else {
            return Err(Error::invalid_argument("out is NULL or capacity is 0"));
        };
        let gather = u64::try_from(gather_ms).map_err(|_| {
            Error::invalid_argument(format!("gather_ms must be at least 0, not {gather_ms}"))
        })?;
        let taken = p.inner.take_reports_gathered(
            slots.len(),
            arg_timeout(timeout_ms)?,
            Duration::from_millis(gather),
        )?;
        for (slot, t) in slots.iter_mut().zip(&taken) {
            *slot = KafkaTrackedReport::from(t);
        }
        // SAFETY: as above.
        if let Some(n) = unsafe { count.as_mut() } {
            *n = taken.len();
        }
        Ok(KafkaErrorCode::KAFKA_OK)
    })
}

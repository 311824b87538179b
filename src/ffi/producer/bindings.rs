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

/// Sends `record` as `kafka_producer_send` does, but instead of calling a
/// function per message, keeps its outcome, tagged with `tag`, for
/// `kafka_producer_reports`: for bindings to whom a call per message from
/// the producer's thread is expensive (entering Python, Node or Go from a
/// foreign thread costs more than the send), which then take outcomes in
/// bulk. Every message sent this way gets exactly one report (delivered,
/// failed, or purged at close); take them, or they are kept until the
/// producer is closed. Invalid records and a full queue fail here and
/// queue nothing (no report).
#[no_mangle]
pub unsafe extern "C" fn kafka_producer_send_tracked(
    p: *mut KafkaProducer,
    record: *const KafkaRecord,
    tag: u64,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY (all three): module contract.
        let p = unsafe { handle(p, "p") }?;
        let record = unsafe { arg(record, "record") }?;
        let mut headers = Vec::new();
        let record = unsafe { record_from(record, &mut headers) }?;
        p.inner.send_tracked(&record, tag)?;
        Ok(KafkaErrorCode::KAFKA_OK)
    })
}

/// Sends `count` records to `topic` in one call, each tracked as by
/// `kafka_producer_send_tracked` with tag `first_tag + i`: for bindings
/// that gather records (in one buffer) and cross into the library once per
/// batch. `data` holds, for each record in order, its key then its value,
/// back to back (`data_len` bytes in all); `lengths` holds `2 * count`
/// lengths, key then value for each record, -1 for none (no key, a
/// tombstone). When the local queue is full, waits up to `timeout_ms` in
/// all for room (0: not at all; -1: no limit; refused inside this
/// producer's callbacks).
///
/// Stops at the first record that cannot be queued: `*queued` is how many
/// were queued before it, the result is why it was not (its later records
/// are not sent: send them again after dealing with it). `KAFKA_OK` with
/// `*queued == count` when all were. Lengths that do not add up to
/// `data_len`, and a length below -1, queue nothing
/// (`KAFKA_ERR_INVALID_ARGUMENT`, naming the record).
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
        // SAFETY: queued is NULL or writable (module contract).
        let queued = unsafe { queued.as_mut() };
        let mut done = 0;
        let result = (|| {
            // SAFETY: module contract.
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

/// Hands `count` packed records (laid out as for
/// `kafka_producer_send_tracked_packed`) to the producer's own sender
/// thread and returns once they are copied: for a binding whose sending
/// thread is its busiest (Python's, holding the interpreter's lock), which
/// should not pay librdkafka's cost per message or wait for its room. The
/// thread queues them in the order they were handed over, each tracked
/// with tag `first_tag + i`. A record waits for room in the local queue
/// until `timeout_ms` after this call (-1: no limit); a record that cannot
/// be queued gets a failed report (`KAFKA_ERR_TIMEOUT`, a too-large
/// record's code, `KAFKA_ERR_BROKER` with librdkafka's purge code when
/// purged, aborted or closed out of time) and the records after it go on:
/// every record handed over gets exactly one report. They count as in
/// flight from now: flush and close wait for them, and
/// `kafka_producer_purge` with `purge_queued` and
/// `kafka_producer_abort_transaction` fail those not yet queued.
///
/// Never waits. When 20,000 records wait for the thread already:
/// `KAFKA_ERR_QUEUE_FULL`, nothing taken (wait for room with
/// `kafka_producer_wait_handed_over`). Lengths that do not add up or a
/// length below -1 (`KAFKA_ERR_INVALID_ARGUMENT`, naming the record), or
/// a closing producer (`KAFKA_ERR_STATE`), take nothing. A message sent
/// another way after this call may be queued before these: call
/// `kafka_producer_wait_handed_over` first when the order matters.
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
        // SAFETY: module contract.
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
/// has its failed report, up to `timeout_ms` (-1: no limit; then
/// `KAFKA_ERR_TIMEOUT`): a message sent after it returns is queued after
/// them. Records handed over meanwhile do not hold it up. Refused inside
/// this producer's callbacks.
#[no_mangle]
pub unsafe extern "C" fn kafka_producer_wait_handed_over(
    p: *mut KafkaProducer,
    timeout_ms: i32,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: module contract.
        let p = unsafe { handle(p, "p") }?;
        p.inner.wait_handed_over(arg_timeout(timeout_ms)?)?;
        Ok(KafkaErrorCode::KAFKA_OK)
    })
}

/// Writes up to `capacity` outcomes of `kafka_producer_send_tracked`
/// messages to `out`, oldest first, and their number to `*count`; waits up
/// to `timeout_ms` (-1: no limit, 0: not at all) for the first when none
/// is there (then `*count` is 0 and the result `KAFKA_OK`). Waiting is
/// refused (`KAFKA_ERR_STATE`) inside this producer's own callbacks. A
/// thread blocked here must return before the producer is closed.
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
/// `gather_ms` more for others to join it, until `capacity` are there or
/// no message of this producer is in flight (so a lone message's outcome
/// is not held back). For a caller who pays per call (a lock to take, a
/// language runtime to enter): while messages stream, fewer calls that
/// each take more. `gather_ms` 0 is `kafka_producer_reports`; a negative
/// one is `KAFKA_ERR_INVALID_ARGUMENT`. Gathering is refused
/// (`KAFKA_ERR_STATE`) inside this producer's own callbacks.
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
        // SAFETY: count is NULL or writable (module contract).
        if let Some(n) = unsafe { count.as_mut() } {
            *n = 0;
        }
        // SAFETY: module contract.
        let p = unsafe { handle(p, "p") }?;
        // SAFETY: module contract.
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

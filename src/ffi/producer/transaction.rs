//! `KafkaProducer`'s transactions, its fatal error, and purges.

use super::*;

/// Transactions, for exactly-once pipelines: set `transactional_id` in the
/// producer's overrides, call this once, then per transaction
/// `kafka_producer_begin_transaction`, sends,
/// `kafka_producer_send_offsets_to_transaction` (a consume-transform-produce
/// loop) and `kafka_producer_commit_transaction` or `_abort_transaction`.
/// This registers the id with the broker, fencing any older producer with
/// it and finishing that producer's open transaction. On failure, `err`
/// says what to do: `retriable` (call again), `txn_requires_abort` (abort,
/// then go on), `fatal` (this producer is finished: close it and create a
/// new one). These calls are refused inside the producer's own callbacks
/// (`KAFKA_ERR_STATE`), and on a producer without `transactional_id`.
#[no_mangle]
pub unsafe extern "C" fn kafka_producer_init_transactions(
    p: *mut KafkaProducer,
    timeout_ms: i32,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        let timeout = arg_timeout(timeout_ms)?;
        // SAFETY: module contract.
        unsafe { act(p, |p| p.init_transactions(timeout)) }
    })
}

/// Starts a transaction: everything sent until the commit or abort belongs
/// to it. Local: it waits for nothing, so it takes no timeout.
#[no_mangle]
pub unsafe extern "C" fn kafka_producer_begin_transaction(
    p: *mut KafkaProducer,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: module contract.
        unsafe { act(p, Producer::begin_transaction) }
    })
}

/// Adds consumer `c`'s offsets to the transaction, to be committed with
/// its output (and not at all if it aborts): exactly `offsets` (each the
/// offset of the next message to consume), or with NULL, `c`'s position
/// on each partition it holds (the message after the last one it handed
/// out). `c` must not commit by itself: create it with
/// `enable_auto_commit=false` (else `KAFKA_ERR_CONFIG`), and read with
/// `isolation_level=read_committed` when its input is transactional too.
#[no_mangle]
pub unsafe extern "C" fn kafka_producer_send_offsets_to_transaction(
    p: *mut KafkaProducer,
    c: *mut KafkaConsumer,
    offsets: *const KafkaPartitionList,
    timeout_ms: i32,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        let timeout = arg_timeout(timeout_ms)?;
        // SAFETY: module contract.
        let offsets = unsafe { opt_offsets_arg(offsets, "offsets") }?;
        // SAFETY: module contract (for p and c).
        unsafe {
            act(p, |p| {
                consumer::with(c, |c| {
                    p.send_offsets_to_transaction(c, offsets.as_deref(), timeout)
                })
            })
        }
    })
}

/// Commits the transaction: waits until everything it sent is delivered,
/// then makes it visible to `read_committed` readers, with its offsets.
/// `KAFKA_ERR_TIMEOUT` (retriable) may be called again.
#[no_mangle]
pub unsafe extern "C" fn kafka_producer_commit_transaction(
    p: *mut KafkaProducer,
    timeout_ms: i32,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        let timeout = arg_timeout(timeout_ms)?;
        // SAFETY: module contract.
        unsafe { act(p, |p| p.commit_transaction(timeout)) }
    })
}

/// Aborts the transaction: what it sent is never visible to
/// `read_committed` readers and its offsets are not committed; messages
/// still queued, and records handed over and not yet queued, get their
/// failure callbacks or reports. A consumer feeding the transaction
/// should then go back to its committed offsets (or restart).
/// `KAFKA_ERR_TIMEOUT` (retriable) may be called again.
#[no_mangle]
pub unsafe extern "C" fn kafka_producer_abort_transaction(
    p: *mut KafkaProducer,
    timeout_ms: i32,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        let timeout = arg_timeout(timeout_ms)?;
        // SAFETY: module contract.
        unsafe { act(p, |p| p.abort_transaction(timeout)) }
    })
}

/// Whether the producer hit a fatal error (fenced by a newer producer with
/// its `transactional_id`, or an idempotence failure such as an
/// out-of-order sequence): then `*err` (may be NULL) gets it, with
/// `fatal` set, and every later call on the producer fails. The only
/// recovery is a new producer: close this one (its undelivered messages
/// get failure callbacks) and create another. false (and `*err` cleared)
/// when there is none, and for NULL.
#[no_mangle]
pub unsafe extern "C" fn kafka_producer_fatal_error(
    p: *const KafkaProducer,
    err: *mut KafkaError,
) -> bool {
    call_infallible(here!(SUBJECT), || {
        // SAFETY: module contract.
        let fatal = unsafe { opt_handle(p) }.and_then(|p| p.inner.fatal_error());
        // SAFETY: err is NULL or points to a caller-owned KafkaError.
        if let Some(out) = unsafe { err.as_mut() } {
            match &fatal {
                Some(e) => out.set(KafkaErrorCode::from(e.kind), e),
                None => out.set_ok(),
            }
        }
        fatal.is_some()
    })
}

/// Purges messages not yet delivered: those in the local queue (`queued`,
/// with the records handed over and not yet queued) and those sent but
/// not yet answered (`in_flight`: whether the broker got them is then
/// unknown). Each purged message gets its failure callback or report
/// (`rdkafka_code` -152 for queued, -151 for in flight), on the
/// producer's threads; `kafka_producer_flush` returns once they ran.
#[no_mangle]
pub unsafe extern "C" fn kafka_producer_purge(
    p: *mut KafkaProducer,
    queued: bool,
    in_flight: bool,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: module contract.
        unsafe { act(p, |p| p.purge(queued, in_flight)) }
    })
}

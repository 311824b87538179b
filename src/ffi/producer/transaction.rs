//! `KafkaProducer`'s transactions, its fatal error, and purges.

use super::*;

/// Registers the producer's `transactional_id` with the broker: the first
/// step of transactions, for exactly-once pipelines.
///
/// Set `transactional_id` in the producer's overrides, call this once,
/// then per transaction `kafka_producer_begin_transaction`, sends,
/// `kafka_producer_send_offsets_to_transaction` (a consume-transform-produce
/// loop) and `kafka_producer_commit_transaction` or `_abort_transaction`.
/// This fences any older producer with the id and finishes that producer's
/// open transaction.
///
/// @param p          The producer.
/// @param timeout_ms How long to wait for the broker.
/// @param err        NULL, or where a failure is described (`KAFKA_OK` on
///                   success). On failure, it says what to do: `retriable`
///                   (call again), `txn_requires_abort` (abort, then go on),
///                   `fatal` (this producer is finished: close it and create
///                   a new one).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_STATE` (these calls
///         are refused inside the producer's own callbacks, and on a
///         producer without `transactional_id`), `KAFKA_ERR_TIMEOUT`,
///         `KAFKA_ERR_BROKER`.
#[no_mangle]
pub unsafe extern "C" fn kafka_producer_init_transactions(
    p: *mut KafkaProducer,
    timeout_ms: i32,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        let timeout = arg_timeout(timeout_ms)?;
        // SAFETY: `p` is NULL or a live producer, not closed during the init, however long it
        // waits (the header's contract); `act` refuses NULL.
        unsafe { act(p, |p| p.init_transactions(timeout)) }
    })
}

/// Starts a transaction: everything sent until the commit or abort belongs
/// to it.
///
/// Local: it waits for nothing, so it takes no timeout.
///
/// @param p   The producer.
/// @param err NULL, or where a failure is described (`KAFKA_OK` on success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_STATE` (as for
///         `kafka_producer_init_transactions`), `KAFKA_ERR_INVALID_ARGUMENT`
///         (`p` NULL).
#[no_mangle]
pub unsafe extern "C" fn kafka_producer_begin_transaction(
    p: *mut KafkaProducer,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: `p` is NULL or a live producer, not closed during the begin (the header's
        // contract); `act` refuses NULL.
        unsafe { act(p, Producer::begin_transaction) }
    })
}

/// Adds consumer `c`'s offsets to the transaction, to be committed with
/// its output (and not at all if it aborts).
///
/// `c` must not commit by itself: create it with `enable_auto_commit=false`,
/// and read with `isolation_level=read_committed` when its input is
/// transactional too.
///
/// @param p          The producer.
/// @param c          The consumer whose offsets are committed.
/// @param offsets    Exactly the offsets to commit (each the offset of the
///                   next message to consume), or with NULL, `c`'s position
///                   on each partition it holds (the message after the last
///                   one it handed out).
/// @param timeout_ms How long to wait for the broker.
/// @param err        NULL, or where a failure is described (`KAFKA_OK` on
///                   success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_CONFIG` (`c` was not
///         created with `enable_auto_commit=false`), `KAFKA_ERR_STATE`,
///         `KAFKA_ERR_TIMEOUT`, `KAFKA_ERR_BROKER`,
///         `KAFKA_ERR_INVALID_ARGUMENT` (`p` or `c` NULL, an empty `offsets`
///         or an offset below 0).
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
        // SAFETY: `offsets` is NULL (the positions) or a live partition list, not changed during
        // the call (the header's contract); read before this returns.
        let offsets = unsafe { opt_offsets_arg(offsets, "offsets") }?;
        // SAFETY: `p` is NULL or a live producer and `c` NULL or a live consumer (the header's
        // contract); `act` and `consumer::with` refuse NULL.
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
///
/// @param p          The producer.
/// @param timeout_ms How long to wait.
/// @param err        NULL, or where a failure is described (`KAFKA_OK` on
///                   success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_TIMEOUT`
///         (retriable: it may be called again), `KAFKA_ERR_STATE`,
///         `KAFKA_ERR_BROKER` (see `err`'s `txn_requires_abort` and `fatal`).
#[no_mangle]
pub unsafe extern "C" fn kafka_producer_commit_transaction(
    p: *mut KafkaProducer,
    timeout_ms: i32,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        let timeout = arg_timeout(timeout_ms)?;
        // SAFETY: `p` is NULL or a live producer, not closed during the commit, however long it
        // waits (the header's contract); `act` refuses NULL.
        unsafe { act(p, |p| p.commit_transaction(timeout)) }
    })
}

/// Aborts the transaction: what it sent is never visible to
/// `read_committed` readers and its offsets are not committed.
///
/// Messages still queued, and records handed over and not yet queued, get
/// their failure callbacks or reports. A consumer feeding the transaction
/// should then go back to its committed offsets (or restart).
///
/// @param p          The producer.
/// @param timeout_ms How long to wait.
/// @param err        NULL, or where a failure is described (`KAFKA_OK` on
///                   success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_TIMEOUT`
///         (retriable: it may be called again), `KAFKA_ERR_STATE`,
///         `KAFKA_ERR_BROKER`.
#[no_mangle]
pub unsafe extern "C" fn kafka_producer_abort_transaction(
    p: *mut KafkaProducer,
    timeout_ms: i32,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        let timeout = arg_timeout(timeout_ms)?;
        // SAFETY: `p` is NULL or a live producer, not closed during the abort, however long it
        // waits (the header's contract); `act` refuses NULL.
        unsafe { act(p, |p| p.abort_transaction(timeout)) }
    })
}

/// Tells whether the producer hit a fatal error (fenced by a newer producer
/// with its `transactional_id`, or an idempotence failure such as an
/// out-of-order sequence).
///
/// After one, every later call on the producer fails. The only recovery is
/// a new producer: close this one (its undelivered messages get failure
/// callbacks) and create another.
///
/// @param p   The producer, or NULL.
/// @param err NULL, or receives the fatal error, with `fatal` set; cleared
///            (`KAFKA_OK`) when there is none.
/// @return true when the producer hit a fatal error; false when there is
///         none, and for NULL.
#[no_mangle]
pub unsafe extern "C" fn kafka_producer_fatal_error(
    p: *const KafkaProducer,
    err: *mut KafkaError,
) -> bool {
    call_infallible(here!(SUBJECT), || {
        // SAFETY: `p` is NULL or a live producer, shareable between threads (the header's
        // contract); `opt_handle` maps NULL to `None`.
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

/// Purges messages not yet delivered.
///
/// Each purged message gets its failure callback or report (`rdkafka_code`
/// -152 for queued, -151 for in flight), on the producer's threads;
/// `kafka_producer_flush` returns once they ran.
///
/// @param p         The producer.
/// @param queued    Purge those in the local queue, with the records handed
///                  over and not yet queued.
/// @param in_flight Purge those sent but not yet answered (whether the
///                  broker got them is then unknown).
/// @param err       NULL, or where a failure is described (`KAFKA_OK` on
///                  success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_INVALID_ARGUMENT`
///         (`p` NULL).
#[no_mangle]
pub unsafe extern "C" fn kafka_producer_purge(
    p: *mut KafkaProducer,
    queued: bool,
    in_flight: bool,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: `p` is NULL or a live producer, not closed during the purge (the header's
        // contract); `act` refuses NULL.
        unsafe { act(p, |p| p.purge(queued, in_flight)) }
    })
}

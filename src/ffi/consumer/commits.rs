//! `KafkaConsumer`'s commits of given offsets, synchronous and
//! asynchronous.

use super::*;

/// The outcome of a `kafka_consumer_commit_async`: `result->code` is
/// `KAFKA_OK` or why the commit failed (`KAFKA_ERR_TIMEOUT` when the
/// consumer closed before the outcome arrived); `offsets` (NULL when
/// there was nothing to commit) holds what was committed, each the offset
/// of the next message to consume. Both are valid during the call. It runs
/// on the thread that polls, inside `kafka_consumer_poll`, `_poll_batch`
/// or `_consume`, or inside `kafka_consumer_close`; it may call
/// `kafka_consumer_commit_async` again, `_commit`, `_store_message` and
/// the queries; polling and closing are refused (`KAFKA_ERR_STATE`), and
/// inside close every call is.
pub type KafkaCommitCallback = Option<
    unsafe extern "C" fn(
        c: *mut KafkaConsumer,
        result: *const KafkaError,
        offsets: *const KafkaPartitionList,
        opaque: *mut c_void,
    ),
>;

/// Commits exactly the offsets of `list` (each the offset of the next
/// message to consume, 0 or more) and waits for the broker, at most
/// `default_api_timeout_ms`. What the application is done with is left
/// for the next commit.
#[no_mangle]
pub unsafe extern "C" fn kafka_consumer_commit_offsets(
    c: *mut KafkaConsumer,
    list: *const KafkaPartitionList,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: module contract.
        let offsets = unsafe { list_arg(list, "list") }?.offsets()?;
        // SAFETY: module contract.
        unsafe { act(c, |c| c.commit_offsets(&offsets)) }
    })
}

/// Starts a commit and returns at once: of exactly the offsets of `list`
/// (each the offset of the next message to consume, 0 or more) or, with a
/// NULL `list`, of what the application is done with (as
/// `kafka_consumer_commit`). When it returns `KAFKA_OK`, `cb` (NULL: no
/// callback) is called exactly once with the outcome (see
/// `KafkaCommitCallback`); `kafka_consumer_close` waits for outcomes still
/// out, up to `default_api_timeout_ms`. On any other return, it is never
/// called. A failed commit of what is done is retried by the next commit.
#[no_mangle]
pub unsafe extern "C" fn kafka_consumer_commit_async(
    c: *mut KafkaConsumer,
    list: *const KafkaPartitionList,
    cb: KafkaCommitCallback,
    opaque: *mut c_void,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: module contract.
        let offsets = unsafe { opt_offsets_arg(list, "list") }?;
        // The caller promises opaque may be used on the polling thread; the
        // handle outlives the callback (close serves the last outcomes).
        let (handle_addr, opaque) = (c as usize, opaque as usize);
        let done = cb.map(|f| -> CommitDone {
            Box::new(move |result: Result<()>, offsets: Vec<PartitionOffset>| {
                let mut e = KafkaError::default();
                match &result {
                    Ok(()) => e.set_ok(),
                    Err(error) => e.set(error.kind.into(), error),
                }
                let list = if offsets.is_empty() {
                    std::ptr::null_mut()
                } else {
                    KafkaPartitionList::of_offsets(offsets)
                };
                // SAFETY: the caller's callback, given the live consumer,
                // and an error and a list alive until it returns.
                unsafe {
                    f(
                        handle_addr as *mut KafkaConsumer,
                        &e,
                        list,
                        opaque as *mut c_void,
                    );
                    free_handle(list);
                }
            })
        });
        // SAFETY: module contract.
        unsafe { act(c, |c| c.commit_async(offsets.as_deref(), done)) }
    })
}

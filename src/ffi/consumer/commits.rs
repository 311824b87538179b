//! `KafkaConsumer`'s commits of given offsets, synchronous and
//! asynchronous.

use super::*;

/// Receives the outcome of a `kafka_consumer_commit_async`.
///
/// It runs on the thread that polls, inside `kafka_consumer_poll`,
/// `_poll_batch` or `_consume`, or inside `kafka_consumer_close`; it may
/// call `kafka_consumer_commit_async` again, `_commit`, `_store_message` and
/// the queries; polling and closing are refused (`KAFKA_ERR_STATE`), and
/// inside close every call is.
///
/// @param c       The consumer that committed.
/// @param result  Valid during the call: `result->code` is `KAFKA_OK` or why
///                the commit failed (`KAFKA_ERR_TIMEOUT` when the consumer
///                closed before the outcome arrived).
/// @param offsets Valid during the call; NULL when there was nothing to
///                commit: what was committed, each the offset of the next
///                message to consume.
/// @param opaque  The `opaque` given to `kafka_consumer_commit_async`.
pub type KafkaCommitCallback = Option<
    unsafe extern "C" fn(
        c: *mut KafkaConsumer,
        result: *const KafkaError,
        offsets: *const KafkaPartitionList,
        opaque: *mut c_void,
    ),
>;

/// Commits exactly the offsets of `list` and waits for the broker, at most
/// `default_api_timeout_ms`.
///
/// What the application is done with is left for the next commit.
///
/// @param c    The consumer.
/// @param list The offsets, each the offset of the next message to consume
///             (0 or more).
/// @param err  NULL, or where a failure is described (`KAFKA_OK` on
///             success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_INVALID_ARGUMENT`
///         (`c` or `list` NULL, an empty list, an offset below 0),
///         `KAFKA_ERR_TIMEOUT`, `KAFKA_ERR_BROKER`.
#[no_mangle]
pub unsafe extern "C" fn kafka_consumer_commit_offsets(
    c: *mut KafkaConsumer,
    list: *const KafkaPartitionList,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: `list` is NULL or a live partition list no thread changes until the commit has
        // read it (the header's contract); `list_arg` refuses NULL and an empty list.
        let offsets = unsafe { list_arg(list, "list") }?.offsets()?;
        // SAFETY: `c` is NULL or a live consumer (the header's contract); `act` refuses NULL and a
        // closing consumer, and borrows `c` for the commit of `list`'s offsets only.
        unsafe { act(c, |c| c.commit_offsets(&offsets)) }
    })
}

/// Starts a commit and returns at once.
///
/// `kafka_consumer_close` waits for outcomes still out, up to
/// `default_api_timeout_ms`. A failed commit of what is done is retried by
/// the next commit.
///
/// @param c      The consumer.
/// @param list   The offsets to commit exactly, each the offset of the next
///               message to consume (0 or more); NULL: what the application
///               is done with (as `kafka_consumer_commit`).
/// @param cb     NULL (no callback), or called exactly once with the outcome
///               when this returns `KAFKA_OK` (see `KafkaCommitCallback`);
///               on any other return, it is never called.
/// @param opaque Passed to `cb` as is.
/// @param err    NULL, or where a failure is described (`KAFKA_OK` on
///               success).
/// @return `KAFKA_OK` when the commit started, or the failure's code:
///         `KAFKA_ERR_INVALID_ARGUMENT` (`c` NULL, an empty `list`, an offset
///         below 0).
#[no_mangle]
pub unsafe extern "C" fn kafka_consumer_commit_async(
    c: *mut KafkaConsumer,
    list: *const KafkaPartitionList,
    cb: KafkaCommitCallback,
    opaque: *mut c_void,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: `list` is NULL (commit what is done) or a live partition list, not changed
        // during the call (the header's contract); read before this returns.
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
        // SAFETY: `c` is NULL or a live consumer (the header's contract); `act` refuses NULL and a
        // closing consumer, and `c` outlives `cb` (close serves the last).
        unsafe { act(c, |c| c.commit_async(offsets.as_deref(), done)) }
    })
}

//! `KafkaConsumer`'s group control: subscription, assignment, seeks,
//! pauses, positions, offsets and lag, and the rebalance callback.

use super::*;

/// A list answer into `*out` (set to NULL first; on success the caller
/// frees the list with `kafka_partition_list_free`).
///
/// # Safety
/// `c` is NULL or a live consumer handle; `out` is NULL or writable.
unsafe fn answer_into<T>(
    c: *const KafkaConsumer,
    out: *mut *mut KafkaPartitionList,
    ask: impl FnOnce(&Consumer) -> Result<T>,
    make: impl FnOnce(T) -> *mut KafkaPartitionList,
) -> Result<KafkaErrorCode> {
    // SAFETY: the caller's contract.
    let out = unsafe { out_slot(out, "out") }?;
    // SAFETY: the caller's contract.
    *out = make(unsafe { with(c, ask) }?);
    Ok(KafkaErrorCode::KAFKA_OK)
}

/// What a rebalance did, for a `KafkaRebalanceCallback`.
#[repr(C)]
#[allow(non_camel_case_types)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KafkaRebalanceEvent {
    /// The partitions are being assigned to this consumer (incrementally,
    /// with `cooperative-sticky` and the consumer group protocol): the
    /// library starts them when the callback returns, at their committed
    /// offset, and the next poll may return their messages. Seek here
    /// (`kafka_consumer_seek`, `_seek_to_time`) to start somewhere else;
    /// a pause here (`kafka_consumer_pause`) holds them from the start.
    /// `kafka_consumer_assignment`, `_position` and `_committed` do not
    /// list them until the callback returns.
    KAFKA_REBALANCE_ASSIGNED = 1,
    /// The partitions are about to be taken away: finish or store what you
    /// hold of them now. When the callback returns, the library commits
    /// what is done (with auto-commit) and gives them up.
    KAFKA_REBALANCE_REVOKED = 2,
    /// The partitions were lost (the session expired, or the member was
    /// fenced): another member may already own them, so nothing is
    /// committed for them; messages handed out and not committed will be
    /// consumed again by their new owner.
    KAFKA_REBALANCE_LOST = 3,
}

/// A rebalance callback.
///
/// It runs on the thread that polls, inside `kafka_consumer_poll`,
/// `_poll_batch` and `_consume`, and inside `kafka_consumer_close` for the
/// final revocation (there, calls on the consumer are refused). It may
/// call `kafka_consumer_commit`, `_commit_offsets`, `_store_message`,
/// `_seek`, `_pause`, `_resume`, `_position` and the other queries;
/// polling, closing, and changing the assignment or subscription
/// (`_assign`, `_unassign`, `_subscribe`, `_unsubscribe`) are refused with
/// `KAFKA_ERR_STATE`.
///
/// @param c          The consumer that rebalanced.
/// @param event      What the rebalance did (see `KafkaRebalanceEvent`).
/// @param partitions The partitions this event concerns (with the eager
///                   assignors, all of this consumer's), valid during the
///                   call.
/// @param opaque     The `opaque` given to
///                   `kafka_consumer_set_rebalance_callback`.
pub type KafkaRebalanceCallback = Option<
    unsafe extern "C" fn(
        c: *mut KafkaConsumer,
        event: KafkaRebalanceEvent,
        partitions: *const KafkaPartitionList,
        opaque: *mut c_void,
    ),
>;

/// Replaces the subscription with `topic_count` topics.
///
/// The group rebalances: partitions of topics no longer subscribed are
/// revoked (committed first, with auto-commit).
///
/// @param c           The consumer.
/// @param topics      `topic_count` names, NUL-terminated; a name starting
///                    with `^` is a regular expression (librdkafka's rule:
///                    `^orders-.*` matches every topic starting with
///                    `orders-`, now and later).
/// @param topic_count How many names `topics` holds (1 or more).
/// @param err         NULL, or where a failure is described (`KAFKA_OK` on
///                    success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_INVALID_ARGUMENT`
///         (`c` or `topics` NULL, a NULL entry, invalid UTF-8, an empty
///         list: use `kafka_consumer_unsubscribe`), `KAFKA_ERR_STATE` (inside
///         a rebalance callback).
#[no_mangle]
pub unsafe extern "C" fn kafka_consumer_subscribe(
    c: *mut KafkaConsumer,
    topics: *const *const c_char,
    topic_count: usize,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: `topics` is NULL or points to `topic_count` pointers, each NULL or a C string
        // (the header's contract); `arg_strs` refuses NULL, 0 and NULL entries.
        let topics = unsafe { arg_strs(topics, topic_count, "topics", "topic_count") }?;
        // SAFETY: `c` is NULL or a live consumer (the header's contract); `act` refuses NULL and a
        // closing consumer, and borrows `c` for the subscribe only.
        unsafe { act(c, |c| c.subscribe(&topics)) }
    })
}

/// Leaves every subscribed topic.
///
/// The group revokes this consumer's partitions (committed first, with
/// auto-commit).
///
/// @param c   The consumer.
/// @param err NULL, or where a failure is described (`KAFKA_OK` on success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_INVALID_ARGUMENT`
///         (`c` NULL), `KAFKA_ERR_STATE` (inside a rebalance callback).
#[no_mangle]
pub unsafe extern "C" fn kafka_consumer_unsubscribe(
    c: *mut KafkaConsumer,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: `c` is NULL or a live consumer (the header's contract); `act` refuses NULL and a
        // closing consumer, and borrows `c` for the unsubscribe only.
        unsafe { act(c, Consumer::unsubscribe) }
    })
}

/// Gives the subscribed topics and patterns.
///
/// @param c   The consumer.
/// @param out Receives the list (partition -1, offset `KAFKA_OFFSET_NONE`);
///            free it with `kafka_partition_list_free`. NULL until the call
///            succeeds.
/// @param err NULL, or where a failure is described (`KAFKA_OK` on success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_INVALID_ARGUMENT`
///         (`c` or `out` NULL).
#[no_mangle]
pub unsafe extern "C" fn kafka_consumer_subscription(
    c: *mut KafkaConsumer,
    out: *mut *mut KafkaPartitionList,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: `c` is NULL or a live consumer and `out` NULL or writable for one pointer (the
        // header's contract), as `answer_into` requires; `*out` gets the subscription.
        unsafe {
            answer_into(
                c,
                out,
                Consumer::subscription,
                KafkaPartitionList::of_topics,
            )
        }
    })
}

/// Takes the partitions of `list`, without group management (manual
/// assignment).
///
/// Replaces the current assignment; what was handed out and not yet
/// committed is forgotten (not committed). Offsets are still committed to
/// the consumer's group. Use it on a consumer whose subscription you left
/// (`kafka_consumer_unsubscribe`).
///
/// @param c    The consumer.
/// @param list The partitions, each from its `offset`: an offset,
///             `KAFKA_OFFSET_BEGINNING`, `_END` or `_COMMITTED` (the group's
///             committed offset, else `auto_offset_reset`).
/// @param err  NULL, or where a failure is described (`KAFKA_OK` on
///             success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_INVALID_ARGUMENT`
///         (`c` or `list` NULL, an empty list), `KAFKA_ERR_STATE` (inside a
///         rebalance callback).
#[no_mangle]
pub unsafe extern "C" fn kafka_consumer_assign(
    c: *mut KafkaConsumer,
    list: *const KafkaPartitionList,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: `list` is NULL or a live partition list no thread changes until the assignment
        // is made from it (the header's contract); `list_arg` refuses NULL and an empty list.
        let list = unsafe { list_arg(list, "list") }?;
        // SAFETY: `c` is NULL or a live consumer (the header's contract); `act` refuses NULL and a
        // closing consumer, and borrows `c` for the assign, after `list` was read only.
        unsafe { act(c, |c| c.assign(&list.starts())) }
    })
}

/// Gives up every assigned partition.
///
/// What was handed out and not yet committed is forgotten.
///
/// @param c   The consumer.
/// @param err NULL, or where a failure is described (`KAFKA_OK` on success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_INVALID_ARGUMENT`
///         (`c` NULL), `KAFKA_ERR_STATE` (inside a rebalance callback).
#[no_mangle]
pub unsafe extern "C" fn kafka_consumer_unassign(
    c: *mut KafkaConsumer,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: `c` is NULL or a live consumer (the header's contract); `act` refuses NULL and a
        // closing consumer, and borrows `c` for the unassign only.
        unsafe { act(c, Consumer::unassign) }
    })
}

/// Gives the partitions assigned now (by the group or by
/// `kafka_consumer_assign`).
///
/// @param c   The consumer.
/// @param out Receives the list (offsets `KAFKA_OFFSET_NONE`); free it with
///            `kafka_partition_list_free`. NULL until the call succeeds.
/// @param err NULL, or where a failure is described (`KAFKA_OK` on success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_INVALID_ARGUMENT`
///         (`c` or `out` NULL).
#[no_mangle]
pub unsafe extern "C" fn kafka_consumer_assignment(
    c: *mut KafkaConsumer,
    out: *mut *mut KafkaPartitionList,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: `c` is NULL or a live consumer and `out` NULL or writable for one pointer (the
        // header's contract), as `answer_into` requires; `*out` gets the assignment.
        unsafe { answer_into(c, out, Consumer::assignment, KafkaPartitionList::of_offsets) }
    })
}

/// Moves an assigned partition to `offset`: the next poll returns the
/// message there.
///
/// Messages fetched from the old position are dropped, and what was
/// handed out on this partition and not yet committed is not committed:
/// the partition's committed offset moves again once messages from the new
/// position are done, backwards too: the next commit after a seek back
/// commits the offset after the last message done from the new position,
/// below what was committed before.
///
/// From a rebalance callback on `KAFKA_REBALANCE_ASSIGNED`, a seek on a
/// partition being assigned sets where it starts (instead of its committed
/// offset), with every assignor and group protocol; it returns at once.
///
/// @param c          The consumer.
/// @param topic      The partition's topic, NUL-terminated.
/// @param partition  The partition.
/// @param offset     Where to go: 0 or more, `KAFKA_OFFSET_BEGINNING` or
///                   `_END`.
/// @param timeout_ms How long to wait (-1: no limit).
/// @param err        NULL, or where a failure is described (`KAFKA_OK` on
///                   success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_INVALID_ARGUMENT`
///         (a bad topic, partition, offset or timeout),
///         `KAFKA_ERR_STATE` (the partition is not assigned to this
///         consumer, or the consumer is closing: a callback that
///         `kafka_consumer_close` runs called it), `KAFKA_ERR_BROKER`
///         (librdkafka refused the seek; its reason is in the message).
#[no_mangle]
pub unsafe extern "C" fn kafka_consumer_seek(
    c: *mut KafkaConsumer,
    topic: *const c_char,
    partition: i32,
    offset: i64,
    timeout_ms: i32,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: `topic` is NULL or a NUL-terminated string kept for the call, read until the
        // seek is made; `arg_str` refuses NULL and invalid UTF-8.
        let t = unsafe { arg_str(topic, "topic") }?;
        let to = match offset {
            KAFKA_OFFSET_BEGINNING => Start::Beginning,
            KAFKA_OFFSET_END => Start::End,
            n => Start::At(n),
        };
        let timeout = arg_timeout(timeout_ms)?;
        // SAFETY: `c` is NULL or a live consumer (the header's contract); `act` refuses NULL and a
        // closing consumer, and borrows `c` for the seek only.
        unsafe { act(c, |c| c.seek(t, partition, to, timeout)) }
    })
}

/// Moves every assigned partition to its first message at or after
/// `timestamp_ms`; a partition without one moves to its end.
///
/// From a rebalance callback on `KAFKA_REBALANCE_ASSIGNED`, the partitions
/// being assigned start there.
///
/// @param c            The consumer.
/// @param timestamp_ms The time, in milliseconds since the epoch.
/// @param timeout_ms   How long to wait for the brokers' answers (-1: no
///                     limit).
/// @param out          NULL, or receives where each partition went
///                     (`KAFKA_OFFSET_NONE`: its end); free it with
///                     `kafka_partition_list_free`.
/// @param err          NULL, or where a failure is described (`KAFKA_OK` on
///                     success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_INVALID_ARGUMENT`
///         (`c` NULL, a bad timeout), `KAFKA_ERR_TIMEOUT`, `KAFKA_ERR_BROKER`.
#[no_mangle]
pub unsafe extern "C" fn kafka_consumer_seek_to_time(
    c: *mut KafkaConsumer,
    timestamp_ms: i64,
    timeout_ms: i32,
    out: *mut *mut KafkaPartitionList,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        let timeout = arg_timeout(timeout_ms)?;
        // SAFETY: `c` is NULL or a live consumer (the header's contract); `with` refuses NULL and
        // a closing consumer, and borrows `c` for the seek only.
        let moved = unsafe { with(c, |c| c.seek_to_time(timestamp_ms, timeout)) }?;
        // SAFETY: `out` is NULL or writable for one list pointer (the header's contract); NULL is
        // skipped.
        if let Some(out) = unsafe { out.as_mut() } {
            *out = KafkaPartitionList::of_offsets(moved);
        }
        Ok(KafkaErrorCode::KAFKA_OK)
    })
}

/// Stops fetching the partitions of `list` while keeping them and the group
/// membership.
///
/// The usual answer to a slow downstream (keep polling, so that
/// `max_poll_interval_ms` is met). Messages already fetched are still
/// handed out.
///
/// @param c    The consumer.
/// @param list The partitions to pause (offsets ignored).
/// @param err  NULL, or where a failure is described (`KAFKA_OK` on
///             success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_INVALID_ARGUMENT`
///         (`c` or `list` NULL, an empty list).
#[no_mangle]
pub unsafe extern "C" fn kafka_consumer_pause(
    c: *mut KafkaConsumer,
    list: *const KafkaPartitionList,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: `list` is NULL or a live partition list no thread changes until the pause has
        // read it (the header's contract); `list_arg` refuses NULL and an empty list.
        let list = unsafe { list_arg(list, "list") }?;
        // SAFETY: `c` is NULL or a live consumer (the header's contract); `act` refuses NULL and a
        // closing consumer, and borrows `c` for the pause only.
        unsafe { act(c, |c| c.pause(&list.partitions())) }
    })
}

/// Fetches paused partitions of `list` again, from where they stopped.
///
/// @param c    The consumer.
/// @param list The partitions to resume (offsets ignored).
/// @param err  NULL, or where a failure is described (`KAFKA_OK` on
///             success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_INVALID_ARGUMENT`
///         (`c` or `list` NULL, an empty list).
#[no_mangle]
pub unsafe extern "C" fn kafka_consumer_resume(
    c: *mut KafkaConsumer,
    list: *const KafkaPartitionList,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: `list` is NULL or a live partition list no thread changes until the resume has
        // read it (the header's contract); `list_arg` refuses NULL and an empty list.
        let list = unsafe { list_arg(list, "list") }?;
        // SAFETY: `c` is NULL or a live consumer (the header's contract); `act` refuses NULL and a
        // closing consumer, and borrows `c` for the resume only.
        unsafe { act(c, |c| c.resume(&list.partitions())) }
    })
}

/// Gives, for each assigned partition, the offset of the next message the
/// application will be handed.
///
/// @param c   The consumer.
/// @param out Receives the list (`KAFKA_OFFSET_NONE` before the first
///            message); free it with `kafka_partition_list_free`. NULL until
///            the call succeeds.
/// @param err NULL, or where a failure is described (`KAFKA_OK` on success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_INVALID_ARGUMENT`
///         (`c` or `out` NULL).
#[no_mangle]
pub unsafe extern "C" fn kafka_consumer_position(
    c: *mut KafkaConsumer,
    out: *mut *mut KafkaPartitionList,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: `c` is NULL or a live consumer and `out` NULL or writable for one pointer (the
        // header's contract), as `answer_into` requires; `*out` gets the positions.
        unsafe { answer_into(c, out, Consumer::position, KafkaPartitionList::of_offsets) }
    })
}

/// Gives the group's committed offset of each assigned partition, asked of
/// the group coordinator.
///
/// @param c          The consumer.
/// @param timeout_ms How long to wait for the coordinator (-1: no limit).
/// @param out        Receives the list (`KAFKA_OFFSET_NONE`: none
///                   committed); free it with `kafka_partition_list_free`.
///                   NULL until the call succeeds.
/// @param err        NULL, or where a failure is described (`KAFKA_OK` on
///                   success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_INVALID_ARGUMENT`
///         (`c` or `out` NULL, a bad timeout), `KAFKA_ERR_TIMEOUT`,
///         `KAFKA_ERR_BROKER`.
#[no_mangle]
pub unsafe extern "C" fn kafka_consumer_committed(
    c: *mut KafkaConsumer,
    timeout_ms: i32,
    out: *mut *mut KafkaPartitionList,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        let timeout = arg_timeout(timeout_ms)?;
        let ask = |c: &Consumer| c.committed(timeout);
        // SAFETY: `c` is NULL or a live consumer and `out` NULL or writable for one pointer (the
        // header's contract), as `answer_into` requires; `*out` gets the committed offsets.
        unsafe { answer_into(c, out, ask, KafkaPartitionList::of_offsets) }
    })
}

/// Gives a partition's oldest offset and the offset its next message will
/// get, asked of its leader.
///
/// @param c          The consumer.
/// @param topic      The partition's topic, NUL-terminated.
/// @param partition  The partition.
/// @param timeout_ms How long to wait for the leader (-1: no limit).
/// @param low        NULL, or receives the oldest offset.
/// @param high       NULL, or receives the offset the next message will get.
/// @param err        NULL, or where a failure is described (`KAFKA_OK` on
///                   success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_INVALID_ARGUMENT`
///         (`c` or `topic` NULL, invalid UTF-8, a bad timeout),
///         `KAFKA_ERR_TIMEOUT`, `KAFKA_ERR_BROKER`.
#[no_mangle]
pub unsafe extern "C" fn kafka_consumer_watermarks(
    c: *mut KafkaConsumer,
    topic: *const c_char,
    partition: i32,
    timeout_ms: i32,
    low: *mut i64,
    high: *mut i64,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: `topic` is NULL or a NUL-terminated string kept for the call, read until the
        // leader answers; `arg_str` refuses NULL and invalid UTF-8.
        let t = unsafe { arg_str(topic, "topic") }?;
        let timeout = arg_timeout(timeout_ms)?;
        // SAFETY: `c` is NULL or a live consumer (the header's contract); `with` refuses NULL and
        // a closing consumer, and borrows `c` while the leader answers.
        let (l, h) = unsafe { with(c, |c| c.watermarks(t, partition, timeout)) }?;
        // SAFETY: `low` and `high` are NULL or writable for one `int64_t` each (the header's
        // contract); NULL ones are skipped.
        unsafe {
            if let Some(low) = low.as_mut() {
                *low = l;
            }
            if let Some(high) = high.as_mut() {
                *high = h;
            }
        }
        Ok(KafkaErrorCode::KAFKA_OK)
    })
}

/// Gives each assigned partition's position, watermarks, committed offset
/// and lag.
///
/// @param c          The consumer.
/// @param timeout_ms How long to wait for the brokers, per question (-1: no
///                   limit).
/// @param out        Receives one entry per assigned partition: `offset`
///                   (the position), `low_watermark`, `high_watermark`,
///                   `committed`, `lag` (messages not yet handed to the
///                   application) and `uncommitted_lag` (messages not yet
///                   committed); free it with `kafka_partition_list_free`.
///                   NULL until the call succeeds.
/// @param err        NULL, or where a failure is described (`KAFKA_OK` on
///                   success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_INVALID_ARGUMENT`
///         (`c` or `out` NULL, a bad timeout), `KAFKA_ERR_TIMEOUT`,
///         `KAFKA_ERR_BROKER`.
#[no_mangle]
pub unsafe extern "C" fn kafka_consumer_lag(
    c: *mut KafkaConsumer,
    timeout_ms: i32,
    out: *mut *mut KafkaPartitionList,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        let timeout = arg_timeout(timeout_ms)?;
        let ask = |c: &Consumer| c.lag(timeout);
        // SAFETY: `c` is NULL or a live consumer and `out` NULL or writable for one pointer (the
        // header's contract), as `answer_into` requires; `*out` gets the lags.
        unsafe { answer_into(c, out, ask, KafkaPartitionList::of_lags) }
    })
}

/// Calls `cb(c, event, partitions, opaque)` at every rebalance of `c` (see
/// `KafkaRebalanceCallback`).
///
/// It sees assigned, revoked and lost partitions, with the eager assignors,
/// `cooperative-sticky` and the consumer group protocol
/// (`group.protocol=consumer`). The library does the assigning itself, so
/// the callback only reacts. Set it before the first poll to see the first
/// assignment.
///
/// @param c      The consumer.
/// @param cb     The callback; NULL removes it.
/// @param opaque Passed to `cb` as is, on the polling thread.
/// @param err    NULL, or where a failure is described (`KAFKA_OK` on
///               success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_INVALID_ARGUMENT`
///         (`c` NULL).
#[no_mangle]
pub unsafe extern "C" fn kafka_consumer_set_rebalance_callback(
    c: *mut KafkaConsumer,
    cb: KafkaRebalanceCallback,
    opaque: *mut c_void,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // The caller promises opaque may be used on the polling thread; the
        // handle outlives every call of the hook (close runs the last one
        // before freeing it).
        let (handle_addr, opaque) = (c as usize, opaque as usize);
        let hook = cb.map(|f| {
            Arc::new(
                move |event: RebalanceEvent, partitions: Vec<PartitionOffset>| {
                    let list = KafkaPartitionList::of_offsets(partitions);
                    let event = match event {
                        RebalanceEvent::Assigned => KafkaRebalanceEvent::KAFKA_REBALANCE_ASSIGNED,
                        RebalanceEvent::Revoked => KafkaRebalanceEvent::KAFKA_REBALANCE_REVOKED,
                        RebalanceEvent::Lost => KafkaRebalanceEvent::KAFKA_REBALANCE_LOST,
                    };
                    // SAFETY: the caller's callback, given the live consumer and
                    // a list alive until it returns.
                    unsafe {
                        f(
                            handle_addr as *mut KafkaConsumer,
                            event,
                            list,
                            opaque as *mut c_void,
                        );
                        free_handle(list);
                    }
                },
            ) as crate::consumer::RebalanceHook
        });
        // SAFETY: `c` is NULL or a live consumer (the header's contract); `act` refuses NULL and a
        // closing consumer, and `c` outlives the hook (close runs the last).
        unsafe { act(c, |c| c.set_rebalance_hook(hook)) }
    })
}

//! `KafkaPartitionList`: partitions with offsets, given to and returned by
//! the consumer's control functions.

use std::ffi::{c_char, CString};

use crate::admin::{Committed, Lag as GroupLag};
use crate::consumer::{Lag, PartitionOffset, Start};
use crate::error::{Error, Result};
use crate::ffi::error::{KafkaError, KafkaErrorCode};
use crate::ffi::{
    arg_str, call, call_infallible, free_handle, handle, handle_mut, here, into_handle, opt_handle,
    Handle,
};
use crate::topic;

/// `offset`: the oldest message still in the log.
pub const KAFKA_OFFSET_BEGINNING: i64 = -2;
/// `offset`: after the newest message (only what comes next).
pub const KAFKA_OFFSET_END: i64 = -1;
/// `offset`: the group's committed offset (`auto_offset_reset` when none).
pub const KAFKA_OFFSET_COMMITTED: i64 = -1000;
/// In answers: no offset (nothing consumed or committed yet, or not asked).
pub const KAFKA_OFFSET_NONE: i64 = -1001;

/// One partition of a `KafkaPartitionList`. Read it with
/// `kafka_partition_list_get`; its `topic` lives as long as the list.
#[repr(C)]
pub struct KafkaTopicPartition {
    /// NUL-terminated; owned by the list.
    pub topic: *const c_char,
    /// -1 in `kafka_consumer_subscription`'s answer (a topic or pattern,
    /// not a partition).
    pub partition: i32,
    /// An offset (0 or more) or `KAFKA_OFFSET_BEGINNING`, `_END`,
    /// `_COMMITTED`; in answers, the offset asked for or
    /// `KAFKA_OFFSET_NONE`.
    pub offset: i64,
    /// Filled by `kafka_consumer_lag` (else `KAFKA_OFFSET_NONE`): the
    /// partition's oldest offset.
    pub low_watermark: i64,
    /// `kafka_consumer_lag`: the offset the next message will get.
    pub high_watermark: i64,
    /// `kafka_consumer_lag`: the group's committed offset.
    pub committed: i64,
    /// `kafka_consumer_lag`: messages not yet handed to the application
    /// (high watermark minus `offset`, the position).
    pub lag: i64,
    /// `kafka_consumer_lag`: messages not yet committed (high watermark
    /// minus `committed`).
    pub uncommitted_lag: i64,
}

/// A list of partitions with offsets. Made by `kafka_partition_list_new`
/// (to give one) or returned by a consumer function (an answer); either
/// way the caller frees it with `kafka_partition_list_free`. The list a
/// rebalance callback receives is the library's, valid during the call.
pub struct KafkaPartitionList {
    items: Vec<KafkaTopicPartition>,
    /// The topics the items point into (a CString's bytes never move).
    names: Vec<CString>,
}

impl Handle for KafkaPartitionList {}

const SUBJECT: &str = "Kafka Partition List";

impl KafkaPartitionList {
    fn new() -> Self {
        KafkaPartitionList {
            items: Vec::new(),
            names: Vec::new(),
        }
    }

    fn push(&mut self, t: &str, partition: i32, offset: i64) {
        // Topic names from librdkafka or checked ones: never a NUL.
        let name = CString::new(t).unwrap_or_default();
        self.items.push(KafkaTopicPartition {
            topic: name.as_ptr(),
            partition,
            offset,
            low_watermark: KAFKA_OFFSET_NONE,
            high_watermark: KAFKA_OFFSET_NONE,
            committed: KAFKA_OFFSET_NONE,
            lag: KAFKA_OFFSET_NONE,
            uncommitted_lag: KAFKA_OFFSET_NONE,
        });
        self.names.push(name);
    }

    fn topic(&self, i: usize) -> &str {
        self.names[i].to_str().unwrap_or_default()
    }

    /// The answer of a consumer function, for C.
    pub(crate) fn of_offsets(offsets: Vec<PartitionOffset>) -> *mut KafkaPartitionList {
        let mut list = Self::new();
        for p in offsets {
            list.push(&p.topic, p.partition, p.offset.unwrap_or(KAFKA_OFFSET_NONE));
        }
        into_handle(list)
    }

    /// Topic names (or patterns) as a list without partitions.
    pub(crate) fn of_topics(topics: Vec<String>) -> *mut KafkaPartitionList {
        let mut list = Self::new();
        for t in topics {
            list.push(&t, -1, KAFKA_OFFSET_NONE);
        }
        into_handle(list)
    }

    pub(crate) fn of_lags(lags: Vec<Lag>) -> *mut KafkaPartitionList {
        let mut list = Self::new();
        for l in lags {
            list.push(
                &l.topic,
                l.partition,
                l.position.unwrap_or(KAFKA_OFFSET_NONE),
            );
            let item = list.items.last_mut().expect("just pushed");
            item.low_watermark = l.low;
            item.high_watermark = l.high;
            item.committed = l.committed.unwrap_or(KAFKA_OFFSET_NONE);
            item.lag = l.behind();
            item.uncommitted_lag = l.uncommitted();
        }
        into_handle(list)
    }

    /// A group's committed offsets: `offset` and `committed` both.
    pub(crate) fn of_committed(offsets: Vec<Committed>) -> *mut KafkaPartitionList {
        let mut list = Self::new();
        for c in offsets {
            list.push(&c.topic, c.partition, c.offset);
            list.items.last_mut().expect("just pushed").committed = c.offset;
        }
        into_handle(list)
    }

    /// A group's lag: committed offsets with their partitions' watermarks.
    pub(crate) fn of_group_lags(lags: Vec<GroupLag>) -> *mut KafkaPartitionList {
        let mut list = Self::new();
        for l in lags {
            let c = &l.committed;
            list.push(&c.topic, c.partition, c.offset);
            let item = list.items.last_mut().expect("just pushed");
            item.committed = c.offset;
            item.low_watermark = l.low;
            item.high_watermark = l.high;
            item.lag = l.lag;
            item.uncommitted_lag = l.lag;
        }
        into_handle(list)
    }

    /// The partitions with where each starts, for assign.
    pub(crate) fn starts(&self) -> Vec<(&str, i32, Start)> {
        (0..self.items.len())
            .map(|i| {
                let item = &self.items[i];
                let start = match item.offset {
                    KAFKA_OFFSET_BEGINNING => Start::Beginning,
                    KAFKA_OFFSET_END => Start::End,
                    KAFKA_OFFSET_COMMITTED => Start::Committed,
                    n => Start::At(n),
                };
                (self.topic(i), item.partition, start)
            })
            .collect()
    }

    /// The partitions alone, for pause and resume.
    pub(crate) fn partitions(&self) -> Vec<(&str, i32)> {
        (0..self.items.len())
            .map(|i| (self.topic(i), self.items[i].partition))
            .collect()
    }

    /// The partitions with exact offsets, for a commit.
    pub(crate) fn offsets(&self) -> Result<Vec<Offset<'_>>> {
        (0..self.items.len())
            .map(|i| {
                let item = &self.items[i];
                if item.offset < 0 {
                    return Err(Error::invalid_argument(format!(
                        "a commit takes offsets of 0 or more: {:?} partition {} has {}",
                        self.topic(i),
                        item.partition,
                        item.offset
                    )));
                }
                Ok((self.topic(i), item.partition, item.offset))
            })
            .collect()
    }
}

/// Creates a new, empty list.
///
/// @return The list; free it with `kafka_partition_list_free`.
#[no_mangle]
pub extern "C" fn kafka_partition_list_new() -> *mut KafkaPartitionList {
    call_infallible(here!(SUBJECT), || into_handle(KafkaPartitionList::new()))
}

/// Adds `topic`'s `partition` with `offset`.
///
/// @param list      The list to add to.
/// @param topic     The topic, NUL-terminated.
/// @param partition The partition, 0 or more.
/// @param offset    An offset of 0 or more, or `KAFKA_OFFSET_BEGINNING`,
///                  `_END` or `_COMMITTED`.
/// @param err       NULL, or where a failure is described (`KAFKA_OK` on
///                  success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_INVALID_ARGUMENT`
///         (`list` or `topic` NULL, an invalid topic name, partition or
///         offset), and nothing is added.
#[no_mangle]
pub unsafe extern "C" fn kafka_partition_list_add(
    list: *mut KafkaPartitionList,
    topic: *const c_char,
    partition: i32,
    offset: i64,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: `list` is NULL or a live list from `kafka_partition_list_new`, changed by this
        // thread alone (the header's contract); `handle_mut` refuses NULL.
        let list = unsafe { handle_mut(list, "list") }?;
        // SAFETY: `topic` is NULL or a NUL-terminated string kept for the call; `arg_str` refuses
        // NULL and invalid UTF-8, and the list copies the name.
        let t = unsafe { arg_str(topic, "topic") }?;
        topic::validate(t)?;
        if partition < 0 {
            return Err(Error::invalid_argument(format!(
                "partition must be at least 0, not {partition}"
            )));
        }
        let special = [
            KAFKA_OFFSET_BEGINNING,
            KAFKA_OFFSET_END,
            KAFKA_OFFSET_COMMITTED,
        ];
        if offset < 0 && !special.contains(&offset) {
            return Err(Error::invalid_argument(format!(
                "offset {offset}: use 0 or more, or KAFKA_OFFSET_BEGINNING, _END or _COMMITTED"
            )));
        }
        list.push(t, partition, offset);
        Ok(KafkaErrorCode::KAFKA_OK)
    })
}

/// Counts the partitions `list` holds.
///
/// @param list The list, or NULL.
/// @return The count; 0 for NULL.
#[no_mangle]
pub unsafe extern "C" fn kafka_partition_list_count(list: *const KafkaPartitionList) -> usize {
    call_infallible(here!(SUBJECT), || {
        // SAFETY: `list` is NULL or a live list: the caller's, or one lent to a callback for its
        // call (the header's contract); `opt_handle` maps NULL to `None`.
        unsafe { opt_handle(list) }.map_or(0, |l| l.items.len())
    })
}

/// Gives partition `index` of `list`.
///
/// @param list  The list, or NULL.
/// @param index The entry's position, from 0.
/// @return The entry, valid until the list is freed (or, in a rebalance
///         callback, until it returns); NULL when out of range or for NULL.
#[no_mangle]
pub unsafe extern "C" fn kafka_partition_list_get(
    list: *const KafkaPartitionList,
    index: usize,
) -> *const KafkaTopicPartition {
    call_infallible(here!(SUBJECT), || {
        // SAFETY: `list` is NULL or a live list; the entry returned lives in it, as the header
        // says, until the list is freed (or the callback returns).
        unsafe { opt_handle(list) }
            .and_then(|l| l.items.get(index))
            .map_or(std::ptr::null(), |item| item as *const KafkaTopicPartition)
    })
}

/// Releases a list made by `kafka_partition_list_new` or returned by a
/// consumer function.
///
/// @param list The list to release; NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn kafka_partition_list_free(list: *mut KafkaPartitionList) {
    call_infallible(here!(SUBJECT), || {
        // SAFETY: `list` is NULL or one the caller owns (from `kafka_partition_list_new` or a
        // consumer call), freed once and not used after; NULL is a no-op.
        unsafe { free_handle(list) }
    })
}

/// The list behind `list`, for the consumer functions.
///
/// # Safety
/// `list` is NULL or a live list.
pub(crate) unsafe fn list_arg<'a>(
    list: *const KafkaPartitionList,
    name: &str,
) -> Result<&'a KafkaPartitionList> {
    // SAFETY: the caller's contract.
    let list = unsafe { handle(list, name) }?;
    if list.items.is_empty() {
        return Err(Error::invalid_argument(format!("{name} is empty")));
    }
    Ok(list)
}

/// `(topic, partition, offset)`: an entry of a list given for a commit.
type Offset<'a> = (&'a str, i32, i64);

/// The exact offsets of a list given for a commit, or `None` when `list` is
/// NULL (what is done, or the consumer's positions). An empty list or a
/// logical offset is `KAFKA_ERR_INVALID_ARGUMENT`.
///
/// # Safety
/// `list` is NULL or a live `KafkaPartitionList`.
pub(crate) unsafe fn opt_offsets_arg<'a>(
    list: *const KafkaPartitionList,
    name: &str,
) -> Result<Option<Vec<Offset<'a>>>> {
    if list.is_null() {
        return Ok(None);
    }
    // SAFETY: the caller's contract.
    unsafe { list_arg(list, name) }?.offsets().map(Some)
}

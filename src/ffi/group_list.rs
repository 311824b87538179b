//! `KafkaGroupList`: consumer groups as their coordinators describe them,
//! returned by `kafka_instance_list_groups` and
//! `kafka_instance_describe_group`; with the other group calls of an
//! instance (committed offsets, lag, delete), which answer in a
//! `KafkaPartitionList` or nothing.

use std::ffi::{c_char, CString};

use crate::admin::GroupInfo;
use crate::ffi::error::{KafkaError, KafkaErrorCode};
use crate::ffi::instance::KafkaInstance;
use crate::ffi::partition_list::{KafkaPartitionList, KafkaTopicPartition, KAFKA_OFFSET_NONE};
use crate::ffi::{
    arg_str, arg_timeout, call, call_infallible, free_handle, handle, here, into_handle,
    opt_handle, out_slot, Handle,
};
use crate::instance::Instance;

/// One member of a `KafkaGroup`; its pointers live as long as the list.
#[repr(C)]
pub struct KafkaGroupMember {
    pub member_id: *const c_char,
    pub client_id: *const c_char,
    /// The address the member connected from, as the coordinator saw it.
    pub host: *const c_char,
    /// The partitions assigned to the member (`assignment_count`, sorted;
    /// only `topic` and `partition` are meaningful). Empty for a group
    /// that is not a consumer group, or between rebalances.
    pub assignment: *const KafkaTopicPartition,
    pub assignment_count: usize,
}

/// One group of a `KafkaGroupList`; its pointers live as long as the list.
#[repr(C)]
pub struct KafkaGroup {
    pub name: *const c_char,
    /// As the coordinator says: "Stable", "Empty", "PreparingRebalance",
    /// "CompletingRebalance", "Dead".
    pub state: *const c_char,
    /// "consumer" for consumer groups.
    pub protocol_type: *const c_char,
    /// The assignor in use ("range", "cooperative-sticky", ...), empty
    /// when the group has no members.
    pub protocol: *const c_char,
    /// `member_count` members; none in `kafka_instance_list_groups`'s
    /// answer when the coordinator gave none.
    pub members: *const KafkaGroupMember,
    pub member_count: usize,
}

/// Groups, sorted by name. Free it with `kafka_group_list_free`.
pub struct KafkaGroupList {
    groups: Vec<KafkaGroup>,
    /// What the entries point into (heap storage that never moves).
    strings: Vec<CString>,
    members: Vec<Vec<KafkaGroupMember>>,
    assignments: Vec<Vec<KafkaTopicPartition>>,
}

impl Handle for KafkaGroupList {}

const SUBJECT: &str = "Kafka Group List";

impl KafkaGroupList {
    fn of(groups: Vec<GroupInfo>) -> *mut KafkaGroupList {
        let mut list = KafkaGroupList {
            groups: Vec::with_capacity(groups.len()),
            strings: Vec::new(),
            members: Vec::new(),
            assignments: Vec::new(),
        };
        for g in groups {
            let mut members = Vec::with_capacity(g.members.len());
            for m in &g.members {
                let assignment: Vec<KafkaTopicPartition> = m
                    .assignment
                    .iter()
                    .map(|(topic, partition)| KafkaTopicPartition {
                        topic: list.keep(topic),
                        partition: *partition,
                        offset: KAFKA_OFFSET_NONE,
                        low_watermark: KAFKA_OFFSET_NONE,
                        high_watermark: KAFKA_OFFSET_NONE,
                        committed: KAFKA_OFFSET_NONE,
                        lag: KAFKA_OFFSET_NONE,
                        uncommitted_lag: KAFKA_OFFSET_NONE,
                    })
                    .collect();
                members.push(KafkaGroupMember {
                    member_id: list.keep(&m.id),
                    client_id: list.keep(&m.client_id),
                    host: list.keep(&m.host),
                    assignment: assignment.as_ptr(),
                    assignment_count: assignment.len(),
                });
                list.assignments.push(assignment);
            }
            let group = KafkaGroup {
                name: list.keep(&g.name),
                state: list.keep(&g.state),
                protocol_type: list.keep(&g.protocol_type),
                protocol: list.keep(&g.protocol),
                members: members.as_ptr(),
                member_count: members.len(),
            };
            list.members.push(members);
            list.groups.push(group);
        }
        into_handle(list)
    }

    fn keep(&mut self, text: &str) -> *const c_char {
        // Texts from librdkafka: a NUL inside would end the C string early.
        let s = CString::new(text.replace('\0', "")).unwrap_or_default();
        let p = s.as_ptr();
        self.strings.push(s);
        p
    }
}

/// Runs `ask` with the instance's admin client and the checked group name.
///
/// # Safety
/// `inst` and `group` as the module contract says.
unsafe fn with_group<T>(
    inst: *const KafkaInstance,
    group: *const c_char,
    ask: impl FnOnce(&Instance, &str) -> crate::error::Result<T>,
) -> crate::error::Result<T> {
    // SAFETY (both): the caller's contract.
    let inst = unsafe { handle(inst, "inst") }?;
    let group = unsafe { arg_str(group, "group") }?;
    ask(&inst.inner, group)
}

/// `*out` receives every group the brokers know (consumer groups and
/// others), with name, state and protocol; members are filled only as far
/// as the brokers' listing gives them (use `kafka_instance_describe_group`
/// for one group's members). Within `timeout_ms` (-1: no limit).
#[no_mangle]
pub unsafe extern "C" fn kafka_instance_list_groups(
    inst: *const KafkaInstance,
    timeout_ms: i32,
    out: *mut *mut KafkaGroupList,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY (both): module contract.
        let slot = unsafe { out_slot(out, "out") }?;
        let inst = unsafe { handle(inst, "inst") }?;
        let groups = inst.inner.admin()?.groups(None, arg_timeout(timeout_ms)?)?;
        *slot = KafkaGroupList::of(groups);
        Ok(KafkaErrorCode::KAFKA_OK)
    })
}

/// `*out` receives one group: its state, protocol, and each member with
/// the partitions assigned to it. A group nobody uses is answered with
/// state "Dead" and no members (that is how coordinators answer).
#[no_mangle]
pub unsafe extern "C" fn kafka_instance_describe_group(
    inst: *const KafkaInstance,
    group: *const c_char,
    timeout_ms: i32,
    out: *mut *mut KafkaGroupList,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY (both): module contract.
        let slot = unsafe { out_slot(out, "out") }?;
        let groups = unsafe {
            with_group(inst, group, |i, g| {
                i.admin()?.groups(Some(g), arg_timeout(timeout_ms)?)
            })
        }?;
        *slot = KafkaGroupList::of(groups);
        Ok(KafkaErrorCode::KAFKA_OK)
    })
}

/// `*out` receives the offsets `group` has committed, sorted, `offset`
/// and `committed` both the committed offset (the next message the group
/// will read): of each partition of `partitions` (`KAFKA_OFFSET_NONE`
/// where nothing is committed; offsets in the list are ignored), or, with
/// `partitions` NULL, of every partition the group committed (then a
/// group that committed nothing answers an empty list). Asks the group's
/// coordinator within `timeout_ms` (-1: up to 59 minutes); unanswered in
/// that time (the coordinator unreachable): `KAFKA_ERR_TIMEOUT`, and the
/// instance's next admin call uses a new admin client.
#[no_mangle]
pub unsafe extern "C" fn kafka_instance_group_offsets(
    inst: *const KafkaInstance,
    group: *const c_char,
    partitions: *const KafkaPartitionList,
    timeout_ms: i32,
    out: *mut *mut KafkaPartitionList,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY (both): module contract.
        let slot = unsafe { out_slot(out, "out") }?;
        let offsets = unsafe {
            with_group(inst, group, |i, g| {
                let partitions = opt_handle(partitions).map(|l| l.partitions());
                i.admin()?
                    .group_offsets(g, partitions.as_deref(), arg_timeout(timeout_ms)?)
            })
        }?;
        *slot = KafkaPartitionList::of_committed(offsets);
        Ok(KafkaErrorCode::KAFKA_OK)
    })
}

/// `*out` receives, for each partition of `partitions` (NULL: each the
/// group has committed an offset for, as `kafka_instance_group_offsets`):
/// `committed` (and `offset`), the partition's `low_watermark` and
/// `high_watermark`, and `lag` = `uncommitted_lag` = high watermark minus
/// committed: the messages the group has yet to process (with nothing
/// committed: every message the partition holds). The whole call is
/// bounded by `timeout_ms` (-1: no limit).
#[no_mangle]
pub unsafe extern "C" fn kafka_instance_group_lag(
    inst: *const KafkaInstance,
    group: *const c_char,
    partitions: *const KafkaPartitionList,
    timeout_ms: i32,
    out: *mut *mut KafkaPartitionList,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY (both): module contract.
        let slot = unsafe { out_slot(out, "out") }?;
        let lags = unsafe {
            with_group(inst, group, |i, g| {
                let partitions = opt_handle(partitions).map(|l| l.partitions());
                i.admin()?
                    .group_lag(g, partitions.as_deref(), arg_timeout(timeout_ms)?)
            })
        }?;
        *slot = KafkaPartitionList::of_group_lags(lags);
        Ok(KafkaErrorCode::KAFKA_OK)
    })
}

/// Deletes `group` and its committed offsets, within `timeout_ms` (-1: up
/// to 59 minutes; unanswered: `KAFKA_ERR_TIMEOUT`, as for
/// `kafka_instance_group_offsets`). A group with members is refused: `KAFKA_ERR_BROKER`,
/// `rdkafka_code` 68 (NON_EMPTY_GROUP); an unknown one: 69
/// (GROUP_ID_NOT_FOUND).
#[no_mangle]
pub unsafe extern "C" fn kafka_instance_delete_group(
    inst: *const KafkaInstance,
    group: *const c_char,
    timeout_ms: i32,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: module contract.
        unsafe {
            with_group(inst, group, |i, g| {
                i.admin()?.delete_group(g, arg_timeout(timeout_ms)?)
            })
        }?;
        Ok(KafkaErrorCode::KAFKA_OK)
    })
}

/// How many groups `list` holds (0 for NULL).
#[no_mangle]
pub unsafe extern "C" fn kafka_group_list_count(list: *const KafkaGroupList) -> usize {
    call_infallible(here!(SUBJECT), || {
        // SAFETY: module contract.
        unsafe { opt_handle(list) }.map_or(0, |l| l.groups.len())
    })
}

/// Group `index`, owned by `list`; NULL when out of range or `list` is
/// NULL.
#[no_mangle]
pub unsafe extern "C" fn kafka_group_list_get(
    list: *const KafkaGroupList,
    index: usize,
) -> *const KafkaGroup {
    call_infallible(here!(SUBJECT), || {
        // SAFETY: module contract.
        unsafe { opt_handle(list) }
            .and_then(|l| l.groups.get(index))
            .map_or(std::ptr::null(), |g| g as *const KafkaGroup)
    })
}

/// Releases `list`. NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn kafka_group_list_free(list: *mut KafkaGroupList) {
    call_infallible(here!(SUBJECT), || {
        // SAFETY: NULL or from a group call (module contract).
        unsafe { free_handle(list) }
    })
}

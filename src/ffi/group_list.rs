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

/// Lists every group the brokers know (consumer groups and others), with
/// name, state and protocol.
///
/// Members are filled only as far as the brokers' listing gives them (use
/// `kafka_instance_describe_group` for one group's members).
///
/// @param inst       The instance.
/// @param timeout_ms How long to wait (-1: no limit).
/// @param out        Receives the groups; free them with
///                   `kafka_group_list_free`. NULL until the call succeeds.
/// @param err        NULL, or where a failure is described (`KAFKA_OK` on
///                   success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_INVALID_ARGUMENT`
///         (`inst` or `out` NULL, a bad timeout), `KAFKA_ERR_TIMEOUT`,
///         `KAFKA_ERR_BROKER`.
#[no_mangle]
pub unsafe extern "C" fn kafka_instance_list_groups(
    inst: *const KafkaInstance,
    timeout_ms: i32,
    out: *mut *mut KafkaGroupList,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY (both): `out` is NULL or writable for one pointer, `inst` NULL or a live instance
        // (the header's contract); `out_slot` and `handle` refuse NULL.
        let slot = unsafe { out_slot(out, "out") }?;
        let inst = unsafe { handle(inst, "inst") }?;
        let groups = inst.inner.admin()?.groups(None, arg_timeout(timeout_ms)?)?;
        *slot = KafkaGroupList::of(groups);
        Ok(KafkaErrorCode::KAFKA_OK)
    })
}

/// Describes one group: its state, protocol, and each member with the
/// partitions assigned to it.
///
/// A group nobody uses is answered with state "Dead" and no members (that
/// is how coordinators answer).
///
/// @param inst       The instance.
/// @param group      The group's name, NUL-terminated.
/// @param timeout_ms How long to wait (-1: no limit).
/// @param out        Receives the group, as a list of one; free it with
///                   `kafka_group_list_free`. NULL until the call succeeds.
/// @param err        NULL, or where a failure is described (`KAFKA_OK` on
///                   success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_INVALID_ARGUMENT`
///         (`inst`, `group` or `out` NULL, invalid UTF-8, a bad timeout),
///         `KAFKA_ERR_TIMEOUT`, `KAFKA_ERR_BROKER`.
#[no_mangle]
pub unsafe extern "C" fn kafka_instance_describe_group(
    inst: *const KafkaInstance,
    group: *const c_char,
    timeout_ms: i32,
    out: *mut *mut KafkaGroupList,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY (both): `out` is NULL or writable; `inst` and `group` are as `with_group`
        // requires (a live instance or NULL; NULL or a C string), by the header.
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

/// Gives the offsets `group` has committed, sorted.
///
/// @param inst       The instance.
/// @param group      The group's name, NUL-terminated.
/// @param partitions The partitions to ask about (offsets in the list are
///                   ignored), or NULL for every partition the group
///                   committed (then a group that committed nothing answers
///                   an empty list).
/// @param timeout_ms How long to wait for the group's coordinator (-1: up to
///                   59 minutes).
/// @param out        Receives the list: `offset` and `committed` both the
///                   committed offset (the next message the group will
///                   read), `KAFKA_OFFSET_NONE` where nothing is committed;
///                   free it with `kafka_partition_list_free`. NULL until the
///                   call succeeds.
/// @param err        NULL, or where a failure is described (`KAFKA_OK` on
///                   success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_TIMEOUT` (unanswered
///         in time, the coordinator unreachable; the instance's next admin
///         call uses a new admin client), `KAFKA_ERR_INVALID_ARGUMENT`
///         (`inst`, `group` or `out` NULL, invalid UTF-8, a bad timeout),
///         `KAFKA_ERR_BROKER`.
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
        // SAFETY (both): `out` is NULL or writable; `inst` and `group` are as `with_group`
        // requires, and `partitions` NULL or a live list (the header's contract).
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

/// Gives a group's committed offsets with their partitions' watermarks and
/// lag.
///
/// @param inst       The instance.
/// @param group      The group's name, NUL-terminated.
/// @param partitions The partitions to ask about, or NULL for each the group
///                   has committed an offset for, as
///                   `kafka_instance_group_offsets`.
/// @param timeout_ms The bound of the whole call (-1: no limit).
/// @param out        Receives, for each partition: `committed` (and
///                   `offset`), the partition's `low_watermark` and
///                   `high_watermark`, and `lag` = `uncommitted_lag` = high
///                   watermark minus committed: the messages the group has
///                   yet to process (with nothing committed: every message
///                   the partition holds). Free it with
///                   `kafka_partition_list_free`. NULL until the call
///                   succeeds.
/// @param err        NULL, or where a failure is described (`KAFKA_OK` on
///                   success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_TIMEOUT`,
///         `KAFKA_ERR_INVALID_ARGUMENT` (`inst`, `group` or `out` NULL,
///         invalid UTF-8, a bad timeout), `KAFKA_ERR_BROKER`.
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
        // SAFETY (both): `out` is NULL or writable; `inst` and `group` are as `with_group`
        // requires, and `partitions` NULL or a live list (the header's contract).
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

/// Deletes `group` and its committed offsets.
///
/// @param inst       The instance.
/// @param group      The group's name, NUL-terminated.
/// @param timeout_ms How long to wait (-1: up to 59 minutes).
/// @param err        NULL, or where a failure is described (`KAFKA_OK` on
///                   success).
/// @return `KAFKA_OK`, or the failure's code: `KAFKA_ERR_BROKER` (a group
///         with members is refused, `rdkafka_code` 68, NON_EMPTY_GROUP; an
///         unknown one: 69, GROUP_ID_NOT_FOUND), `KAFKA_ERR_TIMEOUT`
///         (unanswered, as for `kafka_instance_group_offsets`),
///         `KAFKA_ERR_INVALID_ARGUMENT` (`inst` or `group` NULL, invalid
///         UTF-8, a bad timeout).
#[no_mangle]
pub unsafe extern "C" fn kafka_instance_delete_group(
    inst: *const KafkaInstance,
    group: *const c_char,
    timeout_ms: i32,
    err: *mut KafkaError,
) -> KafkaErrorCode {
    call(here!(SUBJECT), err, || {
        // SAFETY: `inst` is NULL or a live instance and `group` NULL or a C string (the header's
        // contract), as `with_group` requires; it refuses NULL.
        unsafe {
            with_group(inst, group, |i, g| {
                i.admin()?.delete_group(g, arg_timeout(timeout_ms)?)
            })
        }?;
        Ok(KafkaErrorCode::KAFKA_OK)
    })
}

/// Counts the groups `list` holds.
///
/// @param list The groups, or NULL.
/// @return The count; 0 for NULL.
#[no_mangle]
pub unsafe extern "C" fn kafka_group_list_count(list: *const KafkaGroupList) -> usize {
    call_infallible(here!(SUBJECT), || {
        // SAFETY: `list` is NULL or a live group list, not yet freed (the header's contract);
        // `opt_handle` maps NULL to `None`.
        unsafe { opt_handle(list) }.map_or(0, |l| l.groups.len())
    })
}

/// Gives group `index`.
///
/// @param list  The groups, or NULL.
/// @param index The group's position, from 0.
/// @return The group, owned by `list`; NULL when out of range or `list` is
///         NULL.
#[no_mangle]
pub unsafe extern "C" fn kafka_group_list_get(
    list: *const KafkaGroupList,
    index: usize,
) -> *const KafkaGroup {
    call_infallible(here!(SUBJECT), || {
        // SAFETY: `list` is NULL or a live group list; the group returned lives in it, as the
        // header says, until `kafka_group_list_free`.
        unsafe { opt_handle(list) }
            .and_then(|l| l.groups.get(index))
            .map_or(std::ptr::null(), |g| g as *const KafkaGroup)
    })
}

/// Releases `list`.
///
/// @param list The groups to release; NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn kafka_group_list_free(list: *mut KafkaGroupList) {
    call_infallible(here!(SUBJECT), || {
        // SAFETY: `list` is NULL or from a group call, freed once and not used after (the header's
        // contract for `kafka_group_list_free`); NULL is a no-op.
        unsafe { free_handle(list) }
    })
}

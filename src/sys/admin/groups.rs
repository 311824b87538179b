//! Requests to a group's coordinator: the offsets a group committed, and
//! the deletion of a group.

use std::ffi::CString;
use std::time::Duration;

use rdkafka::bindings as rd;
use rdkafka::error::RDKafkaErrorCode;

use super::{first, group_error, request, text, Outcome, Target, NO_ERROR};
use crate::sys::owned::Owned;
use crate::sys::partitions as partition_elements;

/// One partition's committed offset, as [`group_offsets`] reads it.
#[derive(Debug)]
pub(crate) struct GroupOffset {
    pub(crate) topic: String,
    pub(crate) partition: i32,
    pub(crate) offset: i64,
}

/// The offsets `group` has committed (librdkafka's
/// ListConsumerGroupOffsets): of `partitions`, or of every partition it
/// committed (None).
pub(crate) fn group_offsets<C: rdkafka::client::ClientContext>(
    client: &rdkafka::client::Client<C>,
    group: &str,
    partitions: Option<&[(&str, i32)]>,
    wait: Option<Duration>,
    interrupted: &dyn Fn() -> bool,
) -> Outcome<Vec<GroupOffset>> {
    let invalid = |why: &str| Outcome::Failed(RDKafkaErrorCode::InvalidArgument, why.into());
    let Ok(group) = CString::new(group) else {
        return invalid("the group name holds a NUL byte");
    };
    let op = rd::rd_kafka_admin_op_t::RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS;
    let issue = |options: *mut rd::rd_kafka_AdminOptions_t, queue: *mut rd::rd_kafka_queue_t| {
        // SAFETY: the list and the request are made here and owned until
        // the end of the closure; librdkafka copies both into the request
        // it sends. Topic names were checked: never a NUL.
        unsafe {
            let list = match partitions {
                None => None,
                Some(parts) => {
                    let list = rd::rd_kafka_topic_partition_list_new(parts.len().max(1) as i32);
                    let list = Owned::new(list).ok_or("librdkafka could not make a list")?;
                    for (topic, partition) in parts {
                        let topic = CString::new(*topic).unwrap_or_default();
                        rd::rd_kafka_topic_partition_list_add(
                            list.ptr(),
                            topic.as_ptr(),
                            *partition,
                        );
                    }
                    Some(list)
                }
            };
            let list_ptr = list.as_ref().map_or(std::ptr::null_mut(), Owned::ptr);
            let one = rd::rd_kafka_ListConsumerGroupOffsets_new(group.as_ptr(), list_ptr);
            let one = Owned::new(one).ok_or("librdkafka could not make the request")?;
            let mut requests = [one.ptr()];
            let (rk, all) = (client.native_ptr(), requests.as_mut_ptr());
            rd::rd_kafka_ListConsumerGroupOffsets(rk, all, 1, options, queue);
        }
        Ok(())
    };
    // SAFETY: the event is live while `read` runs; everything is copied.
    let read = |event: *mut rd::rd_kafka_event_t| unsafe {
        let result = rd::rd_kafka_event_ListConsumerGroupOffsets_result(event);
        let groups = rd::rd_kafka_ListConsumerGroupOffsets_result_groups;
        let Some(group) = first(result, groups) else {
            return invalid("librdkafka gave no result for the group");
        };
        if let Some((code, why)) = group_error(group) {
            return Outcome::Failed(code, why);
        }
        let elems = partition_elements(rd::rd_kafka_group_result_partitions(group));
        if let Some(e) = elems.iter().find(|e| e.err != NO_ERROR) {
            return Outcome::Failed(RDKafkaErrorCode::from(e.err), String::new());
        }
        Outcome::Done(
            elems
                .iter()
                .map(|e| GroupOffset {
                    topic: text(e.topic),
                    partition: e.partition,
                    offset: e.offset,
                })
                .collect(),
        )
    };
    let target = Target::Coordinator;
    // SAFETY: the client is live for the call; issue posts one request.
    unsafe {
        request(
            client.native_ptr(),
            op,
            target,
            wait,
            interrupted,
            issue,
            read,
        )
    }
}

/// Deletes consumer group `group` (DeleteGroups, to its coordinator).
pub(crate) fn delete_group<C: rdkafka::client::ClientContext>(
    client: &rdkafka::client::Client<C>,
    group: &str,
    wait: Option<Duration>,
    interrupted: &dyn Fn() -> bool,
) -> Outcome<()> {
    let Ok(group) = CString::new(group) else {
        let why = "the group name holds a NUL byte".into();
        return Outcome::Failed(RDKafkaErrorCode::InvalidArgument, why);
    };
    let op = rd::rd_kafka_admin_op_t::RD_KAFKA_ADMIN_OP_DELETEGROUPS;
    let issue = |options: *mut rd::rd_kafka_AdminOptions_t, queue: *mut rd::rd_kafka_queue_t| {
        // SAFETY: the request is made here and owned until the end of the
        // closure; librdkafka copies it into the request it sends.
        unsafe {
            let one = Owned::new(rd::rd_kafka_DeleteGroup_new(group.as_ptr()))
                .ok_or("librdkafka could not make the request")?;
            let mut requests = [one.ptr()];
            rd::rd_kafka_DeleteGroups(
                client.native_ptr(),
                requests.as_mut_ptr(),
                1,
                options,
                queue,
            );
        }
        Ok(())
    };
    // SAFETY: the event is live while `read` runs; everything is copied.
    let read = |event: *mut rd::rd_kafka_event_t| unsafe {
        let result = rd::rd_kafka_event_DeleteGroups_result(event);
        let Some(group) = first(result, rd::rd_kafka_DeleteGroups_result_groups) else {
            let why = "librdkafka gave no result for the group".into();
            return Outcome::Failed(RDKafkaErrorCode::Fail, why);
        };
        match group_error(group) {
            None => Outcome::Done(()),
            Some((code, why)) => Outcome::Failed(code, why),
        }
    };
    let target = Target::Coordinator;
    // SAFETY: the client is live for the call; issue posts one request.
    unsafe {
        request(
            client.native_ptr(),
            op,
            target,
            wait,
            interrupted,
            issue,
            read,
        )
    }
}

//! librdkafka admin requests made directly, where rust-rdkafka either does
//! not wrap the request (ListConsumerGroupOffsets) or drops what the
//! broker said: its topic and config results keep the error code and lose
//! the broker's message ("Topic currently has 3 partitions, which is
//! higher than the requested 2", "Unknown topic config name: x"), which is
//! what a user needs to act on a refusal.
//!
//! Requests answered by a group's coordinator (ListConsumerGroupOffsets,
//! DeleteGroups) meet a librdkafka 2.12 defect: when such a request times
//! out inside librdkafka while the coordinator is unreachable, and the
//! coordinator comes back later, librdkafka aborts the process
//! (`rd_kafka_enq_once_del_source_return: eonce->refcnt > 0`; librdkafka
//! issues 4605 and 3663). So these never time out inside librdkafka (its
//! limit, an hour, is asked): the wait is bounded here, and a request
//! still out when it ends is reported as [`Outcome::TimedOut`], whose
//! client the caller then stops using (see `Admin::retire`); destroying
//! the client ends the request cleanly.

use std::ffi::{c_char, CStr, CString};
use std::time::{Duration, Instant};

use rdkafka::bindings as rd;
use rdkafka::error::RDKafkaErrorCode;

use super::Queue;

/// What became of an admin request.
#[derive(Debug)]
pub(crate) enum Outcome<T> {
    Done(T),
    /// librdkafka's or the broker's code, and the broker's (or
    /// librdkafka's) own words.
    Failed(RDKafkaErrorCode, String),
    /// `interrupted` said stop before an answer came.
    Interrupted,
    /// A coordinator request was not answered within its wait; it is
    /// still out inside the client.
    TimedOut,
}

/// The longest librdkafka waits for an admin request (its upper bound).
const LIBRDKAFKA_LONGEST: Duration = Duration::from_secs(3600);

/// How long a coordinator request without a caller's limit is waited
/// for: a little less than librdkafka's own limit, so that it never
/// times out inside librdkafka.
const COORDINATOR_LONGEST: Duration = Duration::from_secs(3540);

/// Whether a request goes to a group's coordinator (see the module note).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    Any,
    Coordinator,
}

/// One partition's committed offset, as [`group_offsets`] reads it.
#[derive(Debug)]
pub(crate) struct GroupOffset {
    pub(crate) topic: String,
    pub(crate) partition: i32,
    pub(crate) offset: i64,
}

/// A request about one topic whose answer is a code and a message.
pub(crate) enum TopicRequest<'a> {
    Create {
        name: &'a str,
        partitions: i32,
        replication_factor: i32,
    },
    Delete {
        name: &'a str,
    },
    /// Grow to `total` partitions.
    CreatePartitions {
        name: &'a str,
        total: i32,
    },
    /// Replace the topic's settings with `settings` (AlterConfigs).
    AlterConfigs {
        name: &'a str,
        settings: &'a [(String, String)],
    },
    /// Set (Some) or delete (None, back to the inherited value) each
    /// setting, leaving the others (IncrementalAlterConfigs, Kafka 2.3+).
    ChangeConfigs {
        name: &'a str,
        changes: &'a [(&'a str, Option<&'a str>)],
    },
}

fn text(p: *const c_char) -> String {
    match p.is_null() {
        true => String::new(),
        // SAFETY: callers pass NUL-terminated strings owned by a live
        // librdkafka object; the text is copied before it goes.
        false => unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned(),
    }
}

const NO_ERROR: rd::rd_kafka_resp_err_t = rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR;

/// The first element of the list `list` reads off `result` (librdkafka's
/// `*_result_topics` / `_groups` / `_resources` accessors): None when
/// `result` is NULL (the event was of another kind) or the list is empty.
///
/// # Safety
/// `result` is NULL or the live result of an event; the element lives as
/// long as the event.
unsafe fn first<R, T>(
    result: *const R,
    list: unsafe extern "C" fn(*const R, *mut usize) -> *mut *const T,
) -> Option<*const T> {
    if result.is_null() {
        return None;
    }
    let mut n = 0usize;
    let all = list(result, &mut n);
    (!all.is_null() && n > 0).then(|| *all)
}

/// The error a group result carries, if any: its code and message.
///
/// # Safety
/// `group` is a live group result.
unsafe fn group_error(
    group: *const rd::rd_kafka_group_result_t,
) -> Option<(RDKafkaErrorCode, String)> {
    let e = rd::rd_kafka_group_result_error(group);
    if e.is_null() || rd::rd_kafka_error_code(e) == NO_ERROR {
        return None;
    }
    let code = RDKafkaErrorCode::from(rd::rd_kafka_error_code(e));
    Some((code, text(rd::rd_kafka_error_string(e))))
}

/// Runs one admin request of kind `op` on a reply queue of its own:
/// `issue` sends it (given the options and the queue) or refuses to (an
/// argument librdkafka would not take: nothing sent, that refusal
/// returned), `read` turns the result event into the outcome. `wait` bounds the request (and, for
/// topic operations, the broker's own wait for completion); `interrupted`
/// is asked every 100 ms while waiting.
///
/// # Safety
/// `rk` is a live client for the whole call; `issue` must post exactly
/// one result to the queue unless it returns an error, and `read` must not keep pointers into the
/// event (it is destroyed after `read` returns).
unsafe fn request<T>(
    rk: *mut rd::rd_kafka_t,
    op: rd::rd_kafka_admin_op_t,
    target: Target,
    wait: Option<Duration>,
    interrupted: &dyn Fn() -> bool,
    issue: impl FnOnce(
        *mut rd::rd_kafka_AdminOptions_t,
        *mut rd::rd_kafka_queue_t,
    ) -> Result<(), String>,
    read: impl FnOnce(*mut rd::rd_kafka_event_t) -> Outcome<T>,
) -> Outcome<T> {
    let queue = rd::rd_kafka_queue_new(rk);
    if queue.is_null() {
        let why = "librdkafka could not create a queue".into();
        return Outcome::Failed(RDKafkaErrorCode::Fail, why);
    }
    let queue = Queue(queue);
    let options = rd::rd_kafka_AdminOptions_new(rk, op);
    let (wait, deadline) = match target {
        Target::Any => (wait, None),
        Target::Coordinator => {
            let ours = wait.map_or(COORDINATOR_LONGEST, |w| w.min(COORDINATOR_LONGEST));
            (Some(LIBRDKAFKA_LONGEST), Some(Instant::now() + ours))
        }
    };
    if let Some(w) = wait {
        let ms = w.as_millis().clamp(1, i32::MAX as u128) as i32;
        let mut errstr = [0 as c_char; 256];
        let (buf, len) = (errstr.as_mut_ptr(), errstr.len());
        rd::rd_kafka_AdminOptions_set_request_timeout(options, ms, buf, len);
        // Refused (and ignored) for the requests that have none.
        rd::rd_kafka_AdminOptions_set_operation_timeout(options, ms, buf, len);
    }
    let issued = issue(options, queue.0);
    rd::rd_kafka_AdminOptions_destroy(options);
    if let Err(why) = issued {
        return Outcome::Failed(RDKafkaErrorCode::InvalidArgument, why);
    }
    let event = loop {
        let event = rd::rd_kafka_queue_poll(queue.0, 100);
        if !event.is_null() {
            break event;
        }
        if interrupted() {
            return Outcome::Interrupted;
        }
        if deadline.is_some_and(|d| Instant::now() >= d) {
            return Outcome::TimedOut;
        }
    };
    let err = rd::rd_kafka_event_error(event);
    let outcome = match err == NO_ERROR {
        true => read(event),
        false => Outcome::Failed(
            RDKafkaErrorCode::from(err),
            text(rd::rd_kafka_event_error_string(event)),
        ),
    };
    rd::rd_kafka_event_destroy(event);
    outcome
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
        // SAFETY: the list and the request are made, handed to librdkafka
        // (which copies them) and destroyed here, once each.
        unsafe {
            let list = match partitions {
                None => std::ptr::null_mut(),
                Some(parts) => {
                    let list = rd::rd_kafka_topic_partition_list_new(parts.len().max(1) as i32);
                    for (topic, partition) in parts {
                        // Checked topic names: never a NUL.
                        let topic = CString::new(*topic).unwrap_or_default();
                        rd::rd_kafka_topic_partition_list_add(list, topic.as_ptr(), *partition);
                    }
                    list
                }
            };
            let mut one = rd::rd_kafka_ListConsumerGroupOffsets_new(group.as_ptr(), list);
            rd::rd_kafka_ListConsumerGroupOffsets(client.native_ptr(), &mut one, 1, options, queue);
            rd::rd_kafka_ListConsumerGroupOffsets_destroy(one);
            if !list.is_null() {
                rd::rd_kafka_topic_partition_list_destroy(list);
            }
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
        let list = rd::rd_kafka_group_result_partitions(group);
        let elems = if list.is_null() || (*list).cnt <= 0 {
            &[][..]
        } else {
            std::slice::from_raw_parts((*list).elems, (*list).cnt as usize)
        };
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
        // SAFETY: made, handed over (copied) and destroyed here once.
        unsafe {
            let mut one = rd::rd_kafka_DeleteGroup_new(group.as_ptr());
            rd::rd_kafka_DeleteGroups(client.native_ptr(), &mut one, 1, options, queue);
            rd::rd_kafka_DeleteGroup_destroy(one);
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

/// Sends `what` and returns the broker's answer for its topic: done, or
/// its code with its message.
/// The broker id the cluster's metadata names its controller, asked for
/// up to `wait`; `None` while unknown.
pub(crate) fn controller_id<C: rdkafka::client::ClientContext>(
    client: &rdkafka::client::Client<C>,
    wait: Duration,
) -> Option<i32> {
    let ms = wait.as_millis().min(i32::MAX as u128) as i32;
    // SAFETY: a live client; the call only reads librdkafka's metadata
    // cache (waiting for it up to `ms`).
    let id = unsafe { rd::rd_kafka_controllerid(client.native_ptr(), ms) };
    (id >= 0).then_some(id)
}

/// The ids of the cluster's brokers, from a metadata request for the
/// topics the client already knows (not all of the cluster's), asked for
/// up to `wait`; `None` without an answer.
pub(crate) fn broker_ids<C: rdkafka::client::ClientContext>(
    client: &rdkafka::client::Client<C>,
    wait: Duration,
) -> Option<Vec<i32>> {
    let ms = wait.as_millis().clamp(1, i32::MAX as u128) as i32;
    let mut md: *const rd::rd_kafka_metadata_t = std::ptr::null();
    // SAFETY: a live client; the metadata librdkafka returns is read,
    // then released once with rd_kafka_metadata_destroy.
    unsafe {
        let err = rd::rd_kafka_metadata(client.native_ptr(), 0, std::ptr::null_mut(), &mut md, ms);
        if err != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR || md.is_null() {
            return None;
        }
        let brokers = match (*md).broker_cnt {
            n if n > 0 && !(*md).brokers.is_null() => {
                std::slice::from_raw_parts((*md).brokers, n as usize)
            }
            _ => &[][..],
        };
        let ids = brokers.iter().map(|b| b.id).collect();
        rd::rd_kafka_metadata_destroy(md);
        Some(ids)
    }
}

pub(crate) fn topic_request<C: rdkafka::client::ClientContext>(
    client: &rdkafka::client::Client<C>,
    what: TopicRequest<'_>,
    wait: Option<Duration>,
    interrupted: &dyn Fn() -> bool,
) -> Outcome<()> {
    use rd::rd_kafka_admin_op_t as Op;
    let invalid = |why: String| Outcome::Failed(RDKafkaErrorCode::InvalidArgument, why);
    let name = match &what {
        TopicRequest::Create { name, .. }
        | TopicRequest::Delete { name }
        | TopicRequest::CreatePartitions { name, .. }
        | TopicRequest::AlterConfigs { name, .. }
        | TopicRequest::ChangeConfigs { name, .. } => *name,
    };
    let Ok(cname) = CString::new(name) else {
        return invalid("the topic name holds a NUL byte".into());
    };
    let pairs: Vec<(&str, Option<&str>)> = match &what {
        TopicRequest::AlterConfigs { settings, .. } => settings
            .iter()
            .map(|(k, v)| (k.as_str(), Some(v.as_str())))
            .collect(),
        TopicRequest::ChangeConfigs { changes, .. } => changes.to_vec(),
        _ => Vec::new(),
    };
    let mut settings = Vec::with_capacity(pairs.len());
    for (k, v) in pairs {
        match (CString::new(k), v.map(CString::new).transpose()) {
            (Ok(k), Ok(v)) => settings.push((k, v)),
            _ => return invalid(format!("setting {k:?} holds a NUL byte")),
        }
    }
    let op = match &what {
        TopicRequest::Create { .. } => Op::RD_KAFKA_ADMIN_OP_CREATETOPICS,
        TopicRequest::Delete { .. } => Op::RD_KAFKA_ADMIN_OP_DELETETOPICS,
        TopicRequest::CreatePartitions { .. } => Op::RD_KAFKA_ADMIN_OP_CREATEPARTITIONS,
        TopicRequest::AlterConfigs { .. } => Op::RD_KAFKA_ADMIN_OP_ALTERCONFIGS,
        TopicRequest::ChangeConfigs { .. } => Op::RD_KAFKA_ADMIN_OP_INCREMENTALALTERCONFIGS,
    };
    let issue = |options: *mut rd::rd_kafka_AdminOptions_t, queue: *mut rd::rd_kafka_queue_t| {
        let rk = client.native_ptr();
        let mut errstr = [0 as c_char; 512];
        let (buf, len) = (errstr.as_mut_ptr(), errstr.len());
        // SAFETY: each object is made, handed to librdkafka (which copies
        // it) and destroyed here once; on a refusal to make one, nothing
        // is sent.
        unsafe {
            match what {
                TopicRequest::Create {
                    partitions,
                    replication_factor,
                    ..
                } => {
                    let mut t = rd::rd_kafka_NewTopic_new(
                        cname.as_ptr(),
                        partitions,
                        replication_factor,
                        buf,
                        len,
                    );
                    if t.is_null() {
                        return Err(text(buf));
                    }
                    rd::rd_kafka_CreateTopics(rk, &mut t, 1, options, queue);
                    rd::rd_kafka_NewTopic_destroy(t);
                }
                TopicRequest::Delete { .. } => {
                    let mut t = rd::rd_kafka_DeleteTopic_new(cname.as_ptr());
                    rd::rd_kafka_DeleteTopics(rk, &mut t, 1, options, queue);
                    rd::rd_kafka_DeleteTopic_destroy(t);
                }
                TopicRequest::CreatePartitions { total, .. } => {
                    let mut p =
                        rd::rd_kafka_NewPartitions_new(cname.as_ptr(), total as usize, buf, len);
                    if p.is_null() {
                        return Err(text(buf));
                    }
                    rd::rd_kafka_CreatePartitions(rk, &mut p, 1, options, queue);
                    rd::rd_kafka_NewPartitions_destroy(p);
                }
                TopicRequest::AlterConfigs { .. } => {
                    let kind = rd::rd_kafka_ResourceType_t::RD_KAFKA_RESOURCE_TOPIC;
                    let mut r = rd::rd_kafka_ConfigResource_new(kind, cname.as_ptr());
                    for (k, v) in &settings {
                        let v = v.as_ref().map_or(std::ptr::null(), |v| v.as_ptr());
                        let e = rd::rd_kafka_ConfigResource_set_config(r, k.as_ptr(), v);
                        if e != NO_ERROR {
                            let why = text(rd::rd_kafka_err2str(e));
                            rd::rd_kafka_ConfigResource_destroy(r);
                            return Err(format!("setting {k:?}: {why}"));
                        }
                    }
                    rd::rd_kafka_AlterConfigs(rk, &mut r, 1, options, queue);
                    rd::rd_kafka_ConfigResource_destroy(r);
                }
                TopicRequest::ChangeConfigs { .. } => {
                    use rd::rd_kafka_AlterConfigOpType_t as How;
                    let kind = rd::rd_kafka_ResourceType_t::RD_KAFKA_RESOURCE_TOPIC;
                    let mut r = rd::rd_kafka_ConfigResource_new(kind, cname.as_ptr());
                    for (k, v) in &settings {
                        let (how, v) = match v {
                            Some(v) => (How::RD_KAFKA_ALTER_CONFIG_OP_TYPE_SET, v.as_ptr()),
                            None => (How::RD_KAFKA_ALTER_CONFIG_OP_TYPE_DELETE, std::ptr::null()),
                        };
                        let e = rd::rd_kafka_ConfigResource_add_incremental_config(
                            r,
                            k.as_ptr(),
                            how,
                            v,
                        );
                        if !e.is_null() {
                            let why = text(rd::rd_kafka_error_string(e));
                            rd::rd_kafka_error_destroy(e);
                            rd::rd_kafka_ConfigResource_destroy(r);
                            return Err(format!("setting {k:?}: {why}"));
                        }
                    }
                    rd::rd_kafka_IncrementalAlterConfigs(rk, &mut r, 1, options, queue);
                    rd::rd_kafka_ConfigResource_destroy(r);
                }
            }
        }
        Ok(())
    };
    // SAFETY: the event is live while `read` runs; everything is copied.
    let read = |event: *mut rd::rd_kafka_event_t| unsafe {
        let configs = [
            Op::RD_KAFKA_ADMIN_OP_ALTERCONFIGS,
            Op::RD_KAFKA_ADMIN_OP_INCREMENTALALTERCONFIGS,
        ];
        let (code, message) = if configs.contains(&op) {
            let resource = match op {
                Op::RD_KAFKA_ADMIN_OP_ALTERCONFIGS => first(
                    rd::rd_kafka_event_AlterConfigs_result(event),
                    rd::rd_kafka_AlterConfigs_result_resources,
                ),
                _ => first(
                    rd::rd_kafka_event_IncrementalAlterConfigs_result(event),
                    rd::rd_kafka_IncrementalAlterConfigs_result_resources,
                ),
            };
            let Some(r) = resource else {
                return invalid("librdkafka gave no result for the topic".into());
            };
            (
                rd::rd_kafka_ConfigResource_error(r),
                text(rd::rd_kafka_ConfigResource_error_string(r)),
            )
        } else {
            let topic = match op {
                Op::RD_KAFKA_ADMIN_OP_CREATETOPICS => first(
                    rd::rd_kafka_event_CreateTopics_result(event),
                    rd::rd_kafka_CreateTopics_result_topics,
                ),
                Op::RD_KAFKA_ADMIN_OP_DELETETOPICS => first(
                    rd::rd_kafka_event_DeleteTopics_result(event),
                    rd::rd_kafka_DeleteTopics_result_topics,
                ),
                _ => first(
                    rd::rd_kafka_event_CreatePartitions_result(event),
                    rd::rd_kafka_CreatePartitions_result_topics,
                ),
            };
            let Some(t) = topic else {
                return invalid("librdkafka gave no result for the topic".into());
            };
            (
                rd::rd_kafka_topic_result_error(t),
                text(rd::rd_kafka_topic_result_error_string(t)),
            )
        };
        match code == NO_ERROR {
            true => Outcome::Done(()),
            false => Outcome::Failed(RDKafkaErrorCode::from(code), message),
        }
    };
    // SAFETY: the client is live for the call; issue posts one request
    // or refuses before sending anything.
    unsafe {
        request(
            client.native_ptr(),
            op,
            Target::Any,
            wait,
            interrupted,
            issue,
            read,
        )
    }
}

/// One setting of a topic as the broker described it.
#[derive(Debug)]
pub(crate) struct Setting {
    pub(crate) name: String,
    pub(crate) value: Option<String>,
    /// Set on the topic itself (DYNAMIC_TOPIC_CONFIG).
    pub(crate) set_on_topic: bool,
    pub(crate) is_default: bool,
    pub(crate) is_read_only: bool,
    pub(crate) is_sensitive: bool,
}

/// Every setting of topic `name` (DescribeConfigs), or the broker's
/// refusal for that topic (rust-rdkafka reports a refused resource as one
/// with no settings).
pub(crate) fn topic_settings<C: rdkafka::client::ClientContext>(
    client: &rdkafka::client::Client<C>,
    name: &str,
    wait: Option<Duration>,
    interrupted: &dyn Fn() -> bool,
) -> Outcome<Vec<Setting>> {
    let Ok(cname) = CString::new(name) else {
        let why = "the topic name holds a NUL byte".into();
        return Outcome::Failed(RDKafkaErrorCode::InvalidArgument, why);
    };
    let op = rd::rd_kafka_admin_op_t::RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS;
    let issue = |options: *mut rd::rd_kafka_AdminOptions_t, queue: *mut rd::rd_kafka_queue_t| {
        // SAFETY: the resource is made, handed over (copied) and
        // destroyed here once.
        unsafe {
            let kind = rd::rd_kafka_ResourceType_t::RD_KAFKA_RESOURCE_TOPIC;
            let mut r = rd::rd_kafka_ConfigResource_new(kind, cname.as_ptr());
            rd::rd_kafka_DescribeConfigs(client.native_ptr(), &mut r, 1, options, queue);
            rd::rd_kafka_ConfigResource_destroy(r);
        }
        Ok(())
    };
    // SAFETY: the event is live while `read` runs; everything is copied.
    let read = |event: *mut rd::rd_kafka_event_t| unsafe {
        let result = rd::rd_kafka_event_DescribeConfigs_result(event);
        let Some(r) = first(result, rd::rd_kafka_DescribeConfigs_result_resources) else {
            let why = "librdkafka gave no result for the topic".into();
            return Outcome::Failed(RDKafkaErrorCode::Fail, why);
        };
        let code = rd::rd_kafka_ConfigResource_error(r);
        if code != NO_ERROR {
            let why = text(rd::rd_kafka_ConfigResource_error_string(r));
            return Outcome::Failed(RDKafkaErrorCode::from(code), why);
        }
        let mut count = 0usize;
        let entries = rd::rd_kafka_ConfigResource_configs(r, &mut count);
        let entries = match entries.is_null() || count == 0 {
            true => &[][..],
            false => std::slice::from_raw_parts(entries, count),
        };
        let topic_source = rd::rd_kafka_ConfigSource_t::RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG;
        Outcome::Done(
            entries
                .iter()
                .map(|&e| {
                    let value = rd::rd_kafka_ConfigEntry_value(e);
                    Setting {
                        name: text(rd::rd_kafka_ConfigEntry_name(e)),
                        value: (!value.is_null()).then(|| text(value)),
                        set_on_topic: rd::rd_kafka_ConfigEntry_source(e) == topic_source,
                        is_default: rd::rd_kafka_ConfigEntry_is_default(e) != 0,
                        is_read_only: rd::rd_kafka_ConfigEntry_is_read_only(e) != 0,
                        is_sensitive: rd::rd_kafka_ConfigEntry_is_sensitive(e) != 0,
                    }
                })
                .collect(),
        )
    };
    // SAFETY: the client is live for the call; issue posts one request.
    unsafe {
        request(
            client.native_ptr(),
            op,
            Target::Any,
            wait,
            interrupted,
            issue,
            read,
        )
    }
}

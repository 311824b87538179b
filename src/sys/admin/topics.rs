//! Requests about one topic: create, delete, grow, set or describe its
//! settings, each answered with the broker's own words.

use std::ffi::{c_char, CString};
use std::time::Duration;

use rdkafka::bindings as rd;
use rdkafka::error::RDKafkaErrorCode;

use super::{first, request, text, Outcome, Target, NO_ERROR};
use crate::sys::elements;
use crate::sys::owned::Owned;

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

/// Sends `what` and returns the broker's answer for its topic: done, or
/// its code with its message.
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
        let refused = || text(buf);
        // SAFETY: each object is made here and owned until the end of the
        // closure (released on every path); librdkafka copies it into the
        // request it sends. On a refusal to make one, nothing is sent.
        unsafe {
            match what {
                TopicRequest::Create {
                    partitions,
                    replication_factor,
                    ..
                } => {
                    let t = rd::rd_kafka_NewTopic_new(
                        cname.as_ptr(),
                        partitions,
                        replication_factor,
                        buf,
                        len,
                    );
                    let t = Owned::new(t).ok_or_else(refused)?;
                    rd::rd_kafka_CreateTopics(rk, &mut t.ptr(), 1, options, queue);
                }
                TopicRequest::Delete { .. } => {
                    let t = Owned::new(rd::rd_kafka_DeleteTopic_new(cname.as_ptr()))
                        .ok_or("librdkafka could not make the request")?;
                    rd::rd_kafka_DeleteTopics(rk, &mut t.ptr(), 1, options, queue);
                }
                TopicRequest::CreatePartitions { total, .. } => {
                    let p =
                        rd::rd_kafka_NewPartitions_new(cname.as_ptr(), total as usize, buf, len);
                    let p = Owned::new(p).ok_or_else(refused)?;
                    rd::rd_kafka_CreatePartitions(rk, &mut p.ptr(), 1, options, queue);
                }
                TopicRequest::AlterConfigs { .. } => {
                    let r = topic_resource(&cname)?;
                    for (k, v) in &settings {
                        let v = v.as_ref().map_or(std::ptr::null(), |v| v.as_ptr());
                        let e = rd::rd_kafka_ConfigResource_set_config(r.ptr(), k.as_ptr(), v);
                        if e != NO_ERROR {
                            let why = text(rd::rd_kafka_err2str(e));
                            return Err(format!("setting {k:?}: {why}"));
                        }
                    }
                    rd::rd_kafka_AlterConfigs(rk, &mut r.ptr(), 1, options, queue);
                }
                TopicRequest::ChangeConfigs { .. } => {
                    use rd::rd_kafka_AlterConfigOpType_t as How;
                    let r = topic_resource(&cname)?;
                    for (k, v) in &settings {
                        let (how, v) = match v {
                            Some(v) => (How::RD_KAFKA_ALTER_CONFIG_OP_TYPE_SET, v.as_ptr()),
                            None => (How::RD_KAFKA_ALTER_CONFIG_OP_TYPE_DELETE, std::ptr::null()),
                        };
                        let e = rd::rd_kafka_ConfigResource_add_incremental_config(
                            r.ptr(),
                            k.as_ptr(),
                            how,
                            v,
                        );
                        if let Some(e) = Owned::new(e) {
                            let why = text(rd::rd_kafka_error_string(e.ptr()));
                            return Err(format!("setting {k:?}: {why}"));
                        }
                    }
                    rd::rd_kafka_IncrementalAlterConfigs(rk, &mut r.ptr(), 1, options, queue);
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
        let r = topic_resource(&cname)?;
        // SAFETY: a live client; the resource is owned until the end of the
        // closure, and librdkafka copies it into the request it sends.
        unsafe {
            rd::rd_kafka_DescribeConfigs(client.native_ptr(), &mut r.ptr(), 1, options, queue)
        };
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
        let entries = elements(entries, count);
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

/// A config resource naming topic `name`, for the config requests.
fn topic_resource(name: &CString) -> Result<Owned<rd::rd_kafka_ConfigResource_t>, String> {
    let kind = rd::rd_kafka_ResourceType_t::RD_KAFKA_RESOURCE_TOPIC;
    // SAFETY: a NUL-terminated name, which librdkafka copies; the
    // resource it makes is handed to its owner at once.
    unsafe { Owned::new(rd::rd_kafka_ConfigResource_new(kind, name.as_ptr())) }
        .ok_or_else(|| "librdkafka could not make the request".to_owned())
}

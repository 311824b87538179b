// The C API's handles and the header's sections: one table, read by the
// crate (the log subjects of `ffi::Site`), by build.rs (`include!`: the
// order and the sections of include/kafka_instance.h) and by the tests
// (`include!`: which test file covers a function, and that ARCHITECTURE.md
// lists every handle). Plain data with no imports, so that all three can
// read it.

/// A C handle: its functions, its files and its log subject.
pub struct HandleEntry {
    /// The word after `kafka_` in its functions' names; log records name a
    /// call `kafka_instance.<name>.<call>`. Its boundary is
    /// `src/ffi/<name>.rs` and its tests `tests/<name>.rs` (or
    /// `tests/<name>_<topic>.rs`).
    pub name: &'static str,
    /// Its C type: an opaque handle, a struct, or "" for a family of
    /// functions without one.
    pub c_type: &'static str,
    /// The function names that belong to it: exact names, or prefixes
    /// ending in `*`. The longest match decides.
    pub functions: &'static [&'static str],
}

/// The handles, as the header's functions divide among them.
pub const HANDLES: &[HandleEntry] = &[
    HandleEntry {
        name: "error",
        c_type: "KafkaError",
        functions: &["kafka_error_*"],
    },
    HandleEntry {
        name: "config",
        c_type: "KafkaConfig",
        functions: &["kafka_config_*"],
    },
    HandleEntry {
        name: "instance",
        c_type: "KafkaInstance",
        functions: &["kafka_instance_*"],
    },
    HandleEntry {
        name: "producer",
        c_type: "KafkaProducer",
        functions: &[
            "kafka_producer_*",
            "kafka_instance_get_producer",
            "kafka_instance_with_producer",
        ],
    },
    HandleEntry {
        name: "consumer",
        c_type: "KafkaConsumer",
        functions: &[
            "kafka_consumer_*",
            "kafka_instance_get_consumer",
            "kafka_instance_with_consumer",
        ],
    },
    HandleEntry {
        name: "message",
        c_type: "KafkaMessage",
        functions: &["kafka_message_*"],
    },
    HandleEntry {
        name: "partition_list",
        c_type: "KafkaPartitionList",
        functions: &["kafka_partition_list_*"],
    },
    HandleEntry {
        name: "cluster",
        c_type: "KafkaCluster",
        functions: &[
            "kafka_cluster_*",
            "kafka_instance_describe_cluster",
            "kafka_instance_describe_topic",
        ],
    },
    HandleEntry {
        name: "group_list",
        c_type: "KafkaGroupList",
        functions: &[
            "kafka_group_list_*",
            "kafka_instance_list_groups",
            "kafka_instance_describe_group",
            "kafka_instance_group_*",
            "kafka_instance_delete_group",
        ],
    },
    HandleEntry {
        name: "topic_config",
        c_type: "KafkaTopicConfig",
        functions: &[
            "kafka_topic_config_*",
            "kafka_instance_describe_topic_config",
            "kafka_instance_alter_topic_config",
        ],
    },
    HandleEntry {
        name: "statistics",
        c_type: "KafkaStatisticsSummary",
        functions: &["kafka_statistics_*", "kafka_set_statistics_callback"],
    },
    HandleEntry {
        name: "mock_cluster",
        c_type: "KafkaMockCluster",
        functions: &["kafka_mock_cluster_*"],
    },
    HandleEntry {
        name: "log",
        c_type: "",
        functions: &["kafka_set_log_callback"],
    },
];

/// How well `pattern` (an exact name, or a prefix ending in `*`) matches
/// `name`: `None`, or the length matched (an exact name beats any prefix).
pub const fn match_len(pattern: &str, name: &str) -> Option<usize> {
    let (p, n) = (pattern.as_bytes(), name.as_bytes());
    let prefix = !p.is_empty() && p[p.len() - 1] == b'*';
    let len = if prefix { p.len() - 1 } else { p.len() };
    if n.len() < len || (!prefix && n.len() != len) {
        return None;
    }
    let mut i = 0;
    while i < len {
        if p[i] != n[i] {
            return None;
        }
        i += 1;
    }
    Some(if prefix { len } else { usize::MAX })
}

/// The handle a C function belongs to: the longest match.
pub fn handle_of(function: &str) -> Option<&'static HandleEntry> {
    HANDLES
        .iter()
        .filter_map(|h| {
            let best = h
                .functions
                .iter()
                .filter_map(|p| match_len(p, function))
                .max()?;
            Some((best, h))
        })
        .max_by_key(|(len, _)| *len)
        .map(|(_, h)| h)
}

/// A section of the header.
pub struct Section {
    /// Its doxygen group name.
    pub group: &'static str,
    pub title: &'static str,
    /// The paragraph that opens it.
    pub intro: &'static str,
    /// What it holds, in this order: functions, types and macros, by exact
    /// name or by a prefix ending in `*` (what a prefix matches keeps the
    /// generated order). An item goes to the section of its longest match.
    pub members: &'static [&'static str],
}

/// The header's sections, in the order a user meets them.
pub const SECTIONS: &[Section] = &[
    Section {
        group: "basics",
        title: "Versions, errors and handles",
        intro: "The library's version (at compile time: the KAFKA_INSTANCE_VERSION macros; at \
run time: kafka_instance_version), the error codes and the KafkaError every fallible call \
fills, and the opaque handles the sections below make and free.",
        members: &[
            "kafka_instance_version",
            "kafka_instance_librdkafka_version",
            "KAFKA_ERROR_MESSAGE_SIZE",
            "KafkaErrorCode",
            "KafkaError",
            "kafka_error_*",
        ],
    },
    Section {
        group: "config",
        title: "Config",
        intro: "A KafkaConfig gathers settings (a connection URL, librdkafka's names or \
kafka-python's) before an instance, a producer or a consumer is made from it. Not thread-safe; \
the instance copies it.",
        members: &[
            "kafka_config_*",
            "KafkaOAuthToken",
            "KafkaOAuthTokenCallback",
        ],
    },
    Section {
        group: "instance",
        title: "Instance",
        intro: "A KafkaInstance holds one cluster's settings; producers, consumers and admin \
calls are made from it. Thread-safe.",
        members: &["kafka_instance_new", "kafka_instance_free"],
    },
    Section {
        group: "producer",
        title: "Producer",
        intro: "Sending: a JSON value or a record (bytes, key, headers, partition, timestamp), \
queued (a callback reports its delivery on a library thread) or acknowledged before the call \
returns; then batches, flush and close, transactions and purges.",
        members: &[
            "kafka_instance_get_producer",
            "kafka_producer_send_json",
            "kafka_producer_send_json_sync",
            "kafka_producer_send",
            "kafka_producer_send_sync",
            "KafkaHeader",
            "KafkaRecord",
            "KafkaDeliveryReport",
            "KafkaDeliveryCallback",
            "kafka_producer_flush",
            "kafka_producer_in_flight",
            "kafka_producer_close",
            "KafkaProducerScope",
            "kafka_instance_with_producer",
            "kafka_producer_*",
        ],
    },
    Section {
        group: "consumer",
        title: "Consumer",
        intro: "Reading, at least once: poll one message or a batch, or consume with topic \
handlers; commits, the group's rebalances, seeks, pauses, positions and lag; the event fd and \
wakeup for event loops; partition lists for the calls that take or return several partitions.",
        members: &[
            "kafka_instance_get_consumer",
            "kafka_consumer_poll",
            "kafka_consumer_poll_batch",
            "kafka_consumer_commit",
            "kafka_consumer_commit_message",
            "kafka_consumer_store_message",
            "kafka_consumer_close",
            "KafkaHandler",
            "kafka_consumer_register_handler",
            "kafka_consumer_consume",
            "KafkaConsumerScope",
            "kafka_instance_with_consumer",
            "KAFKA_OFFSET_*",
            "KafkaCommitCallback",
            "KafkaRebalanceEvent",
            "KafkaRebalanceCallback",
            "kafka_consumer_*",
            "KafkaTopicPartition",
            "kafka_partition_list_*",
        ],
    },
    Section {
        group: "message",
        title: "Messages",
        intro: "A consumed message: its topic, partition, offset, timestamp, key, value and \
headers. A polled message is the caller's to free; one lent to a handler lives for the call.",
        members: &["kafka_message_*"],
    },
    Section {
        group: "admin",
        title: "Admin and cluster",
        intro: "Topics (create, delete, grow, delete records, settings), consumer groups (list, \
describe, offsets, lag, delete) and the cluster's brokers and partitions, each answered by the \
broker or with its own words when it refuses.",
        members: &[
            "kafka_instance_*",
            "KafkaBroker",
            "KafkaPartitionInfo",
            "kafka_cluster_*",
            "KafkaGroupMember",
            "KafkaGroup",
            "kafka_group_list_*",
            "KafkaConfigEntry",
            "kafka_topic_config_*",
        ],
    },
    Section {
        group: "observing",
        title: "Statistics and logging",
        intro: "Structured log records (secrets never included) and librdkafka's statistics, \
whole or summarized per broker and partition.",
        members: &[
            "KafkaLogLevel",
            "KafkaLogRecord",
            "KafkaLogCallback",
            "kafka_set_log_callback",
            "KafkaBrokerStatistics",
            "KafkaPartitionStatistics",
            "KafkaStatistics",
            "KafkaStatisticsCallback",
            "kafka_set_statistics_callback",
            "kafka_statistics_*",
        ],
    },
    Section {
        group: "mock",
        title: "Embedded broker",
        intro: "librdkafka's mock cluster in this process: a real Kafka protocol broker on \
loopback for examples and tests, with brokers to stop and errors to inject. Not for \
production.",
        members: &["kafka_mock_cluster_*"],
    },
    Section {
        group: "bindings",
        title: "For language bindings",
        intro: "Calls a C program does not need: sends whose outcomes are taken in bulk \
(tracked, packed, handed over) and message views, for bindings to which a call per message \
from a library thread costs more than the work.",
        members: &[
            "kafka_producer_send_tracked",
            "kafka_producer_send_tracked_packed",
            "kafka_producer_hand_over_tracked_packed",
            "kafka_producer_wait_handed_over",
            "KafkaTrackedReport",
            "kafka_producer_reports",
            "kafka_producer_reports_gathered",
            "KafkaMessageView",
            "kafka_message_views",
        ],
    },
];

/// The section an item (function, type or macro) belongs to: its longest
/// match; `None` when no section names it.
pub fn section_of(item: &str) -> Option<usize> {
    SECTIONS
        .iter()
        .enumerate()
        .filter_map(|(i, s)| {
            Some((
                s.members.iter().filter_map(|m| match_len(m, item)).max()?,
                i,
            ))
        })
        .max_by_key(|(len, _)| *len)
        .map(|(_, i)| i)
}

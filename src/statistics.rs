//! Client statistics: librdkafka's statistics JSON
//! (`statistics.interval.ms`), handed to a callback, and the figures users
//! ask for read out of it without a JSON parser of their own.

use std::sync::Arc;

use serde_json::Value;

use crate::error::{Error, ErrorKind, Result};

mod reporter;
pub use reporter::{serving, Reporter};

/// Called with each statistics JSON text, on a thread of the library.
pub type StatisticsCallback = Arc<dyn Fn(&str) + Send + Sync>;

/// The statistics thread of a client whose config has a callback;
/// `owner` names the client to [`reporter::serving`].
pub fn reporter_for(
    callback: &Option<StatisticsCallback>,
    owner: usize,
) -> Result<Option<Reporter>> {
    callback
        .clone()
        .map(|f| Reporter::start(f, owner))
        .transpose()
        .map_err(|e| {
            Error::new(
                ErrorKind::Internal,
                format!("no thread for the statistics callback: {e}"),
            )
        })
}

/// The figures of one statistics report.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    /// librdkafka's name of the client (`client_id#producer-1`).
    pub name: String,
    /// "producer" or "consumer".
    pub client_type: String,
    /// Messages (and their bytes) sent to brokers, since the client began.
    pub messages_sent: i64,
    pub bytes_sent: i64,
    /// Messages (and their bytes) received from brokers.
    pub messages_received: i64,
    pub bytes_received: i64,
    /// Messages (and bytes) waiting in the producer's queues.
    pub queued_messages: i64,
    pub queued_bytes: i64,
    pub brokers: Vec<BrokerFigures>,
    /// Sorted by topic, then partition.
    pub partitions: Vec<PartitionFigures>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct BrokerFigures {
    /// `host:port/id`.
    pub name: String,
    pub node_id: i32,
    /// "UP", "DOWN", "CONNECT", "AUTH"...
    pub state: String,
    /// Request round-trip times over the last interval, in microseconds
    /// (0: no request answered in it).
    pub rtt_avg_us: i64,
    pub rtt_p99_us: i64,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct PartitionFigures {
    pub topic: String,
    pub partition: i32,
    /// Consumer: messages between the group's committed offset and the
    /// partition's end (-1: not known yet).
    pub consumer_lag: i64,
    /// The partition's high watermark as last fetched (-1: not known).
    pub high_watermark: i64,
    /// The consumer's committed offset (-1001: none).
    pub committed_offset: i64,
    /// Producer: messages waiting to be sent to this partition.
    pub queued_messages: i64,
}

/// The figures of `json`, a librdkafka statistics text.
pub fn summarize(json: &str) -> Result<Summary> {
    let v: Value = serde_json::from_str(json).map_err(|e| {
        Error::new(
            ErrorKind::Serialization,
            format!("statistics are not JSON: {e}"),
        )
    })?;
    if !v.is_object() {
        return Err(Error::new(
            ErrorKind::Serialization,
            "statistics are not a JSON object",
        ));
    }
    let int = |v: &Value, key: &str| v.get(key).and_then(Value::as_i64).unwrap_or(0);
    let text = |v: &Value, key: &str| {
        v.get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let mut summary = Summary {
        name: text(&v, "name"),
        client_type: text(&v, "type"),
        messages_sent: int(&v, "txmsgs"),
        bytes_sent: int(&v, "txmsg_bytes"),
        messages_received: int(&v, "rxmsgs"),
        bytes_received: int(&v, "rxmsg_bytes"),
        queued_messages: int(&v, "msg_cnt"),
        queued_bytes: int(&v, "msg_size"),
        ..Summary::default()
    };
    for b in v
        .get("brokers")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let b = b.1;
        let node_id = b.get("nodeid").and_then(Value::as_i64).unwrap_or(-1);
        if node_id < 0 {
            continue; // librdkafka's internal and bootstrap-only entries
        }
        let rtt = b.get("rtt").unwrap_or(&Value::Null);
        summary.brokers.push(BrokerFigures {
            name: text(b, "name"),
            node_id: node_id as i32,
            state: text(b, "state"),
            rtt_avg_us: int(rtt, "avg"),
            rtt_p99_us: int(rtt, "p99"),
        });
    }
    summary.brokers.sort_by_key(|b| b.node_id);
    for t in v
        .get("topics")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let (topic, t) = t;
        for p in t
            .get("partitions")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let p = p.1;
            let partition = p.get("partition").and_then(Value::as_i64).unwrap_or(-1);
            if partition < 0 {
                continue; // librdkafka's unassigned-partition queue
            }
            let or = |key: &str, none: i64| p.get(key).and_then(Value::as_i64).unwrap_or(none);
            let committed = or("committed_offset", -1001);
            summary.partitions.push(PartitionFigures {
                topic: topic.clone(),
                partition: partition as i32,
                consumer_lag: or("consumer_lag", -1),
                high_watermark: or("hi_offset", -1).max(-1),
                committed_offset: if committed < 0 { -1001 } else { committed },
                queued_messages: or("msgq_cnt", 0) + or("xmit_msgq_cnt", 0),
            });
        }
    }
    summary
        .partitions
        .sort_by(|a, b| (&a.topic, a.partition).cmp(&(&b.topic, b.partition)));
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::summarize;

    #[test]
    fn a_statistics_text_gives_its_figures() {
        let json = r#"{"name": "c#consumer-1", "type": "consumer", "txmsgs": 0,
            "rxmsgs": 12, "rxmsg_bytes": 340, "msg_cnt": 0, "msg_size": 0,
            "brokers": {
              "GroupCoordinator": {"name": "GroupCoordinator", "nodeid": -1, "state": "UP"},
              "h:9092/2": {"name": "h:9092/2", "nodeid": 2, "state": "UP", "rtt": {"avg": 900, "p99": 2000}},
              "h:9091/1": {"name": "h:9091/1", "nodeid": 1, "state": "DOWN", "rtt": {"avg": 0, "p99": 0}}},
            "topics": {"t": {"partitions": {
              "1": {"partition": 1, "consumer_lag": 3, "hi_offset": 8, "committed_offset": 5, "msgq_cnt": 0, "xmit_msgq_cnt": 0},
              "0": {"partition": 0, "consumer_lag": 0, "hi_offset": 4, "committed_offset": -1001},
              "-1": {"partition": -1, "consumer_lag": -1}}}}}"#;
        let s = summarize(json).unwrap();
        assert_eq!(
            (s.name.as_str(), s.client_type.as_str()),
            ("c#consumer-1", "consumer")
        );
        assert_eq!(
            (s.messages_received, s.bytes_received, s.messages_sent),
            (12, 340, 0)
        );
        let brokers: Vec<_> = s
            .brokers
            .iter()
            .map(|b| (b.node_id, b.rtt_p99_us))
            .collect();
        assert_eq!(brokers, [(1, 0), (2, 2000)]);
        let parts: Vec<_> = s
            .partitions
            .iter()
            .map(|p| {
                (
                    p.partition,
                    p.consumer_lag,
                    p.high_watermark,
                    p.committed_offset,
                )
            })
            .collect();
        assert_eq!(parts, [(0, 0, 4, -1001), (1, 3, 8, 5)]);
        assert!(summarize("[1]").is_err());
        assert!(summarize("{").is_err());
        assert_eq!(summarize("{}").unwrap(), super::Summary::default());
    }
}

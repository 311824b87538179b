//! A message not acknowledged because its topic does not exist: a cluster
//! that does not create topics on first use (tansu as scripts/broker.sh
//! starts it, Kafka with auto.create.topics.enable=false) leaves it
//! queued, and a wait for it ends in a timeout that would read as a dead
//! broker. Before such a wait ends, the producer asks the cluster about
//! the topics it used, and the timeout names the missing ones.

use std::time::{Duration, Instant};

use rdkafka::error::RDKafkaErrorCode;
use rdkafka::producer::Producer as _;

use super::Producer;
use crate::error::Error;
use crate::sys;

/// The longest part of a wait kept, at its end, to ask the cluster.
const ASK: Duration = Duration::from_millis(500);
/// An answer is used again for this long: a flush in a loop, or many
/// threads' sends timing out at once, ask the cluster once.
const FRESH: Duration = Duration::from_secs(5);

/// Splits a wait ending at `deadline` (`None`: no limit, nothing kept)
/// into the part spent waiting (until the returned instant) and the part
/// kept to ask the cluster why (a quarter, at most [`ASK`]).
pub(super) fn split(deadline: Option<Instant>) -> (Option<Instant>, Duration) {
    let Some(end) = deadline else {
        return (None, Duration::ZERO);
    };
    let keep = (end.saturating_duration_since(Instant::now()) / 4).min(ASK);
    (Some(end - keep), keep)
}

impl Producer {
    /// The topics this producer used that the cluster does not have (of
    /// `only`, when given), asked within `keep`.
    pub(super) fn missing_topics(&self, keep: Duration, only: Option<&str>) -> Vec<String> {
        if keep.is_zero() {
            return Vec::new();
        }
        // Another thread asking now: its answer is not waited for (the
        // wait would count against this one's timeout).
        let mut asked = match self.shared.asked.try_lock() {
            Ok(guard) => guard,
            Err(std::sync::TryLockError::Poisoned(e)) => e.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => return Vec::new(),
        };
        let mut missing = match &*asked {
            Some((when, answer)) if when.elapsed() < FRESH => answer.clone(),
            _ => {
                let answer = sys::missing_topics(self.inner.client(), keep);
                *asked = Some((Instant::now(), answer.clone()));
                answer
            }
        };
        drop(asked);
        if let Some(topic) = only {
            missing.retain(|t| t == topic);
        }
        missing
    }
}

/// `e` (a timeout) saying that `missing` topics do not exist, with
/// Kafka's code for it: the broker is there, the topic is not.
pub(super) fn explain(mut e: Error, missing: &[String]) -> Error {
    if missing.is_empty() {
        return e;
    }
    let names = missing
        .iter()
        .map(|t| format!("{t:?}"))
        .collect::<Vec<_>>()
        .join(", ");
    let (topics, exist) = match missing.len() {
        1 => ("topic", "does not exist"),
        _ => ("topics", "do not exist"),
    };
    e.message = format!(
        "{topics} {names} {exist} on the cluster (UNKNOWN_TOPIC_OR_PART), which does not \
         create topics on first use: create {} first (kafka_instance_create_topic); {}",
        if missing.len() == 1 { "it" } else { "them" },
        e.message
    );
    e.rdkafka_code = RDKafkaErrorCode::UnknownTopicOrPartition as i32;
    e
}

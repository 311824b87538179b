//! Which subscribed topics the cluster does not have: librdkafka's
//! "subscribed topic not available" error leaves the names out of what
//! rust-rdkafka hands over, so a poll that meets it asks.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use rdkafka::consumer::Consumer as _;
use rdkafka::error::RDKafkaErrorCode;

use super::Consumer;
use crate::sys;

impl Consumer {
    /// What librdkafka's "subscribed topic not available" leaves out:
    /// which of the subscribed topics the cluster does not have (asked
    /// for each, briefly), as the start of a message.
    pub(super) fn missing_subscribed(&self) -> String {
        // At most every 30 s, and 250 ms in all: this runs inside a poll
        // (librdkafka repeats the error at each metadata refresh).
        let now = sys::coarse_now().as_millis() as u64;
        let last = self.asked_missing.load(Ordering::Acquire);
        if last != 0 && now.saturating_sub(last) < 30_000 {
            return String::new();
        }
        self.asked_missing.store(now.max(1), Ordering::Release);
        let Ok(topics) = self.inner.subscription() else {
            return String::new();
        };
        let deadline = Instant::now() + Duration::from_millis(250);
        let missing: Vec<String> = topics
            .elements()
            .iter()
            .map(|e| e.topic().to_owned())
            .filter(|t| !t.starts_with('^'))
            .filter(|t| {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    return false;
                }
                let answer = self.inner.fetch_metadata(Some(t), left);
                answer.is_ok_and(|m| {
                    m.topics().iter().any(|mt| {
                        mt.name() == t
                            && mt.error().map(RDKafkaErrorCode::from)
                                == Some(RDKafkaErrorCode::UnknownTopicOrPartition)
                    })
                })
            })
            .map(|t| format!("{t:?}"))
            .collect();
        match missing.len() {
            0 => String::new(),
            1 => format!(
                "subscribed topic {} does not exist on the cluster (UNKNOWN_TOPIC_OR_PART); \
                 nothing arrives from it until it is created: ",
                missing[0]
            ),
            _ => format!(
                "subscribed topics {} do not exist on the cluster (UNKNOWN_TOPIC_OR_PART); \
                 nothing arrives from them until they are created: ",
                missing.join(", ")
            ),
        }
    }
}

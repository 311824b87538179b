//! Topic names, checked before anything is queued or sent.

use crate::error::{Error, Result};

/// Kafka's own limit on a topic name's length.
pub const MAX_TOPIC_LEN: usize = 249;

/// Checks a topic name by Kafka's rules: 1 to 249 characters from
/// `[A-Za-z0-9._-]`, and not `.` or `..`.
pub fn validate(topic: &str) -> Result<()> {
    if topic.is_empty() {
        return Err(Error::invalid_argument("topic is empty"));
    }
    if topic.len() > MAX_TOPIC_LEN {
        return Err(Error::invalid_argument(format!(
            "topic name is {} bytes long; Kafka allows at most {MAX_TOPIC_LEN}",
            topic.len()
        )));
    }
    if topic == "." || topic == ".." {
        return Err(Error::invalid_argument(format!(
            "{topic:?} is not a valid topic name"
        )));
    }
    if let Some(c) = topic
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(Error::invalid_argument(format!(
            "topic {topic:?} contains {c:?}: topic names use letters, digits, '.', '_' and '-'"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::validate;

    #[test]
    fn kafka_rules() {
        assert!(validate("orders.v1_x-2").is_ok());
        assert!(validate(&"a".repeat(249)).is_ok());
        for bad in ["", ".", "..", "with space", "slash/", "ü", &"a".repeat(250)] {
            assert!(validate(bad).is_err(), "{bad:?}");
        }
    }
}

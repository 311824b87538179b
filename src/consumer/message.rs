//! A consumed message: a copy that owns its bytes (the default), or, with
//! `zero_copy_messages`, librdkafka's own message kept without a copy.
//! Both outlive their consumer.

use std::sync::Arc;

use rdkafka::consumer::BaseConsumer;
use rdkafka::message::{BorrowedMessage, Headers, Message as _, Timestamp};

use super::{Context, Position};
use crate::sys::HeldMessage;
use crate::text::{NulStr, NulText};

/// A consumed message. Text fields are NUL-terminated so that C callers
/// read them without copies.
pub struct Message {
    topic: Arc<NulText>,
    partition: i32,
    offset: i64,
    timestamp_ms: i64,
    body: Body,
}

enum Body {
    Copied {
        /// The key's bytes, then the value's, in one allocation (one
        /// malloc per message instead of two: the consumer's hot path).
        data: Box<[u8]>,
        /// `None`: no key (as opposed to an empty one).
        key_len: Option<usize>,
        /// `false`: no value (a tombstone), as opposed to an empty one.
        has_value: bool,
        headers: Vec<(NulText, Option<Box<[u8]>>)>,
    },
    /// librdkafka's message: no copy, about 5% of the consumer's
    /// throughput on the embedded broker (`cargo bench`, raw_owned), at
    /// the price of keeping its fetch buffer (and the closed client) in
    /// memory while it lives.
    Held(HeldMessage<Context>),
}

impl Message {
    /// `m` as a message: copied, or kept as it is when `client` (the
    /// consumer it came from) is given. `last_topic` lets a run of
    /// messages from one topic share its name.
    pub(super) fn new(
        last_topic: &mut Option<Arc<NulText>>,
        m: BorrowedMessage<'_>,
        client: Option<&Arc<BaseConsumer<Context>>>,
    ) -> Message {
        let topic = match last_topic {
            Some(t) if t.as_str() == m.topic() => t.clone(),
            _ => {
                let t = Arc::new(NulText::new(m.topic()));
                *last_topic = Some(t.clone());
                t
            }
        };
        let (partition, offset) = (m.partition(), m.offset());
        let timestamp_ms = match m.timestamp() {
            Timestamp::CreateTime(t) | Timestamp::LogAppendTime(t) => t,
            Timestamp::NotAvailable => -1,
        };
        let body = match client {
            Some(client) => Body::Held(HeldMessage::hold(client, m)),
            None => copy(m.key(), m.payload(), headers_of(&m)),
        };
        Message {
            topic,
            partition,
            offset,
            timestamp_ms,
            body,
        }
    }

    pub fn topic(&self) -> &str {
        self.topic.as_str()
    }
    /// The topic with a NUL after it, for callers that read it in place.
    pub fn topic_with_nul(&self) -> NulStr<'_> {
        self.topic.as_nul_str()
    }
    pub fn partition(&self) -> i32 {
        self.partition
    }
    pub fn offset(&self) -> i64 {
        self.offset
    }
    /// Milliseconds since the epoch, -1 if none.
    pub fn timestamp_ms(&self) -> i64 {
        self.timestamp_ms
    }
    pub fn key(&self) -> Option<&[u8]> {
        match &self.body {
            Body::Copied { data, key_len, .. } => key_len.map(|n| &data[..n]),
            Body::Held(h) => h.message().key(),
        }
    }
    pub fn value(&self) -> Option<&[u8]> {
        match &self.body {
            Body::Copied {
                data,
                key_len,
                has_value,
                ..
            } => has_value.then(|| &data[key_len.unwrap_or(0)..]),
            Body::Held(h) => h.message().payload(),
        }
    }
    pub fn header_count(&self) -> usize {
        match &self.body {
            Body::Copied { headers, .. } => headers.len(),
            Body::Held(h) => h.header_count(),
        }
    }
    /// Header `index`: its name and value (`None`: no value).
    pub fn header(&self, index: usize) -> Option<(NulStr<'_>, Option<&[u8]>)> {
        match &self.body {
            Body::Copied { headers, .. } => headers
                .get(index)
                .map(|(name, value)| (name.as_nul_str(), value.as_deref())),
            Body::Held(h) => {
                let (name, value) = h.header(index)?;
                Some((NulStr::from_bytes_with_nul(name)?, value))
            }
        }
    }

    /// The value of the last header named `name` (`Some(None)`: present
    /// without a value).
    pub fn header_last(&self, name: &str) -> Option<(NulStr<'_>, Option<&[u8]>)> {
        (0..self.header_count())
            .rev()
            .filter_map(|i| self.header(i))
            .find(|(n, _)| n.as_bytes() == name.as_bytes())
    }

    /// Where a consumer resumes once this message is done.
    pub(super) fn next_position(&self) -> Position {
        Position {
            topic: self.topic.clone(),
            partition: self.partition,
            next: self.offset + 1,
        }
    }
}

/// A copy; a kept message is copied.
impl Clone for Message {
    fn clone(&self) -> Message {
        let body = match &self.body {
            Body::Copied {
                data,
                key_len,
                has_value,
                headers,
            } => Body::Copied {
                data: data.clone(),
                key_len: *key_len,
                has_value: *has_value,
                headers: headers.clone(),
            },
            Body::Held(_) => {
                let headers = (0..self.header_count())
                    .filter_map(|i| self.header(i))
                    .map(|(n, v)| (n.to_text(), v.map(Box::from)))
                    .collect();
                copy(self.key(), self.value(), headers)
            }
        };
        Message {
            topic: self.topic.clone(),
            body,
            ..*self
        }
    }
}

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Message")
            .field("topic", &self.topic)
            .field("partition", &self.partition)
            .field("offset", &self.offset)
            .field("held", &matches!(self.body, Body::Held(_)))
            .finish_non_exhaustive()
    }
}

fn headers_of(m: &BorrowedMessage<'_>) -> Vec<(NulText, Option<Box<[u8]>>)> {
    m.headers()
        .map(|hs| {
            hs.iter()
                .map(|h| (NulText::new(h.key), h.value.map(Box::from)))
                .collect()
        })
        .unwrap_or_default()
}

fn copy(
    key: Option<&[u8]>,
    value: Option<&[u8]>,
    headers: Vec<(NulText, Option<Box<[u8]>>)>,
) -> Body {
    let mut data = Vec::with_capacity(key.map_or(0, <[u8]>::len) + value.map_or(0, <[u8]>::len));
    data.extend_from_slice(key.unwrap_or_default());
    data.extend_from_slice(value.unwrap_or_default());
    Body::Copied {
        data: data.into_boxed_slice(),
        key_len: key.map(<[u8]>::len),
        has_value: value.is_some(),
        headers,
    }
}

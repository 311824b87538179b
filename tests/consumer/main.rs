//! The consumer through the C ABI, against the embedded broker and, when
//! KAFKA_BOOTSTRAP_SERVERS is set, that broker too.

#![allow(unsafe_code)] // these tests call the C ABI, as a C program would

#[path = "../common/mod.rs"]
mod common;
use common::*;

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::{c_char, c_int, c_void, CStr};
use std::ptr::{null, null_mut};
use std::sync::Mutex;
use std::time::{Duration, Instant};

mod commits;
mod handlers;
mod lifecycle;
mod polling;
mod wakeup;

/// Polls one at a time until `n` messages or `timeout`.
fn poll_n(cons: *mut KafkaConsumer, n: usize, timeout: Duration) -> Vec<Seen> {
    poll_messages(cons, n, timeout, seen)
}

/// What a test reads of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Seen {
    topic: String,
    partition: i32,
    offset: i64,
    timestamp: i64,
    key: Option<Vec<u8>>,
    value: Option<Vec<u8>>,
    headers: Vec<(String, Option<Vec<u8>>)>,
}

fn seen(m: *const KafkaMessage) -> Seen {
    unsafe {
        let bytes = |p: *const c_void, len: usize| {
            (!p.is_null()).then(|| std::slice::from_raw_parts(p.cast::<u8>(), len).to_vec())
        };
        let mut len = 0usize;
        let key = kafka_message_key(m, &mut len);
        let key = bytes(key, len);
        let value = kafka_message_value(m, &mut len);
        let value = bytes(value, len);
        let mut headers = Vec::new();
        for i in 0..kafka_message_header_count(m) {
            let (mut name, mut v, mut vlen): (*const c_char, *const c_void, usize) =
                (null(), null(), 0);
            assert!(kafka_message_header(m, i, &mut name, &mut v, &mut vlen));
            headers.push((
                CStr::from_ptr(name).to_str().unwrap().to_owned(),
                bytes(v, vlen),
            ));
        }
        assert!(!kafka_message_header(
            m,
            headers.len(),
            null_mut(),
            null_mut(),
            null_mut()
        ));
        Seen {
            topic: s(kafka_message_topic(m)),
            partition: kafka_message_partition(m),
            offset: kafka_message_offset(m),
            timestamp: kafka_message_timestamp(m),
            key,
            value,
            headers,
        }
    }
}

fn n_of(s: &Seen) -> usize {
    let v: serde_json::Value = serde_json::from_slice(s.value.as_ref().unwrap()).unwrap();
    v["n"].as_u64().unwrap() as usize
}

const WAIT: Duration = Duration::from_secs(30);

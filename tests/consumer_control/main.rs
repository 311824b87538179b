//! The consumer's control functions through the C ABI: rebalance
//! callbacks, subscriptions, manual assignment, seeks, pauses, positions,
//! lag, explicit commits and static membership, against the embedded
//! broker and, when KAFKA_BOOTSTRAP_SERVERS is set, that broker too.

#![allow(unsafe_code)] // these tests call the C ABI, as a C program would

#[path = "../common/mod.rs"]
mod common;
use common::*;

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::c_void;
use std::ptr::null_mut;
use std::sync::Mutex;
use std::time::{Duration, Instant};

mod assignment;
mod rebalance;
mod static_membership;
mod subscription;

/// An answer of `f` (which fills `*out`).
fn ask(
    what: &str,
    f: impl FnOnce(*mut *mut KafkaPartitionList, &mut KafkaError) -> KafkaErrorCode,
) -> *mut KafkaPartitionList {
    let (mut out, mut e) = (null_mut(), err());
    let rc = f(&mut out, &mut e);
    assert_eq!(rc, KAFKA_OK, "{what}: {}", e.message_str());
    assert!(!out.is_null(), "{what}: an answer");
    out
}

/// A consumer for manual assignment: subscribed to nothing it reads.
fn manual_consumer(inst: *mut KafkaInstance, topic: &str) -> *mut KafkaConsumer {
    let cons = consumer(inst, &[topic], &[]);
    let mut e = err();
    assert_eq!(
        unsafe { kafka_consumer_unsubscribe(cons, &mut e) },
        KAFKA_OK
    );
    cons
}

fn first_n(cons: *mut KafkaConsumer, n: usize) -> Vec<usize> {
    poll_messages(cons, n, Duration::from_secs(30), json_n)
}

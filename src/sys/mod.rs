//! The calls below the safe layer: librdkafka functions rust-rdkafka does
//! not offer (or offers with a leak), and the few libc ones the library
//! needs (fork detection, the self-pipe, a coarse clock). Each is behind a
//! safe function or a type that owns what librdkafka made and releases it
//! on drop; nothing here knows the C API, and nothing here is part of it.
//!
//! This module and `ffi` are the two places `unsafe` is allowed: every
//! block says why it holds.

// The crate-wide `unsafe_code = "deny"` (Cargo.toml) is lifted here and in
// `ffi` alone.
#![allow(unsafe_code)]

pub(crate) mod admin;
mod client;
mod message;
mod owned;
mod pipe;
mod queue;
mod topic;

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Once};
use std::time::Duration;

pub(crate) use client::{
    broker_ids, cluster_id, controller_id, missing_topics, set_oauth_failure, set_oauth_token,
};
pub(crate) use message::HeldMessage;
pub(crate) use pipe::WakePipe;
pub(crate) use queue::{commit_within, ClientEvent, CommitFailure, CommitOutcome, Queue};
pub(crate) use topic::{Note, TopicHandle};

static FORKS: AtomicU64 = AtomicU64::new(0);

extern "C" fn count_fork_in_child() {
    // Runs in the child before fork() returns there, on its only thread.
    FORKS.fetch_add(1, Ordering::Relaxed);
}

/// How many `fork()`s separate this process from the one that loaded the
/// library: a client remembers the value it was created with, and a
/// different value means it is being used in a forked child, where its
/// threads do not exist. One atomic load (the hot path calls it).
pub(crate) fn fork_generation() -> u64 {
    static REGISTER: Once = Once::new();
    REGISTER.call_once(|| {
        // SAFETY: the handler only touches an atomic, which is
        // async-signal-safe as a child handler must be.
        unsafe { libc::pthread_atfork(None, None, Some(count_fork_in_child)) };
    });
    FORKS.load(Ordering::Relaxed)
}

/// The `count` elements at `array`: empty when there are none (NULL, or a
/// count of 0 or less, as librdkafka's `int` counts may say).
///
/// # Safety
/// `array` is NULL or points to `count` elements that live for `'a`.
unsafe fn elements<'a, T>(array: *const T, count: impl TryInto<usize>) -> &'a [T] {
    match count.try_into() {
        // SAFETY: the caller's contract.
        Ok(n) if n > 0 && !array.is_null() => unsafe { std::slice::from_raw_parts(array, n) },
        _ => &[],
    }
}

/// The partitions of a librdkafka list (NULL: none).
///
/// # Safety
/// `list` is NULL or a live list that lives for `'a`.
unsafe fn partitions<'a>(
    list: *const rdkafka::bindings::rd_kafka_topic_partition_list_t,
) -> &'a [rdkafka::bindings::rd_kafka_topic_partition_t] {
    match list.is_null() {
        true => &[],
        // SAFETY: the caller's contract; its array has `cnt` elements.
        false => unsafe { elements((*list).elems, (*list).cnt) },
    }
}

/// Releases `client` on a thread of its own once every other holder has
/// let go of it, so that the release that waits for librdkafka (a close
/// that timed out: rust-rdkafka's drop polls until the group is left) is
/// this thread's, never the caller's. When no thread can be made, the
/// error is returned and `client` is dropped here.
pub(crate) fn release_last_on_a_thread<T: Send + Sync + 'static>(client: Arc<T>) -> io::Result<()> {
    std::thread::Builder::new()
        .name("kafka-release".into())
        .spawn(move || {
            while Arc::strong_count(&client) > 1 {
                std::thread::sleep(Duration::from_millis(10));
            }
            drop(client)
        })
        .map(drop)
}

/// Drops `client` on a thread of its own, for a release that may wait
/// for librdkafka (a close that timed out). When no thread can be made,
/// it is dropped before this returns the error.
pub(crate) fn release_on_a_thread<T: Send + 'static>(client: T) -> io::Result<()> {
    std::thread::Builder::new()
        .name("kafka_instance consumer release".into())
        .spawn(move || drop(client))
        .map(drop)
}

/// The monotonic clock read at the kernel tick's resolution (a few
/// milliseconds), for intervals of seconds checked once per poll: it
/// reads a value the kernel keeps, where `Instant::now` may cost a few
/// hundred nanoseconds on a virtual machine.
pub(crate) fn coarse_now() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: fills a timespec of ours; this clock id always exists on
    // Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC_COARSE, &mut ts) };
    Duration::new(
        ts.tv_sec.max(0) as u64,
        ts.tv_nsec.clamp(0, 999_999_999) as u32,
    )
}

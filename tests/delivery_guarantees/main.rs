//! The delivery guarantees docs/delivery-guarantees.md states, each proven
//! here by a test named for it, through the C ABI: nothing lost on close,
//! on a killed process, on a group hand-over or on a broker failover; a
//! failed final commit reported within a bounded time. Broker-facing
//! tests run on the embedded broker and, when KAFKA_BOOTSTRAP_SERVERS is
//! set, that broker too (failover and broker-down need the embedded
//! broker's controls).
//!
//! Consumers that are killed are the C program tests/c/crash_consumer.c,
//! run as a child process and killed with SIGKILL.

#![allow(unsafe_code)] // these tests call the C ABI, as a C program would

#[path = "../common/mod.rs"]
mod common;
use common::cbuild::{compile_c, ROOT};
use common::*;

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::{c_int, c_void};
use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::ptr::{null, null_mut};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

mod close;
mod failover;
mod group_handover;
mod kills;

/// Session settings per broker. A killed member holds its partitions
/// until its session expires, so short sessions keep kill-and-restart
/// cycles short. The embedded broker accepts 4 s (not less: it makes a
/// group's first member wait 3 s in JoinGroup, and drops members silent
/// for a session meanwhile); real brokers refuse sessions under 6 s by
/// default.
fn session(broker: &Broker) -> Vec<(&'static str, &'static str)> {
    if !broker.mock.is_null() {
        vec![
            ("session_timeout_ms", "4000"),
            ("heartbeat_interval_ms", "500"),
        ]
    } else {
        vec![
            ("session_timeout_ms", "6000"),
            ("heartbeat_interval_ms", "1000"),
        ]
    }
}

fn crash_consumer() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| compile_c(&Path::new(ROOT).join("tests/c/crash_consumer.c")))
}

fn crash_consumer_command(
    broker: &Broker,
    topic: &str,
    group: &str,
    mode: &str,
    commit: &str,
    kill_at: i64,
) -> Command {
    let mut cmd = Command::new(crash_consumer());
    cmd.args([
        &broker.bootstrap,
        topic,
        group,
        mode,
        commit,
        &kill_at.to_string(),
    ])
    .args(session(broker).iter().map(|(k, v)| format!("{k}={v}")))
    .arg("auto_commit_interval_ms=100")
    .env("KAFKA_INSTANCE_LOG", "warning")
    .stdout(Stdio::piped());
    cmd
}

/// Sets a flag when dropped, also when a test panics: the polling thread
/// it stops must not outlive a failed assertion (its scope would wait).
struct SetOnDrop<'a>(&'a AtomicBool);

impl Drop for SetOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

/// Polls `cons` into `seen` until `stop` is set.
fn drain_into(cons: *mut KafkaConsumer, seen: &Mutex<Vec<usize>>, stop: &AtomicBool) {
    while !stop.load(Ordering::Acquire) {
        let got = poll_messages(cons, 1, Duration::from_millis(100), json_n);
        seen.lock().unwrap().extend(got);
    }
}

/// Waits until `ready` holds or 60 s passed (then panics with `what`).
fn wait_for(what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !ready() {
        assert!(Instant::now() < deadline, "{what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

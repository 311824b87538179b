//! Helpers for tests that call the C ABI as a C program would.
#![allow(dead_code, unused_imports)]

pub mod cbuild;
pub mod producer;
pub mod sources;
pub mod stand_in;

use std::ffi::{c_char, c_void, CStr, CString};
use std::ptr::{null, null_mut};
use std::sync::{Mutex, MutexGuard};

pub use kafka_instance::ffi::cluster::*;
pub use kafka_instance::ffi::config::*;
pub use kafka_instance::ffi::error::*;
pub use kafka_instance::ffi::group_list::*;
pub use kafka_instance::ffi::instance::*;
pub use kafka_instance::ffi::log::*;
pub use kafka_instance::ffi::mock_cluster::*;
pub use kafka_instance::ffi::version::*;
pub use KafkaErrorCode::*;

pub fn c(s: &str) -> CString {
    CString::new(s).unwrap()
}

pub fn err() -> KafkaError {
    KafkaError::default()
}

/// A string returned by the library.
pub fn s(p: *const c_char) -> String {
    assert!(!p.is_null());
    unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_owned()
}

/// A log record, copied out of the callback.
#[derive(Debug, Clone)]
pub struct Logged {
    pub level: i32,
    pub log_type: String,
    pub message: String,
    pub controller: String,
    pub subject: String,
    pub payload_json: Option<String>,
}

impl Logged {
    pub fn text(&self) -> String {
        format!(
            "{} {} {} {} {} {}",
            self.log_type,
            self.message,
            self.controller,
            self.subject,
            self.payload_json.as_deref().unwrap_or(""),
            self.level
        )
    }
}

static RECORDS: Mutex<Vec<Logged>> = Mutex::new(Vec::new());

unsafe extern "C" fn capture(record: *const KafkaLogRecord, _opaque: *mut c_void) {
    let r = unsafe { &*record };
    let text = |p: *const c_char| unsafe { CStr::from_ptr(p) }.to_str().unwrap().to_owned();
    let logged = Logged {
        level: r.level as i32,
        log_type: text(r.log_type),
        message: text(r.message),
        controller: text(r.controller),
        subject: text(r.subject),
        payload_json: (!r.payload_json.is_null()).then(|| text(r.payload_json)),
    };
    RECORDS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(logged);
}

/// Sends every record (debug and up) to an in-memory list for this test
/// binary. Tests in one binary share it: look for your own records.
pub fn capture_logs() {
    capture_logs_at(KafkaLogLevel::KAFKA_LOG_DEBUG as i32);
}

/// Installs the capturing callback with a given `max_level`.
pub fn capture_logs_at(max_level: i32) {
    kafka_set_log_callback(
        Some(capture),
        std::ptr::null_mut(),
        KafkaLogLevelArg(max_level),
    );
}

/// The capturing callback, for tests that install it themselves.
pub const CAPTURE: KafkaLogCallback = Some(capture);

pub fn clear_logged() {
    RECORDS.lock().unwrap_or_else(|e| e.into_inner()).clear();
}

pub fn logged() -> Vec<Logged> {
    RECORDS.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Serializes tests that change global state (the log callback).
pub fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// A config with the given `(key, value)` settings, through the C ABI.
pub fn config(settings: &[(&str, &str)]) -> *mut KafkaConfig {
    let cfg = kafka_config_new();
    for (k, v) in settings {
        let mut e = err();
        let rc = unsafe { kafka_config_set(cfg, c(k).as_ptr(), c(v).as_ptr(), &mut e) };
        assert_eq!(rc, KAFKA_OK, "{k}={v}: {}", e.message_str());
    }
    cfg
}

/// `kafka_config_get` into a Rust string (panics unless KAFKA_OK).
pub fn config_get(cfg: *const KafkaConfig, key: &str) -> String {
    let mut buf = [0 as c_char; 512];
    let mut len = 0usize;
    let mut e = err();
    let rc = unsafe {
        kafka_config_get(
            cfg,
            c(key).as_ptr(),
            buf.as_mut_ptr(),
            buf.len(),
            &mut len,
            &mut e,
        )
    };
    assert_eq!(rc, KAFKA_OK, "get {key}: {}", e.message_str());
    let out = s(buf.as_ptr());
    assert_eq!(out.len(), len);
    out
}

/// A broker to run broker-facing tests against: the embedded mock cluster,
/// and also `KAFKA_BOOTSTRAP_SERVERS` when that is set.
pub struct Broker {
    pub name: &'static str,
    pub bootstrap: String,
    pub mock: *mut KafkaMockCluster,
}

// The embedded broker's calls may come from any thread (librdkafka hands
// them to the mock cluster's own thread), so tests share a Broker between
// threads.
unsafe impl Send for Broker {}
unsafe impl Sync for Broker {}

impl Drop for Broker {
    fn drop(&mut self) {
        unsafe { kafka_mock_cluster_free(self.mock) };
    }
}

/// The brokers a broker-facing test runs against: the embedded mock
/// cluster, and `KAFKA_BOOTSTRAP_SERVERS` too when that is set. With
/// `KAFKA_INSTANCE_BROKERS=external` (the CI's second pass, after a first
/// on the embedded broker), that one alone.
pub fn brokers() -> Vec<Broker> {
    let servers = std::env::var("KAFKA_BOOTSTRAP_SERVERS")
        .ok()
        .filter(|s| !s.trim().is_empty());
    let external_only = std::env::var("KAFKA_INSTANCE_BROKERS").is_ok_and(|v| v == "external");
    assert!(
        servers.is_some() || !external_only,
        "KAFKA_INSTANCE_BROKERS=external without KAFKA_BOOTSTRAP_SERVERS: no broker to test against"
    );
    let mut out = Vec::new();
    if !external_only {
        out.push(embedded());
    }
    if let Some(bootstrap) = servers {
        out.push(Broker {
            name: "external",
            bootstrap,
            mock: std::ptr::null_mut(),
        });
    }
    out
}

/// The embedded broker (a one-broker mock cluster of its own), for the
/// tests that control it (stop it, slow it, fail its requests) or check
/// what it alone answers.
pub fn embedded() -> Broker {
    let mut e = err();
    let mock = unsafe { kafka_mock_cluster_new(1, &mut e) };
    assert!(!mock.is_null(), "{}", e.message_str());
    Broker {
        name: "embedded",
        bootstrap: s(unsafe { kafka_mock_cluster_bootstrap_servers(mock) }),
        mock,
    }
}

/// A topic name no other test uses.
pub fn unique_topic(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

pub use kafka_instance::ffi::consumer::*;
pub use kafka_instance::ffi::message::*;
pub use kafka_instance::ffi::partition_list::*;
pub use kafka_instance::ffi::producer::*;
pub use kafka_instance::ffi::statistics::*;
pub use kafka_instance::ffi::topic_config::*;

/// A partition list of `(topic, partition, offset)`.
pub fn partitions(items: &[(&str, i32, i64)]) -> *mut KafkaPartitionList {
    let list = kafka_partition_list_new();
    for (t, p, o) in items {
        let mut e = err();
        let rc = unsafe { kafka_partition_list_add(list, c(t).as_ptr(), *p, *o, &mut e) };
        assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
    }
    list
}

/// The entries of an answer, freeing it: `(topic, partition, offset)`.
pub fn entries(list: *mut KafkaPartitionList) -> Vec<(String, i32, i64)> {
    let n = unsafe { kafka_partition_list_count(list) };
    let out = (0..n)
        .map(|i| {
            let item = unsafe { &*kafka_partition_list_get(list, i) };
            (s(item.topic), item.partition, item.offset)
        })
        .collect();
    unsafe { kafka_partition_list_free(list) };
    out
}

/// Creates a topic on `broker`: through the mock cluster's own call on the
/// embedded broker, through the admin API on a real one.
pub fn create_topic(broker: &Broker, topic: &str, partitions: i32) {
    let mut e = err();
    if broker.mock.is_null() {
        let cfg = config(&[("bootstrap_servers", &broker.bootstrap)]);
        let inst = unsafe { kafka_instance_new(cfg, &mut e) };
        let rc = unsafe {
            kafka_instance_create_topic(inst, c(topic).as_ptr(), partitions, 1, 10000, &mut e)
        };
        assert_eq!(rc, KAFKA_OK, "creating {topic}: {}", e.message_str());
        unsafe {
            kafka_instance_free(inst);
            kafka_config_free(cfg);
        }
    } else {
        let rc = unsafe {
            kafka_mock_cluster_create_topic(broker.mock, c(topic).as_ptr(), partitions, 1, &mut e)
        };
        assert_eq!(rc, KAFKA_OK, "creating {topic}: {}", e.message_str());
    }
}

/// An instance for `broker`, with extra settings.
pub fn instance(broker: &Broker, settings: &[(&str, &str)]) -> *mut KafkaInstance {
    let mut all = vec![("bootstrap_servers", broker.bootstrap.as_str())];
    all.extend_from_slice(settings);
    instance_from(&all)
}

/// An instance from these settings alone (servers included).
pub fn instance_from(settings: &[(&str, &str)]) -> *mut KafkaInstance {
    let cfg = config(settings);
    let mut e = err();
    let inst = unsafe { kafka_instance_new(cfg, &mut e) };
    assert!(!inst.is_null(), "{}", e.message_str());
    unsafe { kafka_config_free(cfg) };
    inst
}

/// Every message of `topic` from the beginning, read with a plain
/// rust-rdkafka consumer (independent of our consumer), until `expected`
/// arrived or `timeout` passed.
pub fn read_back(
    bootstrap: &str,
    topic: &str,
    expected: usize,
    timeout: std::time::Duration,
) -> Vec<rdkafka::message::OwnedMessage> {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    use rdkafka::Message;
    let consumer: BaseConsumer = rdkafka::config::ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", unique_topic("reader"))
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .create()
        .unwrap();
    consumer.subscribe(&[topic]).unwrap();
    let deadline = std::time::Instant::now() + timeout;
    let mut out = Vec::new();
    while out.len() < expected && std::time::Instant::now() < deadline {
        if let Some(Ok(m)) = consumer.poll(std::time::Duration::from_millis(100)) {
            out.push(m.detach());
        }
    }
    // Anything beyond what was expected is a duplicate: wait a little for it.
    let settle = std::time::Instant::now() + std::time::Duration::from_millis(300);
    while std::time::Instant::now() < settle {
        if let Some(Ok(m)) = consumer.poll(std::time::Duration::from_millis(50)) {
            out.push(m.detach());
        }
    }
    out
}

/// The Java client's murmur2 (`org.apache.kafka.common.utils.Utils`),
/// written from its definition, to check where keyed messages land.
pub fn java_partition(key: &[u8], partitions: i32) -> i32 {
    const M: u32 = 0x5bd1_e995;
    let mut h: u32 = 0x9747_b28c ^ key.len() as u32;
    let chunks = key.chunks_exact(4);
    let tail = chunks.remainder();
    for chunk in chunks {
        let mut k = u32::from_le_bytes(chunk.try_into().unwrap());
        k = k.wrapping_mul(M);
        k ^= k >> 24;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    if tail.len() == 3 {
        h ^= (tail[2] as u32) << 16;
    }
    if tail.len() >= 2 {
        h ^= (tail[1] as u32) << 8;
    }
    if !tail.is_empty() {
        h ^= tail[0] as u32;
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    ((h as i32) & 0x7fff_ffff) % partitions
}

/// A zero-initialized record plus a topic: all defaults.
pub fn empty_record(topic: &std::ffi::CStr) -> KafkaRecord {
    KafkaRecord {
        topic: topic.as_ptr(),
        key: std::ptr::null(),
        key_len: 0,
        value: std::ptr::null(),
        value_len: 0,
        headers: std::ptr::null(),
        header_count: 0,
        has_partition: false,
        partition: 0,
        timestamp_ms: 0,
    }
}

/// Polls one message at a time until `n` or `timeout`, converting each
/// with `read` before freeing it.
pub fn poll_messages<T>(
    cons: *mut KafkaConsumer,
    n: usize,
    timeout: std::time::Duration,
    read: impl Fn(*const KafkaMessage) -> T,
) -> Vec<T> {
    let deadline = std::time::Instant::now() + timeout;
    let mut out = Vec::new();
    while out.len() < n && std::time::Instant::now() < deadline {
        let mut m = std::ptr::null_mut();
        let mut e = err();
        let rc = unsafe { kafka_consumer_poll(cons, 200, &mut m, &mut e) };
        assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
        if !m.is_null() {
            out.push(read(m));
            unsafe { kafka_message_free(m) };
        }
    }
    out
}

/// Polls until `n` messages came or `timeout` passed, keeping them: the
/// caller frees each with `kafka_message_free`.
pub fn poll_owned(
    cons: *mut KafkaConsumer,
    n: usize,
    timeout: std::time::Duration,
) -> Vec<*mut KafkaMessage> {
    let deadline = std::time::Instant::now() + timeout;
    let mut out = Vec::new();
    while out.len() < n && std::time::Instant::now() < deadline {
        let (mut m, mut e) = (std::ptr::null_mut(), err());
        let rc = unsafe { kafka_consumer_poll(cons, 200, &mut m, &mut e) };
        assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
        if !m.is_null() {
            out.push(m);
        }
    }
    out
}

/// A new topic of `partitions` on `broker`, a new group, and an instance
/// for that group that reads new groups from the earliest offset.
pub fn group_fixture(
    broker: &Broker,
    prefix: &str,
    partitions: i32,
) -> (String, String, *mut KafkaInstance) {
    let topic = unique_topic(prefix);
    create_topic(broker, &topic, partitions);
    let group = unique_topic("g");
    let inst = instance(
        broker,
        &[("group_id", &group), ("auto_offset_reset", "earliest")],
    );
    (topic, group, inst)
}

/// Polls `consumers` until the log holds, after record `since`, `count`
/// assignments of `topic` of `each` partitions: the group has settled.
/// (Needs capture_logs(); our consumer logs every rebalance.) On the mock
/// cluster a member's join settles only after a rebalance delay, so no
/// fixed sleep is long enough on a loaded machine.
pub fn settle(
    consumers: &[*mut KafkaConsumer],
    topic: &str,
    since: usize,
    count: usize,
    each: usize,
) {
    let needle = format!("topic: \"{topic}\"");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let assigned = logged()[since..]
            .iter()
            .filter(|r| r.message.starts_with("rebalance: Assign(") && r.message.contains(&needle))
            .filter(|r| r.message.matches("partition: ").count() == each)
            .count();
        if assigned >= count {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the group did not settle on {count} x {each} partitions of {topic}"
        );
        for c in consumers {
            let got = poll_messages(*c, 1, std::time::Duration::from_millis(100), |_| ());
            assert!(got.is_empty(), "nothing is produced yet");
        }
    }
}

/// librdkafka's mock cluster holds a group's next JoinGroup for
/// `session_timeout - 1 s` after a member leaves (rdkafka_mock_cgrp.c: the
/// leave starts a rebalance timed by the session timeout), where Apache
/// Kafka answers at once. Every consumer here uses 6 s, the smallest
/// session timeout brokers accept by default, so that wait stays short.
pub const SESSION: (&str, &str) = ("session_timeout_ms", "6000");

pub fn consumer(
    inst: *mut KafkaInstance,
    topics: &[&str],
    overrides: &[(&str, &str)],
) -> *mut KafkaConsumer {
    let mut overrides = overrides.to_vec();
    if !overrides.iter().any(|(k, _)| *k == SESSION.0) {
        overrides.push(SESSION);
    }
    let names: Vec<_> = topics.iter().map(|t| c(t)).collect();
    let ptrs: Vec<*const c_char> = names.iter().map(|t| t.as_ptr()).collect();
    let o = config(&overrides);
    let mut e = err();
    let consumer =
        unsafe { kafka_instance_get_consumer(inst, ptrs.as_ptr(), ptrs.len(), o, &mut e) };
    assert!(!consumer.is_null(), "{}", e.message_str());
    unsafe { kafka_config_free(o) };
    consumer
}

pub fn close_consumer(cons: *mut KafkaConsumer) {
    let mut e = err();
    assert_eq!(
        unsafe { kafka_consumer_close(cons, &mut e) },
        KAFKA_OK,
        "{}",
        e.message_str()
    );
}

/// Produces `n` JSON messages (key k{i % keys}) and waits for them.
pub fn produce(inst: *mut KafkaInstance, topic: &str, from: usize, n: usize, keys: usize) {
    let mut e = err();
    let p = unsafe { kafka_instance_get_producer(inst, null(), &mut e) };
    assert!(!p.is_null(), "{}", e.message_str());
    let t = c(topic);
    for i in from..from + n {
        let (k, v) = (c(&format!("k{}", i % keys)), c(&format!("{{\"n\":{i}}}")));
        assert_eq!(
            unsafe { kafka_producer_send_json(p, t.as_ptr(), k.as_ptr(), v.as_ptr(), &mut e) },
            KAFKA_OK
        );
    }
    assert_eq!(
        unsafe { kafka_producer_close(p, 20000, &mut e) },
        KAFKA_OK,
        "{}",
        e.message_str()
    );
}

/// Produces `n` JSON messages one acknowledged send at a time: each is its
/// own batch. tansu 0.6 returns nothing for a Fetch at an offset inside a
/// batch (Apache Kafka returns the batch and the client skips ahead), so
/// tests that resume mid-stream keep every offset a batch start.
pub fn produce_unbatched(inst: *mut KafkaInstance, topic: &str, from: usize, n: usize) {
    let mut e = err();
    let p = unsafe { kafka_instance_get_producer(inst, null(), &mut e) };
    let t = c(topic);
    for i in from..from + n {
        let v = c(&format!("{{\"n\":{i}}}"));
        let rc = unsafe {
            kafka_producer_send_json_sync(
                p,
                t.as_ptr(),
                null(),
                v.as_ptr(),
                10_000,
                null_mut(),
                &mut e,
            )
        };
        assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
    }
    assert_eq!(unsafe { kafka_producer_close(p, 10_000, &mut e) }, KAFKA_OK);
}

/// `n` JSON messages (`{"n": 0}` on) to `partition`, each acknowledged
/// (its own batch: see `produce_unbatched`).
pub fn produce_to_partition(inst: *mut KafkaInstance, topic: &str, partition: i32, n: usize) {
    let mut e = err();
    let p = unsafe { kafka_instance_get_producer(inst, null(), &mut e) };
    assert!(!p.is_null(), "{}", e.message_str());
    let t = c(topic);
    for i in 0..n {
        let v = format!("{{\"n\":{i}}}");
        let mut r = empty_record(&t);
        (r.value, r.value_len) = (v.as_ptr().cast(), v.len());
        (r.has_partition, r.partition) = (true, partition);
        let rc = unsafe { kafka_producer_send_sync(p, &r, 10_000, null_mut(), &mut e) };
        assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
    }
    assert_eq!(unsafe { kafka_producer_close(p, 10_000, &mut e) }, KAFKA_OK);
}

/// The `n` of a message whose value is `{"n": n}` (what `produce` and
/// `produce_unbatched` send).
pub fn json_n(m: *const KafkaMessage) -> usize {
    let mut len = 0usize;
    let v = unsafe { kafka_message_value(m, &mut len) };
    assert!(!v.is_null(), "a message without a value");
    let bytes = unsafe { std::slice::from_raw_parts(v.cast::<u8>(), len) };
    let v: serde_json::Value = serde_json::from_slice(bytes).unwrap();
    v["n"].as_u64().unwrap() as usize
}

/// Records that `test` cannot run here because of `why` (a missing tool,
/// say): the line goes to the file `scripts/test.sh` lists in its summary
/// (`KAFKA_INSTANCE_NOT_RUN_FILE`), and to stderr. With
/// `KAFKA_INSTANCE_REQUIRE_ALL` set (CI), it panics instead: there, every
/// test must run.
pub fn not_run(test: &str, why: &str) {
    if std::env::var_os("KAFKA_INSTANCE_REQUIRE_ALL").is_some_and(|v| v != "0") {
        panic!("{test} cannot run: {why} (KAFKA_INSTANCE_REQUIRE_ALL is set)");
    }
    eprintln!("{test}: NOT RUN: {why}");
    record_not_run(test, why);
}

/// Records that the external broker cannot do what `test` needs (a broker
/// limitation, not a missing tool): listed like [`not_run`], but never a
/// failure, also in CI, since no install fixes it.
pub fn broker_cannot(test: &str, why: &str) {
    eprintln!("{test}: NOT RUN against this broker: {why}");
    record_not_run(test, &format!("not run against this broker: {why}"));
}

fn record_not_run(test: &str, why: &str) {
    if let Some(path) = std::env::var_os("KAFKA_INSTANCE_NOT_RUN_FILE") {
        use std::io::Write;
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
        {
            let _ = writeln!(f, "{test}: {why}");
        }
    }
}

/// Whether `tool` is on the PATH.
pub fn on_path(tool: &str) -> bool {
    std::process::Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// `tool` is on the PATH; otherwise [`not_run`] for `test`, and false.
pub fn have_tool(test: &str, tool: &str) -> bool {
    on_path(tool) || {
        not_run(
            test,
            &format!("{tool} is not installed (scripts/test.sh installs it)"),
        );
        false
    }
}

/// A small deterministic generator; the seed is printed so that a failing
/// run can be repeated.
pub struct Lcg(u64);

impl Lcg {
    pub fn seeded() -> Self {
        let seed = std::env::var("KAFKA_INSTANCE_TEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
            });
        eprintln!("seed {seed} (KAFKA_INSTANCE_TEST_SEED repeats it)");
        Lcg(seed)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n.max(1)
    }
}

//! `cargo bench`: the C ABI against raw rust-rdkafka (librdkafka), side by
//! side, on one broker: the embedded mock cluster, or
//! `KAFKA_BOOTSTRAP_SERVERS` when set.
//!
//! Every measurement alternates its paths (A, B, C, then B, C, A, ...) over
//! `KAFKA_BENCH_ROUNDS` rounds (default 3) and reports the median and the
//! spread (min..max). Ours are called through the exported `extern "C"`
//! functions, as a C program calls them. Output: a table, then one JSON
//! line (`BENCH_JSON {...}`) with every figure and the ratios ours / raw.
//!
//! Sizes: `KAFKA_BENCH_MESSAGES` (default 1,000,000) messages per producer
//! round at 100 B and 1 KB, a tenth of that at 10 KB (1 GB per round, which
//! the in-process mock broker holds in memory); 10,000 acknowledged sends
//! per latency round; the consumer reads a pre-produced topic of
//! `KAFKA_BENCH_MESSAGES` / 2 messages; peak RSS is measured in a child
//! process per path producing `KAFKA_BENCH_MESSAGES` 100-byte messages.

#![allow(unsafe_code)] // the benchmark calls the C ABI, as a C program would

use std::ffi::{c_int, c_void, CStr, CString};
use std::process::Command;
use std::ptr::{null, null_mut};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Mutex};
use std::time::{Duration, Instant};

use kafka_instance::ffi::config::*;
use kafka_instance::ffi::consumer::*;
use kafka_instance::ffi::error::KafkaErrorCode::*;
use kafka_instance::ffi::error::*;
use kafka_instance::ffi::instance::*;
use kafka_instance::ffi::log::*;
use kafka_instance::ffi::message::KafkaMessage;
use kafka_instance::ffi::message::*;
use kafka_instance::ffi::mock_cluster::*;
use kafka_instance::ffi::producer::*;

use rdkafka::client::ClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer as _};
use rdkafka::error::KafkaError as RdError;
use rdkafka::message::Headers as _;
use rdkafka::producer::{
    BaseRecord, DeliveryResult, Producer as _, ProducerContext, ThreadedProducer,
};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::Message as _;

fn c(s: &str) -> CString {
    CString::new(s).unwrap()
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

fn check(rc: KafkaErrorCode, e: &KafkaError, what: &str) {
    assert_eq!(rc, KAFKA_OK, "{what}: {}", e.message_str());
}

// ---------------------------------------------------------------- broker

/// The broker of one measurement: a fresh mock cluster (so that each run
/// starts from an empty log and the memory of the last is released), or
/// the external one.
struct Broker {
    servers: String,
    mock: *mut KafkaMockCluster,
}

impl Broker {
    fn new() -> Broker {
        match std::env::var("KAFKA_BOOTSTRAP_SERVERS") {
            Ok(s) if !s.trim().is_empty() => Broker {
                servers: s,
                mock: null_mut(),
            },
            _ => {
                let mut e = KafkaError::default();
                let mock = unsafe { kafka_mock_cluster_new(1, &mut e) };
                assert!(!mock.is_null(), "{}", e.message_str());
                let servers = unsafe { CStr::from_ptr(kafka_mock_cluster_bootstrap_servers(mock)) }
                    .to_str()
                    .unwrap()
                    .to_owned();
                Broker { servers, mock }
            }
        }
    }

    fn topic(&self, prefix: &str, partitions: i32) -> String {
        static N: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "bench-{prefix}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        );
        let mut e = KafkaError::default();
        if self.mock.is_null() {
            let inst = self.instance(&[]);
            let rc = unsafe {
                kafka_instance_create_topic(inst, c(&name).as_ptr(), partitions, 1, 30000, &mut e)
            };
            check(rc, &e, "create topic");
            unsafe { kafka_instance_free(inst) };
        } else {
            let rc = unsafe {
                kafka_mock_cluster_create_topic(self.mock, c(&name).as_ptr(), partitions, 1, &mut e)
            };
            check(rc, &e, "create topic");
        }
        name
    }

    /// Deletes a real broker's topic, so that a broker keeping its log in
    /// memory (tansu's `memory://`) does not hold every round's messages.
    /// (A fresh mock is dropped with its log instead.)
    fn drop_topic(&self, topic: &str) {
        if self.mock.is_null() {
            let inst = self.instance(&[]);
            let mut e = KafkaError::default();
            let rc = unsafe { kafka_instance_delete_topic(inst, c(topic).as_ptr(), 30000, &mut e) };
            check(rc, &e, "delete topic");
            unsafe { kafka_instance_free(inst) };
        }
    }

    fn instance(&self, settings: &[(&str, &str)]) -> *mut KafkaInstance {
        let cfg = kafka_config_new();
        let mut e = KafkaError::default();
        let all = [&[("bootstrap_servers", self.servers.as_str())], settings].concat();
        for (k, v) in all {
            let rc = unsafe { kafka_config_set(cfg, c(k).as_ptr(), c(v).as_ptr(), &mut e) };
            check(rc, &e, k);
        }
        let inst = unsafe { kafka_instance_new(cfg, &mut e) };
        assert!(!inst.is_null(), "{}", e.message_str());
        unsafe { kafka_config_free(cfg) };
        inst
    }

    /// rust-rdkafka's config for the same settings our producer uses by
    /// default (idempotence, the Java partitioner).
    fn raw_producer_config(&self, extra: &[(&str, &str)]) -> ClientConfig {
        let mut cc = ClientConfig::new();
        cc.set("bootstrap.servers", &self.servers)
            .set("enable.idempotence", "true")
            .set("partitioner", "murmur2_random");
        for (k, v) in extra {
            cc.set(*k, *v);
        }
        cc
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        unsafe { kafka_mock_cluster_free(self.mock) };
    }
}

// ---------------------------------------------------------------- statistics

#[derive(Clone, Debug)]
struct Stat {
    median: f64,
    min: f64,
    max: f64,
}

fn stat(mut v: Vec<f64>) -> Stat {
    if v.is_empty() {
        return Stat {
            median: f64::NAN,
            min: f64::NAN,
            max: f64::NAN,
        };
    }
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    Stat {
        median: v[v.len() / 2],
        min: v[0],
        max: v[v.len() - 1],
    }
}

/// Runs `paths` for `rounds` rounds, rotating which goes first.
/// `KAFKA_BENCH_SKIP=poll,consume` leaves paths out (to profile one):
/// their figures are then NaN.
fn alternate<T>(rounds: usize, paths: &[&str], mut run: impl FnMut(&str) -> T) -> Vec<Vec<T>> {
    let skip = std::env::var("KAFKA_BENCH_SKIP").unwrap_or_default();
    let skipped = |p: &str| skip.split(',').any(|s| s.trim() == p);
    let mut out: Vec<Vec<T>> = paths.iter().map(|_| Vec::new()).collect();
    for r in 0..rounds {
        for k in 0..paths.len() {
            let i = (r + k) % paths.len();
            if !skipped(paths[i]) {
                out[i].push(run(paths[i]));
            }
        }
    }
    out
}

// ---------------------------------------------------------------- values

/// A JSON object of exactly `size` bytes.
fn json_value(size: usize) -> String {
    let head = r#"{"order_id":12345,"customer":"alice","pad":""#;
    let tail = r#""}"#;
    let pad = size.saturating_sub(head.len() + tail.len());
    format!("{head}{}{tail}", "x".repeat(pad))
}

const KEYS: usize = 1000;

fn keys() -> Vec<CString> {
    (0..KEYS).map(|i| c(&format!("customer-{i}"))).collect()
}

// ---------------------------------------------------------------- producer

struct RawContext {
    failed: AtomicUsize,
}

impl ClientContext for RawContext {}

impl ProducerContext for RawContext {
    type DeliveryOpaque = ();
    fn delivery(&self, r: &DeliveryResult<'_>, _: ()) {
        if r.is_err() {
            self.failed.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// `send_batch`: `kafka_producer_send_batch` of 1,000 records per call.
const PRODUCE_PATHS: [&str; 4] = ["raw", "send_json", "send", "send_batch"];

/// Produces `n` messages of `value` through `path`; returns the seconds
/// from the first send until all are acknowledged.
fn produce(broker: &Broker, topic: &str, path: &str, value: &str, n: usize) -> f64 {
    let keys = keys();
    let topic_c = c(topic);
    let value_c = c(value);
    match path {
        "raw" => {
            let p: ThreadedProducer<RawContext> = broker
                .raw_producer_config(&[])
                .create_with_context(RawContext {
                    failed: AtomicUsize::new(0),
                })
                .unwrap();
            let t0 = Instant::now();
            for i in 0..n {
                let key = keys[i % KEYS].as_bytes();
                loop {
                    let rec = BaseRecord::to(topic).key(key).payload(value.as_bytes());
                    match p.send(rec) {
                        Ok(()) => break,
                        Err((RdError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                            std::thread::sleep(Duration::from_micros(100))
                        }
                        Err((e, _)) => panic!("raw send: {e}"),
                    }
                }
            }
            p.flush(Duration::from_secs(300)).unwrap();
            let secs = t0.elapsed().as_secs_f64();
            assert_eq!(p.context().failed.load(Ordering::Relaxed), 0);
            secs
        }
        "send_json" | "send" | "send_batch" => {
            let inst = broker.instance(&[]);
            let mut e = KafkaError::default();
            let p = unsafe { kafka_instance_get_producer(inst, null(), &mut e) };
            assert!(!p.is_null(), "{}", e.message_str());
            let t0 = Instant::now();
            let record = |i: usize| KafkaRecord {
                topic: topic_c.as_ptr(),
                key: keys[i % KEYS].as_ptr().cast(),
                key_len: keys[i % KEYS].as_bytes().len(),
                value: value_c.as_ptr().cast(),
                value_len: value.len(),
                headers: null(),
                header_count: 0,
                has_partition: false,
                partition: 0,
                timestamp_ms: 0,
            };
            if path == "send_batch" {
                send_batches(p, n, &record);
            } else {
                for i in 0..n {
                    let key = &keys[i % KEYS];
                    loop {
                        let rc = if path == "send_json" {
                            unsafe {
                                kafka_producer_send_json(
                                    p,
                                    topic_c.as_ptr(),
                                    key.as_ptr(),
                                    value_c.as_ptr(),
                                    &mut e,
                                )
                            }
                        } else {
                            unsafe { kafka_producer_send(p, &record(i), None, null_mut(), &mut e) }
                        };
                        match rc {
                            KAFKA_OK => break,
                            KAFKA_ERR_QUEUE_FULL => std::thread::sleep(Duration::from_micros(100)),
                            _ => panic!("{path}: {}", e.message_str()),
                        }
                    }
                }
            }
            let mut remaining = 0usize;
            let rc = unsafe { kafka_producer_flush(p, 300_000, &mut remaining, &mut e) };
            let secs = t0.elapsed().as_secs_f64();
            check(rc, &e, "flush");
            check(
                unsafe { kafka_producer_close(p, 10000, &mut e) },
                &e,
                "close",
            );
            unsafe { kafka_instance_free(inst) };
            secs
        }
        _ => unreachable!(),
    }
}

/// Sends records `0..n` (made by `record`) in calls of 1,000, sending
/// again those a full queue refused.
fn send_batches(p: *mut KafkaProducer, n: usize, record: &dyn Fn(usize) -> KafkaRecord) {
    const BATCH: usize = 1000;
    let mut e = KafkaError::default();
    let mut results = vec![KAFKA_OK; BATCH];
    for start in (0..n).step_by(BATCH) {
        let mut todo: Vec<usize> = (start..(start + BATCH).min(n)).collect();
        while !todo.is_empty() {
            let batch: Vec<KafkaRecord> = todo.iter().map(|&i| record(i)).collect();
            unsafe {
                kafka_producer_send_batch(
                    p,
                    batch.as_ptr(),
                    batch.len(),
                    None,
                    null(),
                    results.as_mut_ptr(),
                    &mut e,
                )
            };
            let mut left = Vec::new();
            for (i, code) in todo.iter().zip(&results) {
                match *code {
                    KAFKA_OK => {}
                    KAFKA_ERR_QUEUE_FULL => left.push(*i),
                    other => panic!("send_batch: {other:?}: {}", e.message_str()),
                }
            }
            if !left.is_empty() {
                std::thread::sleep(Duration::from_micros(100));
            }
            todo = left;
        }
    }
}

// ---------------------------------------------------------------- transactions

const TXN_PATHS: [&str; 2] = ["raw", "ours"];
const TXN_MESSAGES: usize = 1000;

/// `txns` transactions of 1,000 100-byte messages through `path`; the
/// duration of each commit (which waits for the messages too), in µs.
fn txn_latencies(broker: &Broker, topic: &str, path: &str, txns: usize) -> Vec<f64> {
    static ID: AtomicUsize = AtomicUsize::new(0);
    let id = format!(
        "bench-txn-{}-{}",
        std::process::id(),
        ID.fetch_add(1, Ordering::Relaxed)
    );
    let value = json_value(100);
    let mut out = Vec::with_capacity(txns);
    if path == "raw" {
        let p: ThreadedProducer<RawContext> = broker
            .raw_producer_config(&[("transactional.id", &id)])
            .create_with_context(RawContext {
                failed: AtomicUsize::new(0),
            })
            .unwrap();
        p.init_transactions(Duration::from_secs(30)).unwrap();
        for _ in 0..txns {
            p.begin_transaction().unwrap();
            for _ in 0..TXN_MESSAGES {
                let rec = BaseRecord::<(), [u8]>::to(topic).payload(value.as_bytes());
                p.send(rec).map_err(|(e, _)| e).unwrap();
            }
            let t0 = Instant::now();
            p.commit_transaction(Duration::from_secs(30)).unwrap();
            out.push(t0.elapsed().as_secs_f64() * 1e6);
        }
        return out;
    }
    let inst = broker.instance(&[]);
    let mut e = KafkaError::default();
    let overrides = kafka_config_new();
    let (k, v) = (c("transactional_id"), c(&id));
    check(
        unsafe { kafka_config_set(overrides, k.as_ptr(), v.as_ptr(), &mut e) },
        &e,
        "transactional_id",
    );
    let p = unsafe { kafka_instance_get_producer(inst, overrides, &mut e) };
    assert!(!p.is_null(), "{}", e.message_str());
    check(
        unsafe { kafka_producer_init_transactions(p, 30_000, &mut e) },
        &e,
        "init",
    );
    let (topic_c, value_c) = (c(topic), c(&value));
    let values: Vec<*const std::ffi::c_char> = vec![value_c.as_ptr(); TXN_MESSAGES];
    for _ in 0..txns {
        check(
            unsafe { kafka_producer_begin_transaction(p, &mut e) },
            &e,
            "begin",
        );
        let rc = unsafe {
            kafka_producer_send_json_batch(
                p,
                topic_c.as_ptr(),
                null(),
                values.as_ptr(),
                values.len(),
                None,
                null(),
                null_mut(),
                &mut e,
            )
        };
        check(rc, &e, "send_json_batch");
        let t0 = Instant::now();
        check(
            unsafe { kafka_producer_commit_transaction(p, 30_000, &mut e) },
            &e,
            "commit",
        );
        out.push(t0.elapsed().as_secs_f64() * 1e6);
    }
    check(
        unsafe { kafka_producer_close(p, 10_000, &mut e) },
        &e,
        "close",
    );
    unsafe {
        kafka_config_free(overrides);
        kafka_instance_free(inst);
    }
    out
}

// ---------------------------------------------------------------- latency

struct WaitContext {
    done: Mutex<mpsc::SyncSender<bool>>,
}

impl ClientContext for WaitContext {}

impl ProducerContext for WaitContext {
    type DeliveryOpaque = ();
    fn delivery(&self, r: &DeliveryResult<'_>, _: ()) {
        let _ = self.done.lock().unwrap().send(r.is_ok());
    }
}

const LATENCY_PATHS: [&str; 2] = ["raw", "send_json_sync"];

/// `n` acknowledged sends one after another; each one's microseconds.
/// linger.ms=0 for both paths: with the default 5 ms every figure would be
/// the linger.
fn latencies(broker: &Broker, topic: &str, path: &str, n: usize) -> Vec<f64> {
    let value = json_value(100);
    let mut out = Vec::with_capacity(n);
    match path {
        "raw" => {
            let (tx, rx) = mpsc::sync_channel(1);
            let p: ThreadedProducer<WaitContext> = broker
                .raw_producer_config(&[("linger.ms", "0")])
                .create_with_context(WaitContext {
                    done: Mutex::new(tx),
                })
                .unwrap();
            for _ in 0..n {
                let t0 = Instant::now();
                p.send(BaseRecord::to(topic).key("k").payload(value.as_bytes()))
                    .map_err(|(e, _)| e)
                    .unwrap();
                assert!(rx.recv().unwrap());
                out.push(t0.elapsed().as_secs_f64() * 1e6);
            }
        }
        "send_json_sync" => {
            let inst = broker.instance(&[("linger_ms", "0")]);
            let mut e = KafkaError::default();
            let p = unsafe { kafka_instance_get_producer(inst, null(), &mut e) };
            assert!(!p.is_null(), "{}", e.message_str());
            let (t, k, v) = (c(topic), c("k"), c(&value));
            for _ in 0..n {
                let t0 = Instant::now();
                let rc = unsafe {
                    kafka_producer_send_json_sync(
                        p,
                        t.as_ptr(),
                        k.as_ptr(),
                        v.as_ptr(),
                        10000,
                        null_mut(),
                        &mut e,
                    )
                };
                out.push(t0.elapsed().as_secs_f64() * 1e6);
                check(rc, &e, "send_json_sync");
            }
            check(
                unsafe { kafka_producer_close(p, 10000, &mut e) },
                &e,
                "close",
            );
            unsafe { kafka_instance_free(inst) };
        }
        _ => unreachable!(),
    }
    out
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

// ---------------------------------------------------------------- consumer

/// Fills `topic` with `n` 100-byte values in large batches (each Fetch
/// then carries many messages, on every broker).
fn seed(broker: &Broker, topic: &str, n: usize) {
    let p: ThreadedProducer<RawContext> = broker
        .raw_producer_config(&[("linger.ms", "100"), ("batch.num.messages", "10000")])
        .create_with_context(RawContext {
            failed: AtomicUsize::new(0),
        })
        .unwrap();
    let value = json_value(100);
    for i in 0..n {
        let key = format!("customer-{}", i % KEYS);
        loop {
            match p.send(BaseRecord::to(topic).key(&key).payload(&value)) {
                Ok(()) => break,
                Err((RdError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                    std::thread::sleep(Duration::from_millis(1))
                }
                Err((e, _)) => panic!("seeding: {e}"),
            }
        }
    }
    p.flush(Duration::from_secs(300)).unwrap();
    assert_eq!(p.context().failed.load(Ordering::Relaxed), 0);
}

/// `raw_batch` is rust-rdkafka polled the way `poll_batch` polls, and
/// `raw_owned` also reads and copies out every field of each message
/// (headers included): they separate the cost of the polling pattern and
/// of owned messages (ours outlive their consumer and carry their
/// headers) from the cost of the C layer.
/// `_zc`: the same with `zero_copy_messages=true` (messages keep
/// librdkafka's buffer instead of a copy).
const CONSUME_PATHS: [&str; 8] = [
    "raw",
    "poll_batch",
    "poll",
    "poll_batch_zc",
    "poll_zc",
    "consume",
    "raw_batch",
    "raw_owned",
];

static HANDLED: AtomicUsize = AtomicUsize::new(0);
static HANDLED_BYTES: AtomicUsize = AtomicUsize::new(0);

unsafe extern "C" fn count(m: *const KafkaMessage, _: *mut c_void) -> c_int {
    let mut len = 0usize;
    unsafe { kafka_message_value(m, &mut len) };
    HANDLED.fetch_add(1, Ordering::Relaxed);
    HANDLED_BYTES.fetch_add(len, Ordering::Relaxed);
    0
}

/// Reads the `n` messages of `topic` through `path` with a new group;
/// returns the seconds from the first message to the last (joining the
/// group is not the reading).
fn consume(broker: &Broker, topic: &str, path: &str, n: usize) -> f64 {
    static G: AtomicUsize = AtomicUsize::new(0);
    let group = format!(
        "bench-g-{}-{}",
        std::process::id(),
        G.fetch_add(1, Ordering::Relaxed)
    );
    let deadline = Instant::now() + Duration::from_secs(600);
    let mut bytes = 0usize;
    let mut got = 0usize;
    let mut first: Option<Instant> = None;
    match path {
        "raw" | "raw_batch" | "raw_owned" => {
            let cons: BaseConsumer = ClientConfig::new()
                .set("bootstrap.servers", &broker.servers)
                .set("group.id", &group)
                .set("auto.offset.reset", "earliest")
                .create()
                .unwrap();
            cons.subscribe(&[topic]).unwrap();
            // raw_batch polls as poll_batch does: wait for one, then take
            // what is already there without waiting; raw_owned also reads
            // and copies out each message, as our owned messages must.
            let mut wait = Duration::from_millis(100);
            while got < n {
                assert!(Instant::now() < deadline, "raw: {got} of {n}");
                match cons.poll(wait) {
                    Some(r) => {
                        let m = r.unwrap();
                        first.get_or_insert_with(Instant::now);
                        if path == "raw_owned" {
                            // What an owned message costs: read every
                            // field ours carries (headers too: librdkafka
                            // parses them on request), copy them out, box
                            // the lot, free it.
                            let headers: Vec<(String, Option<Vec<u8>>)> = m
                                .headers()
                                .map(|hs| {
                                    hs.iter()
                                        .map(|h| (h.key.to_owned(), h.value.map(<[u8]>::to_vec)))
                                        .collect()
                                })
                                .unwrap_or_default();
                            let owned = Box::new((
                                m.topic().to_owned(),
                                m.key().map(<[u8]>::to_vec),
                                m.payload().map(<[u8]>::to_vec),
                                m.timestamp(),
                                headers,
                            ));
                            bytes += std::hint::black_box(owned).2.map_or(0, |v| v.len());
                        }
                        bytes += m.payload_len();
                        got += 1;
                        if path != "raw" {
                            wait = Duration::ZERO;
                        }
                    }
                    None => wait = Duration::from_millis(100),
                }
            }
        }
        _ => {
            let zero_copy = if path.ends_with("_zc") {
                "true"
            } else {
                "false"
            };
            let inst = broker.instance(&[
                ("group_id", &group),
                ("auto_offset_reset", "earliest"),
                ("zero_copy_messages", zero_copy),
            ]);
            let mut e = KafkaError::default();
            let t = c(topic);
            let topics = [t.as_ptr()];
            let cons =
                unsafe { kafka_instance_get_consumer(inst, topics.as_ptr(), 1, null(), &mut e) };
            assert!(!cons.is_null(), "{}", e.message_str());
            match path.trim_end_matches("_zc") {
                "poll_batch" => {
                    let mut out =
                        vec![null_mut::<KafkaMessage>(); env_usize("KAFKA_BENCH_BATCH", 1000)];
                    while got < n {
                        assert!(Instant::now() < deadline, "{path}: {got} of {n}");
                        let mut k = 0usize;
                        let rc = unsafe {
                            kafka_consumer_poll_batch(
                                cons,
                                out.as_mut_ptr(),
                                out.len(),
                                100,
                                &mut k,
                                &mut e,
                            )
                        };
                        check(rc, &e, path);
                        if k > 0 {
                            first.get_or_insert_with(Instant::now);
                        }
                        for m in &out[..k] {
                            let mut len = 0usize;
                            unsafe { kafka_message_value(*m, &mut len) };
                            bytes += len;
                            unsafe { kafka_message_free(*m) };
                        }
                        got += k;
                    }
                }
                "poll" => {
                    while got < n {
                        assert!(Instant::now() < deadline, "{path}: {got} of {n}");
                        let mut m = null_mut();
                        let rc = unsafe { kafka_consumer_poll(cons, 100, &mut m, &mut e) };
                        check(rc, &e, path);
                        if !m.is_null() {
                            first.get_or_insert_with(Instant::now);
                            let mut len = 0usize;
                            unsafe { kafka_message_value(m, &mut len) };
                            bytes += len;
                            unsafe { kafka_message_free(m) };
                            got += 1;
                        }
                    }
                }
                "consume" => {
                    HANDLED.store(0, Ordering::Relaxed);
                    HANDLED_BYTES.store(0, Ordering::Relaxed);
                    let rc = unsafe {
                        kafka_consumer_register_handler(
                            cons,
                            t.as_ptr(),
                            Some(count),
                            null_mut(),
                            &mut e,
                        )
                    };
                    check(rc, &e, "register");
                    while got < n {
                        assert!(Instant::now() < deadline, "{path}: {got} of {n}");
                        let mut k = 0usize;
                        let rc = unsafe { kafka_consumer_consume(cons, 100, &mut k, &mut e) };
                        check(rc, &e, path);
                        if k > 0 {
                            first.get_or_insert_with(Instant::now);
                        }
                        got = HANDLED.load(Ordering::Relaxed);
                    }
                    bytes = HANDLED_BYTES.load(Ordering::Relaxed);
                }
                _ => unreachable!(),
            }
            check(unsafe { kafka_consumer_close(cons, &mut e) }, &e, "close");
            unsafe { kafka_instance_free(inst) };
        }
    }
    assert_eq!(got, n, "{path}");
    assert!(bytes > 0);
    first.map_or(0.0, |f| f.elapsed().as_secs_f64())
}

// ---------------------------------------------------------------- RSS

/// Peak resident set of this process, in MiB (`VmHWM`).
fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap();
    kb / 1024.0
}

/// In a child process: produce through `path` against `servers`, print
/// the peak RSS.
fn rss_child(path: &str, servers: &str, topic: &str, n: usize) {
    // SAFETY: single-threaded at this point.
    unsafe { std::env::set_var("KAFKA_BOOTSTRAP_SERVERS", servers) };
    let broker = Broker::new();
    produce(&broker, topic, path, &json_value(100), n);
    println!("PEAK_RSS_MIB {:.1}", peak_rss_mib());
}

fn rss_of(broker: &Broker, path: &str, n: usize) -> f64 {
    let topic = broker.topic("rss", 3);
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--rss-child", path, &broker.servers, &topic, &n.to_string()])
        .output()
        .unwrap();
    broker.drop_topic(&topic);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| l.strip_prefix("PEAK_RSS_MIB "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no figure from the child: {text}"))
}

// ---------------------------------------------------------------- main

fn print_rows(rows: &[Row]) {
    println!(
        "{:<44} {:>12} {:>25} {:>7}  target",
        "measurement", "median", "spread (min..max)", "ours/raw"
    );
    for r in rows {
        println!(
            "{:<44} {:>12} {:>25} {:>7}  {}",
            r.name,
            format!("{:.0} {}", r.stat.median, r.unit),
            format!("{:.0}..{:.0}", r.stat.min, r.stat.max),
            r.ratio.map_or(String::new(), |x| format!("{x:.3}")),
            r.target.map_or(String::new(), |(t, ok)| format!(
                "{t} {}",
                if ok { "met" } else { "MISSED" }
            )),
        );
    }
}

struct Row {
    name: String,
    unit: &'static str,
    stat: Stat,
    ratio: Option<f64>,
    target: Option<(&'static str, bool)>,
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--rss-child") {
        rss_child(&args[2], &args[3], &args[4], args[5].parse().unwrap());
        return;
    }
    // librdkafka's warnings only: the figures are the output.
    kafka_set_log_callback(
        None,
        null_mut(),
        KafkaLogLevelArg(KafkaLogLevel::KAFKA_LOG_ERROR as i32),
    );
    let rounds = env_usize("KAFKA_BENCH_ROUNDS", 3).max(1);
    let n = env_usize("KAFKA_BENCH_MESSAGES", 1_000_000).max(1000);
    let latency_n = env_usize("KAFKA_BENCH_LATENCY_SENDS", 10_000).max(100);
    // KAFKA_BENCH_ONLY=produce,json,txn,latency,consume,rss runs a subset.
    let only = std::env::var("KAFKA_BENCH_ONLY").unwrap_or_default();
    let wanted = |part: &str| only.is_empty() || only.split(',').any(|p| p.trim() == part);
    let external = std::env::var("KAFKA_BOOTSTRAP_SERVERS").is_ok_and(|s| !s.trim().is_empty());
    let broker_name = if external {
        format!(
            "KAFKA_BOOTSTRAP_SERVERS={}",
            std::env::var("KAFKA_BOOTSTRAP_SERVERS").unwrap()
        )
    } else {
        "embedded mock cluster (in-process)".to_owned()
    };
    println!("kafka_instance benchmark: {rounds} rounds, broker: {broker_name}");
    let mut rows: Vec<Row> = Vec::new();
    let mut json = serde_json::Map::new();

    // 1, 2: producer throughput per value size.
    let sizes: &[usize] = if wanted("produce") {
        &[100, 1024, 10 * 1024]
    } else {
        &[]
    };
    for &size in sizes {
        let count = if size >= 10 * 1024 { n / 10 } else { n };
        let value = json_value(size);
        println!("producer: {count} x {size} B ...");
        let secs = alternate(rounds, &PRODUCE_PATHS, |path| {
            let broker = Broker::new();
            let topic = broker.topic("produce", 3);
            let secs = produce(&broker, &topic, path, &value, count);
            broker.drop_topic(&topic);
            secs
        });
        let rates: Vec<Stat> = secs
            .iter()
            .map(|s| stat(s.iter().map(|t| count as f64 / t).collect()))
            .collect();
        for (i, path) in PRODUCE_PATHS.iter().enumerate() {
            let ratio = (i > 0).then(|| rates[i].median / rates[0].median);
            let mbs = rates[i].median * size as f64 / 1e6;
            rows.push(Row {
                name: format!("produce {size} B {path} ({mbs:.1} MB/s)"),
                unit: "msg/s",
                stat: rates[i].clone(),
                ratio,
                target: ratio.map(|r| (">= 0.95", r >= 0.95)),
            });
            json.insert(
                format!("produce_{size}_{path}_msgs"),
                rates[i].median.into(),
            );
            json.insert(format!("produce_{size}_{path}_mbs"), mbs.into());
            if let Some(r) = ratio {
                json.insert(format!("produce_{size}_{path}_ratio"), r.into());
            }
        }
        print_rows(&rows[rows.len() - PRODUCE_PATHS.len()..]);
    }

    // What the JSON check costs per value (send_json's only extra work
    // over send), without a broker.
    if wanted("produce") || wanted("json") {
        for size in [100usize, 1024, 10 * 1024] {
            let value = json_value(size);
            let reps = (20_000_000 / size).max(1000);
            let per: Vec<f64> = (0..rounds)
                .map(|_| {
                    let t0 = Instant::now();
                    for _ in 0..reps {
                        kafka_instance::json::validate(std::hint::black_box(&value)).unwrap();
                    }
                    t0.elapsed().as_secs_f64() * 1e9 / reps as f64
                })
                .collect();
            let st = stat(per);
            println!(
                "json check {size} B: {:.0} ns per value ({:.0} MB/s)",
                st.median,
                size as f64 / st.median * 1e3
            );
            json.insert(format!("json_check_{size}_ns"), st.median.into());
        }
    }

    // Transactions: commit latency of a 1,000-message transaction.
    if wanted("txn") {
        let txns = env_usize("KAFKA_BENCH_TXNS", 50).max(10);
        println!("transactions: {txns} x {TXN_MESSAGES} messages ...");
        let broker = Broker::new();
        let topic = broker.topic("txn", 1);
        let runs = alternate(rounds, &TXN_PATHS, |path| {
            let mut v = txn_latencies(&broker, &topic, path, txns);
            v.sort_by(|a, b| a.partial_cmp(b).unwrap());
            [0.5, 0.99].map(|p| percentile(&v, p))
        });
        broker.drop_topic(&topic);
        drop(broker);
        for (pi, p) in ["p50", "p99"].iter().enumerate() {
            let raw = stat(runs[0].iter().map(|r| r[pi]).collect());
            let ours = stat(runs[1].iter().map(|r| r[pi]).collect());
            rows.push(Row {
                name: format!("txn commit {p} raw"),
                unit: "us",
                stat: raw.clone(),
                ratio: None,
                target: None,
            });
            rows.push(Row {
                name: format!("txn commit {p} ours"),
                unit: "us",
                stat: ours.clone(),
                ratio: Some(ours.median / raw.median),
                target: None,
            });
            json.insert(format!("txn_commit_{p}_raw_us"), raw.median.into());
            json.insert(format!("txn_commit_{p}_us"), ours.median.into());
        }
        print_rows(&rows[rows.len() - 4..]);
    }

    // 3: acknowledged-send latency.
    if wanted("latency") {
        println!("latency: {latency_n} acknowledged sends ...");
        let broker = Broker::new();
        let topic = broker.topic("latency", 1);
        let runs = alternate(rounds, &LATENCY_PATHS, |path| {
            let mut v = latencies(&broker, &topic, path, latency_n);
            v.sort_by(|a, b| a.partial_cmp(b).unwrap());
            [0.5, 0.99, 0.999].map(|p| percentile(&v, p))
        });
        broker.drop_topic(&topic);
        drop(broker);
        for (pi, p) in ["p50", "p99", "p999"].iter().enumerate() {
            let raw = stat(runs[0].iter().map(|r| r[pi]).collect());
            let ours = stat(runs[1].iter().map(|r| r[pi]).collect());
            let diff = ours.median - raw.median;
            rows.push(Row {
                name: format!("send+wait {p} raw"),
                unit: "us",
                stat: raw.clone(),
                ratio: None,
                target: None,
            });
            rows.push(Row {
                name: format!("send_json_sync {p} ({diff:+.0} us)"),
                unit: "us",
                stat: ours.clone(),
                ratio: Some(ours.median / raw.median),
                target: (pi == 0).then_some(("<= raw + 50 us", diff <= 50.0)),
            });
            json.insert(format!("latency_{p}_raw_us"), raw.median.into());
            json.insert(format!("latency_{p}_send_json_sync_us"), ours.median.into());
            json.insert(format!("latency_{p}_diff_us"), diff.into());
        }
        print_rows(&rows[rows.len() - 6..]);
    }

    // 4: consumer throughput over one pre-produced topic.
    if wanted("consume") {
        // librdkafka's mock cluster serves Fetch more slowly the longer a
        // partition's log (a 500,000-message topic was not read once in
        // 10 minutes here), so on it the topic is kept small. A real broker
        // gets half the producer count.
        let consume_n = if external {
            n / 2
        } else {
            let small = env_usize("KAFKA_BENCH_EMBEDDED_CONSUME", 50_000).min(n / 2);
            println!(
                "consumer: the embedded broker's Fetch slows as the log grows: \
                 {small} messages here; set KAFKA_BOOTSTRAP_SERVERS for {}",
                n / 2
            );
            small
        };
        println!("consumer: {consume_n} x 100 B ...");
        let broker = Broker::new();
        let topic = broker.topic("consume", 3);
        seed(&broker, &topic, consume_n);
        let secs = alternate(rounds, &CONSUME_PATHS, |path| {
            consume(&broker, &topic, path, consume_n)
        });
        broker.drop_topic(&topic);
        drop(broker);
        let rates: Vec<Stat> = secs
            .iter()
            .map(|s| stat(s.iter().map(|t| consume_n as f64 / t).collect()))
            .collect();
        for (i, path) in CONSUME_PATHS.iter().enumerate() {
            let ratio = (i > 0).then(|| rates[i].median / rates[0].median);
            let target = match *path {
                "poll_batch_zc" | "poll_zc" => ratio.map(|r| (">= 0.95", r >= 0.95)),
                _ => None,
            };
            rows.push(Row {
                name: format!("consume 100 B {path}"),
                unit: "msg/s",
                stat: rates[i].clone(),
                ratio,
                target,
            });
            json.insert(format!("consume_{path}_msgs"), rates[i].median.into());
            if let Some(r) = ratio {
                json.insert(format!("consume_{path}_ratio"), r.into());
            }
        }
        print_rows(&rows[rows.len() - CONSUME_PATHS.len()..]);
    }

    // 5: peak RSS, each path in its own process.
    if wanted("rss") {
        println!("peak RSS: {n} x 100 B per path, one child process each ...");
        let broker = Broker::new();
        let rss = alternate(rounds, &PRODUCE_PATHS, |path| rss_of(&broker, path, n));
        drop(broker);
        let rss: Vec<Stat> = rss.into_iter().map(stat).collect();
        for (i, path) in PRODUCE_PATHS.iter().enumerate() {
            let ratio = (i > 0).then(|| rss[i].median / rss[0].median);
            rows.push(Row {
                name: format!("peak RSS {path}"),
                unit: "MiB",
                stat: rss[i].clone(),
                ratio,
                target: ratio.map(|r| ("<= 1.10", r <= 1.10)),
            });
            json.insert(format!("rss_{path}_mib"), rss[i].median.into());
            if let Some(r) = ratio {
                json.insert(format!("rss_{path}_ratio"), r.into());
            }
        }
        print_rows(&rows[rows.len() - PRODUCE_PATHS.len()..]);
    }

    println!();
    println!("all figures:");
    print_rows(&rows);
    json.insert("rounds".into(), rounds.into());
    json.insert("messages".into(), n.into());
    json.insert("broker".into(), broker_name.into());
    println!("BENCH_JSON {}", serde_json::Value::Object(json));
}

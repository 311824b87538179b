//! Faults on the embedded broker: outages, injected request errors,
//! round-trip delay. Nothing reported delivered may be lost, nothing
//! duplicated, and every message gets exactly one callback.

#![allow(unsafe_code)] // these tests call the C ABI, as a C program would

mod common;
use common::*;

use std::collections::HashMap;
use std::ffi::c_void;
use std::ptr::{null, null_mut};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Message, Offset, TopicPartitionList};

const PRODUCE: i16 = 0;
const NOT_LEADER_OR_FOLLOWER: i32 = 6;
const REQUEST_TIMED_OUT: i32 = 7;
const NOT_ENOUGH_REPLICAS: i32 = 19;
const TOPIC_AUTHORIZATION_FAILED: i32 = 29;

#[derive(Default)]
struct Tally {
    ok: AtomicUsize,
    failed: AtomicUsize,
}

unsafe extern "C" fn tally(r: *const KafkaDeliveryReport, opaque: *mut c_void) {
    let t = unsafe { &*(opaque as *const Tally) };
    if unsafe { (*r).code } == KAFKA_OK {
        t.ok.fetch_add(1, Ordering::SeqCst);
    } else {
        t.failed.fetch_add(1, Ordering::SeqCst);
    }
}

/// Sends `value` with `key`, retrying while the local queue is full (as an
/// application should): per-key order is the order of these calls.
fn send(p: *mut KafkaProducer, topic: &std::ffi::CStr, key: &str, value: &str, t: &Tally) {
    let mut r = empty_record(topic);
    r.key = key.as_ptr().cast();
    r.key_len = key.len();
    r.value = value.as_ptr().cast();
    r.value_len = value.len();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut e = err();
        let rc = unsafe {
            kafka_producer_send(p, &r, Some(tally), t as *const Tally as *mut c_void, &mut e)
        };
        match rc {
            KAFKA_OK => return,
            KAFKA_ERR_QUEUE_FULL if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5))
            }
            other => panic!("send: {other:?} {}", e.message_str()),
        }
    }
}

fn mock_call(rc: KafkaErrorCode, e: &KafkaError) {
    assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
}

/// Every message of `topic` (all partitions from the start), read with a
/// plain rust-rdkafka consumer.
fn read_all(
    bootstrap: &str,
    topic: &str,
    partitions: i32,
    expected: usize,
) -> Vec<(i32, Vec<u8>, Vec<u8>)> {
    let consumer: BaseConsumer = rdkafka::config::ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", unique_topic("verify"))
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        tpl.add_partition_offset(topic, p, Offset::Beginning)
            .unwrap();
    }
    consumer.assign(&tpl).unwrap();
    let mut out = Vec::with_capacity(expected);
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut quiet_since = Instant::now();
    while Instant::now() < deadline {
        match consumer.poll(Duration::from_millis(100)) {
            Some(Ok(m)) => {
                out.push((
                    m.partition(),
                    m.key().unwrap_or_default().to_vec(),
                    m.payload().unwrap_or_default().to_vec(),
                ));
                quiet_since = Instant::now();
            }
            _ if out.len() >= expected && quiet_since.elapsed() > Duration::from_millis(500) => {
                break
            }
            _ => {}
        }
    }
    out
}

#[test]
fn exactly_once_in_order_through_an_outage_and_retriable_errors() {
    const N: usize = 100_000;
    const KEYS: usize = 100;
    let mut e = err();
    let mc = unsafe { kafka_mock_cluster_new(1, &mut e) };
    let bootstrap = s(unsafe { kafka_mock_cluster_bootstrap_servers(mc) });
    let topic = unique_topic("faults");
    let topic_c = c(&topic);
    mock_call(
        unsafe { kafka_mock_cluster_create_topic(mc, topic_c.as_ptr(), 4, 1, &mut e) },
        &e,
    );
    let cfg = config(&[("bootstrap_servers", &bootstrap), ("linger_ms", "5")]);
    let inst = unsafe { kafka_instance_new(cfg, &mut e) };
    let p = unsafe { kafka_instance_get_producer(inst, null(), &mut e) };
    assert!(!p.is_null(), "{}", e.message_str());
    let t = Tally::default();
    let mut seq = vec![0usize; KEYS];
    let mut send_range = |from: usize, to: usize| {
        for i in from..to {
            let k = i % KEYS;
            send(
                p,
                &topic_c,
                &format!("key-{k}"),
                &format!("{k}:{}", seq[k]),
                &t,
            );
            seq[k] += 1;
        }
    };

    send_range(0, 30_000);
    // Retriable broker errors on the next Produce requests.
    let errors = [
        NOT_LEADER_OR_FOLLOWER,
        REQUEST_TIMED_OUT,
        NOT_ENOUGH_REPLICAS,
        NOT_LEADER_OR_FOLLOWER,
        REQUEST_TIMED_OUT,
        NOT_ENOUGH_REPLICAS,
    ];
    mock_call(
        unsafe {
            kafka_mock_cluster_push_request_errors(
                mc,
                PRODUCE,
                errors.as_ptr(),
                errors.len(),
                &mut e,
            )
        },
        &e,
    );
    send_range(30_000, 60_000);
    // The broker goes away while messages keep coming, then returns.
    mock_call(unsafe { kafka_mock_cluster_broker_down(mc, 1, &mut e) }, &e);
    send_range(60_000, 80_000);
    std::thread::sleep(Duration::from_millis(1500));
    mock_call(unsafe { kafka_mock_cluster_broker_up(mc, 1, &mut e) }, &e);
    send_range(80_000, N);
    let mut left = 0usize;
    let rc = unsafe { kafka_producer_flush(p, 120_000, &mut left, &mut e) };
    assert_eq!(rc, KAFKA_OK, "{} left: {}", left, e.message_str());
    assert_eq!(t.ok.load(Ordering::SeqCst), N, "every message acknowledged");
    assert_eq!(t.failed.load(Ordering::SeqCst), 0);

    let got = read_all(&bootstrap, &topic, 4, N);
    assert_eq!(
        got.len(),
        N,
        "exactly once: nothing lost, nothing duplicated"
    );
    let mut next: HashMap<Vec<u8>, (i32, usize)> = HashMap::new();
    for (partition, key, value) in &got {
        let value = String::from_utf8(value.clone()).unwrap();
        let n: usize = value.split(':').nth(1).unwrap().parse().unwrap();
        let entry = next.entry(key.clone()).or_insert((*partition, 0));
        assert_eq!(entry.0, *partition, "one key, one partition");
        assert_eq!(
            n,
            entry.1,
            "per-key order kept for {}",
            String::from_utf8_lossy(key)
        );
        entry.1 += 1;
    }
    unsafe {
        assert_eq!(kafka_producer_close(p, 10_000, &mut e), KAFKA_OK);
        kafka_instance_free(inst);
        kafka_config_free(cfg);
        kafka_mock_cluster_free(mc);
    }
}

#[test]
fn non_retriable_failures_are_reported_and_never_delivered() {
    let mut e = err();
    let mc = unsafe { kafka_mock_cluster_new(1, &mut e) };
    let bootstrap = s(unsafe { kafka_mock_cluster_bootstrap_servers(mc) });
    let topic = unique_topic("denied");
    let topic_c = c(&topic);
    mock_call(
        unsafe { kafka_mock_cluster_create_topic(mc, topic_c.as_ptr(), 1, 1, &mut e) },
        &e,
    );
    let cfg = config(&[
        ("bootstrap_servers", &bootstrap),
        ("message.max.bytes", "10000"),
    ]);
    let inst = unsafe { kafka_instance_new(cfg, &mut e) };
    let p = unsafe { kafka_instance_get_producer(inst, null(), &mut e) };
    unsafe {
        // Warm up: metadata and producer id are in place.
        let ok = c("{\"ok\":1}");
        assert_eq!(
            kafka_producer_send_json_sync(
                p,
                topic_c.as_ptr(),
                null(),
                ok.as_ptr(),
                10_000,
                null_mut(),
                &mut e
            ),
            KAFKA_OK
        );
        let denied = [TOPIC_AUTHORIZATION_FAILED];
        mock_call(
            kafka_mock_cluster_push_request_errors(mc, PRODUCE, denied.as_ptr(), 1, &mut e),
            &e,
        );
        let no = c("{\"denied\":true}");
        let mut report: KafkaDeliveryReport = std::mem::zeroed();
        let rc = kafka_producer_send_json_sync(
            p,
            topic_c.as_ptr(),
            null(),
            no.as_ptr(),
            10_000,
            &mut report,
            &mut e,
        );
        assert_eq!(rc, KAFKA_ERR_BROKER, "{}", e.message_str());
        assert_eq!(e.rdkafka_code, TOPIC_AUTHORIZATION_FAILED);
        assert!(!e.retriable);
        assert_eq!(
            (report.code, report.rdkafka_code, report.offset),
            (KAFKA_ERR_BROKER, 29, -1)
        );
        // Too large for message.max.bytes: refused at send, nothing queued.
        let big = format!("\"{}\"", "x".repeat(20_000));
        let big_c = c(&big);
        let rc = kafka_producer_send_json(p, topic_c.as_ptr(), null(), big_c.as_ptr(), &mut e);
        assert_eq!(rc, KAFKA_ERR_BROKER);
        assert_eq!(
            e.rdkafka_code,
            10,
            "MSG_SIZE_TOO_LARGE: {}",
            e.message_str()
        );
        assert_eq!(kafka_producer_in_flight(p), 0);
        // librdkafka then marks the topic unauthorized: new sends to it are
        // refused at once, with the same clear code, until its metadata is
        // refreshed.
        let after = c("{\"after\":1}");
        let rc = kafka_producer_send_json_sync(
            p,
            topic_c.as_ptr(),
            null(),
            after.as_ptr(),
            10_000,
            null_mut(),
            &mut e,
        );
        assert!(
            rc == KAFKA_OK
                || (rc == KAFKA_ERR_BROKER && e.rdkafka_code == TOPIC_AUTHORIZATION_FAILED),
            "{}",
            e.message_str()
        );
        let after_delivered = rc == KAFKA_OK;
        let got = read_all(&bootstrap, &topic, 1, 1 + after_delivered as usize);
        let values: Vec<String> = got
            .iter()
            .map(|m| String::from_utf8(m.2.clone()).unwrap())
            .collect();
        let mut expected = vec!["{\"ok\":1}".to_owned()];
        if after_delivered {
            expected.push("{\"after\":1}".to_owned());
        }
        assert_eq!(values, expected, "nothing reported failed was delivered");
    }
    unsafe {
        kafka_producer_close(p, 10_000, &mut e);
        kafka_instance_free(inst);
        kafka_config_free(cfg);
        kafka_mock_cluster_free(mc);
    }
}

#[test]
fn injected_round_trip_time_delays_acknowledgements() {
    let mut e = err();
    let mc = unsafe { kafka_mock_cluster_new(1, &mut e) };
    let bootstrap = s(unsafe { kafka_mock_cluster_bootstrap_servers(mc) });
    let topic_c = c("slow");
    unsafe {
        mock_call(
            kafka_mock_cluster_create_topic(mc, topic_c.as_ptr(), 1, 1, &mut e),
            &e,
        );
        let cfg = config(&[("bootstrap_servers", &bootstrap)]);
        let inst = kafka_instance_new(cfg, &mut e);
        let p = kafka_instance_get_producer(inst, null(), &mut e);
        let j = c("{}");
        assert_eq!(
            kafka_producer_send_json_sync(
                p,
                topic_c.as_ptr(),
                null(),
                j.as_ptr(),
                10_000,
                null_mut(),
                &mut e
            ),
            KAFKA_OK
        );
        mock_call(
            kafka_mock_cluster_set_round_trip_time(mc, -1, 400, &mut e),
            &e,
        );
        assert_eq!(
            kafka_producer_send_json_sync(
                p,
                topic_c.as_ptr(),
                null(),
                j.as_ptr(),
                100,
                null_mut(),
                &mut e
            ),
            KAFKA_ERR_TIMEOUT
        );
        let start = Instant::now();
        assert_eq!(
            kafka_producer_send_json_sync(
                p,
                topic_c.as_ptr(),
                null(),
                j.as_ptr(),
                10_000,
                null_mut(),
                &mut e
            ),
            KAFKA_OK
        );
        assert!(
            start.elapsed() >= Duration::from_millis(350),
            "the delay applied: {:?}",
            start.elapsed()
        );
        mock_call(
            kafka_mock_cluster_set_round_trip_time(mc, -1, 0, &mut e),
            &e,
        );
        // Checks of the injection calls themselves.
        assert_eq!(
            kafka_mock_cluster_set_round_trip_time(mc, 5, 10, &mut e),
            KAFKA_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            kafka_mock_cluster_set_round_trip_time(mc, 1, -1, &mut e),
            KAFKA_ERR_INVALID_ARGUMENT
        );
        let bad = [123_456];
        assert_eq!(
            kafka_mock_cluster_push_request_errors(mc, PRODUCE, bad.as_ptr(), 1, &mut e),
            KAFKA_ERR_INVALID_ARGUMENT
        );
        let fine = [6];
        assert_eq!(
            kafka_mock_cluster_push_request_errors(mc, 99, fine.as_ptr(), 1, &mut e),
            KAFKA_ERR_INVALID_ARGUMENT
        );
        mock_call(
            kafka_mock_cluster_push_request_errors(mc, PRODUCE, fine.as_ptr(), 1, &mut e),
            &e,
        );
        mock_call(
            kafka_mock_cluster_clear_request_errors(mc, PRODUCE, &mut e),
            &e,
        );
        kafka_producer_close(p, 10_000, &mut e);
        kafka_instance_free(inst);
        kafka_config_free(cfg);
        kafka_mock_cluster_free(mc);
    }
}

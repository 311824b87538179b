//! The producer through the C ABI, against the embedded broker and, when
//! KAFKA_BOOTSTRAP_SERVERS is set, that broker too.

#![allow(unsafe_code)] // these tests call the C ABI, as a C program would

mod common;
use common::*;

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::{c_int, c_void, CStr};
use std::ptr::{null, null_mut};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use rdkafka::message::{Headers, Message};

const READ: Duration = Duration::from_secs(20);

fn producer(inst: *mut KafkaInstance, overrides: &[(&str, &str)]) -> *mut KafkaProducer {
    let o = if overrides.is_empty() {
        null_mut()
    } else {
        config(overrides)
    };
    let mut e = err();
    let p = unsafe { kafka_instance_get_producer(inst, o, &mut e) };
    assert!(!p.is_null(), "{}", e.message_str());
    unsafe { kafka_config_free(o) };
    p
}

fn close(p: *mut KafkaProducer) {
    let mut e = err();
    assert_eq!(
        unsafe { kafka_producer_close(p, 10000, &mut e) },
        KAFKA_OK,
        "{}",
        e.message_str()
    );
}

fn send_json(
    p: *mut KafkaProducer,
    topic: &str,
    key: Option<&str>,
    json: &str,
) -> (KafkaErrorCode, String) {
    let mut e = err();
    let key = key.map(c);
    let rc = unsafe {
        kafka_producer_send_json(
            p,
            c(topic).as_ptr(),
            key.as_ref().map_or(null(), |k| k.as_ptr()),
            c(json).as_ptr(),
            &mut e,
        )
    };
    (rc, e.message_str())
}

/// One delivery report, copied out of the callback.
#[derive(Debug, Clone)]
struct Report {
    code: KafkaErrorCode,
    rdkafka_code: i32,
    topic: String,
    offset: i64,
}

/// Outcomes collected by the delivery callback.
#[derive(Default)]
struct Outcomes {
    reports: Mutex<Vec<Report>>,
}

unsafe extern "C" fn on_delivery(r: *const KafkaDeliveryReport, opaque: *mut c_void) {
    let r = unsafe { &*r };
    let outcomes = unsafe { &*(opaque as *const Outcomes) };
    let topic = unsafe { CStr::from_ptr(r.topic) }
        .to_str()
        .unwrap()
        .to_owned();
    outcomes.reports.lock().unwrap().push(Report {
        code: r.code,
        rdkafka_code: r.rdkafka_code,
        topic,
        offset: r.offset,
    });
}

fn send_record(
    p: *mut KafkaProducer,
    record: &KafkaRecord,
    outcomes: &Outcomes,
) -> (KafkaErrorCode, String) {
    let mut e = err();
    let rc = unsafe {
        kafka_producer_send(
            p,
            record,
            Some(on_delivery),
            outcomes as *const _ as *mut c_void,
            &mut e,
        )
    };
    (rc, e.message_str())
}

fn record(topic: &CStr) -> KafkaRecord {
    empty_record(topic)
}

#[test]
fn json_round_trips_byte_for_byte_and_keys_stay_on_java_partitions() {
    for broker in brokers() {
        let topic = unique_topic("json");
        create_topic(&broker, &topic, 4);
        let inst = instance(&broker, &[]);
        let p = producer(inst, &[]);
        let mut sent = Vec::new();
        for i in 0..60 {
            let key = format!("customer-{}", i % 7);
            // Spacing, escapes and non-ASCII survive: the text is sent as given.
            let json = format!(
                "{{ \"order_id\": {i}, \"note\": \"caf\\u00e9 ☕\",\n \"amount\": {}.5 }}",
                i * 3
            );
            let (rc, msg) = send_json(p, &topic, Some(&key), &json);
            assert_eq!(rc, KAFKA_OK, "{msg}");
            sent.push((key, json));
        }
        let mut left = usize::MAX;
        let mut e = err();
        assert_eq!(
            unsafe { kafka_producer_flush(p, 10000, &mut left, &mut e) },
            KAFKA_OK,
            "{}",
            e.message_str()
        );
        assert_eq!(left, 0);
        let got = read_back(&broker.bootstrap, &topic, sent.len(), READ);
        assert_eq!(got.len(), sent.len(), "{}: every message once", broker.name);
        let mut by_value: BTreeMap<Vec<u8>, &rdkafka::message::OwnedMessage> = BTreeMap::new();
        for m in &got {
            by_value.insert(m.payload().unwrap().to_vec(), m);
        }
        let mut partitions_of_key: BTreeMap<&str, BTreeSet<i32>> = BTreeMap::new();
        for (key, json) in &sent {
            let m = by_value
                .get(json.as_bytes())
                .expect("sent value read back byte for byte");
            assert_eq!(m.key(), Some(key.as_bytes()));
            assert_eq!(
                m.partition(),
                java_partition(key.as_bytes(), 4),
                "{key}: the Java client's partition"
            );
            partitions_of_key
                .entry(key)
                .or_default()
                .insert(m.partition());
        }
        assert!(partitions_of_key.values().all(|p| p.len() == 1));
        // Offsets increase per partition in send order.
        let mut last: BTreeMap<i32, i64> = BTreeMap::new();
        for (_, json) in &sent {
            let m = by_value[json.as_bytes()];
            if let Some(prev) = last.insert(m.partition(), m.offset()) {
                assert!(m.offset() > prev);
            }
        }
        close(p);
        unsafe { kafka_instance_free(inst) };
    }
}

#[test]
fn sync_sends_report_partition_offset_and_timestamp() {
    for broker in brokers() {
        let topic = unique_topic("sync");
        create_topic(&broker, &topic, 3);
        let inst = instance(&broker, &[]);
        let p = producer(inst, &[]);
        let topic_c = c(&topic);
        let mut offsets: BTreeMap<i32, Vec<i64>> = BTreeMap::new();
        for i in 0..9 {
            let mut report: KafkaDeliveryReport = unsafe { std::mem::zeroed() };
            let mut e = err();
            let before = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis() as i64;
            let json = c(&format!("{{\"n\":{i}}}"));
            let key = c(&format!("k{i}"));
            let rc = unsafe {
                kafka_producer_send_json_sync(
                    p,
                    topic_c.as_ptr(),
                    key.as_ptr(),
                    json.as_ptr(),
                    10000,
                    &mut report,
                    &mut e,
                )
            };
            assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
            assert_eq!(report.code, KAFKA_OK);
            assert_eq!(report.topic, topic_c.as_ptr(), "the caller's topic pointer");
            assert_eq!(
                report.partition,
                java_partition(format!("k{i}").as_bytes(), 3)
            );
            if broker.name == "embedded" {
                // librdkafka's mock answers every Produce with a fixed
                // LogAppendTime of 1234 (rdkafka_mock_handlers.c), which
                // librdkafka then reports as the message's timestamp.
                assert_eq!(report.timestamp_ms, 1234);
            } else {
                assert!(
                    report.timestamp_ms >= before - 1000,
                    "{} vs {before}",
                    report.timestamp_ms
                );
            }
            offsets
                .entry(report.partition)
                .or_default()
                .push(report.offset);
        }
        for list in offsets.values() {
            assert_eq!(
                *list,
                (0..list.len() as i64).collect::<Vec<_>>(),
                "fresh topic: offsets 0, 1, 2..."
            );
        }
        // send_sync with a record; report may be NULL.
        let mut r = record(&topic_c);
        r.has_partition = true;
        r.partition = 2;
        let mut e = err();
        assert_eq!(
            unsafe { kafka_producer_send_sync(p, &r, 10000, null_mut(), &mut e) },
            KAFKA_OK,
            "{}",
            e.message_str()
        );
        close(p);
        unsafe { kafka_instance_free(inst) };
    }
}

#[test]
fn binary_keys_tombstones_headers_partitions_and_timestamps() {
    for broker in brokers() {
        let topic = unique_topic("raw");
        create_topic(&broker, &topic, 3);
        let inst = instance(&broker, &[]);
        let p = producer(inst, &[]);
        let outcomes = Outcomes::default();
        let topic_c = c(&topic);
        let key = [0u8, 1, 2, 255, 0];
        let value = [9u8, 0, 8, 0, 7];
        let (n1, n2) = (c("trace-id"), c("empty"));
        let headers = [
            KafkaHeader {
                name: n1.as_ptr(),
                value: b"abc\0def".as_ptr().cast(),
                value_len: 7,
            },
            KafkaHeader {
                name: n2.as_ptr(),
                value: null(),
                value_len: 0,
            },
        ];
        let mut r = record(&topic_c);
        r.key = key.as_ptr().cast();
        r.key_len = key.len();
        r.value = value.as_ptr().cast();
        r.value_len = value.len();
        r.headers = headers.as_ptr();
        r.header_count = 2;
        r.has_partition = true;
        r.partition = 1;
        r.timestamp_ms = 1_600_000_000_123;
        assert_eq!(send_record(p, &r, &outcomes).0, KAFKA_OK);
        // A tombstone: key, no value.
        let mut t = record(&topic_c);
        t.key = b"gone".as_ptr().cast();
        t.key_len = 4;
        t.has_partition = true;
        t.partition = 2;
        assert_eq!(send_record(p, &t, &outcomes).0, KAFKA_OK);
        // Zero-initialized record plus topic: all defaults.
        let z = record(&topic_c);
        assert_eq!(send_record(p, &z, &outcomes).0, KAFKA_OK);
        let mut e = err();
        assert_eq!(
            unsafe { kafka_producer_flush(p, 10000, null_mut(), &mut e) },
            KAFKA_OK
        );
        assert_eq!(outcomes.reports.lock().unwrap().len(), 3);
        let got = read_back(&broker.bootstrap, &topic, 3, READ);
        assert_eq!(got.len(), 3);
        let full = got.iter().find(|m| m.key() == Some(&key[..])).unwrap();
        assert_eq!(full.payload(), Some(&value[..]));
        assert_eq!(full.partition(), 1);
        assert_eq!(full.timestamp().to_millis(), Some(1_600_000_000_123));
        let hs = full.headers().unwrap();
        assert_eq!(hs.count(), 2);
        assert_eq!(hs.get(0).key, "trace-id");
        assert_eq!(hs.get(0).value, Some(&b"abc\0def"[..]));
        assert_eq!(hs.get(1).key, "empty");
        assert_eq!(hs.get(1).value, None);
        let tomb = got.iter().find(|m| m.key() == Some(&b"gone"[..])).unwrap();
        assert_eq!(tomb.payload(), None);
        assert_eq!(tomb.partition(), 2);
        let plain = got.iter().find(|m| m.key().is_none()).unwrap();
        assert_eq!(plain.payload(), None);
        close(p);
        unsafe { kafka_instance_free(inst) };
    }
}

#[test]
fn a_stopped_broker_times_out_sync_sends_then_delivers_everything_once() {
    capture_logs();
    let broker = brokers().remove(0);
    let topic = unique_topic("outage");
    create_topic(&broker, &topic, 1);
    let inst = instance(&broker, &[]);
    let p = producer(inst, &[]);
    let (rc, msg) = send_json(p, &topic, None, "{\"before\":true}");
    assert_eq!(rc, KAFKA_OK, "{msg}");
    let mut e = err();
    assert_eq!(
        unsafe { kafka_producer_flush(p, 10000, null_mut(), &mut e) },
        KAFKA_OK
    );
    assert_eq!(
        unsafe { kafka_mock_cluster_broker_down(broker.mock, 1, &mut e) },
        KAFKA_OK
    );

    let topic_c = c(&topic);
    let json = c("{\"during\":0}");
    let rc = unsafe {
        kafka_producer_send_json_sync(
            p,
            topic_c.as_ptr(),
            null(),
            json.as_ptr(),
            1000,
            null_mut(),
            &mut e,
        )
    };
    assert_eq!(rc, KAFKA_ERR_TIMEOUT, "{}", e.message_str());
    assert!(logged()
        .iter()
        .any(|r| r.controller == "kafka_instance.producer.send_json_sync" && r.level == 3));
    for i in 1..20 {
        assert_eq!(
            send_json(p, &topic, None, &format!("{{\"during\":{i}}}")).0,
            KAFKA_OK
        );
    }
    let mut left = 0usize;
    assert_eq!(
        unsafe { kafka_producer_flush(p, 500, &mut left, &mut e) },
        KAFKA_ERR_TIMEOUT
    );
    assert_eq!(left, 20);
    assert_eq!(unsafe { kafka_producer_in_flight(p) }, 20);

    assert_eq!(
        unsafe { kafka_mock_cluster_broker_up(broker.mock, 1, &mut e) },
        KAFKA_OK
    );
    assert_eq!(
        unsafe { kafka_producer_flush(p, 30000, &mut left, &mut e) },
        KAFKA_OK,
        "{}",
        e.message_str()
    );
    assert_eq!(left, 0);
    let got = read_back(&broker.bootstrap, &topic, 21, READ);
    let values: Vec<String> = got
        .iter()
        .map(|m| String::from_utf8(m.payload().unwrap().to_vec()).unwrap())
        .collect();
    let unique: BTreeSet<&String> = values.iter().collect();
    assert_eq!(values.len(), 21, "every message exactly once: {values:?}");
    assert_eq!(unique.len(), 21);
    close(p);
    unsafe { kafka_instance_free(inst) };
}

#[test]
fn one_callback_per_message_across_success_and_failure() {
    let broker = brokers().remove(0);
    let topic = unique_topic("callbacks");
    create_topic(&broker, &topic, 2);
    let inst = instance(&broker, &[]);
    let p = producer(inst, &[("delivery_timeout_ms", "3000")]);
    let outcomes = Outcomes::default();
    let topic_c = c(&topic);
    // A send to a partition that does not exist fails in its callback, or
    // at once (nothing queued, no callback) once librdkafka has the topic's
    // metadata: which one depends on timing. Either way, one callback per
    // message queued.
    let (mut queued, mut refused) = (0, 0);
    for i in 0..30 {
        let mut r = record(&topic_c);
        let v = format!("{i}");
        r.value = v.as_ptr().cast();
        r.value_len = v.len();
        let missing = i % 3 == 0;
        if missing {
            r.has_partition = true;
            r.partition = 7;
        }
        let mut e = err();
        let rc = unsafe {
            kafka_producer_send(
                p,
                &r,
                Some(on_delivery),
                &outcomes as *const _ as *mut c_void,
                &mut e,
            )
        };
        if rc == KAFKA_OK {
            queued += 1;
        } else {
            assert!(missing, "{}", e.message_str());
            assert_eq!(
                (rc, e.rdkafka_code),
                (KAFKA_ERR_BROKER, -190),
                "{}",
                e.message_str()
            );
            refused += 1;
        }
    }
    let mut e = err();
    assert_eq!(
        unsafe { kafka_producer_flush(p, 20000, null_mut(), &mut e) },
        KAFKA_OK,
        "{}",
        e.message_str()
    );
    let reports = outcomes.reports.lock().unwrap().clone();
    assert_eq!(
        reports.len(),
        queued,
        "exactly one callback per queued message"
    );
    let ok = reports.iter().filter(|r| r.code == KAFKA_OK).count();
    assert_eq!(ok, 20);
    assert_eq!(
        reports.len() - ok + refused,
        10,
        "every send to partition 7 failed, once"
    );
    for r in reports.iter().filter(|r| r.code != KAFKA_OK) {
        assert_eq!(r.code, KAFKA_ERR_BROKER);
        assert_eq!(r.rdkafka_code, -190, "_UNKNOWN_PARTITION");
        assert_eq!(r.offset, -1);
    }
    assert!(reports.iter().all(|r| r.topic == topic));
    close(p);
    unsafe { kafka_instance_free(inst) };
}

#[test]
fn close_purges_what_is_left_reports_it_and_calls_back_before_returning() {
    let broker = brokers().remove(0);
    let topic = unique_topic("close");
    create_topic(&broker, &topic, 1);
    let inst = instance(&broker, &[]);
    let p = producer(inst, &[]);
    let mut e = err();
    assert_eq!(
        unsafe { kafka_mock_cluster_broker_down(broker.mock, 1, &mut e) },
        KAFKA_OK
    );
    let outcomes = Outcomes::default();
    let topic_c = c(&topic);
    for _ in 0..3 {
        assert_eq!(send_record(p, &record(&topic_c), &outcomes).0, KAFKA_OK);
    }
    // An invalid timeout leaves the producer open.
    assert_eq!(
        unsafe { kafka_producer_close(p, -5, &mut e) },
        KAFKA_ERR_INVALID_ARGUMENT
    );
    let rc = unsafe { kafka_producer_close(p, 300, &mut e) };
    assert_eq!(rc, KAFKA_ERR_TIMEOUT);
    assert!(
        e.message_str().contains("3 message(s) not delivered"),
        "{}",
        e.message_str()
    );
    let reports = outcomes.reports.lock().unwrap().clone();
    assert_eq!(
        reports.len(),
        3,
        "every purged message called back before close returned"
    );
    assert!(
        reports
            .iter()
            .all(|r| r.code == KAFKA_ERR_BROKER && r.rdkafka_code == -152),
        "{reports:?}"
    );
    assert_eq!(
        unsafe { kafka_producer_close(null_mut(), 100, &mut e) },
        KAFKA_OK,
        "NULL is a no-op"
    );
    unsafe { kafka_mock_cluster_broker_up(broker.mock, 1, &mut e) };
    unsafe { kafka_instance_free(inst) };
}

#[test]
fn a_full_queue_is_an_error_never_a_block() {
    let broker = brokers().remove(0);
    let topic = unique_topic("full");
    create_topic(&broker, &topic, 1);
    let inst = instance(&broker, &[]);
    let p = producer(inst, &[("queue.buffering.max.messages", "5")]);
    let mut e = err();
    unsafe { kafka_mock_cluster_broker_down(broker.mock, 1, &mut e) };
    let mut codes = Vec::new();
    for i in 0..8 {
        codes.push(send_json(p, &topic, None, &format!("{i}")).0);
    }
    assert_eq!(&codes[..5], &[KAFKA_OK; 5]);
    assert!(
        codes[5..].iter().all(|c| *c == KAFKA_ERR_QUEUE_FULL),
        "{codes:?}"
    );
    assert_eq!(unsafe { kafka_producer_in_flight(p) }, 5);
    unsafe { kafka_mock_cluster_broker_up(broker.mock, 1, &mut e) };
    close(p);
    unsafe { kafka_instance_free(inst) };
}

#[test]
fn bad_input_is_refused_and_nothing_is_queued() {
    let broker = brokers().remove(0);
    let inst = instance(&broker, &[]);
    let p = producer(inst, &[]);
    for (topic, json, code, words) in [
        ("", "{}", KAFKA_ERR_INVALID_ARGUMENT, "topic is empty"),
        (
            &*"t".repeat(250),
            "{}",
            KAFKA_ERR_INVALID_ARGUMENT,
            "at most 249",
        ),
        ("has space", "{}", KAFKA_ERR_INVALID_ARGUMENT, "contains"),
        ("ok", "", KAFKA_ERR_SERIALIZATION, "line 1, column 0"),
        ("ok", "{\"a\":", KAFKA_ERR_SERIALIZATION, "line 1, column 5"),
        (
            "ok",
            "{\"a\":1}{\"b\":2}",
            KAFKA_ERR_SERIALIZATION,
            "trailing characters",
        ),
        ("ok", "{'a':1}", KAFKA_ERR_SERIALIZATION, "not valid JSON"),
        ("ok", "[1,\n2,]", KAFKA_ERR_SERIALIZATION, "line 2"),
    ] {
        let (rc, msg) = send_json(p, topic, None, json);
        assert_eq!(rc, code, "{topic:?} {json:?}: {msg}");
        assert!(msg.contains(words), "{msg}");
    }
    let bad = std::ffi::CString::new(vec![b'o', 0xc3]).unwrap();
    let mut e = err();
    unsafe {
        let (t, j) = (c("ok"), c("{}"));
        assert_eq!(
            kafka_producer_send_json(p, bad.as_ptr(), null(), j.as_ptr(), &mut e),
            KAFKA_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            kafka_producer_send_json(p, t.as_ptr(), bad.as_ptr(), j.as_ptr(), &mut e),
            KAFKA_ERR_INVALID_ARGUMENT
        );
        assert!(e.message_str().contains("key is not valid UTF-8"));
        assert_eq!(
            kafka_producer_send_json(p, t.as_ptr(), null(), bad.as_ptr(), &mut e),
            KAFKA_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            kafka_producer_send_json(p, null(), null(), j.as_ptr(), &mut e),
            KAFKA_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            kafka_producer_send_json(p, t.as_ptr(), null(), null(), &mut e),
            KAFKA_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            kafka_producer_send_json(null_mut(), t.as_ptr(), null(), j.as_ptr(), &mut e),
            KAFKA_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            kafka_producer_send_json_sync(
                p,
                t.as_ptr(),
                null(),
                j.as_ptr(),
                -2,
                null_mut(),
                &mut e
            ),
            KAFKA_ERR_INVALID_ARGUMENT
        );
        // Records.
        let outcomes = Outcomes::default();
        let mut r = record(&t);
        r.key_len = 3;
        assert_eq!(send_record(p, &r, &outcomes).0, KAFKA_ERR_INVALID_ARGUMENT);
        let mut r = record(&t);
        r.value_len = 1;
        assert_eq!(send_record(p, &r, &outcomes).0, KAFKA_ERR_INVALID_ARGUMENT);
        let mut r = record(&t);
        r.header_count = 1;
        assert_eq!(send_record(p, &r, &outcomes).0, KAFKA_ERR_INVALID_ARGUMENT);
        let hs = [KafkaHeader {
            name: null(),
            value: null(),
            value_len: 0,
        }];
        let mut r = record(&t);
        r.headers = hs.as_ptr();
        r.header_count = 1;
        let (rc, msg) = send_record(p, &r, &outcomes);
        assert_eq!(rc, KAFKA_ERR_INVALID_ARGUMENT);
        assert!(msg.contains("record->headers[0].name is NULL"), "{msg}");
        let mut r = record(&t);
        r.has_partition = true;
        r.partition = -3;
        assert_eq!(send_record(p, &r, &outcomes).0, KAFKA_ERR_INVALID_ARGUMENT);
        let mut r = record(&t);
        r.timestamp_ms = -10;
        assert_eq!(send_record(p, &r, &outcomes).0, KAFKA_ERR_INVALID_ARGUMENT);
        let r = KafkaRecord {
            topic: null(),
            ..record(&t)
        };
        assert_eq!(send_record(p, &r, &outcomes).0, KAFKA_ERR_INVALID_ARGUMENT);
        assert_eq!(
            kafka_producer_send(p, null(), None, null_mut(), &mut e),
            KAFKA_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            kafka_producer_send_sync(p, &record(&t), -9, null_mut(), &mut e),
            KAFKA_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            kafka_producer_flush(p, -3, null_mut(), &mut e),
            KAFKA_ERR_INVALID_ARGUMENT
        );
        assert_eq!(kafka_producer_in_flight(null()), 0);
        assert_eq!(kafka_producer_in_flight(p), 0, "nothing was queued");
        assert!(
            outcomes.reports.lock().unwrap().is_empty(),
            "no callback for refused sends"
        );
    }
    close(p);
    unsafe { kafka_instance_free(inst) };
}

#[test]
fn overrides_merge_over_the_instance_and_consumer_settings_are_refused() {
    let broker = brokers().remove(0);
    // Consumer settings in the instance's base config are fine for producers.
    let inst = instance(
        &broker,
        &[
            ("group_id", "g"),
            ("auto_offset_reset", "earliest"),
            ("linger_ms", "50"),
        ],
    );
    for bad in [
        ("group_id", "g2"),
        ("max_poll_records", "10"),
        ("session_timeout_ms", "10000"),
    ] {
        let o = config(&[bad]);
        let mut e = err();
        let p = unsafe { kafka_instance_get_producer(inst, o, &mut e) };
        assert!(p.is_null());
        assert_eq!(e.code, KAFKA_ERR_CONFIG);
        assert!(e.message_str().contains(bad.0), "{}", e.message_str());
        unsafe { kafka_config_free(o) };
    }
    // acks=1 excludes idempotence: the default steps aside instead of failing.
    let p = producer(
        inst,
        &[
            ("acks", "1"),
            ("compression_type", "gzip"),
            ("linger_ms", "0"),
        ],
    );
    close(p);
    let p = producer(
        inst,
        &[
            ("acks", "all"),
            ("retries", "5"),
            ("max_in_flight_requests_per_connection", "1"),
            ("batch_size", "32768"),
        ],
    );
    close(p);
    // Settings librdkafka finds contradictory fail at creation.
    let o = config(&[("enable_idempotence", "true"), ("acks", "0")]);
    let mut e = err();
    assert!(unsafe { kafka_instance_get_producer(inst, o, &mut e) }.is_null());
    assert_eq!(e.code, KAFKA_ERR_CONFIG);
    unsafe {
        kafka_config_free(o);
        kafka_instance_free(inst);
    }
}

#[test]
fn a_producer_outlives_its_instance() {
    let broker = brokers().remove(0);
    let topic = unique_topic("outlive");
    create_topic(&broker, &topic, 1);
    let inst = instance(&broker, &[]);
    let p = producer(inst, &[]);
    unsafe { kafka_instance_free(inst) };
    let mut e = err();
    let (t, j) = (c(&topic), c("{\"after\":\"free\"}"));
    let rc = unsafe {
        kafka_producer_send_json_sync(p, t.as_ptr(), null(), j.as_ptr(), 10000, null_mut(), &mut e)
    };
    assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
    close(p);
}

struct Counter {
    sent: AtomicUsize,
    calls: AtomicUsize,
}

unsafe extern "C" fn count(_: *const KafkaDeliveryReport, opaque: *mut c_void) {
    unsafe { &*(opaque as *const Counter) }
        .calls
        .fetch_add(1, Ordering::SeqCst);
}

#[test]
fn many_threads_share_one_producer() {
    struct Shared(*mut KafkaProducer);
    unsafe impl Sync for Shared {}
    let broker = brokers().remove(0);
    let topic = unique_topic("threads");
    create_topic(&broker, &topic, 4);
    let inst = instance(&broker, &[]);
    let p = Shared(producer(inst, &[]));
    let counter = Counter {
        sent: AtomicUsize::new(0),
        calls: AtomicUsize::new(0),
    };
    std::thread::scope(|scope| {
        for t in 0..4 {
            let (p, counter, topic) = (&p, &counter, &topic);
            scope.spawn(move || {
                let topic_c = c(topic);
                for i in 0..250 {
                    let v = format!("{{\"t\":{t},\"i\":{i}}}");
                    let mut r = record(&topic_c);
                    r.value = v.as_ptr().cast();
                    r.value_len = v.len();
                    let mut e = err();
                    let rc = unsafe {
                        kafka_producer_send(
                            p.0,
                            &r,
                            Some(count),
                            counter as *const _ as *mut c_void,
                            &mut e,
                        )
                    };
                    assert_eq!(rc, KAFKA_OK);
                    counter.sent.fetch_add(1, Ordering::SeqCst);
                    if i % 50 == 0 {
                        let mut e = err();
                        let j = c("{\"sync\":true}");
                        assert_eq!(
                            unsafe {
                                kafka_producer_send_json_sync(
                                    p.0,
                                    topic_c.as_ptr(),
                                    null(),
                                    j.as_ptr(),
                                    10000,
                                    null_mut(),
                                    &mut e,
                                )
                            },
                            KAFKA_OK
                        );
                    }
                }
            });
        }
    });
    let mut e = err();
    assert_eq!(
        unsafe { kafka_producer_flush(p.0, 20000, null_mut(), &mut e) },
        KAFKA_OK
    );
    assert_eq!(counter.calls.load(Ordering::SeqCst), 1000);
    assert_eq!(counter.sent.load(Ordering::SeqCst), 1000);
    let got = read_back(&broker.bootstrap, &topic, 1020, READ);
    assert_eq!(got.len(), 1020);
    close(p.0);
    unsafe { kafka_instance_free(inst) };
}

struct ScopeArgs {
    topic: std::ffi::CString,
    ret: c_int,
}

unsafe extern "C" fn scope_body(p: *mut KafkaProducer, opaque: *mut c_void) -> c_int {
    let args = unsafe { &*(opaque as *const ScopeArgs) };
    for i in 0..10 {
        let j = c(&format!("{{\"event_id\":{i},\"type\":\"click\"}}"));
        unsafe { kafka_producer_send_json(p, args.topic.as_ptr(), null(), j.as_ptr(), null_mut()) };
    }
    args.ret
}

#[test]
fn scoped_producers_always_flush_and_close() {
    for broker in brokers() {
        let topic = unique_topic("scoped");
        create_topic(&broker, &topic, 1);
        let inst = instance(&broker, &[]);
        let mut e = err();
        let ok = ScopeArgs {
            topic: c(&topic),
            ret: 0,
        };
        let rc = unsafe {
            kafka_instance_with_producer(
                inst,
                null(),
                Some(scope_body),
                &ok as *const _ as *mut c_void,
                &mut e,
            )
        };
        assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
        let failing = ScopeArgs {
            topic: c(&topic),
            ret: 7,
        };
        let o = config(&[("acks", "all")]);
        let rc = unsafe {
            kafka_instance_with_producer(
                inst,
                o,
                Some(scope_body),
                &failing as *const _ as *mut c_void,
                &mut e,
            )
        };
        assert_eq!(rc, KAFKA_ERR_CALLBACK);
        assert!(e.message_str().contains("returned 7"));
        // Both scopes' messages were flushed before the calls returned.
        assert_eq!(read_back(&broker.bootstrap, &topic, 20, READ).len(), 20);
        assert_eq!(
            unsafe { kafka_instance_with_producer(inst, null(), None, null_mut(), &mut e) },
            KAFKA_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            unsafe {
                kafka_instance_with_producer(
                    null_mut(),
                    null(),
                    Some(scope_body),
                    null_mut(),
                    &mut e,
                )
            },
            KAFKA_ERR_INVALID_ARGUMENT
        );
        unsafe {
            kafka_config_free(o);
            kafka_instance_free(inst);
        }
    }
}

#[test]
fn an_unreachable_broker_does_not_block_creation_and_sends_time_out() {
    let inst = {
        let cfg = config(&[("bootstrap_servers", "127.0.0.1:1")]);
        let mut e = err();
        let i = unsafe { kafka_instance_new(cfg, &mut e) };
        unsafe { kafka_config_free(cfg) };
        i
    };
    let p = producer(inst, &[]);
    let mut e = err();
    let (t, j) = (c("t"), c("1"));
    let start = std::time::Instant::now();
    let rc = unsafe {
        kafka_producer_send_json_sync(p, t.as_ptr(), null(), j.as_ptr(), 500, null_mut(), &mut e)
    };
    assert_eq!(rc, KAFKA_ERR_TIMEOUT);
    assert!(start.elapsed() < Duration::from_secs(10));
    let rc = unsafe { kafka_producer_close(p, 200, &mut e) };
    assert_eq!(rc, KAFKA_ERR_TIMEOUT);
    assert!(start.elapsed() < Duration::from_secs(20));
    unsafe { kafka_instance_free(inst) };
}

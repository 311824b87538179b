//! The consumer through the C ABI, against the embedded broker and, when
//! KAFKA_BOOTSTRAP_SERVERS is set, that broker too.

#![allow(unsafe_code)] // these tests call the C ABI, as a C program would

mod common;
use common::*;

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::{c_char, c_int, c_void, CStr};
use std::ptr::{null, null_mut};
use std::sync::Mutex;
use std::time::{Duration, Instant};

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

#[test]
fn produce_n_consume_n_everything_identical_and_in_order() {
    for broker in brokers() {
        let topic = unique_topic("roundtrip");
        create_topic(&broker, &topic, 3);
        let inst = instance(
            &broker,
            &[
                ("group_id", &unique_topic("g")),
                ("auto_offset_reset", "earliest"),
            ],
        );
        let mut e = err();
        let p = unsafe { kafka_instance_get_producer(inst, null(), &mut e) };
        let t = c(&topic);
        let mut sent = Vec::new();
        for i in 0..45i64 {
            let key = format!("key-{}", i % 5).into_bytes();
            let value = format!("{{\"i\":{i},\"bin\":\"\\u0000\"}}").into_bytes();
            let (hn, hv) = (c("seq"), i.to_string());
            let headers = [KafkaHeader {
                name: hn.as_ptr(),
                value: hv.as_ptr().cast(),
                value_len: hv.len(),
            }];
            let r = KafkaRecord {
                topic: t.as_ptr(),
                key: key.as_ptr().cast(),
                key_len: key.len(),
                value: value.as_ptr().cast(),
                value_len: value.len(),
                headers: headers.as_ptr(),
                header_count: 1,
                has_partition: false,
                partition: 0,
                timestamp_ms: 1_700_000_000_000 + i,
            };
            let mut report: KafkaDeliveryReport = unsafe { std::mem::zeroed() };
            assert_eq!(
                unsafe { kafka_producer_send_sync(p, &r, 10000, &mut report, &mut e) },
                KAFKA_OK,
                "{}",
                e.message_str()
            );
            sent.push(Seen {
                topic: topic.clone(),
                partition: report.partition,
                offset: report.offset,
                timestamp: 1_700_000_000_000 + i,
                key: Some(key),
                value: Some(value),
                headers: vec![("seq".into(), Some(hv.into_bytes()))],
            });
        }
        unsafe { kafka_producer_close(p, 10000, &mut e) };

        let cons = consumer(inst, &[&topic], &[]);
        // Half through poll, half through poll_batch.
        let mut got = poll_n(cons, 20, WAIT);
        let deadline = Instant::now() + WAIT;
        while got.len() < sent.len() && Instant::now() < deadline {
            let mut out = [null_mut(); 8];
            let mut count = 99;
            assert_eq!(
                unsafe {
                    kafka_consumer_poll_batch(
                        cons,
                        out.as_mut_ptr(),
                        out.len(),
                        500,
                        &mut count,
                        &mut e,
                    )
                },
                KAFKA_OK
            );
            assert!(count <= 8);
            for m in &out[..count] {
                got.push(seen(*m));
                unsafe { kafka_message_free(*m) };
            }
        }
        assert_eq!(got.len(), sent.len(), "{}", broker.name);
        let sorted = |v: &[Seen]| {
            let mut v = v.to_vec();
            v.sort_by_key(|s| (s.partition, s.offset));
            v
        };
        assert_eq!(
            sorted(&got),
            sorted(&sent),
            "{}: contents, keys, headers, timestamps, partitions, offsets",
            broker.name
        );
        // Per-partition order as consumed.
        let mut last: BTreeMap<i32, i64> = BTreeMap::new();
        for s in &got {
            if let Some(prev) = last.insert(s.partition, s.offset) {
                assert_eq!(s.offset, prev + 1);
            }
        }
        close_consumer(cons);
        unsafe { kafka_instance_free(inst) };
    }
}

#[test]
fn manual_commits_resume_exactly_after_the_last_committed_message() {
    for broker in brokers() {
        let topic = unique_topic("resume");
        create_topic(&broker, &topic, 1);
        let group = unique_topic("g");
        let inst = instance(
            &broker,
            &[
                ("group_id", &group),
                ("auto_offset_reset", "earliest"),
                ("enable_auto_commit", "false"),
            ],
        );
        produce_unbatched(inst, &topic, 0, 10);

        // Read 4, commit the 4th: the next run starts at the 5th.
        let cons = consumer(inst, &[&topic], &[]);
        let mut first = Vec::new();
        let deadline = Instant::now() + WAIT;
        let mut e = err();
        while first.len() < 4 && Instant::now() < deadline {
            let mut m = null_mut();
            unsafe { kafka_consumer_poll(cons, 200, &mut m, &mut e) };
            if !m.is_null() {
                first.push(n_of(&seen(m)));
                if first.len() == 4 {
                    assert_eq!(
                        unsafe { kafka_consumer_commit_message(cons, m, &mut e) },
                        KAFKA_OK,
                        "{}",
                        e.message_str()
                    );
                }
                unsafe { kafka_message_free(m) };
            }
        }
        assert_eq!(first, [0, 1, 2, 3]);
        // Read 2 more without committing: they come again.
        assert_eq!(
            poll_n(cons, 2, WAIT).iter().map(n_of).collect::<Vec<_>>(),
            [4, 5]
        );
        close_consumer(cons);

        let cons = consumer(inst, &[&topic], &[]);
        let again = poll_n(cons, 6, WAIT);
        assert_eq!(
            again.iter().map(n_of).collect::<Vec<_>>(),
            [4, 5, 6, 7, 8, 9],
            "{}",
            broker.name
        );
        // kafka_consumer_commit commits the current positions.
        assert_eq!(
            unsafe { kafka_consumer_commit(cons, &mut e) },
            KAFKA_OK,
            "{}",
            e.message_str()
        );
        close_consumer(cons);

        produce_unbatched(inst, &topic, 10, 1);
        let cons = consumer(inst, &[&topic], &[]);
        let last = poll_n(cons, 2, Duration::from_secs(8));
        assert_eq!(
            last.iter().map(n_of).collect::<Vec<_>>(),
            [10],
            "nothing skipped, nothing repeated"
        );
        close_consumer(cons);
        unsafe { kafka_instance_free(inst) };
    }
}

#[test]
fn offset_reset_earliest_latest_and_none_on_a_new_group() {
    capture_logs();
    for broker in brokers() {
        let topic = unique_topic("reset");
        create_topic(&broker, &topic, 1);
        let inst = instance(&broker, &[]);
        produce(inst, &topic, 0, 3, 1);

        let earliest = consumer(
            inst,
            &[&topic],
            &[
                ("group_id", &unique_topic("g")),
                ("auto_offset_reset", "earliest"),
            ],
        );
        assert_eq!(
            poll_n(earliest, 3, WAIT)
                .iter()
                .map(n_of)
                .collect::<Vec<_>>(),
            [0, 1, 2]
        );
        close_consumer(earliest);

        // latest is the default: what was there before is skipped.
        let latest = consumer(inst, &[&topic], &[("group_id", &unique_topic("g"))]);
        // (Polling long enough for the group to assign the partition: a
        // message produced before that would be skipped too.)
        assert!(
            poll_n(latest, 1, Duration::from_secs(8)).is_empty(),
            "latest skips existing messages"
        );
        produce(inst, &topic, 3, 1, 1);
        assert_eq!(
            poll_n(latest, 1, WAIT).iter().map(n_of).collect::<Vec<_>>(),
            [3]
        );
        close_consumer(latest);

        // none: no committed offset is an error the caller sees.
        let none = consumer(
            inst,
            &[&topic],
            &[
                ("group_id", &unique_topic("g")),
                ("auto_offset_reset", "none"),
            ],
        );
        let deadline = Instant::now() + WAIT;
        let mut e = err();
        let code = loop {
            let mut m = null_mut();
            let rc = unsafe { kafka_consumer_poll(none, 200, &mut m, &mut e) };
            assert!(m.is_null());
            if rc != KAFKA_OK || Instant::now() > deadline {
                break rc;
            }
        };
        assert_eq!(code, KAFKA_ERR_BROKER, "{}", broker.name);
        assert_eq!(
            e.rdkafka_code,
            -140,
            "_AUTO_OFFSET_RESET: {}",
            e.message_str()
        );
        assert!(!e.fatal);
        close_consumer(none);
        unsafe { kafka_instance_free(inst) };
    }
}

#[test]
fn two_members_share_partitions_and_a_leaver_hands_its_share_over() {
    capture_logs();
    for broker in brokers() {
        let topic = unique_topic("group");
        create_topic(&broker, &topic, 4);
        let group = unique_topic("g");
        let inst = instance(
            &broker,
            &[("group_id", &group), ("auto_offset_reset", "earliest")],
        );
        let since = logged().len();
        let a = consumer(inst, &[&topic], &[]);
        let b = consumer(inst, &[&topic], &[("debug", "cgrp")]);
        // Both poll until each holds two of the four partitions.
        settle(&[a, b], &topic, since, 2, 2);
        let settled = logged().len();
        produce(inst, &topic, 0, 40, 40);
        let (mut from_a, mut from_b) = (Vec::new(), Vec::new());
        let ns = |v: &[Seen]| v.iter().map(n_of).collect::<BTreeSet<_>>();
        let deadline = Instant::now() + WAIT;
        while ns(&[from_a.clone(), from_b.clone()].concat()).len() < 40 && Instant::now() < deadline
        {
            from_a.extend(poll_n(a, 40, Duration::from_millis(300)));
            from_b.extend(poll_n(b, 40, Duration::from_millis(300)));
        }
        let all = [from_a.clone(), from_b.clone()].concat();
        assert_eq!(ns(&all), (0..40).collect(), "{}: nothing lost", broker.name);
        assert!(
            !from_a.is_empty() && !from_b.is_empty(),
            "both members got partitions"
        );
        // A machine loaded enough to miss heartbeats rebalances the group
        // again; then re-delivery is librdkafka's at-least-once guarantee.
        // Without one, no partition is read by both and nothing twice.
        let rebalanced = logged()[settled..].iter().any(|r| {
            r.message.starts_with("rebalance: ")
                && r.message.contains(&format!("topic: \"{topic}\""))
        });
        if !rebalanced {
            let parts = |v: &[Seen]| v.iter().map(|s| s.partition).collect::<BTreeSet<_>>();
            assert!(
                parts(&from_a).is_disjoint(&parts(&from_b)),
                "no partition twice"
            );
            assert_eq!(all.len(), 40, "nothing twice");
        }

        // b leaves the group explicitly (librdkafka says so: its LeaveGroup
        // was answered), and a takes over b's partitions.
        close_consumer(b);
        assert!(
            logged().iter().any(|r| r.subject == "librdkafka"
                && r.message.contains(&format!("Group \"{group}\""))
                && r.message.contains("leave")),
            "b sent LeaveGroup on close"
        );
        produce(inst, &topic, 40, 20, 20);
        let mut rest = Vec::new();
        let deadline = Instant::now() + WAIT;
        while !ns(&rest).is_superset(&(40..60).collect()) && Instant::now() < deadline {
            rest.extend(poll_n(a, 20, Duration::from_millis(300)));
        }
        assert!(
            ns(&rest).is_superset(&(40..60).collect()),
            "{}: a took over b's partitions",
            broker.name
        );
        close_consumer(a);
        unsafe { kafka_instance_free(inst) };
    }
}

/// What handlers saw, in order.
static CALLS: Mutex<Vec<(String, usize)>> = Mutex::new(Vec::new());

unsafe extern "C" fn first_handler(m: *const KafkaMessage, _: *mut c_void) -> c_int {
    CALLS.lock().unwrap().push(("first".into(), n_of(&seen(m))));
    0
}

unsafe extern "C" fn second_handler(m: *const KafkaMessage, opaque: *mut c_void) -> c_int {
    assert_eq!(opaque as usize, 42);
    let n = n_of(&seen(m));
    CALLS.lock().unwrap().push(("second".into(), n));
    // Fails on odd numbers: logged, processing goes on.
    (n % 2) as c_int
}

unsafe extern "C" fn other_topic_handler(m: *const KafkaMessage, _: *mut c_void) -> c_int {
    CALLS.lock().unwrap().push(("other".into(), n_of(&seen(m))));
    0
}

#[test]
fn handlers_run_in_order_failures_are_logged_and_consume_commits() {
    capture_logs();
    let broker = embedded();
    let (orders, payments, unhandled) = (
        unique_topic("orders"),
        unique_topic("payments"),
        unique_topic("audit"),
    );
    for t in [&orders, &payments, &unhandled] {
        create_topic(&broker, t, 1);
    }
    let group = unique_topic("g");
    let inst = instance(
        &broker,
        &[
            ("group_id", &group),
            ("auto_offset_reset", "earliest"),
            ("enable_auto_commit", "false"),
        ],
    );
    produce(inst, &orders, 0, 4, 1);
    produce(inst, &payments, 100, 2, 1);
    produce(inst, &unhandled, 200, 3, 1);
    let cons = consumer(
        inst,
        &[&orders, &payments, &unhandled],
        &[("max_poll_records", "4")],
    );
    let mut e = err();
    unsafe {
        let (o, p) = (c(&orders), c(&payments));
        assert_eq!(
            kafka_consumer_register_handler(
                cons,
                o.as_ptr(),
                Some(first_handler),
                null_mut(),
                &mut e
            ),
            KAFKA_OK
        );
        assert_eq!(
            kafka_consumer_register_handler(
                cons,
                o.as_ptr(),
                Some(second_handler),
                42 as *mut c_void,
                &mut e
            ),
            KAFKA_OK
        );
        assert_eq!(
            kafka_consumer_register_handler(
                cons,
                p.as_ptr(),
                Some(other_topic_handler),
                null_mut(),
                &mut e
            ),
            KAFKA_OK
        );
    }
    let mut total = 0;
    let deadline = Instant::now() + WAIT;
    while total < 9 && Instant::now() < deadline {
        let mut dispatched = 99;
        assert_eq!(
            unsafe { kafka_consumer_consume(cons, 500, &mut dispatched, &mut e) },
            KAFKA_OK,
            "{}",
            e.message_str()
        );
        assert!(dispatched <= 4, "max_poll_records caps a batch");
        total += dispatched;
    }
    assert_eq!(total, 9, "messages without a handler count as consumed");
    let calls = CALLS.lock().unwrap().clone();
    let on_orders: Vec<_> = calls
        .iter()
        .filter(|(h, _)| h != "other")
        .cloned()
        .collect();
    let expected: Vec<(String, usize)> = (0..4)
        .flat_map(|n| [("first".to_string(), n), ("second".to_string(), n)])
        .collect();
    assert_eq!(on_orders, expected, "registration order, per message");
    assert_eq!(calls.iter().filter(|(h, _)| h == "other").count(), 2);
    let failures: Vec<_> = logged()
        .into_iter()
        .filter(|r| {
            r.controller == "kafka_instance.consumer.consume"
                && r.message.contains(&format!("handler for {orders:?}"))
        })
        .collect();
    assert_eq!(
        failures.len(),
        2,
        "handler failures on 1 and 3 logged: {failures:?}"
    );
    let payload: serde_json::Value =
        serde_json::from_str(failures[0].payload_json.as_deref().unwrap()).unwrap();
    assert_eq!(payload["topic"], orders.as_str());
    assert_eq!(payload["partition"], 0);
    assert_eq!(payload["offset"], 1);
    close_consumer(cons);

    // consume() committed: the group has nothing left to read.
    let again = consumer(inst, &[&orders, &payments, &unhandled], &[]);
    assert!(
        poll_n(again, 1, Duration::from_secs(5)).is_empty(),
        "consume committed every batch"
    );
    close_consumer(again);
    unsafe { kafka_instance_free(inst) };
}

#[test]
fn bad_input_is_refused() {
    let broker = embedded();
    let inst = instance(&broker, &[]);
    let topic = c("t");
    let topics = [topic.as_ptr()];
    let mut e = err();
    unsafe {
        // No group id anywhere.
        assert!(kafka_instance_get_consumer(inst, topics.as_ptr(), 1, null(), &mut e).is_null());
        assert_eq!(e.code, KAFKA_ERR_CONFIG);
        assert!(e.message_str().contains("group id"));
        let g = config(&[("group_id", "g")]);
        assert!(kafka_instance_get_consumer(inst, topics.as_ptr(), 0, g, &mut e).is_null());
        assert_eq!(e.code, KAFKA_ERR_INVALID_ARGUMENT);
        for bad in ["", "a b", "x/y"] {
            let b = c(bad);
            let list = [b.as_ptr()];
            assert!(kafka_instance_get_consumer(inst, list.as_ptr(), 1, g, &mut e).is_null());
            assert_eq!(e.code, KAFKA_ERR_INVALID_ARGUMENT, "{bad:?}");
        }
        let holes = [topic.as_ptr(), null()];
        assert!(kafka_instance_get_consumer(inst, holes.as_ptr(), 2, g, &mut e).is_null());
        assert!(e.message_str().contains("topics[1]"));
        let producer_only = config(&[("group_id", "g"), ("linger_ms", "5")]);
        assert!(
            kafka_instance_get_consumer(inst, topics.as_ptr(), 1, producer_only, &mut e).is_null()
        );
        assert_eq!(e.code, KAFKA_ERR_CONFIG);
        assert!(e.message_str().contains("linger_ms"));
        let cons = kafka_instance_get_consumer(inst, topics.as_ptr(), 1, g, &mut e);
        assert!(!cons.is_null(), "{}", e.message_str());
        let mut m = null_mut();
        assert_eq!(
            kafka_consumer_poll(cons, -2, &mut m, &mut e),
            KAFKA_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            kafka_consumer_poll(cons, 10, null_mut(), &mut e),
            KAFKA_ERR_INVALID_ARGUMENT
        );
        let mut count = 7;
        assert_eq!(
            kafka_consumer_poll_batch(cons, null_mut(), 4, 10, &mut count, &mut e),
            KAFKA_ERR_INVALID_ARGUMENT
        );
        assert_eq!(count, 0);
        assert_eq!(
            kafka_consumer_poll_batch(cons, null_mut(), 0, 10, &mut count, &mut e),
            KAFKA_OK
        );
        assert_eq!(count, 0);
        assert_eq!(
            kafka_consumer_commit_message(cons, null(), &mut e),
            KAFKA_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            kafka_consumer_register_handler(cons, topic.as_ptr(), None, null_mut(), &mut e),
            KAFKA_ERR_INVALID_ARGUMENT
        );
        let bad = c("");
        assert_eq!(
            kafka_consumer_register_handler(
                cons,
                bad.as_ptr(),
                Some(first_handler),
                null_mut(),
                &mut e
            ),
            KAFKA_ERR_INVALID_ARGUMENT
        );
        let mut d = 5;
        assert_eq!(
            kafka_consumer_consume(cons, -9, &mut d, &mut e),
            KAFKA_ERR_INVALID_ARGUMENT
        );
        assert_eq!(d, 0);
        // Nothing there: NULL and OK, within the timeout.
        let start = Instant::now();
        assert_eq!(kafka_consumer_poll(cons, 300, &mut m, &mut e), KAFKA_OK);
        assert!(m.is_null());
        assert!(
            start.elapsed() >= Duration::from_millis(290)
                && start.elapsed() < Duration::from_secs(10)
        );
        assert_eq!(kafka_consumer_close(cons, &mut e), KAFKA_OK);
        assert_eq!(kafka_consumer_close(null_mut(), &mut e), KAFKA_OK);
        kafka_config_free(g);
        kafka_config_free(producer_only);
        kafka_instance_free(inst);
    }
}

#[test]
fn messages_outlive_their_consumer_and_consumers_their_instance() {
    let broker = embedded();
    let topic = unique_topic("outlive");
    create_topic(&broker, &topic, 1);
    let inst = instance(
        &broker,
        &[
            ("group_id", &unique_topic("g")),
            ("auto_offset_reset", "earliest"),
        ],
    );
    produce(inst, &topic, 0, 2, 1);
    let cons = consumer(inst, &[&topic], &[]);
    unsafe { kafka_instance_free(inst) };
    let mut m: *mut KafkaMessage = null_mut();
    let mut e = err();
    let deadline = Instant::now() + WAIT;
    while m.is_null() && Instant::now() < deadline {
        unsafe { kafka_consumer_poll(cons, 200, &mut m, &mut e) };
    }
    assert!(!m.is_null());
    close_consumer(cons);
    let s = seen(m);
    assert_eq!(s.topic, topic);
    assert_eq!(n_of(&s), 0);
    unsafe { kafka_message_free(m) };
}

/// Reads `want` messages, waiting up to `wait_s` seconds.
struct ScopeWant {
    want: usize,
    wait_s: u64,
}

unsafe extern "C" fn scope_reads(cons: *mut KafkaConsumer, opaque: *mut c_void) -> c_int {
    let ScopeWant { want, wait_s } = *unsafe { &*(opaque as *const ScopeWant) };
    let got = poll_n(cons, want, Duration::from_secs(wait_s)).len();
    if got == want {
        0
    } else {
        9
    }
}

#[test]
fn scoped_consumers_always_close() {
    for broker in brokers() {
        let topic = unique_topic("scope");
        create_topic(&broker, &topic, 1);
        let group = unique_topic("g");
        let inst = instance(
            &broker,
            &[("group_id", &group), ("auto_offset_reset", "earliest")],
        );
        produce(inst, &topic, 0, 3, 1);
        let t = c(&topic);
        let list = [t.as_ptr()];
        let mut e = err();
        let three = ScopeWant {
            want: 3,
            wait_s: 30,
        };
        let session = config(&[SESSION]);
        let rc = unsafe {
            kafka_instance_with_consumer(
                inst,
                list.as_ptr(),
                1,
                session,
                Some(scope_reads),
                &three as *const _ as *mut c_void,
                &mut e,
            )
        };
        assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
        // Auto-commit was on: close committed, so the group has nothing left
        // and the scope fails (non-zero): KAFKA_ERR_CALLBACK after close.
        let o = config(&[("max_poll_records", "10"), SESSION]);
        let one = ScopeWant { want: 1, wait_s: 8 };
        let rc = unsafe {
            kafka_instance_with_consumer(
                inst,
                list.as_ptr(),
                1,
                o,
                Some(scope_reads),
                &one as *const _ as *mut c_void,
                &mut e,
            )
        };
        assert_eq!(rc, KAFKA_ERR_CALLBACK, "{}", e.message_str());
        assert!(e.message_str().contains("returned 9"));
        assert_eq!(
            unsafe {
                kafka_instance_with_consumer(
                    inst,
                    list.as_ptr(),
                    1,
                    null(),
                    None,
                    null_mut(),
                    &mut e,
                )
            },
            KAFKA_ERR_INVALID_ARGUMENT
        );
        unsafe {
            kafka_config_free(o);
            kafka_config_free(session);
            kafka_instance_free(inst);
        }
    }
}

/// Consumers that are stopped mid-batch (closed without committing what
/// they had not finished) and restarted, until every message was processed
/// or the deadline passed. Each life finishes batches until it has done
/// about a third of the topic, then dies half-way through its next batch.
/// `per_message`: commit each message right after processing it;
/// otherwise commit once per finished batch. Returns every message number
/// processed, in order, repeats included, and how many lives it took.
fn run_with_kills(
    inst: *mut KafkaInstance,
    topic: &str,
    total: usize,
    per_message: bool,
) -> (Vec<usize>, usize) {
    const CAPACITY: usize = 16;
    let mut processed: Vec<usize> = Vec::new();
    let distinct = |p: &[usize]| p.iter().collect::<BTreeSet<_>>().len();
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut lives = 0;
    let mut e = err();
    while distinct(&processed) < total {
        assert!(Instant::now() < deadline, "processed only {processed:?}");
        lives += 1;
        let cons = consumer(inst, &[topic], &[]);
        let mut this_life = 0;
        let mut idle = 0;
        while distinct(&processed) < total && idle < 20 {
            let mut out = [null_mut::<KafkaMessage>(); CAPACITY];
            let mut n = 0usize;
            let rc = unsafe {
                kafka_consumer_poll_batch(cons, out.as_mut_ptr(), CAPACITY, 500, &mut n, &mut e)
            };
            assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
            idle = if n == 0 { idle + 1 } else { 0 };
            let dies = this_life >= total / 3 && n >= 2;
            let upto = if dies { n / 2 } else { n };
            for (i, m) in out[..n].iter().enumerate() {
                if i < upto {
                    processed.push(n_of(&seen(*m)));
                    this_life += 1;
                    if per_message {
                        let rc = unsafe { kafka_consumer_commit_message(cons, *m, &mut e) };
                        assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
                    }
                }
                unsafe { kafka_message_free(*m) };
            }
            if dies {
                // Killed: the unfinished half was never committed.
                break;
            }
            if !per_message && n > 0 {
                let rc = unsafe { kafka_consumer_commit(cons, &mut e) };
                assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
            }
        }
        close_consumer(cons);
    }
    (processed, lives)
}

/// A consumer stopped mid-batch without committing and restarted
/// sees every message at least once and skips none; committing each
/// message as it is processed, it sees none twice.
#[test]
fn stopped_mid_batch_at_least_once_and_exactly_once_with_commit_per_message() {
    for broker in brokers() {
        for per_message in [false, true] {
            let topic = unique_topic("killed");
            create_topic(&broker, &topic, 2);
            let inst = instance(
                &broker,
                &[
                    ("group_id", &unique_topic("g")),
                    ("auto_offset_reset", "earliest"),
                    ("enable_auto_commit", "false"),
                ],
            );
            let total = 48;
            produce_unbatched(inst, &topic, 0, total);
            let (processed, lives) = run_with_kills(inst, &topic, total, per_message);
            let distinct: BTreeSet<usize> = processed.iter().copied().collect();
            assert_eq!(
                distinct,
                (0..total).collect(),
                "{}: every message, none skipped",
                broker.name
            );
            let repeats = processed.len() - distinct.len();
            if per_message {
                assert_eq!(repeats, 0, "{}: {processed:?}", broker.name);
            } else {
                // Stopping half-way through uncommitted batches must have
                // brought their processed halves back.
                assert!(repeats > 0, "{}: {processed:?}", broker.name);
            }
            assert!(
                lives >= 2,
                "{}: at least one consumer was stopped",
                broker.name
            );
            eprintln!(
                "{}: per_message={per_message}: {} processed in {lives} lives, {repeats} repeats",
                broker.name,
                processed.len()
            );
            unsafe { kafka_instance_free(inst) };
        }
    }
}

#[test]
fn kafka_consumer_wakeup_ends_a_blocked_poll_and_the_next_one_only() {
    let broker = &embedded();
    let topic = unique_topic("wakeup");
    create_topic(broker, &topic, 1);
    let inst = instance(broker, &[("group_id", &unique_topic("g"))]);
    let cons = consumer(inst, &[&topic], &[]);
    let addr = cons as usize;
    // From another thread, while a poll without a time limit waits.
    let waker = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        unsafe { kafka_consumer_wakeup(addr as *mut KafkaConsumer, null_mut()) };
    });
    let (mut m, mut e) = (null_mut(), err());
    let rc = unsafe { kafka_consumer_poll(cons, -1, &mut m, &mut e) };
    waker.join().unwrap();
    assert_eq!(rc, KAFKA_ERR_WAKEUP, "{}", e.message_str());
    assert!(m.is_null());
    // Before a poll: that poll returns at once, woken; the one after waits
    // as usual.
    assert_eq!(unsafe { kafka_consumer_wakeup(cons, &mut e) }, KAFKA_OK);
    let rc = unsafe { kafka_consumer_poll(cons, -1, &mut m, &mut e) };
    assert_eq!(rc, KAFKA_ERR_WAKEUP);
    let rc = unsafe { kafka_consumer_poll(cons, 100, &mut m, &mut e) };
    assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
    assert_eq!(
        unsafe { kafka_consumer_wakeup(null_mut(), null_mut()) },
        KAFKA_ERR_INVALID_ARGUMENT
    );
    close_consumer(cons);
    unsafe { kafka_instance_free(inst) };
}

/// Whether `fd` is readable within `wait`.
fn readable(fd: i32, wait: Duration) -> bool {
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    unsafe { libc::poll(&mut p, 1, wait.as_millis() as i32) > 0 }
}

/// Polls with timeout 0 until nothing comes; returns the messages' offsets.
fn drain_now(cons: *mut KafkaConsumer) -> Vec<i64> {
    let mut got = Vec::new();
    loop {
        let (mut m, mut e) = (null_mut(), err());
        let rc = unsafe { kafka_consumer_poll(cons, 0, &mut m, &mut e) };
        assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
        if m.is_null() {
            return got;
        }
        got.push(unsafe { kafka_message_offset(m) });
        unsafe { kafka_message_free(m) };
    }
}

/// The event fd, as an event loop uses it: readable when a message
/// arrives (never missed, also when it arrives right after a poll found
/// nothing), not readable once polls with timeout 0 drained everything,
/// readable on a wake-up until the poll that returns it.
#[test]
fn kafka_consumer_event_fd_is_readable_exactly_when_a_poll_has_something() {
    capture_logs();
    let broker = &embedded();
    let topic = unique_topic("event-fd");
    create_topic(broker, &topic, 1);
    let inst = instance(broker, &[("group_id", &unique_topic("g"))]);
    let cons = consumer(
        inst,
        &[&topic],
        &[
            ("auto_offset_reset", "earliest"),
            ("enable_auto_commit", "false"),
        ],
    );
    let mut e = err();
    let fd = unsafe { kafka_consumer_event_fd(cons, &mut e) };
    assert!(fd >= 0, "{}", e.message_str());
    assert_eq!(
        unsafe { kafka_consumer_event_fd(cons, &mut e) },
        fd,
        "the same one"
    );

    let producer = unsafe { kafka_instance_get_producer(inst, null(), &mut e) };
    let t = c(&topic);
    let mut offsets = Vec::new();
    for n in 0..20 {
        // Quiet first: the join's events served, nothing left.
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while readable(fd, Duration::ZERO) {
            offsets.extend(drain_now(cons));
            assert!(std::time::Instant::now() < deadline, "never quiet");
        }
        let rc = unsafe {
            kafka_producer_send_json(
                producer,
                t.as_ptr(),
                null(),
                c(&format!("{{\"n\":{n}}}")).as_ptr(),
                &mut e,
            )
        };
        assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
        // The loop: wait on the fd, then poll without waiting.
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while offsets.len() <= n {
            assert!(
                readable(fd, Duration::from_secs(20)),
                "message {n} arrived but the fd never became readable"
            );
            offsets.extend(drain_now(cons));
            assert!(
                std::time::Instant::now() < deadline,
                "message {n} never came"
            );
        }
    }
    assert_eq!(offsets, (0..20).collect::<Vec<i64>>());
    assert!(
        !readable(fd, Duration::from_millis(200)),
        "drained: not readable"
    );

    assert_eq!(unsafe { kafka_consumer_wakeup(cons, &mut e) }, KAFKA_OK);
    assert!(readable(fd, Duration::ZERO), "a wake-up makes it readable");
    let mut m = null_mut();
    let rc = unsafe { kafka_consumer_poll(cons, 0, &mut m, &mut e) };
    assert_eq!(rc, KAFKA_ERR_WAKEUP);
    assert!(!readable(fd, Duration::ZERO), "the wake-up was returned");

    assert_eq!(
        unsafe { kafka_consumer_close(cons, &mut e) },
        KAFKA_OK,
        "{}",
        e.message_str()
    );
    unsafe {
        kafka_producer_close(producer, 10000, &mut e);
        kafka_instance_free(inst);
    }
}

/// A poll that would return an error at once (here: a new group with
/// `auto_offset_reset=none`, which has nowhere to start) leaves the event
/// fd readable until that error is returned.
#[test]
fn kafka_consumer_event_fd_is_readable_for_an_error_a_poll_would_return() {
    capture_logs();
    let broker = &embedded();
    let topic = unique_topic("event-fd-error");
    create_topic(broker, &topic, 1);
    let inst = instance(broker, &[("group_id", &unique_topic("g"))]);
    produce_unbatched(inst, &topic, 0, 1);
    let cons = consumer(inst, &[&topic], &[("auto_offset_reset", "none")]);
    let mut e = err();
    let fd = unsafe { kafka_consumer_event_fd(cons, &mut e) };
    assert!(fd >= 0, "{}", e.message_str());
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let mut returned = None;
    while returned.is_none() && std::time::Instant::now() < deadline {
        if !readable(fd, Duration::from_secs(1)) {
            continue;
        }
        let mut m = null_mut();
        let rc = unsafe { kafka_consumer_poll(cons, 0, &mut m, &mut e) };
        if rc != KAFKA_OK {
            returned = Some(rc);
        }
        unsafe { kafka_message_free(m) };
    }
    assert!(returned.is_some(), "the error never came through the fd");
    close_consumer(cons);
    unsafe { kafka_instance_free(inst) };
}

#[test]
fn kafka_consumer_store_message_decides_what_commits_without_auto_store() {
    for broker in brokers() {
        let (topic, _, inst) = group_fixture(&broker, "store", 1);
        // One message per batch: tansu cannot resume inside a batch.
        produce_unbatched(inst, &topic, 0, 5);
        let cons = consumer(inst, &[&topic], &[("enable.auto.offset.store", "false")]);
        let got = poll_owned(cons, 5, Duration::from_secs(30));
        assert_eq!(got.len(), 5);
        // Done with offsets 0 and 1 only (as a worker thread would say).
        let second = *got
            .iter()
            .find(|m| unsafe { kafka_message_offset(**m) } == 1)
            .unwrap();
        let mut e = err();
        let rc = unsafe { kafka_consumer_store_message(cons, second, &mut e) };
        assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
        assert_eq!(unsafe { kafka_consumer_commit(cons, &mut e) }, KAFKA_OK);
        let rc = unsafe { kafka_consumer_store_message(cons, null(), &mut e) };
        assert_eq!(rc, KAFKA_ERR_INVALID_ARGUMENT);
        for m in got {
            unsafe { kafka_message_free(m) };
        }
        close_consumer(cons);
        // The group resumes after the stored message, not after the poll.
        let again = consumer(inst, &[&topic], &[]);
        let next = poll_messages(again, 1, Duration::from_secs(30), |m| unsafe {
            kafka_message_offset(m)
        });
        assert_eq!(next, vec![2], "resumed after the stored offset");
        close_consumer(again);
        unsafe { kafka_instance_free(inst) };
    }
}

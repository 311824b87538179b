//! Topic administration beyond create/delete: kafka_instance_create_partitions
//! and kafka_instance_delete_records, and the one admin client an instance
//! keeps. The embedded broker answers neither CreatePartitions nor
//! DeleteRecords (said where a person sees it); KAFKA_BOOTSTRAP_SERVERS
//! runs them for real, and a Kafka-protocol stand-in broker
//! (tests/common/stand_in.rs) runs them on every machine.

#![allow(unsafe_code)] // these tests call the C ABI, as a C program would

mod common;
use common::*;

use common::stand_in::{Partition, Request, StandIn, Topic};
use std::ptr::null_mut;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

/// Threads named "kafka-admin" in this process: one per admin client.
fn admin_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|name| name.trim() == "kafka-admin")
        .count()
}

/// Twenty admin calls on one instance use one admin client (one thread of
/// ours serving it), made on the first call and gone with the instance.
#[test]
fn one_admin_client_per_instance_made_on_first_use() {
    let _g = serial();
    capture_logs();
    let broker = &embedded();
    let before = admin_threads();
    let inst = instance(broker, &[]);
    assert_eq!(
        admin_threads(),
        before,
        "no admin client before an admin call"
    );
    for _ in 0..20 {
        let (mut len, mut e) = (0usize, err());
        let rc = unsafe { kafka_instance_list_topics(inst, 5000, null_mut(), 0, &mut len, &mut e) };
        assert_eq!(rc, KAFKA_ERR_BUFFER_TOO_SMALL, "{}", e.message_str());
        let mut out = null_mut();
        let rc = unsafe { kafka_instance_describe_cluster(inst, 5000, &mut out, &mut e) };
        assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
        unsafe { kafka_cluster_free(out) };
    }
    assert_eq!(admin_threads(), before + 1, "one admin client for 40 calls");
    unsafe { kafka_instance_free(inst) };
    assert_eq!(admin_threads(), before, "released with the instance");
}

/// Growing a topic shows in its description; shrinking it is refused by
/// the broker; deleting records before an offset moves the low watermark
/// there. Bad arguments are refused before anything is sent.
#[test]
fn kafka_instance_create_partitions_and_delete_records_on_a_real_broker() {
    let _g = serial(); // the other test counts admin clients
    capture_logs();
    for broker in brokers() {
        let inst = instance(&broker, &[]);
        let mut e = err();
        let topic = unique_topic("grown");
        let t = c(&topic);
        if !broker.mock.is_null() {
            broker_cannot(
                "instance_admin::create_partitions_delete_records",
                "librdkafka's mock cluster answers no CreatePartitions or DeleteRecords",
            );
            let rc = unsafe { kafka_instance_create_partitions(inst, t.as_ptr(), 0, 1000, &mut e) };
            assert_eq!(rc, KAFKA_ERR_INVALID_ARGUMENT);
            let says = "total must be at least 1";
            assert!(e.message_str().contains(says), "{}", e.message_str());
            let rc = unsafe {
                kafka_instance_delete_records(inst, t.as_ptr(), 0, -5, 1000, null_mut(), &mut e)
            };
            assert_eq!(rc, KAFKA_ERR_INVALID_ARGUMENT);
            unsafe { kafka_instance_free(inst) };
            continue;
        }
        create_topic(&broker, &topic, 1);
        let rc = unsafe { kafka_instance_create_partitions(inst, t.as_ptr(), 3, 10000, &mut e) };
        if rc == KAFKA_ERR_BROKER && e.rdkafka_code == -165 {
            broker_cannot(
                "instance_admin::create_partitions",
                "this broker answers no CreatePartitions (UNSUPPORTED_FEATURE)",
            );
        } else {
            assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
            loop {
                let mut out = null_mut();
                let rc = unsafe {
                    kafka_instance_describe_topic(inst, t.as_ptr(), 5000, &mut out, &mut e)
                };
                assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
                let n = unsafe { kafka_cluster_partition_count(out) };
                unsafe { kafka_cluster_free(out) };
                if n == 3 {
                    break;
                }
                assert!(std::time::Instant::now() < deadline, "still {n} partitions");
                std::thread::sleep(std::time::Duration::from_millis(200));
            }
            let rc =
                unsafe { kafka_instance_create_partitions(inst, t.as_ptr(), 2, 10000, &mut e) };
            assert_eq!(rc, KAFKA_ERR_BROKER, "shrinking: {}", e.message_str());
        }
        produce_unbatched(inst, &topic, 0, 5);
        let mut out = null_mut();
        let rc = unsafe { kafka_instance_describe_topic(inst, t.as_ptr(), 5000, &mut out, &mut e) };
        assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
        let parts = (0..unsafe { kafka_cluster_partition_count(out) } as i32).collect::<Vec<i32>>();
        unsafe { kafka_cluster_free(out) };
        let mut lw = -7i64;
        let rc = unsafe {
            kafka_instance_delete_records(inst, t.as_ptr(), 0, -1, 10000, &mut lw, &mut e)
        };
        // tansu 0.6 implements no DeleteRecords: it drops the connection.
        let unsupported = [-165, -195].contains(&e.rdkafka_code);
        if rc == KAFKA_ERR_BROKER && unsupported {
            broker_cannot(
                "instance_admin::delete_records",
                "this broker answers no DeleteRecords (unsupported, or the connection dropped)",
            );
        } else {
            assert_eq!(rc, KAFKA_OK, "partition 0: {}", e.message_str());
            let mut deleted = lw;
            for p in parts.into_iter().skip(1) {
                let rc = unsafe {
                    kafka_instance_delete_records(inst, t.as_ptr(), p, -1, 10000, &mut lw, &mut e)
                };
                assert_eq!(rc, KAFKA_OK, "partition {p}: {}", e.message_str());
                assert!(lw >= 0, "partition {p}: low watermark {lw}");
                deleted += lw;
            }
            assert_eq!(
                deleted, 5,
                "every record deleted: the low watermarks add up to 5"
            );
        }
        unsafe { kafka_instance_free(inst) };
    }
}

fn partitions_of(inst: *mut KafkaInstance, topic: &str) -> usize {
    let (mut out, mut e, t) = (null_mut(), err(), c(topic));
    let rc = unsafe { kafka_instance_describe_topic(inst, t.as_ptr(), 5000, &mut out, &mut e) };
    assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
    let n = unsafe { kafka_cluster_partition_count(out) };
    unsafe { kafka_cluster_free(out) };
    n
}

/// A topic "orders" with `partitions` partitions of `records` records each.
fn stand_in_with_orders(partitions: usize, records: i64) -> StandIn {
    let p = Partition {
        log_start: 0,
        high_watermark: records,
    };
    let topic = Topic {
        partitions: vec![p; partitions],
        ..Topic::default()
    };
    StandIn::start(&[("orders", topic)])
}

/// Against a broker speaking the Kafka protocol (the stand-in, since
/// neither the embedded broker nor tansu 0.6 answers CreatePartitions): the
/// request carries the topic and the new total, the topic grows, and the
/// broker's refusals (fewer partitions, no such topic) come back as
/// KAFKA_ERR_BROKER with Kafka's code and the broker's own words.
#[test]
fn kafka_instance_create_partitions_grows_a_topic_and_returns_the_brokers_refusal() {
    let _g = serial(); // the first test counts admin clients
    capture_logs();
    println!(
        "against a Kafka-protocol stand-in broker (tests/common/stand_in.rs), not Apache Kafka"
    );
    let broker = stand_in_with_orders(1, 0);
    let inst = instance_from(&[("bootstrap_servers", &broker.bootstrap)]);
    let mut e = err();
    let t = c("orders");
    let rc = unsafe { kafka_instance_create_partitions(inst, t.as_ptr(), 3, 10000, &mut e) };
    assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
    assert_eq!(broker.topic("orders").unwrap().partitions.len(), 3);
    assert_eq!(partitions_of(inst, "orders"), 3, "the description shows it");

    let rc = unsafe { kafka_instance_create_partitions(inst, t.as_ptr(), 2, 10000, &mut e) };
    assert_eq!(rc, KAFKA_ERR_BROKER, "shrinking: {}", e.message_str());
    assert_eq!(
        e.rdkafka_code,
        37,
        "INVALID_PARTITIONS: {}",
        e.message_str()
    );
    assert!(
        e.message_str().contains("Topic currently has 3 partitions"),
        "the broker's words: {}",
        e.message_str()
    );
    assert!(e.message_str().contains("orders"), "{}", e.message_str());

    let missing = c("no-such-topic");
    let rc = unsafe { kafka_instance_create_partitions(inst, missing.as_ptr(), 4, 10000, &mut e) };
    assert_eq!(rc, KAFKA_ERR_BROKER, "{}", e.message_str());
    assert_eq!(
        e.rdkafka_code,
        3,
        "UNKNOWN_TOPIC_OR_PARTITION: {}",
        e.message_str()
    );

    let grow = |topic: &str, count| Request::CreatePartitions {
        topic: topic.into(),
        count,
        validate_only: false,
    };
    assert_eq!(
        broker.requests(),
        [
            grow("orders", 3),
            grow("orders", 2),
            grow("no-such-topic", 4)
        ]
    );
    broker.assert_understood_everything();
    unsafe { kafka_instance_free(inst) };
}

/// Deleting before an offset moves the low watermark there and returns
/// it; -1 deletes everything (the broker's high watermark); an offset past
/// the end and a partition that does not exist are the broker's refusals.
#[test]
fn kafka_instance_delete_records_returns_the_new_low_watermark() {
    let _g = serial(); // the first test counts admin clients
    capture_logs();
    println!(
        "against a Kafka-protocol stand-in broker (tests/common/stand_in.rs), not Apache Kafka"
    );
    let broker = stand_in_with_orders(2, 10);
    let inst = instance_from(&[("bootstrap_servers", &broker.bootstrap)]);
    let t = c("orders");
    let delete = |partition, before| {
        let (mut lw, mut e) = (-7i64, err());
        let rc = unsafe {
            kafka_instance_delete_records(
                inst,
                t.as_ptr(),
                partition,
                before,
                10000,
                &mut lw,
                &mut e,
            )
        };
        (rc, lw, e)
    };
    let (rc, lw, e) = delete(0, 4);
    assert_eq!((rc, lw), (KAFKA_OK, 4), "{}", e.message_str());
    let (rc, lw, e) = delete(1, -1);
    assert_eq!((rc, lw), (KAFKA_OK, 10), "{}", e.message_str());
    let (rc, lw, e) = delete(0, 11);
    assert_eq!(rc, KAFKA_ERR_BROKER, "past the end: {}", e.message_str());
    assert_eq!(
        e.rdkafka_code,
        1,
        "OFFSET_OUT_OF_RANGE: {}",
        e.message_str()
    );
    assert_eq!(lw, -7, "no low watermark written on failure");
    let (rc, _, e) = delete(5, 1);
    assert_ne!(
        rc,
        KAFKA_OK,
        "partition 5 does not exist: {}",
        e.message_str()
    );

    let orders = broker.topic("orders").unwrap();
    assert_eq!(orders.partitions[0].log_start, 4);
    assert_eq!(orders.partitions[1].log_start, 10);
    let sent: Vec<_> = broker
        .requests()
        .into_iter()
        .map(|r| match r {
            Request::DeleteRecords {
                partition, offset, ..
            } => (partition, offset),
            other => panic!("unexpected {other:?}"),
        })
        .collect();
    // Partition 5 is unknown to the client's metadata: librdkafka may
    // refuse it without asking the broker.
    assert_eq!(sent[..3], [(0, 4), (1, -1), (0, 11)], "{sent:?}");
    broker.assert_understood_everything();
    unsafe { kafka_instance_free(inst) };
}

/// A broker that takes the request and never answers: the call returns
/// KAFKA_ERR_TIMEOUT near its timeout, and the instance still works once
/// the broker answers again.
#[test]
fn an_admin_call_to_a_broker_that_stops_answering_times_out() {
    let _g = serial(); // the first test counts admin clients
    capture_logs();
    let broker = stand_in_with_orders(1, 10);
    let inst = instance_from(&[("bootstrap_servers", &broker.bootstrap)]);
    assert_eq!(partitions_of(inst, "orders"), 1);
    broker.stall.store(true, Ordering::Release);
    let t = c("orders");
    let (mut lw, mut e) = (-7i64, err());
    let started = Instant::now();
    let rc =
        unsafe { kafka_instance_delete_records(inst, t.as_ptr(), 0, 3, 1500, &mut lw, &mut e) };
    let took = started.elapsed();
    assert_eq!(rc, KAFKA_ERR_TIMEOUT, "{}", e.message_str());
    assert!(took < Duration::from_secs(6), "returned after {took:?}");
    broker.stall.store(false, Ordering::Release);
    let rc = unsafe { kafka_instance_create_partitions(inst, t.as_ptr(), 2, 10000, &mut e) };
    assert_eq!(rc, KAFKA_OK, "after the stall: {}", e.message_str());
    unsafe { kafka_instance_free(inst) };
}

/// The embedded broker answers no request for a controller (it names
/// broker 0, which it does not have) and no DeleteRecords or group
/// listing: each admin call for one fails at once as unsupported
/// (KAFKA_ERR_BROKER, rdkafka_code -165), where the controller requests
/// used to wait out their whole timeout (-185).
#[test]
fn admin_calls_a_broker_cannot_answer_fail_at_once_as_unsupported() {
    let _g = serial(); // the first test counts admin clients
    let broker = embedded();
    let topic = unique_topic("unanswered");
    create_topic(&broker, &topic, 1);
    let inst = instance(&broker, &[]);
    let (t, g, key, value) = (c(&topic), c("no-group"), c("retention.ms"), c("1000"));
    type Call<'a> = (&'a str, Box<dyn Fn(&mut KafkaError) -> KafkaErrorCode + 'a>);
    let calls: Vec<Call> = vec![
        (
            "create_partitions",
            Box::new(|e| unsafe {
                kafka_instance_create_partitions(inst, t.as_ptr(), 3, 30_000, e)
            }),
        ),
        (
            "create_topic",
            Box::new(|e| unsafe {
                kafka_instance_create_topic(inst, c("fresh").as_ptr(), 1, 1, 30_000, e)
            }),
        ),
        (
            "delete_topic",
            Box::new(|e| unsafe { kafka_instance_delete_topic(inst, t.as_ptr(), 30_000, e) }),
        ),
        (
            "describe_topic_config",
            Box::new(|e| unsafe {
                let mut out = null_mut();
                kafka_instance_describe_topic_config(inst, t.as_ptr(), 30_000, &mut out, e)
            }),
        ),
        (
            "alter_topic_config",
            Box::new(|e| unsafe {
                let (k, v) = ([key.as_ptr()], [value.as_ptr()]);
                kafka_instance_alter_topic_config(
                    inst,
                    t.as_ptr(),
                    k.as_ptr(),
                    v.as_ptr(),
                    1,
                    30_000,
                    e,
                )
            }),
        ),
        (
            "delete_records",
            Box::new(|e| unsafe {
                kafka_instance_delete_records(inst, t.as_ptr(), 0, -1, 30_000, null_mut(), e)
            }),
        ),
        (
            "list_groups",
            Box::new(|e| unsafe {
                let mut out = null_mut();
                kafka_instance_list_groups(inst, 30_000, &mut out, e)
            }),
        ),
        (
            "delete_group",
            Box::new(|e| unsafe { kafka_instance_delete_group(inst, g.as_ptr(), 30_000, e) }),
        ),
    ];
    for (name, call) in &calls {
        let mut e = err();
        let start = Instant::now();
        let rc = call(&mut e);
        let took = start.elapsed();
        assert_eq!(rc, KAFKA_ERR_BROKER, "{name}: {}", e.message_str());
        assert_eq!(
            e.rdkafka_code,
            -165,
            "{name}: unsupported: {}",
            e.message_str()
        );
        // Far below the 30 s each was given: it did not wait for an answer.
        assert!(took < Duration::from_secs(10), "{name} took {took:?}");
    }
    unsafe { kafka_instance_free(inst) };
}

//! Topic administration beyond create/delete: kafka_instance_create_partitions
//! and kafka_instance_delete_records, and the one admin client an instance
//! keeps. The embedded broker answers neither CreatePartitions nor
//! DeleteRecords (said where a person sees it); KAFKA_BOOTSTRAP_SERVERS
//! runs them for real.

#![allow(unsafe_code)] // these tests call the C ABI, as a C program would

mod common;
use common::*;

use std::ptr::null_mut;

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
    let broker = &brokers()[0];
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

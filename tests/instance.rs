//! KafkaInstance: creation rules, admin calls, threads, versions.

#![allow(unsafe_code)] // these tests call the C ABI, as a C program would

mod common;
use common::*;

use std::time::{Duration, Instant};

#[test]
fn no_brokers_is_a_config_error() {
    let cfg = config(&[("client_id", "x"), ("group_id", "g")]);
    let mut e = err();
    let inst = unsafe { kafka_instance_new(cfg, &mut e) };
    assert!(inst.is_null());
    assert_eq!(e.code, KAFKA_ERR_CONFIG);
    assert!(
        e.message_str().contains("kafka_url or bootstrap servers"),
        "{}",
        e.message_str()
    );
    unsafe { kafka_config_free(cfg) };
}

#[test]
fn instance_copies_its_config() {
    let cfg = config(&[("bootstrap_servers", "h:1")]);
    let mut e = err();
    let inst = unsafe { kafka_instance_new(cfg, &mut e) };
    assert!(!inst.is_null(), "{}", e.message_str());
    // Freeing the config does not affect the instance.
    unsafe { kafka_config_free(cfg) };
    let rc = unsafe { kafka_instance_create_topic(inst, c("").as_ptr(), 1, 1, 100, &mut e) };
    assert_eq!(rc, KAFKA_ERR_INVALID_ARGUMENT);
    unsafe {
        kafka_instance_free(inst);
        kafka_instance_free(std::ptr::null_mut());
    }
}

#[test]
fn admin_calls_check_their_arguments() {
    let cfg = config(&[("bootstrap_servers", "127.0.0.1:1")]);
    let mut e = err();
    let inst = unsafe { kafka_instance_new(cfg, &mut e) };
    unsafe {
        for (topic, partitions, rf, timeout) in [
            ("", 1, 1, 100),
            ("bad topic", 1, 1, 100),
            (&*"x".repeat(250), 1, 1, 100),
            ("ok", 0, 1, 100),
            ("ok", 1, 0, 100),
            ("ok", 1, 1, -2),
        ] {
            let rc = kafka_instance_create_topic(
                inst,
                c(topic).as_ptr(),
                partitions,
                rf,
                timeout,
                &mut e,
            );
            assert_eq!(
                rc, KAFKA_ERR_INVALID_ARGUMENT,
                "{topic} {partitions} {rf} {timeout}"
            );
        }
        assert_eq!(
            kafka_instance_delete_topic(inst, c("a/b").as_ptr(), 100, &mut e),
            KAFKA_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            kafka_instance_delete_topic(inst, c("ok").as_ptr(), -7, &mut e),
            KAFKA_ERR_INVALID_ARGUMENT
        );
        kafka_instance_free(inst);
        kafka_config_free(cfg);
    }
}

#[test]
fn admin_calls_to_an_unreachable_broker_end_within_their_timeout() {
    let cfg = config(&[("bootstrap_servers", "127.0.0.1:1")]);
    let mut e = err();
    let inst = unsafe { kafka_instance_new(cfg, &mut e) };
    let start = Instant::now();
    let rc = unsafe { kafka_instance_create_topic(inst, c("t").as_ptr(), 1, 1, 1000, &mut e) };
    assert_eq!(rc, KAFKA_ERR_TIMEOUT, "{}", e.message_str());
    assert!(e.retriable);
    // Generous bound: this checks "no hang", not speed.
    assert!(
        start.elapsed() < Duration::from_secs(20),
        "{:?}",
        start.elapsed()
    );
    unsafe {
        kafka_instance_free(inst);
        kafka_config_free(cfg);
    }
}

/// The embedded broker does not implement CreateTopics/DeleteTopics (use
/// kafka_mock_cluster_create_topic there); a real broker must.
#[test]
fn admin_creates_and_deletes_topics_on_a_real_broker() {
    for broker in brokers() {
        let cfg = config(&[("bootstrap_servers", &broker.bootstrap)]);
        let mut e = err();
        let inst = unsafe { kafka_instance_new(cfg, &mut e) };
        let topic = unique_topic("admin");
        let rc =
            unsafe { kafka_instance_create_topic(inst, c(&topic).as_ptr(), 3, 1, 5000, &mut e) };
        if broker.name == "embedded" {
            // At once, as unsupported (tests/instance_admin.rs).
            assert_eq!(
                (rc, e.rdkafka_code),
                (KAFKA_ERR_BROKER, -165),
                "the mock cluster gained CreateTopics: test it here: {}",
                e.message_str()
            );
        } else {
            assert_eq!(rc, KAFKA_OK, "{}: {}", broker.name, e.message_str());
            let rc = unsafe {
                kafka_instance_create_topic(inst, c(&topic).as_ptr(), 3, 1, 5000, &mut e)
            };
            assert_eq!(rc, KAFKA_ERR_BROKER);
            assert_eq!(
                e.rdkafka_code,
                36,
                "TOPIC_ALREADY_EXISTS: {}",
                e.message_str()
            );
            let rc = unsafe { kafka_instance_delete_topic(inst, c(&topic).as_ptr(), 5000, &mut e) };
            assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
        }
        unsafe {
            kafka_instance_free(inst);
            kafka_config_free(cfg);
        }
    }
}

#[test]
fn one_instance_is_shared_between_threads() {
    struct Shared(*mut KafkaInstance);
    unsafe impl Send for Shared {}
    unsafe impl Sync for Shared {}
    let cfg = config(&[("bootstrap_servers", "127.0.0.1:1")]);
    let mut e = err();
    let inst = Shared(unsafe { kafka_instance_new(cfg, &mut e) });
    std::thread::scope(|scope| {
        for i in 0..4 {
            let inst = &inst;
            scope.spawn(move || {
                let mut e = err();
                let topic = c(&format!("shared-{i}"));
                let rc = unsafe {
                    kafka_instance_create_topic(inst.0, topic.as_ptr(), 1, 1, 300, &mut e)
                };
                assert_eq!(rc, KAFKA_ERR_TIMEOUT, "{}", e.message_str());
            });
        }
    });
    unsafe {
        kafka_instance_free(inst.0);
        kafka_config_free(cfg);
    }
}

fn list_topics(inst: *mut KafkaInstance) -> Vec<String> {
    let mut len = 0usize;
    let mut e = err();
    let rc = unsafe {
        kafka_instance_list_topics(inst, 10000, std::ptr::null_mut(), 0, &mut len, &mut e)
    };
    assert_eq!(
        rc,
        KAFKA_ERR_BUFFER_TOO_SMALL,
        "size query: {}",
        e.message_str()
    );
    let mut buf = vec![0 as std::ffi::c_char; len + 256];
    let rc = unsafe {
        kafka_instance_list_topics(inst, 10000, buf.as_mut_ptr(), buf.len(), &mut len, &mut e)
    };
    assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
    let text = s(buf.as_ptr());
    assert_eq!(text.len(), len);
    assert!(text.is_empty() || text.ends_with('\n'));
    text.lines().map(str::to_owned).collect()
}

#[test]
fn list_topics_names_the_clusters_topics() {
    for broker in brokers() {
        let names = [unique_topic("listed"), unique_topic("listed")];
        for n in &names {
            create_topic(&broker, n, 2);
        }
        let inst = instance(&broker, &[]);
        let listed = list_topics(inst);
        for n in &names {
            assert!(listed.contains(n), "{}: {n} in {listed:?}", broker.name);
        }
        let mut sorted = listed.clone();
        sorted.sort();
        assert_eq!(listed, sorted);
        assert!(
            listed.iter().all(|t| !t.starts_with("__")),
            "internal topics left out"
        );
        // A buffer one byte short: nothing written, the length reported.
        let mut len = 0usize;
        let mut e = err();
        unsafe {
            kafka_instance_list_topics(inst, 10000, std::ptr::null_mut(), 0, &mut len, &mut e)
        };
        let mut small = vec![b'x' as std::ffi::c_char; len];
        let rc = unsafe {
            kafka_instance_list_topics(
                inst,
                10000,
                small.as_mut_ptr(),
                small.len(),
                &mut len,
                &mut e,
            )
        };
        assert_eq!(rc, KAFKA_ERR_BUFFER_TOO_SMALL);
        assert_eq!(small[0], b'x' as std::ffi::c_char);
        unsafe { kafka_instance_free(inst) };
    }
}

#[test]
fn list_topics_fails_promptly_without_a_broker_and_checks_arguments() {
    let cfg = config(&[("bootstrap_servers", "127.0.0.1:1")]);
    let mut e = err();
    let inst = unsafe { kafka_instance_new(cfg, &mut e) };
    let mut len = 0usize;
    let start = Instant::now();
    let rc =
        unsafe { kafka_instance_list_topics(inst, 500, std::ptr::null_mut(), 0, &mut len, &mut e) };
    // librdkafka may fail the metadata request at once when nothing
    // listens (_TRANSPORT, -195) instead of waiting: both are retriable.
    assert!(
        rc == KAFKA_ERR_TIMEOUT || (rc == KAFKA_ERR_BROKER && e.rdkafka_code == -195),
        "{rc:?}: {}",
        e.message_str()
    );
    assert!(e.retriable);
    assert!(start.elapsed() < Duration::from_secs(10));
    let rc =
        unsafe { kafka_instance_list_topics(inst, -5, std::ptr::null_mut(), 0, &mut len, &mut e) };
    assert_eq!(rc, KAFKA_ERR_INVALID_ARGUMENT);
    let rc = unsafe {
        kafka_instance_list_topics(inst, 500, std::ptr::null_mut(), 10, &mut len, &mut e)
    };
    assert_eq!(rc, KAFKA_ERR_INVALID_ARGUMENT);
    unsafe {
        kafka_instance_free(inst);
        kafka_config_free(cfg);
    }
}

#[test]
fn kafka_instance_version_and_librdkafka_version_are_static_strings() {
    assert_eq!(s(kafka_instance_version()), env!("CARGO_PKG_VERSION"));
    let rd = s(kafka_instance_librdkafka_version());
    let parts: Vec<u32> = rd.split('.').map(|p| p.parse().unwrap()).collect();
    assert!(parts.len() == 3 && parts[0] >= 2, "{rd}");
    // Static: the same pointer every time.
    assert_eq!(
        kafka_instance_librdkafka_version(),
        kafka_instance_librdkafka_version()
    );
}

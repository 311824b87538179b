//! Logging: records, levels, callback changes, re-entrancy, threads.
//! The callback is process-global, so these tests run one at a time.

#![allow(unsafe_code)] // these tests call the C ABI, as a C program would

mod common;
use common::*;

use std::ffi::c_void;
use std::sync::atomic::{AtomicUsize, Ordering};

fn install(max: KafkaLogLevel) {
    capture_logs_at(max as i32);
    clear_logged();
}

fn records() -> Vec<Logged> {
    logged()
}

fn fail_once(marker: &str) {
    let cfg = kafka_config_new();
    let mut e = err();
    unsafe {
        kafka_config_set(cfg, c(marker).as_ptr(), c("1").as_ptr(), &mut e);
        kafka_config_free(cfg);
    }
}

#[test]
fn every_returned_failure_is_logged_with_controller_subject_and_payload() {
    let _g = serial();
    install(KafkaLogLevel::KAFKA_LOG_DEBUG);
    fail_once("marker.one");
    let r = records();
    let rec = r
        .iter()
        .find(|r| r.message.contains("marker.one"))
        .expect("logged");
    assert_eq!(rec.level, 3);
    assert_eq!(rec.controller, "kafka_instance.config.set");
    assert_eq!(rec.subject, "Kafka Config");
    let payload: serde_json::Value =
        serde_json::from_str(rec.payload_json.as_deref().unwrap()).unwrap();
    assert_eq!(payload["code"], "KAFKA_ERR_CONFIG");
    assert_eq!(payload["rdkafka_code"], 0);
    // A NULL argument is a failure too.
    unsafe {
        kafka_config_set(
            std::ptr::null_mut(),
            c("k").as_ptr(),
            c("v").as_ptr(),
            std::ptr::null_mut(),
        )
    };
    assert!(records()
        .iter()
        .any(|r| r.message == "cfg is NULL" && r.level == 3));
}

#[test]
fn lookups_that_find_nothing_are_debug_records_not_errors() {
    let _g = serial();
    install(KafkaLogLevel::KAFKA_LOG_DEBUG);
    let cfg = kafka_config_new();
    let mut e = err();
    let rc = unsafe {
        kafka_config_get(
            cfg,
            c("group_id").as_ptr(),
            std::ptr::null_mut(),
            0,
            std::ptr::null_mut(),
            &mut e,
        )
    };
    assert_eq!(rc, KAFKA_ERR_NOT_FOUND);
    let r = records();
    let rec = r
        .iter()
        .find(|r| r.controller == "kafka_instance.config.get")
        .expect("logged");
    assert_eq!(rec.level, 7);
    unsafe { kafka_config_free(cfg) };
}

#[test]
fn max_level_filters_and_below_error_is_off() {
    let _g = serial();
    install(KafkaLogLevel::KAFKA_LOG_ERROR);
    let mut e = err();
    let mc = unsafe { kafka_mock_cluster_new(1, &mut e) };
    fail_once("marker.two");
    let r = records();
    assert!(r.iter().all(|r| r.level <= 3), "{r:?}");
    assert!(r.iter().any(|r| r.message.contains("marker.two")));
    unsafe { kafka_mock_cluster_free(mc) };

    install(KafkaLogLevel::KAFKA_LOG_INFO);
    let mc = unsafe { kafka_mock_cluster_new(1, &mut e) };
    assert!(
        records()
            .iter()
            .any(|r| r.level == 6 && r.subject == "Kafka Mock Cluster"),
        "{:?}",
        records()
    );
    unsafe { kafka_mock_cluster_free(mc) };

    capture_logs_at(0);
    clear_logged();
    fail_once("marker.three");
    assert!(records().is_empty());
    // Unknown levels above debug mean everything.
    install(KafkaLogLevel::KAFKA_LOG_DEBUG);
    capture_logs_at(1000);
    fail_once("marker.four");
    assert!(records().iter().any(|r| r.message.contains("marker.four")));
}

static OLD_CALLS: AtomicUsize = AtomicUsize::new(0);
unsafe extern "C" fn old_callback(_: *const KafkaLogRecord, opaque: *mut c_void) {
    assert_eq!(opaque as usize, 0x5eed);
    OLD_CALLS.fetch_add(1, Ordering::SeqCst);
}

#[test]
fn a_replaced_callback_is_never_called_again_and_gets_its_opaque() {
    let _g = serial();
    kafka_set_log_callback(
        Some(old_callback),
        0x5eed as *mut c_void,
        KafkaLogLevelArg(7),
    );
    fail_once("marker.five");
    let before = OLD_CALLS.load(Ordering::SeqCst);
    assert!(before >= 1);
    install(KafkaLogLevel::KAFKA_LOG_DEBUG);
    fail_once("marker.six");
    assert_eq!(OLD_CALLS.load(Ordering::SeqCst), before);
    assert!(records().iter().any(|r| r.message.contains("marker.six")));
}

unsafe extern "C" fn reentrant(r: *const KafkaLogRecord, _: *mut c_void) {
    unsafe { CAPTURE.unwrap()(r, std::ptr::null_mut()) };
    // Calling into the library from the callback: allowed. Its own failure
    // records go to stderr instead of recursing.
    let cfg = kafka_config_new();
    unsafe {
        kafka_config_set(
            cfg,
            c("nested.failure").as_ptr(),
            c("1").as_ptr(),
            std::ptr::null_mut(),
        );
        kafka_config_free(cfg);
    }
    // Changing the callback from inside it would wait for itself: ignored.
    kafka_set_log_callback(None, std::ptr::null_mut(), KafkaLogLevelArg(0));
}

#[test]
fn a_callback_may_call_into_the_library() {
    let _g = serial();
    kafka_set_log_callback(Some(reentrant), std::ptr::null_mut(), KafkaLogLevelArg(7));
    clear_logged();
    fail_once("marker.seven");
    fail_once("marker.eight");
    let r = records();
    assert!(r.iter().any(|r| r.message.contains("marker.seven")));
    assert!(
        r.iter().any(|r| r.message.contains("marker.eight")),
        "the callback was not replaced"
    );
    assert!(
        !r.iter().any(|r| r.message.contains("nested.failure")),
        "nested records go to stderr"
    );
}

#[test]
fn callbacks_change_while_other_threads_log() {
    let _g = serial();
    install(KafkaLogLevel::KAFKA_LOG_DEBUG);
    std::thread::scope(|scope| {
        for t in 0..4 {
            scope.spawn(move || {
                for i in 0..300 {
                    fail_once(&format!("thread.{t}.{i}"));
                }
            });
        }
        for i in 0..200 {
            if i % 2 == 0 {
                capture_logs_at(7);
            } else {
                kafka_set_log_callback(
                    Some(old_callback),
                    0x5eed as *mut c_void,
                    KafkaLogLevelArg(7),
                );
            }
        }
        install(KafkaLogLevel::KAFKA_LOG_DEBUG);
    });
    // Every record that arrived is whole.
    for r in records() {
        assert!(!r.message.is_empty() && !r.controller.is_empty() && !r.subject.is_empty());
        if let Some(p) = r.payload_json {
            serde_json::from_str::<serde_json::Value>(&p).unwrap();
        }
    }
}

#[test]
fn librdkafka_lines_arrive_through_the_callback() {
    let _g = serial();
    install(KafkaLogLevel::KAFKA_LOG_DEBUG);
    let cfg = config(&[("bootstrap_servers", "127.0.0.1:1"), ("debug", "broker")]);
    let mut e = err();
    let inst = unsafe { kafka_instance_new(cfg, &mut e) };
    let p = unsafe { kafka_instance_get_producer(inst, std::ptr::null(), &mut e) };
    assert!(!p.is_null(), "{}", e.message_str());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let found = loop {
        let r = records();
        if let Some(rec) = r.iter().find(|r| r.subject == "librdkafka") {
            break Some(rec.clone());
        }
        if std::time::Instant::now() > deadline {
            break None;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let rec = found.expect("a librdkafka log line within 10 s");
    assert!(rec.controller.starts_with("librdkafka."), "{rec:?}");
    let payload: serde_json::Value =
        serde_json::from_str(rec.payload_json.as_deref().unwrap()).unwrap();
    assert!(payload["facility"].is_string());
    unsafe {
        kafka_producer_close(p, 0, std::ptr::null_mut());
        kafka_instance_free(inst);
        kafka_config_free(cfg);
    }
}

/// An instance whose bootstrap server is a loopback port nothing listens
/// on, with `settings` too.
fn instance_without_broker(settings: &[(&str, &str)]) -> *mut KafkaInstance {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let servers = format!("127.0.0.1:{port}");
    let mut all = vec![("bootstrap_servers", servers.as_str())];
    all.extend_from_slice(settings);
    instance_from(&all)
}

/// A client whose broker stays down repeats the same librdkafka records in
/// a loop ("brokers are down", a refused connection): each goes out once
/// per 10 s per client, instead of every 50 ms. A second client's first
/// record still goes out.
#[test]
fn records_a_client_repeats_go_out_once_per_interval() {
    let _g = serial();
    install(KafkaLogLevel::KAFKA_LOG_WARNING);
    let inst = instance_without_broker(&[
        ("reconnect_backoff_ms", "10"),
        ("reconnect_backoff_max_ms", "10"),
    ]);
    let mut e = err();
    let p = unsafe { kafka_instance_get_producer(inst, std::ptr::null(), &mut e) };
    std::thread::sleep(std::time::Duration::from_secs(3));
    let down = |r: &Logged| r.message.contains("brokers are down");
    let first = records().iter().filter(|r| down(r)).count();
    assert!(
        (1..=2).contains(&first),
        "one 'brokers are down' record (two: 1/1 and 0/1), not one per reconnect: {first}"
    );
    let q = unsafe { kafka_instance_get_producer(inst, std::ptr::null(), &mut e) };
    std::thread::sleep(std::time::Duration::from_secs(2));
    let both = records().iter().filter(|r| down(r)).count();
    assert!(
        both > first,
        "the second client's own first record went out"
    );
    assert!(
        both <= 2 * first,
        "and its repeats were held back too: {both}"
    );
    unsafe {
        kafka_producer_close(p, 0, std::ptr::null_mut());
        kafka_producer_close(q, 0, std::ptr::null_mut());
        kafka_instance_free(inst);
    }
}

/// A full queue is an outcome the caller handles (it retries): logged at
/// debug, never at error.
#[test]
fn a_full_queue_is_a_debug_record() {
    let _g = serial();
    install(KafkaLogLevel::KAFKA_LOG_DEBUG);
    let inst = instance_without_broker(&[("queue.buffering.max.messages", "1")]);
    let mut e = err();
    let p = unsafe { kafka_instance_get_producer(inst, std::ptr::null(), &mut e) };
    let (t, v) = (c("full"), c("{}"));
    let mut full = 0;
    for _ in 0..5 {
        let rc = unsafe {
            kafka_producer_send_json(p, t.as_ptr(), std::ptr::null(), v.as_ptr(), &mut e)
        };
        if rc == KAFKA_ERR_QUEUE_FULL {
            full += 1;
        }
    }
    assert!(full >= 4, "the queue holds one message");
    let r = records();
    let records_of_full: Vec<_> = r
        .iter()
        .filter(|r| {
            r.payload_json
                .as_deref()
                .is_some_and(|p| p.contains("KAFKA_ERR_QUEUE_FULL"))
        })
        .collect();
    assert_eq!(records_of_full.len(), full, "each logged");
    assert!(
        records_of_full.iter().all(|r| r.level == 7),
        "at debug: {records_of_full:?}"
    );
    unsafe {
        kafka_producer_close(p, 0, std::ptr::null_mut());
        kafka_instance_free(inst);
    }
}

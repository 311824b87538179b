//! Close, flush and free keep their timeouts whatever the application's
//! callbacks do: a statistics callback slower than its interval, a slow
//! log callback, a token callback that takes its time. Each test bounds
//! how long a call may take with a wide margin: it checks for a hang (the
//! calls used to wait for ever), not for speed.

#![allow(unsafe_code)] // these tests call the C ABI, as a C program would

mod common;
use common::producer::*;
use common::*;

use std::ffi::{c_char, c_int, c_void};
use std::ptr::{null, null_mut};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How much longer than its own timeout a call may take here: scheduling
/// on a loaded machine, and one callback already running.
const MARGIN: Duration = Duration::from_secs(3);

static STATISTICS_CALLS: AtomicUsize = AtomicUsize::new(0);

/// 150 ms per report, every 100 ms: slower than the interval.
unsafe extern "C" fn slow_statistics(
    _: *const c_char,
    _: usize,
    _: *const KafkaStatistics,
    _: *mut c_void,
) {
    STATISTICS_CALLS.fetch_add(1, Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(150));
}

fn instance_with_slow_statistics(broker: &Broker) -> *mut KafkaInstance {
    let cfg = config(&[
        ("bootstrap_servers", &broker.bootstrap),
        ("group_id", &unique_topic("g")),
        ("auto_offset_reset", "earliest"),
    ]);
    let mut e = err();
    let rc = unsafe {
        kafka_set_statistics_callback(cfg, 100, Some(slow_statistics), null_mut(), &mut e)
    };
    assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
    let inst = unsafe { kafka_instance_new(cfg, &mut e) };
    assert!(!inst.is_null(), "{}", e.message_str());
    unsafe { kafka_config_free(cfg) };
    inst
}

fn bounded<T>(what: &str, limit: Duration, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let out = f();
    let took = start.elapsed();
    assert!(
        took <= limit + MARGIN,
        "{what} took {took:?}, beyond its {limit:?} (and {MARGIN:?} of margin)"
    );
    out
}

#[test]
fn kafka_producer_close_keeps_its_timeout_behind_a_statistics_callback_slower_than_its_interval() {
    let _serial = serial();
    for broker in brokers() {
        let topic = unique_topic("slow-stats");
        create_topic(&broker, &topic, 1);
        let inst = instance_with_slow_statistics(&broker);
        let p = producer(inst, &[]);
        let t = common::c(&topic);
        // Let reports pile up behind the callback first.
        std::thread::sleep(Duration::from_millis(1500));
        let mut e = err();
        for i in 0..20 {
            let v = common::c(&format!("{{\"n\":{i}}}"));
            let rc = unsafe { kafka_producer_send_json(p, t.as_ptr(), null(), v.as_ptr(), &mut e) };
            assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
        }
        let rc = bounded("flush(2000)", Duration::from_millis(2000), || unsafe {
            kafka_producer_flush(p, 2000, null_mut(), &mut e)
        });
        assert_eq!(rc, KAFKA_OK, "{}: {}", broker.name, e.message_str());
        let before = STATISTICS_CALLS.load(Ordering::SeqCst);
        assert!(before > 0, "the statistics callback ran");
        let rc = bounded("close(500)", Duration::from_millis(500), || unsafe {
            kafka_producer_close(p, 500, &mut e)
        });
        assert_eq!(rc, KAFKA_OK, "{}: {}", broker.name, e.message_str());
        bounded("instance free", Duration::ZERO, || unsafe {
            kafka_instance_free(inst)
        });
    }
}

#[test]
fn kafka_consumer_close_and_instance_free_keep_their_bounds_behind_a_slow_statistics_callback() {
    let _serial = serial();
    for broker in brokers() {
        let topic = unique_topic("slow-stats-c");
        create_topic(&broker, &topic, 1);
        let inst = instance_with_slow_statistics(&broker);
        produce_unbatched(inst, &topic, 0, 5);
        let cons = consumer(inst, &[&topic], &[("default_api_timeout_ms", "2000")]);
        let got = poll_messages(cons, 5, Duration::from_secs(30), json_n);
        assert_eq!(got.len(), 5, "{}", broker.name);
        std::thread::sleep(Duration::from_millis(1000));
        bounded("consumer close", Duration::from_millis(2000), || {
            close_consumer(cons)
        });
        // The instance's admin client reports too.
        let (mut len, mut e) = (0usize, err());
        let rc =
            unsafe { kafka_instance_list_topics(inst, 10_000, null_mut(), 0, &mut len, &mut e) };
        assert!(
            rc == KAFKA_OK || rc == KAFKA_ERR_BUFFER_TOO_SMALL,
            "{}",
            e.message_str()
        );
        std::thread::sleep(Duration::from_millis(1000));
        bounded("instance free", Duration::ZERO, || unsafe {
            kafka_instance_free(inst)
        });
    }
}

static LOG_CALLS: AtomicUsize = AtomicUsize::new(0);

unsafe extern "C" fn slow_log(_: *const KafkaLogRecord, _: *mut c_void) {
    LOG_CALLS.fetch_add(1, Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(150));
}

#[test]
fn close_and_free_keep_their_bounds_behind_a_slow_log_callback() {
    let _serial = serial();
    for broker in brokers() {
        let topic = unique_topic("slow-log");
        create_topic(&broker, &topic, 1);
        let inst = instance(&broker, &[("group_id", &unique_topic("g"))]);
        kafka_set_log_callback(
            Some(slow_log),
            null_mut(),
            KafkaLogLevelArg(KafkaLogLevel::KAFKA_LOG_INFO as i32),
        );
        let p = producer(inst, &[]);
        let t = common::c(&topic);
        let mut e = err();
        for i in 0..20 {
            let v = common::c(&format!("{{\"n\":{i}}}"));
            let rc = unsafe { kafka_producer_send_json(p, t.as_ptr(), null(), v.as_ptr(), &mut e) };
            assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
        }
        let rc = bounded(
            "producer close(2000)",
            Duration::from_millis(2000),
            || unsafe { kafka_producer_close(p, 2000, &mut e) },
        );
        assert_eq!(rc, KAFKA_OK, "{}: {}", broker.name, e.message_str());
        let cons = consumer(inst, &[&topic], &[("default_api_timeout_ms", "2000")]);
        poll_messages(cons, 1, Duration::from_secs(10), json_n);
        bounded("consumer close", Duration::from_millis(2000), || {
            close_consumer(cons)
        });
        bounded("instance free", Duration::ZERO, || unsafe {
            kafka_instance_free(inst)
        });
        capture_logs();
        assert!(LOG_CALLS.load(Ordering::SeqCst) > 0, "the log callback ran");
    }
}

unsafe extern "C" fn slow_token(
    _: *const c_char,
    token: *mut KafkaOAuthToken,
    _: *mut c_void,
) -> c_int {
    std::thread::sleep(Duration::from_secs(8));
    unsafe { (*token).error = c"no token today".as_ptr() };
    1
}

#[test]
fn close_and_free_keep_their_bounds_while_a_token_callback_runs() {
    let _serial = serial();
    let broker = embedded();
    let cfg = config(&[
        ("bootstrap_servers", &broker.bootstrap),
        ("security_protocol", "SASL_PLAINTEXT"),
        ("sasl_mechanism", "OAUTHBEARER"),
        ("group_id", &unique_topic("g")),
    ]);
    let mut e = err();
    let rc = unsafe {
        kafka_config_set_oauthbearer_token_callback(cfg, Some(slow_token), null_mut(), &mut e)
    };
    assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
    let inst = unsafe { kafka_instance_new(cfg, &mut e) };
    assert!(!inst.is_null(), "{}", e.message_str());
    unsafe { kafka_config_free(cfg) };
    let p = producer(inst, &[]);
    let topic = common::c(&unique_topic("slow-token"));
    let v = common::c("{}");
    let rc = unsafe { kafka_producer_send_json(p, topic.as_ptr(), null(), v.as_ptr(), &mut e) };
    assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
    // The token callback is asleep now; close purges the message.
    let rc = bounded(
        "producer close(500)",
        Duration::from_millis(500),
        || unsafe { kafka_producer_close(p, 500, &mut e) },
    );
    assert_eq!(rc, KAFKA_ERR_TIMEOUT, "{}", e.message_str());
    let cons = consumer(
        inst,
        &[&unique_topic("slow-token")],
        &[("default_api_timeout_ms", "1000")],
    );
    std::thread::sleep(Duration::from_millis(200));
    let start = Instant::now();
    let mut e = err();
    let _ = unsafe { kafka_consumer_close(cons, &mut e) };
    let took = start.elapsed();
    assert!(
        took <= Duration::from_millis(1000) + MARGIN,
        "consumer close took {took:?}"
    );
    bounded("instance free", Duration::ZERO, || unsafe {
        kafka_instance_free(inst)
    });
}

/// What the statistics callback below found when it called back in.
struct CallsBackIn {
    producer: std::sync::atomic::AtomicPtr<KafkaProducer>,
    codes: std::sync::Mutex<Vec<KafkaErrorCode>>,
}

unsafe extern "C" fn flush_own_producer(
    _: *const c_char,
    _: usize,
    _: *const KafkaStatistics,
    opaque: *mut c_void,
) {
    let me = unsafe { &*(opaque as *const CallsBackIn) };
    let p = me.producer.load(Ordering::Acquire);
    if p.is_null() {
        return;
    }
    let mut e = err();
    let rc = unsafe { kafka_producer_flush(p, 1000, null_mut(), &mut e) };
    me.codes.lock().unwrap().push(rc);
}

/// A statistics callback may call into the library, except to wait for
/// or close the client it reports on: that is refused with
/// KAFKA_ERR_STATE (its thread is the client's own), as from its other
/// callbacks.
#[test]
fn a_statistics_callback_flushing_its_own_producer_is_refused() {
    let _serial = serial();
    let broker = embedded();
    let me = CallsBackIn {
        producer: std::sync::atomic::AtomicPtr::new(std::ptr::null_mut()),
        codes: std::sync::Mutex::new(Vec::new()),
    };
    let cfg = config(&[("bootstrap_servers", &broker.bootstrap)]);
    let mut e = err();
    let opaque = &me as *const CallsBackIn as *mut c_void;
    let rc = unsafe {
        kafka_set_statistics_callback(cfg, 100, Some(flush_own_producer), opaque, &mut e)
    };
    assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
    let inst = unsafe { kafka_instance_new(cfg, &mut e) };
    assert!(!inst.is_null(), "{}", e.message_str());
    unsafe { kafka_config_free(cfg) };
    let p = producer(inst, &[]);
    me.producer.store(p, Ordering::Release);
    let deadline = Instant::now() + Duration::from_secs(10);
    while me.codes.lock().unwrap().is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    me.producer.store(std::ptr::null_mut(), Ordering::Release);
    // A callback that read the pointer just before is done with it soon
    // after: its flush is refused at once.
    std::thread::sleep(Duration::from_millis(300));
    let codes = me.codes.lock().unwrap().clone();
    assert!(!codes.is_empty(), "the statistics callback ran");
    assert!(codes.iter().all(|c| *c == KAFKA_ERR_STATE), "{codes:?}");
    close(p);
    unsafe { kafka_instance_free(inst) };
}

//! Many threads on one instance and one producer, with consumers created
//! and closed concurrently: everything delivered, no deadlock, and no
//! delivery callback after close returns.

#![allow(unsafe_code)] // these tests call the C ABI, as a C program would

mod common;
use common::*;

use std::ffi::c_void;
use std::ptr::null;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

struct Shared(*mut KafkaInstance, *mut KafkaProducer);
unsafe impl Sync for Shared {}

#[derive(Default)]
struct Watch {
    delivered: AtomicUsize,
    closed: AtomicBool,
    after_close: AtomicUsize,
}

unsafe extern "C" fn watch(r: *const KafkaDeliveryReport, opaque: *mut c_void) {
    let w = unsafe { &*(opaque as *const Watch) };
    if w.closed.load(Ordering::SeqCst) {
        w.after_close.fetch_add(1, Ordering::SeqCst);
    }
    if unsafe { (*r).code } == KAFKA_OK {
        w.delivered.fetch_add(1, Ordering::SeqCst);
    }
    // A slow callback widens any window in which one could outlive close.
    std::thread::sleep(Duration::from_micros(50));
}

#[test]
fn eight_threads_one_producer_and_consumers_coming_and_going() {
    const THREADS: usize = 8;
    const EACH: usize = 2_000;
    let broker = embedded();
    let topic = unique_topic("threads");
    create_topic(&broker, &topic, 6);
    let inst = instance(
        &broker,
        &[
            ("group_id", &unique_topic("g")),
            ("session_timeout_ms", "6000"),
        ],
    );
    let mut e = err();
    let p = unsafe { kafka_instance_get_producer(inst, null(), &mut e) };
    assert!(!p.is_null());
    let shared = Shared(inst, p);
    let w = Watch::default();
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            let (shared, w, topic) = (&shared, &w, &topic);
            scope.spawn(move || {
                let topic_c = c(topic);
                for i in 0..EACH {
                    let v = format!("{{\"t\":{t},\"i\":{i}}}");
                    let mut r = empty_record(&topic_c);
                    r.value = v.as_ptr().cast();
                    r.value_len = v.len();
                    let mut e = err();
                    loop {
                        let rc = unsafe {
                            kafka_producer_send(
                                shared.1,
                                &r,
                                Some(watch),
                                w as *const Watch as *mut c_void,
                                &mut e,
                            )
                        };
                        if rc != KAFKA_ERR_QUEUE_FULL {
                            assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
                            break;
                        }
                        std::thread::sleep(Duration::from_millis(1));
                    }
                }
            });
        }
        // Meanwhile, consumers come and go on the same instance.
        for _ in 0..2 {
            let (shared, topic) = (&shared, &topic);
            scope.spawn(move || {
                let t = c(topic);
                let list = [t.as_ptr()];
                for _ in 0..3 {
                    let mut e = err();
                    let cons = unsafe {
                        kafka_instance_get_consumer(shared.0, list.as_ptr(), 1, null(), &mut e)
                    };
                    assert!(!cons.is_null(), "{}", e.message_str());
                    let _ = poll_messages(cons, 5, Duration::from_millis(300), |_| ());
                    assert_eq!(
                        unsafe { kafka_consumer_close(cons, &mut e) },
                        KAFKA_OK,
                        "{}",
                        e.message_str()
                    );
                }
            });
        }
    });
    let mut e = err();
    // Close while the tail of the stream may still be in flight.
    assert_eq!(
        unsafe { kafka_producer_close(shared.1, 30_000, &mut e) },
        KAFKA_OK,
        "{}",
        e.message_str()
    );
    w.closed.store(true, Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        w.after_close.load(Ordering::SeqCst),
        0,
        "no callback after close returned"
    );
    assert_eq!(
        w.delivered.load(Ordering::SeqCst),
        THREADS * EACH,
        "all delivered"
    );
    let got = read_back(
        &broker.bootstrap,
        &topic,
        THREADS * EACH,
        Duration::from_secs(60),
    );
    assert_eq!(got.len(), THREADS * EACH);
    unsafe { kafka_instance_free(shared.0) };
}

//! Making, sharing and closing producers: settings merged over the
//! instance's, a producer outliving its instance, many threads sharing
//! one, scoped producers.

use super::*;

#[test]
fn overrides_merge_over_the_instance_and_consumer_settings_are_refused() {
    let broker = embedded();
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
    let broker = embedded();
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
    let broker = embedded();
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

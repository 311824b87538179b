//! NULL cases of the producer functions.

use super::*;

unsafe extern "C" fn noop_scope(
    _: *mut KafkaProducer,
    _: *mut std::ffi::c_void,
) -> std::ffi::c_int {
    0
}

/// Runs `f` with a producer whose broker is unreachable.
fn with_producer(f: impl FnOnce(*mut KafkaProducer)) {
    with_instance(|inst| unsafe {
        let mut e = err();
        let p = kafka_instance_get_producer(inst, null(), &mut e);
        assert!(!p.is_null(), "{}", e.message_str());
        f(p);
        kafka_producer_close(p, 0, null_mut());
    })
}

pub(crate) fn producer_cases(v: &mut Vec<Case>) {
    case!(v, kafka_instance_get_producer, || unsafe {
        let mut e = err();
        assert!(kafka_instance_get_producer(null_mut(), null(), &mut e).is_null());
        invalid(e.code, &e, "inst");
    });
    case!(v, kafka_producer_send_json, || with_producer(|p| unsafe {
        let (t, j) = (c("t"), c("{}"));
        let mut e = err();
        invalid(
            kafka_producer_send_json(null_mut(), t.as_ptr(), null(), j.as_ptr(), &mut e),
            &e,
            "p",
        );
        invalid(
            kafka_producer_send_json(p, null(), null(), j.as_ptr(), &mut e),
            &e,
            "topic",
        );
        invalid(
            kafka_producer_send_json(p, t.as_ptr(), null(), null(), &mut e),
            &e,
            "json",
        );
        // key NULL means no key: not an error (the broker is unreachable,
        // so the message just waits in the queue until close).
        assert_eq!(
            kafka_producer_send_json(p, t.as_ptr(), null(), j.as_ptr(), &mut e),
            KAFKA_OK
        );
    }));
    case!(v, kafka_producer_send_json_sync, || with_producer(
        |p| unsafe {
            let (t, j) = (c("t"), c("{}"));
            let mut e = err();
            invalid(
                kafka_producer_send_json_sync(
                    null_mut(),
                    t.as_ptr(),
                    null(),
                    j.as_ptr(),
                    10,
                    null_mut(),
                    &mut e,
                ),
                &e,
                "p",
            );
            invalid(
                kafka_producer_send_json_sync(
                    p,
                    null(),
                    null(),
                    j.as_ptr(),
                    10,
                    null_mut(),
                    &mut e,
                ),
                &e,
                "topic",
            );
            invalid(
                kafka_producer_send_json_sync(
                    p,
                    t.as_ptr(),
                    null(),
                    null(),
                    10,
                    null_mut(),
                    &mut e,
                ),
                &e,
                "json",
            );
            // report NULL is allowed.
            assert_eq!(
                kafka_producer_send_json_sync(
                    p,
                    t.as_ptr(),
                    null(),
                    j.as_ptr(),
                    10,
                    null_mut(),
                    &mut e
                ),
                KAFKA_ERR_TIMEOUT
            );
        }
    ));
    case!(v, kafka_producer_send, || with_producer(|p| unsafe {
        let t = c("t");
        let r = KafkaRecord {
            topic: t.as_ptr(),
            key: null(),
            key_len: 0,
            value: null(),
            value_len: 0,
            headers: null(),
            header_count: 0,
            has_partition: false,
            partition: 0,
            timestamp_ms: 0,
        };
        let mut e = err();
        invalid(
            kafka_producer_send(null_mut(), &r, None, null_mut(), &mut e),
            &e,
            "p",
        );
        invalid(
            kafka_producer_send(p, null(), None, null_mut(), &mut e),
            &e,
            "record",
        );
        let no_topic = KafkaRecord { topic: null(), ..r };
        invalid(
            kafka_producer_send(p, &no_topic, None, null_mut(), &mut e),
            &e,
            "record->topic",
        );
        // cb and opaque NULL are allowed.
        assert_eq!(
            kafka_producer_send(p, &r, None, null_mut(), &mut e),
            KAFKA_OK
        );
    }));
    case!(v, kafka_producer_send_sync, || with_producer(|p| unsafe {
        let t = c("t");
        let r = KafkaRecord {
            topic: t.as_ptr(),
            key: null(),
            key_len: 0,
            value: null(),
            value_len: 0,
            headers: null(),
            header_count: 0,
            has_partition: false,
            partition: 0,
            timestamp_ms: 0,
        };
        let mut e = err();
        invalid(
            kafka_producer_send_sync(null_mut(), &r, 10, null_mut(), &mut e),
            &e,
            "p",
        );
        invalid(
            kafka_producer_send_sync(p, null(), 10, null_mut(), &mut e),
            &e,
            "record",
        );
    }));
    case!(v, kafka_producer_flush, || with_producer(|p| unsafe {
        let mut e = err();
        invalid(
            kafka_producer_flush(null_mut(), 10, null_mut(), &mut e),
            &e,
            "p",
        );
        assert_eq!(kafka_producer_flush(p, 10, null_mut(), &mut e), KAFKA_OK);
    }));
    case!(v, kafka_producer_init_transactions, || unsafe {
        let mut e = err();
        let rc = kafka_producer_init_transactions(null_mut(), 10, &mut e);
        invalid(rc, &e, "p");
    });
    case!(v, kafka_producer_begin_transaction, || unsafe {
        let mut e = err();
        invalid(
            kafka_producer_begin_transaction(null_mut(), &mut e),
            &e,
            "p",
        );
    });
    case!(v, kafka_producer_send_offsets_to_transaction, || unsafe {
        let mut e = err();
        let rc =
            kafka_producer_send_offsets_to_transaction(null_mut(), null_mut(), null(), 10, &mut e);
        invalid(rc, &e, "p");
        with_producer(|p| {
            let rc = kafka_producer_send_offsets_to_transaction(p, null_mut(), null(), 10, &mut e);
            assert!(rc != KAFKA_OK, "{}", e.message_str());
        });
    });
    case!(v, kafka_producer_commit_transaction, || unsafe {
        let mut e = err();
        let rc = kafka_producer_commit_transaction(null_mut(), 10, &mut e);
        invalid(rc, &e, "p");
    });
    case!(v, kafka_producer_abort_transaction, || unsafe {
        let mut e = err();
        let rc = kafka_producer_abort_transaction(null_mut(), 10, &mut e);
        invalid(rc, &e, "p");
    });
    case!(v, kafka_producer_fatal_error, || unsafe {
        assert!(!kafka_producer_fatal_error(null(), null_mut()));
    });
    case!(v, kafka_producer_purge, || unsafe {
        let mut e = err();
        invalid(
            kafka_producer_purge(null_mut(), true, true, &mut e),
            &e,
            "p",
        );
    });
    case!(v, kafka_producer_send_batch, || unsafe {
        let mut e = err();
        let rc = kafka_producer_send_batch(null_mut(), null(), 1, None, null(), null_mut(), &mut e);
        invalid(rc, &e, "p");
        with_producer(|p| {
            let rc = kafka_producer_send_batch(p, null(), 1, None, null(), null_mut(), &mut e);
            invalid(rc, &e, "records");
            // Zero records: nothing to do.
            let rc = kafka_producer_send_batch(p, null(), 0, None, null(), null_mut(), &mut e);
            assert_eq!(rc, KAFKA_OK);
        });
    });
    case!(v, kafka_producer_send_json_batch, || unsafe {
        let mut e = err();
        let rc = kafka_producer_send_json_batch(
            null_mut(),
            null(),
            null(),
            null(),
            1,
            None,
            null(),
            null_mut(),
            &mut e,
        );
        invalid(rc, &e, "p");
        with_producer(|p| {
            let t = c("t");
            let rc = kafka_producer_send_json_batch(
                p,
                t.as_ptr(),
                null(),
                null(),
                1,
                None,
                null(),
                null_mut(),
                &mut e,
            );
            invalid(rc, &e, "values");
        });
    });
    case!(v, kafka_producer_send_json_array, || unsafe {
        let mut e = err();
        let mut results = [KAFKA_OK; 2];
        let rc = kafka_producer_send_json_array(
            null_mut(),
            null(),
            null(),
            null(),
            2,
            None,
            null(),
            results.as_mut_ptr(),
            &mut e,
        );
        invalid(rc, &e, "p");
        assert_eq!(
            results, [KAFKA_ERR_INVALID_ARGUMENT; 2],
            "every result written"
        );
        with_producer(|p| {
            let t = c("t");
            for (topic, name) in [(null(), "topic"), (t.as_ptr(), "values_json")] {
                let rc = kafka_producer_send_json_array(
                    p,
                    topic,
                    null(),
                    null(),
                    1,
                    None,
                    null(),
                    null_mut(),
                    &mut e,
                );
                invalid(rc, &e, name);
            }
        });
    });
    case!(v, kafka_producer_send_wait, || unsafe {
        let mut e = err();
        let rc = kafka_producer_send_wait(null_mut(), null(), None, null_mut(), 10, &mut e);
        invalid(rc, &e, "p");
        with_producer(|p| {
            let rc = kafka_producer_send_wait(p, null(), None, null_mut(), 10, &mut e);
            invalid(rc, &e, "record");
        });
    });
    case!(v, kafka_producer_in_flight, || assert_eq!(
        unsafe { kafka_producer_in_flight(null()) },
        0
    ));
    case!(v, kafka_producer_close, || unsafe {
        let mut e = err();
        assert_eq!(kafka_producer_close(null_mut(), 10, &mut e), KAFKA_OK);
    });
    case!(v, kafka_instance_with_producer, || with_instance(
        |inst| unsafe {
            let mut e = err();
            invalid(
                kafka_instance_with_producer(
                    null_mut(),
                    null(),
                    Some(noop_scope),
                    null_mut(),
                    &mut e,
                ),
                &e,
                "inst",
            );
            invalid(
                kafka_instance_with_producer(inst, null(), None, null_mut(), &mut e),
                &e,
                "scope",
            );
            // overrides and opaque NULL are allowed.
            assert_eq!(
                kafka_instance_with_producer(inst, null(), Some(noop_scope), null_mut(), &mut e),
                KAFKA_OK
            );
        }
    ));
}

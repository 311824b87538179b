//! Every public function, called with NULL in each pointer argument: an
//! error code (KAFKA_ERR_INVALID_ARGUMENT) or a no-op, never a crash.
//!
//! The list of functions is checked against include/kafka_instance.h, so a
//! new function cannot be added without its NULL case here.

#![allow(unsafe_code)] // these tests call the C ABI, as a C program would

mod common;
use common::*;

use std::collections::BTreeSet;
use std::ffi::c_char;
use std::ptr::{null, null_mut};

type StrSetter =
    unsafe extern "C" fn(*mut KafkaConfig, *const c_char, *mut KafkaError) -> KafkaErrorCode;

fn invalid(rc: KafkaErrorCode, e: &KafkaError, what: &str) {
    assert_eq!(rc, KAFKA_ERR_INVALID_ARGUMENT, "{what}");
    assert_eq!(e.code, KAFKA_ERR_INVALID_ARGUMENT, "{what}");
    assert!(
        e.message_str().ends_with("is NULL"),
        "{what}: {}",
        e.message_str()
    );
}

fn string_setter(f: StrSetter, value: &str) {
    let cfg = kafka_config_new();
    let v = c(value);
    let mut e = err();
    unsafe {
        invalid(f(null_mut(), v.as_ptr(), &mut e), &e, "cfg");
        invalid(f(cfg, null(), &mut e), &e, "value");
        // err NULL: still a clean failure.
        assert_eq!(f(cfg, null(), null_mut()), KAFKA_ERR_INVALID_ARGUMENT);
        kafka_config_free(cfg);
    }
}

unsafe extern "C" fn noop_scope(
    _: *mut KafkaProducer,
    _: *mut std::ffi::c_void,
) -> std::ffi::c_int {
    0
}

unsafe extern "C" fn noop_consumer_scope(
    _: *mut KafkaConsumer,
    _: *mut std::ffi::c_void,
) -> std::ffi::c_int {
    0
}

unsafe extern "C" fn noop_handler(
    _: *const KafkaMessage,
    _: *mut std::ffi::c_void,
) -> std::ffi::c_int {
    0
}

/// Runs `f` with an instance whose broker is unreachable.
fn with_instance(f: impl FnOnce(*mut KafkaInstance)) {
    let cfg = config(&[("bootstrap_servers", "127.0.0.1:1"), ("group_id", "g")]);
    let mut e = err();
    unsafe {
        let inst = kafka_instance_new(cfg, &mut e);
        assert!(!inst.is_null(), "{}", e.message_str());
        f(inst);
        kafka_instance_free(inst);
        kafka_config_free(cfg);
    }
}

/// Runs `f` with a consumer whose broker is unreachable.
fn with_consumer(f: impl FnOnce(*mut KafkaConsumer)) {
    with_instance(|inst| unsafe {
        let t = c("t");
        let list = [t.as_ptr()];
        let mut e = err();
        let cons = kafka_instance_get_consumer(inst, list.as_ptr(), 1, null(), &mut e);
        assert!(!cons.is_null(), "{}", e.message_str());
        f(cons);
        kafka_consumer_close(cons, null_mut());
    })
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

/// A function's name and its NULL case.
type Case = (&'static str, Box<dyn Fn()>);

/// Adds the case for function `$name` to `$v`.
macro_rules! case {
    ($v:ident, $name:ident, $body:expr) => {
        $v.push((stringify!($name), Box::new($body)))
    };
}

/// The case of a `kafka_config_set_*` string setter.
macro_rules! setter {
    ($v:ident, $name:ident, $value:expr) => {
        case!($v, $name, || string_setter($name, $value))
    };
}

/// One case per function in the header, grouped by handle (the C
/// functions of `kafka_<handle>_*`, as in src/ffi/<handle>.rs).
fn cases() -> Vec<Case> {
    let mut v = Vec::new();
    config_cases(&mut v);
    error_cases(&mut v);
    instance_cases(&mut v);
    cluster_cases(&mut v);
    group_list_cases(&mut v);
    statistics_cases(&mut v);
    topic_config_cases(&mut v);
    v.push((
        "kafka_config_set_oauthbearer_token_callback",
        Box::new(|| unsafe {
            let mut e = err();
            let rc =
                kafka_config_set_oauthbearer_token_callback(null_mut(), None, null_mut(), &mut e);
            invalid(rc, &e, "cfg");
        }),
    ));
    log_cases(&mut v);
    mock_cluster_cases(&mut v);
    producer_cases(&mut v);
    consumer_cases(&mut v);
    partition_list_cases(&mut v);
    message_cases(&mut v);
    version_cases(&mut v);
    v
}

fn config_cases(v: &mut Vec<Case>) {
    case!(v, kafka_config_new, || unsafe {
        kafka_config_free(kafka_config_new())
    });
    case!(v, kafka_config_clone, || assert!(unsafe {
        kafka_config_clone(null())
    }
    .is_null()));
    case!(v, kafka_config_free, || unsafe {
        kafka_config_free(null_mut())
    });
    setter!(v, kafka_config_set_kafka_url, "kafka://h:1");
    setter!(v, kafka_config_set_security_protocol, "SSL");
    setter!(v, kafka_config_set_sasl_mechanism, "PLAIN");
    setter!(v, kafka_config_set_sasl_plain_username, "u");
    setter!(v, kafka_config_set_sasl_plain_password, "p");
    setter!(v, kafka_config_set_client_id, "c");
    setter!(v, kafka_config_set_group_id, "g");
    setter!(v, kafka_config_set_auto_offset_reset, "earliest");
    case!(v, kafka_config_set_bootstrap_servers, || unsafe {
        let cfg = kafka_config_new();
        let h = c("h:1");
        let list = [h.as_ptr()];
        let mut e = err();
        invalid(
            kafka_config_set_bootstrap_servers(null_mut(), list.as_ptr(), 1, &mut e),
            &e,
            "cfg",
        );
        invalid(
            kafka_config_set_bootstrap_servers(cfg, null(), 1, &mut e),
            &e,
            "servers",
        );
        let holes = [null()];
        invalid(
            kafka_config_set_bootstrap_servers(cfg, holes.as_ptr(), 1, &mut e),
            &e,
            "servers[0]",
        );
        kafka_config_free(cfg);
    });
    case!(v, kafka_config_set_enable_auto_commit, || unsafe {
        let mut e = err();
        invalid(
            kafka_config_set_enable_auto_commit(null_mut(), true, &mut e),
            &e,
            "cfg",
        );
    });
    case!(v, kafka_config_set, || unsafe {
        let cfg = kafka_config_new();
        let (k, val) = (c("client_id"), c("x"));
        let mut e = err();
        invalid(
            kafka_config_set(null_mut(), k.as_ptr(), val.as_ptr(), &mut e),
            &e,
            "cfg",
        );
        invalid(
            kafka_config_set(cfg, null(), val.as_ptr(), &mut e),
            &e,
            "key",
        );
        invalid(
            kafka_config_set(cfg, k.as_ptr(), null(), &mut e),
            &e,
            "value",
        );
        kafka_config_free(cfg);
    });
    case!(v, kafka_config_get, || unsafe {
        let cfg = config(&[("client_id", "x")]);
        let k = c("client_id");
        let mut buf = [0 as c_char; 8];
        let mut len = 0usize;
        let mut e = err();
        invalid(
            kafka_config_get(null(), k.as_ptr(), buf.as_mut_ptr(), 8, &mut len, &mut e),
            &e,
            "cfg",
        );
        invalid(
            kafka_config_get(cfg, null(), buf.as_mut_ptr(), 8, &mut len, &mut e),
            &e,
            "key",
        );
        // NULL len is allowed; NULL buf with length 0 is a size query.
        assert_eq!(
            kafka_config_get(cfg, k.as_ptr(), buf.as_mut_ptr(), 8, null_mut(), &mut e),
            KAFKA_OK
        );
        assert_eq!(
            kafka_config_get(cfg, k.as_ptr(), null_mut(), 0, &mut len, &mut e),
            KAFKA_ERR_BUFFER_TOO_SMALL
        );
        assert_eq!(
            kafka_config_get(cfg, k.as_ptr(), null_mut(), 8, &mut len, &mut e),
            KAFKA_ERR_INVALID_ARGUMENT
        );
        kafka_config_free(cfg);
    });
}

fn error_cases(v: &mut Vec<Case>) {
    case!(v, kafka_error_code_name, || assert!(
        !kafka_error_code_name(KafkaErrorCodeArg(12345)).is_null()
    ));
}

fn instance_cases(v: &mut Vec<Case>) {
    case!(v, kafka_instance_new, || unsafe {
        let mut e = err();
        let inst = kafka_instance_new(null(), &mut e);
        assert!(inst.is_null());
        invalid(e.code, &e, "cfg");
        assert!(kafka_instance_new(null(), null_mut()).is_null());
    });
    case!(v, kafka_instance_free, || unsafe {
        kafka_instance_free(null_mut())
    });
    case!(v, kafka_instance_create_topic, || with_instance(
        |inst| unsafe {
            let t = c("t");
            let mut e = err();
            invalid(
                kafka_instance_create_topic(null_mut(), t.as_ptr(), 1, 1, 10, &mut e),
                &e,
                "inst",
            );
            invalid(
                kafka_instance_create_topic(inst, null(), 1, 1, 10, &mut e),
                &e,
                "topic",
            );
        }
    ));
    case!(v, kafka_instance_delete_topic, || with_instance(
        |inst| unsafe {
            let t = c("t");
            let mut e = err();
            invalid(
                kafka_instance_delete_topic(null_mut(), t.as_ptr(), 10, &mut e),
                &e,
                "inst",
            );
            invalid(
                kafka_instance_delete_topic(inst, null(), 10, &mut e),
                &e,
                "topic",
            );
        }
    ));
    case!(v, kafka_instance_list_topics, || unsafe {
        let mut e = err();
        invalid(
            kafka_instance_list_topics(null_mut(), 10, null_mut(), 0, null_mut(), &mut e),
            &e,
            "inst",
        );
    });
}

fn log_cases(v: &mut Vec<Case>) {
    case!(v, kafka_set_log_callback, || {
        // NULL callback and NULL opaque: back to stderr, a no-op here.
        kafka_set_log_callback(None, null_mut(), KafkaLogLevelArg(4));
        capture_logs();
    });
}

fn mock_cluster_cases(v: &mut Vec<Case>) {
    case!(v, kafka_mock_cluster_new, || unsafe {
        // The only pointer is err.
        let mc = kafka_mock_cluster_new(1, null_mut());
        assert!(!mc.is_null());
        kafka_mock_cluster_free(mc);
    });
    case!(v, kafka_mock_cluster_bootstrap_servers, || assert!(
        unsafe { kafka_mock_cluster_bootstrap_servers(null()) }.is_null()
    ));
    case!(v, kafka_mock_cluster_create_topic, || unsafe {
        let mut e = err();
        let mc = kafka_mock_cluster_new(1, null_mut());
        invalid(
            kafka_mock_cluster_create_topic(null_mut(), c("t").as_ptr(), 1, 1, &mut e),
            &e,
            "mc",
        );
        invalid(
            kafka_mock_cluster_create_topic(mc, null(), 1, 1, &mut e),
            &e,
            "topic",
        );
        kafka_mock_cluster_free(mc);
    });
    case!(v, kafka_mock_cluster_broker_down, || unsafe {
        let mut e = err();
        invalid(
            kafka_mock_cluster_broker_down(null_mut(), 1, &mut e),
            &e,
            "mc",
        );
    });
    case!(v, kafka_mock_cluster_broker_up, || unsafe {
        let mut e = err();
        invalid(
            kafka_mock_cluster_broker_up(null_mut(), 1, &mut e),
            &e,
            "mc",
        );
    });
    case!(v, kafka_mock_cluster_push_request_errors, || unsafe {
        let mut e = err();
        let codes = [6];
        invalid(
            kafka_mock_cluster_push_request_errors(null_mut(), 0, codes.as_ptr(), 1, &mut e),
            &e,
            "mc",
        );
        let mc = kafka_mock_cluster_new(1, null_mut());
        invalid(
            kafka_mock_cluster_push_request_errors(mc, 0, null(), 1, &mut e),
            &e,
            "errors",
        );
        assert_eq!(
            kafka_mock_cluster_push_request_errors(mc, 0, null(), 0, &mut e),
            KAFKA_OK
        );
        kafka_mock_cluster_free(mc);
    });
    case!(v, kafka_mock_cluster_clear_request_errors, || unsafe {
        let mut e = err();
        invalid(
            kafka_mock_cluster_clear_request_errors(null_mut(), 0, &mut e),
            &e,
            "mc",
        );
    });
    case!(v, kafka_mock_cluster_set_round_trip_time, || unsafe {
        let mut e = err();
        invalid(
            kafka_mock_cluster_set_round_trip_time(null_mut(), 1, 10, &mut e),
            &e,
            "mc",
        );
    });
    case!(v, kafka_mock_cluster_partition_set_leader, || unsafe {
        let mut e = err();
        let t = c("t");
        invalid(
            kafka_mock_cluster_partition_set_leader(null_mut(), t.as_ptr(), 0, 1, &mut e),
            &e,
            "mc",
        );
        let mc = kafka_mock_cluster_new(1, &mut e);
        invalid(
            kafka_mock_cluster_partition_set_leader(mc, null(), 0, 1, &mut e),
            &e,
            "topic",
        );
        kafka_mock_cluster_free(mc);
    });
    case!(v, kafka_mock_cluster_free, || unsafe {
        kafka_mock_cluster_free(null_mut())
    });
}

fn producer_cases(v: &mut Vec<Case>) {
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

fn consumer_cases(v: &mut Vec<Case>) {
    case!(v, kafka_instance_get_consumer, || with_instance(
        |inst| unsafe {
            let t = c("t");
            let list = [t.as_ptr()];
            let mut e = err();
            assert!(
                kafka_instance_get_consumer(null_mut(), list.as_ptr(), 1, null(), &mut e).is_null()
            );
            invalid(e.code, &e, "inst");
            assert!(kafka_instance_get_consumer(inst, null(), 1, null(), &mut e).is_null());
            invalid(e.code, &e, "topics");
            let holes = [null()];
            assert!(kafka_instance_get_consumer(inst, holes.as_ptr(), 1, null(), &mut e).is_null());
            invalid(e.code, &e, "topics[0]");
        }
    ));
    case!(v, kafka_consumer_poll, || with_consumer(|cons| unsafe {
        let mut m = null_mut();
        let mut e = err();
        invalid(kafka_consumer_poll(null_mut(), 0, &mut m, &mut e), &e, "c");
        invalid(kafka_consumer_poll(cons, 0, null_mut(), &mut e), &e, "out");
        assert_eq!(kafka_consumer_poll(cons, 0, &mut m, null_mut()), KAFKA_OK);
    }));
    case!(v, kafka_consumer_poll_batch, || with_consumer(
        |cons| unsafe {
            let mut out = [null_mut(); 2];
            let mut e = err();
            invalid(
                kafka_consumer_poll_batch(null_mut(), out.as_mut_ptr(), 2, 0, null_mut(), &mut e),
                &e,
                "c",
            );
            assert_eq!(
                kafka_consumer_poll_batch(cons, null_mut(), 2, 0, null_mut(), &mut e),
                KAFKA_ERR_INVALID_ARGUMENT
            );
            // count NULL is allowed.
            assert_eq!(
                kafka_consumer_poll_batch(cons, out.as_mut_ptr(), 2, 0, null_mut(), &mut e),
                KAFKA_OK
            );
        }
    ));
    case!(v, kafka_consumer_commit, || unsafe {
        let mut e = err();
        invalid(kafka_consumer_commit(null_mut(), &mut e), &e, "c");
    });
    case!(v, kafka_consumer_commit_message, || with_consumer(
        |cons| unsafe {
            let mut e = err();
            invalid(kafka_consumer_commit_message(cons, null(), &mut e), &e, "m");
            invalid(
                kafka_consumer_commit_message(null_mut(), null(), &mut e),
                &e,
                "c",
            );
        }
    ));
    case!(v, kafka_consumer_close, || unsafe {
        let mut e = err();
        assert_eq!(kafka_consumer_close(null_mut(), &mut e), KAFKA_OK);
    });
    case!(v, kafka_consumer_store_message, || with_consumer(
        |cons| unsafe {
            let mut e = err();
            invalid(kafka_consumer_store_message(cons, null(), &mut e), &e, "m");
            invalid(
                kafka_consumer_store_message(null_mut(), null(), &mut e),
                &e,
                "c",
            );
        }
    ));
    case!(v, kafka_consumer_wakeup, || unsafe {
        let mut e = err();
        invalid(kafka_consumer_wakeup(null_mut(), &mut e), &e, "c");
        assert_eq!(
            kafka_consumer_wakeup(null_mut(), null_mut()),
            KAFKA_ERR_INVALID_ARGUMENT
        );
    });
    case!(v, kafka_message_views, || unsafe {
        let mut e = err();
        let mut view: [KafkaMessageView; 1] = std::mem::zeroed();
        invalid(
            kafka_message_views(null(), 1, view.as_mut_ptr(), &mut e),
            &e,
            "messages",
        );
    });
    case!(v, kafka_producer_send_tracked, || unsafe {
        let mut e = err();
        let r: KafkaRecord = std::mem::zeroed();
        invalid(
            kafka_producer_send_tracked(null_mut(), &r, 1, &mut e),
            &e,
            "p",
        );
    });
    case!(v, kafka_producer_send_tracked_packed, || unsafe {
        let mut e = err();
        let t = c("t");
        let mut n = 9usize;
        let rc = kafka_producer_send_tracked_packed(
            null_mut(),
            t.as_ptr(),
            null(),
            0,
            null(),
            0,
            1,
            0,
            &mut n,
            &mut e,
        );
        invalid(rc, &e, "p");
        assert_eq!(n, 0);
    });
    case!(v, kafka_producer_reports, || unsafe {
        let mut e = err();
        let mut out: [KafkaTrackedReport; 1] = std::mem::zeroed();
        let mut n = 9usize;
        invalid(
            kafka_producer_reports(null_mut(), out.as_mut_ptr(), 1, 0, &mut n, &mut e),
            &e,
            "p",
        );
        assert_eq!(n, 0, "count is written on failure too");
    });
    case!(v, kafka_producer_reports_gathered, || unsafe {
        let mut e = err();
        let mut out: [KafkaTrackedReport; 1] = std::mem::zeroed();
        let mut n = 9usize;
        invalid(
            kafka_producer_reports_gathered(null_mut(), out.as_mut_ptr(), 1, 0, 5, &mut n, &mut e),
            &e,
            "p",
        );
        assert_eq!(n, 0, "count is written on failure too");
    });
    case!(v, kafka_producer_hand_over_tracked_packed, || unsafe {
        let mut e = err();
        let t = c("t");
        let rc = kafka_producer_hand_over_tracked_packed(
            null_mut(),
            t.as_ptr(),
            null(),
            0,
            null(),
            0,
            1,
            0,
            &mut e,
        );
        invalid(rc, &e, "p");
    });
    case!(v, kafka_producer_wait_handed_over, || unsafe {
        let mut e = err();
        invalid(
            kafka_producer_wait_handed_over(null_mut(), 0, &mut e),
            &e,
            "p",
        );
    });
    case!(v, kafka_consumer_event_fd, || unsafe {
        let mut e = err();
        assert_eq!(kafka_consumer_event_fd(null_mut(), &mut e), -1);
        assert_eq!(e.code, KAFKA_ERR_INVALID_ARGUMENT);
        assert!(
            e.message_str().ends_with("c is NULL"),
            "{}",
            e.message_str()
        );
        assert_eq!(kafka_consumer_event_fd(null_mut(), null_mut()), -1);
    });
    case!(v, kafka_consumer_subscribe, || with_consumer(
        |cons| unsafe {
            let t = c("t");
            let list = [t.as_ptr()];
            let mut e = err();
            invalid(
                kafka_consumer_subscribe(null_mut(), list.as_ptr(), 1, &mut e),
                &e,
                "c",
            );
            invalid(
                kafka_consumer_subscribe(cons, null(), 1, &mut e),
                &e,
                "topics",
            );
            let holes = [null()];
            invalid(
                kafka_consumer_subscribe(cons, holes.as_ptr(), 1, &mut e),
                &e,
                "topics[0]",
            );
        }
    ));
    case!(v, kafka_consumer_unsubscribe, || unsafe {
        let mut e = err();
        invalid(kafka_consumer_unsubscribe(null_mut(), &mut e), &e, "c");
    });
    case!(v, kafka_consumer_subscription, || with_consumer(
        |cons| unsafe {
            let (mut out, mut e) = (null_mut(), err());
            invalid(
                kafka_consumer_subscription(null_mut(), &mut out, &mut e),
                &e,
                "c",
            );
            invalid(
                kafka_consumer_subscription(cons, null_mut(), &mut e),
                &e,
                "out",
            );
        }
    ));
    case!(v, kafka_consumer_assign, || with_consumer(|cons| unsafe {
        let list = kafka_partition_list_new();
        let mut e = err();
        kafka_partition_list_add(list, c("t").as_ptr(), 0, 0, &mut e);
        invalid(kafka_consumer_assign(null_mut(), list, &mut e), &e, "c");
        invalid(kafka_consumer_assign(cons, null(), &mut e), &e, "list");
        kafka_partition_list_free(list);
    }));
    case!(v, kafka_consumer_unassign, || unsafe {
        let mut e = err();
        invalid(kafka_consumer_unassign(null_mut(), &mut e), &e, "c");
    });
    case!(v, kafka_consumer_assignment, || with_consumer(
        |cons| unsafe {
            let (mut out, mut e) = (null_mut(), err());
            invalid(
                kafka_consumer_assignment(null_mut(), &mut out, &mut e),
                &e,
                "c",
            );
            invalid(
                kafka_consumer_assignment(cons, null_mut(), &mut e),
                &e,
                "out",
            );
        }
    ));
    case!(v, kafka_consumer_seek, || with_consumer(|cons| unsafe {
        let t = c("t");
        let mut e = err();
        invalid(
            kafka_consumer_seek(null_mut(), t.as_ptr(), 0, 0, 0, &mut e),
            &e,
            "c",
        );
        invalid(
            kafka_consumer_seek(cons, null(), 0, 0, 0, &mut e),
            &e,
            "topic",
        );
    }));
    case!(v, kafka_consumer_seek_to_time, || unsafe {
        let mut e = err();
        invalid(
            kafka_consumer_seek_to_time(null_mut(), 0, 0, null_mut(), &mut e),
            &e,
            "c",
        );
    });
    case!(v, kafka_consumer_pause, || with_consumer(|cons| unsafe {
        let mut e = err();
        invalid(kafka_consumer_pause(cons, null(), &mut e), &e, "list");
        invalid(kafka_consumer_pause(null_mut(), null(), &mut e), &e, "list");
    }));
    case!(v, kafka_consumer_resume, || with_consumer(|cons| unsafe {
        let mut e = err();
        invalid(kafka_consumer_resume(cons, null(), &mut e), &e, "list");
    }));
    case!(v, kafka_consumer_position, || with_consumer(
        |cons| unsafe {
            let (mut out, mut e) = (null_mut(), err());
            invalid(
                kafka_consumer_position(null_mut(), &mut out, &mut e),
                &e,
                "c",
            );
            invalid(kafka_consumer_position(cons, null_mut(), &mut e), &e, "out");
        }
    ));
    case!(v, kafka_consumer_committed, || unsafe {
        let (mut out, mut e) = (null_mut(), err());
        invalid(
            kafka_consumer_committed(null_mut(), 0, &mut out, &mut e),
            &e,
            "c",
        );
    });
    case!(v, kafka_consumer_watermarks, || with_consumer(
        |cons| unsafe {
            let t = c("t");
            let mut e = err();
            let rc = kafka_consumer_watermarks(
                null_mut(),
                t.as_ptr(),
                0,
                0,
                null_mut(),
                null_mut(),
                &mut e,
            );
            invalid(rc, &e, "c");
            let rc = kafka_consumer_watermarks(cons, null(), 0, 0, null_mut(), null_mut(), &mut e);
            invalid(rc, &e, "topic");
        }
    ));
    case!(v, kafka_consumer_lag, || unsafe {
        let (mut out, mut e) = (null_mut(), err());
        invalid(kafka_consumer_lag(null_mut(), 0, &mut out, &mut e), &e, "c");
    });
    case!(v, kafka_consumer_commit_offsets, || with_consumer(
        |cons| unsafe {
            let mut e = err();
            invalid(
                kafka_consumer_commit_offsets(cons, null(), &mut e),
                &e,
                "list",
            );
        }
    ));
    case!(v, kafka_consumer_commit_async, || unsafe {
        let mut e = err();
        let rc = kafka_consumer_commit_async(null_mut(), null(), None, null_mut(), &mut e);
        invalid(rc, &e, "c");
        with_consumer(|cons| {
            let empty = kafka_partition_list_new();
            // NULL is allowed (what is done); an empty list is not.
            let rc = kafka_consumer_commit_async(cons, empty, None, null_mut(), &mut e);
            assert_eq!(rc, KAFKA_ERR_INVALID_ARGUMENT, "{}", e.message_str());
            kafka_partition_list_free(empty);
        });
    });
    case!(v, kafka_consumer_set_rebalance_callback, || unsafe {
        let mut e = err();
        let rc = kafka_consumer_set_rebalance_callback(null_mut(), None, null_mut(), &mut e);
        invalid(rc, &e, "c");
    });
    case!(v, kafka_instance_with_consumer, || with_instance(
        |inst| unsafe {
            let t = c("t");
            let list = [t.as_ptr()];
            let mut e = err();
            invalid(
                kafka_instance_with_consumer(
                    null_mut(),
                    list.as_ptr(),
                    1,
                    null(),
                    Some(noop_consumer_scope),
                    null_mut(),
                    &mut e,
                ),
                &e,
                "inst",
            );
            invalid(
                kafka_instance_with_consumer(
                    inst,
                    null(),
                    1,
                    null(),
                    Some(noop_consumer_scope),
                    null_mut(),
                    &mut e,
                ),
                &e,
                "topics",
            );
            invalid(
                kafka_instance_with_consumer(
                    inst,
                    list.as_ptr(),
                    1,
                    null(),
                    None,
                    null_mut(),
                    &mut e,
                ),
                &e,
                "scope",
            );
            assert_eq!(
                kafka_instance_with_consumer(
                    inst,
                    list.as_ptr(),
                    1,
                    null(),
                    Some(noop_consumer_scope),
                    null_mut(),
                    &mut e
                ),
                KAFKA_OK
            );
        }
    ));
    case!(v, kafka_consumer_register_handler, || with_consumer(
        |cons| unsafe {
            let t = c("t");
            let mut e = err();
            invalid(
                kafka_consumer_register_handler(
                    null_mut(),
                    t.as_ptr(),
                    Some(noop_handler),
                    null_mut(),
                    &mut e,
                ),
                &e,
                "c",
            );
            invalid(
                kafka_consumer_register_handler(
                    cons,
                    null(),
                    Some(noop_handler),
                    null_mut(),
                    &mut e,
                ),
                &e,
                "topic",
            );
            invalid(
                kafka_consumer_register_handler(cons, t.as_ptr(), None, null_mut(), &mut e),
                &e,
                "fn",
            );
        }
    ));
    case!(v, kafka_consumer_consume, || with_consumer(|cons| unsafe {
        let mut e = err();
        invalid(
            kafka_consumer_consume(null_mut(), 0, null_mut(), &mut e),
            &e,
            "c",
        );
        assert_eq!(
            kafka_consumer_consume(cons, 0, null_mut(), &mut e),
            KAFKA_OK
        );
    }));
}

fn partition_list_cases(v: &mut Vec<Case>) {
    case!(v, kafka_partition_list_new, || unsafe {
        kafka_partition_list_free(kafka_partition_list_new())
    });
    case!(v, kafka_partition_list_add, || unsafe {
        let list = kafka_partition_list_new();
        let t = c("t");
        let mut e = err();
        invalid(
            kafka_partition_list_add(null_mut(), t.as_ptr(), 0, 0, &mut e),
            &e,
            "list",
        );
        invalid(
            kafka_partition_list_add(list, null(), 0, 0, &mut e),
            &e,
            "topic",
        );
        kafka_partition_list_free(list);
    });
    case!(v, kafka_partition_list_count, || assert_eq!(
        unsafe { kafka_partition_list_count(null()) },
        0
    ));
    case!(v, kafka_partition_list_get, || assert!(unsafe {
        kafka_partition_list_get(null(), 0)
    }
    .is_null()));
    case!(v, kafka_partition_list_free, || unsafe {
        kafka_partition_list_free(null_mut())
    });
}

fn message_cases(v: &mut Vec<Case>) {
    case!(v, kafka_message_header_last, || assert!(!unsafe {
        kafka_message_header_last(null(), c("h").as_ptr(), null_mut(), null_mut())
    }));
    case!(v, kafka_message_topic, || assert!(unsafe {
        kafka_message_topic(null())
    }
    .is_null()));
    case!(v, kafka_message_partition, || assert_eq!(
        unsafe { kafka_message_partition(null()) },
        -1
    ));
    case!(v, kafka_message_offset, || assert_eq!(
        unsafe { kafka_message_offset(null()) },
        -1
    ));
    case!(v, kafka_message_timestamp, || assert_eq!(
        unsafe { kafka_message_timestamp(null()) },
        -1
    ));
    case!(v, kafka_message_key, || unsafe {
        let mut len = 9usize;
        assert!(kafka_message_key(null(), &mut len).is_null());
        assert_eq!(len, 0);
        assert!(kafka_message_key(null(), null_mut()).is_null());
    });
    case!(v, kafka_message_value, || unsafe {
        let mut len = 9usize;
        assert!(kafka_message_value(null(), &mut len).is_null());
        assert_eq!(len, 0);
    });
    case!(v, kafka_message_header_count, || assert_eq!(
        unsafe { kafka_message_header_count(null()) },
        0
    ));
    case!(v, kafka_message_header, || assert!(!unsafe {
        kafka_message_header(null(), 0, null_mut(), null_mut(), null_mut())
    }));
    case!(v, kafka_message_free, || unsafe {
        kafka_message_free(null_mut())
    });
}

fn version_cases(v: &mut Vec<Case>) {
    case!(v, kafka_instance_version, || assert!(
        !kafka_instance_version().is_null()
    ));
    case!(v, kafka_instance_librdkafka_version, || assert!(
        !kafka_instance_librdkafka_version().is_null()
    ));
}

/// Function names declared in the header.
fn header_functions() -> BTreeSet<String> {
    let header = std::fs::read_to_string(env!("KAFKA_INSTANCE_GENERATED_HEADER")).unwrap();
    header
        .lines()
        .filter(|l| !l.starts_with(' ') && !l.starts_with("typedef") && l.ends_with(");"))
        .filter_map(|l| {
            let before_paren = &l[..l.find('(')?];
            let name = before_paren.rsplit([' ', '*']).next()?;
            name.starts_with("kafka_").then(|| name.to_owned())
        })
        .collect()
}

#[test]
fn every_header_function_has_a_null_case() {
    let declared = header_functions();
    assert!(declared.len() >= 59, "{declared:?}");
    let covered: BTreeSet<String> = cases().iter().map(|(n, _)| n.to_string()).collect();
    let missing: Vec<_> = declared.difference(&covered).collect();
    assert!(
        missing.is_empty(),
        "functions without a NULL case: {missing:?}"
    );
    let stale: Vec<_> = covered.difference(&declared).collect();
    assert!(
        stale.is_empty(),
        "cases for functions not in the header: {stale:?}"
    );
}

#[test]
fn null_arguments_never_crash() {
    capture_logs();
    for (name, case) in cases() {
        eprintln!("{name}");
        case();
    }
}

fn cluster_cases(v: &mut Vec<Case>) {
    case!(v, kafka_instance_describe_cluster, || with_instance(
        |inst| unsafe {
            let (mut out, mut e) = (null_mut(), err());
            invalid(
                kafka_instance_describe_cluster(null(), 10, &mut out, &mut e),
                &e,
                "inst",
            );
            invalid(
                kafka_instance_describe_cluster(inst, 10, null_mut(), &mut e),
                &e,
                "out",
            );
        }
    ));
    case!(v, kafka_instance_describe_topic, || with_instance(
        |inst| unsafe {
            let (mut out, mut e, t) = (null_mut(), err(), c("t"));
            let rc = kafka_instance_describe_topic(null(), t.as_ptr(), 10, &mut out, &mut e);
            invalid(rc, &e, "inst");
            let rc = kafka_instance_describe_topic(inst, null(), 10, &mut out, &mut e);
            invalid(rc, &e, "topic");
            let rc = kafka_instance_describe_topic(inst, t.as_ptr(), 10, null_mut(), &mut e);
            invalid(rc, &e, "out");
        }
    ));
    case!(v, kafka_cluster_id, || assert!(unsafe {
        kafka_cluster_id(null())
    }
    .is_null()));
    case!(v, kafka_cluster_broker_count, || assert_eq!(
        unsafe { kafka_cluster_broker_count(null()) },
        0
    ));
    case!(v, kafka_cluster_broker, || assert!(unsafe {
        kafka_cluster_broker(null(), 0)
    }
    .is_null()));
    case!(v, kafka_cluster_partition_count, || assert_eq!(
        unsafe { kafka_cluster_partition_count(null()) },
        0
    ));
    case!(v, kafka_cluster_partition, || assert!(unsafe {
        kafka_cluster_partition(null(), 0)
    }
    .is_null()));
    case!(v, kafka_cluster_free, || unsafe {
        kafka_cluster_free(null_mut())
    });
}

fn group_list_cases(v: &mut Vec<Case>) {
    case!(v, kafka_instance_list_groups, || with_instance(
        |inst| unsafe {
            let (mut out, mut e) = (null_mut(), err());
            invalid(
                kafka_instance_list_groups(null(), 10, &mut out, &mut e),
                &e,
                "inst",
            );
            invalid(
                kafka_instance_list_groups(inst, 10, null_mut(), &mut e),
                &e,
                "out",
            );
        }
    ));
    case!(v, kafka_instance_describe_group, || with_instance(
        |inst| unsafe {
            let (mut out, mut e, g) = (null_mut(), err(), c("g"));
            let rc = kafka_instance_describe_group(null(), g.as_ptr(), 10, &mut out, &mut e);
            invalid(rc, &e, "inst");
            let rc = kafka_instance_describe_group(inst, null(), 10, &mut out, &mut e);
            invalid(rc, &e, "group");
            let rc = kafka_instance_describe_group(inst, g.as_ptr(), 10, null_mut(), &mut e);
            invalid(rc, &e, "out");
        }
    ));
    type GroupAnswer = unsafe extern "C" fn(
        *const KafkaInstance,
        *const c_char,
        *const KafkaPartitionList,
        i32,
        *mut *mut KafkaPartitionList,
        *mut KafkaError,
    ) -> KafkaErrorCode;
    fn answers(f: GroupAnswer) {
        with_instance(|inst| unsafe {
            let (mut out, mut e, g) = (null_mut(), err(), c("g"));
            invalid(
                f(null(), g.as_ptr(), null(), 10, &mut out, &mut e),
                &e,
                "inst",
            );
            invalid(f(inst, null(), null(), 10, &mut out, &mut e), &e, "group");
            invalid(
                f(inst, g.as_ptr(), null(), 10, null_mut(), &mut e),
                &e,
                "out",
            );
        })
    }
    case!(v, kafka_instance_group_offsets, || answers(
        kafka_instance_group_offsets
    ));
    case!(v, kafka_instance_group_lag, || answers(
        kafka_instance_group_lag
    ));
    case!(v, kafka_instance_delete_group, || with_instance(
        |inst| unsafe {
            let mut e = err();
            let g = c("g");
            invalid(
                kafka_instance_delete_group(null(), g.as_ptr(), 10, &mut e),
                &e,
                "inst",
            );
            invalid(
                kafka_instance_delete_group(inst, null(), 10, &mut e),
                &e,
                "group",
            );
        }
    ));
    case!(v, kafka_group_list_count, || assert_eq!(
        unsafe { kafka_group_list_count(null()) },
        0
    ));
    case!(v, kafka_group_list_get, || assert!(unsafe {
        kafka_group_list_get(null(), 0)
    }
    .is_null()));
    case!(v, kafka_group_list_free, || unsafe {
        kafka_group_list_free(null_mut())
    });
    case!(v, kafka_instance_create_partitions, || with_instance(
        |inst| unsafe {
            let mut e = err();
            let t = c("t");
            let rc = kafka_instance_create_partitions(null(), t.as_ptr(), 2, 10, &mut e);
            invalid(rc, &e, "inst");
            invalid(
                kafka_instance_create_partitions(inst, null(), 2, 10, &mut e),
                &e,
                "topic",
            );
        }
    ));
    case!(v, kafka_instance_delete_records, || with_instance(
        |inst| unsafe {
            let mut e = err();
            let t = c("t");
            let rc =
                kafka_instance_delete_records(null(), t.as_ptr(), 0, 1, 10, null_mut(), &mut e);
            invalid(rc, &e, "inst");
            let rc = kafka_instance_delete_records(inst, null(), 0, 1, 10, null_mut(), &mut e);
            invalid(rc, &e, "topic");
        }
    ));
}

fn statistics_cases(v: &mut Vec<Case>) {
    case!(v, kafka_set_statistics_callback, || unsafe {
        let mut e = err();
        let rc = kafka_set_statistics_callback(null_mut(), 1000, None, null_mut(), &mut e);
        invalid(rc, &e, "cfg");
    });
    case!(v, kafka_statistics_summary, || unsafe {
        let (mut out, mut e) = (null_mut(), err());
        let rc = kafka_statistics_summary(null(), 3, &mut out, &mut e);
        assert_eq!(rc, KAFKA_ERR_INVALID_ARGUMENT, "{}", e.message_str());
        let j = c("{}");
        invalid(
            kafka_statistics_summary(j.as_ptr(), 2, null_mut(), &mut e),
            &e,
            "out",
        );
    });
    case!(v, kafka_statistics_summary_get, || assert!(unsafe {
        kafka_statistics_summary_get(null())
    }
    .is_null()));
    case!(v, kafka_statistics_summary_free, || unsafe {
        kafka_statistics_summary_free(null_mut())
    });
}

fn topic_config_cases(v: &mut Vec<Case>) {
    case!(v, kafka_instance_describe_topic_config, || with_instance(
        |inst| unsafe {
            let (mut out, mut e, t) = (null_mut(), err(), c("t"));
            let rc = kafka_instance_describe_topic_config(null(), t.as_ptr(), 10, &mut out, &mut e);
            invalid(rc, &e, "inst");
            let rc = kafka_instance_describe_topic_config(inst, null(), 10, &mut out, &mut e);
            invalid(rc, &e, "topic");
            let rc = kafka_instance_describe_topic_config(inst, t.as_ptr(), 10, null_mut(), &mut e);
            invalid(rc, &e, "out");
        }
    ));
    case!(v, kafka_instance_alter_topic_config, || with_instance(
        |inst| unsafe {
            let (mut e, t, k) = (err(), c("t"), c("retention.ms"));
            let keys = [k.as_ptr()];
            let values = [null()];
            let alter = |i, t, k, v, e: &mut KafkaError| {
                kafka_instance_alter_topic_config(i, t, k, v, 1, 10, e)
            };
            invalid(
                alter(null(), t.as_ptr(), keys.as_ptr(), values.as_ptr(), &mut e),
                &e,
                "inst",
            );
            invalid(
                alter(inst, null(), keys.as_ptr(), values.as_ptr(), &mut e),
                &e,
                "topic",
            );
            invalid(
                alter(inst, t.as_ptr(), null(), values.as_ptr(), &mut e),
                &e,
                "keys",
            );
            invalid(
                alter(inst, t.as_ptr(), keys.as_ptr(), null(), &mut e),
                &e,
                "values",
            );
            let null_key = [null()];
            invalid(
                alter(inst, t.as_ptr(), null_key.as_ptr(), values.as_ptr(), &mut e),
                &e,
                "keys[i]",
            );
        }
    ));
    case!(v, kafka_topic_config_count, || assert_eq!(
        unsafe { kafka_topic_config_count(null()) },
        0
    ));
    case!(v, kafka_topic_config_get, || assert!(unsafe {
        kafka_topic_config_get(null(), 0)
    }
    .is_null()));
    case!(v, kafka_topic_config_value, || assert!(unsafe {
        kafka_topic_config_value(null(), null())
    }
    .is_null()));
    case!(v, kafka_topic_config_free, || unsafe {
        kafka_topic_config_free(null_mut())
    });
}

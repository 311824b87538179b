//! Error codes and their names.

#![allow(unsafe_code)] // these tests call the C ABI, as a C program would

mod common;
use common::*;

#[test]
fn every_code_has_its_c_name() {
    for (code, name) in [
        (KAFKA_OK, "KAFKA_OK"),
        (KAFKA_ERR_INVALID_ARGUMENT, "KAFKA_ERR_INVALID_ARGUMENT"),
        (KAFKA_ERR_CONFIG, "KAFKA_ERR_CONFIG"),
        (KAFKA_ERR_SERIALIZATION, "KAFKA_ERR_SERIALIZATION"),
        (KAFKA_ERR_TIMEOUT, "KAFKA_ERR_TIMEOUT"),
        (KAFKA_ERR_QUEUE_FULL, "KAFKA_ERR_QUEUE_FULL"),
        (KAFKA_ERR_BROKER, "KAFKA_ERR_BROKER"),
        (KAFKA_ERR_CALLBACK, "KAFKA_ERR_CALLBACK"),
        (KAFKA_ERR_NOT_FOUND, "KAFKA_ERR_NOT_FOUND"),
        (KAFKA_ERR_BUFFER_TOO_SMALL, "KAFKA_ERR_BUFFER_TOO_SMALL"),
        (KAFKA_ERR_STATE, "KAFKA_ERR_STATE"),
        (KAFKA_ERR_WAKEUP, "KAFKA_ERR_WAKEUP"),
        (KAFKA_ERR_INTERNAL, "KAFKA_ERR_INTERNAL"),
    ] {
        assert_eq!(
            s(kafka_error_code_name(KafkaErrorCodeArg(code as i32))),
            name
        );
    }
}

#[test]
fn the_values_are_those_of_the_api_contract() {
    let values: Vec<i32> = [
        KAFKA_OK,
        KAFKA_ERR_INVALID_ARGUMENT,
        KAFKA_ERR_CONFIG,
        KAFKA_ERR_SERIALIZATION,
        KAFKA_ERR_TIMEOUT,
        KAFKA_ERR_QUEUE_FULL,
        KAFKA_ERR_BROKER,
        KAFKA_ERR_CALLBACK,
        KAFKA_ERR_NOT_FOUND,
        KAFKA_ERR_BUFFER_TOO_SMALL,
        KAFKA_ERR_STATE,
        KAFKA_ERR_WAKEUP,
        KAFKA_ERR_INTERNAL,
    ]
    .iter()
    .map(|c| *c as i32)
    .collect();
    assert_eq!(values, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 99]);
    assert_eq!(std::mem::size_of::<KafkaError>(), 4 + 4 + 1 + 1 + 512 + 2);
}

#[test]
fn unknown_codes_have_a_name_too() {
    for v in [-1, 12, 98, 100, i32::MAX, i32::MIN] {
        assert_eq!(
            s(kafka_error_code_name(KafkaErrorCodeArg(v))),
            "KAFKA_ERR_UNKNOWN"
        );
    }
}

#[test]
fn long_messages_are_truncated_and_terminated() {
    let cfg = kafka_config_new();
    let key = "k".repeat(2000);
    let mut e = err();
    let rc = unsafe { kafka_config_set(cfg, c(&key).as_ptr(), c("1").as_ptr(), &mut e) };
    assert_eq!(rc, KAFKA_ERR_CONFIG);
    let msg = e.message_str();
    assert_eq!(msg.len(), KAFKA_ERROR_MESSAGE_SIZE - 1);
    assert_eq!(e.message[KAFKA_ERROR_MESSAGE_SIZE - 1], 0);
    unsafe { kafka_config_free(cfg) };
}

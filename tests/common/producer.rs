//! Producer helpers shared by tests/producer.rs and
//! tests/producer_failures.rs: a producer from overrides, a checked close,
//! sends that return the code and message, and the delivery reports a
//! callback collected.

use super::*;
use std::ffi::{c_void, CStr};
use std::ptr::{null, null_mut};
use std::sync::Mutex;
use std::time::Duration;

pub const READ: Duration = Duration::from_secs(20);

pub fn producer(inst: *mut KafkaInstance, overrides: &[(&str, &str)]) -> *mut KafkaProducer {
    let o = if overrides.is_empty() {
        null_mut()
    } else {
        config(overrides)
    };
    let mut e = err();
    let p = unsafe { kafka_instance_get_producer(inst, o, &mut e) };
    assert!(!p.is_null(), "{}", e.message_str());
    unsafe { kafka_config_free(o) };
    p
}

pub fn close(p: *mut KafkaProducer) {
    let mut e = err();
    assert_eq!(
        unsafe { kafka_producer_close(p, 10000, &mut e) },
        KAFKA_OK,
        "{}",
        e.message_str()
    );
}

pub fn send_json(
    p: *mut KafkaProducer,
    topic: &str,
    key: Option<&str>,
    json: &str,
) -> (KafkaErrorCode, String) {
    let mut e = err();
    let key = key.map(c);
    let rc = unsafe {
        kafka_producer_send_json(
            p,
            c(topic).as_ptr(),
            key.as_ref().map_or(null(), |k| k.as_ptr()),
            c(json).as_ptr(),
            &mut e,
        )
    };
    (rc, e.message_str())
}

/// One delivery report, copied out of the callback.
#[derive(Debug, Clone)]
pub struct Report {
    pub code: KafkaErrorCode,
    pub rdkafka_code: i32,
    pub topic: String,
    pub offset: i64,
}

/// Outcomes collected by the delivery callback.
#[derive(Default)]
pub struct Outcomes {
    pub reports: Mutex<Vec<Report>>,
}

pub unsafe extern "C" fn on_delivery(r: *const KafkaDeliveryReport, opaque: *mut c_void) {
    let r = unsafe { &*r };
    let outcomes = unsafe { &*(opaque as *const Outcomes) };
    let topic = unsafe { CStr::from_ptr(r.topic) }
        .to_str()
        .unwrap()
        .to_owned();
    outcomes.reports.lock().unwrap().push(Report {
        code: r.code,
        rdkafka_code: r.rdkafka_code,
        topic,
        offset: r.offset,
    });
}

pub fn send_record(
    p: *mut KafkaProducer,
    record: &KafkaRecord,
    outcomes: &Outcomes,
) -> (KafkaErrorCode, String) {
    let mut e = err();
    let rc = unsafe {
        kafka_producer_send(
            p,
            record,
            Some(on_delivery),
            outcomes as *const _ as *mut c_void,
            &mut e,
        )
    };
    (rc, e.message_str())
}

pub fn record(topic: &CStr) -> KafkaRecord {
    empty_record(topic)
}

//! Producer helpers shared by tests/producer/ and
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

/// `count` packed records without keys, whose values are `{"n":i}` for i
/// from `first`, as `kafka_producer_hand_over_tracked_packed` takes them.
pub fn packed(first: u64, count: u64) -> (Vec<u8>, Vec<i64>) {
    let (mut data, mut lengths) = (Vec::new(), Vec::new());
    for n in first..first + count {
        let value = format!("{{\"n\":{n}}}");
        data.extend_from_slice(value.as_bytes());
        lengths.extend([-1, value.len() as i64]);
    }
    (data, lengths)
}

/// Hands `data` and `lengths` over, tagged from `first_tag`.
pub fn hand_over_packed(
    p: *mut KafkaProducer,
    topic: &CStr,
    (data, lengths): &(Vec<u8>, Vec<i64>),
    first_tag: u64,
    timeout_ms: i32,
) -> (KafkaErrorCode, String) {
    let mut e = err();
    let rc = unsafe {
        kafka_producer_hand_over_tracked_packed(
            p,
            topic.as_ptr(),
            data.as_ptr().cast(),
            data.len(),
            lengths.as_ptr(),
            lengths.len() / 2,
            first_tag,
            timeout_ms,
            &mut e,
        )
    };
    (rc, e.message_str())
}

/// The producer's count in flight once it settles: a report is taken a
/// moment before its record stops counting, so the count is read again
/// for up to 10 s while it is above 0.
pub fn in_flight_settled(p: *mut KafkaProducer) -> usize {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let n = unsafe { kafka_producer_in_flight(p) };
        if n == 0 || std::time::Instant::now() >= deadline {
            return n;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Asserts that `reports` hold exactly one report for each tag in `tags`
/// (`what` says where, in the failure message).
pub fn assert_one_report_each(
    reports: &[KafkaTrackedReport],
    tags: std::ops::Range<u64>,
    what: &str,
) {
    assert_eq!(
        reports.len() as u64,
        tags.end - tags.start,
        "{what}: one report per record"
    );
    let got: std::collections::BTreeSet<u64> = reports.iter().map(|r| r.tag).collect();
    assert_eq!(got, tags.collect(), "{what}: each tag once");
}

/// Takes tracked reports until `expected` came or `wait` passed.
pub fn take_reports(
    p: *mut KafkaProducer,
    expected: usize,
    wait: Duration,
) -> Vec<KafkaTrackedReport> {
    let mut got: Vec<KafkaTrackedReport> = Vec::new();
    let deadline = std::time::Instant::now() + wait;
    while got.len() < expected && std::time::Instant::now() < deadline {
        let mut out: Vec<KafkaTrackedReport> =
            (0..4096).map(|_| unsafe { std::mem::zeroed() }).collect();
        let (mut n, mut e) = (0usize, err());
        let rc = unsafe {
            kafka_producer_reports_gathered(p, out.as_mut_ptr(), 4096, 1000, 5, &mut n, &mut e)
        };
        assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
        out.truncate(n);
        got.extend(out);
    }
    got
}

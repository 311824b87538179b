//! Batch sends through the C ABI: one call, many records, a status and a
//! callback for each; against the embedded broker and, when
//! KAFKA_BOOTSTRAP_SERVERS is set, that broker too.

#![allow(unsafe_code)] // these tests call the C ABI, as a C program would

mod common;
use common::producer::*;
use common::*;

use std::ffi::c_void;
use std::ptr::{null, null_mut};
use std::sync::Mutex;

/// The `n` of each delivered record, from the opaque each was sent with.
static DELIVERED: Mutex<Vec<(usize, KafkaErrorCode)>> = Mutex::new(Vec::new());

unsafe extern "C" fn by_index(r: *const KafkaDeliveryReport, opaque: *mut c_void) {
    let code = unsafe { (*r).code };
    DELIVERED.lock().unwrap().push((opaque as usize, code));
}

/// The same for the JSON-array test (tests run at once).
static DELIVERED_ARRAY: Mutex<Vec<(usize, KafkaErrorCode)>> = Mutex::new(Vec::new());

unsafe extern "C" fn array_by_index(r: *const KafkaDeliveryReport, opaque: *mut c_void) {
    let code = unsafe { (*r).code };
    DELIVERED_ARRAY
        .lock()
        .unwrap()
        .push((opaque as usize, code));
}

/// Mixed valid and invalid records in one batch: the valid ones are
/// queued and delivered (one callback each, with its own opaque), the
/// invalid ones are reported per record and queue nothing; the broker
/// gets exactly the valid ones.
#[test]
fn kafka_producer_send_batch_queues_the_valid_and_reports_each_refusal() {
    capture_logs();
    for broker in brokers() {
        DELIVERED.lock().unwrap().clear();
        let topic = unique_topic("batch");
        create_topic(&broker, &topic, 2);
        let inst = instance(&broker, &[]);
        let p = producer(inst, &[("message.max.bytes", "10000")]);
        let (good, empty, bad) = (c(&topic), c(""), c("bad topic"));
        let big = vec![b'x'; 20_000];
        let values: Vec<String> = (0..6).map(|n| format!("{{\"n\":{n}}}")).collect();
        let mut records: Vec<KafkaRecord> = (0..6)
            .map(|n| {
                let mut r = record(&good);
                (r.value, r.value_len) = (values[n].as_ptr().cast(), values[n].len());
                r
            })
            .collect();
        records[1].topic = empty.as_ptr();
        records[3].topic = bad.as_ptr();
        (records[4].value, records[4].value_len) = (big.as_ptr().cast(), big.len());
        let opaques: Vec<*mut c_void> = (0..6).map(|n| n as *mut c_void).collect();
        let mut results = [KAFKA_ERR_INTERNAL; 6];
        let mut e = err();
        let rc = unsafe {
            kafka_producer_send_batch(
                p,
                records.as_ptr(),
                records.len(),
                Some(by_index),
                opaques.as_ptr(),
                results.as_mut_ptr(),
                &mut e,
            )
        };
        assert_eq!(rc, KAFKA_ERR_INVALID_ARGUMENT, "{}", e.message_str());
        assert!(
            e.message_str().contains("3 of 6 records refused"),
            "{}",
            e.message_str()
        );
        assert_eq!(results[0], KAFKA_OK);
        assert_eq!(results[1], KAFKA_ERR_INVALID_ARGUMENT, "empty topic");
        assert_eq!(results[2], KAFKA_OK);
        assert_eq!(results[3], KAFKA_ERR_INVALID_ARGUMENT, "invalid topic");
        assert_ne!(results[4], KAFKA_OK, "over message_max_bytes");
        assert_eq!(results[5], KAFKA_OK);
        close(p);
        let mut delivered = DELIVERED.lock().unwrap().clone();
        delivered.sort_by_key(|d| d.0);
        assert_eq!(
            delivered,
            vec![(0, KAFKA_OK), (2, KAFKA_OK), (5, KAFKA_OK)],
            "{}: one callback per queued record",
            broker.name
        );
        let got = read_back(&broker.bootstrap, &topic, 3, READ);
        let mut ns: Vec<String> = got
            .iter()
            .map(|m| {
                use rdkafka::message::Message;
                String::from_utf8_lossy(m.payload().unwrap()).into_owned()
            })
            .collect();
        ns.sort();
        assert_eq!(
            ns,
            vec![values[0].clone(), values[2].clone(), values[5].clone()]
        );
        unsafe { kafka_instance_free(inst) };
    }
}

/// The JSON batch: values checked one by one (a value that is not JSON is
/// refused alone), keys optional per record, NULL results allowed.
#[test]
fn kafka_producer_send_json_batch_checks_each_value() {
    capture_logs();
    for broker in brokers() {
        let topic = unique_topic("json-batch");
        create_topic(&broker, &topic, 1);
        let inst = instance(&broker, &[]);
        let p = producer(inst, &[]);
        let t = c(&topic);
        let values = [c("{\"n\":0}"), c("{not json"), c("[1,2]"), c("\"s\"")];
        let keys = [c("k0"), c("k1")];
        let value_ptrs: Vec<*const std::ffi::c_char> = values.iter().map(|v| v.as_ptr()).collect();
        let key_ptrs = [keys[0].as_ptr(), null(), keys[1].as_ptr(), null()];
        let mut results = [KAFKA_ERR_INTERNAL; 4];
        let mut e = err();
        let rc = unsafe {
            kafka_producer_send_json_batch(
                p,
                t.as_ptr(),
                key_ptrs.as_ptr(),
                value_ptrs.as_ptr(),
                4,
                None,
                null(),
                results.as_mut_ptr(),
                &mut e,
            )
        };
        assert_eq!(rc, KAFKA_ERR_SERIALIZATION, "{}", e.message_str());
        assert_eq!(
            results,
            [KAFKA_OK, KAFKA_ERR_SERIALIZATION, KAFKA_OK, KAFKA_OK]
        );
        // All valid, no keys, no results array: KAFKA_OK.
        let rc = unsafe {
            kafka_producer_send_json_batch(
                p,
                t.as_ptr(),
                null(),
                [values[0].as_ptr()].as_ptr(),
                1,
                None,
                null(),
                null_mut(),
                &mut e,
            )
        };
        assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
        assert_eq!(e.code, KAFKA_OK);
        close(p);
        let got = read_back(&broker.bootstrap, &topic, 4, READ);
        assert_eq!(got.len(), 4, "{}", broker.name);
        let keyed = got
            .iter()
            .filter(|m| {
                use rdkafka::message::Message;
                m.key().is_some()
            })
            .count();
        assert_eq!(keyed, 2);
        // Bad arguments: a NULL topic refuses every record.
        let p = producer(inst, &[]);
        let rc = unsafe {
            kafka_producer_send_json_batch(
                p,
                null(),
                null(),
                value_ptrs.as_ptr(),
                1,
                None,
                null(),
                results.as_mut_ptr(),
                &mut e,
            )
        };
        assert_eq!(rc, KAFKA_ERR_INVALID_ARGUMENT);
        assert_eq!(results[0], KAFKA_ERR_INVALID_ARGUMENT);
        close(p);
        unsafe { kafka_instance_free(inst) };
    }
}

/// The JSON-array batch: each element's text exactly as written is one
/// value, keys from a JSON array (escapes decoded, null: no key); a text
/// that is not such an array, or a count that does not match, queues
/// nothing and writes its code to every result; a record refused on its
/// own (over message_max_bytes) is refused alone.
#[test]
fn kafka_producer_send_json_array_splits_one_text_into_records() {
    capture_logs();
    for broker in brokers() {
        DELIVERED_ARRAY.lock().unwrap().clear();
        let topic = unique_topic("json-array");
        create_topic(&broker, &topic, 1);
        let inst = instance(&broker, &[]);
        let p = producer(inst, &[("message.max.bytes", "10000")]);
        let t = c(&topic);
        let big = format!("\"{}\"", "x".repeat(20_000));
        let values = c(&format!(r#"[{{"n": 0}}, [1,2] ,"s\u00e9",{big}, null]"#));
        let keys = c(r#"["k0", null, "a\"b\u00e9", "k3", "k4"]"#);
        let bad_keys = c("[\"a\", 7]");
        let opaques: Vec<*mut c_void> = (0..5).map(|n| n as *mut c_void).collect();
        let send = |keys: *const std::ffi::c_char,
                    values: *const std::ffi::c_char,
                    count: usize,
                    results: &mut [KafkaErrorCode],
                    e: &mut KafkaError| unsafe {
            kafka_producer_send_json_array(
                p,
                t.as_ptr(),
                keys,
                values,
                count,
                Some(array_by_index),
                opaques.as_ptr(),
                results.as_mut_ptr(),
                e,
            )
        };
        let mut e = err();
        // Refused as a whole: every result says so, nothing is queued.
        for (keys, values, count, code, says) in [
            (
                null(),
                c("[1, 2,]"),
                2,
                KAFKA_ERR_SERIALIZATION,
                "values_json is not a JSON array",
            ),
            (
                null(),
                c("{\"n\": 1}"),
                1,
                KAFKA_ERR_SERIALIZATION,
                "values_json is not a JSON array",
            ),
            (
                null(),
                c("[1, 2]"),
                3,
                KAFKA_ERR_INVALID_ARGUMENT,
                "holds 2 elements, but count is 3",
            ),
            (
                keys.as_ptr(),
                c("[1, 2]"),
                2,
                KAFKA_ERR_INVALID_ARGUMENT,
                "keys_json holds 5",
            ),
            (
                bad_keys.as_ptr(),
                c("[1, 2]"),
                2,
                KAFKA_ERR_SERIALIZATION,
                "keys_json[1] must be a string or null",
            ),
        ] {
            let mut results = [KAFKA_ERR_INTERNAL; 3];
            let rc = send(keys, values.as_ptr(), count, &mut results, &mut e);
            assert_eq!(rc, code, "{}", e.message_str());
            assert!(e.message_str().contains(says), "{}", e.message_str());
            assert!(results[..count].iter().all(|r| *r == code), "{results:?}");
        }
        // Five records, one over the size limit: four queued, one refused.
        let mut results = [KAFKA_ERR_INTERNAL; 5];
        let rc = send(keys.as_ptr(), values.as_ptr(), 5, &mut results, &mut e);
        assert_ne!(rc, KAFKA_OK);
        assert!(
            e.message_str().contains("1 of 5 records refused"),
            "{}",
            e.message_str()
        );
        assert_eq!(results[..3], [KAFKA_OK; 3]);
        assert_ne!(results[3], KAFKA_OK, "over message_max_bytes");
        assert_eq!(results[4], KAFKA_OK);
        close(p);
        let mut delivered = DELIVERED_ARRAY.lock().unwrap().clone();
        delivered.sort_by_key(|d| d.0);
        let expected: Vec<_> = [0, 1, 2, 4].iter().map(|n| (*n, KAFKA_OK)).collect();
        assert_eq!(
            delivered, expected,
            "{}: one callback per queued record",
            broker.name
        );
        use rdkafka::message::Message;
        let got: Vec<(Option<String>, String)> = read_back(&broker.bootstrap, &topic, 4, READ)
            .iter()
            .map(|m| {
                let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
                (m.key().map(text), text(m.payload().unwrap()))
            })
            .collect();
        let expected = [
            (Some("k0"), r#"{"n": 0}"#),
            (None, "[1,2]"),
            (Some("a\"b\u{e9}"), r#""s\u00e9""#),
            (Some("k4"), "null"),
        ]
        .map(|(k, v)| (k.map(str::to_owned), v.to_owned()));
        assert_eq!(got, expected, "{}", broker.name);
        unsafe { kafka_instance_free(inst) };
    }
}

/// A packed record's length is 0 or more, or -1 for none: -5 (or any
/// other below -1) is refused, naming the record, and nothing of the
/// batch is queued or handed over.
#[test]
fn a_packed_length_below_minus_one_is_refused_naming_the_record() {
    let broker = embedded();
    let topic = unique_topic("packed-lengths");
    create_topic(&broker, &topic, 1);
    let inst = instance(&broker, &[]);
    let p = producer(inst, &[]);
    let t = c(&topic);
    let data = b"{}{}{}".to_vec();
    for bad in [-5i64, -2, i64::MIN] {
        let lengths = [-1i64, 2, bad, 2, -1, 2];
        let (mut queued, mut e) = (77usize, err());
        let rc = unsafe {
            kafka_producer_send_tracked_packed(
                p,
                t.as_ptr(),
                data.as_ptr().cast(),
                data.len(),
                lengths.as_ptr(),
                3,
                1,
                1000,
                &mut queued,
                &mut e,
            )
        };
        assert_eq!((rc, queued), (KAFKA_ERR_INVALID_ARGUMENT, 0), "{bad}");
        let why = e.message_str();
        assert!(why.contains("record 1") && why.contains("key"), "{why}");
        let (rc, why) = hand_over_packed(p, &t, &(data.clone(), lengths.to_vec()), 10, 1000);
        assert_eq!(rc, KAFKA_ERR_INVALID_ARGUMENT, "{bad}: {why}");
        assert!(why.contains("record 1"), "{why}");
    }
    assert_eq!(in_flight_settled(p), 0, "nothing was queued");
    close(p);
    unsafe { kafka_instance_free(inst) };
}

//! `KafkaMessage` through the C ABI: every `kafka_message_*` accessor on a
//! polled message (binary key, value, headers, timestamp), on a tombstone,
//! and on NULL.

#![allow(unsafe_code)] // these tests call the C ABI, as a C program would

mod common;
use common::*;

use std::ffi::{c_char, c_void, CStr};
use std::ptr::{null, null_mut};
use std::time::Duration;

fn bytes<'a>(p: *const c_void, len: usize) -> Option<&'a [u8]> {
    (!p.is_null()).then(|| unsafe { std::slice::from_raw_parts(p.cast::<u8>(), len) })
}

/// Sends `r` and waits for its acknowledgement.
fn send(p: *mut KafkaProducer, r: &KafkaRecord) {
    let mut e = err();
    let rc = unsafe { kafka_producer_send_sync(p, r, 10_000, null_mut(), &mut e) };
    assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
}

/// `n` messages, sorted by offset.
fn poll(c: *mut KafkaConsumer, n: usize) -> Vec<*mut KafkaMessage> {
    let mut out = poll_owned(c, n, Duration::from_secs(30));
    assert_eq!(out.len(), n, "messages polled");
    out.sort_by_key(|m| unsafe { kafka_message_offset(*m) });
    out
}

#[test]
fn kafka_message_accessors_give_back_what_was_sent() {
    accessors_give_back_what_was_sent("false");
}

/// The same with `zero_copy_messages`: messages keep librdkafka's buffer,
/// and still outlive their consumer and instance.
#[test]
fn kafka_message_accessors_give_back_what_was_sent_zero_copy() {
    accessors_give_back_what_was_sent("true");
}

fn accessors_give_back_what_was_sent(zero_copy: &str) {
    for broker in brokers() {
        let (topic, _, inst) = group_fixture(&broker, "message", 1);
        let mut e = err();
        let p = unsafe { kafka_instance_get_producer(inst, null(), &mut e) };
        assert!(!p.is_null(), "{}", e.message_str());
        let t = c(&topic);
        let (key, value) = ([0u8, 1, 255, 0], [7u8, 0, 9]);
        let (h1, h2) = (c("trace-id"), c("empty"));
        let headers = [
            KafkaHeader {
                name: h1.as_ptr(),
                value: b"a\0b".as_ptr().cast(),
                value_len: 3,
            },
            KafkaHeader {
                name: h2.as_ptr(),
                value: null(),
                value_len: 0,
            },
            KafkaHeader {
                name: h1.as_ptr(),
                value: b"second".as_ptr().cast(),
                value_len: 6,
            },
        ];
        let mut full = empty_record(&t);
        (full.key, full.key_len) = (key.as_ptr().cast(), key.len());
        (full.value, full.value_len) = (value.as_ptr().cast(), value.len());
        (full.headers, full.header_count) = (headers.as_ptr(), headers.len());
        full.timestamp_ms = 1_600_000_000_123;
        send(p, &full);
        let mut tombstone = empty_record(&t);
        (tombstone.key, tombstone.key_len) = (b"gone".as_ptr().cast(), 4);
        send(p, &tombstone);
        assert_eq!(unsafe { kafka_producer_close(p, 10_000, &mut e) }, KAFKA_OK);

        let cons = consumer(inst, &[&topic], &[("zero_copy_messages", zero_copy)]);
        let got = poll(cons, 2);
        let m = got[0];
        unsafe {
            assert_eq!(CStr::from_ptr(kafka_message_topic(m)).to_str(), Ok(&*topic));
            assert_eq!(kafka_message_partition(m), 0);
            assert_eq!(kafka_message_offset(m), 0);
            assert_eq!(kafka_message_timestamp(m), 1_600_000_000_123);
            let mut len = 99;
            assert_eq!(bytes(kafka_message_key(m, &mut len), len), Some(&key[..]));
            assert_eq!(
                bytes(kafka_message_value(m, &mut len), len),
                Some(&value[..])
            );
            // The length pointer is optional.
            assert!(!kafka_message_value(m, null_mut()).is_null());
            assert_eq!(kafka_message_header_count(m), 3);
            let (mut name, mut v, mut vlen): (*const c_char, *const c_void, usize) =
                (null(), null(), 99);
            assert!(kafka_message_header(m, 0, &mut name, &mut v, &mut vlen));
            assert_eq!(CStr::from_ptr(name).to_str(), Ok("trace-id"));
            assert_eq!(bytes(v, vlen), Some(&b"a\0b"[..]));
            assert!(kafka_message_header(m, 1, &mut name, &mut v, &mut vlen));
            assert_eq!(CStr::from_ptr(name).to_str(), Ok("empty"));
            assert!(v.is_null(), "a header without a value");
            assert_eq!(vlen, 0);
            // By name: the last header of that name.
            let (mut v, mut vlen) = (null(), 99usize);
            let wanted = c("trace-id");
            assert!(kafka_message_header_last(
                m,
                wanted.as_ptr(),
                &mut v,
                &mut vlen
            ));
            assert_eq!(bytes(v, vlen), Some(&b"second"[..]), "the last of two");
            let wanted = c("empty");
            assert!(kafka_message_header_last(
                m,
                wanted.as_ptr(),
                &mut v,
                &mut vlen
            ));
            assert!(v.is_null() && vlen == 0, "present, without a value");
            let wanted = c("absent");
            assert!(!kafka_message_header_last(
                m,
                wanted.as_ptr(),
                &mut v,
                &mut vlen
            ));
            assert!(!kafka_message_header_last(
                m,
                null(),
                null_mut(),
                null_mut()
            ));
            // Out of range: false, outputs untouched; NULL outputs allowed.
            let before = name;
            assert!(!kafka_message_header(m, 3, &mut name, &mut v, &mut vlen));
            assert_eq!(name, before);
            assert!(kafka_message_header(
                m,
                0,
                null_mut(),
                null_mut(),
                null_mut()
            ));

            let tomb = got[1];
            assert_eq!(kafka_message_offset(tomb), 1);
            assert!(kafka_message_timestamp(tomb) > 0, "broker or create time");
            let mut len = 99;
            assert_eq!(
                bytes(kafka_message_key(tomb, &mut len), len),
                Some(&b"gone"[..])
            );
            assert!(kafka_message_value(tomb, &mut len).is_null(), "a tombstone");
            assert_eq!(len, 0);
            assert_eq!(kafka_message_header_count(tomb), 0);
        }
        // kafka_message_views: the same fields, every message at once.
        unsafe {
            let ptrs: Vec<*const KafkaMessage> = got.iter().map(|&m| m as *const _).collect();
            let mut views: Vec<KafkaMessageView> = (0..2).map(|_| std::mem::zeroed()).collect();
            let rc = kafka_message_views(ptrs.as_ptr(), 2, views.as_mut_ptr(), &mut e);
            assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
            let v = &views[0];
            assert_eq!(CStr::from_ptr(v.topic).to_str(), Ok(&*topic));
            assert_eq!(
                (v.partition, v.offset, v.timestamp_ms),
                (0, 0, 1_600_000_000_123)
            );
            assert_eq!(bytes(v.key, v.key_len), Some(&key[..]));
            assert_eq!(bytes(v.value, v.value_len), Some(&value[..]));
            assert_eq!(v.header_count, 3);
            let t = &views[1];
            assert_eq!(t.offset, 1);
            assert!(t.value.is_null() && t.value_len == 0, "a tombstone");
            assert_eq!(bytes(t.key, t.key_len), Some(&b"gone"[..]));
            // A NULL message among them: refused, nothing written.
            let with_null = [ptrs[0], null()];
            let mut fresh: Vec<KafkaMessageView> = (0..2).map(|_| std::mem::zeroed()).collect();
            let rc = kafka_message_views(with_null.as_ptr(), 2, fresh.as_mut_ptr(), &mut e);
            assert_eq!(rc, KAFKA_ERR_INVALID_ARGUMENT);
            assert!(
                e.message_str().contains("messages[1] is NULL"),
                "{}",
                e.message_str()
            );
            assert!(fresh[0].topic.is_null(), "nothing written");
            assert_eq!(kafka_message_views(null(), 0, null_mut(), &mut e), KAFKA_OK);
        }
        // Messages outlive their consumer and instance: read after both
        // are gone, then freed.
        close_consumer(cons);
        unsafe { kafka_instance_free(inst) };
        unsafe {
            let m = got[0];
            assert_eq!(kafka_message_partition(m), 0);
            assert_eq!(CStr::from_ptr(kafka_message_topic(m)).to_str(), Ok(&*topic));
            let mut len = 99;
            assert_eq!(
                bytes(kafka_message_value(m, &mut len), len),
                Some(&value[..])
            );
            let (mut name, mut v, mut vlen) = (null(), null(), 0usize);
            assert!(kafka_message_header(m, 2, &mut name, &mut v, &mut vlen));
            assert_eq!(bytes(v, vlen), Some(&b"second"[..]));
        }
        for m in got {
            unsafe { kafka_message_free(m) };
        }
    }
}

#[test]
fn kafka_message_accessors_answer_null_with_nothing() {
    let mut len = 99;
    unsafe {
        assert!(kafka_message_topic(null()).is_null());
        assert_eq!(kafka_message_partition(null()), -1);
        assert_eq!(kafka_message_offset(null()), -1);
        assert_eq!(kafka_message_timestamp(null()), -1);
        assert!(kafka_message_key(null(), &mut len).is_null());
        assert_eq!(len, 0);
        len = 99;
        assert!(kafka_message_value(null(), &mut len).is_null());
        assert_eq!(len, 0);
        assert_eq!(kafka_message_header_count(null()), 0);
        let mut name: *const c_char = null();
        assert!(!kafka_message_header(
            null(),
            0,
            &mut name,
            null_mut(),
            null_mut()
        ));
        assert!(name.is_null());
        kafka_message_free(null_mut());
    }
}

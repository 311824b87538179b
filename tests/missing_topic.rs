//! A topic that does not exist, on a cluster that does not create topics
//! on first use (tansu as scripts/broker.sh starts it; the embedded broker
//! when the client does not ask it to): the errors and the log say the
//! topic is missing, with Kafka's code for it (3, UNKNOWN_TOPIC_OR_PART),
//! instead of reading as a broker that did not answer.

#![allow(unsafe_code)] // these tests call the C ABI, as a C program would

mod common;
use common::producer::*;
use common::*;

use std::ptr::{null, null_mut};
use std::time::Duration;

/// Clients that never ask the broker to create a topic.
const NO_AUTO_CREATE: (&str, &str) = ("allow.auto.create.topics", "false");

fn says_missing(text: &str, topic: &str) -> bool {
    text.contains(&format!("topic {topic:?} does not exist"))
}

fn logged_missing(topic: &str) -> bool {
    logged().iter().any(|r| says_missing(&r.message, topic))
}

#[test]
fn sends_flush_and_close_to_a_topic_that_does_not_exist_say_so() {
    let _serial = serial();
    capture_logs();
    for broker in brokers() {
        let inst = instance(&broker, &[]);
        let topic = unique_topic("absent");
        let t = c(&topic);
        let p = producer(inst, &[NO_AUTO_CREATE]);
        let v = c("{\"order_id\": 1}");
        let mut e = err();
        clear_logged();
        let rc = unsafe {
            kafka_producer_send_json_sync(
                p,
                t.as_ptr(),
                null(),
                v.as_ptr(),
                3000,
                null_mut(),
                &mut e,
            )
        };
        let why = e.message_str();
        assert_eq!(rc, KAFKA_ERR_TIMEOUT, "{}: {why}", broker.name);
        assert!(
            says_missing(&why, &topic),
            "{}: send_sync: {why}",
            broker.name
        );
        assert_eq!(
            e.rdkafka_code, 3,
            "{}: UNKNOWN_TOPIC_OR_PART: {why}",
            broker.name
        );
        assert!(
            logged_missing(&topic),
            "{}: the log says so too",
            broker.name
        );

        let rc = unsafe { kafka_producer_send_json(p, t.as_ptr(), null(), v.as_ptr(), &mut e) };
        assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
        let rc = unsafe { kafka_producer_flush(p, 2000, null_mut(), &mut e) };
        let why = e.message_str();
        assert_eq!(rc, KAFKA_ERR_TIMEOUT, "{}: {why}", broker.name);
        assert!(says_missing(&why, &topic), "{}: flush: {why}", broker.name);
        assert_eq!(e.rdkafka_code, 3, "{}: {why}", broker.name);

        let rc = unsafe { kafka_producer_close(p, 1000, &mut e) };
        let why = e.message_str();
        assert_eq!(rc, KAFKA_ERR_TIMEOUT, "{}: {why}", broker.name);
        assert!(says_missing(&why, &topic), "{}: close: {why}", broker.name);

        // A broker that is not there still reads as one: no topic is
        // blamed for it.
        let gone = instance_from(&[("bootstrap_servers", "127.0.0.1:1")]);
        let p = producer(gone, &[NO_AUTO_CREATE]);
        let rc = unsafe {
            kafka_producer_send_json_sync(
                p,
                t.as_ptr(),
                null(),
                v.as_ptr(),
                1000,
                null_mut(),
                &mut e,
            )
        };
        let why = e.message_str();
        assert_eq!(rc, KAFKA_ERR_TIMEOUT, "{why}");
        assert!(!why.contains("does not exist"), "{why}");
        assert_ne!(e.rdkafka_code, 3, "{why}");
        let _ = unsafe { kafka_producer_close(p, 100, &mut e) };
        unsafe { kafka_instance_free(gone) };
        unsafe { kafka_instance_free(inst) };
    }
}

#[test]
fn a_consumer_subscribed_to_a_topic_that_does_not_exist_logs_so() {
    let _serial = serial();
    capture_logs();
    for broker in brokers() {
        let (_, _, inst) = group_fixture(&broker, "present", 1);
        let topic = unique_topic("absent-sub");
        clear_logged();
        let cons = consumer(inst, &[&topic], &[]);
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while !logged_missing(&topic) && std::time::Instant::now() < deadline {
            let got = poll_messages(cons, 1, Duration::from_millis(200), |_| ());
            assert!(got.is_empty(), "nothing to read");
        }
        let records: Vec<String> = logged().iter().map(|r| r.message.clone()).collect();
        assert!(
            logged_missing(&topic),
            "{}: a record names the missing topic: {records:?}",
            broker.name
        );
        close_consumer(cons);
        unsafe { kafka_instance_free(inst) };
    }
}

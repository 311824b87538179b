//! The producer when things go wrong: a stopped or unreachable broker, a
//! full queue, bad input, a close with messages still queued; against the
//! embedded broker, which these tests stop, slow down and fail.

#![allow(unsafe_code)] // these tests call the C ABI, as a C program would

mod common;
use common::producer::*;
use common::*;

use std::collections::BTreeSet;
use std::ffi::c_void;
use std::ptr::{null, null_mut};
use std::time::Duration;

use rdkafka::message::Message;

#[test]
fn a_stopped_broker_times_out_sync_sends_then_delivers_everything_once() {
    capture_logs();
    let broker = embedded();
    let topic = unique_topic("outage");
    create_topic(&broker, &topic, 1);
    let inst = instance(&broker, &[]);
    let p = producer(inst, &[]);
    let (rc, msg) = send_json(p, &topic, None, "{\"before\":true}");
    assert_eq!(rc, KAFKA_OK, "{msg}");
    let mut e = err();
    assert_eq!(
        unsafe { kafka_producer_flush(p, 10000, null_mut(), &mut e) },
        KAFKA_OK
    );
    assert_eq!(
        unsafe { kafka_mock_cluster_broker_down(broker.mock, 1, &mut e) },
        KAFKA_OK
    );

    let topic_c = c(&topic);
    let json = c("{\"during\":0}");
    let rc = unsafe {
        kafka_producer_send_json_sync(
            p,
            topic_c.as_ptr(),
            null(),
            json.as_ptr(),
            1000,
            null_mut(),
            &mut e,
        )
    };
    assert_eq!(rc, KAFKA_ERR_TIMEOUT, "{}", e.message_str());
    assert!(logged()
        .iter()
        .any(|r| r.controller == "kafka_instance.producer.send_json_sync" && r.level == 3));
    for i in 1..20 {
        assert_eq!(
            send_json(p, &topic, None, &format!("{{\"during\":{i}}}")).0,
            KAFKA_OK
        );
    }
    let mut left = 0usize;
    assert_eq!(
        unsafe { kafka_producer_flush(p, 500, &mut left, &mut e) },
        KAFKA_ERR_TIMEOUT
    );
    assert_eq!(left, 20);
    assert_eq!(unsafe { kafka_producer_in_flight(p) }, 20);

    assert_eq!(
        unsafe { kafka_mock_cluster_broker_up(broker.mock, 1, &mut e) },
        KAFKA_OK
    );
    assert_eq!(
        unsafe { kafka_producer_flush(p, 30000, &mut left, &mut e) },
        KAFKA_OK,
        "{}",
        e.message_str()
    );
    assert_eq!(left, 0);
    let got = read_back(&broker.bootstrap, &topic, 21, READ);
    let values: Vec<String> = got
        .iter()
        .map(|m| String::from_utf8(m.payload().unwrap().to_vec()).unwrap())
        .collect();
    let unique: BTreeSet<&String> = values.iter().collect();
    assert_eq!(values.len(), 21, "every message exactly once: {values:?}");
    assert_eq!(unique.len(), 21);
    close(p);
    unsafe { kafka_instance_free(inst) };
}

#[test]
fn one_callback_per_message_across_success_and_failure() {
    let broker = embedded();
    let topic = unique_topic("callbacks");
    create_topic(&broker, &topic, 2);
    let inst = instance(&broker, &[]);
    let p = producer(inst, &[("delivery_timeout_ms", "3000")]);
    let outcomes = Outcomes::default();
    let topic_c = c(&topic);
    // A send to a partition that does not exist fails in its callback, or
    // at once (nothing queued, no callback) once librdkafka has the topic's
    // metadata: which one depends on timing. Either way, one callback per
    // message queued.
    let (mut queued, mut refused) = (0, 0);
    for i in 0..30 {
        let mut r = record(&topic_c);
        let v = format!("{i}");
        r.value = v.as_ptr().cast();
        r.value_len = v.len();
        let missing = i % 3 == 0;
        if missing {
            r.has_partition = true;
            r.partition = 7;
        }
        let mut e = err();
        let rc = unsafe {
            kafka_producer_send(
                p,
                &r,
                Some(on_delivery),
                &outcomes as *const _ as *mut c_void,
                &mut e,
            )
        };
        if rc == KAFKA_OK {
            queued += 1;
        } else {
            assert!(missing, "{}", e.message_str());
            assert_eq!(
                (rc, e.rdkafka_code),
                (KAFKA_ERR_BROKER, -190),
                "{}",
                e.message_str()
            );
            refused += 1;
        }
    }
    let mut e = err();
    assert_eq!(
        unsafe { kafka_producer_flush(p, 20000, null_mut(), &mut e) },
        KAFKA_OK,
        "{}",
        e.message_str()
    );
    let reports = outcomes.reports.lock().unwrap().clone();
    assert_eq!(
        reports.len(),
        queued,
        "exactly one callback per queued message"
    );
    let ok = reports.iter().filter(|r| r.code == KAFKA_OK).count();
    assert_eq!(ok, 20);
    assert_eq!(
        reports.len() - ok + refused,
        10,
        "every send to partition 7 failed, once"
    );
    for r in reports.iter().filter(|r| r.code != KAFKA_OK) {
        assert_eq!(r.code, KAFKA_ERR_BROKER);
        assert_eq!(r.rdkafka_code, -190, "_UNKNOWN_PARTITION");
        assert_eq!(r.offset, -1);
    }
    assert!(reports.iter().all(|r| r.topic == topic));
    close(p);
    unsafe { kafka_instance_free(inst) };
}

#[test]
fn close_purges_what_is_left_reports_it_and_calls_back_before_returning() {
    let broker = embedded();
    let topic = unique_topic("close");
    create_topic(&broker, &topic, 1);
    let inst = instance(&broker, &[]);
    let p = producer(inst, &[]);
    let mut e = err();
    assert_eq!(
        unsafe { kafka_mock_cluster_broker_down(broker.mock, 1, &mut e) },
        KAFKA_OK
    );
    let outcomes = Outcomes::default();
    let topic_c = c(&topic);
    for _ in 0..3 {
        assert_eq!(send_record(p, &record(&topic_c), &outcomes).0, KAFKA_OK);
    }
    // An invalid timeout leaves the producer open.
    assert_eq!(
        unsafe { kafka_producer_close(p, -5, &mut e) },
        KAFKA_ERR_INVALID_ARGUMENT
    );
    let rc = unsafe { kafka_producer_close(p, 300, &mut e) };
    assert_eq!(rc, KAFKA_ERR_TIMEOUT);
    assert!(
        e.message_str().contains("3 message(s) not delivered"),
        "{}",
        e.message_str()
    );
    let reports = outcomes.reports.lock().unwrap().clone();
    assert_eq!(
        reports.len(),
        3,
        "every purged message called back before close returned"
    );
    assert!(
        reports
            .iter()
            .all(|r| r.code == KAFKA_ERR_BROKER && r.rdkafka_code == -152),
        "{reports:?}"
    );
    assert_eq!(
        unsafe { kafka_producer_close(null_mut(), 100, &mut e) },
        KAFKA_OK,
        "NULL is a no-op"
    );
    unsafe { kafka_mock_cluster_broker_up(broker.mock, 1, &mut e) };
    unsafe { kafka_instance_free(inst) };
}

/// A producer (with `overrides`) of a new topic on the embedded broker,
/// whose broker is down: what it sends stays queued. The caller brings
/// the broker back up.
fn stalled(
    prefix: &str,
    overrides: &[(&str, &str)],
) -> (Broker, String, *mut KafkaInstance, *mut KafkaProducer) {
    let broker = embedded();
    let topic = unique_topic(prefix);
    create_topic(&broker, &topic, 1);
    let inst = instance(&broker, &[]);
    let p = producer(inst, overrides);
    let mut e = err();
    let rc = unsafe { kafka_mock_cluster_broker_down(broker.mock, 1, &mut e) };
    assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
    (broker, topic, inst, p)
}

#[test]
fn a_full_queue_is_an_error_never_a_block() {
    let (broker, topic, inst, p) = stalled("full", &[("queue.buffering.max.messages", "5")]);
    let mut e = err();
    let mut codes = Vec::new();
    for i in 0..8 {
        codes.push(send_json(p, &topic, None, &format!("{i}")).0);
    }
    assert_eq!(&codes[..5], &[KAFKA_OK; 5]);
    assert!(
        codes[5..].iter().all(|c| *c == KAFKA_ERR_QUEUE_FULL),
        "{codes:?}"
    );
    assert_eq!(unsafe { kafka_producer_in_flight(p) }, 5);
    unsafe { kafka_mock_cluster_broker_up(broker.mock, 1, &mut e) };
    close(p);
    unsafe { kafka_instance_free(inst) };
}

#[test]
fn bad_input_is_refused_and_nothing_is_queued() {
    let broker = embedded();
    let inst = instance(&broker, &[]);
    let p = producer(inst, &[]);
    for (topic, json, code, words) in [
        ("", "{}", KAFKA_ERR_INVALID_ARGUMENT, "topic is empty"),
        (
            &*"t".repeat(250),
            "{}",
            KAFKA_ERR_INVALID_ARGUMENT,
            "at most 249",
        ),
        ("has space", "{}", KAFKA_ERR_INVALID_ARGUMENT, "contains"),
        ("ok", "", KAFKA_ERR_SERIALIZATION, "line 1, column 0"),
        ("ok", "{\"a\":", KAFKA_ERR_SERIALIZATION, "line 1, column 5"),
        (
            "ok",
            "{\"a\":1}{\"b\":2}",
            KAFKA_ERR_SERIALIZATION,
            "trailing characters",
        ),
        ("ok", "{'a':1}", KAFKA_ERR_SERIALIZATION, "not valid JSON"),
        ("ok", "[1,\n2,]", KAFKA_ERR_SERIALIZATION, "line 2"),
    ] {
        let (rc, msg) = send_json(p, topic, None, json);
        assert_eq!(rc, code, "{topic:?} {json:?}: {msg}");
        assert!(msg.contains(words), "{msg}");
    }
    let bad = std::ffi::CString::new(vec![b'o', 0xc3]).unwrap();
    let mut e = err();
    unsafe {
        let (t, j) = (c("ok"), c("{}"));
        assert_eq!(
            kafka_producer_send_json(p, bad.as_ptr(), null(), j.as_ptr(), &mut e),
            KAFKA_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            kafka_producer_send_json(p, t.as_ptr(), bad.as_ptr(), j.as_ptr(), &mut e),
            KAFKA_ERR_INVALID_ARGUMENT
        );
        assert!(e.message_str().contains("key is not valid UTF-8"));
        assert_eq!(
            kafka_producer_send_json(p, t.as_ptr(), null(), bad.as_ptr(), &mut e),
            KAFKA_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            kafka_producer_send_json(p, null(), null(), j.as_ptr(), &mut e),
            KAFKA_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            kafka_producer_send_json(p, t.as_ptr(), null(), null(), &mut e),
            KAFKA_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            kafka_producer_send_json(null_mut(), t.as_ptr(), null(), j.as_ptr(), &mut e),
            KAFKA_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            kafka_producer_send_json_sync(
                p,
                t.as_ptr(),
                null(),
                j.as_ptr(),
                -2,
                null_mut(),
                &mut e
            ),
            KAFKA_ERR_INVALID_ARGUMENT
        );
        // Records.
        let outcomes = Outcomes::default();
        let mut r = record(&t);
        r.key_len = 3;
        assert_eq!(send_record(p, &r, &outcomes).0, KAFKA_ERR_INVALID_ARGUMENT);
        let mut r = record(&t);
        r.value_len = 1;
        assert_eq!(send_record(p, &r, &outcomes).0, KAFKA_ERR_INVALID_ARGUMENT);
        let mut r = record(&t);
        r.header_count = 1;
        assert_eq!(send_record(p, &r, &outcomes).0, KAFKA_ERR_INVALID_ARGUMENT);
        let hs = [KafkaHeader {
            name: null(),
            value: null(),
            value_len: 0,
        }];
        let mut r = record(&t);
        r.headers = hs.as_ptr();
        r.header_count = 1;
        let (rc, msg) = send_record(p, &r, &outcomes);
        assert_eq!(rc, KAFKA_ERR_INVALID_ARGUMENT);
        assert!(msg.contains("record->headers[0].name is NULL"), "{msg}");
        let mut r = record(&t);
        r.has_partition = true;
        r.partition = -3;
        assert_eq!(send_record(p, &r, &outcomes).0, KAFKA_ERR_INVALID_ARGUMENT);
        let mut r = record(&t);
        r.timestamp_ms = -10;
        assert_eq!(send_record(p, &r, &outcomes).0, KAFKA_ERR_INVALID_ARGUMENT);
        let r = KafkaRecord {
            topic: null(),
            ..record(&t)
        };
        assert_eq!(send_record(p, &r, &outcomes).0, KAFKA_ERR_INVALID_ARGUMENT);
        assert_eq!(
            kafka_producer_send(p, null(), None, null_mut(), &mut e),
            KAFKA_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            kafka_producer_send_sync(p, &record(&t), -9, null_mut(), &mut e),
            KAFKA_ERR_INVALID_ARGUMENT
        );
        assert_eq!(
            kafka_producer_flush(p, -3, null_mut(), &mut e),
            KAFKA_ERR_INVALID_ARGUMENT
        );
        assert_eq!(kafka_producer_in_flight(null()), 0);
        assert_eq!(kafka_producer_in_flight(p), 0, "nothing was queued");
        assert!(
            outcomes.reports.lock().unwrap().is_empty(),
            "no callback for refused sends"
        );
    }
    close(p);
    unsafe { kafka_instance_free(inst) };
}

#[test]
fn an_unreachable_broker_does_not_block_creation_and_sends_time_out() {
    let inst = {
        let cfg = config(&[("bootstrap_servers", "127.0.0.1:1")]);
        let mut e = err();
        let i = unsafe { kafka_instance_new(cfg, &mut e) };
        unsafe { kafka_config_free(cfg) };
        i
    };
    let p = producer(inst, &[]);
    let mut e = err();
    let (t, j) = (c("t"), c("1"));
    let start = std::time::Instant::now();
    let rc = unsafe {
        kafka_producer_send_json_sync(p, t.as_ptr(), null(), j.as_ptr(), 500, null_mut(), &mut e)
    };
    assert_eq!(rc, KAFKA_ERR_TIMEOUT);
    assert!(start.elapsed() < Duration::from_secs(10));
    let rc = unsafe { kafka_producer_close(p, 200, &mut e) };
    assert_eq!(rc, KAFKA_ERR_TIMEOUT);
    assert!(start.elapsed() < Duration::from_secs(20));
    unsafe { kafka_instance_free(inst) };
}

/// Backpressure: with the queue full and the broker away, a send that
/// waits for room gives up within its timeout (nothing queued); once the
/// broker drains the queue, it gets room and succeeds. A negative timeout
/// (an unbounded wait) is refused.
#[test]
fn kafka_producer_send_wait_waits_for_room_within_its_timeout() {
    let (broker, topic, inst, p) = stalled("wait", &[("queue.buffering.max.messages", "5")]);
    let mut e = err();
    for i in 0..5 {
        assert_eq!(send_json(p, &topic, None, &format!("{i}")).0, KAFKA_OK);
    }
    let t = c(&topic);
    let value = b"{\"n\":5}";
    let mut r = record(&t);
    (r.value, r.value_len) = (value.as_ptr().cast(), value.len());
    let outcomes = Outcomes::default();
    let opaque = &outcomes as *const Outcomes as *mut c_void;
    let started = std::time::Instant::now();
    let rc = unsafe { kafka_producer_send_wait(p, &r, Some(on_delivery), opaque, 300, &mut e) };
    let waited = started.elapsed();
    assert_eq!(rc, KAFKA_ERR_TIMEOUT, "{}", e.message_str());
    assert!(
        waited >= Duration::from_millis(300),
        "gave up early: {waited:?}"
    );
    assert!(
        waited < Duration::from_secs(5),
        "a bounded wait took {waited:?}"
    );
    assert_eq!(unsafe { kafka_producer_in_flight(p) }, 5, "nothing queued");
    let rc = unsafe { kafka_producer_send_wait(p, &r, None, null_mut(), -1, &mut e) };
    assert_eq!(rc, KAFKA_ERR_INVALID_ARGUMENT, "an unbounded wait");
    // The broker comes back from another thread while this one waits.
    let mock = broker.mock as usize;
    let back = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(500));
        let mut e = err();
        unsafe { kafka_mock_cluster_broker_up(mock as *mut KafkaMockCluster, 1, &mut e) };
    });
    let rc = unsafe { kafka_producer_send_wait(p, &r, Some(on_delivery), opaque, 30_000, &mut e) };
    assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
    back.join().unwrap();
    close(p);
    let reports = outcomes.reports.lock().unwrap().clone();
    assert_eq!(
        reports.len(),
        1,
        "one callback, for the queued one: {reports:?}"
    );
    assert_eq!(reports[0].code, KAFKA_OK);
    unsafe { kafka_instance_free(inst) };
}

/// Purging what is queued gives each purged message its failure callback
/// (librdkafka's _PURGE_QUEUE, -152), and nothing is left in flight.
#[test]
fn kafka_producer_purge_reports_each_purged_message_once() {
    let (broker, topic, inst, p) = stalled("purge", &[]);
    let mut e = err();
    let t = c(&topic);
    let outcomes = Outcomes::default();
    for _ in 0..5 {
        assert_eq!(send_record(p, &record(&t), &outcomes).0, KAFKA_OK);
    }
    let rc = unsafe { kafka_producer_purge(p, true, true, &mut e) };
    assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
    let mut left = 99;
    let rc = unsafe { kafka_producer_flush(p, 10_000, &mut left, &mut e) };
    assert_eq!((rc, left), (KAFKA_OK, 0), "{}", e.message_str());
    let reports = outcomes.reports.lock().unwrap().clone();
    assert_eq!(reports.len(), 5, "{reports:?}");
    assert!(
        reports
            .iter()
            .all(|r| r.code != KAFKA_OK && (r.rdkafka_code == -152 || r.rdkafka_code == -151)),
        "{reports:?}"
    );
    assert_eq!(
        unsafe { kafka_producer_purge(null_mut(), true, false, &mut e) },
        KAFKA_ERR_INVALID_ARGUMENT
    );
    unsafe { kafka_mock_cluster_broker_up(broker.mock, 1, &mut e) };
    close(p);
    unsafe { kafka_instance_free(inst) };
}

/// Records handed over while the broker is down wait in the producer's
/// sender thread (it waits for room in the local queue without limit);
/// a close out of time fails every one of them, counts them in its error,
/// and returns instead of waiting for that thread.
#[test]
fn a_close_out_of_time_fails_every_record_handed_over_and_counts_them() {
    let (broker, topic, inst, p) = stalled(
        "hand-over-close",
        &[("queue.buffering.max.messages", "100")],
    );
    let t = c(&topic);
    for b in 0..5 {
        let (rc, msg) = hand_over_packed(p, &t, &packed(b * 1000, 1000), b * 1000, -1);
        assert_eq!(rc, KAFKA_OK, "{msg}");
    }
    assert_eq!(unsafe { kafka_producer_in_flight(p) }, 5000);
    let mut e = err();
    let started = std::time::Instant::now();
    let rc = unsafe { kafka_producer_close(p, 500, &mut e) };
    assert_eq!(rc, KAFKA_ERR_TIMEOUT, "{}", e.message_str());
    assert!(
        e.message_str()
            .contains("with 5000 message(s) not delivered"),
        "{}",
        e.message_str()
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "close took {:?}",
        started.elapsed()
    );
    unsafe { kafka_mock_cluster_broker_up(broker.mock, 1, &mut e) };
    unsafe { kafka_instance_free(inst) };
}

/// At most 20,000 records wait for the sender thread: a hand-over beyond
/// that is refused at once (KAFKA_ERR_QUEUE_FULL) and takes nothing, and
/// `kafka_producer_wait_handed_over` waits for them within its timeout;
/// the ones taken are all delivered once the broker is back.
#[test]
fn a_hand_over_beyond_its_room_is_refused_and_takes_nothing() {
    let (broker, topic, inst, p) =
        stalled("hand-over-room", &[("queue.buffering.max.messages", "100")]);
    let t = c(&topic);
    let (rc, msg) = hand_over_packed(p, &t, &packed(0, 1000), 0, -1);
    assert_eq!(rc, KAFKA_OK, "{msg}");
    // The thread takes these and waits for room in the local queue; then
    // 20,000 more fit.
    let taken = std::time::Instant::now() + Duration::from_secs(30);
    for b in 1..=20 {
        loop {
            let (rc, msg) = hand_over_packed(p, &t, &packed(b * 1000, 1000), b * 1000, -1);
            if rc == KAFKA_ERR_QUEUE_FULL && b == 20 && std::time::Instant::now() < taken {
                std::thread::sleep(Duration::from_millis(50)); // not taken yet
                continue;
            }
            assert_eq!(rc, KAFKA_OK, "hand-over {b}: {msg}");
            break;
        }
    }
    let (rc, msg) = hand_over_packed(p, &t, &packed(21_000, 1), 21_000, -1);
    assert_eq!(rc, KAFKA_ERR_QUEUE_FULL, "{msg}");
    assert!(msg.contains("none of these 1"), "{msg}");
    assert_eq!(unsafe { kafka_producer_in_flight(p) }, 21_000);
    let mut e = err();
    let rc = unsafe { kafka_producer_wait_handed_over(p, 300, &mut e) };
    assert_eq!(rc, KAFKA_ERR_TIMEOUT, "{}", e.message_str());
    unsafe { kafka_mock_cluster_broker_up(broker.mock, 1, &mut e) };
    let rc = unsafe { kafka_producer_wait_handed_over(p, 60_000, &mut e) };
    assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
    let reports = take_reports(p, 21_000, Duration::from_secs(120));
    assert_one_report_each(&reports, 0..21_000, "after the broker came back");
    assert!(reports.iter().all(|r| r.code == KAFKA_OK));
    close(p);
    unsafe { kafka_instance_free(inst) };
}

/// A purge of the local queue fails the records handed over and not yet
/// queued too (the sender thread would refill the queue with them): one
/// failed report each, nothing left in flight; hand-overs after it go on.
#[test]
fn kafka_producer_purge_fails_records_handed_over_and_not_yet_queued() {
    let (broker, topic, inst, p) = stalled(
        "hand-over-purge",
        &[("queue.buffering.max.messages", "100")],
    );
    let t = c(&topic);
    for b in 0..5 {
        let (rc, msg) = hand_over_packed(p, &t, &packed(b * 1000, 1000), b * 1000, -1);
        assert_eq!(rc, KAFKA_OK, "{msg}");
    }
    let mut e = err();
    let rc = unsafe { kafka_producer_purge(p, true, false, &mut e) };
    assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
    let reports = take_reports(p, 5000, Duration::from_secs(60));
    assert_one_report_each(&reports, 0..5000, "after the purge");
    assert!(
        reports
            .iter()
            .all(|r| r.code != KAFKA_OK && r.rdkafka_code == -152),
        "all purged from the queue"
    );
    assert_eq!(in_flight_settled(p), 0);
    let (rc, msg) = hand_over_packed(p, &t, &packed(5000, 10), 5000, -1);
    assert_eq!(rc, KAFKA_OK, "{msg}");
    unsafe { kafka_mock_cluster_broker_up(broker.mock, 1, &mut e) };
    let reports = take_reports(p, 10, Duration::from_secs(60));
    assert_eq!(reports.len(), 10);
    assert!(reports.iter().all(|r| r.code == KAFKA_OK));
    close(p);
    unsafe { kafka_instance_free(inst) };
}

/// A purge that comes while the sender thread waits for room in a full
/// local queue (the purge is what makes the room): the record it was
/// waiting to queue is failed as purged, never queued just after the
/// purge with no report until the broker answers. 40 rounds with room
/// for one message, so the sender's wake-up and the freed room race.
#[test]
fn a_purge_while_the_sender_waits_for_room_fails_the_record_it_held() {
    let (broker, topic, inst, p) = stalled("purge-race", &[("queue.buffering.max.messages", "1")]);
    let t = c(&topic);
    let mut e = err();
    for round in 0..40u64 {
        let first = round * 20;
        let (rc, msg) = hand_over_packed(p, &t, &packed(first, 20), first, -1);
        assert_eq!(rc, KAFKA_OK, "round {round}: {msg}");
        // The sender queues one record and waits with the next.
        std::thread::sleep(Duration::from_millis(5 + (round % 4) * 3));
        let rc = unsafe { kafka_producer_purge(p, true, false, &mut e) };
        assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
        let reports = take_reports(p, 20, Duration::from_secs(10));
        let what = format!("round {round} (in flight: {})", unsafe {
            kafka_producer_in_flight(p)
        });
        assert_one_report_each(&reports, first..first + 20, &what);
        assert!(
            reports.iter().all(|r| r.rdkafka_code == -152),
            "round {round}"
        );
        assert_eq!(in_flight_settled(p), 0, "round {round}");
    }
    unsafe { kafka_mock_cluster_broker_up(broker.mock, 1, &mut e) };
    close(p);
    unsafe { kafka_instance_free(inst) };
}

/// Records handed over while the partition leaders move to broker 2,
/// broker 2 goes down, the leaders move to broker 3 and broker 2 comes
/// back (a 3-broker embedded cluster, partitions replicated 3 times):
/// every record gets exactly one report, every one delivered, and on each
/// partition in the order handed over.
#[test]
fn handed_over_records_survive_leader_moves_and_a_broker_going_away() {
    let mut e = err();
    let mc = unsafe { kafka_mock_cluster_new(3, &mut e) };
    assert!(!mc.is_null(), "{}", e.message_str());
    let bootstrap = unsafe { std::ffi::CStr::from_ptr(kafka_mock_cluster_bootstrap_servers(mc)) }
        .to_str()
        .unwrap()
        .to_owned();
    let topic = unique_topic("hand-over-failover");
    let t = c(&topic);
    let rc = unsafe { kafka_mock_cluster_create_topic(mc, t.as_ptr(), 3, 3, &mut e) };
    assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
    let inst = instance_from(&[("bootstrap_servers", &bootstrap)]);
    let p = producer(inst, &[]);
    let leaders = |broker: i32| {
        for partition in 0..3 {
            let mut e = err();
            let rc = unsafe {
                kafka_mock_cluster_partition_set_leader(mc, t.as_ptr(), partition, broker, &mut e)
            };
            assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
        }
    };
    for b in 0..20u64 {
        // Keys spread the records over the 3 partitions.
        let (mut data, mut lengths) = (Vec::new(), Vec::new());
        for n in b * 1000..(b + 1) * 1000 {
            let (key, value) = (format!("k{}", n % 32), format!("{{\"n\":{n}}}"));
            data.extend_from_slice(key.as_bytes());
            data.extend_from_slice(value.as_bytes());
            lengths.extend([key.len() as i64, value.len() as i64]);
        }
        let (rc, msg) = hand_over_packed(p, &t, &(data, lengths), b * 1000, -1);
        assert_eq!(rc, KAFKA_OK, "hand-over {b}: {msg}");
        std::thread::sleep(Duration::from_millis(100));
        match b {
            4 => leaders(2),
            8 => assert_eq!(
                unsafe { kafka_mock_cluster_broker_down(mc, 2, &mut e) },
                KAFKA_OK
            ),
            12 => leaders(3),
            16 => assert_eq!(
                unsafe { kafka_mock_cluster_broker_up(mc, 2, &mut e) },
                KAFKA_OK
            ),
            _ => {}
        }
    }
    let mut reports = take_reports(p, 20_000, Duration::from_secs(180));
    assert_one_report_each(&reports, 0..20_000, "through the leader moves");
    // In the order handed over, for the offsets below.
    reports.sort_by_key(|r| r.tag);
    let failed: Vec<_> = reports.iter().filter(|r| r.code != KAFKA_OK).collect();
    assert!(
        failed.is_empty(),
        "{} failed: {:?}",
        failed.len(),
        failed.first().map(|r| r.rdkafka_code)
    );
    for partition in 0..3 {
        let offsets: Vec<i64> = reports
            .iter()
            .filter(|r| r.partition == partition)
            .map(|r| r.offset)
            .collect();
        assert!(!offsets.is_empty(), "partition {partition} got records");
        assert!(
            offsets.windows(2).all(|w| w[0] < w[1]),
            "partition {partition}: in the order handed over"
        );
    }
    close(p);
    unsafe { kafka_instance_free(inst) };
    unsafe { kafka_mock_cluster_free(mc) };
}

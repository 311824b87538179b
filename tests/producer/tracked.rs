//! Tracked sends: reports taken in bulk, packed buffers of records,
//! hand-overs and gathered reports.

use super::*;

/// Tracked sends: no call per message; every message gets exactly one
/// report, taken in bulk, with its tag; a message that cannot be delivered
/// is reported as failed; taking with timeout 0 when none is there answers
/// at once with none.
#[test]
fn kafka_producer_send_tracked_reports_every_message_once_through_kafka_producer_reports() {
    let broker = &embedded();
    let topic = unique_topic("tracked");
    create_topic(broker, &topic, 1);
    let inst = instance(broker, &[]);
    let mut e = err();
    let p = unsafe { kafka_instance_get_producer(inst, null(), &mut e) };
    assert!(!p.is_null(), "{}", e.message_str());
    let t = c(&topic);
    for i in 0..100u64 {
        let value = format!("{{\"n\":{i}}}");
        let mut r: KafkaRecord = unsafe { std::mem::zeroed() };
        r.topic = t.as_ptr();
        r.value = value.as_ptr().cast();
        r.value_len = value.len();
        let rc = unsafe { kafka_producer_send_tracked(p, &r, 1000 + i, &mut e) };
        assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
    }
    let mut reports: Vec<KafkaTrackedReport> = Vec::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while reports.len() < 100 && std::time::Instant::now() < deadline {
        let mut out: Vec<KafkaTrackedReport> =
            (0..64).map(|_| unsafe { std::mem::zeroed() }).collect();
        let mut n = 0usize;
        let rc =
            unsafe { kafka_producer_reports(p, out.as_mut_ptr(), out.len(), 5000, &mut n, &mut e) };
        assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
        assert!(n <= 64);
        out.truncate(n);
        reports.extend(out);
    }
    assert_one_report_each(&reports, 1000..1100, "tracked sends");
    assert!(reports
        .iter()
        .all(|r| r.code == KAFKA_OK && r.partition == 0));
    let offsets: BTreeSet<i64> = reports.iter().map(|r| r.offset).collect();
    assert_eq!(offsets, (0..100).collect::<BTreeSet<i64>>());

    // None there: timeout 0 answers at once with none.
    let mut out: [KafkaTrackedReport; 4] = unsafe { std::mem::zeroed() };
    let mut n = 7usize;
    let started = std::time::Instant::now();
    let rc = unsafe { kafka_producer_reports(p, out.as_mut_ptr(), 4, 0, &mut n, &mut e) };
    assert_eq!((rc, n), (KAFKA_OK, 0));
    assert!(started.elapsed() < std::time::Duration::from_secs(1));
    let rc = unsafe { kafka_producer_reports(p, out.as_mut_ptr(), 0, 0, &mut n, &mut e) };
    assert_eq!(rc, KAFKA_ERR_INVALID_ARGUMENT, "no room to write to");
    unsafe { kafka_producer_close(p, 10000, &mut e) };

    // A message that cannot be delivered: a failed report.
    let o = config(&[("delivery_timeout_ms", "300")]);
    let p = unsafe { kafka_instance_get_producer(inst, o, &mut e) };
    unsafe { kafka_config_free(o) };
    let rc = unsafe { kafka_mock_cluster_broker_down(broker.mock, 1, &mut e) };
    assert_eq!(rc, KAFKA_OK);
    let mut r: KafkaRecord = unsafe { std::mem::zeroed() };
    r.topic = t.as_ptr();
    assert_eq!(
        unsafe { kafka_producer_send_tracked(p, &r, 7, &mut e) },
        KAFKA_OK
    );
    let rc = unsafe { kafka_producer_reports(p, out.as_mut_ptr(), 4, 20000, &mut n, &mut e) };
    assert_eq!((rc, n), (KAFKA_OK, 1), "{}", e.message_str());
    assert_eq!(out[0].tag, 7);
    assert_ne!(out[0].code, KAFKA_OK, "not delivered");
    assert_eq!((out[0].partition, out[0].offset), (-1, -1));
    unsafe { kafka_mock_cluster_broker_up(broker.mock, 1, &mut e) };
    unsafe {
        kafka_producer_close(p, 1000, &mut e);
        kafka_instance_free(inst);
    }
}

/// Threads blocked in kafka_producer_reports wake for each outcome: the
/// library wakes takers when the queue of outcomes stops being empty (not
/// once per message), so each round below, one message sent after the
/// takers went to sleep on an empty queue, must wake one of them. A lost
/// wake-up would leave the round waiting out the takers' 30 s timeout.
#[test]
fn blocked_report_takers_wake_for_each_outcome() {
    let broker = &embedded();
    let topic = unique_topic("tracked-wake");
    create_topic(broker, &topic, 1);
    let inst = instance(broker, &[]);
    let mut e = err();
    let p = producer(inst, &[]);
    let t = c(&topic);
    let rounds = 5u64;
    let taken = std::sync::Mutex::new(Vec::<(u64, std::time::Duration)>::new());
    let address = p as usize; // the producer is thread-safe
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                let p = address as *mut KafkaProducer;
                let mut e = err();
                loop {
                    let mut out: [KafkaTrackedReport; 4] = unsafe { std::mem::zeroed() };
                    let mut n = 0usize;
                    let rc = unsafe {
                        kafka_producer_reports(p, out.as_mut_ptr(), 4, 30000, &mut n, &mut e)
                    };
                    assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
                    let mut taken = taken.lock().unwrap();
                    for r in &out[..n] {
                        taken.push((r.tag, std::time::Duration::ZERO));
                    }
                    if n == 0 || out[..n].iter().any(|r| r.tag == u64::MAX) {
                        return; // this taker's last message
                    }
                }
            });
        }
        for round in 0..rounds {
            // Both takers are asleep on an empty queue by now.
            std::thread::sleep(std::time::Duration::from_millis(300));
            let sent = std::time::Instant::now();
            let rc = unsafe { kafka_producer_send_tracked(p, &record(&t), round, &mut e) };
            assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
            loop {
                let mut taken = taken.lock().unwrap();
                if let Some(entry) = taken.iter_mut().find(|(tag, _)| *tag == round) {
                    entry.1 = sent.elapsed();
                    break;
                }
                drop(taken);
                assert!(
                    sent.elapsed() < std::time::Duration::from_secs(60),
                    "round {round}: no taker woke"
                );
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
        }
        // A last message for each taker, one after the other.
        for last in 1..=2 {
            let rc = unsafe { kafka_producer_send_tracked(p, &record(&t), u64::MAX, &mut e) };
            assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
            while taken
                .lock()
                .unwrap()
                .iter()
                .filter(|(tag, _)| *tag == u64::MAX)
                .count()
                < last
            {
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
        }
    });
    let taken = taken.into_inner().unwrap();
    for round in 0..rounds {
        let waited = taken.iter().find(|(tag, _)| *tag == round).unwrap().1;
        // A lost wake-up shows as the takers' 30 s timeout; a delivery on
        // this machine takes milliseconds.
        assert!(
            waited < std::time::Duration::from_secs(20),
            "round {round}: the outcome was taken {waited:?} after the send"
        );
    }
    close(p);
    unsafe { kafka_instance_free(inst) };
}

/// Packed tracked sends: keys and values back to back in one buffer, one
/// call for many records, each reported with its tag; a record the broker
/// would refuse (too large) stops the call there, saying how many went;
/// lengths that do not add up queue nothing.
#[test]
fn kafka_producer_send_tracked_packed_sends_a_buffer_of_records_in_one_call() {
    let broker = &embedded();
    let topic = unique_topic("packed");
    create_topic(broker, &topic, 1);
    let inst = instance(broker, &[]);
    let mut e = err();
    let p = producer(inst, &[("max_request_size", "1000")]);
    let t = c(&topic);
    let (mut data, mut lengths) = (Vec::new(), Vec::new());
    for i in 0..10 {
        let (key, value) = (format!("k{i}"), format!("{{\"n\":{i}}}"));
        if i == 3 {
            lengths.push(-1); // no key
        } else {
            data.extend_from_slice(key.as_bytes());
            lengths.push(key.len() as i64);
        }
        data.extend_from_slice(value.as_bytes());
        lengths.push(value.len() as i64);
    }
    let mut queued = 99usize;
    let rc = unsafe {
        kafka_producer_send_tracked_packed(
            p,
            t.as_ptr(),
            data.as_ptr().cast(),
            data.len(),
            lengths.as_ptr(),
            10,
            500,
            1000,
            &mut queued,
            &mut e,
        )
    };
    assert_eq!((rc, queued), (KAFKA_OK, 10), "{}", e.message_str());

    // Record 1 of the next call is too large: the call stops there.
    let big = vec![b'x'; 5000];
    let mut data2 = b"{}".to_vec();
    data2.extend_from_slice(&big);
    data2.extend_from_slice(b"{}");
    let lengths2 = [-1i64, 2, -1, 5000, -1, 2];
    let rc = unsafe {
        kafka_producer_send_tracked_packed(
            p,
            t.as_ptr(),
            data2.as_ptr().cast(),
            data2.len(),
            lengths2.as_ptr(),
            3,
            600,
            1000,
            &mut queued,
            &mut e,
        )
    };
    assert_ne!(rc, KAFKA_OK, "too large");
    assert_eq!(queued, 1, "the first went, the second stopped it");
    // Lengths that do not add up: nothing queued.
    let rc = unsafe {
        kafka_producer_send_tracked_packed(
            p,
            t.as_ptr(),
            data2.as_ptr().cast(),
            3,
            lengths2.as_ptr(),
            3,
            700,
            1000,
            &mut queued,
            &mut e,
        )
    };
    assert_eq!((rc, queued), (KAFKA_ERR_INVALID_ARGUMENT, 0));

    let got = take_reports(p, 11, std::time::Duration::from_secs(30));
    let mut tags: Vec<u64> = got.iter().map(|r| r.tag).collect();
    tags.sort();
    assert_eq!(tags, (500..510).chain([600]).collect::<Vec<u64>>());
    assert!(got.iter().all(|r| r.code == KAFKA_OK));
    close(p);
    let back = read_back(
        &broker.bootstrap,
        &topic,
        11,
        std::time::Duration::from_secs(20),
    );
    let keys: Vec<Option<Vec<u8>>> = back
        .iter()
        .take(10)
        .map(|m| m.key().map(|k| k.to_vec()))
        .collect();
    assert_eq!(keys[3], None, "record 3 has no key");
    assert_eq!(keys[4].as_deref(), Some(&b"k4"[..]));
    assert_eq!(back[9].payload(), Some(&b"{\"n\":9}"[..]));
    unsafe { kafka_instance_free(inst) };
}

/// Records handed over are queued in the order they were handed over, a
/// message sent after `kafka_producer_wait_handed_over` goes after them,
/// and every record gets exactly one report: a too-large one a failed
/// report, without stopping the records after it.
#[test]
fn kafka_producer_hand_over_tracked_packed_keeps_the_order_and_reports_each_record_once() {
    let broker = &embedded();
    let topic = unique_topic("hand-over");
    create_topic(broker, &topic, 1);
    let inst = instance(broker, &[]);
    let p = producer(inst, &[("max_request_size", "1000")]);
    let t = c(&topic);
    for b in 0..5u64 {
        let (mut data, mut lengths) = packed(b * 1000, 1000);
        if b == 1 {
            // Record 1500 is too large.
            let (big, at) = (vec![b'x'; 5000], 500);
            let start: i64 = lengths[..2 * at].iter().filter(|n| **n > 0).sum();
            let end = start + lengths[2 * at + 1];
            data.splice(start as usize..end as usize, big.iter().copied());
            lengths[2 * at + 1] = big.len() as i64;
        }
        let (rc, msg) = hand_over_packed(p, &t, &(data, lengths), b * 1000, -1);
        assert_eq!(rc, KAFKA_OK, "{msg}");
    }
    let mut e = err();
    let rc = unsafe { kafka_producer_wait_handed_over(p, 60_000, &mut e) };
    assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
    let rc = unsafe { kafka_producer_send_tracked(p, &record(&t), 5000, &mut e) };
    assert_eq!(rc, KAFKA_OK, "{}", e.message_str());

    let mut reports = take_reports(p, 5001, std::time::Duration::from_secs(60));
    reports.sort_by_key(|r| r.tag);
    let tags: Vec<u64> = reports.iter().map(|r| r.tag).collect();
    assert_eq!(tags, (0..=5000).collect::<Vec<u64>>(), "each record once");
    let failed: Vec<u64> = reports
        .iter()
        .filter(|r| r.code != KAFKA_OK)
        .map(|r| r.tag)
        .collect();
    assert_eq!(failed, [1500], "only the too-large one failed");
    let offsets: Vec<i64> = reports
        .iter()
        .filter(|r| r.code == KAFKA_OK)
        .map(|r| r.offset)
        .collect();
    assert!(
        offsets.windows(2).all(|w| w[0] < w[1]),
        "queued in the order handed over"
    );
    close(p);
    unsafe { kafka_instance_free(inst) };
}

/// `kafka_producer_reports_gathered` waits for more outcomes only while
/// messages are in flight: it returns the whole burst in one take, long
/// before its gathering time, once none is left.
#[test]
fn kafka_producer_reports_gathered_returns_once_nothing_is_in_flight() {
    let broker = &embedded();
    let topic = unique_topic("gathered");
    create_topic(broker, &topic, 1);
    let inst = instance(broker, &[]);
    let p = producer(inst, &[]);
    let t = c(&topic);
    let (data, lengths) = packed(0, 2000);
    let (mut queued, mut e) = (0usize, err());
    let rc = unsafe {
        kafka_producer_send_tracked_packed(
            p,
            t.as_ptr(),
            data.as_ptr().cast(),
            data.len(),
            lengths.as_ptr(),
            2000,
            0,
            10_000,
            &mut queued,
            &mut e,
        )
    };
    assert_eq!((rc, queued), (KAFKA_OK, 2000), "{}", e.message_str());
    let mut out: Vec<KafkaTrackedReport> =
        (0..4096).map(|_| unsafe { std::mem::zeroed() }).collect();
    let mut n = 0usize;
    let started = std::time::Instant::now();
    let rc = unsafe {
        kafka_producer_reports_gathered(p, out.as_mut_ptr(), 4096, 30_000, 120_000, &mut n, &mut e)
    };
    assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
    assert_eq!(n, 2000, "every outcome in one take");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(60),
        "it waited {:?}, past the last outcome",
        started.elapsed()
    );
    let rc = unsafe {
        kafka_producer_reports_gathered(p, out.as_mut_ptr(), 4096, 0, -1, &mut n, &mut e)
    };
    assert_eq!(rc, KAFKA_ERR_INVALID_ARGUMENT);
    assert!(e.message_str().contains("gather_ms"), "{}", e.message_str());
    close(p);
    unsafe { kafka_instance_free(inst) };
}

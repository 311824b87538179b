//! The producer's guarantee: a partition leader going away loses and
//! duplicates nothing.

use super::*;

/// Counts delivery callbacks: successes and failures.
#[derive(Default)]
struct Deliveries {
    ok: AtomicUsize,
    failed: AtomicUsize,
}

unsafe extern "C" fn count_delivery(report: *const KafkaDeliveryReport, opaque: *mut c_void) {
    let d = unsafe { &*(opaque as *const Deliveries) };
    if unsafe { (*report).code } == KAFKA_OK {
        d.ok.fetch_add(1, Ordering::Relaxed);
    } else {
        d.failed.fetch_add(1, Ordering::Relaxed);
    }
}

fn mock_call(what: &str, rc: KafkaErrorCode, e: &KafkaError) {
    assert_eq!(rc, KAFKA_OK, "{what}: {}", e.message_str());
}

/// A 3-broker embedded cluster, every partition replicated 3 times. While
/// an idempotent producer sends and a consumer reads, the partition
/// leaders move to broker 2, broker 2 goes down (the leader's broker goes
/// away), the leaders move to broker 3, and broker 2 comes back. Every
/// message is acknowledged, the log holds each exactly once (the
/// producer's retries duplicate nothing), and the consumer receives every
/// one (at least once).
#[test]
fn a_partition_leader_going_away_loses_nothing_and_duplicates_nothing() {
    let mut e = err();
    let mc = unsafe { kafka_mock_cluster_new(3, &mut e) };
    assert!(!mc.is_null(), "{}", e.message_str());
    let bootstrap = s(unsafe { kafka_mock_cluster_bootstrap_servers(mc) });
    let topic = unique_topic("failover");
    let t = c(&topic);
    mock_call(
        "topic",
        unsafe { kafka_mock_cluster_create_topic(mc, t.as_ptr(), 3, 3, &mut e) },
        &e,
    );
    let group = unique_topic("g");
    let inst = instance_from(&[
        ("bootstrap_servers", &bootstrap),
        ("group_id", &group),
        ("auto_offset_reset", "earliest"),
    ]);
    let cons = consumer(inst, &[&topic], &[("session_timeout_ms", "6000")]);
    let total = 3000;
    let deliveries = Deliveries::default();
    let (stop, seen) = (AtomicBool::new(false), Mutex::new(Vec::new()));
    let sent = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        let _stop = SetOnDrop(&stop);
        let cons_addr = cons as usize;
        let (stop_ref, seen_ref) = (&stop, &seen);
        scope.spawn(move || drain_into(cons_addr as *mut KafkaConsumer, seen_ref, stop_ref));
        let (inst_addr, topic_ref, deliveries, sent) = (inst as usize, &topic, &deliveries, &sent);
        let producer = scope.spawn(move || {
            let mut e = err();
            let inst = inst_addr as *mut KafkaInstance;
            let p = unsafe { kafka_instance_get_producer(inst, null(), &mut e) };
            assert!(!p.is_null(), "{}", e.message_str());
            let t = c(topic_ref);
            for i in 0..total {
                let (k, v) = (format!("k{}", i % 32), format!("{{\"n\":{i}}}"));
                let mut r = empty_record(&t);
                (r.key, r.key_len) = (k.as_ptr().cast(), k.len());
                (r.value, r.value_len) = (v.as_ptr().cast(), v.len());
                let opaque = deliveries as *const Deliveries as *mut c_void;
                let rc =
                    unsafe { kafka_producer_send(p, &r, Some(count_delivery), opaque, &mut e) };
                assert_eq!(rc, KAFKA_OK, "send {i}: {}", e.message_str());
                sent.fetch_add(1, Ordering::Release);
                if i % 100 == 99 {
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
            let rc = unsafe { kafka_producer_close(p, 120_000, &mut e) };
            assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
        });
        let leaders = |broker: i32| {
            for partition in 0..3 {
                let mut e = err();
                let rc = unsafe {
                    kafka_mock_cluster_partition_set_leader(
                        mc,
                        t.as_ptr(),
                        partition,
                        broker,
                        &mut e,
                    )
                };
                mock_call("set leader", rc, &e);
            }
        };
        // Each step once the producer is that far, so that every step
        // happens while it sends, however slow the machine.
        let after = |n: usize| {
            wait_for("the producer's progress", || {
                sent.load(Ordering::Acquire) >= n
            })
        };
        after(total / 5);
        leaders(2);
        after(2 * total / 5);
        mock_call(
            "broker 2 down",
            unsafe { kafka_mock_cluster_broker_down(mc, 2, &mut e) },
            &e,
        );
        after(3 * total / 5);
        leaders(3);
        after(4 * total / 5);
        mock_call(
            "broker 2 up",
            unsafe { kafka_mock_cluster_broker_up(mc, 2, &mut e) },
            &e,
        );
        assert!(
            sent.load(Ordering::Acquire) < total,
            "the last steps came after the last send"
        );
        leaders(1);
        producer.join().unwrap();
        wait_for("the consumer received every message", || {
            seen.lock().unwrap().iter().collect::<BTreeSet<_>>().len() == total
        });
    });
    assert_eq!(
        deliveries.failed.load(Ordering::Relaxed),
        0,
        "failed deliveries"
    );
    assert_eq!(deliveries.ok.load(Ordering::Relaxed), total, "acknowledged");
    // The log itself, read by an independent client: each message once.
    let logged = read_back(&bootstrap, &topic, total, Duration::from_secs(60));
    let mut count: BTreeMap<usize, usize> = BTreeMap::new();
    for m in &logged {
        use rdkafka::Message;
        let v: serde_json::Value = serde_json::from_slice(m.payload().unwrap()).unwrap();
        *count.entry(v["n"].as_u64().unwrap() as usize).or_default() += 1;
    }
    let missing = (0..total).filter(|n| !count.contains_key(n)).count();
    let doubled: Vec<usize> = count
        .iter()
        .filter(|(_, c)| **c > 1)
        .map(|(n, _)| *n)
        .collect();
    let seen = seen.into_inner().unwrap();
    let consumer_repeats = seen.len() - seen.iter().collect::<BTreeSet<_>>().len();
    eprintln!(
        "failover: {} acknowledged, {} in the log, {missing} missing, {} doubled in the log; \
         the consumer received {} ({consumer_repeats} repeats)",
        deliveries.ok.load(Ordering::Relaxed),
        logged.len(),
        doubled.len(),
        seen.len()
    );
    assert_eq!(missing, 0, "messages missing from the log");
    assert!(doubled.is_empty(), "the producer duplicated {doubled:?}");
    close_consumer(cons);
    unsafe {
        kafka_instance_free(inst);
        kafka_mock_cluster_free(mc);
    }
}

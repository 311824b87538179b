//! Group hand-overs: two consumers share a topic, one leaves (closes or
//! is killed) mid-burst, and the other takes over without losing anything.

use super::*;

/// Messages `{"n": i}` for `i` in `from..to`, keyed `k{i % 16}`, 500
/// every 200 ms (a consumer has hundreds fetched ahead); then flushes.
///
/// On an external broker each message is a batch of its own: tansu 0.6
/// answers a Fetch at an offset inside a stored batch with nothing (Apache
/// Kafka returns the batch), and, as hand-overs there showed, with the
/// next batch once one exists, so a consumer resuming from a commit made
/// mid-batch skips the rest of that batch. With one message per batch
/// every commit is a batch start, on any broker.
fn burst(inst: *mut KafkaInstance, topic: &str, from: usize, to: usize, embedded: bool) -> Acks {
    let acks = Acks::default();
    let mut e = err();
    let settings = if embedded {
        vec![]
    } else {
        vec![("batch.num.messages", "1")]
    };
    let o = config(&settings);
    let p = unsafe { kafka_instance_get_producer(inst, o, &mut e) };
    unsafe { kafka_config_free(o) };
    assert!(!p.is_null(), "{}", e.message_str());
    let t = c(topic);
    for i in from..to {
        let (k, v) = (format!("k{}", i % 16), format!("{{\"n\":{i}}}"));
        let mut r = empty_record(&t);
        (r.key, r.key_len) = (k.as_ptr().cast(), k.len());
        (r.value, r.value_len) = (v.as_ptr().cast(), v.len());
        let opaque = Box::into_raw(Box::new((i, &acks as *const Acks))).cast();
        let rc = unsafe { kafka_producer_send(p, &r, Some(record_ack), opaque, &mut e) };
        assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
        if i % 500 == 499 {
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    let rc = unsafe { kafka_producer_close(p, 30_000, &mut e) };
    assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
    acks
}

/// What the broker acknowledged of a burst: message number to
/// (partition, offset), and the numbers whose delivery failed.
#[derive(Default)]
struct Acks {
    acked: Mutex<BTreeMap<usize, (i32, i64)>>,
    failed: Mutex<Vec<(usize, i32)>>,
}

unsafe extern "C" fn record_ack(report: *const KafkaDeliveryReport, opaque: *mut c_void) {
    let (n, acks) = *unsafe { Box::from_raw(opaque.cast::<(usize, *const Acks)>()) };
    let (acks, report) = unsafe { (&*acks, &*report) };
    if report.code == KAFKA_OK {
        let at = (report.partition, report.offset);
        acks.acked.lock().unwrap().insert(n, at);
    } else {
        acks.failed.lock().unwrap().push((n, report.rdkafka_code));
    }
}

/// One message to each partition: `{"n": from + p}` to partition `p`.
fn one_per_partition(inst: *mut KafkaInstance, topic: &str, from: usize, partitions: i32) {
    let mut e = err();
    let p = unsafe { kafka_instance_get_producer(inst, null(), &mut e) };
    let t = c(topic);
    for partition in 0..partitions {
        let v = format!("{{\"n\":{}}}", from + partition as usize);
        let mut r = empty_record(&t);
        r.value = v.as_ptr().cast();
        r.value_len = v.len();
        r.has_partition = true;
        r.partition = partition;
        let rc = unsafe { kafka_producer_send_sync(p, &r, 10_000, null_mut(), &mut e) };
        assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
    }
    assert_eq!(unsafe { kafka_producer_close(p, 10_000, &mut e) }, KAFKA_OK);
}

/// How the first consumer of a hand-over leaves.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Leaves {
    /// `kafka_consumer_close`, from its polling thread, mid-burst.
    Closes,
    /// SIGKILL of its process, mid-burst.
    Killed,
}

const PARTITIONS: i32 = 4;

/// What a hand-over saw: the warm-up messages (`0..warm_up`), then the
/// burst (`warm_up..total`), as handled by A and by B.
struct Handover {
    embedded: bool,
    topic: String,
    bootstrap: String,
    /// The burst's delivery reports (the warm-up is sent synchronously).
    acks: Acks,
    /// The partitions of the topic that the broker says each live member
    /// of the group owned at the end (before B closed).
    assigned: BTreeMap<String, BTreeSet<i32>>,
    warm_up: usize,
    total: usize,
    a: Vec<usize>,
    b: Vec<usize>,
}

/// Two consumers, A and B, share a topic's 4 partitions in one group. One
/// message per partition is sent, round after round, until both have
/// their share (each handled one); then a burst of `burst_len` messages
/// starts, A leaves mid-burst (0.3 to 1.5 s in), and B takes over.
fn handover(
    broker: &Broker,
    assignor: &str,
    leaves: Leaves,
    rng: &mut Lcg,
    burst_len: usize,
) -> Handover {
    let topic = unique_topic("handover");
    create_topic(broker, &topic, PARTITIONS);
    let group = unique_topic("g");
    let inst = instance(
        broker,
        &[("group_id", &group), ("auto_offset_reset", "earliest")],
    );
    let mut settings = session(broker);
    settings.push(("partition.assignment.strategy", assignor));
    settings.push(("auto_commit_interval_ms", "100"));
    let b = consumer(inst, &[&topic], &settings);
    let (stop, bursting) = (AtomicBool::new(false), AtomicBool::new(false));
    let (a_seen, b_seen) = (Mutex::new(Vec::new()), Mutex::new(Vec::new()));
    let started = |seen: &Mutex<Vec<usize>>| !seen.lock().unwrap().is_empty();
    let mut warm_up = 0;
    let mut acks = Acks::default();
    let mut assigned = BTreeMap::new();
    std::thread::scope(|scope| {
        let _stop = SetOnDrop(&stop);
        let (stop, bursting, a_seen, b_seen) = (&stop, &bursting, &a_seen, &b_seen);
        let b_addr = b as usize;
        scope.spawn(move || drain_into(b_addr as *mut KafkaConsumer, b_seen, stop));
        // A: a consumer in this process, or a process of its own.
        let leave_after = Duration::from_millis(300 + rng.below(1200));
        let mut child = None;
        let a_thread = match leaves {
            Leaves::Closes => {
                let a = consumer(inst, &[&topic], &settings) as usize;
                Some(scope.spawn(move || {
                    let a = a as *mut KafkaConsumer;
                    let mut first = None;
                    while first.is_none_or(|t: Instant| t.elapsed() < leave_after) {
                        let got = poll_messages(a, 1, Duration::from_millis(100), json_n);
                        if bursting.load(Ordering::Acquire) && !got.is_empty() {
                            first.get_or_insert_with(Instant::now);
                        }
                        a_seen.lock().unwrap().extend(got);
                    }
                    close_consumer(a);
                }))
            }
            Leaves::Killed => {
                let mut cmd = crash_consumer_command(broker, &topic, &group, "batch", "auto", -1);
                cmd.arg(format!("partition.assignment.strategy={assignor}"))
                    .env("CRASH_CONSUMER_IDLE_S", "60");
                child = Some(cmd.spawn().expect("starting crash_consumer"));
                None
            }
        };
        let lines = child
            .as_mut()
            .map(|c| BufReader::new(c.stdout.take().unwrap()).lines());
        let reader = lines.map(|lines| {
            scope.spawn(move || {
                for line in lines.map_while(|l| l.ok()) {
                    if let Some(n) = line.strip_prefix("processed ") {
                        a_seen.lock().unwrap().push(n.parse::<usize>().unwrap());
                    }
                }
            })
        });
        // Until both hold partitions: a member that joins after the first
        // generation formed gets its share only in the next one.
        let deadline = Instant::now() + Duration::from_secs(60);
        while !(started(a_seen) && started(b_seen)) {
            assert!(
                Instant::now() < deadline,
                "both consumers got a share of the partitions"
            );
            one_per_partition(inst, &topic, warm_up, PARTITIONS);
            warm_up += PARTITIONS as usize;
            std::thread::sleep(Duration::from_millis(500));
        }
        bursting.store(true, Ordering::Release);
        let (inst_addr, topic, from) = (inst as usize, &topic, warm_up);
        let embedded = !broker.mock.is_null();
        let producer = scope.spawn(move || {
            burst(
                inst_addr as *mut KafkaInstance,
                topic,
                from,
                from + burst_len,
                embedded,
            )
        });
        if let Some(child) = &mut child {
            // Killed once it handled some of the burst, and then some time
            // later: several of its automatic commits (every 100 ms) have
            // been made by then.
            wait_for("A handled some of the burst", || {
                a_seen.lock().unwrap().iter().any(|n| *n >= from)
            });
            std::thread::sleep(leave_after);
            child.kill().unwrap();
            let status = child.wait().unwrap();
            assert_eq!(
                status.signal(),
                Some(libc::SIGKILL),
                "A was killed mid-burst"
            );
        }
        if let Some(a) = a_thread {
            a.join().unwrap();
        }
        if let Some(r) = reader {
            r.join().unwrap();
        }
        acks = producer.join().unwrap();
        // Until every message arrived at A or B, or 60 s passed (then the
        // check below names what was lost).
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            let have = {
                let a = a_seen.lock().unwrap();
                let b = b_seen.lock().unwrap();
                a.iter().chain(b.iter()).collect::<BTreeSet<_>>().len()
            };
            if have == from + burst_len {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // What the broker says the group's live members own, while B is
        // still one of them: for telling a broker that never reassigned
        // the partitions of a member that left from a consumer that lost
        // messages.
        assigned = assigned_partitions(&broker.bootstrap, &group);
        // Any repeat still on its way.
        std::thread::sleep(Duration::from_secs(1));
    });
    close_consumer(b);
    unsafe { kafka_instance_free(inst) };
    Handover {
        embedded: !broker.mock.is_null(),
        topic,
        bootstrap: broker.bootstrap.clone(),
        acks,
        assigned,
        warm_up,
        total: warm_up + burst_len,
        a: a_seen.into_inner().unwrap(),
        b: b_seen.into_inner().unwrap(),
    }
}

/// Checks a hand-over: nothing lost; with `strict`, the burst's repeats
/// are all messages A handled (what it had in hand when it left), and with
/// `none_repeated` there are none. (Warm-up messages may come twice while
/// the group forms: a member joining late makes the others revoke.)
fn check_handover(what: &str, h: &Handover, none_repeated: bool, strict: bool) {
    let mut count: BTreeMap<usize, usize> = BTreeMap::new();
    for n in h.a.iter().chain(&h.b) {
        *count.entry(*n).or_default() += 1;
    }
    let acked = h.acks.acked.lock().unwrap();
    let failed = h.acks.failed.lock().unwrap();
    // A message whose delivery failed was reported as not sent: it is not
    // the consumers' to receive.
    let lost: Vec<usize> = (0..h.total)
        .filter(|n| !count.contains_key(n) && (*n < h.warm_up || acked.contains_key(n)))
        .collect();
    let repeated: Vec<usize> = count
        .iter()
        .filter(|(n, c)| **c > 1 && **n >= h.warm_up)
        .map(|(n, _)| *n)
        .collect();
    let a_set: BTreeSet<usize> = h.a.iter().copied().collect();
    let not_a: Vec<usize> = repeated
        .iter()
        .copied()
        .filter(|n| !a_set.contains(n))
        .collect();
    eprintln!(
        "{what}: A handled {}, B {}; {} lost, {} of the burst repeated ({} of them not A's); \
         {} of the burst's deliveries failed",
        h.a.len(),
        h.b.len(),
        lost.len(),
        repeated.len(),
        not_a.len(),
        failed.len(),
    );
    if !failed.is_empty() {
        eprintln!(
            "  failed deliveries (n, librdkafka code), the first: {:?}",
            &failed[..failed.len().min(10)]
        );
    }
    if !lost.is_empty() {
        explain_loss(h, &lost, &acked);
        // The partitions B owned at the end: as the broker reports them,
        // or, from a broker that reports no assignments (tansu 0.6), the
        // partitions B received any of the burst from.
        let reported = h.assigned.values().any(|p| !p.is_empty());
        let owned: BTreeSet<i32> = if reported {
            h.assigned.values().flatten().copied().collect()
        } else {
            h.b.iter()
                .filter_map(|n| acked.get(n).map(|(p, _)| *p))
                .collect()
        };
        let orphaned = lost
            .iter()
            .all(|n| acked.get(n).is_some_and(|(p, _)| !owned.contains(p)));
        if orphaned && !h.embedded {
            // The broker never gave the partitions to B: its group
            // coordinator, not the client, kept them from being read.
            broker_cannot(
                what,
                &format!(
                    "the broker never gave A's partitions to B after A left (B {} \
                     partitions {owned:?}; members the broker reports: {:?}); tansu 0.6 \
                     keeps a group's old assignment when a member's session expires",
                    if reported { "owns" } else { "received from" },
                    h.assigned.keys().collect::<Vec<_>>()
                ),
            );
            return;
        }
    }
    assert!(
        lost.is_empty(),
        "{what}: lost {} acknowledged messages, the first {:?}",
        lost.len(),
        &lost[..lost.len().min(20)]
    );
    if strict {
        assert!(
            not_a.is_empty(),
            "{what}: repeats that A never had: {not_a:?}"
        );
        if none_repeated {
            assert!(repeated.is_empty(), "{what}: repeated {repeated:?}");
        }
    }
}

/// Says where lost messages were: which partitions and offsets, and
/// whether an independent reader finds them in the log (if not, the
/// broker dropped acknowledged messages; if so, the consumers skipped
/// them).
fn explain_loss(h: &Handover, lost: &[usize], acked: &BTreeMap<usize, (i32, i64)>) {
    let mut by_partition: BTreeMap<i32, Vec<i64>> = BTreeMap::new();
    for n in lost {
        if let Some((p, o)) = acked.get(n) {
            by_partition.entry(*p).or_default().push(*o);
        }
    }
    for (p, offsets) in &by_partition {
        eprintln!(
            "  partition {p}: {} lost, offsets {}..={}",
            offsets.len(),
            offsets.iter().min().unwrap(),
            offsets.iter().max().unwrap()
        );
    }
    let logged = read_back(&h.bootstrap, &h.topic, h.total, Duration::from_secs(30));
    let in_log: BTreeSet<usize> = logged
        .iter()
        .filter_map(|m| {
            use rdkafka::Message;
            let v: serde_json::Value = serde_json::from_slice(m.payload()?).ok()?;
            Some(v["n"].as_u64()? as usize)
        })
        .collect();
    let missing = lost.iter().filter(|n| !in_log.contains(n)).count();
    eprintln!(
        "  an independent reader found {} messages in the log; {missing} of the lost are not there",
        in_log.len()
    );
}

/// Each member of `group` with the partitions the broker says it owns
/// (DescribeGroups, the consumer protocol's assignment).
fn assigned_partitions(bootstrap: &str, group: &str) -> BTreeMap<String, BTreeSet<i32>> {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    let client: BaseConsumer = rdkafka::config::ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .create()
        .unwrap();
    let mut out = BTreeMap::new();
    let Ok(list) = client.fetch_group_list(Some(group), Duration::from_secs(10)) else {
        return out;
    };
    for g in list.groups() {
        for m in g.members() {
            let partitions = m
                .assignment()
                .map(assignment_partitions)
                .unwrap_or_default();
            out.insert(m.id().to_string(), partitions);
        }
    }
    out
}

/// The partitions in a consumer protocol assignment: version (i16), then
/// topics (i32 count; each a string with an i16 length and an i32 array of
/// i32 partitions), then user data, all big-endian.
fn assignment_partitions(bytes: &[u8]) -> BTreeSet<i32> {
    let mut at = 2; // the version
    let mut take = |n: usize| -> Option<&[u8]> {
        let b = bytes.get(at..at + n)?;
        at += n;
        Some(b)
    };
    let mut out = BTreeSet::new();
    let mut read = || -> Option<()> {
        let topics = i32::from_be_bytes(take(4)?.try_into().ok()?);
        for _ in 0..topics {
            let len = i16::from_be_bytes(take(2)?.try_into().ok()?);
            take(len.max(0) as usize)?;
            let n = i32::from_be_bytes(take(4)?.try_into().ok()?);
            for _ in 0..n {
                out.insert(i32::from_be_bytes(take(4)?.try_into().ok()?));
            }
        }
        Some(())
    };
    let _ = read();
    out
}

/// Whether commits made while the group rebalances are accepted. Apache
/// Kafka accepts a commit from the current generation while the group
/// prepares a rebalance, which is when an eager assignor revokes; the
/// embedded broker refuses it with REBALANCE_IN_PROGRESS
/// (rd_kafka_mock_cgrp_classic_check_state). So with an eager assignor on
/// the embedded broker, B's own last messages before the rebalance may
/// come again; only "nothing lost" is checked there.
fn commits_during_rebalances_count(broker: &Broker, assignor: &str) -> bool {
    assignor == "cooperative-sticky" || broker.mock.is_null()
}

/// Two consumers in one group; one closes while messages are still
/// arriving. Everything is received by one or the other (nothing lost),
/// and since close commits what was handed out, nothing is received
/// twice. Before the offset rule, 58 to 203 of 2000 messages were never
/// received by anyone.
#[test]
fn a_consumer_closing_during_a_burst_hands_over_without_loss() {
    hand_overs(Leaves::Closes, "A closes", true);
}

/// Two consumers in one group; one (a separate process) is killed with
/// SIGKILL while messages are still arriving. Nothing is lost, and every
/// message received twice is one the killed consumer had handled: the
/// repeats are bounded by what it had in hand since its last commit.
#[test]
fn a_consumer_killed_during_a_burst_hands_over_without_loss() {
    hand_overs(Leaves::Killed, "A killed", false);
}

/// Every hand-over of `leaves` (each broker, each assignor), checked.
fn hand_overs(leaves: Leaves, how: &str, none_repeated: bool) {
    let mut rng = Lcg::seeded();
    for broker in brokers() {
        for assignor in ["range", "cooperative-sticky"] {
            let h = handover(&broker, assignor, leaves, &mut rng, 6000);
            let what = format!("{} {assignor}, {how}", broker.name);
            let strict = commits_during_rebalances_count(&broker, assignor);
            check_handover(&what, &h, none_repeated, strict);
        }
    }
}

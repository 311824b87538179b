//! What the header promises of seeks: from the rebalance callback they set
//! where an assigned partition starts (every assignor and protocol); a
//! commit after a seek back moves the committed offset back; a seek on a
//! partition not assigned is `KAFKA_ERR_STATE`. Against the embedded
//! broker and, when KAFKA_BOOTSTRAP_SERVERS is set, that broker too.

#![allow(unsafe_code)] // these tests call the C ABI, as a C program would

mod common;
use common::*;

use std::collections::BTreeMap;
use std::ffi::c_void;
use std::ptr::{null, null_mut};
use std::sync::Mutex;
use std::time::Duration;

/// What the callback below does on ASSIGNED, and what the seeks returned.
struct SeekOnAssign {
    topic: String,
    /// Partition -> where to start; empty when `to_time` is set.
    starts: Vec<(i32, i64)>,
    /// Seek every partition being assigned to this time instead.
    to_time: Option<i64>,
    codes: Mutex<Vec<(KafkaErrorCode, String)>>,
}

unsafe extern "C" fn seek_on_assign(
    c: *mut KafkaConsumer,
    event: KafkaRebalanceEvent,
    _: *const KafkaPartitionList,
    opaque: *mut c_void,
) {
    if event != KafkaRebalanceEvent::KAFKA_REBALANCE_ASSIGNED {
        return;
    }
    let plan = unsafe { &*(opaque as *const SeekOnAssign) };
    let mut e = err();
    let t = common::c(&plan.topic);
    let mut codes = plan.codes.lock().unwrap();
    if let Some(ms) = plan.to_time {
        let mut out = null_mut();
        let rc = unsafe { kafka_consumer_seek_to_time(c, ms, 10_000, &mut out, &mut e) };
        unsafe { kafka_partition_list_free(out) };
        codes.push((rc, e.message_str()));
    }
    for &(partition, offset) in &plan.starts {
        let rc = unsafe { kafka_consumer_seek(c, t.as_ptr(), partition, offset, 5000, &mut e) };
        codes.push((rc, e.message_str()));
    }
}

/// Commits `offsets` for the group of `inst` from a consumer that holds
/// nothing, then closes it.
fn commit_for_group(inst: *mut KafkaInstance, topic: &str, offsets: &[(&str, i32, i64)]) {
    let cons = consumer(inst, &[topic], &[]);
    let mut e = err();
    assert_eq!(
        unsafe { kafka_consumer_unsubscribe(cons, &mut e) },
        KAFKA_OK
    );
    let list = partitions(offsets);
    let rc = unsafe { kafka_consumer_commit_offsets(cons, list, &mut e) };
    assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
    unsafe { kafka_partition_list_free(list) };
    close_consumer(cons);
}

/// (partition, offset, n) of each message polled until `n` came.
fn first_of_each(cons: *mut KafkaConsumer, n: usize) -> BTreeMap<i32, i64> {
    let got = poll_messages(cons, n, Duration::from_secs(30), |m| unsafe {
        (kafka_message_partition(m), kafka_message_offset(m))
    });
    let mut first = BTreeMap::new();
    for (p, o) in got {
        first.entry(p).or_insert(o);
    }
    first
}

/// A consumer of `topic` with `settings` (and the tests' session timeout,
/// except under the consumer group protocol, which takes the broker's),
/// whose rebalance callback is `callback` with `opaque`.
fn subscribed_with(
    inst: *mut KafkaInstance,
    topic: &str,
    settings: &[(&str, &str)],
    callback: KafkaRebalanceCallback,
    opaque: *mut c_void,
) -> *mut KafkaConsumer {
    let names = [common::c(topic)];
    let topics = [names[0].as_ptr()];
    let mut settings = settings.to_vec();
    if !settings.iter().any(|(k, _)| *k == "group.protocol") {
        settings.push(SESSION);
    }
    let o = config(&settings);
    let mut e = err();
    let cons = unsafe { kafka_instance_get_consumer(inst, topics.as_ptr(), 1, o, &mut e) };
    unsafe { kafka_config_free(o) };
    assert!(!cons.is_null(), "{}", e.message_str());
    let rc = unsafe { kafka_consumer_set_rebalance_callback(cons, callback, opaque, &mut e) };
    assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
    cons
}

/// The protocols a rebalance callback must seek under on `broker`.
fn protocols(broker: &Broker) -> Vec<(&'static str, Vec<(&'static str, &'static str)>)> {
    let mut all = vec![
        ("eager", vec![("partition.assignment.strategy", "range")]),
        (
            "cooperative",
            vec![("partition.assignment.strategy", "cooperative-sticky")],
        ),
    ];
    if !broker.mock.is_null() {
        // tansu 0.6 has no ConsumerGroupHeartbeat (KIP-848).
        all.push(("consumer protocol", vec![("group.protocol", "consumer")]));
    }
    all
}

#[test]
fn kafka_consumer_seek_in_the_rebalance_callback_sets_where_an_assigned_partition_starts() {
    for broker in brokers() {
        for (name, settings) in protocols(&broker) {
            let (topic, _, inst) = group_fixture(&broker, "seek-assign", 2);
            for p in 0..2 {
                produce_to_partition(inst, &topic, p, 10);
            }
            // The group committed 8 on both: without the seeks, the first
            // messages would be 8 and 8.
            commit_for_group(inst, &topic, &[(&topic, 0, 8), (&topic, 1, 8)]);
            let plan = SeekOnAssign {
                topic: topic.clone(),
                starts: vec![(0, 5), (1, KAFKA_OFFSET_BEGINNING)],
                to_time: None,
                codes: Mutex::new(Vec::new()),
            };
            let settings: Vec<_> = settings.to_vec();
            let cons = subscribed_with(
                inst,
                &topic,
                &settings,
                Some(seek_on_assign),
                &plan as *const SeekOnAssign as *mut c_void,
            );
            let first = first_of_each(cons, 15);
            let codes = plan.codes.lock().unwrap().clone();
            assert!(
                codes.iter().all(|(rc, _)| *rc == KAFKA_OK),
                "{} {name}: the seeks from the callback: {codes:?}",
                broker.name
            );
            assert!(
                !codes.is_empty(),
                "{} {name}: the callback ran",
                broker.name
            );
            assert_eq!(
                first,
                BTreeMap::from([(0, 5), (1, 0)]),
                "{} {name}: partition 0 starts at 5, partition 1 at the beginning",
                broker.name
            );
            close_consumer(cons);
            unsafe { kafka_instance_free(inst) };
        }
    }
}

#[test]
fn kafka_consumer_seek_to_time_in_the_rebalance_callback_sets_where_assigned_partitions_start() {
    for broker in brokers() {
        for (name, settings) in protocols(&broker) {
            let (topic, _, inst) = group_fixture(&broker, "seek-time-assign", 2);
            // Five messages on each partition, a pause, five more: the
            // time between them separates them by either clock.
            for p in 0..2 {
                produce_to_partition(inst, &topic, p, 5);
            }
            std::thread::sleep(Duration::from_millis(1500));
            let between = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_millis() as i64;
            std::thread::sleep(Duration::from_millis(500));
            for p in 0..2 {
                produce_to_partition(inst, &topic, p, 5);
            }
            let plan = SeekOnAssign {
                topic: topic.clone(),
                starts: Vec::new(),
                to_time: Some(between),
                codes: Mutex::new(Vec::new()),
            };
            let cons = subscribed_with(
                inst,
                &topic,
                &settings,
                Some(seek_on_assign),
                &plan as *const SeekOnAssign as *mut c_void,
            );
            // Until the assignment happened (the callback ran).
            let deadline = std::time::Instant::now() + Duration::from_secs(30);
            let mut early = Vec::new();
            while plan.codes.lock().unwrap().is_empty() && std::time::Instant::now() < deadline {
                early.extend(poll_messages(
                    cons,
                    1,
                    Duration::from_millis(200),
                    |m| unsafe { (kafka_message_partition(m), kafka_message_offset(m)) },
                ));
            }
            assert!(early.is_empty(), "{} {name}: {early:?}", broker.name);
            let codes = plan.codes.lock().unwrap().clone();
            assert_eq!(
                codes.len(),
                1,
                "{} {name}: the callback ran once",
                broker.name
            );
            assert_eq!(
                codes[0].0, KAFKA_OK,
                "{} {name}: {}",
                broker.name, codes[0].1
            );
            // librdkafka's mock answers every lookup by time with "none"
            // (rdkafka_mock_handlers.c, ListOffsets): each partition then
            // moves to its end, as documented, and only what comes next
            // arrives. A real broker finds offset 5.
            let (start, read) = match broker.mock.is_null() {
                true => (5, 10),
                false => {
                    for p in 0..2 {
                        produce_to_partition(inst, &topic, p, 1);
                    }
                    (10, 2)
                }
            };
            assert_eq!(
                first_of_each(cons, read),
                BTreeMap::from([(0, start), (1, start)]),
                "{} {name}: each partition started at {start}",
                broker.name
            );
            close_consumer(cons);
            unsafe { kafka_instance_free(inst) };
        }
    }
}

#[test]
fn kafka_consumer_seek_on_a_partition_not_assigned_is_a_state_error_that_says_so() {
    for broker in brokers() {
        let (topic, _, inst) = group_fixture(&broker, "seek-unassigned", 2);
        let cons = consumer(inst, &[&topic], &[]);
        let mut e = err();
        assign_from_start(cons, &topic);
        let t = common::c(&topic);
        let rc = unsafe { kafka_consumer_seek(cons, t.as_ptr(), 1, 0, 5000, &mut e) };
        assert_eq!(rc, KAFKA_ERR_STATE, "{}: {}", broker.name, e.message_str());
        assert!(
            e.message_str().contains("not assigned"),
            "{}: {}",
            broker.name,
            e.message_str()
        );
        let other = common::c(&unique_topic("elsewhere"));
        let rc = unsafe { kafka_consumer_seek(cons, other.as_ptr(), 0, 0, 5000, &mut e) };
        assert_eq!(rc, KAFKA_ERR_STATE, "{}: {}", broker.name, e.message_str());
        // The assigned one still seeks.
        let rc = unsafe { kafka_consumer_seek(cons, t.as_ptr(), 0, 0, 5000, &mut e) };
        assert_eq!(rc, KAFKA_OK, "{}: {}", broker.name, e.message_str());
        close_consumer(cons);
        unsafe { kafka_instance_free(inst) };
    }
}

/// `cons` reads partition 0 of `topic` from its start, by assignment
/// (its subscription dropped).
fn assign_from_start(cons: *mut KafkaConsumer, topic: &str) {
    let mut e = err();
    assert_eq!(
        unsafe { kafka_consumer_unsubscribe(cons, &mut e) },
        KAFKA_OK
    );
    let list = partitions(&[(topic, 0, KAFKA_OFFSET_BEGINNING)]);
    assert_eq!(
        unsafe { kafka_consumer_assign(cons, list, &mut e) },
        KAFKA_OK
    );
    unsafe { kafka_partition_list_free(list) };
}

/// The group's committed offset of partition 0, asked by `cons`.
fn committed(cons: *mut KafkaConsumer, topic: &str) -> i64 {
    let (mut out, mut e) = (null_mut(), err());
    let rc = unsafe { kafka_consumer_committed(cons, 10_000, &mut out, &mut e) };
    assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
    let got = entries(out);
    got.iter()
        .find(|(t, p, _)| t == topic && *p == 0)
        .map(|e| e.2)
        .unwrap_or(KAFKA_OFFSET_NONE)
}

fn seek(cons: *mut KafkaConsumer, topic: &str, to: i64) {
    let t = common::c(topic);
    let mut e = err();
    let rc = unsafe { kafka_consumer_seek(cons, t.as_ptr(), 0, to, 10_000, &mut e) };
    assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
}

fn offsets(cons: *mut KafkaConsumer, n: usize) -> Vec<i64> {
    poll_messages(cons, n, Duration::from_secs(30), |m| unsafe {
        kafka_message_offset(m)
    })
}

unsafe extern "C" fn note_commit(
    _: *mut KafkaConsumer,
    result: *const KafkaError,
    _: *const KafkaPartitionList,
    opaque: *mut c_void,
) {
    let seen = unsafe { &*(opaque as *const Mutex<Vec<KafkaErrorCode>>) };
    seen.lock().unwrap().push(unsafe { (*result).code });
}

/// Starts an asynchronous commit of what is done and polls until its
/// outcome is served (20 s at most): the codes the callback got.
fn commit_async_served(cons: *mut KafkaConsumer) -> Vec<KafkaErrorCode> {
    let seen: Mutex<Vec<KafkaErrorCode>> = Mutex::new(Vec::new());
    let mut e = err();
    let rc = unsafe {
        kafka_consumer_commit_async(
            cons,
            null(),
            Some(note_commit),
            &seen as *const _ as *mut c_void,
            &mut e,
        )
    };
    assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while seen.lock().unwrap().is_empty() && std::time::Instant::now() < deadline {
        poll_messages(cons, 1, Duration::from_millis(100), |_| ());
    }
    seen.into_inner().unwrap()
}

#[test]
fn a_commit_after_seeking_back_moves_the_committed_offset_back() {
    for broker in brokers() {
        let (topic, _, inst) = group_fixture(&broker, "seek-back", 1);
        produce_to_partition(inst, &topic, 0, 10);
        let cons = consumer(inst, &[&topic], &[("enable_auto_commit", "false")]);
        let mut e = err();
        assign_from_start(cons, &topic);
        assert_eq!(offsets(cons, 4), vec![0, 1, 2, 3]);
        assert_eq!(unsafe { kafka_consumer_commit(cons, &mut e) }, KAFKA_OK);
        assert_eq!(committed(cons, &topic), 4, "{}", broker.name);

        // Back to 2, done with 2: the commit says 3.
        seek(cons, &topic, 2);
        assert_eq!(offsets(cons, 1), vec![2]);
        let rc = unsafe { kafka_consumer_commit(cons, &mut e) };
        assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
        assert_eq!(
            committed(cons, &topic),
            3,
            "{}: kafka_consumer_commit",
            broker.name
        );

        // Forward again from there: commits follow as usual.
        assert_eq!(offsets(cons, 2), vec![3, 4]);
        assert_eq!(unsafe { kafka_consumer_commit(cons, &mut e) }, KAFKA_OK);
        assert_eq!(committed(cons, &topic), 5, "{}: after", broker.name);

        // Back to 1, done with 1: an asynchronous commit says 2.
        seek(cons, &topic, 1);
        assert_eq!(offsets(cons, 1), vec![1]);
        assert_eq!(commit_async_served(cons), vec![KAFKA_OK], "{}", broker.name);
        assert_eq!(committed(cons, &topic), 2, "{}: commit_async", broker.name);
        close_consumer(cons);
        unsafe { kafka_instance_free(inst) };
    }
}

#[test]
fn close_after_seeking_back_commits_the_offset_after_the_last_message_done() {
    for broker in brokers() {
        let (topic, _, inst) = group_fixture(&broker, "seek-back-close", 1);
        produce_to_partition(inst, &topic, 0, 10);
        let cons = consumer(inst, &[&topic], &[]);
        let first = offsets(cons, 6);
        assert_eq!(first, vec![0, 1, 2, 3, 4, 5], "{}", broker.name);
        let mut e = err();
        assert_eq!(unsafe { kafka_consumer_commit(cons, &mut e) }, KAFKA_OK);
        seek(cons, &topic, 1);
        assert_eq!(offsets(cons, 2), vec![1, 2]);
        // Close marks what was handed out done and commits it.
        close_consumer(cons);
        let again = consumer(inst, &[&topic], &[]);
        let mut e = err();
        assert_eq!(
            unsafe { kafka_consumer_unsubscribe(again, &mut e) },
            KAFKA_OK
        );
        let list = partitions(&[(&topic, 0, KAFKA_OFFSET_BEGINNING)]);
        assert_eq!(
            unsafe { kafka_consumer_assign(again, list, &mut e) },
            KAFKA_OK
        );
        unsafe { kafka_partition_list_free(list) };
        assert_eq!(
            committed(again, &topic),
            3,
            "{}: close committed after 2, below the 6 committed before",
            broker.name
        );
        close_consumer(again);
        unsafe { kafka_instance_free(inst) };
    }
}

unsafe extern "C" fn pause_on_assign(
    c: *mut KafkaConsumer,
    event: KafkaRebalanceEvent,
    partitions: *const KafkaPartitionList,
    opaque: *mut c_void,
) {
    if event != KafkaRebalanceEvent::KAFKA_REBALANCE_ASSIGNED {
        return;
    }
    let codes = unsafe { &*(opaque as *const Mutex<Vec<KafkaErrorCode>>) };
    let mut e = err();
    let rc = unsafe { kafka_consumer_pause(c, partitions, &mut e) };
    codes.lock().unwrap().push(rc);
}

/// A pause from the callback on ASSIGNED holds the partitions from the
/// start (librdkafka ignored a pause of a partition it did not have yet):
/// nothing arrives until they are resumed.
#[test]
fn a_pause_in_the_rebalance_callback_holds_assigned_partitions_from_the_start() {
    for broker in brokers() {
        for (name, settings) in protocols(&broker) {
            let (topic, _, inst) = group_fixture(&broker, "pause-assign", 2);
            for p in 0..2 {
                produce_to_partition(inst, &topic, p, 3);
            }
            let codes: Mutex<Vec<KafkaErrorCode>> = Mutex::new(Vec::new());
            let cons = subscribed_with(
                inst,
                &topic,
                &settings,
                Some(pause_on_assign),
                &codes as *const _ as *mut c_void,
            );
            let mut e = err();
            let deadline = std::time::Instant::now() + Duration::from_secs(30);
            let mut early = Vec::new();
            while codes.lock().unwrap().is_empty() && std::time::Instant::now() < deadline {
                early.extend(poll_messages(cons, 1, Duration::from_millis(200), json_n));
            }
            assert_eq!(
                *codes.lock().unwrap(),
                vec![KAFKA_OK],
                "{} {name}",
                broker.name
            );
            early.extend(poll_messages(cons, 6, Duration::from_secs(3), json_n));
            assert!(
                early.is_empty(),
                "{} {name}: paused, yet {early:?}",
                broker.name
            );
            let list = partitions(&[
                (&topic, 0, KAFKA_OFFSET_COMMITTED),
                (&topic, 1, KAFKA_OFFSET_COMMITTED),
            ]);
            let rc = unsafe { kafka_consumer_resume(cons, list, &mut e) };
            assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
            unsafe { kafka_partition_list_free(list) };
            let got = poll_messages(cons, 6, Duration::from_secs(30), json_n);
            assert_eq!(got.len(), 6, "{} {name}: resumed", broker.name);
            close_consumer(cons);
            unsafe { kafka_instance_free(inst) };
        }
    }
}

/// The explicit commit after a seek back is served like any other: once
/// its outcome is in, nothing is left for the event fd to announce (an
/// outcome left behind kept the fd readable, and a loop on it spinning).
#[test]
fn an_asynchronous_commit_after_a_seek_back_leaves_nothing_behind() {
    for broker in brokers() {
        let (topic, _, inst) = group_fixture(&broker, "seek-back-async", 1);
        produce_to_partition(inst, &topic, 0, 6);
        let cons = consumer(inst, &[&topic], &[("enable_auto_commit", "false")]);
        let mut e = err();
        assign_from_start(cons, &topic);
        let fd = unsafe { kafka_consumer_event_fd(cons, &mut e) };
        assert!(fd >= 0, "{}", e.message_str());
        assert_eq!(offsets(cons, 6), vec![0, 1, 2, 3, 4, 5]);
        assert_eq!(unsafe { kafka_consumer_commit(cons, &mut e) }, KAFKA_OK);
        seek(cons, &topic, 2);
        assert_eq!(offsets(cons, 1), vec![2]);
        assert_eq!(commit_async_served(cons), vec![KAFKA_OK], "{}", broker.name);
        // What is left after 2 (the wait for the outcome may have read some
        // of it, or none on a loaded machine): read, so that nothing is
        // left to serve.
        let rest = poll_messages(cons, 3, Duration::from_secs(2), |m| unsafe {
            kafka_message_offset(m)
        });
        assert!(rest.iter().all(|o| (3..6).contains(o)), "{rest:?}");
        // Served: both outcomes in; then, idle, the fd goes quiet.
        std::thread::sleep(Duration::from_millis(500));
        let mut ready = 0;
        for _ in 0..5 {
            let (mut m, mut e) = (null_mut(), err());
            let rc = unsafe { kafka_consumer_poll(cons, 0, &mut m, &mut e) };
            assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
            assert!(m.is_null(), "nothing more to read");
            let mut pfd = libc::pollfd {
                fd,
                events: libc::POLLIN,
                revents: 0,
            };
            ready += unsafe { libc::poll(&mut pfd, 1, 200) };
        }
        assert!(
            ready < 5,
            "{}: the event fd stays readable with nothing to serve",
            broker.name
        );
        assert_eq!(committed(cons, &topic), 3, "{}", broker.name);
        close_consumer(cons);
        unsafe { kafka_instance_free(inst) };
    }
}

//! Static membership: a member restarted in time gets its partitions
//! back without a rebalance.

use super::*;

/// Counts rebalance events per kind for one member.
#[derive(Default)]
struct Events {
    assigned: std::sync::atomic::AtomicUsize,
    revoked: std::sync::atomic::AtomicUsize,
    partitions: Mutex<BTreeSet<i32>>,
}

unsafe extern "C" fn count_rebalance(
    _: *mut KafkaConsumer,
    event: KafkaRebalanceEvent,
    partitions: *const KafkaPartitionList,
    opaque: *mut c_void,
) {
    let events = unsafe { &*(opaque as *const Events) };
    let mut owned = events.partitions.lock().unwrap();
    for i in 0..unsafe { kafka_partition_list_count(partitions) } {
        let p = unsafe { (*kafka_partition_list_get(partitions, i)).partition };
        if event == KafkaRebalanceEvent::KAFKA_REBALANCE_ASSIGNED {
            owned.insert(p);
        } else {
            owned.remove(&p);
        }
    }
    let counter = match event {
        KafkaRebalanceEvent::KAFKA_REBALANCE_ASSIGNED => &events.assigned,
        _ => &events.revoked,
    };
    counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
}

/// Static membership: a member restarted (same `group.instance.id`) within
/// the session timeout gets its partitions back, and the other member sees
/// no rebalance at all.
#[test]
fn static_members_restarted_in_time_get_their_partitions_back_without_a_rebalance() {
    for broker in brokers() {
        if !broker.mock.is_null() {
            broker_cannot(
                "static_members_restarted_in_time_get_their_partitions_back_without_a_rebalance",
                "librdkafka's mock cluster takes a static member's rejoin for a new member (it \
                 never looks members up by group.instance.id): checked against \
                 KAFKA_BOOTSTRAP_SERVERS only",
            );
            continue;
        }
        let (topic, _, inst) = group_fixture(&broker, "static", 4);
        let member = |id: &str, events: &Events| {
            let settings = [
                ("group.instance.id", id),
                ("session_timeout_ms", "10000"),
                ("partition.assignment.strategy", "range"),
            ];
            let cons = consumer(inst, &[&topic], &settings);
            let mut e = err();
            let opaque = events as *const Events as *mut c_void;
            let rc = unsafe {
                kafka_consumer_set_rebalance_callback(cons, Some(count_rebalance), opaque, &mut e)
            };
            assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
            cons
        };
        let (a_events, b_events) = (Events::default(), Events::default());
        let a = member("member-a", &a_events);
        let b = member("member-b", &b_events);
        // Both hold partitions (poll both until the group settled).
        let held = |e: &Events| e.partitions.lock().unwrap().len();
        let deadline = Instant::now() + Duration::from_secs(60);
        while held(&a_events) + held(&b_events) < 4 || held(&a_events) == 0 || held(&b_events) == 0
        {
            assert!(
                Instant::now() < deadline,
                "{}: both members got partitions",
                broker.name
            );
            poll_messages(a, 1, Duration::from_millis(100), |_| ());
            poll_messages(b, 1, Duration::from_millis(100), |_| ());
        }
        let a_before = a_events.partitions.lock().unwrap().clone();
        let b_rebalances = || {
            b_events.assigned.load(std::sync::atomic::Ordering::SeqCst)
                + b_events.revoked.load(std::sync::atomic::Ordering::SeqCst)
        };
        let b_before = b_rebalances();
        // A restarts: closed (a static member does not leave the group)
        // and made again with the same instance id, well within 10 s.
        close_consumer(a);
        let again_events = Events::default();
        let again = member("member-a", &again_events);
        let deadline = Instant::now() + Duration::from_secs(30);
        while held(&again_events) < a_before.len() {
            assert!(
                Instant::now() < deadline,
                "{}: the restarted member got partitions",
                broker.name
            );
            poll_messages(again, 1, Duration::from_millis(100), |_| ());
            poll_messages(b, 1, Duration::from_millis(100), |_| ());
        }
        // A little longer, so that a rebalance of B would have shown.
        for _ in 0..10 {
            poll_messages(again, 1, Duration::from_millis(100), |_| ());
            poll_messages(b, 1, Duration::from_millis(100), |_| ());
        }
        assert_eq!(
            *again_events.partitions.lock().unwrap(),
            a_before,
            "{}: the same partitions",
            broker.name
        );
        assert_eq!(
            b_rebalances(),
            b_before,
            "{}: the other member saw no rebalance",
            broker.name
        );
        close_consumer(again);
        close_consumer(b);
        unsafe { kafka_instance_free(inst) };
    }
}

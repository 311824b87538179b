//! Members and lifetimes: a group's members share the partitions and a
//! leaver hands its share over; messages outlive their consumer and
//! consumers their instance; scoped consumers always close.

use super::*;

#[test]
fn two_members_share_partitions_and_a_leaver_hands_its_share_over() {
    capture_logs();
    for broker in brokers() {
        let topic = unique_topic("group");
        create_topic(&broker, &topic, 4);
        let group = unique_topic("g");
        let inst = instance(
            &broker,
            &[("group_id", &group), ("auto_offset_reset", "earliest")],
        );
        let since = logged().len();
        let a = consumer(inst, &[&topic], &[]);
        let b = consumer(inst, &[&topic], &[("debug", "cgrp")]);
        // Both poll until each holds two of the four partitions.
        settle(&[a, b], &topic, since, 2, 2);
        let settled = logged().len();
        produce(inst, &topic, 0, 40, 40);
        let (mut from_a, mut from_b) = (Vec::new(), Vec::new());
        let ns = |v: &[Seen]| v.iter().map(n_of).collect::<BTreeSet<_>>();
        let deadline = Instant::now() + WAIT;
        while ns(&[from_a.clone(), from_b.clone()].concat()).len() < 40 && Instant::now() < deadline
        {
            from_a.extend(poll_n(a, 40, Duration::from_millis(300)));
            from_b.extend(poll_n(b, 40, Duration::from_millis(300)));
        }
        let all = [from_a.clone(), from_b.clone()].concat();
        assert_eq!(ns(&all), (0..40).collect(), "{}: nothing lost", broker.name);
        assert!(
            !from_a.is_empty() && !from_b.is_empty(),
            "both members got partitions"
        );
        // A machine loaded enough to miss heartbeats rebalances the group
        // again; then re-delivery is librdkafka's at-least-once guarantee.
        // Without one, no partition is read by both and nothing twice.
        let rebalanced = logged()[settled..].iter().any(|r| {
            r.message.starts_with("rebalance: ")
                && r.message.contains(&format!("topic: \"{topic}\""))
        });
        if !rebalanced {
            let parts = |v: &[Seen]| v.iter().map(|s| s.partition).collect::<BTreeSet<_>>();
            assert!(
                parts(&from_a).is_disjoint(&parts(&from_b)),
                "no partition twice"
            );
            assert_eq!(all.len(), 40, "nothing twice");
        }

        // b leaves the group explicitly (librdkafka says so: its LeaveGroup
        // was answered), and a takes over b's partitions.
        close_consumer(b);
        assert!(
            logged().iter().any(|r| r.subject == "librdkafka"
                && r.message.contains(&format!("Group \"{group}\""))
                && r.message.contains("leave")),
            "b sent LeaveGroup on close"
        );
        produce(inst, &topic, 40, 20, 20);
        let mut rest = Vec::new();
        let deadline = Instant::now() + WAIT;
        while !ns(&rest).is_superset(&(40..60).collect()) && Instant::now() < deadline {
            rest.extend(poll_n(a, 20, Duration::from_millis(300)));
        }
        assert!(
            ns(&rest).is_superset(&(40..60).collect()),
            "{}: a took over b's partitions",
            broker.name
        );
        close_consumer(a);
        unsafe { kafka_instance_free(inst) };
    }
}

#[test]
fn messages_outlive_their_consumer_and_consumers_their_instance() {
    let broker = embedded();
    let topic = unique_topic("outlive");
    create_topic(&broker, &topic, 1);
    let inst = instance(
        &broker,
        &[
            ("group_id", &unique_topic("g")),
            ("auto_offset_reset", "earliest"),
        ],
    );
    produce(inst, &topic, 0, 2, 1);
    let cons = consumer(inst, &[&topic], &[]);
    unsafe { kafka_instance_free(inst) };
    let mut m: *mut KafkaMessage = null_mut();
    let mut e = err();
    let deadline = Instant::now() + WAIT;
    while m.is_null() && Instant::now() < deadline {
        unsafe { kafka_consumer_poll(cons, 200, &mut m, &mut e) };
    }
    assert!(!m.is_null());
    close_consumer(cons);
    let s = seen(m);
    assert_eq!(s.topic, topic);
    assert_eq!(n_of(&s), 0);
    unsafe { kafka_message_free(m) };
}

/// Reads `want` messages, waiting up to `wait_s` seconds.
struct ScopeWant {
    want: usize,
    wait_s: u64,
}

unsafe extern "C" fn scope_reads(cons: *mut KafkaConsumer, opaque: *mut c_void) -> c_int {
    let ScopeWant { want, wait_s } = *unsafe { &*(opaque as *const ScopeWant) };
    let got = poll_n(cons, want, Duration::from_secs(wait_s)).len();
    if got == want {
        0
    } else {
        9
    }
}

#[test]
fn scoped_consumers_always_close() {
    for broker in brokers() {
        let topic = unique_topic("scope");
        create_topic(&broker, &topic, 1);
        let group = unique_topic("g");
        let inst = instance(
            &broker,
            &[("group_id", &group), ("auto_offset_reset", "earliest")],
        );
        produce(inst, &topic, 0, 3, 1);
        let t = c(&topic);
        let list = [t.as_ptr()];
        let mut e = err();
        let three = ScopeWant {
            want: 3,
            wait_s: 30,
        };
        let session = config(&[SESSION]);
        let rc = unsafe {
            kafka_instance_with_consumer(
                inst,
                list.as_ptr(),
                1,
                session,
                Some(scope_reads),
                &three as *const _ as *mut c_void,
                &mut e,
            )
        };
        assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
        // Auto-commit was on: close committed, so the group has nothing left
        // and the scope fails (non-zero): KAFKA_ERR_CALLBACK after close.
        let o = config(&[("max_poll_records", "10"), SESSION]);
        let one = ScopeWant { want: 1, wait_s: 8 };
        let rc = unsafe {
            kafka_instance_with_consumer(
                inst,
                list.as_ptr(),
                1,
                o,
                Some(scope_reads),
                &one as *const _ as *mut c_void,
                &mut e,
            )
        };
        assert_eq!(rc, KAFKA_ERR_CALLBACK, "{}", e.message_str());
        assert!(e.message_str().contains("returned 9"));
        assert_eq!(
            unsafe {
                kafka_instance_with_consumer(
                    inst,
                    list.as_ptr(),
                    1,
                    null(),
                    None,
                    null_mut(),
                    &mut e,
                )
            },
            KAFKA_ERR_INVALID_ARGUMENT
        );
        unsafe {
            kafka_config_free(o);
            kafka_config_free(session);
            kafka_instance_free(inst);
        }
    }
}

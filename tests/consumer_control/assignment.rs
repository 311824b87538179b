//! Manual assignment and what goes with it: seeks (to an offset, to a
//! time), pauses, positions, watermarks, lag and explicit commits.

use super::*;

#[test]
fn kafka_consumer_assign_starts_where_told_and_assignment_and_position_say_so() {
    for broker in brokers() {
        let (topic, _, inst) = group_fixture(&broker, "assign", 1);
        produce_to_partition(inst, &topic, 0, 10);
        let cons = manual_consumer(inst, &topic);
        let mut e = err();
        for (start, first) in [(3, 3), (KAFKA_OFFSET_BEGINNING, 0)] {
            let list = partitions(&[(&topic, 0, start)]);
            let rc = unsafe { kafka_consumer_assign(cons, list, &mut e) };
            assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
            unsafe { kafka_partition_list_free(list) };
            assert_eq!(
                first_n(cons, 2),
                vec![first, first + 1],
                "{} from {start}",
                broker.name
            );
        }
        let assigned = ask("assignment", |out, e| unsafe {
            kafka_consumer_assignment(cons, out, e)
        });
        assert_eq!(
            entries(assigned),
            vec![(topic.clone(), 0, KAFKA_OFFSET_NONE)]
        );
        let position = ask("position", |out, e| unsafe {
            kafka_consumer_position(cons, out, e)
        });
        assert_eq!(
            entries(position),
            vec![(topic.clone(), 0, 2)],
            "next after 0 and 1"
        );
        // From the end: only what comes next.
        let list = partitions(&[(&topic, 0, KAFKA_OFFSET_END)]);
        assert_eq!(
            unsafe { kafka_consumer_assign(cons, list, &mut e) },
            KAFKA_OK
        );
        unsafe { kafka_partition_list_free(list) };
        assert!(poll_messages(cons, 1, Duration::from_millis(1500), json_n).is_empty());
        assert_eq!(unsafe { kafka_consumer_unassign(cons, &mut e) }, KAFKA_OK);
        let assigned = ask("assignment", |out, e| unsafe {
            kafka_consumer_assignment(cons, out, e)
        });
        assert!(entries(assigned).is_empty());
        // An empty list is refused, a NULL one too.
        let empty = kafka_partition_list_new();
        assert_eq!(
            unsafe { kafka_consumer_assign(cons, empty, &mut e) },
            KAFKA_ERR_INVALID_ARGUMENT
        );
        unsafe { kafka_partition_list_free(empty) };
        close_consumer(cons);
        unsafe { kafka_instance_free(inst) };
    }
}

#[test]
fn kafka_consumer_seek_moves_and_never_commits_what_it_moved_away_from() {
    for broker in brokers() {
        let (topic, group, inst) = group_fixture(&broker, "seek", 1);
        produce_to_partition(inst, &topic, 0, 10);
        let cons = manual_consumer(inst, &topic);
        let mut e = err();
        let list = partitions(&[(&topic, 0, KAFKA_OFFSET_BEGINNING)]);
        assert_eq!(
            unsafe { kafka_consumer_assign(cons, list, &mut e) },
            KAFKA_OK
        );
        unsafe { kafka_partition_list_free(list) };
        assert_eq!(first_n(cons, 6), (0..6).collect::<Vec<_>>());
        let t = c(&topic);
        // Back to 2: messages 2.. come again, and the handed-out 0..5 are
        // not committed by the next commit.
        let rc = unsafe { kafka_consumer_seek(cons, t.as_ptr(), 0, 2, 10_000, &mut e) };
        assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
        assert_eq!(first_n(cons, 1), vec![2]);
        assert_eq!(unsafe { kafka_consumer_commit(cons, &mut e) }, KAFKA_OK);
        let committed = ask("committed", |out, e| unsafe {
            kafka_consumer_committed(cons, 10_000, out, e)
        });
        let got = entries(committed);
        assert_eq!(
            got,
            vec![(topic.clone(), 0, 3)],
            "committed after 2, not after 5"
        );
        // Forward to the end; then bad seeks.
        let rc =
            unsafe { kafka_consumer_seek(cons, t.as_ptr(), 0, KAFKA_OFFSET_END, 10_000, &mut e) };
        assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
        assert!(poll_messages(cons, 1, Duration::from_millis(1500), json_n).is_empty());
        let rc = unsafe { kafka_consumer_seek(cons, t.as_ptr(), 0, -7, 1000, &mut e) };
        assert_eq!(rc, KAFKA_ERR_INVALID_ARGUMENT);
        let rc = unsafe { kafka_consumer_seek(cons, t.as_ptr(), 0, 0, -2, &mut e) };
        assert_eq!(rc, KAFKA_ERR_INVALID_ARGUMENT, "timeout");
        close_consumer(cons);
        let _ = group;
        unsafe { kafka_instance_free(inst) };
    }
}

#[test]
fn kafka_consumer_seek_to_time_finds_the_first_message_at_or_after_it() {
    for broker in brokers() {
        let (topic, _, inst) = group_fixture(&broker, "replay", 1);
        // Five messages, a pause, then five more: the time between them
        // separates them by the broker's clock (append time) and by the
        // producer's (create time) alike.
        produce_unbatched(inst, &topic, 0, 5);
        std::thread::sleep(Duration::from_millis(1500));
        let between = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64;
        std::thread::sleep(Duration::from_millis(500));
        produce_unbatched(inst, &topic, 5, 5);
        let cons = manual_consumer(inst, &topic);
        let mut e = err();
        let list = partitions(&[(&topic, 0, KAFKA_OFFSET_END)]);
        assert_eq!(
            unsafe { kafka_consumer_assign(cons, list, &mut e) },
            KAFKA_OK
        );
        unsafe { kafka_partition_list_free(list) };
        let moved = ask("seek_to_time", |out, e| unsafe {
            kafka_consumer_seek_to_time(cons, between, 10_000, out, e)
        });
        let moved = entries(moved);
        if broker.mock.is_null() {
            assert_eq!(moved, vec![(topic.clone(), 0, 5)], "{}", broker.name);
            assert_eq!(first_n(cons, 2), vec![5, 6]);
        } else {
            // librdkafka's mock answers every timestamp lookup with "none"
            // (rdkafka_mock_handlers.c, ListOffsets: "FIXME: by
            // timestamp"): the partition moves to its end, as documented.
            assert_eq!(moved, vec![(topic.clone(), 0, KAFKA_OFFSET_NONE)]);
            broker_cannot(
                "kafka_consumer_seek_to_time_finds_the_first_message_at_or_after_it",
                "the embedded broker does not look offsets up by time; checked against \
                 KAFKA_BOOTSTRAP_SERVERS only",
            );
        }
        let rc = unsafe { kafka_consumer_seek_to_time(cons, -1, 1000, null_mut(), &mut e) };
        assert_eq!(rc, KAFKA_ERR_INVALID_ARGUMENT);
        close_consumer(cons);
        unsafe { kafka_instance_free(inst) };
    }
}

#[test]
fn kafka_consumer_pause_stops_a_partition_and_resume_loses_nothing() {
    for broker in brokers() {
        let (topic, _, inst) = group_fixture(&broker, "pause", 2);
        let cons = manual_consumer(inst, &topic);
        let mut e = err();
        let both = partitions(&[
            (&topic, 0, KAFKA_OFFSET_BEGINNING),
            (&topic, 1, KAFKA_OFFSET_BEGINNING),
        ]);
        assert_eq!(
            unsafe { kafka_consumer_assign(cons, both, &mut e) },
            KAFKA_OK
        );
        unsafe { kafka_partition_list_free(both) };
        let one = partitions(&[(&topic, 1, 0)]);
        assert_eq!(unsafe { kafka_consumer_pause(cons, one, &mut e) }, KAFKA_OK);
        // Ten to each partition while partition 1 is paused.
        for partition in 0..2 {
            produce_to_partition(inst, &topic, partition, 10);
        }
        let got = poll_messages(cons, 20, Duration::from_secs(5), |m| unsafe {
            kafka_message_partition(m)
        });
        assert_eq!(
            got.iter().filter(|p| **p == 0).count(),
            10,
            "{}",
            broker.name
        );
        assert!(
            got.iter().all(|p| *p == 0),
            "nothing of the paused partition: {got:?}"
        );
        assert_eq!(
            unsafe { kafka_consumer_resume(cons, one, &mut e) },
            KAFKA_OK
        );
        let rest = poll_messages(cons, 10, Duration::from_secs(30), json_n);
        assert_eq!(rest.len(), 10, "every message of the resumed partition");
        unsafe { kafka_partition_list_free(one) };
        close_consumer(cons);
        unsafe { kafka_instance_free(inst) };
    }
}

#[test]
fn kafka_consumer_lag_watermarks_and_commit_offsets_agree() {
    for broker in brokers() {
        let (topic, group, inst) = group_fixture(&broker, "lag", 1);
        produce_to_partition(inst, &topic, 0, 10);
        // Without auto-commit, so that close commits nothing of its own.
        let cons = consumer(inst, &[&topic], &[("enable_auto_commit", "false")]);
        let mut e = err();
        assert_eq!(
            unsafe { kafka_consumer_unsubscribe(cons, &mut e) },
            KAFKA_OK
        );
        let list = partitions(&[(&topic, 0, KAFKA_OFFSET_BEGINNING)]);
        assert_eq!(
            unsafe { kafka_consumer_assign(cons, list, &mut e) },
            KAFKA_OK
        );
        unsafe { kafka_partition_list_free(list) };
        assert_eq!(first_n(cons, 4), vec![0, 1, 2, 3]);
        let done = partitions(&[(&topic, 0, 3)]);
        assert_eq!(
            unsafe { kafka_consumer_commit_offsets(cons, done, &mut e) },
            KAFKA_OK
        );
        unsafe { kafka_partition_list_free(done) };
        let (mut low, mut high) = (-9, -9);
        let t = c(&topic);
        let rc = unsafe {
            kafka_consumer_watermarks(cons, t.as_ptr(), 0, 10_000, &mut low, &mut high, &mut e)
        };
        assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
        assert_eq!((low, high), (0, 10), "{}", broker.name);
        let lag = ask("lag", |out, e| unsafe {
            kafka_consumer_lag(cons, 10_000, out, e)
        });
        let item = unsafe { &*kafka_partition_list_get(lag, 0) };
        assert_eq!(
            (
                item.offset,
                item.low_watermark,
                item.high_watermark,
                item.committed
            ),
            (4, 0, 10, 3)
        );
        assert_eq!((item.lag, item.uncommitted_lag), (6, 7));
        unsafe { kafka_partition_list_free(lag) };
        // A commit takes exact offsets only.
        let vague = partitions(&[(&topic, 0, KAFKA_OFFSET_END)]);
        let rc = unsafe { kafka_consumer_commit_offsets(cons, vague, &mut e) };
        assert_eq!(rc, KAFKA_ERR_INVALID_ARGUMENT);
        unsafe { kafka_partition_list_free(vague) };
        close_consumer(cons);
        // The group resumes at the explicit commit (3), not after the poll.
        let again = consumer(inst, &[&topic], &[]);
        assert_eq!(first_n(again, 1), vec![3], "{group}");
        close_consumer(again);
        unsafe { kafka_instance_free(inst) };
    }
}

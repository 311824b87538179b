//! Groups seen from an instance: kafka_instance_list_groups /
//! _describe_group (a `KafkaGroupList`), _group_offsets, _group_lag and
//! _delete_group; against the embedded broker and, when
//! KAFKA_BOOTSTRAP_SERVERS is set, that broker too.

#![allow(unsafe_code)] // these tests call the C ABI, as a C program would

mod common;
use common::*;

use std::ptr::{null, null_mut};
use std::time::Duration;

/// A member: id, client id, assigned (topic, partition)s.
type Member = (String, String, Vec<(String, i32)>);

#[derive(Debug)]
struct Group {
    name: String,
    state: String,
    protocol_type: String,
    members: Vec<Member>,
}

/// A group list's groups, read as a C program would, then freed.
fn groups(list: *mut KafkaGroupList) -> Vec<Group> {
    unsafe {
        let n = kafka_group_list_count(list);
        assert!(kafka_group_list_get(list, n).is_null());
        let out = (0..n)
            .map(|i| {
                let g = &*kafka_group_list_get(list, i);
                let members = match g.member_count {
                    0 => &[][..],
                    n => std::slice::from_raw_parts(g.members, n),
                };
                Group {
                    name: s(g.name),
                    state: s(g.state),
                    protocol_type: s(g.protocol_type),
                    members: members
                        .iter()
                        .map(|m| {
                            let parts = match m.assignment_count {
                                0 => &[][..],
                                n => std::slice::from_raw_parts(m.assignment, n),
                            };
                            (
                                s(m.member_id),
                                s(m.client_id),
                                parts.iter().map(|p| (s(p.topic), p.partition)).collect(),
                            )
                        })
                        .collect(),
                }
            })
            .collect();
        kafka_group_list_free(list);
        out
    }
}

/// The partitions to ask a group about: every one the group committed
/// (NULL) on a real broker; on the embedded one, whose OffsetFetch answers
/// only the partitions named, `topic`'s `n` partitions.
fn asked(broker: &Broker, topic: &str, n: i32) -> *mut KafkaPartitionList {
    if broker.mock.is_null() {
        return null_mut();
    }
    broker_cannot(
        "group_list::every_committed_partition",
        "librdkafka's mock cluster answers an OffsetFetch for all partitions with none",
    );
    let items: Vec<(&str, i32, i64)> = (0..n).map(|p| (topic, p, 0)).collect();
    partitions(&items)
}

/// Sends `{"n": i}` for i in `from..from + n` to partition `i % partitions`,
/// each acknowledged before the next: keyless messages would stick to one
/// partition for a while (librdkafka's sticky partitioning), and this test
/// needs every partition to have some.
fn produce_across(inst: *mut KafkaInstance, topic: &str, from: usize, n: usize, partitions: usize) {
    let mut e = err();
    let p = unsafe { kafka_instance_get_producer(inst, null(), &mut e) };
    assert!(!p.is_null(), "{}", e.message_str());
    let t = c(topic);
    for i in from..from + n {
        let value = format!("{{\"n\":{i}}}");
        let mut record = empty_record(&t);
        record.value = value.as_ptr().cast();
        record.value_len = value.len();
        record.has_partition = true;
        record.partition = (i % partitions) as i32;
        let rc = unsafe { kafka_producer_send_sync(p, &record, 10_000, null_mut(), &mut e) };
        ok(rc, &e, "send_sync");
    }
    ok(
        unsafe { kafka_producer_close(p, 10_000, &mut e) },
        &e,
        "close",
    );
}

fn ok(rc: KafkaErrorCode, e: &KafkaError, what: &str) {
    assert_eq!(rc, KAFKA_OK, "{what}: {}", e.message_str());
}

/// (topic, partition, committed, high, lag) of a lag answer; for
/// group_offsets high and lag are KAFKA_OFFSET_NONE.
fn rows(list: *mut KafkaPartitionList) -> Vec<(String, i32, i64, i64, i64)> {
    let mut out = Vec::new();
    unsafe {
        for i in 0..kafka_partition_list_count(list) {
            let p = &*kafka_partition_list_get(list, i);
            assert_eq!(p.offset, p.committed);
            out.push((
                s(p.topic),
                p.partition,
                p.committed,
                p.high_watermark,
                p.lag,
            ));
        }
        kafka_partition_list_free(list);
    }
    out
}

/// The group's lag of `parts` (NULL: every partition it committed).
fn lag(
    inst: *mut KafkaInstance,
    group: &str,
    parts: *const KafkaPartitionList,
) -> Vec<(String, i32, i64, i64, i64)> {
    let (mut out, mut e) = (null_mut(), err());
    let g = c(group);
    let rc = unsafe { kafka_instance_group_lag(inst, g.as_ptr(), parts, 10000, &mut out, &mut e) };
    ok(rc, &e, "group_lag");
    rows(out)
}

/// A consumer group's life seen from the admin side: while a member
/// reads, the group is listed and described with that member and its two
/// partitions; after it committed 10 messages and closed, the committed
/// offsets add up to 10 and the lag is 0; 5 more messages make the lag 5;
/// the deleted group has no offsets left, and deleting it again fails.
#[test]
fn kafka_instance_group_lag_counts_what_the_group_has_yet_to_process() {
    capture_logs();
    for broker in brokers() {
        let (topic, group, inst) = group_fixture(&broker, "lag", 2);
        let g = c(&group);
        produce_across(inst, &topic, 0, 10, 2);
        let cons = consumer(inst, &[&topic], &[("client_id", "lag-reader")]);
        let got = poll_messages(cons, 10, Duration::from_secs(30), json_n);
        assert_eq!(got.len(), 10, "{}", broker.name);
        let mut e = err();
        let rc = unsafe { kafka_consumer_commit(cons, &mut e) };
        ok(rc, &e, "commit");

        // Listed and described while the member is in the group (the
        // embedded broker has no ListGroups / DescribeGroups / DeleteGroups).
        let embedded = !broker.mock.is_null();
        let parts = asked(&broker, &topic, 2);
        if embedded {
            broker_cannot(
                "group_list::list_describe_delete",
                "librdkafka's mock cluster answers no ListGroups, DescribeGroups or DeleteGroups",
            );
        }
        let (mut list, mut e) = (null_mut(), err());
        let rc = unsafe { kafka_instance_list_groups(inst, 10000, &mut list, &mut e) };
        if embedded {
            assert_eq!(
                e.rdkafka_code,
                -165,
                "UNSUPPORTED_FEATURE: {}",
                e.message_str()
            );
            assert!(list.is_null());
        }
        if !embedded {
            ok(rc, &e, "list_groups");
            let all = groups(list);
            assert!(
                all.iter().any(|x| x.name == group),
                "{}: {all:?}",
                broker.name
            );
            let rc = unsafe {
                kafka_instance_describe_group(inst, g.as_ptr(), 10000, &mut list, &mut e)
            };
            ok(rc, &e, "describe_group");
            let one = groups(list);
            assert_eq!(one.len(), 1, "{one:?}");
            assert_eq!(one[0].name, group);
            assert_eq!(one[0].state, "Stable", "{}: {one:?}", broker.name);
            assert_eq!(one[0].protocol_type, "consumer");
            assert_eq!(one[0].members.len(), 1, "{one:?}");
            let (member_id, client_id, assigned) = &one[0].members[0];
            assert!(!member_id.is_empty());
            if client_id.is_empty() && broker.mock.is_null() {
                broker_cannot(
                    "group_list::member_client_id",
                    "this broker's DescribeGroups leaves members' client ids empty",
                );
            } else {
                assert_eq!(client_id, "lag-reader");
            }
            if assigned.is_empty() && broker.mock.is_null() {
                broker_cannot(
                    "group_list::member_assignment",
                    "this broker's DescribeGroups gives no member assignment",
                );
            } else {
                let want = [(topic.clone(), 0), (topic.clone(), 1)];
                assert_eq!(assigned, &want, "{}", broker.name);
            }
        }
        close_consumer(cons);

        // Committed: 10 in all, nothing left to process.
        let (mut out, mut e) = (null_mut(), err());
        let rc = unsafe {
            kafka_instance_group_offsets(inst, g.as_ptr(), parts, 10000, &mut out, &mut e)
        };
        ok(rc, &e, "group_offsets");
        let committed = rows(out);
        assert_eq!(
            committed.iter().map(|r| r.2).sum::<i64>(),
            10,
            "{committed:?}"
        );
        assert!(
            committed.iter().all(|r| r.3 == KAFKA_OFFSET_NONE),
            "{committed:?}"
        );
        let now = lag(inst, &group, parts);
        assert_eq!(now.len(), 2, "{now:?}");
        assert!(
            now.iter().all(|r| r.4 == 0 && r.3 == r.2),
            "{}: {now:?}",
            broker.name
        );

        // Five more: the lag is 5, across the partitions.
        produce_across(inst, &topic, 10, 5, 2);
        let now = lag(inst, &group, parts);
        assert_eq!(
            now.iter().map(|r| r.4).sum::<i64>(),
            5,
            "{}: {now:?}",
            broker.name
        );
        assert!(now.iter().all(|r| r.4 == r.3 - r.2), "{now:?}");

        // Deleted: no offsets left; a second delete names the problem.
        if embedded {
            unsafe {
                kafka_partition_list_free(parts);
                kafka_instance_free(inst);
            }
            continue;
        }
        let rc = unsafe { kafka_instance_delete_group(inst, g.as_ptr(), 10000, &mut e) };
        ok(rc, &e, "delete_group");
        let rc = unsafe {
            kafka_instance_group_offsets(inst, g.as_ptr(), parts, 10000, &mut out, &mut e)
        };
        ok(rc, &e, "group_offsets after delete");
        assert_eq!(
            rows(out),
            [],
            "{}: offsets survived the delete",
            broker.name
        );
        let rc = unsafe { kafka_instance_delete_group(inst, g.as_ptr(), 10000, &mut e) };
        if rc == KAFKA_OK {
            // tansu 0.6, at times.
            broker_cannot(
                "group_list::delete_deleted_group",
                "this broker deleted a group that was already deleted (Apache Kafka answers \
                 GROUP_ID_NOT_FOUND)",
            );
        } else {
            assert_eq!(rc, KAFKA_ERR_BROKER, "{}: {}", broker.name, e.message_str());
            assert!(e.message_str().contains(&group), "{}", e.message_str());
        }
        unsafe {
            kafka_partition_list_free(parts);
            kafka_instance_free(inst);
        }
    }
}

/// A group with a member cannot be deleted (its offsets stay); a group
/// that never existed has no offsets and no lag; bad names are refused.
#[test]
fn kafka_instance_delete_group_refuses_a_group_in_use() {
    capture_logs();
    for broker in brokers() {
        let (topic, group, inst) = group_fixture(&broker, "in-use", 1);
        let g = c(&group);
        produce_unbatched(inst, &topic, 0, 3);
        let parts = asked(&broker, &topic, 1);
        let cons = consumer(inst, &[&topic], &[]);
        assert_eq!(
            poll_messages(cons, 3, Duration::from_secs(30), json_n).len(),
            3
        );
        let mut e = err();
        let (mut out, mut sync_e) = (null_mut(), err());
        let commit = unsafe { kafka_consumer_commit(cons, &mut sync_e) };
        ok(commit, &sync_e, "commit");
        let rc = unsafe { kafka_instance_delete_group(inst, g.as_ptr(), 10000, &mut e) };
        if rc == KAFKA_OK && broker.mock.is_null() {
            broker_cannot(
                "group_list::delete_group_in_use",
                "this broker deleted a group that has a member (Apache Kafka answers NON_EMPTY_GROUP)",
            );
        } else {
            assert_eq!(rc, KAFKA_ERR_BROKER, "{}: {}", broker.name, e.message_str());
            // NON_EMPTY_GROUP; the embedded broker has no DeleteGroups.
            let refused = if broker.mock.is_null() { 68 } else { -165 };
            assert_eq!(
                e.rdkafka_code,
                refused,
                "{}: {}",
                broker.name,
                e.message_str()
            );
            let rc = unsafe {
                kafka_instance_group_offsets(inst, g.as_ptr(), parts, 10000, &mut out, &mut e)
            };
            ok(rc, &e, "group_offsets");
            assert_eq!(
                rows(out).iter().map(|r| r.2).sum::<i64>(),
                3,
                "{}",
                broker.name
            );
        }
        close_consumer(cons);

        let never = c(&unique_topic("never"));
        let rc = unsafe {
            kafka_instance_group_offsets(inst, never.as_ptr(), null(), 10000, &mut out, &mut e)
        };
        ok(rc, &e, "group_offsets of a new group");
        assert_eq!(rows(out), []);
        assert_eq!(lag(inst, &unique_topic("never"), null()), []);

        let empty = c("");
        for f in [kafka_instance_group_offsets, kafka_instance_group_lag] {
            let rc = unsafe { f(inst, empty.as_ptr(), null(), 1000, &mut out, &mut e) };
            assert_eq!(rc, KAFKA_ERR_INVALID_ARGUMENT);
            assert!(out.is_null());
            let rc = unsafe { f(inst, null(), null(), 1000, &mut out, &mut e) };
            assert_eq!(rc, KAFKA_ERR_INVALID_ARGUMENT);
        }
        let rc = unsafe { kafka_instance_delete_group(inst, empty.as_ptr(), 1000, &mut e) };
        assert_eq!(rc, KAFKA_ERR_INVALID_ARGUMENT);
        let mut list = null_mut();
        let rc =
            unsafe { kafka_instance_describe_group(inst, empty.as_ptr(), 1000, &mut list, &mut e) };
        assert_eq!(rc, KAFKA_ERR_INVALID_ARGUMENT);
        unsafe {
            kafka_partition_list_free(parts);
            kafka_instance_free(inst);
        }
    }
}

/// With the broker gone, group_lag (committed offsets, then watermarks)
/// and delete_group fail within their timeouts instead of waiting for the
/// broker; once it is back, nothing aborts (librdkafka 2.12 aborted the
/// process when a group coordinator request it had timed out found the
/// coordinator again: this test did, before the library bounded those
/// waits itself) and the same call answers.
#[test]
fn kafka_instance_group_lag_with_the_broker_gone_fails_within_its_timeout() {
    capture_logs();
    let broker = &embedded();
    let topic = unique_topic("lag-gone");
    create_topic(broker, &topic, 1);
    let inst = instance(broker, &[]);
    let parts = partitions(&[(topic.as_str(), 0, 0)]);
    assert_eq!(lag(inst, "lag-gone-group", parts).len(), 1, "answers first");

    let mut e = err();
    let rc = unsafe { kafka_mock_cluster_broker_down(broker.mock, 1, &mut e) };
    assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
    let (mut out, g) = (null_mut(), c("lag-gone-group"));
    let started = std::time::Instant::now();
    let rc = unsafe { kafka_instance_group_lag(inst, g.as_ptr(), parts, 2000, &mut out, &mut e) };
    let took = started.elapsed();
    assert_ne!(rc, KAFKA_OK, "the broker is down");
    assert!(out.is_null(), "no list on failure");
    assert!(!e.message_str().is_empty());
    // 2 s asked; the bound leaves room for a loaded machine.
    assert!(
        took < Duration::from_secs(8),
        "returned after {took:?}: {}",
        e.message_str()
    );

    println!(
        "group_lag, broker down: {rc:?} after {took:?}: {}",
        e.message_str()
    );
    let started = std::time::Instant::now();
    let rc = unsafe { kafka_instance_delete_group(inst, g.as_ptr(), 2000, &mut e) };
    let took = started.elapsed();
    println!(
        "delete_group, broker down: {rc:?} after {took:?}: {}",
        e.message_str()
    );
    assert_ne!(rc, KAFKA_OK, "the broker is down");
    assert!(took < Duration::from_secs(8), "returned after {took:?}");

    let rc = unsafe { kafka_mock_cluster_broker_up(broker.mock, 1, &mut e) };
    assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
    // Time for any request left out to find the coordinator again.
    std::thread::sleep(Duration::from_secs(3));
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let rc =
            unsafe { kafka_instance_group_lag(inst, g.as_ptr(), parts, 5000, &mut out, &mut e) };
        if rc == KAFKA_OK {
            assert_eq!(rows(out).len(), 1);
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{}", e.message_str());
        std::thread::sleep(Duration::from_millis(200));
    }
    unsafe {
        kafka_partition_list_free(parts);
        kafka_instance_free(inst);
    }
}

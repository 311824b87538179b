//! `kafka_consumer_commit_async`: one outcome per commit started, on the
//! polling thread or inside close; failures reach the callback; a callback
//! that calls back in; against the embedded broker and, when
//! KAFKA_BOOTSTRAP_SERVERS is set, that broker too.

#![allow(unsafe_code)] // these tests call the C ABI, as a C program would

mod common;
use common::*;

use std::ffi::c_void;
use std::ptr::null_mut;
use std::sync::Mutex;
use std::thread::ThreadId;
use std::time::{Duration, Instant};

/// One call of the commit callback, as it saw it.
#[derive(Debug, Clone)]
struct Outcome {
    code: KafkaErrorCode,
    rdkafka_code: i32,
    message: String,
    offsets: Vec<(String, i32, i64)>,
    thread: ThreadId,
    /// With `Outcomes::call_back_in`: what a poll, a close and another
    /// commit_async returned inside the first call.
    inside: Option<[KafkaErrorCode; 3]>,
}

#[derive(Default)]
struct Outcomes {
    seen: Mutex<Vec<Outcome>>,
    call_back_in: bool,
}

impl Outcomes {
    fn seen(&self) -> Vec<Outcome> {
        self.seen.lock().unwrap().clone()
    }
    fn opaque(&self) -> *mut c_void {
        self as *const Outcomes as *mut c_void
    }
}

unsafe extern "C" fn on_commit(
    c: *mut KafkaConsumer,
    result: *const KafkaError,
    offsets: *const KafkaPartitionList,
    opaque: *mut c_void,
) {
    let outcomes = unsafe { &*(opaque as *const Outcomes) };
    let result = unsafe { &*result };
    let offsets = (0..unsafe { kafka_partition_list_count(offsets) })
        .map(|i| {
            let item = unsafe { &*kafka_partition_list_get(offsets, i) };
            (s(item.topic), item.partition, item.offset)
        })
        .collect();
    let first = outcomes.seen.lock().unwrap().is_empty();
    let inside = (outcomes.call_back_in && first).then(|| {
        let (mut m, mut e) = (null_mut(), err());
        let poll = unsafe { kafka_consumer_poll(c, 0, &mut m, &mut e) };
        let close = unsafe { kafka_consumer_close(c, &mut e) };
        let again =
            unsafe { kafka_consumer_commit_async(c, null_mut(), Some(on_commit), opaque, &mut e) };
        [poll, close, again]
    });
    outcomes.seen.lock().unwrap().push(Outcome {
        code: result.code,
        rdkafka_code: result.rdkafka_code,
        message: result.message_str(),
        offsets,
        thread: std::thread::current().id(),
        inside,
    });
}

fn commit_async(
    cons: *mut KafkaConsumer,
    list: *const KafkaPartitionList,
    outcomes: &Outcomes,
) -> (KafkaErrorCode, String) {
    let mut e = err();
    let rc = unsafe {
        kafka_consumer_commit_async(cons, list, Some(on_commit), outcomes.opaque(), &mut e)
    };
    (rc, e.message_str())
}

/// Polls (handing out nothing new: the topic holds no more) until
/// `outcomes` has `n` calls or 30 s passed.
fn poll_until(cons: *mut KafkaConsumer, outcomes: &Outcomes, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while outcomes.seen().len() < n && Instant::now() < deadline {
        let got = poll_messages(cons, 1, Duration::from_millis(100), json_n);
        assert!(got.is_empty(), "nothing more to read: {got:?}");
    }
}

/// A new one-partition topic holding `n` messages, and a consumer of a
/// new group (auto-commit off, so that only the commits a test makes
/// count; `extra` settings) that has been handed all of them, in order:
/// (topic, group, instance, consumer).
fn handed_all(
    broker: &Broker,
    prefix: &str,
    n: usize,
    extra: &[(&str, &str)],
) -> (String, String, *mut KafkaInstance, *mut KafkaConsumer) {
    let (topic, group, inst) = group_fixture(broker, prefix, 1);
    produce_unbatched(inst, &topic, 0, n);
    let mut settings = vec![("enable_auto_commit", "false")];
    settings.extend_from_slice(extra);
    let cons = consumer(inst, &[&topic], &settings);
    assert_eq!(
        poll_messages(cons, n, Duration::from_secs(30), json_n),
        (0..n).collect::<Vec<_>>(),
        "{}",
        broker.name
    );
    (topic, group, inst, cons)
}

#[test]
fn kafka_consumer_commit_async_calls_back_once_on_the_polling_thread_and_the_group_resumes_there() {
    for broker in brokers() {
        let (topic, group, inst, cons) = handed_all(&broker, "async", 4, &[]);
        let outcomes = Outcomes::default();
        // NULL: what is done (the four handed out, since we came back).
        let (rc, why) = commit_async(cons, null_mut(), &outcomes);
        assert_eq!(rc, KAFKA_OK, "{why}");
        assert!(
            outcomes.seen().is_empty(),
            "called only from a poll or close"
        );
        poll_until(cons, &outcomes, 1);
        close_consumer(cons);
        let seen = outcomes.seen();
        assert_eq!(seen.len(), 1, "{}: exactly once: {seen:?}", broker.name);
        assert_eq!(seen[0].code, KAFKA_OK, "{}", seen[0].message);
        assert_eq!(seen[0].offsets, vec![(topic.clone(), 0, 4)]);
        assert_eq!(seen[0].thread, std::thread::current().id());
        // The group resumes after what the commit said.
        produce_unbatched(inst, &topic, 4, 1);
        let again = consumer(inst, &[&topic], &[]);
        assert_eq!(
            poll_messages(again, 1, Duration::from_secs(30), json_n),
            vec![4],
            "{group}"
        );
        close_consumer(again);
        unsafe { kafka_instance_free(inst) };
    }
}

#[test]
fn kafka_consumer_commit_async_with_a_list_commits_exactly_it_and_close_serves_the_outcome() {
    for broker in brokers() {
        let (topic, group, inst, cons) = handed_all(&broker, "async-list", 6, &[]);
        let outcomes = Outcomes::default();
        let list = partitions(&[(&topic, 0, 2)]);
        let (rc, why) = commit_async(cons, list, &outcomes);
        unsafe { kafka_partition_list_free(list) };
        assert_eq!(rc, KAFKA_OK, "{why}");
        // No poll: close waits for the outcome and hands it over.
        close_consumer(cons);
        let seen = outcomes.seen();
        assert_eq!(seen.len(), 1, "{}: {seen:?}", broker.name);
        assert_eq!(seen[0].code, KAFKA_OK, "{}", seen[0].message);
        assert_eq!(seen[0].offsets, vec![(topic.clone(), 0, 2)]);
        let again = consumer(inst, &[&topic], &[]);
        assert_eq!(
            poll_messages(again, 1, Duration::from_secs(30), json_n),
            vec![2],
            "{group}"
        );
        close_consumer(again);
        unsafe { kafka_instance_free(inst) };
    }
}

#[test]
fn kafka_consumer_commit_async_refusals_are_errors_and_never_call_back() {
    capture_logs();
    let broker = &embedded();
    let (topic, _, inst) = group_fixture(broker, "async-bad", 1);
    let cons = consumer(inst, &[&topic], &[]);
    let outcomes = Outcomes::default();
    let empty = kafka_partition_list_new();
    let negative = partitions(&[(&topic, 0, KAFKA_OFFSET_END)]);
    for (list, what) in [(empty, "an empty list"), (negative, "a logical offset")] {
        let (rc, why) = commit_async(cons, list, &outcomes);
        assert_eq!(rc, KAFKA_ERR_INVALID_ARGUMENT, "{what}: {why}");
        unsafe { kafka_partition_list_free(list) };
    }
    let mut e = err();
    let rc = unsafe {
        kafka_consumer_commit_async(null_mut(), null_mut(), Some(on_commit), null_mut(), &mut e)
    };
    assert_eq!(rc, KAFKA_ERR_INVALID_ARGUMENT);
    close_consumer(cons);
    assert!(outcomes.seen().is_empty(), "{:?}", outcomes.seen());
    unsafe { kafka_instance_free(inst) };
}

#[test]
fn kafka_consumer_commit_async_callback_may_commit_again_but_not_poll_or_close() {
    for broker in brokers() {
        let (_, _, inst, cons) = handed_all(&broker, "async-reenter", 2, &[]);
        let outcomes = Outcomes {
            call_back_in: true,
            ..Outcomes::default()
        };
        assert_eq!(commit_async(cons, null_mut(), &outcomes).0, KAFKA_OK);
        // The first call starts a second commit: both are served.
        poll_until(cons, &outcomes, 2);
        close_consumer(cons);
        let seen = outcomes.seen();
        assert_eq!(seen.len(), 2, "{}: {seen:?}", broker.name);
        assert_eq!(
            seen[0].inside,
            Some([KAFKA_ERR_STATE, KAFKA_ERR_STATE, KAFKA_OK]),
            "poll and close refused, commit_async accepted"
        );
        assert!(seen.iter().all(|o| o.code == KAFKA_OK), "{seen:?}");
        unsafe { kafka_instance_free(inst) };
    }
}

#[test]
fn kafka_consumer_commit_async_failures_reach_the_callback() {
    capture_logs();
    // Injected broker errors: the embedded broker only.
    let broker = &embedded();
    let (topic, _, inst, cons) = handed_all(broker, "async-fail", 3, &[]);
    // OffsetCommit (API key 8) answered with GROUP_AUTHORIZATION_FAILED
    // (30), which librdkafka does not retry.
    let mut e = err();
    let codes = [30];
    let rc = unsafe {
        kafka_mock_cluster_push_request_errors(broker.mock, 8, codes.as_ptr(), codes.len(), &mut e)
    };
    assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
    let outcomes = Outcomes::default();
    let list = partitions(&[(&topic, 0, 3)]);
    assert_eq!(commit_async(cons, list, &outcomes).0, KAFKA_OK);
    unsafe { kafka_partition_list_free(list) };
    poll_until(cons, &outcomes, 1);
    let seen = outcomes.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_ne!(seen[0].code, KAFKA_OK, "{seen:?}");
    assert_eq!(seen[0].rdkafka_code, 30, "{}", seen[0].message);
    close_consumer(cons);
    assert_eq!(outcomes.seen().len(), 1, "exactly once");
    // Told to its callback, so not logged as an automatic commit's failure.
    let misattributed: Vec<_> = logged()
        .into_iter()
        .filter(|r| r.controller == "kafka_instance.consumer.auto_commit")
        .collect();
    assert!(misattributed.is_empty(), "{:?}", misattributed[0].message);
    unsafe { kafka_instance_free(inst) };
}

#[test]
fn kafka_consumer_commit_async_still_out_at_close_gets_a_timeout_within_the_bound() {
    // Stopping the broker: the embedded broker only.
    let broker = &embedded();
    let bound = [("default_api_timeout_ms", "2000")];
    let (topic, _, inst, cons) = handed_all(broker, "async-down", 3, &bound);
    let mut e = err();
    assert_eq!(
        unsafe { kafka_mock_cluster_broker_down(broker.mock, 1, &mut e) },
        KAFKA_OK
    );
    let outcomes = Outcomes::default();
    let list = partitions(&[(&topic, 0, 3)]);
    assert_eq!(commit_async(cons, list, &outcomes).0, KAFKA_OK);
    unsafe { kafka_partition_list_free(list) };
    let started = Instant::now();
    let rc = unsafe { kafka_consumer_close(cons, &mut e) };
    let took = started.elapsed();
    // Leaving the group fails too with the broker down: close says so.
    assert!(
        rc == KAFKA_OK || rc == KAFKA_ERR_TIMEOUT,
        "{rc:?}: {}",
        e.message_str()
    );
    assert!(took < Duration::from_secs(10), "close took {took:?}");
    let seen = outcomes.seen();
    assert_eq!(seen.len(), 1, "exactly once: {seen:?}");
    assert_ne!(seen[0].code, KAFKA_OK, "{seen:?}");
    unsafe { kafka_instance_free(inst) };
}

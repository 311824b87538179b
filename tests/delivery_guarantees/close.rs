//! A consumer's close: the group resumes right after the last message
//! the closed consumer was done with, commits nothing the application did
//! not, and a final commit that fails is reported within a bounded time.

use super::*;

/// The first message a new member of `group` gets from `topic`: where
/// the group resumes (`None`: nothing within 30 s).
fn resumes_at(broker: &Broker, topic: &str, group: &str) -> Option<usize> {
    resumes_at_with(broker, topic, group, &session(broker))
}

/// [`resumes_at`] with the new member's session settings.
fn resumes_at_with(
    broker: &Broker,
    topic: &str,
    group: &str,
    session: &[(&str, &str)],
) -> Option<usize> {
    let inst = instance(
        broker,
        &[("group_id", group), ("auto_offset_reset", "earliest")],
    );
    let mut overrides = session.to_vec();
    overrides.push(("enable_auto_commit", "false"));
    let cons = consumer(inst, &[topic], &overrides);
    let first = poll_messages(cons, 1, Duration::from_secs(30), json_n)
        .first()
        .copied();
    close_consumer(cons);
    unsafe { kafka_instance_free(inst) };
    first
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    Poll,
    Batch,
    Consume,
}

/// Handlers that record each message's n into a `Mutex<Vec<usize>>`.
unsafe extern "C" fn record_n(m: *const KafkaMessage, opaque: *mut c_void) -> c_int {
    let seen = unsafe { &*(opaque as *const Mutex<Vec<usize>>) };
    seen.lock().unwrap().push(json_n(m));
    0
}

/// Processes messages with `mode` until at least `want` were handed out;
/// returns their n's.
fn take(cons: *mut KafkaConsumer, mode: Mode, want: usize, seen: &Mutex<Vec<usize>>) -> Vec<usize> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut e = err();
    let mut got = Vec::new();
    while got.len() < want {
        assert!(Instant::now() < deadline, "only {got:?} arrived");
        match mode {
            Mode::Poll => got.extend(poll_messages(cons, 1, Duration::from_millis(200), json_n)),
            Mode::Batch => {
                let mut out = [null_mut(); 3];
                let mut n = 0usize;
                let rc = unsafe {
                    kafka_consumer_poll_batch(cons, out.as_mut_ptr(), 3, 200, &mut n, &mut e)
                };
                assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
                for m in &out[..n] {
                    got.push(json_n(*m));
                    unsafe { kafka_message_free(*m) };
                }
            }
            Mode::Consume => {
                let rc = unsafe { kafka_consumer_consume(cons, 200, null_mut(), &mut e) };
                assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
                got = seen.lock().unwrap().clone();
            }
        }
    }
    got
}

/// Close after partial processing: poll, batches and handlers, auto-commit
/// on and off. A new member resumes exactly after the last message the
/// closed one was done with: nothing it was handed goes uncommitted (with
/// auto-commit), and nothing it prefetched but never handed out counts.
/// Before the offset rule, a consumer that took the first message of
/// 1,000 and closed resumed 130 to 175 messages further.
#[test]
fn a_closed_consumer_resumes_right_after_the_last_message_it_was_done_with() {
    for broker in brokers() {
        let cases: Vec<(Mode, bool)> = [Mode::Poll, Mode::Batch, Mode::Consume]
            .into_iter()
            .flat_map(|m| [(m, true), (m, false)])
            .collect();
        std::thread::scope(|scope| {
            for (mode, auto_commit) in cases {
                let broker = &broker;
                scope.spawn(move || {
                    let what = format!("{}: {mode:?}, auto-commit {auto_commit}", broker.name);
                    let topic = unique_topic("close-resume");
                    create_topic(broker, &topic, 1);
                    let group = unique_topic("g");
                    let inst = instance(
                        broker,
                        &[("group_id", &group), ("auto_offset_reset", "earliest")],
                    );
                    // A thousand messages in batches: a close that drained
                    // the prefetched queue, storing what it drained, would
                    // resume far away. (tansu serves no fetch that starts
                    // inside a batch: there, ten one-message batches.)
                    if broker.mock.is_null() {
                        produce_unbatched(inst, &topic, 0, 10);
                    } else {
                        produce(inst, &topic, 0, 1000, 1);
                    }
                    let mut overrides = session(broker);
                    overrides.push(("max_poll_records", "3"));
                    overrides.push((
                        "enable_auto_commit",
                        if auto_commit { "true" } else { "false" },
                    ));
                    let cons = consumer(inst, &[&topic], &overrides);
                    let seen = Mutex::new(Vec::new());
                    let t = c(&topic);
                    let mut e = err();
                    let rc = unsafe {
                        kafka_consumer_register_handler(
                            cons,
                            t.as_ptr(),
                            Some(record_n),
                            &seen as *const _ as *mut c_void,
                            &mut e,
                        )
                    };
                    assert_eq!(rc, KAFKA_OK);
                    // Two rounds: the second poll marks the first round done.
                    let mut done = take(cons, mode, 1, &seen);
                    done = if mode == Mode::Consume {
                        take(cons, mode, done.len() + 1, &seen)
                    } else {
                        let mut more = take(cons, mode, 1, &seen);
                        done.append(&mut more);
                        done
                    };
                    assert_eq!(done, (0..done.len()).collect::<Vec<_>>(), "{what}");
                    assert!(done.len() < 10, "{what}: the test needs messages left over");
                    if !auto_commit && mode != Mode::Consume {
                        // Manual commits: the application commits what it did.
                        let rc = unsafe { kafka_consumer_commit(cons, &mut e) };
                        assert_eq!(rc, KAFKA_OK, "{what}: {}", e.message_str());
                    }
                    close_consumer(cons);
                    let resumed = resumes_at(broker, &topic, &group);
                    assert_eq!(resumed, Some(done.len()), "{what}: processed {done:?}");
                    eprintln!("{what}: processed {}, resumed at {resumed:?}", done.len());
                    unsafe { kafka_instance_free(inst) };
                });
            }
        });
    }
}

/// With auto-commit off, close commits nothing: a consumer that took
/// messages and closed without committing is resumed from the last commit,
/// so those messages come again.
#[test]
fn without_auto_commit_close_commits_nothing_the_application_did_not() {
    for broker in brokers() {
        let topic = unique_topic("close-manual");
        create_topic(&broker, &topic, 1);
        let group = unique_topic("g");
        let inst = instance(
            &broker,
            &[("group_id", &group), ("auto_offset_reset", "earliest")],
        );
        produce_unbatched(inst, &topic, 0, 5);
        let mut overrides = session(&broker);
        overrides.push(("enable_auto_commit", "false"));
        let cons = consumer(inst, &[&topic], &overrides);
        let got = poll_messages(cons, 2, Duration::from_secs(30), json_n);
        assert_eq!(got, vec![0, 1]);
        close_consumer(cons);
        assert_eq!(
            resumes_at(&broker, &topic, &group),
            Some(0),
            "{}",
            broker.name
        );
        unsafe { kafka_instance_free(inst) };
    }
}

/// With the broker down, close still returns, within
/// `default_api_timeout_ms`, and reports the final commit it could not
/// make, with a log record. Before, it returned KAFKA_OK and the group
/// later resumed from the start, silently; and librdkafka's own commit can
/// wait for ever for a coordinator that went away (its request timeout
/// restarts at every reconnection attempt), which the bound covers too.
/// The messages come again once the broker is back.
#[test]
fn closing_with_the_broker_down_reports_the_failed_commit_within_its_timeout() {
    let broker = embedded();
    capture_logs();
    let topic = unique_topic("close-down");
    create_topic(&broker, &topic, 1);
    let group = unique_topic("g");
    let inst = instance(
        &broker,
        &[("group_id", &group), ("auto_offset_reset", "earliest")],
    );
    produce_unbatched(inst, &topic, 0, 5);
    // No automatic commit before close: everything rests on its commit.
    let cons = consumer(
        inst,
        &[&topic],
        &[
            ("session_timeout_ms", "6000"),
            ("auto_commit_interval_ms", "600000"),
            ("default_api_timeout_ms", "3000"),
        ],
    );
    assert_eq!(
        poll_messages(cons, 3, Duration::from_secs(30), json_n),
        vec![0, 1, 2]
    );
    let mut e = err();
    let rc = unsafe { kafka_mock_cluster_broker_down(broker.mock, 1, &mut e) };
    assert_eq!(rc, KAFKA_OK);
    let started = Instant::now();
    let rc = unsafe { kafka_consumer_close(cons, &mut e) };
    let took = started.elapsed();
    eprintln!(
        "close with the broker down: {rc:?} after {took:?}: {}",
        e.message_str()
    );
    assert!(
        rc == KAFKA_ERR_TIMEOUT || rc == KAFKA_ERR_BROKER,
        "{rc:?}: {}",
        e.message_str()
    );
    assert!(
        e.message_str().contains("final commit failed"),
        "{}",
        e.message_str()
    );
    // Bounded: the 3 s timeout, plus room for a loaded machine.
    assert!(took < Duration::from_secs(13), "close took {took:?}");
    let logged = logged();
    assert!(
        logged
            .iter()
            .any(|r| r.controller == "kafka_instance.consumer.close"
                && r.log_type == "error"
                && r.message.contains("final commit failed")),
        "no error record for the failed commit"
    );
    let rc = unsafe { kafka_mock_cluster_broker_up(broker.mock, 1, &mut e) };
    assert_eq!(rc, KAFKA_OK);
    // A commit that timed out may still be made once the broker is back
    // (resuming at 3); either way nothing is lost. The closed consumer may
    // still be a member while librdkafka releases it: the new member uses
    // the same session timeout, which lets the embedded broker drop it.
    let resumed = resumes_at_with(&broker, &topic, &group, &[("session_timeout_ms", "6000")]);
    eprintln!("close with the broker down: the group resumed at {resumed:?}");
    assert!(
        matches!(resumed, Some(0) | Some(3)),
        "resumed at {resumed:?}"
    );
    unsafe { kafka_instance_free(inst) };
}

//! Commits: manual commits, consumers stopped mid-batch and restarted,
//! and stored messages deciding what commits.

use super::*;

#[test]
fn manual_commits_resume_exactly_after_the_last_committed_message() {
    for broker in brokers() {
        let topic = unique_topic("resume");
        create_topic(&broker, &topic, 1);
        let group = unique_topic("g");
        let inst = instance(
            &broker,
            &[
                ("group_id", &group),
                ("auto_offset_reset", "earliest"),
                ("enable_auto_commit", "false"),
            ],
        );
        produce_unbatched(inst, &topic, 0, 10);

        // Read 4, commit the 4th: the next run starts at the 5th.
        let cons = consumer(inst, &[&topic], &[]);
        let mut first = Vec::new();
        let deadline = Instant::now() + WAIT;
        let mut e = err();
        while first.len() < 4 && Instant::now() < deadline {
            let mut m = null_mut();
            unsafe { kafka_consumer_poll(cons, 200, &mut m, &mut e) };
            if !m.is_null() {
                first.push(n_of(&seen(m)));
                if first.len() == 4 {
                    assert_eq!(
                        unsafe { kafka_consumer_commit_message(cons, m, &mut e) },
                        KAFKA_OK,
                        "{}",
                        e.message_str()
                    );
                }
                unsafe { kafka_message_free(m) };
            }
        }
        assert_eq!(first, [0, 1, 2, 3]);
        // Read 2 more without committing: they come again.
        assert_eq!(
            poll_n(cons, 2, WAIT).iter().map(n_of).collect::<Vec<_>>(),
            [4, 5]
        );
        close_consumer(cons);

        let cons = consumer(inst, &[&topic], &[]);
        let again = poll_n(cons, 6, WAIT);
        assert_eq!(
            again.iter().map(n_of).collect::<Vec<_>>(),
            [4, 5, 6, 7, 8, 9],
            "{}",
            broker.name
        );
        // kafka_consumer_commit commits the current positions.
        assert_eq!(
            unsafe { kafka_consumer_commit(cons, &mut e) },
            KAFKA_OK,
            "{}",
            e.message_str()
        );
        close_consumer(cons);

        produce_unbatched(inst, &topic, 10, 1);
        let cons = consumer(inst, &[&topic], &[]);
        let last = poll_n(cons, 2, Duration::from_secs(8));
        assert_eq!(
            last.iter().map(n_of).collect::<Vec<_>>(),
            [10],
            "nothing skipped, nothing repeated"
        );
        close_consumer(cons);
        unsafe { kafka_instance_free(inst) };
    }
}

/// Consumers that are stopped mid-batch (closed without committing what
/// they had not finished) and restarted, until every message was processed
/// or the deadline passed. Each life finishes batches until it has done
/// about a third of the topic, then dies half-way through its next batch.
/// `per_message`: commit each message right after processing it;
/// otherwise commit once per finished batch. Returns every message number
/// processed, in order, repeats included, and how many lives it took.
fn run_with_kills(
    inst: *mut KafkaInstance,
    topic: &str,
    total: usize,
    per_message: bool,
) -> (Vec<usize>, usize) {
    const CAPACITY: usize = 16;
    let mut processed: Vec<usize> = Vec::new();
    let distinct = |p: &[usize]| p.iter().collect::<BTreeSet<_>>().len();
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut lives = 0;
    let mut e = err();
    while distinct(&processed) < total {
        assert!(Instant::now() < deadline, "processed only {processed:?}");
        lives += 1;
        let cons = consumer(inst, &[topic], &[]);
        let mut this_life = 0;
        let mut idle = 0;
        while distinct(&processed) < total && idle < 20 {
            let mut out = [null_mut::<KafkaMessage>(); CAPACITY];
            let mut n = 0usize;
            let rc = unsafe {
                kafka_consumer_poll_batch(cons, out.as_mut_ptr(), CAPACITY, 500, &mut n, &mut e)
            };
            assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
            idle = if n == 0 { idle + 1 } else { 0 };
            let dies = this_life >= total / 3 && n >= 2;
            let upto = if dies { n / 2 } else { n };
            for (i, m) in out[..n].iter().enumerate() {
                if i < upto {
                    processed.push(n_of(&seen(*m)));
                    this_life += 1;
                    if per_message {
                        let rc = unsafe { kafka_consumer_commit_message(cons, *m, &mut e) };
                        assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
                    }
                }
                unsafe { kafka_message_free(*m) };
            }
            if dies {
                // Killed: the unfinished half was never committed.
                break;
            }
            if !per_message && n > 0 {
                let rc = unsafe { kafka_consumer_commit(cons, &mut e) };
                assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
            }
        }
        close_consumer(cons);
    }
    (processed, lives)
}

/// A consumer stopped mid-batch without committing and restarted
/// sees every message at least once and skips none; committing each
/// message as it is processed, it sees none twice.
#[test]
fn stopped_mid_batch_at_least_once_and_exactly_once_with_commit_per_message() {
    for broker in brokers() {
        for per_message in [false, true] {
            let topic = unique_topic("killed");
            create_topic(&broker, &topic, 2);
            let inst = instance(
                &broker,
                &[
                    ("group_id", &unique_topic("g")),
                    ("auto_offset_reset", "earliest"),
                    ("enable_auto_commit", "false"),
                ],
            );
            let total = 48;
            produce_unbatched(inst, &topic, 0, total);
            let (processed, lives) = run_with_kills(inst, &topic, total, per_message);
            let distinct: BTreeSet<usize> = processed.iter().copied().collect();
            assert_eq!(
                distinct,
                (0..total).collect(),
                "{}: every message, none skipped",
                broker.name
            );
            let repeats = processed.len() - distinct.len();
            if per_message {
                assert_eq!(repeats, 0, "{}: {processed:?}", broker.name);
            } else {
                // Stopping half-way through uncommitted batches must have
                // brought their processed halves back.
                assert!(repeats > 0, "{}: {processed:?}", broker.name);
            }
            assert!(
                lives >= 2,
                "{}: at least one consumer was stopped",
                broker.name
            );
            eprintln!(
                "{}: per_message={per_message}: {} processed in {lives} lives, {repeats} repeats",
                broker.name,
                processed.len()
            );
            unsafe { kafka_instance_free(inst) };
        }
    }
}

#[test]
fn kafka_consumer_store_message_decides_what_commits_without_auto_store() {
    for broker in brokers() {
        let (topic, _, inst) = group_fixture(&broker, "store", 1);
        // One message per batch: tansu cannot resume inside a batch.
        produce_unbatched(inst, &topic, 0, 5);
        let cons = consumer(inst, &[&topic], &[("enable.auto.offset.store", "false")]);
        let got = poll_owned(cons, 5, Duration::from_secs(30));
        assert_eq!(got.len(), 5);
        // Done with offsets 0 and 1 only (as a worker thread would say).
        let second = *got
            .iter()
            .find(|m| unsafe { kafka_message_offset(**m) } == 1)
            .unwrap();
        let mut e = err();
        let rc = unsafe { kafka_consumer_store_message(cons, second, &mut e) };
        assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
        assert_eq!(unsafe { kafka_consumer_commit(cons, &mut e) }, KAFKA_OK);
        let rc = unsafe { kafka_consumer_store_message(cons, null(), &mut e) };
        assert_eq!(rc, KAFKA_ERR_INVALID_ARGUMENT);
        for m in got {
            unsafe { kafka_message_free(m) };
        }
        close_consumer(cons);
        // The group resumes after the stored message, not after the poll.
        let again = consumer(inst, &[&topic], &[]);
        let next = poll_messages(again, 1, Duration::from_secs(30), |m| unsafe {
            kafka_message_offset(m)
        });
        assert_eq!(next, vec![2], "resumed after the stored offset");
        close_consumer(again);
        unsafe { kafka_instance_free(inst) };
    }
}

//! Transactions through the C ABI: an exactly-once pipeline killed and
//! aborted at random points, fencing, fatal errors, aborts invisible to
//! read_committed readers; against the embedded broker and, when
//! KAFKA_BOOTSTRAP_SERVERS is set and supports transactions, that broker.
//!
//! The pipeline is the C program tests/c/eos_pipeline.c, run as a child
//! process (and killed with SIGKILL).

#![allow(unsafe_code)] // these tests call the C ABI, as a C program would

mod common;
use common::cbuild::{compile_c, ROOT};
use common::producer::*;
use common::*;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::ptr::null_mut;
use std::time::{Duration, Instant};

/// Why `broker` cannot show what `test` checks, if it cannot: librdkafka's
/// mock cluster takes the transaction protocol without applying it, and a
/// broker may lack it (tansu 0.6 refuses the commit).
fn cannot_run_transactions(broker: &Broker, test: &str, needs_broker_semantics: bool) -> bool {
    if !broker.mock.is_null() {
        if needs_broker_semantics {
            broker_cannot(
                test,
                "librdkafka's mock cluster (2.12) acknowledges TxnOffsetCommit without \
                 committing the offsets and writes no transaction markers \
                 (rdkafka_mock_handlers.c), so exactly-once results cannot be observed on it: \
                 checked against KAFKA_BOOTSTRAP_SERVERS only",
            );
        }
        return needs_broker_semantics;
    }
    // A whole transaction, on a topic of its own.
    let topic = unique_topic("probe");
    create_topic(broker, &topic, 1);
    let inst = instance(broker, &[]);
    let p = producer(inst, &[("transactional_id", &unique_topic("probe"))]);
    let mut e = err();
    let mut rc = unsafe { kafka_producer_init_transactions(p, 15_000, &mut e) };
    if rc == KAFKA_OK {
        rc = unsafe { kafka_producer_begin_transaction(p, &mut e) };
    }
    if rc == KAFKA_OK {
        (rc, _) = send_json(p, &topic, None, "{}");
    }
    if rc == KAFKA_OK {
        rc = unsafe { kafka_producer_commit_transaction(p, 15_000, &mut e) };
    }
    unsafe { kafka_producer_close(p, 1000, null_mut()) };
    unsafe { kafka_instance_free(inst) };
    if rc != KAFKA_OK {
        broker_cannot(
            test,
            &format!("the broker does not run transactions ({})", e.message_str()),
        );
    }
    rc != KAFKA_OK
}

/// Reads `topic` as a read_committed reader from the beginning until
/// nothing new came for 5 s; counts each value's `n`.
fn committed_counts(inst: *mut KafkaInstance, topic: &str) -> BTreeMap<usize, usize> {
    let cons = consumer(
        inst,
        &[topic],
        &[
            ("group_id", &unique_topic("reader")),
            ("isolation_level", "read_committed"),
        ],
    );
    let mut counts = BTreeMap::new();
    let mut last_new = Instant::now();
    let give_up = Instant::now() + Duration::from_secs(90);
    while last_new.elapsed() < Duration::from_secs(5) && Instant::now() < give_up {
        for n in poll_messages(cons, 64, Duration::from_millis(500), json_n) {
            *counts.entry(n).or_insert(0) += 1;
            last_new = Instant::now();
        }
    }
    close_consumer(cons);
    counts
}

/// One life of the pipeline: its exit (a kill, an abort, or done) and
/// what it printed.
fn pipeline_life(
    broker: &Broker,
    names: &[&str; 4],
    fault_at: i64,
    fault: &str,
) -> (Option<i32>, bool) {
    static BIN: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    let bin = BIN.get_or_init(|| compile_c(&Path::new(ROOT).join("tests/c/eos_pipeline.c")));
    let mut child = Command::new(bin)
        .arg(&broker.bootstrap)
        .args(names)
        .arg(fault_at.to_string())
        .arg(fault)
        .args(["session_timeout_ms=6000", "heartbeat_interval_ms=500"])
        .env("KAFKA_INSTANCE_LOG", "warning")
        .stdout(Stdio::piped())
        .spawn()
        .expect("starting eos_pipeline");
    let out = BufReader::new(child.stdout.take().unwrap());
    let lines: Vec<String> = out.lines().map_while(|l| l.ok()).collect();
    let status = child.wait().unwrap();
    eprintln!("  life (fault {fault} at {fault_at}): {status}, {lines:?}");
    (status.code(), status.signal() == Some(libc::SIGKILL))
}

/// Consume from `in`, write to `out` and commit the consumed offsets in
/// the same transaction; kill the process (SIGKILL) or abort its
/// transaction at random points and restart it. A read_committed reader
/// of `out` then sees every input exactly once: nothing lost, nothing of
/// an aborted or killed transaction.
#[test]
fn an_exactly_once_pipeline_killed_and_aborted_writes_every_input_once() {
    const TEST: &str = "an_exactly_once_pipeline_killed_and_aborted_writes_every_input_once";
    let mut rng = Lcg::seeded();
    for broker in brokers() {
        if cannot_run_transactions(&broker, TEST, true) {
            continue;
        }
        let (input, output) = (unique_topic("eos-in"), unique_topic("eos-out"));
        create_topic(&broker, &input, 2);
        create_topic(&broker, &output, 2);
        let inst = instance(&broker, &[("auto_offset_reset", "earliest")]);
        let total = 40;
        produce_unbatched(inst, &input, 0, total);
        let group = unique_topic("eos-g");
        let txn = unique_topic("eos-txn");
        let names = [
            input.as_str(),
            output.as_str(),
            group.as_str(),
            txn.as_str(),
        ];
        let (mut kills, mut aborts) = (0, 0);
        for life in 0..6 {
            let fault = if life % 2 == 0 { "kill" } else { "abort" };
            let at = rng.below(12) as i64;
            match pipeline_life(&broker, &names, at, fault) {
                (_, true) => kills += 1,
                (Some(3), _) => aborts += 1,
                // Nothing left to do before the fault point: done.
                (Some(0), _) => break,
                other => panic!("{}: the pipeline failed: {other:?}", broker.name),
            }
        }
        let (code, killed) = pipeline_life(&broker, &names, -1, "none");
        assert_eq!(
            (code, killed),
            (Some(0), false),
            "{}: the last life",
            broker.name
        );
        assert!(kills + aborts > 0, "{}: no fault was injected", broker.name);
        let counts = committed_counts(inst, &output);
        let missing: Vec<usize> = (0..total).filter(|n| !counts.contains_key(n)).collect();
        let repeated: Vec<(&usize, &usize)> = counts.iter().filter(|(_, c)| **c > 1).collect();
        eprintln!(
            "{}: {kills} kill(s), {aborts} abort(s); {} distinct outputs",
            broker.name,
            counts.len()
        );
        assert!(missing.is_empty(), "{}: lost {missing:?}", broker.name);
        assert!(
            repeated.is_empty(),
            "{}: repeated {repeated:?}",
            broker.name
        );
        assert_eq!(counts.len(), total, "{}: {counts:?}", broker.name);
        unsafe { kafka_instance_free(inst) };
    }
}

/// What an aborted transaction sent is never seen by a read_committed
/// reader; what a committed one sent is.
#[test]
fn kafka_producer_abort_transaction_hides_what_it_sent() {
    for broker in brokers() {
        if cannot_run_transactions(
            &broker,
            "kafka_producer_abort_transaction_hides_what_it_sent",
            false,
        ) {
            continue;
        }
        let topic = unique_topic("txn-abort");
        create_topic(&broker, &topic, 1);
        let inst = instance(&broker, &[("auto_offset_reset", "earliest")]);
        let p = producer(inst, &[("transactional_id", &unique_topic("txn"))]);
        let mut e = err();
        let ok = |rc: KafkaErrorCode, e: &KafkaError, what: &str| {
            assert_eq!(rc, KAFKA_OK, "{what}: {}", e.message_str())
        };
        ok(
            unsafe { kafka_producer_init_transactions(p, 30_000, &mut e) },
            &e,
            "init",
        );
        ok(
            unsafe { kafka_producer_begin_transaction(p, &mut e) },
            &e,
            "begin",
        );
        for n in 0..3 {
            assert_eq!(
                send_json(p, &topic, None, &format!("{{\"n\":{n}}}")).0,
                KAFKA_OK
            );
        }
        ok(
            unsafe { kafka_producer_abort_transaction(p, 30_000, &mut e) },
            &e,
            "abort",
        );
        ok(
            unsafe { kafka_producer_begin_transaction(p, &mut e) },
            &e,
            "begin again",
        );
        assert_eq!(send_json(p, &topic, None, "{\"n\":3}").0, KAFKA_OK);
        ok(
            unsafe { kafka_producer_commit_transaction(p, 30_000, &mut e) },
            &e,
            "commit",
        );
        close(p);
        let counts = committed_counts(inst, &topic);
        assert_eq!(
            counts,
            BTreeMap::from([(3, 1)]),
            "{}: only the committed message",
            broker.name
        );
        unsafe { kafka_instance_free(inst) };
    }
}

/// A second producer with the same transactional id fences the first: its
/// next transaction call fails as fatal, `kafka_producer_fatal_error`
/// says so with the code, and so does every later send.
#[test]
fn kafka_producer_fatal_error_reports_a_fenced_producer() {
    for broker in brokers() {
        if cannot_run_transactions(
            &broker,
            "kafka_producer_fatal_error_reports_a_fenced_producer",
            false,
        ) {
            continue;
        }
        let topic = unique_topic("txn-fenced");
        create_topic(&broker, &topic, 1);
        let inst = instance(&broker, &[]);
        let id = unique_topic("txn");
        let first = producer(inst, &[("transactional_id", &id)]);
        let mut e = err();
        assert!(!unsafe { kafka_producer_fatal_error(first, &mut e) });
        assert_eq!(e.code, KAFKA_OK);
        assert_eq!(
            unsafe { kafka_producer_init_transactions(first, 30_000, &mut e) },
            KAFKA_OK
        );
        assert_eq!(
            unsafe { kafka_producer_begin_transaction(first, &mut e) },
            KAFKA_OK
        );
        assert_eq!(send_json(first, &topic, None, "{\"n\":0}").0, KAFKA_OK);
        let second = producer(inst, &[("transactional_id", &id)]);
        let rc = unsafe { kafka_producer_init_transactions(second, 30_000, &mut e) };
        assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
        if !broker.mock.is_null() {
            // The mock cluster does not fence: its coordinator answers the
            // first producer's EndTxn (API key 26) as a broker answers a
            // fenced producer, PRODUCER_FENCED (90).
            let fenced = [90];
            let rc = unsafe {
                kafka_mock_cluster_push_request_errors(broker.mock, 26, fenced.as_ptr(), 1, &mut e)
            };
            assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
        }
        // The first finds out at its next call that talks to the broker.
        let rc = unsafe { kafka_producer_commit_transaction(first, 30_000, &mut e) };
        assert_ne!(rc, KAFKA_OK, "{}: a fenced producer committed", broker.name);
        assert!(
            e.fatal,
            "{}: fenced is fatal: {}",
            broker.name,
            e.message_str()
        );
        let mut fatal = err();
        assert!(unsafe { kafka_producer_fatal_error(first, &mut fatal) });
        assert!(
            fatal.fatal && fatal.rdkafka_code != 0,
            "{}",
            fatal.message_str()
        );
        let (rc, why) = send_json(first, &topic, None, "{\"n\":1}");
        assert_ne!(rc, KAFKA_OK, "a send after the fatal error: {why}");
        // The recovery: a new producer (here, the second) goes on.
        assert_eq!(
            unsafe { kafka_producer_begin_transaction(second, &mut e) },
            KAFKA_OK
        );
        assert_eq!(send_json(second, &topic, None, "{\"n\":2}").0, KAFKA_OK);
        let rc = unsafe { kafka_producer_commit_transaction(second, 30_000, &mut e) };
        assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
        unsafe { kafka_producer_close(first, 1000, null_mut()) };
        close(second);
        unsafe { kafka_instance_free(inst) };
    }
}

/// Transaction calls on a producer without a transactional id, with a
/// consumer that commits by itself, and with bad arguments are refused
/// clearly.
#[test]
fn kafka_producer_transaction_calls_are_refused_where_they_cannot_work() {
    capture_logs();
    let broker = &embedded();
    let inst = instance(broker, &[("auto_offset_reset", "earliest")]);
    let plain = producer(inst, &[]);
    let mut e = err();
    let rc = unsafe { kafka_producer_init_transactions(plain, 1000, &mut e) };
    assert_eq!(rc, KAFKA_ERR_STATE, "{}", e.message_str());
    assert!(
        e.message_str().contains("transactional_id"),
        "{}",
        e.message_str()
    );
    let rc = unsafe { kafka_producer_begin_transaction(null_mut(), &mut e) };
    assert_eq!(rc, KAFKA_ERR_INVALID_ARGUMENT);
    // send_offsets needs a consumer that does not commit by itself.
    let topic = unique_topic("txn-refused");
    create_topic(broker, &topic, 1);
    let txn = producer(inst, &[("transactional_id", &unique_topic("txn"))]);
    assert_eq!(
        unsafe { kafka_producer_init_transactions(txn, 30_000, &mut e) },
        KAFKA_OK
    );
    assert_eq!(
        unsafe { kafka_producer_begin_transaction(txn, &mut e) },
        KAFKA_OK
    );
    let auto = consumer(inst, &[&topic], &[("group_id", &unique_topic("g"))]);
    let rc = unsafe {
        kafka_producer_send_offsets_to_transaction(txn, auto, std::ptr::null(), 10_000, &mut e)
    };
    assert_eq!(rc, KAFKA_ERR_CONFIG, "{}", e.message_str());
    assert!(
        e.message_str().contains("enable_auto_commit"),
        "{}",
        e.message_str()
    );
    let empty = kafka_partition_list_new();
    let rc =
        unsafe { kafka_producer_send_offsets_to_transaction(txn, auto, empty, 10_000, &mut e) };
    assert_eq!(rc, KAFKA_ERR_INVALID_ARGUMENT, "{}", e.message_str());
    unsafe { kafka_partition_list_free(empty) };
    close_consumer(auto);
    assert_eq!(
        unsafe { kafka_producer_abort_transaction(txn, 30_000, &mut e) },
        KAFKA_OK
    );
    close(txn);
    close(plain);
    unsafe { kafka_instance_free(inst) };
}

/// A message the broker refuses inside a transaction makes the transaction
/// abortable: the commit fails with `txn_requires_abort` (not fatal), the
/// abort succeeds, and the producer goes on with a new transaction.
#[test]
fn a_failed_send_makes_the_transaction_abortable_and_the_producer_goes_on() {
    // The broker's refusal is injected: the embedded broker only.
    let broker = &embedded();
    let topic = unique_topic("txn-abortable");
    create_topic(broker, &topic, 1);
    let inst = instance(broker, &[("auto_offset_reset", "earliest")]);
    let p = producer(inst, &[("transactional_id", &unique_topic("txn"))]);
    let mut e = err();
    assert_eq!(
        unsafe { kafka_producer_init_transactions(p, 30_000, &mut e) },
        KAFKA_OK
    );
    assert_eq!(
        unsafe { kafka_producer_begin_transaction(p, &mut e) },
        KAFKA_OK
    );
    // Produce (API key 0) answered with TOPIC_AUTHORIZATION_FAILED (29),
    // which librdkafka does not retry.
    let refused = [29];
    let rc = unsafe {
        kafka_mock_cluster_push_request_errors(broker.mock, 0, refused.as_ptr(), 1, &mut e)
    };
    assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
    assert_eq!(send_json(p, &topic, None, "{\"n\":0}").0, KAFKA_OK);
    let rc = unsafe { kafka_producer_commit_transaction(p, 30_000, &mut e) };
    assert_ne!(
        rc, KAFKA_OK,
        "a transaction with a refused message committed"
    );
    assert!(
        e.txn_requires_abort && !e.fatal,
        "abortable, not fatal: {} (abort {}, fatal {}, retriable {})",
        e.message_str(),
        e.txn_requires_abort,
        e.fatal,
        e.retriable
    );
    let rc = unsafe { kafka_producer_abort_transaction(p, 30_000, &mut e) };
    assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
    // Going on: another partition (the mock cluster keeps expecting the
    // refused message's sequence number on the first one, where a broker
    // resets it with the producer's epoch).
    let next = unique_topic("txn-next");
    create_topic(broker, &next, 1);
    assert_eq!(
        unsafe { kafka_producer_begin_transaction(p, &mut e) },
        KAFKA_OK
    );
    assert_eq!(send_json(p, &next, None, "{\"n\":1}").0, KAFKA_OK);
    let rc = unsafe { kafka_producer_commit_transaction(p, 30_000, &mut e) };
    assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
    assert!(!unsafe { kafka_producer_fatal_error(p, null_mut()) });
    close(p);
    unsafe { kafka_instance_free(inst) };
}

/// Records handed over before a commit belong to the transaction: the
/// commit waits for the producer's sender thread to queue them, so each
/// is delivered (a record queued after the commit would be refused, with
/// no transaction open).
#[test]
fn kafka_producer_commit_transaction_includes_records_handed_over_before_it() {
    for broker in brokers() {
        let test = "kafka_producer_commit_transaction_includes_records_handed_over_before_it";
        if cannot_run_transactions(&broker, test, false) {
            continue;
        }
        let topic = unique_topic("txn-hand-over");
        create_topic(&broker, &topic, 1);
        let inst = instance(&broker, &[]);
        // A small local queue: the sender thread is still queueing when
        // the commit is called.
        let p = producer(
            inst,
            &[
                ("transactional_id", &unique_topic("txn")),
                ("queue.buffering.max.messages", "1000"),
            ],
        );
        let mut e = err();
        let ok = |rc: KafkaErrorCode, e: &KafkaError, what: &str| {
            assert_eq!(rc, KAFKA_OK, "{what}: {}", e.message_str())
        };
        ok(
            unsafe { kafka_producer_init_transactions(p, 30_000, &mut e) },
            &e,
            "init",
        );
        ok(
            unsafe { kafka_producer_begin_transaction(p, &mut e) },
            &e,
            "begin",
        );
        let t = c(&topic);
        for b in 0..20u64 {
            let (rc, msg) = hand_over_packed(p, &t, &packed(b * 1000, 1000), b * 1000, -1);
            assert_eq!(rc, KAFKA_OK, "{msg}");
        }
        ok(
            unsafe { kafka_producer_commit_transaction(p, 60_000, &mut e) },
            &e,
            "commit",
        );
        let reports = take_reports(p, 20_000, Duration::from_secs(60));
        assert_eq!(
            reports.len(),
            20_000,
            "{}: one report per record",
            broker.name
        );
        let failed = reports.iter().filter(|r| r.code != KAFKA_OK).count();
        assert_eq!(
            failed, 0,
            "{}: every record was in the transaction",
            broker.name
        );
        close(p);
        unsafe { kafka_instance_free(inst) };
    }
}

/// An abort while records handed over wait for room in a full local queue
/// (every answer of the broker 2 s late, room for 5 messages): they fail
/// as purged at once, with the ones librdkafka's abort purges, instead of
/// the abort waiting for room that only it makes; one failed report
/// each, nothing left in flight.
#[test]
fn kafka_producer_abort_transaction_fails_records_handed_over_and_waiting() {
    let broker = &embedded();
    let topic = unique_topic("txn-abort-waiting");
    create_topic(broker, &topic, 1);
    let inst = instance(broker, &[]);
    let p = producer(
        inst,
        &[
            ("transactional_id", &unique_topic("txn")),
            ("queue.buffering.max.messages", "5"),
        ],
    );
    let mut e = err();
    assert_eq!(
        unsafe { kafka_producer_init_transactions(p, 30_000, &mut e) },
        KAFKA_OK,
        "{}",
        e.message_str()
    );
    assert_eq!(
        unsafe { kafka_producer_begin_transaction(p, &mut e) },
        KAFKA_OK
    );
    let rc = unsafe { kafka_mock_cluster_set_round_trip_time(broker.mock, -1, 2000, &mut e) };
    assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
    let t = c(&topic);
    let (rc, msg) = hand_over_packed(p, &t, &packed(0, 200), 0, -1);
    assert_eq!(rc, KAFKA_OK, "{msg}");
    std::thread::sleep(Duration::from_millis(200));
    // 200 records queued 5 at a time, 2 s apart, would take 80 s.
    let rc = unsafe { kafka_producer_abort_transaction(p, 20_000, &mut e) };
    assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
    let reports = take_reports(p, 200, Duration::from_secs(30));
    assert_one_report_each(&reports, 0..200, "after the abort");
    assert!(reports.iter().all(|r| r.code != KAFKA_OK), "none delivered");
    assert_eq!(in_flight_settled(p), 0);
    let rc = unsafe { kafka_mock_cluster_set_round_trip_time(broker.mock, -1, 0, &mut e) };
    assert_eq!(rc, KAFKA_OK, "{}", e.message_str());
    close(p);
    unsafe { kafka_instance_free(inst) };
}

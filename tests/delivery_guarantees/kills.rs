//! Consumer processes killed with SIGKILL at random points and restarted:
//! nothing lost (and, committing each message, nothing repeated).

use super::*;

/// One life of tests/c/crash_consumer.c.
struct Life {
    processed: Vec<usize>,
    killed: bool,
}

/// Runs one life to its end (a kill, or 3 s without messages), at most
/// `limit`.
fn live(mut cmd: Command, limit: Duration) -> Life {
    let mut child = cmd.spawn().expect("starting crash_consumer");
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        BufReader::new(stdout)
            .lines()
            .map_while(|l| l.ok())
            .filter_map(|l| {
                l.strip_prefix("processed ")
                    .map(|n| n.parse::<usize>().unwrap())
            })
            .collect::<Vec<_>>()
    });
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("crash_consumer did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let processed = reader.join().unwrap();
    let killed = status.signal() == Some(libc::SIGKILL);
    assert!(
        killed || status.success(),
        "crash_consumer failed: {status}"
    );
    Life { processed, killed }
}

/// Kills a consumer process (SIGKILL) at random points while it handles
/// messages in `mode`, restarting it in the same group, until a life ends
/// without a kill; checks that every message was processed at least once
/// and, with a commit after each message, exactly once.
fn killed_consumers_lose_nothing(mode: &str) {
    let mut rng = Lcg::seeded();
    for broker in brokers() {
        for commit in ["auto", "message"] {
            let total = 60;
            let topic = unique_topic("killed");
            create_topic(&broker, &topic, 2);
            let group = unique_topic("g");
            let inst = instance(&broker, &[]);
            produce_unbatched(inst, &topic, 0, total);
            unsafe { kafka_instance_free(inst) };
            let mut processed = Vec::new();
            let mut kills: u64 = 0;
            for n in 0.. {
                assert!(n < 12, "{}: never finished: {processed:?}", broker.name);
                let distinct: BTreeSet<_> = processed.iter().collect();
                let left = (total - distinct.len()) as u64;
                // Three kills at random points, each leaving messages for
                // the next ones, then lives that finish.
                let spare = left.saturating_sub(3 - kills);
                let kill_at = if kills < 3 && spare > 0 {
                    rng.below(spare) as i64
                } else {
                    -1
                };
                let cmd = crash_consumer_command(&broker, &topic, &group, mode, commit, kill_at);
                let life = live(cmd, Duration::from_secs(90));
                eprintln!(
                    "{} {mode} {commit}: life {n}: kill at {kill_at}: {} handled, {}",
                    broker.name,
                    life.processed.len(),
                    if life.killed { "killed" } else { "finished" }
                );
                processed.extend(life.processed);
                let distinct: BTreeSet<_> = processed.iter().collect();
                if life.killed {
                    kills += 1;
                } else if distinct.len() == total || kills == 3 {
                    // Everything, or a life after the kills that found
                    // nothing more: whatever is missing now was lost.
                    break;
                }
            }
            let distinct: BTreeSet<usize> = processed.iter().copied().collect();
            let lost: Vec<usize> = (0..total).filter(|n| !distinct.contains(n)).collect();
            assert!(
                lost.is_empty(),
                "{} {mode} {commit}: lost {lost:?} (every message must be processed at least once)",
                broker.name
            );
            let repeats = processed.len() - distinct.len();
            eprintln!(
                "{} {mode}, commit {commit}: {kills} kills, {} processed, {repeats} repeated",
                broker.name,
                processed.len()
            );
            assert_eq!(kills, 3, "{}: the kills happened", broker.name);
            if commit == "message" {
                assert_eq!(
                    repeats, 0,
                    "{} {mode}: exactly once: {processed:?}",
                    broker.name
                );
            }
        }
    }
}

/// SIGKILL right after a poll returned a message, before it was processed.
#[test]
fn a_consumer_killed_after_a_poll_loses_nothing() {
    killed_consumers_lose_nothing("poll");
}

/// SIGKILL in the middle of processing a batch.
#[test]
fn a_consumer_killed_mid_batch_loses_nothing() {
    killed_consumers_lose_nothing("batch");
}

/// SIGKILL inside a handler.
#[test]
fn a_consumer_killed_inside_a_handler_loses_nothing() {
    killed_consumers_lose_nothing("consume");
}

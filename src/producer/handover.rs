//! Records handed over to the producer's sender thread.
//!
//! A binding whose sending thread is also its language's busiest (Python's,
//! which holds the interpreter's lock) gathers records into a packed buffer
//! and hands it over: [`Producer::hand_over_tracked`] copies it and
//! returns, and one thread of the producer queues the records into
//! librdkafka in the order they were handed over, waiting for room there
//! when its queue is full. The sending thread never waits for librdkafka's
//! room or pays its per-message cost, and the records flow into librdkafka
//! a batch at a time as they come, not in bursts.
//!
//! Every record handed over gets exactly one tracked report: its delivery,
//! or, when it could not be queued (no room within the hand-over's
//! timeout, too large, purged, the producer closing out of time), a
//! failure with that reason. It counts as in flight from the hand-over, so
//! `flush` and `close` wait for it. A hand-over never waits: when 20,000
//! records wait for the thread already it is refused
//! ([`ErrorKind::QueueFull`]), and [`Producer::wait_handed_over`] is how
//! a caller waits for them.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rdkafka::error::{KafkaError as RdKafkaError, RDKafkaErrorCode};
use rdkafka::producer::Producer as _;

use super::{deadline_after, tracked, unpack, walk_packed, Producer, Queueing, TrackedFailure};
use crate::error::{Error, ErrorKind, Result};
use crate::sys::TopicHandle;
use crate::timeout::remaining;
use crate::topic;

/// Records waiting for the sender thread, at most: a hand-over beyond it
/// is refused.
const ROOM: usize = 20_000;

/// One hand-over's records, owned.
struct Job {
    topic: String,
    data: Vec<u8>,
    lengths: Vec<i64>,
    first_tag: u64,
    /// Purges made before it was handed over.
    purges: u64,
    /// Until when its records may wait for room in librdkafka's queue:
    /// the hand-over's timeout, from the hand-over.
    deadline: Instant,
    timeout: Duration,
}

/// The hand-overs of one producer, and its sender thread.
#[derive(Default)]
pub(super) struct Handover {
    state: Mutex<State>,
    /// A job came, or the thread is to stop.
    arrived: Condvar,
    /// The thread took a job or finished one.
    taken: Condvar,
    /// What is left fails at once instead of being queued: `close` ran out
    /// of time, or the producer is being dropped.
    abandon: AtomicBool,
    /// Purges so far: the job being queued when one comes fails the rest
    /// of its records.
    purges: AtomicU64,
    /// Held by the sender thread from its check that no purge came to the
    /// record's queueing, and by a purge from its count to librdkafka's
    /// purge: a record is either failed as purged or queued before the
    /// purge that fails it, never queued just after a purge it predates
    /// (with no report until the broker answers).
    purging: Mutex<()>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

#[derive(Default)]
struct State {
    jobs: VecDeque<Job>,
    /// Records in `jobs`.
    records: usize,
    /// Jobs handed over so far, and jobs done (queued or failed), in
    /// order.
    handed: u64,
    done: u64,
    stop: bool,
}

impl Handover {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn abandoned(&self) -> bool {
        self.abandon.load(Ordering::Acquire)
    }

    /// Waits until every job handed over before the call is queued (or
    /// failed), or `deadline` passes (`None`: no limit); whether they all
    /// were. Jobs handed over meanwhile do not hold it up.
    pub(super) fn wait_sent(&self, deadline: Option<Instant>) -> bool {
        let mut state = self.lock();
        let before = state.handed;
        while state.done < before {
            let wait = match remaining(deadline) {
                Some(left) if left.is_zero() => return false,
                Some(left) => left.min(Duration::from_millis(100)),
                None => Duration::from_millis(100),
            };
            state = self
                .taken
                .wait_timeout(state, wait)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        true
    }

    /// Fails every record handed over before and not yet queued, as
    /// purged (the sender thread does it, at once, in order), then runs
    /// `purge_queued` (librdkafka's purge), with no record queued between.
    pub(super) fn purge(&self, purge_queued: impl FnOnce()) {
        let _purging = self.purging.lock().unwrap_or_else(|e| e.into_inner());
        self.purges.fetch_add(1, Ordering::AcqRel);
        purge_queued();
    }

    /// Runs `queue` unless the job handed over when `purges` purges had
    /// been made is [`gone`](Self::gone): then `None`.
    pub(super) fn unless_gone<T>(&self, purges: u64, queue: impl FnOnce() -> T) -> Option<T> {
        let _purging = self.purging.lock().unwrap_or_else(|e| e.into_inner());
        (!self.gone(purges)).then(queue)
    }

    /// Whether a job handed over when `purges` purges had been made is
    /// to fail: purged since, or the producer closed out of time.
    fn gone(&self, purges: u64) -> bool {
        self.abandoned() || self.purges.load(Ordering::Acquire) != purges
    }

    /// Fails what is left (the thread does it, at once) and stops the
    /// thread; returns once it has stopped. For `close` out of time and
    /// for dropping the producer.
    pub(super) fn stop(&self) {
        self.abandon.store(true, Ordering::Release);
        self.lock().stop = true;
        self.arrived.notify_all();
        let thread = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(thread) = thread {
            if thread.thread().id() != std::thread::current().id() {
                let _ = thread.join();
            }
        }
    }
}

impl Producer {
    /// Copies `count` packed records to `topic` (`data` and `lengths` as
    /// in `kafka_producer_send_tracked_packed`) and returns: the
    /// producer's sender thread queues them into librdkafka in the order
    /// they were handed over, each tracked with `first_tag` + its index.
    /// A record waits for room in librdkafka's queue until `timeout` after
    /// the hand-over; one that cannot be queued gets a failed report
    /// (`Timeout`, `MessageTooLarge`, ...), and the records after it go on.
    ///
    /// Never waits: [`ErrorKind::QueueFull`] when 20,000 records wait for
    /// the thread already (wait with
    /// [`wait_handed_over`](Self::wait_handed_over)). Invalid lengths or
    /// topic, or a closing producer ([`ErrorKind::State`]): nothing is
    /// taken.
    pub fn hand_over_tracked(
        &self,
        topic_name: &str,
        data: &[u8],
        lengths: &[i64],
        first_tag: u64,
        timeout: Duration,
    ) -> Result<()> {
        self.check_process()?;
        self.queueing.refuse_when_closing()?;
        topic::validate(topic_name)?;
        let count = walk_packed(data, lengths, |_, _| ())?;
        if count == 0 {
            return Ok(());
        }
        self.start_sender()?;
        let handover = &self.queueing.handover;
        let deadline = deadline_after(timeout);
        let mut state = handover.lock();
        // Again under the lock: `close` sets `closing` before it takes the
        // lock to see what was handed over, so a hand-over is either in
        // what close waits for or refused, never taken after close looked.
        // (`stop` is only set after `closing`.)
        self.queueing.refuse_when_closing()?;
        if state.records > 0 && state.records.saturating_add(count) > ROOM {
            return Err(Error::new(
                ErrorKind::QueueFull,
                format!(
                    "{} records handed over before wait to be queued: none of these {count} to \
                     {topic_name:?} was taken (wait for them with wait_handed_over, or send \
                     again later)",
                    state.records
                ),
            ));
        }
        // In flight from now on: flush and close wait for them.
        self.shared.pending.fetch_add(count, Ordering::AcqRel);
        state.records += count;
        state.handed += 1;
        state.jobs.push_back(Job {
            topic: topic_name.to_owned(),
            data: data.to_vec(),
            lengths: lengths.to_vec(),
            first_tag,
            purges: handover.purges.load(Ordering::Acquire),
            deadline,
            timeout,
        });
        drop(state);
        handover.arrived.notify_one();
        Ok(())
    }

    /// Waits until every record handed over before the call is queued in
    /// librdkafka (or has its failed report), up to `timeout` (`None`: no
    /// limit): then [`ErrorKind::Timeout`]. A send made after it returns
    /// is queued after them.
    pub fn wait_handed_over(&self, timeout: Option<Duration>) -> Result<()> {
        self.check_process()?;
        self.shared
            .refuse_wait_in_callback("waiting for hand-overs")?;
        if self
            .queueing
            .handover
            .wait_sent(crate::timeout::deadline(timeout))
        {
            return Ok(());
        }
        Err(Error::new(
            ErrorKind::Timeout,
            format!(
                "records handed over were not all queued within {} ms",
                crate::timeout::millis(timeout)
            ),
        ))
    }

    /// Starts the sender thread, once.
    fn start_sender(&self) -> Result<()> {
        let mut thread = self
            .queueing
            .handover
            .thread
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if thread.is_none() {
            let queueing = Arc::clone(&self.queueing);
            let spawned = std::thread::Builder::new()
                .name("producer sender".into())
                .spawn(move || queueing.send_handed_over())
                .map_err(|e| {
                    Error::new(
                        ErrorKind::Internal,
                        format!("starting the sender thread: {e}"),
                    )
                })?;
            *thread = Some(spawned);
        }
        Ok(())
    }
}

impl Queueing {
    /// The sender thread: queues the jobs in order until stopped.
    fn send_handed_over(&self) {
        let handover = &self.handover;
        loop {
            let job = {
                let mut state = handover.lock();
                loop {
                    if let Some(job) = state.jobs.pop_front() {
                        state.records -= job.lengths.len() / 2;
                        break job;
                    }
                    if state.stop {
                        return;
                    }
                    state = handover
                        .arrived
                        .wait(state)
                        .unwrap_or_else(|e| e.into_inner());
                }
            };
            handover.taken.notify_all();
            self.send_job(&job);
            handover.lock().done += 1;
            handover.taken.notify_all();
        }
    }

    /// Queues a job's records; each one that cannot be queued gets its
    /// failed report. They were counted in flight at the hand-over.
    fn send_job(&self, job: &Job) {
        // Checked at the hand-over: this cannot fail, but a failure would
        // fail every record rather than lose one.
        let records = match unpack(&job.topic, &job.data, &job.lengths) {
            Ok(records) => records,
            Err(e) => {
                for i in 0..job.lengths.len() / 2 {
                    self.fail_tracked(job.first_tag.wrapping_add(i as u64), &e);
                }
                return;
            }
        };
        let handle = TopicHandle::new(self.inner.client(), &job.topic);
        for (i, record) in records.iter().enumerate() {
            let tag = job.first_tag.wrapping_add(i as u64);
            let queued = self.enqueue_waiting(
                record,
                tracked(tag),
                handle.as_ref(),
                job.deadline,
                job.timeout,
                Some(job.purges),
            );
            if let Err(e) = queued {
                self.fail_tracked(tag, &e);
            }
        }
    }

    /// The failed report of a record handed over and not queued.
    pub(super) fn fail_tracked(&self, tag: u64, e: &Error) {
        let failure = TrackedFailure {
            kind: e.kind,
            rdkafka_code: e.rdkafka_code,
        };
        self.inner.context().track(tag, Err(failure));
        self.shared.reported();
    }

    /// Why a record still waiting was failed (purged, the producer closed
    /// out of time or dropped): as librdkafka's purge of its own queue
    /// says.
    pub(super) fn abandoned_error(&self, topic: &str) -> Error {
        Error::from_rdkafka(
            &RdKafkaError::MessageProduction(RDKafkaErrorCode::PurgeQueue),
            &format!("a record to {topic:?} was purged before it was queued"),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::instance::Instance;
    use crate::mock::MockCluster;

    /// `count` packed records without keys, values `{"n":i}`.
    fn packed(count: usize) -> (Vec<u8>, Vec<i64>) {
        let (mut data, mut lengths) = (Vec::new(), Vec::new());
        for n in 0..count {
            let value = format!("{{\"n\":{n}}}");
            data.extend_from_slice(value.as_bytes());
            lengths.extend([-1, value.len() as i64]);
        }
        (data, lengths)
    }

    /// A hand-over racing `close` from another thread (the Rust API allows
    /// it; from C, a callback that hands over while the producer closes):
    /// it is either in what close waits for or refused, never taken after
    /// close looked, so once both returned nothing is in flight. Each
    /// round starts close 0.1 ms later against a hand-over of 50,000
    /// records (its checks take a while), from before it to after it:
    /// some rounds must see the hand-over taken and some refused. On a
    /// loaded machine the race moves later: the rounds go on (up to 300,
    /// 30 ms) until both were seen.
    #[test]
    fn a_hand_over_racing_close_is_waited_for_or_refused() {
        let mock = MockCluster::new(1).unwrap();
        mock.create_topic("race", 1, 1).unwrap();
        let mut config = Config::new();
        config
            .set_bootstrap_servers(&[mock.bootstrap_servers()])
            .unwrap();
        let instance = Instance::new(&config).unwrap();
        let (data, lengths) = packed(50_000);
        let (mut taken, mut refused) = (0, 0);
        for round in 0..300u32 {
            if round >= 30 && taken > 0 && refused > 0 {
                break;
            }
            let producer = Producer::new(&instance, None).unwrap();
            let start = Instant::now() + Duration::from_millis(20);
            let handed = std::thread::scope(|s| {
                let handing = s.spawn(|| {
                    std::thread::sleep(start - Instant::now());
                    producer.hand_over_tracked("race", &data, &lengths, 0, Duration::from_secs(30))
                });
                std::thread::sleep(
                    start - Instant::now() + Duration::from_micros(round as u64 * 100),
                );
                let closed = Instant::now();
                let _ = producer.close(Some(Duration::from_secs(20)));
                assert!(
                    closed.elapsed() < Duration::from_secs(25),
                    "round {round}: close took {:?}",
                    closed.elapsed()
                );
                handing.join().unwrap()
            });
            taken += usize::from(handed.is_ok());
            refused += usize::from(handed.is_err());
            assert_eq!(
                producer.in_flight(),
                0,
                "round {round}: the hand-over {}, and its records are in flight after close",
                if handed.is_ok() {
                    "was taken"
                } else {
                    "was refused"
                }
            );
        }
        assert!(
            taken > 0 && refused > 0,
            "{taken} hand-overs taken before close and {refused} refused: the rounds did not \
             straddle the race"
        );
    }
}

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
//! timeout, too large, the producer closing out of time), a failure with
//! that reason. It counts as in flight from the hand-over, so `flush` and
//! `close` wait for it.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rdkafka::error::{KafkaError as RdKafkaError, RDKafkaErrorCode};
use rdkafka::producer::Producer as _;

use super::{tracked, unpack, walk_packed, Producer, Queueing, TrackedFailure};
use crate::error::{Error, ErrorKind, Result};
use crate::ffi::native::TopicHandle;
use crate::timeout::remaining;
use crate::topic;

/// Records waiting for the sender thread, at most: a hand-over beyond it
/// waits (up to its timeout) for the thread to take some.
const ROOM: usize = 20_000;

/// One hand-over's records, owned.
struct Job {
    topic: String,
    data: Vec<u8>,
    lengths: Vec<i64>,
    first_tag: u64,
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
    thread: Mutex<Option<JoinHandle<()>>>,
}

#[derive(Default)]
struct State {
    jobs: VecDeque<Job>,
    /// Records in `jobs`.
    records: usize,
    /// The thread is queueing a job it took.
    sending: bool,
    stop: bool,
}

impl Handover {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(super) fn abandoned(&self) -> bool {
        self.abandon.load(Ordering::Acquire)
    }

    /// Waits until every job handed over so far is queued (or failed), or
    /// `deadline` passes (`None`: no limit); whether they all were.
    pub(super) fn wait_sent(&self, deadline: Option<Instant>) -> bool {
        let mut state = self.lock();
        while !state.jobs.is_empty() || state.sending {
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
    /// Waits up to `timeout` when 20,000 records are already waiting for
    /// the thread ([`ErrorKind::Timeout`] then, and nothing is taken).
    /// Invalid lengths or topic: nothing is taken. A producer closing
    /// refuses it ([`ErrorKind::State`]).
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
        if !timeout.is_zero() {
            self.shared
                .refuse_wait_in_callback("a hand-over that waits for room")?;
        }
        self.start_sender()?;
        let handover = &self.queueing.handover;
        let deadline = Instant::now().checked_add(timeout);
        // No limit: a deadline far enough never to come.
        let far = || Instant::now() + Duration::from_secs(100 * 365 * 86400);
        let mut state = handover.lock();
        while state.records > 0 && state.records.saturating_add(count) > ROOM {
            let left = remaining(deadline).unwrap_or(Duration::from_secs(3600));
            if left.is_zero() {
                return Err(Error::new(
                    ErrorKind::Timeout,
                    format!(
                        "no room for {count} record(s) to {topic_name:?} among the {} handed over \
                         before them within {} ms; none was taken",
                        state.records,
                        timeout.as_millis()
                    ),
                ));
            }
            state = handover
                .taken
                .wait_timeout(state, left.min(Duration::from_millis(100)))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        if state.stop {
            return Err(Error::state(
                "the producer is closing: nothing more can be sent",
            ));
        }
        // In flight from now on: flush and close wait for them.
        self.shared.pending.fetch_add(count, Ordering::AcqRel);
        state.records += count;
        state.jobs.push_back(Job {
            topic: topic_name.to_owned(),
            data: data.to_vec(),
            lengths: lengths.to_vec(),
            first_tag,
            deadline: deadline.unwrap_or_else(far),
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
                        state.sending = true;
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
            handover.lock().sending = false;
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
            let queued = if self.handover.abandoned() {
                Err(self.abandoned_error(&job.topic))
            } else {
                self.enqueue_waiting(
                    record,
                    tracked(tag),
                    handle.as_ref(),
                    job.deadline,
                    job.timeout,
                    true,
                )
            };
            if let Err(e) = queued {
                self.fail_tracked(tag, &e);
            }
        }
    }

    /// The failed report of a record handed over and not queued.
    fn fail_tracked(&self, tag: u64, e: &Error) {
        let failure = TrackedFailure {
            kind: e.kind,
            rdkafka_code: e.rdkafka_code,
        };
        self.inner.context().track(tag, Err(failure));
        self.shared.reported();
    }

    /// Why a record still waiting when the producer was closed out of time
    /// (or dropped) failed: as librdkafka's purge of its own queue says.
    pub(super) fn abandoned_error(&self, topic: &str) -> Error {
        Error::from_rdkafka(
            &RdKafkaError::MessageProduction(RDKafkaErrorCode::PurgeQueue),
            &format!(
                "a record to {topic:?} was still waiting to be queued when the producer closed"
            ),
        )
    }
}

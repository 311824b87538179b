//! Polling: one message, a batch or each of a batch, waiting on the
//! self-pipe that librdkafka and `wakeup` write to; what a poll hands out,
//! settles and auto-commits; the event fd for event loops.

use super::*;

impl Consumer {
    /// Enters a poll, batch or consume: refused in a forked child, after
    /// close, and inside a handler of this consumer. The application came
    /// back for more, so what it was handed is done; auto-commit runs when
    /// due.
    pub(super) fn enter_poll(&self) -> Result<PollGuard<'_>> {
        self.check_usable()?;
        self.check_not_serving_events("a poll, poll_batch or consume")?;
        if self.polling.swap(true, Ordering::AcqRel) {
            return Err(Error::state(
                "a poll, poll_batch or consume was called inside a handler (or from another \
                 thread while one runs): the batch being handled would be committed out of \
                 order; return from the handler first",
            ));
        }
        let guard = PollGuard(self);
        // One lock for the three (the hot path: once per poll).
        let due = {
            let mut state = self.state();
            self.settle(&mut state);
            if let Some(e) = state.deferred.take() {
                return Err(e);
            }
            self.commit_due(&mut state)
        };
        if due {
            self.auto_commit();
        }
        Ok(guard)
    }

    /// Starts an asynchronous commit when auto-commit is on, its interval
    /// has passed, and something new is done. Runs from the poll calls
    /// (also while one waits), so it commits on the polling thread, as the
    /// Java client does.
    pub(super) fn auto_commit_if_due(&self) {
        if self.commit_due(&mut self.state()) {
            self.auto_commit();
        }
    }

    /// Whether auto-commit is on and its interval has passed (then it
    /// counts from now).
    pub(super) fn commit_due(&self, state: &mut PollState) -> bool {
        let Some(interval) = self.auto_commit.filter(|i| !i.is_zero()) else {
            return false;
        };
        let now = sys::coarse_now();
        if now.saturating_sub(state.last_commit) < interval {
            return false;
        }
        state.last_commit = now;
        true
    }

    /// The automatic commit, once due: only when something new is done.
    pub(super) fn auto_commit(&self) {
        let context = self.inner.context();
        // Something to commit: stored by `store` (or left by a failed
        // commit) since the last commit began, or marked done and not yet
        // stored.
        if context.uncommitted.swap(false, Ordering::AcqRel) || !context.shared().done.is_empty() {
            // The outcome is served by a later poll (a failure is logged);
            // a commit that cannot even start is logged the same way.
            if let Err(e) = self.start_commit(None, None, true) {
                context.uncommitted.store(true, Ordering::Release);
                log_auto_commit_failure(&e.message, e.rdkafka_code, 0);
            }
        }
    }

    /// Marks what the last poll handed out as done (when coming back for
    /// more counts, see the module docs).
    pub(super) fn settle_handed(&self) {
        self.settle(&mut self.state());
    }

    /// [`settle_handed`](Self::settle_handed) under the caller's lock. The
    /// list keeps its capacity: no allocation per poll.
    pub(super) fn settle(&self, state: &mut PollState) {
        if !self.store_on_return || state.handed.is_empty() {
            return;
        }
        let PollState { handed, done, .. } = state;
        for p in handed.drain(..) {
            mark(done, p);
        }
    }

    /// Records what a poll returns, to be marked done when the application
    /// comes back. Called once the poll has its messages, so that a commit
    /// made meanwhile (from a log callback) cannot count them.
    pub(super) fn hand_out(&self, positions: Vec<Position>) {
        if self.store_on_return && !positions.is_empty() {
            let mut state = self.state();
            for p in positions {
                mark(&mut state.handed, p);
            }
        }
    }

    /// One message, or `None` when none arrived within `timeout` (`None`:
    /// no limit).
    /// Partition EOF and transient errors are logged, not returned; fatal
    /// errors, a failed `auto_offset_reset=none`, a refused authentication
    /// or TLS handshake, and a wake-up are returned.
    pub fn poll(&self, timeout: Option<Duration>) -> Result<Option<Message>> {
        let _polling = self.enter_poll()?;
        // Handed out as it is made: nothing runs between the two.
        self.next(timeout, true)
    }

    /// The next message, waiting up to `timeout` (`None`: forever).
    /// `hand`: record the message as handed out (see `hand_out`).
    pub(super) fn next(&self, timeout: Option<Duration>, hand: bool) -> Result<Option<Message>> {
        // Set after the first attempt: a message already there costs no
        // clock read (on some virtual machines one costs a few hundred
        // nanoseconds, a tenth of a message on the embedded broker).
        let mut deadline: Option<Instant> = None;
        loop {
            if self.woken.load(Ordering::Acquire) && self.woken.swap(false, Ordering::AcqRel) {
                return Err(Error::new(
                    ErrorKind::Wakeup,
                    "woken by kafka_consumer_wakeup",
                ));
            }
            if let Some(refused) = self.new_security_failure() {
                return Err(refused);
            }
            self.serve_commits(Duration::ZERO);
            let wait = match (timeout, deadline) {
                (None, _) => MAX_WAIT,
                (Some(t), None) => t.min(MAX_WAIT),
                (Some(_), Some(d)) => d.saturating_duration_since(Instant::now()).min(MAX_WAIT),
            };
            // First inside librdkafka, briefly: a consumer faster than its
            // fetcher waits for nearly every message, and librdkafka's
            // condition variable wakes it at less cost than the pipe.
            let spell = wait.min(SPELL);
            if let Some(m) = self.poll_once(hand, spell)? {
                return Ok(Some(m));
            }
            if let (Some(t), None) = (timeout, deadline) {
                deadline = Some(Instant::now() + t.saturating_sub(spell));
            }
            // An event (a log line, a commit, a rebalance) used that call:
            // the queue may hold more, and librdkafka signals only a queue
            // that was empty.
            if self.queue.len() > 0 {
                continue;
            }
            if wait.is_zero() {
                return Ok(None);
            }
            if wait > spell {
                self.wait_on_pipe(wait - spell);
            }
            self.auto_commit_if_due();
        }
    }

    /// Waits up to `wait` on the pipe for a message, an event or a
    /// wake-up. librdkafka writes to it only meanwhile: a write for every
    /// message that finds the queue empty costs its fetcher a syscall
    /// that a consumer waiting inside librdkafka does not need.
    pub(super) fn wait_on_pipe(&self, wait: Duration) {
        self.queue.wake_on_arrival(Some(&self.pipe));
        // Anything that came before the line above wrote nothing.
        if self.queue.len() == 0 && self.pipe.wait(wait) {
            self.pipe.drain();
        }
        if !self.readiness.load(Ordering::Acquire) {
            self.queue.wake_on_arrival(None);
        }
    }

    /// The consumer's event file descriptor: readable while a poll would
    /// return at once (a message, an event its callbacks handle, a commit
    /// outcome, a refused login, a wake-up), for select/poll/epoll,
    /// asyncio's `add_reader` or libuv. The caller never reads or closes
    /// it; it is closed with the consumer.
    pub fn event_fd(&self) -> Result<RawFd> {
        self.check_usable()?;
        if !self.readiness.load(Ordering::Acquire) && self.polling.load(Ordering::Acquire) {
            // A poll waiting now would turn the arrivals' writes off again
            // when it ends.
            return Err(Error::state(
                "kafka_consumer_event_fd was asked while a poll of this consumer runs: ask \
                 for it before polling, or between polls",
            ));
        }
        if !self.readiness.swap(true, Ordering::AcqRel) {
            // From now on librdkafka writes whenever something arrives.
            self.queue.wake_on_arrival(Some(&self.pipe));
            self.refresh_readiness();
        }
        Ok(self.pipe.read_fd())
    }

    /// Leaves the pipe readable exactly when the next poll would return
    /// at once. Emptied first, then filled again if anything is there: a
    /// write librdkafka makes after the check finds the pipe as it should.
    pub(super) fn refresh_readiness(&self) {
        self.pipe.drain();
        let security = &self.inner.context().security;
        let pending = self.queue.len() > 0
            || self.commits.len() > 0
            || self.woken.load(Ordering::Acquire)
            || security.notes() != self.security_seen.load(Ordering::Acquire)
            || self.state().deferred.is_some();
        if pending {
            self.pipe.wake();
        }
    }

    /// A refused login or TLS handshake noted since a poll last returned
    /// one (librdkafka retries; each new refusal is returned once).
    pub(super) fn new_security_failure(&self) -> Option<Error> {
        let security = &self.inner.context().security;
        let notes = security.notes();
        if notes == self.security_seen.load(Ordering::Acquire) {
            return None;
        }
        self.security_seen.store(notes, Ordering::Release);
        security.get()
    }

    /// One poll of librdkafka, waiting up to `wait`. `None` also when an event
    /// (rebalance, commit, log line, skipped error) used the call. `hand`:
    /// record the message as handed out, under the same lock.
    pub(super) fn poll_once(&self, hand: bool, wait: Duration) -> Result<Option<Message>> {
        match self.inner.poll(wait) {
            None => Ok(None),
            Some(Ok(m)) => {
                self.inner.context().security.clear();
                let mut state = self.state();
                let held = self.zero_copy.then_some(&self.inner);
                let m = Message::new(&mut state.last_topic, m, held);
                if hand && self.store_on_return {
                    mark(&mut state.handed, m.next_position());
                }
                Ok(Some(m))
            }
            Some(Err(e)) => {
                self.consider(e)?;
                Ok(None)
            }
        }
    }

    /// Decides what a consumer error means: returned, or logged and
    /// skipped.
    pub(super) fn consider(&self, e: RdKafkaError) -> Result<()> {
        match e {
            RdKafkaError::PartitionEOF(p) => {
                if logging::enabled(Level::Debug) {
                    logging::log(
                        Level::Debug,
                        "kafka_instance.consumer.poll",
                        SUBJECT,
                        &format!("reached the end of partition {p}"),
                        None,
                    );
                }
                Ok(())
            }
            RdKafkaError::MessageConsumptionFatal(_) => {
                let mut err = Error::from_rdkafka(&e, "consuming");
                err.fatal = true;
                Err(err)
            }
            // The broker refused the connection (SASL, TLS): librdkafka
            // keeps retrying, but the caller should know now, with the
            // reason librdkafka gave the context.
            RdKafkaError::MessageConsumption(code) if is_security_code(code) => {
                Err(self.inner.context().security.get().unwrap_or_else(|| {
                    let mut err = Error::from_rdkafka(&e, "consuming");
                    err.retriable = false;
                    err
                }))
            }
            RdKafkaError::MessageConsumption(RDKafkaErrorCode::AutoOffsetReset) => Err(
                Error::from_rdkafka(&e, "no committed offset and auto_offset_reset is none"),
            ),
            other => {
                let mut err = Error::from_rdkafka(&other, "consuming");
                if err.rdkafka_code == RDKafkaErrorCode::UnknownTopicOrPartition as i32 {
                    err.message = format!("{}{}", self.missing_subscribed(), err.message);
                }
                logging::log_repeating(
                    self.inner.context().source(),
                    Level::Warning,
                    "kafka_instance.consumer.poll",
                    SUBJECT,
                    &err.message,
                    Some(json!({ "rdkafka_code": err.rdkafka_code, "retriable": err.retriable })),
                );
                Ok(())
            }
        }
    }

    /// Up to `capacity` messages (and at most `max_poll_records`): waits up
    /// to `timeout` for the first, then takes only what is already there.
    pub fn poll_batch(&self, capacity: usize, timeout: Option<Duration>) -> Result<Vec<Message>> {
        let mut out = Vec::new();
        self.poll_each(capacity, timeout, |m| out.push(m))?;
        Ok(out)
    }

    /// [`poll_batch`](Self::poll_batch), handing each message to `sink` as
    /// it comes instead of collecting them. Returns how many.
    pub fn poll_each(
        &self,
        capacity: usize,
        timeout: Option<Duration>,
        mut sink: impl FnMut(Message),
    ) -> Result<usize> {
        let _polling = self.enter_poll()?;
        let mut positions = Vec::new();
        let n = self.fetch(capacity, timeout, |m| {
            positions.push(m.next_position());
            sink(m)
        });
        // Even when the batch ended in an error: what it holds is handed out.
        self.hand_out(positions);
        n
    }

    /// Up to `capacity` (and `max_poll_records`) messages into `sink`:
    /// waits until `deadline` for the first, then takes only what is
    /// already there.
    pub(super) fn fetch(
        &self,
        capacity: usize,
        timeout: Option<Duration>,
        mut sink: impl FnMut(Message),
    ) -> Result<usize> {
        /// Events (log lines, commits) taken between two messages of a
        /// batch before it ends: a stream of them cannot keep it open.
        const EVENTS_PER_BATCH: usize = 64;
        let limit = self.max_poll_records.map_or(capacity, |m| m.min(capacity));
        if limit == 0 {
            return Ok(0);
        }
        match self.next(timeout, false)? {
            Some(m) => sink(m),
            None => return Ok(0),
        }
        let (mut n, mut events) = (1, 0);
        while n < limit {
            match self.poll_once(false, Duration::ZERO) {
                Ok(Some(m)) => {
                    sink(m);
                    n += 1;
                }
                Ok(None) if events < EVENTS_PER_BATCH && self.queue.len() > 0 => events += 1,
                Ok(None) => break,
                // Messages already handed over are the caller's: return
                // them, and the error on the next poll.
                Err(e) => {
                    self.state().deferred = Some(e);
                    break;
                }
            }
        }
        Ok(n)
    }

    /// Makes the blocked (or the next) poll, batch or consume return
    /// [`ErrorKind::Wakeup`]. Async-signal-safe: an atomic store and one
    /// `write(2)`, no lock, no allocation.
    pub fn wakeup(&self) {
        self.woken.store(true, Ordering::Release);
        self.pipe.wake();
    }
}

/// Marks a poll as running for as long as it lives; when it ends, the
/// event fd (if handed out) tells whether the next poll has something.
pub(super) struct PollGuard<'a>(pub(super) &'a Consumer);

impl Drop for PollGuard<'_> {
    fn drop(&mut self) {
        if self.0.readiness.load(Ordering::Acquire) {
            self.0.refresh_readiness();
        }
        self.0.polling.store(false, Ordering::Release);
    }
}

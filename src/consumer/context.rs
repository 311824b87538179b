//! The consumer's librdkafka context: its events (log lines, errors,
//! statistics), what it keeps of each poll (`PollState`, shared with the
//! rebalance callback), and rebalances: the user's hook, the commit before
//! partitions are revoked, and what is forgotten when they go.

use super::*;

/// The rust-rdkafka context: librdkafka's log lines, global errors,
/// commits and rebalances, and the offsets the application is done with
/// (which a rebalance must commit before the partitions go).
pub(super) struct Context {
    /// This client, for the log records it repeats.
    pub(super) source: usize,
    /// The last authentication or TLS failure, with librdkafka's reason,
    /// for `poll` to return.
    pub(super) security: SecurityFailure,
    /// The offsets marked done and the polling side's state: the
    /// consumer's, kept here for the rebalance callbacks.
    pub(super) shared: Mutex<PollState>,
    /// Commit what is done before partitions are revoked (auto-commit).
    pub(super) commit_on_revoke: bool,
    /// The bound of commits made without a timeout of the caller's
    /// (`default.api.timeout.ms`).
    pub(super) api_timeout: Duration,
    /// Set once `close` made its final commit: the revocation that closing
    /// causes must not commit (and wait) again.
    pub(super) closing: AtomicBool,
    /// The client is being released in the background: its log lines and
    /// errors no longer run user code.
    pub(super) silenced: AtomicBool,
    /// `Consumer::store` stored offsets since the last automatic commit
    /// began (other stores happen as part of a commit).
    pub(super) uncommitted: AtomicBool,
    /// The application's rebalance hook.
    pub(super) rebalance: Mutex<Option<RebalanceHook>>,
    /// A rebalance hook is running: assignment changes from it are
    /// refused (the library is in the middle of its own).
    pub(super) in_rebalance: AtomicBool,
    /// Where the partitions being assigned start, as seeks from the hook
    /// chose.
    pub(super) starts: Starts,
    /// Partitions sought since their last commit: their next commit is
    /// explicit (see `rewind`).
    pub(super) rewound: Rewound,
    /// Called with each statistics report.
    pub(super) statistics: Option<Reporter>,
    /// The consumer's wake-up pipe: a security refusal noted on the event
    /// thread wakes a poll waiting on it, which returns the refusal.
    pub(super) wake: Arc<WakePipe>,
}

// librdkafka's log lines, errors and statistics for a consumer arrive on
// the consumer's event thread (its main queue is no longer forwarded to
// the consumer queue), so they do not wait for the application's poll.
impl EventSink for Context {
    fn log(&self, syslog_level: i32, facility: &str, message: &str) {
        if !self.silenced.load(Ordering::Acquire) {
            logging::forward_librdkafka_log(self.source(), syslog_level, facility, message);
        }
    }

    fn error(&self, code: RDKafkaErrorCode, reason: &str) {
        let error = RdKafkaError::Global(code);
        if self.security.note(&error, reason) {
            self.wake.wake();
        }
        if !self.silenced.load(Ordering::Acquire) {
            logging::forward_librdkafka_error(self.source(), &error, reason);
        }
    }

    fn statistics(&self, json: &str) {
        if let Some(reporter) = &self.statistics {
            if !self.silenced.load(Ordering::Acquire) {
                reporter.offer(json);
            }
        }
    }
}

pub(super) fn code_of(e: &RdKafkaError) -> RDKafkaErrorCode {
    e.rdkafka_error_code().unwrap_or(RDKafkaErrorCode::Unknown)
}

/// Logs the stores librdkafka refused: the messages stay uncommitted and
/// are consumed again by the partition's next owner.
pub(super) fn log_refused(refused: &[(Position, RDKafkaErrorCode)]) {
    for (p, code) in refused {
        logging::log(
            Level::Warning,
            "kafka_instance.consumer.store",
            SUBJECT,
            &format!(
                "offset {} of {:?} partition {} not stored ({code}): the partition is no \
                 longer assigned to this consumer, so its messages from there on will be \
                 consumed again by its new owner",
                p.next,
                p.topic.as_str(),
                p.partition
            ),
            Some(json!({
                "topic": p.topic.as_str(),
                "partition": p.partition,
                "offset": p.next,
            })),
        );
    }
}

/// Commits librdkafka's stored offsets (after storing what is done) and
/// waits up to `default.api.timeout.ms`. Nothing to commit is success.
/// (Commits not waited for go through [`Consumer::start_commit`].)
pub(super) fn commit_stored(consumer: &BaseConsumer<Context>) -> Result<()> {
    let context = consumer.context();
    let refused = context.store_done(consumer, None);
    log_refused(&refused);
    let deadline = Instant::now() + context.api_timeout;
    // Both, whatever the first did: a partition whose explicit commit
    // fails must not hold back the others'. The first failure is returned.
    let rewound = context.commit_rewound(consumer, context.api_timeout);
    let left = deadline.saturating_duration_since(Instant::now());
    let stored = commit_within(consumer, None, left);
    rewound.and(stored)
}

/// [`sys::commit_within`] as a `Result`: nothing to commit is success,
/// no answer in time is [`ErrorKind::Timeout`].
pub(super) fn commit_within(
    consumer: &BaseConsumer<Context>,
    offsets: Option<&[(&str, i32, i64)]>,
    timeout: Duration,
) -> Result<()> {
    match sys::commit_within(consumer, offsets, timeout) {
        Ok(()) | Err(CommitFailure::Refused(RDKafkaErrorCode::NoOffset)) => Ok(()),
        Err(CommitFailure::Refused(code)) => {
            Err(Error::from_rdkafka_code(code, "committing offsets"))
        }
        Err(CommitFailure::TimedOut) => Err(Error::new(
            ErrorKind::Timeout,
            format!(
                "committing offsets: no answer within {} ms (default_api_timeout_ms): the group \
                 coordinator is unreachable; the commit may still complete later",
                timeout.as_millis()
            ),
        )),
    }
}

impl ClientContext for Context {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, message: &str) {
        if !self.silenced.load(Ordering::Acquire) {
            logging::forward_librdkafka_log(self.source(), level as i32, fac, message);
        }
    }

    fn error(&self, error: RdKafkaError, reason: &str) {
        self.security.note(&error, reason);
        if !self.silenced.load(Ordering::Acquire) {
            logging::forward_librdkafka_error(self.source(), &error, reason);
        }
    }
}

impl ConsumerContext for Context {
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let partitions = match rebalance {
            Rebalance::Revoke(partitions) => partitions,
            Rebalance::Assign(partitions) => {
                // Before librdkafka starts them: a seek from the hook sets
                // where each starts (see `starts`).
                self.starts.open(partitions);
                self.tell_rebalance(RebalanceEvent::Assigned, partitions);
                self.starts.apply(partitions);
                return;
            }
            Rebalance::Error(_) => return,
        };
        if self.silenced.load(Ordering::Acquire) {
            self.forget(partitions);
            return;
        }
        if consumer.assignment_lost() {
            // The group moved on without us: a commit would be refused.
            self.tell_rebalance(RebalanceEvent::Lost, partitions);
            let n = self.forget(partitions);
            logging::log(
                Level::Warning,
                "kafka_instance.consumer.rebalance",
                SUBJECT,
                &format!(
                    "{} partition(s) lost (session timed out or fenced): {n} uncommitted \
                     position(s) dropped; their messages will be consumed again by the new owner",
                    partitions.count()
                ),
                None,
            );
            return;
        }
        self.tell_rebalance(RebalanceEvent::Revoked, partitions);
        if !self.commit_on_revoke || self.closing.load(Ordering::Acquire) {
            self.forget(partitions);
            return;
        }
        let committed = commit_stored(consumer);
        // Theirs no more: a later commit must not carry their positions.
        self.rewound
            .forget(|t, p| partitions.find_partition(t, p).is_some());
        if let Err(e) = committed {
            logging::log(
                Level::Error,
                "kafka_instance.consumer.rebalance",
                SUBJECT,
                &format!(
                    "committing before {} partition(s) were revoked failed: {}; messages \
                     processed since the last commit will be consumed again by their new owner",
                    partitions.count(),
                    e.message
                ),
                Some(json!({ "rdkafka_code": e.rdkafka_code, "retriable": e.retriable })),
            );
        }
    }

    fn post_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(_) = rebalance {
            // Paused from the hook before librdkafka had them.
            let paused = self.starts.take_paused();
            if !paused.is_empty() {
                let mut tpl = TopicPartitionList::with_capacity(paused.len());
                for (t, p) in &paused {
                    tpl.add_partition(t, *p);
                }
                if let Err(e) = consumer.pause(&tpl) {
                    logging::log(
                        Level::Error,
                        "kafka_instance.consumer.rebalance",
                        SUBJECT,
                        &format!(
                            "pausing {} partition(s) the rebalance callback paused: {e}",
                            paused.len()
                        ),
                        None,
                    );
                }
            }
        }
        if logging::enabled(Level::Info) && !self.silenced.load(Ordering::Acquire) {
            logging::log(
                Level::Info,
                "kafka_instance.consumer.rebalance",
                SUBJECT,
                &format!("rebalance: {rebalance:?}"),
                None,
            );
        }
    }
}

pub(super) fn log_auto_commit_failure(why: &str, rdkafka_code: i32, partitions: usize) {
    logging::log(
        Level::Warning,
        "kafka_instance.consumer.auto_commit",
        SUBJECT,
        &format!(
            "automatic commit of {partitions} partition(s) failed: {why}; it is retried at the \
             next interval, and close commits synchronously"
        ),
        Some(json!({ "rdkafka_code": rdkafka_code })),
    );
}

/// What the polling side keeps between calls, and the offsets marked
/// done, under one lock (the hot path takes it twice per poll).
pub(super) struct PollState {
    /// Offsets the application is done with, not yet in librdkafka's store.
    pub(super) done: Vec<Position>,
    /// The last topic name seen, shared by its messages.
    pub(super) last_topic: Option<Arc<NulText>>,
    /// An error met after a batch already had messages, for the next poll.
    pub(super) deferred: Option<Error>,
    /// Handed out by the last poll or batch; done when the application
    /// comes back.
    pub(super) handed: Vec<Position>,
    /// When auto-commit last ran ([`sys::coarse_now`]).
    pub(super) last_commit: Duration,
}

impl Context {
    /// This client, for the log records it repeats.
    pub(super) fn source(&self) -> usize {
        self.source
    }

    /// Runs the application's rebalance hook, if any (not once the client
    /// is being released: it runs no user code then).
    pub(super) fn tell_rebalance(&self, event: RebalanceEvent, partitions: &TopicPartitionList) {
        if self.silenced.load(Ordering::Acquire) {
            return;
        }
        let hook = self
            .rebalance
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        let Some(hook) = hook else {
            return;
        };
        let list: Vec<PartitionOffset> = partitions
            .elements()
            .iter()
            .map(|e| PartitionOffset {
                topic: e.topic().to_owned(),
                partition: e.partition(),
                offset: None,
            })
            .collect();
        self.in_rebalance.store(true, Ordering::Release);
        // A panicking hook must not unwind through librdkafka.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| hook(event, list)));
        self.in_rebalance.store(false, Ordering::Release);
    }

    pub(super) fn shared(&self) -> MutexGuard<'_, PollState> {
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Marks `also` done (when given), then hands every offset marked done
    /// to librdkafka's store. Returns the positions librdkafka refused
    /// (their partitions are no longer assigned) with its reason.
    pub(super) fn store_done(
        &self,
        consumer: &BaseConsumer<Context>,
        also: Option<Position>,
    ) -> Vec<(Position, RDKafkaErrorCode)> {
        let mut shared = self.shared();
        let done = &mut shared.done;
        if let Some(p) = also {
            mark(done, p);
        }
        if done.is_empty() {
            return Vec::new();
        }
        let mut tpl = TopicPartitionList::with_capacity(done.len());
        for p in done.iter() {
            // Topic names come from librdkafka and hold no NUL.
            let topic = p.topic.as_str();
            let _ = tpl.add_partition_offset(topic, p.partition, Offset::Offset(p.next));
        }
        // librdkafka's store takes no callback and logs nothing: holding
        // the lock here keeps concurrent stores in order.
        let refused: Vec<(Position, RDKafkaErrorCode)> = match consumer.store_offsets(&tpl) {
            Ok(()) => tpl
                .elements()
                .iter()
                .zip(done.iter())
                .filter_map(|(e, p)| e.error().err().map(|err| (p.clone(), code_of(&err))))
                .collect(),
            Err(e) => done.iter().map(|p| (p.clone(), code_of(&e))).collect(),
        };
        for p in done.iter() {
            let same = |r: &(Position, RDKafkaErrorCode)| {
                r.0.partition == p.partition && r.0.topic == p.topic
            };
            if !refused.iter().any(same) {
                let topic = p.topic.as_str();
                self.rewound.stored(topic, p.partition, p.next);
            }
        }
        done.clear();
        refused
    }

    /// Commits explicitly, within `timeout`, the positions of partitions
    /// sought since their last commit (see `rewind`).
    pub(super) fn commit_rewound(
        &self,
        consumer: &BaseConsumer<Context>,
        timeout: Duration,
    ) -> Result<()> {
        let offsets = self.rewound.take();
        if offsets.is_empty() {
            return Ok(());
        }
        let result = commit_within(consumer, Some(&rewind::borrowed(&offsets)), timeout);
        match &result {
            Ok(()) => self.rewound.committed(&offsets),
            Err(_) => self.rewound.failed(&offsets),
        }
        result
    }

    /// Forgets what was marked done in `partitions` (lost, or revoked
    /// without a commit); returns how many positions that was.
    pub(super) fn forget(&self, partitions: &TopicPartitionList) -> usize {
        let mut shared = self.shared();
        let done = &mut shared.done;
        let before = done.len();
        done.retain(|p| {
            let topic = p.topic.as_str();
            partitions.find_partition(topic, p.partition).is_none()
        });
        self.rewound
            .forget(|t, p| partitions.find_partition(t, p).is_some());
        before - done.len()
    }
}

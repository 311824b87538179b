//! The producer's librdkafka context and what it shares with the
//! producer: delivery reports (a callback, a waiting `send_sync`, or a
//! tracked report kept for `take_reports`), in-flight counts, and the waits
//! for room and for idleness.

use super::*;

/// What to do when a message's outcome is known.
pub(super) enum Notify {
    Nothing,
    Call(OnDelivery),
    Wake(Arc<SyncSlot>),
    /// Queue the outcome, tagged, for [`Producer::take_reports`].
    Track(u64),
}

/// The meeting point of an acknowledged send and the polling thread.
#[derive(Default)]
pub(super) struct SyncSlot {
    pub(super) outcome: Mutex<Option<Result<Delivered>>>,
    pub(super) ready: Condvar,
}

/// Shared between the producer handle and its polling thread's context.
pub(super) struct Shared {
    /// The last answer about missing topics, and when it came (see
    /// `missing`).
    pub(super) asked: Mutex<Option<(Instant, Vec<String>)>>,
    /// Messages queued and not yet notified.
    pub(super) pending: AtomicUsize,
    pub(super) idle_lock: Mutex<()>,
    pub(super) idle: Condvar,
    /// Signalled at each notification while a send waits for room.
    pub(super) room: Condvar,
    /// Sends waiting for room in a full queue.
    pub(super) waiting_for_room: AtomicUsize,
    /// An authentication or TLS failure since the last delivery.
    pub(super) security: SecurityFailure,
    /// `close` has begun: no more sends.
    pub(super) closing: AtomicBool,
    /// The producer is being released: librdkafka's last log lines are
    /// dropped instead of running user code that could reach the handle
    /// being freed. Nothing is pending by then.
    pub(super) silenced: AtomicBool,
    /// Outcomes of tracked sends not yet taken, oldest first.
    pub(super) tracked: Mutex<std::collections::VecDeque<Tracked>>,
    pub(super) tracked_ready: Condvar,
}

/// Marks the current thread as serving a producer until dropped.
pub(super) struct Serving(*const Shared);

impl Serving {
    fn begin(shared: &Shared) -> Serving {
        Serving(SERVING.with(|s| s.replace(shared)))
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        SERVING.with(|s| s.set(self.0));
    }
}

/// The rust-rdkafka context: delivery reports and librdkafka's log lines.
pub(super) struct Context {
    /// This client, for the log records it repeats.
    pub(super) source: usize,
    pub(super) shared: Arc<Shared>,
    /// The error last handed to `error`, to drop its repeat: rust-rdkafka
    /// 0.39 hands every producer error event to the context twice (once in
    /// `Client::poll_event`, once in `BaseProducer::poll`), back to back on
    /// the polling thread.
    pub(super) repeat: Mutex<Option<(Option<RDKafkaErrorCode>, String)>>,
    /// Hands each statistics report to the callback, on its own thread.
    pub(super) statistics: Option<Reporter>,
}

impl Context {
    /// This client, for the log records it repeats.
    pub(super) fn source(&self) -> usize {
        self.source
    }
}

impl ClientContext for Context {
    // rust-rdkafka serves librdkafka's log lines and errors on the polling
    // thread: logging them runs the user's log callback, which may call
    // back in, so the thread is marked as serving this producer.
    fn log(&self, level: RDKafkaLogLevel, fac: &str, message: &str) {
        if self.shared.silenced.load(Ordering::Acquire) {
            return;
        }
        let _serving = Serving::begin(&self.shared);
        logging::forward_librdkafka_log(self.source(), level as i32, fac, message);
    }

    fn stats_raw(&self, statistics: &[u8]) {
        let Some(reporter) = &self.statistics else {
            return;
        };
        if self.shared.silenced.load(Ordering::Acquire) {
            return;
        }
        // Never the callback itself here: a slow one would hold delivery
        // reports behind it (see `statistics::Reporter`).
        reporter.offer(&String::from_utf8_lossy(statistics));
    }

    fn error(&self, error: RdKafkaError, reason: &str) {
        if self.shared.silenced.load(Ordering::Acquire) {
            return;
        }
        let _serving = Serving::begin(&self.shared);
        let this = (error.rdkafka_error_code(), reason.to_owned());
        {
            let mut last = self.repeat.lock().unwrap_or_else(|e| e.into_inner());
            if last.as_ref() == Some(&this) {
                *last = None;
                return;
            }
            *last = Some(this);
        }
        self.shared.security.note(&error, reason);
        logging::forward_librdkafka_error(self.source(), &error, reason);
    }
}

impl ProducerContext for Context {
    type DeliveryOpaque = Note<Notify>;

    fn delivery(&self, result: &DeliveryResult<'_>, note: Note<Notify>) {
        let _serving = Serving::begin(&self.shared);
        if result.is_ok() {
            self.shared.security.clear();
        }
        let notify = match note {
            // A tracked send's tag: the common case of bulk senders, kept
            // to a push on the queue of outcomes.
            Note::Tag(tag) => {
                self.track(tag, Delivery::outcome(result));
                self.shared.reported();
                return;
            }
            Note::Shared(notify) => notify,
        };
        // Delivered, and nobody asked to hear of it (a plain send): the
        // common case, kept short.
        let counted = match (result.is_ok(), &*notify) {
            (true, Notify::Nothing) => false,
            (_, to) => self.tell(&Delivery::of(result), to),
        };
        drop(notify);
        if !counted {
            self.shared.reported();
        }
    }
}

impl Context {
    /// Keeps a tracked send's outcome for [`Producer::take_reports`].
    pub(super) fn track(&self, tag: u64, outcome: std::result::Result<Delivered, TrackedFailure>) {
        let mut queue = self
            .shared
            .tracked
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        // Takers wait only while the queue is empty: one wake-up when it
        // stops being empty, not a system call per message.
        let was_empty = queue.is_empty();
        queue.push_back(Tracked { tag, outcome });
        drop(queue);
        if was_empty {
            self.shared.tracked_ready.notify_all();
        }
    }

    /// Gives a delivery to whoever asked for it. True when this counted
    /// the message out itself: before an acknowledged send's waiter wakes,
    /// so that once it returns, its message is no longer in flight.
    pub(super) fn tell(&self, delivery: &Delivery<'_>, to: &Notify) -> bool {
        match to {
            Notify::Nothing => {
                if let Some(e) = &delivery.error {
                    // Nobody else will hear of it: never lose a failure
                    // silently.
                    logging::log(
                        Level::Error,
                        "kafka_instance.producer.delivery",
                        SUBJECT,
                        &format!(
                            "message to {:?} not delivered: {}",
                            delivery.topic, e.message
                        ),
                        Some(json!({ "topic": delivery.topic, "rdkafka_code": e.rdkafka_code })),
                    );
                }
                false
            }
            Notify::Call(f) => {
                // A panicking callback must not take the polling thread down.
                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(delivery)));
                false
            }
            Notify::Track(tag) => {
                let outcome = match &delivery.error {
                    None => Ok(Delivered {
                        partition: delivery.partition,
                        offset: delivery.offset,
                        timestamp_ms: delivery.timestamp_ms,
                    }),
                    Some(e) => Err(TrackedFailure {
                        kind: e.kind,
                        rdkafka_code: e.rdkafka_code,
                    }),
                };
                self.track(*tag, outcome);
                false
            }
            Notify::Wake(slot) => {
                let outcome = match &delivery.error {
                    None => Ok(Delivered {
                        partition: delivery.partition,
                        offset: delivery.offset,
                        timestamp_ms: delivery.timestamp_ms,
                    }),
                    Some(e) => Err(e.clone()),
                };
                self.shared.reported();
                *slot.outcome.lock().unwrap_or_else(|e| e.into_inner()) = Some(outcome);
                slot.ready.notify_all();
                true
            }
        }
    }
}

impl<'a> Delivery<'a> {
    /// The outcome librdkafka reported for one message.
    pub(super) fn of(result: &'a DeliveryResult<'_>) -> Self {
        let (message, error) = match result {
            Ok(m) => (m, None),
            Err((e, m)) => (m, Some(Error::from_rdkafka(e, "delivering a message"))),
        };
        Delivery {
            topic: message.topic(),
            partition: message.partition().max(-1),
            offset: if error.is_none() && message.offset() >= 0 {
                message.offset()
            } else {
                -1
            },
            timestamp_ms: timestamp_ms(message),
            error,
        }
    }

    /// The same outcome as a tracked send keeps it, without the topic's
    /// name (or a message, unless it failed).
    pub(super) fn outcome(
        result: &DeliveryResult<'_>,
    ) -> std::result::Result<Delivered, TrackedFailure> {
        match result {
            Ok(m) => Ok(Delivered {
                partition: m.partition().max(-1),
                offset: if m.offset() >= 0 { m.offset() } else { -1 },
                timestamp_ms: timestamp_ms(m),
            }),
            Err((e, _)) => {
                let e = Error::from_rdkafka(e, "delivering a message");
                Err(TrackedFailure {
                    kind: e.kind,
                    rdkafka_code: e.rdkafka_code,
                })
            }
        }
    }
}

/// A message's timestamp in milliseconds since the epoch, -1 when unknown.
pub(super) fn timestamp_ms(message: &impl Message) -> i64 {
    match message.timestamp() {
        Timestamp::CreateTime(t) | Timestamp::LogAppendTime(t) => t,
        Timestamp::NotAvailable => -1,
    }
}

impl Shared {
    /// One queued message has had its notification.
    pub(super) fn reported(&self) {
        let before = self.pending.fetch_sub(1, Ordering::AcqRel);
        let idle = before == 1;
        // A send waiting for room looks again every 1 ms anyway, and room
        // comes a batch of notifications at a time: a wake-up every 64
        // messages spares a system call per message.
        let waiting = before % 64 == 0 && self.waiting_for_room.load(Ordering::Acquire) > 0;
        if idle || waiting {
            let _guard = self.idle_lock.lock().unwrap_or_else(|e| e.into_inner());
            if idle {
                self.idle.notify_all();
            }
            if waiting {
                self.room.notify_all();
            }
        }
    }

    /// Waits until a notification may have freed room in the queue, or at
    /// most until `deadline`, and never more than 1 ms: librdkafka frees a
    /// message's room only after the whole batch of notifications it came
    /// with, so the last one of a batch comes a little before the room.
    pub(super) fn wait_for_room(&self, deadline: Instant) {
        let guard = self.idle_lock.lock().unwrap_or_else(|e| e.into_inner());
        let wait = deadline
            .saturating_duration_since(Instant::now())
            .min(Duration::from_millis(1));
        let _ = self.room.wait_timeout(guard, wait);
    }

    /// [`ErrorKind::State`] when this thread is serving this producer's
    /// notifications: waiting for them here would wait for ourselves.
    pub(super) fn refuse_wait_in_callback(&self, what: &str) -> Result<()> {
        let owner = self as *const Shared as usize;
        if std::ptr::eq(SERVING.with(Cell::get), self) || statistics::serving(owner) {
            return Err(Error::state(format!(
                "{what} was called inside a delivery, log or statistics callback of the same producer, \
                 whose thread would wait for itself: call it from another thread, or after \
                 the callback returned"
            )));
        }
        Ok(())
    }

    /// Waits until no message is pending or `deadline` passes; whether none
    /// is pending.
    pub(super) fn wait_idle(&self, deadline: Option<Instant>) -> bool {
        let guard = self.idle_lock.lock().unwrap_or_else(|e| e.into_inner());
        wait_until(&self.idle, guard, deadline, |_| {
            (self.pending.load(Ordering::Acquire) == 0).then_some(())
        })
        .is_some()
    }
}

/// Waits on `ready` (with `guard` of its mutex) until `done` gives an
/// answer or `deadline` passes (`None`). Wakes at least every 100 ms to
/// look again, so a missed notification costs at most that.
pub(super) fn wait_until<T, R>(
    ready: &Condvar,
    mut guard: MutexGuard<'_, T>,
    deadline: Option<Instant>,
    mut done: impl FnMut(&mut T) -> Option<R>,
) -> Option<R> {
    loop {
        if let Some(answer) = done(&mut guard) {
            return Some(answer);
        }
        let wait = match remaining(deadline) {
            Some(left) if left.is_zero() => return None,
            Some(left) => left.min(Duration::from_millis(100)),
            None => Duration::from_millis(100),
        };
        guard = ready
            .wait_timeout(guard, wait)
            .unwrap_or_else(|e| e.into_inner())
            .0;
    }
}

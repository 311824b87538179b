//! Queueing messages into librdkafka: one, a run of tracked ones, with or
//! without waiting for room, through a topic handle kept per run; and the
//! packed records of language bindings.

use super::*;

/// What queues messages into librdkafka: shared by the producer and the
/// thread that sends what was handed over to it.
pub(super) struct Queueing {
    pub(super) inner: Arc<ThreadedProducer<Context>>,
    pub(super) shared: Arc<Shared>,
    pub(super) origin: Origin,
    pub(super) handover: handover::Handover,
}

impl Queueing {
    /// Sends `records` in order, each tracked with `first_tag` + its
    /// index, waiting up to `timeout` in all for room when the queue is
    /// full. Stops at the first record that cannot be queued: returns how
    /// many were queued before it, and its error (`None` when all were).
    pub(super) fn send_tracked_all(
        &self,
        records: &[Record<'_>],
        first_tag: u64,
        timeout: Duration,
    ) -> (usize, Option<Error>) {
        if !timeout.is_zero() {
            if let Err(e) = self
                .shared
                .refuse_wait_in_callback("a send that waits for room")
            {
                return (0, Some(e));
            }
        }
        let deadline = deadline_after(timeout);
        // One handle per run of records to the same topic: no lookup of
        // its name per message.
        let mut handle: Option<(&str, Option<TopicHandle>)> = None;
        for (i, record) in records.iter().enumerate() {
            if handle.as_ref().is_none_or(|(t, _)| *t != record.topic) {
                if let Err(e) = topic::validate(record.topic) {
                    return (i, Some(e));
                }
                handle = Some((
                    record.topic,
                    TopicHandle::new(self.inner.client(), record.topic),
                ));
            }
            let fast = handle.as_ref().and_then(|(_, h)| h.as_ref());
            let note = tracked(first_tag.wrapping_add(i as u64));
            if let Err(e) = self.enqueue_waiting(record, note, fast, deadline, timeout, None) {
                return (i, Some(e));
            }
        }
        (records.len(), None)
    }

    /// Queues `record`, waiting until `deadline` for room in a full
    /// queue (`timeout` is what the caller asked, for the message).
    /// `handed_over`: the record was counted in flight at its hand-over
    /// (when this many purges had been made), and is queued even while
    /// the producer closes, unless purged or abandoned meanwhile.
    pub(super) fn enqueue_waiting(
        &self,
        record: &Record<'_>,
        notify: Note<Notify>,
        topic: Option<&TopicHandle>,
        deadline: Instant,
        timeout: Duration,
        handed_over: Option<u64>,
    ) -> Result<()> {
        loop {
            let queued = match handed_over {
                // Checked before every attempt, the one after a wait for
                // room too: a purge is what makes room.
                Some(purges) => self
                    .handover
                    .unless_gone(purges, || self.produce(record, notify.clone(), topic))
                    .unwrap_or_else(|| Err(self.abandoned_error(record.topic))),
                None => self.enqueue(record, notify.clone(), topic),
            };
            match queued {
                // Not waiting at all: the full queue itself is the answer.
                Err(e) if e.kind == ErrorKind::QueueFull && timeout.is_zero() => return Err(e),
                Err(e) if e.kind == ErrorKind::QueueFull => {}
                other => return other,
            }
            if Instant::now() >= deadline {
                return Err(Error::new(
                    ErrorKind::Timeout,
                    format!(
                        "no room in the local queue for the message to {:?} within {} ms \
                         (queue.buffering.max.messages / queue.buffering.max.kbytes); it was \
                         not queued",
                        record.topic,
                        timeout.as_millis()
                    ),
                ));
            }
            self.shared.waiting_for_room.fetch_add(1, Ordering::AcqRel);
            self.shared.wait_for_room(deadline);
            self.shared.waiting_for_room.fetch_sub(1, Ordering::AcqRel);
        }
    }

    /// [`ErrorKind::State`] once `close` has begun.
    pub(super) fn refuse_when_closing(&self) -> Result<()> {
        if self.shared.closing.load(Ordering::Acquire) {
            return Err(Error::state(
                "the producer is closing: nothing more can be sent",
            ));
        }
        Ok(())
    }

    /// Queues `record`, counted in flight until its report. `topic`: the
    /// handle of its topic, already checked, for a record with neither
    /// headers nor a timestamp.
    pub(super) fn enqueue(
        &self,
        record: &Record<'_>,
        notify: Note<Notify>,
        topic: Option<&TopicHandle>,
    ) -> Result<()> {
        self.origin.check("producer")?;
        self.refuse_when_closing()?;
        // Counted before librdkafka can report it, so the count never dips
        // below the truth.
        self.shared.pending.fetch_add(1, Ordering::AcqRel);
        let queued = self.produce(record, notify, topic);
        if queued.is_err() {
            // Not queued: no report will come.
            self.shared.pending.fetch_sub(1, Ordering::AcqRel);
        }
        queued
    }

    /// Hands `record` to librdkafka (see [`enqueue`](Self::enqueue)),
    /// counting nothing.
    pub(super) fn produce(
        &self,
        record: &Record<'_>,
        notify: Note<Notify>,
        topic: Option<&TopicHandle>,
    ) -> Result<()> {
        if let Some(handle) = topic.filter(|_| record.headers.is_empty()) {
            if record.timestamp_ms.is_none() {
                return self.produce_to(handle, record, notify);
            }
        }
        topic::validate(record.topic)?;
        let mut base: BaseRecord<'_, [u8], [u8], Note<Notify>> =
            BaseRecord::with_opaque_to(record.topic, notify);
        if let Some(key) = record.key {
            base = base.key(key);
        }
        if let Some(value) = record.value {
            base = base.payload(value);
        }
        if let Some(p) = record.partition {
            if p < 0 {
                return Err(Error::invalid_argument(format!(
                    "partition must be at least 0, not {p}"
                )));
            }
            base = base.partition(p);
        }
        if let Some(ts) = record.timestamp_ms {
            if ts < 0 {
                return Err(Error::invalid_argument(format!(
                    "timestamp_ms must be at least 0 (0 is now), not {ts}"
                )));
            }
            base = base.timestamp(ts);
        }
        if !record.headers.is_empty() {
            let mut headers = OwnedHeaders::new_with_capacity(record.headers.len());
            for (key, value) in record.headers {
                headers = headers.insert(Header { key, value: *value });
            }
            base = base.headers(headers);
        }
        // Not queued: dropping the record releases its notification;
        // nobody is waiting on it.
        self.inner.send(base).map_err(|(e, _record)| {
            failure(
                &self.inner,
                &e,
                &format!("queueing a message to {:?}", record.topic),
            )
        })
    }

    /// [`produce`](Self::produce) of a record without headers or a
    /// timestamp, through its topic's handle.
    pub(super) fn produce_to(
        &self,
        handle: &TopicHandle,
        record: &Record<'_>,
        notify: Note<Notify>,
    ) -> Result<()> {
        let partition = match record.partition {
            None => -1,
            Some(p) if p >= 0 => p,
            Some(p) => {
                return Err(Error::invalid_argument(format!(
                    "partition must be at least 0, not {p}"
                )))
            }
        };
        handle
            .produce(partition, record.key, record.value, notify)
            .map_err(|code| {
                let e = RdKafkaError::MessageProduction(code);
                failure(
                    &self.inner,
                    &e,
                    &format!("queueing a message to {:?}", record.topic),
                )
            })
    }
}

/// librdkafka's error `e` while doing `what`; when it is the producer's
/// fatal error (librdkafka's sends then say only "fatal error"), that
/// error with its reason.
pub(super) fn failure(inner: &ThreadedProducer<Context>, e: &RdKafkaError, what: &str) -> Error {
    let err = Error::from_rdkafka(e, what);
    match transaction::fatal_error_of(inner).filter(|_| err.fatal) {
        Some(fatal) => fatal.context(what),
        None => err,
    }
}

/// The records of a packed buffer: `data` holds each record's key then
/// value, back to back; `lengths` their lengths, two per record (-1: none).
/// [`ErrorKind::InvalidArgument`] when they do not add up to `data`.
pub fn unpack<'a>(topic: &'a str, data: &'a [u8], lengths: &[i64]) -> Result<Vec<Record<'a>>> {
    let mut records = Vec::with_capacity(lengths.len() / 2);
    walk_packed(data, lengths, |key, value| {
        records.push(Record {
            topic,
            key,
            value,
            ..Record::default()
        })
    })?;
    Ok(records)
}

/// Checks a packed buffer (see [`unpack`]), handing each record's key and
/// value to `each`; how many records it holds.
pub(super) fn walk_packed<'a>(
    data: &'a [u8],
    lengths: &[i64],
    mut each: impl FnMut(Option<&'a [u8]>, Option<&'a [u8]>),
) -> Result<usize> {
    if lengths.len() % 2 != 0 {
        return Err(Error::invalid_argument(format!(
            "lengths holds {} numbers: two per record (key, value) are needed",
            lengths.len()
        )));
    }
    let mut at = 0usize;
    let mut take = |len: i64, what: &str, i: usize| -> Result<Option<&'a [u8]>> {
        match len {
            -1 => return Ok(None),
            ..=-2 => {
                return Err(Error::invalid_argument(format!(
                    "record {i}: its {what} length is {len}: a length is 0 or more, or -1 for none"
                )))
            }
            _ => {}
        }
        let end = usize::try_from(len)
            .ok()
            .and_then(|len| at.checked_add(len))
            .filter(|&end| end <= data.len())
            .ok_or_else(|| {
                Error::invalid_argument(format!(
                    "record {i}: its {what} ({len} bytes) runs past the end of data ({} bytes)",
                    data.len()
                ))
            })?;
        let bytes = &data[at..end];
        at = end;
        Ok(Some(bytes))
    };
    for (i, pair) in lengths.chunks_exact(2).enumerate() {
        let key = take(pair[0], "key", i)?;
        let value = take(pair[1], "value", i)?;
        each(key, value);
    }
    if at != data.len() {
        return Err(Error::invalid_argument(format!(
            "the lengths add up to {at} bytes, data has {}",
            data.len()
        )));
    }
    Ok(lengths.len() / 2)
}

/// When a wait of `timeout` from now ends; a timeout too long for the
/// clock (`Duration::MAX`: no limit) gives a deadline far enough never to
/// come.
pub(super) fn deadline_after(timeout: Duration) -> Instant {
    Instant::now()
        .checked_add(timeout)
        .unwrap_or_else(|| Instant::now() + Duration::from_secs(100 * 365 * 86400))
}

/// A tracked send's note: its tag, without an allocation when it fits.
pub(super) fn tracked(tag: u64) -> Note<Notify> {
    Note::tag(tag, || Arc::new(Notify::Track(tag)))
}

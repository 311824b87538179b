//! Consumer control: subscriptions, manual assignment, seeks, pauses,
//! positions, committed offsets, watermarks and lag.
//!
//! With the offset rule (see the parent module): a seek or an unassign
//! forgets what was handed out or marked done on those partitions and not
//! yet stored, so a later commit never commits a position the application
//! moved away from; a partition's committed offset moves again once
//! messages from its new position are done.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use rdkafka::consumer::{Consumer as _, ConsumerGroupMetadata};
use rdkafka::error::KafkaError as RdKafkaError;
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use rdkafka::util::Timeout;

use super::{commit_within, Consumer, PollGuard, Position};
use crate::error::{Error, Result};
use crate::topic;

/// Where a partition starts, or moves to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// This offset.
    At(i64),
    /// The oldest message still in the log.
    Beginning,
    /// After the newest message (only what comes next).
    End,
    /// The group's committed offset (`auto_offset_reset` when none).
    Committed,
}

/// A partition and an offset: an input (where to start, what to commit)
/// or an answer (a position, a committed offset; `None`: none yet).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionOffset {
    pub topic: String,
    pub partition: i32,
    pub offset: Option<i64>,
}

/// How far behind a consumer is on one partition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lag {
    pub topic: String,
    pub partition: i32,
    pub low: i64,
    pub high: i64,
    /// The next offset the application will be handed (`None`: nothing
    /// consumed yet in this assignment).
    pub position: Option<i64>,
    /// The group's committed offset (`None`: none).
    pub committed: Option<i64>,
}

impl Lag {
    /// Messages not yet handed to the application: the high watermark
    /// minus the position (from the committed offset, or the low
    /// watermark, before anything was consumed).
    pub fn behind(&self) -> i64 {
        let from = self.position.or(self.committed).unwrap_or(self.low);
        (self.high - from).max(0)
    }

    /// Messages not yet committed: the high watermark minus the committed
    /// offset (minus the low watermark when nothing is committed).
    pub fn uncommitted(&self) -> i64 {
        (self.high - self.committed.unwrap_or(self.low)).max(0)
    }
}

fn offset_of(start: Start) -> Offset {
    match start {
        Start::At(n) => Offset::Offset(n),
        Start::Beginning => Offset::Beginning,
        Start::End => Offset::End,
        Start::Committed => Offset::Stored,
    }
}

fn answer(offset: Offset) -> Option<i64> {
    match offset {
        Offset::Offset(n) if n >= 0 => Some(n),
        _ => None,
    }
}

/// Refuses an invalid topic name, a negative partition or a negative
/// offset.
fn check(t: &str, partition: i32, start: Start) -> Result<()> {
    topic::validate(t)?;
    if partition < 0 {
        return Err(Error::invalid_argument(format!(
            "partition must be at least 0, not {partition} ({t:?})"
        )));
    }
    match start {
        Start::At(n) if n < 0 => Err(Error::invalid_argument(format!(
            "offset {n} of {t:?} partition {partition}: use an offset of 0 or more, \
             or the beginning, end or committed offset"
        ))),
        _ => Ok(()),
    }
}

/// A list to commit: not empty, each entry a valid partition with an
/// offset of 0 or more.
pub(super) fn check_offsets(offsets: &[(&str, i32, i64)]) -> Result<()> {
    if offsets.is_empty() {
        return Err(Error::invalid_argument("the offset list is empty"));
    }
    offsets
        .iter()
        .try_for_each(|&(t, partition, offset)| check(t, partition, Start::At(offset)))
}

fn list(partitions: &[(&str, i32, Start)]) -> Result<TopicPartitionList> {
    let mut tpl = TopicPartitionList::with_capacity(partitions.len());
    for &(t, partition, start) in partitions {
        check(t, partition, start)?;
        tpl.add_partition_offset(t, partition, offset_of(start))
            .map_err(|e| Error::from_rdkafka(&e, "building a partition list"))?;
    }
    Ok(tpl)
}

fn answers(tpl: &TopicPartitionList) -> Vec<PartitionOffset> {
    tpl.elements()
        .iter()
        .map(|e| PartitionOffset {
            topic: e.topic().to_owned(),
            partition: e.partition(),
            offset: answer(e.offset()),
        })
        .collect()
}

fn wait(timeout: Option<Duration>) -> Timeout {
    timeout.map_or(Timeout::Never, Timeout::After)
}

fn failed(what: &'static str) -> impl Fn(RdKafkaError) -> Error {
    move |e| Error::from_rdkafka(&e, what)
}

/// A topic or a regular expression (librdkafka's rule: a name starting
/// with `^` is a pattern).
pub(super) fn validate_subscription(t: &str) -> Result<()> {
    if t.starts_with('^') {
        if t.len() == 1 {
            return Err(Error::invalid_argument(
                "the pattern \"^\" matches no topic",
            ));
        }
        return Ok(());
    }
    topic::validate(t)
}

impl Consumer {
    /// Replaces the subscription (topics, or patterns starting with `^`).
    /// The group rebalances; partitions of topics no longer subscribed are
    /// revoked (and committed first, with auto-commit).
    pub fn subscribe(&self, topics: &[&str]) -> Result<()> {
        self.check_usable()?;
        self.check_not_rebalancing("subscribe")?;
        if topics.is_empty() {
            return Err(Error::invalid_argument(
                "the topic list is empty: use unsubscribe to leave every topic",
            ));
        }
        for t in topics {
            validate_subscription(t)?;
        }
        self.inner.subscribe(topics).map_err(failed("subscribing"))
    }

    /// Leaves every topic (the group revokes this consumer's partitions).
    ///
    /// The revocation is served here (the rebalance callback runs), up to
    /// `default_api_timeout_ms`, so that an [`assign`](Self::assign) right
    /// after is not undone by it. Messages fetched meanwhile are dropped,
    /// unhanded and uncommitted. Inside a handler it only asks: the
    /// revocation comes with the next poll.
    pub fn unsubscribe(&self) -> Result<()> {
        self.check_usable()?;
        self.check_not_rebalancing("unsubscribe")?;
        self.inner.unsubscribe();
        if self.polling.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        let _polling = PollGuard(self);
        let deadline = Instant::now() + self.inner.context().api_timeout;
        while Instant::now() < deadline && self.inner.assignment().is_ok_and(|a| a.count() > 0) {
            let _ = self.inner.poll(Duration::from_millis(20));
        }
        Ok(())
    }

    /// The topics and patterns subscribed to.
    pub fn subscription(&self) -> Result<Vec<String>> {
        self.check_usable()?;
        let tpl = self
            .inner
            .subscription()
            .map_err(failed("reading the subscription"))?;
        Ok(tpl
            .elements()
            .iter()
            .map(|e| e.topic().to_owned())
            .collect())
    }

    /// Takes these partitions, without group management (manual
    /// assignment), each from its start. Replaces any earlier assignment.
    pub fn assign(&self, partitions: &[(&str, i32, Start)]) -> Result<()> {
        self.check_usable()?;
        self.check_not_rebalancing("assign")?;
        let tpl = list(partitions)?;
        self.forget_all();
        self.inner
            .assign(&tpl)
            .map_err(failed("assigning partitions"))
    }

    /// Gives up every assigned partition.
    pub fn unassign(&self) -> Result<()> {
        self.check_usable()?;
        self.check_not_rebalancing("unassign")?;
        self.forget_all();
        self.inner
            .unassign()
            .map_err(failed("unassigning partitions"))
    }

    /// The partitions assigned now (by the group, or by [`assign`]).
    ///
    /// [`assign`]: Self::assign
    pub fn assignment(&self) -> Result<Vec<PartitionOffset>> {
        self.check_usable()?;
        let tpl = self
            .inner
            .assignment()
            .map_err(failed("reading the assignment"))?;
        Ok(answers(&tpl)
            .into_iter()
            .map(|p| PartitionOffset { offset: None, ..p })
            .collect())
    }

    /// Moves an assigned partition: the next poll returns the message at
    /// `to`. What was fetched from the old position is dropped, and what
    /// was handed out there is not committed (see the module docs).
    pub fn seek(
        &self,
        t: &str,
        partition: i32,
        to: Start,
        timeout: Option<Duration>,
    ) -> Result<()> {
        self.check_usable()?;
        check(t, partition, to)?;
        if to == Start::Committed {
            return Err(Error::invalid_argument(
                "seek takes an offset, the beginning or the end; the committed offset is where \
                 an assignment starts",
            ));
        }
        let offset = offset_of(to);
        let context = self.inner.context();
        let from = match to {
            Start::At(n) => Some(n),
            _ => None,
        };
        // From the hook, on a partition being assigned: where it starts.
        if context.starts.choose(t, partition, offset) {
            self.forget_partition(t, partition);
            context.rewound.sought(t, partition, from);
            return Ok(());
        }
        let assigned = self
            .inner
            .assignment()
            .map_err(failed("reading the assignment"))?;
        if assigned.find_partition(t, partition).is_none() {
            return Err(Error::state(format!(
                "seeking {t:?} partition {partition}: the partition is not assigned to this \
                 consumer (assign it first, or seek from the rebalance callback as it is \
                 assigned)"
            )));
        }
        self.inner
            .seek(t, partition, offset, wait(timeout))
            .map_err(|e| {
                Error::from_rdkafka(&e, &format!("seeking {t:?} partition {partition}"))
            })?;
        self.forget_partition(t, partition);
        context.rewound.sought(t, partition, from);
        Ok(())
    }

    /// Moves every assigned partition to its first message at or after
    /// `timestamp_ms` (milliseconds since the epoch); a partition without
    /// one moves to its end. Returns where each partition went.
    pub fn seek_to_time(
        &self,
        timestamp_ms: i64,
        timeout: Option<Duration>,
    ) -> Result<Vec<PartitionOffset>> {
        self.check_usable()?;
        if timestamp_ms < 0 {
            return Err(Error::invalid_argument(format!(
                "timestamp_ms must be at least 0, not {timestamp_ms}"
            )));
        }
        let assigned = self
            .inner
            .assignment()
            .map_err(failed("reading the assignment"))?;
        let mut query = TopicPartitionList::with_capacity(assigned.count());
        // From the hook: the partitions being assigned too.
        let being_assigned = self.inner.context().starts.pending();
        let held = assigned.elements();
        let held = held.iter().map(|e| (e.topic(), e.partition()));
        for (t, partition) in held.chain(being_assigned.iter().map(|(t, p)| (t.as_str(), *p))) {
            if query.find_partition(t, partition).is_none() {
                query
                    .add_partition_offset(t, partition, Offset::Offset(timestamp_ms))
                    .map_err(failed("building a partition list"))?;
            }
        }
        let found = self
            .inner
            .offsets_for_times(query, wait(timeout))
            .map_err(failed("looking up offsets for a time"))?;
        let mut moved = Vec::with_capacity(found.count());
        for e in found.elements() {
            let to = match e.offset() {
                Offset::Offset(n) if n >= 0 => Start::At(n),
                _ => Start::End,
            };
            self.seek(e.topic(), e.partition(), to, timeout)?;
            moved.push(PartitionOffset {
                topic: e.topic().to_owned(),
                partition: e.partition(),
                offset: answer(e.offset()),
            });
        }
        Ok(moved)
    }

    /// Stops fetching these partitions while keeping them (and the group
    /// membership). Messages already fetched stay and are handed out.
    pub fn pause(&self, partitions: &[(&str, i32)]) -> Result<()> {
        self.check_usable()?;
        let tpl = self.partitions_only(partitions, true)?;
        if tpl.count() == 0 {
            return Ok(());
        }
        self.inner.pause(&tpl).map_err(failed("pausing partitions"))
    }

    /// Fetches paused partitions again, from where they stopped.
    pub fn resume(&self, partitions: &[(&str, i32)]) -> Result<()> {
        self.check_usable()?;
        let tpl = self.partitions_only(partitions, false)?;
        if tpl.count() == 0 {
            return Ok(());
        }
        self.inner
            .resume(&tpl)
            .map_err(failed("resuming partitions"))
    }

    /// `partitions` as a list for librdkafka, less those being assigned
    /// from the rebalance hook: librdkafka does not know them yet, so
    /// their pause (`pause`) or resume is kept and made once they are
    /// assigned (see `starts`).
    fn partitions_only(
        &self,
        partitions: &[(&str, i32)],
        pause: bool,
    ) -> Result<TopicPartitionList> {
        let starts = &self.inner.context().starts;
        let mut with_start = Vec::with_capacity(partitions.len());
        for &(t, p) in partitions {
            check(t, p, Start::Committed)?;
            if !starts.hold(t, p, pause) {
                with_start.push((t, p, Start::Committed));
            }
        }
        list(&with_start)
    }

    /// For each assigned partition, the offset of the next message the
    /// application will be handed (`None` before the first).
    pub fn position(&self) -> Result<Vec<PartitionOffset>> {
        self.check_usable()?;
        let tpl = self.inner.position().map_err(failed("reading positions"))?;
        Ok(answers(&tpl))
    }

    /// The group's committed offset of each assigned partition, asked of
    /// the group coordinator.
    pub fn committed(&self, timeout: Option<Duration>) -> Result<Vec<PartitionOffset>> {
        self.check_usable()?;
        let tpl = self
            .inner
            .committed(wait(timeout))
            .map_err(failed("reading committed offsets"))?;
        Ok(answers(&tpl))
    }

    /// The low and high watermarks of a partition (the oldest offset and
    /// the offset the next message will get), asked of its leader.
    pub fn watermarks(
        &self,
        t: &str,
        partition: i32,
        timeout: Option<Duration>,
    ) -> Result<(i64, i64)> {
        self.check_usable()?;
        check(t, partition, Start::Committed)?;
        self.inner
            .fetch_watermarks(t, partition, wait(timeout))
            .map_err(|e| {
                Error::from_rdkafka(
                    &e,
                    &format!("reading the watermarks of {t:?} partition {partition}"),
                )
            })
    }

    /// The lag of every assigned partition.
    pub fn lag(&self, timeout: Option<Duration>) -> Result<Vec<Lag>> {
        let positions = self.position()?;
        let committed = self.committed(timeout)?;
        let mut out = Vec::with_capacity(positions.len());
        for p in positions {
            let (low, high) = self.watermarks(&p.topic, p.partition, timeout)?;
            let committed = committed
                .iter()
                .find(|c| c.topic == p.topic && c.partition == p.partition)
                .and_then(|c| c.offset);
            out.push(Lag {
                topic: p.topic,
                partition: p.partition,
                low,
                high,
                position: p.offset,
                committed,
            });
        }
        Ok(out)
    }

    /// Commits exactly these offsets (each the offset of the next message
    /// to consume, as every commit) and waits for the broker, at most
    /// `default_api_timeout_ms`. What is marked done is left as it is.
    pub fn commit_offsets(&self, offsets: &[(&str, i32, i64)]) -> Result<()> {
        self.check_usable()?;
        check_offsets(offsets)?;
        commit_within(&self.inner, Some(offsets), self.inner.context().api_timeout)
    }

    /// Forgets what was handed out or marked done on every partition.
    fn forget_all(&self) {
        self.state().handed.clear();
        self.state().done.clear();
        self.inner.context().rewound.forget(|_, _| true);
    }

    /// Forgets what was handed out or marked done on one partition.
    fn forget_partition(&self, t: &str, partition: i32) {
        let other = |p: &Position| !(p.partition == partition && p.topic.as_str() == t);
        self.state().handed.retain(other);
        self.state().done.retain(other);
    }

    /// What `Producer::send_offsets_to_transaction` sends: `offsets` (or
    /// this consumer's position on each partition it holds) and its group
    /// metadata. Refused when the consumer commits by itself.
    pub(crate) fn transaction_offsets(
        &self,
        offsets: Option<&[(&str, i32, i64)]>,
    ) -> Result<(TopicPartitionList, ConsumerGroupMetadata)> {
        self.check_usable()?;
        if self.auto_commit.is_some() {
            return Err(Error::config(
                "sending offsets to a transaction: the consumer commits by itself; create it with \
                 enable_auto_commit=false so that only the transaction commits its offsets",
            ));
        }
        let metadata = self
            .inner
            .group_metadata()
            .ok_or_else(|| Error::state("the consumer has no group metadata (no group id?)"))?;
        let list = match offsets {
            Some(offsets) => {
                if offsets.is_empty() {
                    return Err(Error::invalid_argument("the offset list is empty"));
                }
                let starts: Vec<_> = offsets
                    .iter()
                    .map(|&(t, p, o)| (t, p, Start::At(o)))
                    .collect();
                list(&starts)?
            }
            None => {
                let positions = self
                    .inner
                    .position()
                    .map_err(|e| Error::from_rdkafka(&e, "reading the consumer's positions"))?;
                let mut held = TopicPartitionList::with_capacity(positions.count());
                for e in positions.elements() {
                    if let Offset::Offset(n) = e.offset() {
                        let _ =
                            held.add_partition_offset(e.topic(), e.partition(), Offset::Offset(n));
                    }
                }
                held
            }
        };
        Ok((list, metadata))
    }
}

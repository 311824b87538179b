//! Commits that follow a seek back.
//!
//! librdkafka's commit of the stored offsets leaves out a partition whose
//! stored offset is not above the one it last saw committed, so after a
//! seek back the commit would stay where it was, past messages the
//! application is handling again. The partitions sought are kept here
//! until an explicit commit of their new position succeeds: from then on
//! librdkafka's comparison holds again. A partition that leaves the
//! assignment (revoked, lost, unassigned) or is sought again drops what
//! was kept for it, commits in flight included: a late outcome never puts
//! back an offset of an earlier position or ownership.

use std::sync::{Mutex, MutexGuard};

/// `(topic, partition, next offset)`, as commits take them.
pub(super) type Offsets = Vec<(String, i32, i64)>;

#[derive(Default)]
pub(super) struct Rewound(Mutex<State>);

/// A partition sought and not committed since.
struct Sought {
    topic: String,
    partition: i32,
    /// Where the seek went, when it was an offset: a store below it is
    /// of a message from before the seek, and is not committed back.
    from: Option<i64>,
    /// The position stored since (`None`: nothing done there yet).
    next: Option<i64>,
}

#[derive(Default)]
struct State {
    sought: Vec<Sought>,
    /// Explicit commits started without waiting, by commit id.
    in_flight: Vec<(u64, Offsets)>,
}

impl Sought {
    fn is(&self, topic: &str, partition: i32) -> bool {
        self.partition == partition && self.topic == topic
    }
}

impl State {
    /// Drops what commits in flight carry for the partitions `gone` says.
    fn strip_in_flight(&mut self, gone: impl Fn(&str, i32) -> bool) {
        for (_, offsets) in &mut self.in_flight {
            offsets.retain(|(t, p, _)| !gone(t, *p));
        }
    }
}

impl Rewound {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A seek moved `topic`/`partition` (to offset `from`, when it was
    /// one): its next commit is explicit.
    pub(super) fn sought(&self, topic: &str, partition: i32, from: Option<i64>) {
        let mut state = self.lock();
        state.sought.retain(|s| !s.is(topic, partition));
        state.strip_in_flight(|t, p| p == partition && t == topic);
        state.sought.push(Sought {
            topic: topic.to_owned(),
            partition,
            from,
            next: None,
        });
    }

    /// librdkafka stored `next` for `topic`/`partition`.
    pub(super) fn stored(&self, topic: &str, partition: i32, next: i64) {
        let mut state = self.lock();
        if let Some(s) = state.sought.iter_mut().find(|s| s.is(topic, partition)) {
            if s.from.is_none_or(|from| next > from) {
                s.next = Some(next);
            }
        }
    }

    /// Forgets the partitions `gone` says are gone (revoked, lost,
    /// unassigned), and what commits in flight carry for them.
    pub(super) fn forget(&self, gone: impl Fn(&str, i32) -> bool) {
        let mut state = self.lock();
        state.sought.retain(|s| !gone(&s.topic, s.partition));
        state.strip_in_flight(gone);
    }

    /// The positions to commit explicitly before the stored offsets.
    pub(super) fn take(&self) -> Offsets {
        let mut state = self.lock();
        state
            .sought
            .iter_mut()
            .filter_map(|s| s.next.take().map(|n| (s.topic.clone(), s.partition, n)))
            .collect()
    }

    /// The explicit commit of `offsets` succeeded: those partitions are
    /// done with, unless something was stored there since.
    pub(super) fn committed(&self, offsets: &Offsets) {
        self.lock()
            .sought
            .retain(|s| s.next.is_some() || !offsets.iter().any(|(t, p, _)| s.is(t, *p)));
    }

    /// The explicit commit of `offsets` failed: the next commit tries them
    /// again, unless something newer was stored there since (or the
    /// partition left, or was sought again: then it is not there).
    pub(super) fn failed(&self, offsets: &Offsets) {
        let mut state = self.lock();
        for (t, p, n) in offsets {
            if let Some(s) = state.sought.iter_mut().find(|s| s.is(t, *p)) {
                s.next.get_or_insert(*n);
            }
        }
    }

    /// An explicit commit of `offsets` was started without waiting, as
    /// commit `id`.
    pub(super) fn started(&self, id: u64, offsets: Offsets) {
        self.lock().in_flight.push((id, offsets));
    }

    /// The outcome of commit `id`: whether it was one of these.
    pub(super) fn finished(&self, id: u64, ok: bool) -> bool {
        let offsets = {
            let mut state = self.lock();
            let Some(at) = state.in_flight.iter().position(|(i, _)| *i == id) else {
                return false;
            };
            state.in_flight.remove(at).1
        };
        if ok {
            self.committed(&offsets);
        } else {
            self.failed(&offsets);
        }
        true
    }
}

/// `offsets` as the commit functions take them.
pub(super) fn borrowed(offsets: &Offsets) -> Vec<(&str, i32, i64)> {
    offsets
        .iter()
        .map(|(t, p, n)| (t.as_str(), *p, *n))
        .collect()
}

//! Commits that follow a seek back.
//!
//! librdkafka's commit of the stored offsets leaves out a partition whose
//! stored offset is not above the one it last saw committed, so after a
//! seek back the commit would stay where it was, past messages the
//! application is handling again. The partitions sought are kept here
//! until an explicit commit of their new position succeeds: from then on
//! librdkafka's comparison holds again.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard};

/// `(topic, partition, next offset)`, as commits take them.
pub(super) type Offsets = Vec<(String, i32, i64)>;

#[derive(Default)]
pub(super) struct Rewound(Mutex<State>);

#[derive(Default)]
struct State {
    /// Partitions sought and not yet committed since, with the position
    /// stored since (`None`: nothing done there yet).
    sought: Vec<(String, i32, Option<i64>)>,
    /// The lists of explicit commits started without waiting, oldest
    /// first: outcomes arrive in that order.
    in_flight: VecDeque<Offsets>,
}

impl Rewound {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A seek moved `topic`/`partition`: its next commit is explicit.
    pub(super) fn sought(&self, topic: &str, partition: i32) {
        let mut state = self.lock();
        state
            .sought
            .retain(|(t, p, _)| !(*p == partition && t == topic));
        state.sought.push((topic.to_owned(), partition, None));
    }

    /// librdkafka stored `next` for `topic`/`partition`.
    pub(super) fn stored(&self, topic: &str, partition: i32, next: i64) {
        let mut state = self.lock();
        if let Some(entry) = state
            .sought
            .iter_mut()
            .find(|(t, p, _)| *p == partition && t == topic)
        {
            entry.2 = Some(next);
        }
    }

    /// Forgets the partitions `gone` says are gone (revoked, lost, moved).
    pub(super) fn forget(&self, gone: impl Fn(&str, i32) -> bool) {
        self.lock().sought.retain(|(t, p, _)| !gone(t, *p));
    }

    /// The positions to commit explicitly before the stored offsets.
    pub(super) fn take(&self) -> Offsets {
        let mut state = self.lock();
        state
            .sought
            .iter_mut()
            .filter_map(|(t, p, next)| next.take().map(|n| (t.clone(), *p, n)))
            .collect()
    }

    /// The explicit commit of `offsets` succeeded: those partitions are
    /// done with, unless something was stored there since.
    pub(super) fn committed(&self, offsets: &Offsets) {
        self.lock().sought.retain(|(t, p, next)| {
            next.is_some() || !offsets.iter().any(|(ot, op, _)| op == p && ot == t)
        });
    }

    /// The explicit commit of `offsets` failed: the next commit tries them
    /// again (unless something newer was stored there since).
    pub(super) fn failed(&self, offsets: &Offsets) {
        let mut state = self.lock();
        for (t, p, n) in offsets {
            if let Some(entry) = state
                .sought
                .iter_mut()
                .find(|(et, ep, _)| ep == p && et == t)
            {
                entry.2.get_or_insert(*n);
            }
        }
    }

    /// An explicit commit of `offsets` was started without waiting.
    pub(super) fn started(&self, offsets: Offsets) {
        self.lock().in_flight.push_back(offsets);
    }

    /// The outcome of the oldest commit [`started`](Self::started).
    pub(super) fn finished(&self, ok: bool) {
        let Some(offsets) = self.lock().in_flight.pop_front() else {
            return;
        };
        if ok {
            self.committed(&offsets);
        } else {
            self.failed(&offsets);
        }
    }
}

/// `offsets` as the commit functions take them.
pub(super) fn borrowed(offsets: &Offsets) -> Vec<(&str, i32, i64)> {
    offsets
        .iter()
        .map(|(t, p, n)| (t.as_str(), *p, *n))
        .collect()
}

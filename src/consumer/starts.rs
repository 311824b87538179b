//! Where partitions being assigned start, chosen by seeks the application
//! makes from its rebalance hook.
//!
//! librdkafka starts an assigned partition after the rebalance callback
//! returns, at the offset its assignment list carries (the committed one
//! when that is unset). A seek made in between is overtaken by that start
//! ("Local: Outdated") or refused ("Local: Erroneous state"). So the hook
//! runs before the assignment is handed to librdkafka, a seek from it on a
//! partition being assigned is written into that list, and the partition
//! starts there. A pause from the hook on such a partition is made once
//! librdkafka has it (before, librdkafka ignores it).

use std::sync::{Mutex, MutexGuard};

use rdkafka::{Offset, TopicPartitionList};

/// The partitions of the assignment being made, while the application's
/// hook runs, and the starts it chose for them.
#[derive(Default)]
pub(super) struct Starts {
    pending: Mutex<Option<Pending>>,
    /// Paused from the hook: to pause once assigned.
    to_pause: Mutex<Vec<(String, i32)>>,
}

struct Pending {
    partitions: Vec<(String, i32)>,
    chosen: Vec<(String, i32, Offset)>,
    paused: Vec<(String, i32)>,
}

impl Starts {
    fn lock(&self) -> MutexGuard<'_, Option<Pending>> {
        self.pending.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `partitions` are about to be assigned: seeks on them are recorded
    /// from now until [`Starts::apply`].
    pub(super) fn open(&self, partitions: &TopicPartitionList) {
        let partitions = partitions
            .elements()
            .iter()
            .map(|e| (e.topic().to_owned(), e.partition()))
            .collect();
        *self.lock() = Some(Pending {
            partitions,
            chosen: Vec::new(),
            paused: Vec::new(),
        });
    }

    /// Writes the recorded starts into `partitions` (the list librdkafka
    /// is about to assign) and stops recording.
    pub(super) fn apply(&self, partitions: &TopicPartitionList) {
        let Some(pending) = self.lock().take() else {
            return;
        };
        *self.to_pause.lock().unwrap_or_else(|e| e.into_inner()) = pending.paused;
        for (topic, partition, offset) in pending.chosen {
            if let Some(mut e) = partitions.find_partition(&topic, partition) {
                // Every offset recorded came from a seek that checked it.
                let _ = e.set_offset(offset);
            }
        }
    }

    /// Records `offset` as the start of `topic`/`partition` when that
    /// partition is being assigned; false when it is not (the seek then
    /// goes to librdkafka as any other).
    pub(super) fn choose(&self, topic: &str, partition: i32, offset: Offset) -> bool {
        let mut guard = self.lock();
        let Some(pending) = guard.as_mut() else {
            return false;
        };
        if !pending
            .partitions
            .iter()
            .any(|(t, p)| *p == partition && t == topic)
        {
            return false;
        }
        pending
            .chosen
            .retain(|(t, p, _)| !(*p == partition && t == topic));
        pending.chosen.push((topic.to_owned(), partition, offset));
        true
    }

    /// Records a pause (or a resume: `pause` false) of `topic`/`partition`
    /// when it is being assigned; false when it is not (it then goes to
    /// librdkafka as any other).
    pub(super) fn hold(&self, topic: &str, partition: i32, pause: bool) -> bool {
        let mut guard = self.lock();
        let Some(pending) = guard.as_mut() else {
            return false;
        };
        let same = |(t, p): &(String, i32)| *p == partition && t == topic;
        if !pending.partitions.iter().any(same) {
            return false;
        }
        pending.paused.retain(|e| !same(e));
        if pause {
            pending.paused.push((topic.to_owned(), partition));
        }
        true
    }

    /// The partitions paused from the hook, to pause now that librdkafka
    /// has them (once).
    pub(super) fn take_paused(&self) -> Vec<(String, i32)> {
        std::mem::take(&mut *self.to_pause.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// The partitions being assigned (none outside a hook).
    pub(super) fn pending(&self) -> Vec<(String, i32)> {
        self.lock()
            .as_ref()
            .map(|p| p.partitions.clone())
            .unwrap_or_default()
    }
}

//! Commits and stores: of everything done, of one message, and the
//! store that marks a message done; the rebalance hook's setting.

use super::*;

impl Consumer {
    /// Commits every offset the application is done with (see the module
    /// docs; what the last poll handed out counts as done) and waits for
    /// the broker. Nothing to commit is success.
    pub fn commit(&self) -> Result<()> {
        self.check_usable()?;
        self.settle_handed();
        commit_stored(&self.inner)
    }

    /// Commits `message.offset + 1` for its partition, and nothing else,
    /// and waits for the broker.
    pub fn commit_message(&self, message: &Message) -> Result<()> {
        self.check_usable()?;
        let offsets = [(message.topic(), message.partition(), message.offset() + 1)];
        commit_within(
            &self.inner,
            Some(&offsets),
            self.inner.context().api_timeout,
        )
        .map_err(|e| e.context("committing a message"))
    }

    /// Marks `message`, and everything before it on its partition, as done:
    /// its offset + 1 is stored now and committed by the next commit
    /// (automatic or explicit). A partition no longer assigned to this
    /// consumer is [`ErrorKind::State`]: its new owner consumes the message
    /// again.
    pub fn store(&self, message: &Message) -> Result<()> {
        self.check_usable()?;
        let context = self.inner.context();
        let refused = context.store_done(&self.inner, Some(message.next_position()));
        context.uncommitted.store(true, Ordering::Release);
        let (mine, others): (Vec<_>, Vec<_>) = refused.into_iter().partition(|(p, _)| {
            p.partition == message.partition() && p.topic.as_str() == message.topic()
        });
        log_refused(&others);
        match mine.first() {
            None => Ok(()),
            Some((_, code)) => {
                let mut e = Error::state(format!(
                    "offset {} of {:?} partition {} not stored: the partition is not assigned \
                     to this consumer (any more); its new owner consumes the message again",
                    message.offset() + 1,
                    message.topic(),
                    message.partition()
                ));
                e.rdkafka_code = *code as i32;
                Err(e)
            }
        }
    }

    /// Sets (or, with `None`, removes) the rebalance hook. It runs on the
    /// polling thread, inside poll, poll_batch and consume (and close, for
    /// the final revocation).
    pub fn set_rebalance_hook(&self, hook: Option<RebalanceHook>) -> Result<()> {
        self.check_usable()?;
        *self
            .inner
            .context()
            .rebalance
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = hook;
        Ok(())
    }

    /// Refuses a change of assignment or subscription from a rebalance
    /// hook: the library is in the middle of its own.
    pub(super) fn check_not_rebalancing(&self, what: &str) -> Result<()> {
        if self.inner.context().in_rebalance.load(Ordering::Acquire) {
            return Err(Error::state(format!(
                "{what} inside a rebalance callback: the library assigns and revokes the \
                 partitions itself; seek, pause or commit there instead"
            )));
        }
        Ok(())
    }
}

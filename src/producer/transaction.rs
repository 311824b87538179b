//! Transactions (exactly-once pipelines), fatal errors and purges.
//!
//! A transactional producer (`transactional.id` set) calls
//! [`init_transactions`](Producer::init_transactions) once, then
//! repeats begin, sends, optionally
//! [`send_offsets_to_transaction`](Producer::send_offsets_to_transaction)
//! (the consumed offsets, committed with the output), and commit or
//! abort. What a failure means is in its flags: `txn_requires_abort`
//! (abort, then go on), `retriable` (call again), `fatal` (the producer is
//! finished: create a new one).

use std::time::Duration;

use rdkafka::producer::{Producer as _, PurgeConfig};
use rdkafka::util::Timeout;

use rdkafka::producer::ThreadedProducer;

use super::{Context, Producer};
use crate::consumer::Consumer;
use crate::error::{Error, ErrorKind, Result};
use crate::timeout::{deadline, remaining};

fn timeout_of(t: Option<Duration>) -> Timeout {
    t.map_or(Timeout::Never, Timeout::After)
}

impl Producer {
    /// Registers the producer's `transactional.id` with the broker, fencing
    /// any older producer with the same id and finishing its open
    /// transaction. Once per producer, before the first transaction.
    pub fn init_transactions(&self, timeout: Option<Duration>) -> Result<()> {
        self.check_transactional("init_transactions")?;
        self.inner
            .init_transactions(timeout_of(timeout))
            .map_err(|e| self.failure(&e, "initializing transactions"))
    }

    /// Starts a transaction: what is sent until the commit or abort
    /// belongs to it.
    pub fn begin_transaction(&self) -> Result<()> {
        self.check_transactional("begin_transaction")?;
        self.inner
            .begin_transaction()
            .map_err(|e| self.failure(&e, "beginning a transaction"))
    }

    /// Adds `consumer`'s offsets to the transaction, so that they are
    /// committed with its output (and not when it aborts): `offsets`, or,
    /// with `None`, the consumer's position on each partition it holds
    /// (the next message after those it handed out). The consumer must
    /// not commit by itself (`enable_auto_commit=false`).
    pub fn send_offsets_to_transaction(
        &self,
        consumer: &Consumer,
        offsets: Option<&[(&str, i32, i64)]>,
        timeout: Option<Duration>,
    ) -> Result<()> {
        self.check_transactional("send_offsets_to_transaction")?;
        let (list, metadata) = consumer.transaction_offsets(offsets)?;
        if list.count() == 0 {
            return Ok(());
        }
        self.inner
            .send_offsets_to_transaction(&list, &metadata, timeout_of(timeout))
            .map_err(|e| self.failure(&e, "sending offsets to the transaction"))
    }

    /// Commits the transaction: flushes what it sent, then makes it
    /// visible to `read_committed` readers, offsets included.
    pub fn commit_transaction(&self, timeout: Option<Duration>) -> Result<()> {
        self.check_transactional("commit_transaction")?;
        // Records handed over before belong to the transaction; the wait
        // counts in the timeout.
        let deadline = deadline(timeout);
        self.wait_handed_over(timeout).map_err(again)?;
        self.inner
            .commit_transaction(timeout_of(remaining(deadline)))
            .map_err(|e| self.failure(&e, "committing the transaction"))
    }

    /// Aborts the transaction: what it sent is never visible to
    /// `read_committed` readers, and its offsets are not committed. Each
    /// message still queued, and each record handed over and not yet
    /// queued, gets its failure notification.
    pub fn abort_transaction(&self, timeout: Option<Duration>) -> Result<()> {
        self.check_transactional("abort_transaction")?;
        let deadline = deadline(timeout);
        // Records handed over and not yet queued fail as purged at once
        // (librdkafka's abort purges its own queue): waiting to queue them
        // would wait for room that only the abort makes.
        self.queueing.handover.purge(|| {});
        self.wait_handed_over(timeout).map_err(again)?;
        self.inner
            .abort_transaction(timeout_of(remaining(deadline)))
            .map_err(|e| self.failure(&e, "aborting the transaction"))
    }

    /// The error that finished this producer, if one did (fenced by a
    /// newer producer with its `transactional.id`, or an idempotence
    /// failure such as an out-of-order sequence): then every later call
    /// fails, and only a new producer can go on.
    pub fn fatal_error(&self) -> Option<Error> {
        fatal_error_of(&self.inner)
    }

    /// Purges messages not yet delivered: those still in the local queue
    /// (`queued`: records handed over and not yet queued too) and those
    /// sent and awaiting the broker's answer (`in_flight`, whose fate is
    /// then unknown). Each purged message gets its failure notification,
    /// on the producer's thread (a record handed over, on the sender
    /// thread).
    pub fn purge(&self, queued: bool, in_flight: bool) -> Result<()> {
        self.check_process()?;
        let mut flags = PurgeConfig::default();
        if in_flight {
            flags = flags.inflight();
        }
        if queued {
            // The records handed over first: the sender thread would
            // refill the local queue with them.
            let flags = flags.queue();
            self.queueing.handover.purge(|| self.inner.purge(flags));
        } else {
            self.inner.purge(flags);
        }
        Ok(())
    }

    /// Refused in a forked child, inside this producer's own callbacks (a
    /// commit or abort waits for the thread that runs them), and on a
    /// producer that is not transactional.
    fn check_transactional(&self, what: &str) -> Result<()> {
        self.check_process()?;
        self.shared.refuse_wait_in_callback(what)?;
        if !self.transactional {
            return Err(Error::state(format!(
                "{what}: the producer has no transactional_id (set transactional.id in its \
                 overrides)"
            )));
        }
        Ok(())
    }
}

/// A commit or abort that ran out of time waiting for hand-overs: the
/// transaction is as it was, and the same call may be made again.
fn again(mut e: Error) -> Error {
    if e.kind == ErrorKind::Timeout {
        e.retriable = true;
    }
    e
}

/// [`Producer::fatal_error`] of a producer's client.
pub(super) fn fatal_error_of(inner: &ThreadedProducer<Context>) -> Option<Error> {
    let (code, reason) = inner.client().fatal_error()?;
    let mut e = Error::from_rdkafka_code(
        code,
        &format!("the producer hit a fatal error ({reason}); create a new producer"),
    );
    e.fatal = true;
    e.retriable = false;
    Some(e)
}

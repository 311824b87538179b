//! Topic handlers: registered per topic, run by `consume` on what it
//! polled, each message done (its offset stored) when they returned.

use super::*;

impl Consumer {
    /// Adds a handler for `topic`; handlers run in registration order.
    /// Inside a handler, it takes effect from the next message.
    pub fn register_handler(&self, topic: &str, handler: Handler) -> Result<()> {
        self.check_usable()?;
        topic::validate(topic)?;
        let mut handlers = self.handlers.lock().unwrap_or_else(|e| e.into_inner());
        let mut next = Vec::clone(&handlers);
        next.push((topic.to_owned(), handler));
        *handlers = Arc::new(next);
        Ok(())
    }

    /// Polls one batch, runs each message's topic handlers in order (a
    /// failing handler is logged and the others still run), and marks the
    /// message done once they all returned. With auto-commit off, commits
    /// after the batch. `dispatched` gets how many messages were polled,
    /// also when that commit fails.
    pub fn consume(&self, timeout: Option<Duration>, dispatched: &mut usize) -> Result<()> {
        *dispatched = 0;
        let polling = self.enter_poll()?;
        let cap = self.max_poll_records.unwrap_or(DEFAULT_CONSUME_BATCH);
        let mut batch = Vec::new();
        let fetched = self.fetch(cap, timeout, |m| batch.push(m));
        for m in &batch {
            self.dispatch(m);
            mark(&mut self.state().done, m.next_position());
            *dispatched += 1;
        }
        drop(polling);
        fetched?;
        if self.auto_commit.is_none() && !batch.is_empty() {
            commit_stored(&self.inner)?;
        }
        Ok(())
    }

    /// Runs `m`'s topic handlers, in registration order, as registered
    /// when `m`'s turn came.
    pub(super) fn dispatch(&self, m: &Message) {
        let handlers = Arc::clone(&self.handlers.lock().unwrap_or_else(|e| e.into_inner()));
        let mut handled = false;
        for (topic, handler) in handlers.iter() {
            if topic.as_str() != m.topic() {
                continue;
            }
            handled = true;
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handler(m)))
                .unwrap_or_else(|_| Err("the handler panicked".to_owned()));
            if let Err(why) = outcome {
                logging::log(
                    Level::Error,
                    "kafka_instance.consumer.consume",
                    SUBJECT,
                    &format!(
                        "handler for {:?} failed at partition {} offset {}: {why}",
                        m.topic(),
                        m.partition(),
                        m.offset()
                    ),
                    Some(json!({
                        "topic": m.topic(),
                        "partition": m.partition(),
                        "offset": m.offset(),
                    })),
                );
            }
        }
        if !handled && logging::enabled(Level::Debug) {
            logging::log(
                Level::Debug,
                "kafka_instance.consumer.consume",
                SUBJECT,
                &format!("no handler for topic {:?}; message consumed", m.topic()),
                None,
            );
        }
    }
}

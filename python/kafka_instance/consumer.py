"""Consumer: handlers registered per topic, called for each message."""

import logging

from ._log import failure, record


class Consumer:
    """Consumer(instance, topics, **kwargs).register_handler(topic, fn)
    .consume(timeout_ms): each message goes to its topic's handlers, in
    the order they were registered, as keyword arguments topic, partition,
    offset, key and value (decoded from JSON). A handler that raises is
    logged and the others still run; with auto-commit off, consume()
    commits after the batch. Poll errors are logged, not raised."""

    def __init__(self, instance, topics, **kwargs):
        if isinstance(topics, str):
            topics = [topics]
        self.topics = list(topics)
        self._auto_commit = instance.config.get("enable_auto_commit", True)
        if "enable_auto_commit" in kwargs:
            self._auto_commit = bool(kwargs["enable_auto_commit"])
        self._consumer = instance.get_consumer(self.topics, **kwargs)
        self._handlers = {}

    def register_handler(self, topic, handler):
        self._handlers.setdefault(topic, []).append(handler)
        return self

    def consume(self, timeout_ms=1000):
        """Polls once and dispatches what arrived; returns how many messages
        were handled."""
        controller = __name__ + ".Consumer.consume"
        try:
            batch = self._consumer.poll(timeout_ms=timeout_ms)
        except Exception as e:
            failure("Kafka poll failed", controller, "Kafka Consumer", e)
            return 0
        handled = 0
        for records in batch.values():
            for r in records:
                handled += 1
                for handler in self._handlers.get(r.topic, ()):
                    try:
                        handler(topic=r.topic, partition=r.partition, offset=r.offset,
                                key=r.key, value=r.value)
                    except Exception as e:
                        failure("Kafka message handler failed", controller, "Kafka Consumer",
                                e)
        if handled and not self._auto_commit:
            self.commit()
        if handled:
            record(logging.DEBUG, "Kafka messages handled", controller, "Kafka Consumer",
                   {"count": handled})
        return handled

    def commit(self):
        """Commits the messages handled so far; a failure is logged and
        raised."""
        self._consumer.commit()

    def close(self):
        self._consumer.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

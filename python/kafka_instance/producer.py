"""Producer: send one message and wait for the broker's answer."""

import logging

from ._log import failure, record


class Producer:
    """Producer(instance).send(topic, value, key, timeout): the value
    JSON-encoded, a str key UTF-8 encoded (bytes as they are), and the call
    returns once the broker acknowledged the message (its RecordMetadata)
    or raises when it refused it or `timeout` seconds passed. Successes are
    logged at info, failures at error. Thread-safe."""

    def __init__(self, instance, **kwargs):
        self._producer = instance.get_producer(**kwargs)

    def send(self, topic, value, key=None, timeout=10):
        controller = __name__ + ".Producer.send"
        if not topic or not isinstance(topic, str):
            error = ValueError("Producer.send: a topic is required")
            failure("Kafka message not sent", controller, "Kafka Producer", error)
            raise error
        try:
            metadata = self._producer.send(topic, value=value, key=key).get(timeout=timeout)
        except Exception as e:
            failure("Kafka message not sent", controller, "Kafka Producer", e)
            raise
        record(logging.INFO, "Kafka message sent", controller, "Kafka Producer",
               {"topic": metadata.topic, "partition": metadata.partition,
                "offset": metadata.offset})
        return metadata

    def flush(self, timeout=None):
        self._producer.flush(timeout)

    def close(self, timeout=None):
        self._producer.close(timeout)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

"""KafkaInstance: one configuration, producers and consumers made from it.

Producers serialize values to JSON; consumers decode them. Names and
behaviour follow kafka-python's KafkaProducer/KafkaConsumer where code
written for them touches them: send() returns a future whose get() waits
for the broker, consumers iterate over records and poll() returns
{TopicPartition: [records]}.
"""

import contextlib
import ctypes
import json
import threading
import time
from collections import namedtuple
from ctypes import byref, c_size_t, c_void_p

from . import native as _n
from ._log import failure

TopicPartition = namedtuple("TopicPartition", ["topic", "partition"])

RecordMetadata = namedtuple(
    "RecordMetadata", ["topic", "partition", "offset", "timestamp"])

ConsumerRecord = namedtuple(
    "ConsumerRecord",
    ["topic", "partition", "offset", "timestamp", "key", "value", "headers"])


def _json_bytes(value):
    return json.dumps(value).encode("utf-8")


def _key_bytes(key):
    if key is None or isinstance(key, bytes):
        return key
    if isinstance(key, str):
        return key.encode("utf-8")
    raise TypeError("key must be str, bytes or None, not %s" % type(key).__name__)


def _json_value(raw):
    """A message value decoded from JSON; None for a tombstone. A value that
    is not JSON raises ValueError (as a json.loads value_deserializer does)."""
    return None if raw is None else json.loads(raw)


class KafkaInstance:
    """Makes producers and consumers from one KafkaConfig. Thread-safe; so
    are its producers (consumers are used from one thread at a time).

    Raises ValueError when the config names neither a kafka_url nor
    bootstrap servers, and KafkaError for a setting the library refuses;
    every failure is logged first (logger "kafka_instance")."""

    _SETTINGS = ("kafka_url", "bootstrap_servers", "security_protocol", "sasl_mechanism",
                 "sasl_plain_username", "sasl_plain_password", "client_id")
    _CONSUMER_SETTINGS = ("group_id", "auto_offset_reset", "enable_auto_commit")

    def __init__(self, config):
        self.config = config
        controller = __name__ + ".KafkaInstance.__init__"
        if not config.get("kafka_url") and not config.get("bootstrap_servers"):
            error = ValueError("KafkaInstance needs a kafka_url or bootstrap servers")
            failure("Kafka connection settings are incomplete", controller, "Kafka Instance",
                    error)
            raise error
        try:
            self._native = _n.KafkaInstance(self._base_config())
        except Exception as e:
            failure("Kafka connection settings were refused", controller, "Kafka Instance", e)
            raise

    def _base_config(self):
        settings = {}
        for key in self._SETTINGS + self._CONSUMER_SETTINGS:
            value = self.config.get(key)
            if value is None:
                continue
            if key == "bootstrap_servers":
                value = ",".join(value)
            settings[key] = value
        if self.config.get("kafka_url"):
            settings.pop("bootstrap_servers", None)
        return _n.Config(**settings)

    def get_producer(self, **kwargs):
        """A KafkaProducer; kwargs are kafka-python's producer settings
        (acks, retries, compression_type, linger_ms, batch_size, ...),
        plus value_serializer / key_serializer (default: JSON values, str
        keys as UTF-8)."""
        try:
            return KafkaProducer(self, **kwargs)
        except Exception as e:
            failure("Kafka producer could not be created",
                    __name__ + ".KafkaInstance.get_producer", "Kafka Producer", e)
            raise

    def get_consumer(self, topics, **kwargs):
        """A KafkaConsumer subscribed to `topics`; kwargs are kafka-python's
        consumer settings (max_poll_records, session_timeout_ms, ...), plus
        value_deserializer (default: JSON), key_deserializer (default: none,
        bytes) and consumer_timeout_ms (iteration ends after that long
        without a message; default: never)."""
        try:
            return KafkaConsumer(self, topics, **kwargs)
        except Exception as e:
            failure("Kafka consumer could not be created",
                    __name__ + ".KafkaInstance.get_consumer", "Kafka Consumer", e)
            raise

    @contextlib.contextmanager
    def producer_context(self, **kwargs):
        """A producer flushed and closed on exit, even on an error."""
        producer = self.get_producer(**kwargs)
        try:
            yield producer
        finally:
            try:
                producer.flush()
            finally:
                producer.close()

    @contextlib.contextmanager
    def consumer_context(self, topics, **kwargs):
        """A consumer closed on exit (committing what was processed), even
        on an error."""
        consumer = self.get_consumer(topics, **kwargs)
        try:
            yield consumer
        finally:
            consumer.close()

    @property
    def native(self):
        """The instance of the C API binding (admin calls, statistics)."""
        return self._native


class FutureRecordMetadata:
    """What became of one sent message: get(timeout) waits for the broker's
    answer and returns RecordMetadata, or raises the KafkaError that
    refused it (KafkaTimeoutError-like: a KafkaError with code
    KAFKA_ERR_TIMEOUT when the wait ran out)."""

    __slots__ = ("_topic", "_done", "_value", "_error", "_callbacks", "_errbacks")

    def __init__(self, topic):
        self._topic = topic
        self._done = None  # a threading.Event, made only when someone waits
        self._value = self._error = None
        self._callbacks = self._errbacks = None

    def _resolve(self, value, error):
        self._value, self._error = value, error
        event = self._done
        self._done = True
        if isinstance(event, threading.Event):
            event.set()
        for fn in (self._errbacks if error else self._callbacks) or ():
            try:
                fn(error if error else value)
            except Exception as e:  # a callback must not break delivery
                failure("a send callback raised", __name__ + ".FutureRecordMetadata",
                        "Kafka Producer", e)

    def is_done(self):
        return self._done is True

    def succeeded(self):
        return self._done is True and self._error is None

    def failed(self):
        return self._done is True and self._error is not None

    @property
    def exception(self):
        return self._error

    @property
    def value(self):
        return self._value

    def add_callback(self, fn):
        if self._done is True:
            if self._error is None:
                fn(self._value)
        else:
            self._callbacks = (self._callbacks or []) + [fn]
        return self

    def add_errback(self, fn):
        if self._done is True:
            if self._error is not None:
                fn(self._error)
        else:
            self._errbacks = (self._errbacks or []) + [fn]
        return self

    def get(self, timeout=None):
        if self._done is not True:
            with _FUTURE_LOCK:
                if self._done is None:
                    self._done = threading.Event()
            if self._done is not True and not self._done.wait(timeout):
                raise _n.KafkaError.timeout(
                    "no answer from the broker for a message to %s within %s s"
                    % (self._topic, timeout))
        if self._error is not None:
            raise self._error
        return self._value


_FUTURE_LOCK = threading.Lock()


class KafkaProducer:
    """Sends messages; thread-safe. Made by KafkaInstance.get_producer."""

    def __init__(self, instance, value_serializer=None, key_serializer=None, **kwargs):
        self._value_serializer = value_serializer or _json_bytes
        self._key_serializer = key_serializer or _key_bytes
        self._producer = instance.native.get_producer(**kwargs)
        self._pending = {}
        self._next = 0
        self._lock = threading.Lock()
        self._callback = _n.DELIVERY_CALLBACK(self._delivered)
        self._closed = False

    def _delivered(self, report, opaque):
        r = report.contents
        future = self._pending.pop(opaque, None)
        if future is None:
            return
        if r.code == 0:
            future._resolve(RecordMetadata(future._topic, r.partition, r.offset,
                                           r.timestamp_ms), None)
        else:
            future._resolve(None, _n.KafkaError.delivery(r))

    def send(self, topic, value=None, key=None, headers=None, partition=None,
             timestamp_ms=None):
        """Queues a message (value serialized, JSON by default) and returns
        its FutureRecordMetadata at once. A full queue, an oversized message
        or a bad topic raise KafkaError here."""
        if not topic:
            raise ValueError("send: a topic is required")
        payload = None if value is None else self._value_serializer(value)
        key = None if key is None else self._key_serializer(key)
        future = FutureRecordMetadata(topic)
        with self._lock:
            self._next += 1
            tag = self._next
        self._pending[tag] = future
        try:
            self._producer.send_record(topic, payload, key, headers, partition,
                                       timestamp_ms or 0, self._callback, tag)
        except Exception:
            self._pending.pop(tag, None)
            raise
        return future

    def flush(self, timeout=None):
        """Waits until every queued message is answered (timeout in seconds;
        None: no limit). Nothing to do once closed."""
        if self._closed:
            return
        ms = -1 if timeout is None else int(timeout * 1000)
        self._producer.flush(ms)

    def close(self, timeout=None):
        """Delivers what is queued (up to `timeout` seconds, None: 10 s) and
        releases the producer; what could not be delivered in that time fails
        its future (get() raises), and close returns. Closing again does
        nothing."""
        if self._closed:
            return
        self._closed = True
        ms = 10000 if timeout is None else int(timeout * 1000)
        try:
            self._producer.close(ms)
        except _n.KafkaError as e:
            # As kafka-python's close: messages not delivered in time fail
            # their futures (and the library logged it); close itself
            # succeeds. Anything else is raised.
            if e.value != _n.KAFKA_ERR_TIMEOUT:
                raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class KafkaConsumer:
    """Reads messages from its topics. Iterating yields ConsumerRecords;
    poll() returns {TopicPartition: [ConsumerRecord]}. A message counts as
    processed (its offset may be committed) once the next message is asked
    for, or at commit() or close()."""

    def __init__(self, instance, topics, value_deserializer=None, key_deserializer=None,
                 consumer_timeout_ms=None, **kwargs):
        if isinstance(topics, str):
            topics = [topics]
        self._value = value_deserializer or _json_value
        self._key = key_deserializer
        self._timeout_ms = consumer_timeout_ms
        self._consumer = instance.native.get_consumer(list(topics), **kwargs)

    def _record(self, m):
        key = m.key if self._key is None or m.key is None else self._key(m.key)
        return ConsumerRecord(m.topic, m.partition, m.offset, m.timestamp, key,
                              self._value(m.value), m.headers)

    def __iter__(self):
        return self

    def __next__(self):
        deadline = None if self._timeout_ms is None else time.monotonic() + self._timeout_ms / 1000
        while True:
            wait = 1000 if deadline is None else max(0, int((deadline - time.monotonic()) * 1000))
            m = self._consumer.poll(min(wait, 1000))
            if m is not None:
                return self._record(m)
            if deadline is not None and time.monotonic() >= deadline:
                raise StopIteration

    def poll(self, timeout_ms=0, max_records=None):
        """The messages that arrive within timeout_ms (at most max_records,
        default max_poll_records), grouped by partition."""
        out = {}
        for m in self._consumer.poll_batch(max_records or 500, timeout_ms):
            out.setdefault(TopicPartition(m.topic, m.partition), []).append(self._record(m))
        return out

    def commit(self):
        """Commits the messages processed so far and waits for the broker."""
        try:
            self._consumer.commit()
        except Exception as e:
            failure("Kafka commit failed", __name__ + ".KafkaConsumer.commit",
                    "Kafka Consumer", e)
            raise

    def close(self, autocommit=True):
        """Commits what was processed (the library always does, so that
        nothing processed is read again), leaves the group, and releases
        the consumer."""
        self._consumer.close()

    def event_fd(self):
        """A file descriptor that is readable while a poll would return
        something (for select/epoll/asyncio; never read or close it)."""
        return self._consumer.event_fd()

    def wakeup(self):
        self._consumer.wakeup()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

"""KafkaInstance: one configuration, producers and consumers made from it.

Producers serialize values to JSON; consumers decode them. Names and
behaviour follow kafka-python's KafkaProducer/KafkaConsumer where code
written for them touches them: send() returns a future whose get() waits
for the broker, consumers iterate over records and poll() returns
{TopicPartition: [records]}.
"""

import array
import contextlib
import ctypes
import itertools
import json
import struct
import threading
import time
from collections import namedtuple

from . import native as _n
from ._log import failure

TopicPartition = namedtuple("TopicPartition", ["topic", "partition"])

RecordMetadata = namedtuple(
    "RecordMetadata", ["topic", "partition", "offset", "timestamp"])

ConsumerRecord = namedtuple(
    "ConsumerRecord",
    ["topic", "partition", "offset", "timestamp", "key", "value", "headers"])


try:  # the fast encoder when it is installed (pip install ./python[fast])
    from orjson import dumps as _dumps_bytes, loads as _loads
except ImportError:
    _loads = json.loads
    _encode = json.JSONEncoder().encode

    def _dumps_bytes(value):
        return _encode(value).encode("utf-8")


def _json_bytes(value):
    """A value as JSON bytes: orjson's compact text when orjson is
    installed, json's otherwise (the same values either way)."""
    return _dumps_bytes(value)


def _key_bytes(key):
    if key is None or isinstance(key, bytes):
        return key
    if isinstance(key, str):
        return key.encode("utf-8")
    raise TypeError("key must be str, bytes or None, not %s" % type(key).__name__)


def _json_value(raw):
    """A message value decoded from JSON; None for a tombstone."""
    return None if raw is None else _loads(raw)


def _as_bytes(data, what):
    """A serializer's output as bytes (bytes-like is copied); anything else
    is a TypeError, raised from send()."""
    if data.__class__ is bytes:
        return data
    if isinstance(data, (bytearray, memoryview)):
        return bytes(data)
    raise TypeError("%s must return bytes, not %s" % (what, type(data).__name__))


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
    refused it (code KAFKA_ERR_TIMEOUT when the wait ran out).
    add_callback / add_errback functions run on the producer's report
    thread (or at once when the answer is already there)."""

    __slots__ = ("_topic", "_done", "_value", "_error", "_callbacks", "_errbacks")

    def __init__(self, topic):
        self._topic = topic
        self._done = None  # a threading.Event, made only when someone waits
        self._value = self._error = None
        self._callbacks = self._errbacks = None

    def _resolve(self, value, error):
        with _FUTURE_LOCK:
            self._value, self._error = value, error
            waiting = self._done
            self._done = True
        self._completed(waiting)

    def _completed(self, waiting):
        """After the outcome was set (under the lock): wakes a get() and
        runs the callbacks, outside the lock."""
        if waiting is not None:
            waiting.set()
        callbacks = self._errbacks if self._error is not None else self._callbacks
        for fn in callbacks or ():
            try:
                fn(self._error if self._error is not None else self.value)
            except Exception as e:  # a callback must not stop the reports
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
        v = self._value
        if type(v) is tuple:  # (partition, offset, timestamp): made on demand
            v = self._value = RecordMetadata(self._topic, *v)
        return v

    def add_callback(self, fn):
        with _FUTURE_LOCK:
            if self._done is not True:
                self._callbacks = (self._callbacks or []) + [fn]
                return self
        if self._error is None:
            fn(self.value)
        return self

    def add_errback(self, fn):
        with _FUTURE_LOCK:
            if self._done is not True:
                self._errbacks = (self._errbacks or []) + [fn]
                return self
        if self._error is not None:
            fn(self._error)
        return self

    def get(self, timeout=None):
        if self._done is not True:
            with _FUTURE_LOCK:
                if self._done is None:
                    self._done = threading.Event()
                event = self._done
            if event is not True and not event.wait(timeout):
                raise _n.KafkaError.timeout(
                    "no answer from the broker for a message to %s within %s s"
                    % (self._topic, timeout))
        if self._error is not None:
            raise self._error
        return self.value


_FUTURE_LOCK = threading.Lock()

# A KafkaTrackedReport: tag, code, rdkafka_code, partition, offset,
# timestamp_ms (native layout, as ctypes lays out _TrackedReport).
_REPORT = struct.Struct("@Qiiiqq")


class KafkaProducer:
    """Sends messages; thread-safe. Made by KafkaInstance.get_producer.

    Like kafka-python's, it gathers messages while earlier ones are on
    their way: a message sent when nothing is in flight goes into the
    library at once; the ones that follow go in batches (up to 500, one
    call each) as soon as earlier outcomes arrive or the batch is full. The
    library keeps each message's outcome, and a thread of this producer
    takes them in bulk and resolves the futures: no call from the library
    into Python per message. A failure to queue (a full queue for longer
    than max_block_ms, a message too large) fails that message's future."""

    BATCH = 500

    def __init__(self, instance, value_serializer=None, key_serializer=None,
                 max_block_ms=60000, **kwargs):
        # None: the defaults (JSON values, str keys as UTF-8), inlined in send.
        self._value_serializer = value_serializer
        self._key_serializer = key_serializer
        self._max_block_ms = int(max_block_ms)
        self._producer = instance.native.get_producer(**kwargs)
        self._pending = {}  # tag -> future, until its outcome is taken
        self._topics = {}  # topic name -> its UTF-8 bytes
        # The batch, the tags, the in-flight count. Reentrant: a send callback
        # run when a record is refused may send again.
        self._lock = threading.RLock()
        self._next_tag = 1
        self._in_flight = 0
        self._batch_topic = None
        self._batch_first = 0
        self._batch_data = []
        self._batch_lengths = array.array("q")
        self._refused = []  # (future, error) to fail once the lock is released
        self._closed = False
        self._stop = False
        self._thread = None

    def _start_reports(self):
        with self._lock:
            if self._thread is None and not self._stop:
                self._thread = threading.Thread(target=self._take_reports,
                                                name="kafka-reports", daemon=True)
                self._thread.start()

    def _take_reports(self):
        buffer = _n.report_buffer(1024)
        view = memoryview(buffer).cast("B")
        size = ctypes.sizeof(buffer) // len(buffer)
        while not self._stop:
            try:
                n = self._producer.reports(buffer, 100)
            except _n.KafkaError as e:  # the producer is gone: nothing more comes
                failure("taking delivery reports failed", __name__ + ".KafkaProducer",
                        "Kafka Producer", e)
                return
            try:
                if n:
                    self._resolve(_REPORT.iter_unpack(view[:n * size]))
                with self._lock:
                    self._in_flight -= n
                    if self._batch_lengths:
                        self._ship()
                self._fail_refused()
            except Exception as e:  # this thread must go on resolving futures
                failure("resolving delivery reports failed", __name__ + ".KafkaProducer",
                        "Kafka Producer", e)
            if 0 < n < len(buffer) and self._in_flight > n:
                # More are coming: let them gather (the sending thread runs
                # meanwhile) rather than taking the GIL for each few.
                time.sleep(0.001)

    def _resolve(self, reports):
        """Resolves the futures of (tag, code, rdkafka_code, partition,
        offset, timestamp) reports. Under the futures' lock, once per
        batch: a future nobody waits for and without callbacks only gets
        its value; the others are completed after the lock is released."""
        pending = self._pending
        woken = []
        with _FUTURE_LOCK:
            for tag, code, rdkafka_code, partition, offset, timestamp in reports:
                future = pending.pop(tag, None)
                if future is None:
                    continue
                if code == 0:
                    future._value = (partition, offset, timestamp)
                else:
                    future._error = _n.KafkaError(value=code, rdkafka_code=rdkafka_code,
                                                  message="message to %s not delivered"
                                                  % future._topic)
                waiting = future._done
                future._done = True
                if waiting is not None or future._callbacks or future._errbacks:
                    woken.append((future, waiting))
        for future, waiting in woken:
            future._completed(waiting)

    def _fail(self, tag, error):
        """Fails a message's future once the lock is released (its errbacks
        may send or flush)."""
        future = self._pending.pop(tag, None)
        if future is not None:
            self._refused.append((future, error))

    def _fail_refused(self):
        while self._refused:
            future, error = self._refused.pop(0)
            future._resolve(None, error)

    def _ship(self):
        """Hands the gathered batch to the library (the lock is held). A
        record it refuses fails its future; the records after it go on."""
        topic, first = self._batch_topic, self._batch_first
        data, lengths = b"".join(self._batch_data), self._batch_lengths
        self._batch_data, self._batch_lengths = [], array.array("q")
        while lengths:
            queued, error = self._producer.send_packed(topic, data, lengths, first,
                                                       self._max_block_ms)
            self._in_flight += queued
            if error is None:
                return
            # Record `queued` was refused: fail it, send the rest.
            skip = sum(n for n in lengths[:2 * queued + 2] if n > 0)
            self._fail(first + queued, error)
            data, lengths, first = data[skip:], lengths[2 * queued + 2:], first + queued + 1

    def send(self, topic, value=None, key=None, headers=None, partition=None,
             timestamp_ms=None):
        """Queues a message (value serialized, JSON by default) and returns
        its FutureRecordMetadata at once."""
        if not topic:
            raise ValueError("send: a topic is required")
        if self._closed:
            raise _n.KafkaError(value=_n.KAFKA_ERR_STATE, message="the producer is closed")
        if self._thread is None:
            self._start_reports()
        if value is None:
            payload = None
        elif self._value_serializer is None:
            payload = _dumps_bytes(value)
        else:
            payload = _as_bytes(self._value_serializer(value), "value_serializer")
        if key is None or key.__class__ is bytes:
            pass
        elif self._key_serializer is None and key.__class__ is str:
            key = key.encode()
        else:
            key = _as_bytes((self._key_serializer or _key_bytes)(key), "key_serializer")
        future = FutureRecordMetadata(topic)
        encoded = self._topics.get(topic)
        if encoded is None:
            encoded = self._topics[topic] = topic.encode("utf-8")
        plain = headers is None and partition is None and not timestamp_ms
        try:
            self._lock.acquire()
            if self._closed:
                raise _n.KafkaError(value=_n.KAFKA_ERR_STATE, message="the producer is closed")
            lengths = self._batch_lengths
            if lengths and (encoded != self._batch_topic or not plain):
                self._ship()  # keeps the order of the messages
                lengths = self._batch_lengths
            tag = self._next_tag
            self._next_tag = tag + 1
            self._pending[tag] = future
            if not plain:
                try:
                    self._producer.send_record(topic, payload, key, headers, partition,
                                               timestamp_ms or 0, None, tag)
                    self._in_flight += 1
                except _n.KafkaError as e:
                    self._fail(tag, e)
                except Exception:
                    self._pending.pop(tag, None)
                    raise
                return future
            if not lengths:
                self._batch_topic, self._batch_first = encoded, tag
            if key is None:
                lengths.append(-1)
            else:
                self._batch_data.append(key)
                lengths.append(len(key))
            if payload is None:
                lengths.append(-1)
            else:
                self._batch_data.append(payload)
                lengths.append(len(payload))
            if self._in_flight == 0 or len(lengths) >= 2 * self.BATCH:
                self._ship()
        finally:
            self._lock.release()
            self._fail_refused()
        return future

    def flush(self, timeout=None):
        """Waits until every message sent so far is answered and its future
        resolved (timeout in seconds; None: no limit). Nothing to do once
        closed."""
        if self._closed:
            return
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            if self._batch_lengths:
                self._ship()
        self._fail_refused()
        ms = -1 if timeout is None else int(timeout * 1000)
        self._producer.flush(ms)
        while self._pending:  # the report thread resolves the last ones
            if deadline is not None and time.monotonic() >= deadline:
                raise _n.KafkaError.timeout(
                    "%d message(s) not answered within %s s" % (len(self._pending), timeout))
            time.sleep(0.001)

    def close(self, timeout=None):
        """Delivers what is queued (up to `timeout` seconds, None: 10 s) and
        releases the producer; what could not be delivered in that time fails
        its future (get() raises), and close returns. Closing again does
        nothing."""
        if self._closed:
            return
        seconds = 10.0 if timeout is None else timeout
        try:
            self.flush(seconds)
        except _n.KafkaError as e:
            if e.value != _n.KAFKA_ERR_TIMEOUT:
                raise
        with self._lock:
            self._closed = True  # sends from now on are refused
            self._stop = True
            thread = self._thread
        if thread is not None:
            thread.join()  # it returns within 100 ms: before the handle goes
        # Outcomes that arrived after the thread's last take.
        buffer = _n.report_buffer(1024)
        view = memoryview(buffer).cast("B")
        while True:
            n = self._producer.reports(buffer, 0)
            if not n:
                break
            self._resolve(_REPORT.iter_unpack(view[:n * _REPORT.size]))
        try:
            self._producer.close(0)
        except _n.KafkaError as e:
            # As kafka-python's close: messages not delivered in time fail
            # their futures (and the library logged it); close itself
            # succeeds. Anything else is raised.
            if e.value != _n.KAFKA_ERR_TIMEOUT:
                raise
        left, self._pending = self._pending, {}
        for future in left.values():
            future._resolve(None, _n.KafkaError.timeout(
                "message to %s not delivered: the producer closed first" % future._topic))

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
        try:
            value = self._value(m.value)
        except Exception as e:
            value = m.value  # never lose a message over its encoding
            failure("a message value could not be decoded; it is given as bytes",
                    __name__ + ".KafkaConsumer", "Kafka Consumer", e)
        return ConsumerRecord(m.topic, m.partition, m.offset, m.timestamp, key, value,
                              m.headers)

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
        default 500), grouped by partition."""
        out = {}
        value, key = self._value, self._key
        for topic, partition, offset, ts, k, v, headers in self._consumer.poll_tuples(
                max_records or 500, timeout_ms):
            if key is not None and k is not None:
                k = key(k)
            try:
                decoded = value(v)
            except Exception as e:
                # Never lose a message over its encoding: it keeps its bytes.
                decoded = v
                failure("a message value could not be decoded; it is given as bytes",
                        __name__ + ".KafkaConsumer.poll", "Kafka Consumer", e)
            record = ConsumerRecord(topic, partition, offset, ts, k, decoded, headers)
            records = out.get((topic, partition))
            if records is None:
                records = out[TopicPartition(topic, partition)] = []
            records.append(record)
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

"""KafkaInstance: one configuration, producers and consumers made from it.

Producers serialize values to JSON; consumers decode them. Names and
behaviour follow kafka-python's KafkaProducer/KafkaConsumer where code
written for them touches them: send() returns a future whose get() waits
for the broker, consumers iterate over records and poll() returns
{TopicPartition: [records]}.
"""

import array
import collections
import contextlib
import ctypes
import json
import os
import struct
import threading
import time
import weakref
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


def _key_bytes(key):
    if key is None or isinstance(key, bytes):
        return key
    if isinstance(key, str):
        return key.encode("utf-8")
    raise TypeError("key must be str, bytes or None, not %s" % type(key).__name__)


def _offset_of(committed):
    """An offset to commit: an int, or kafka-python's OffsetAndMetadata (its
    offset)."""
    offset = getattr(committed, "offset", committed)
    if isinstance(offset, bool) or not isinstance(offset, int):
        raise TypeError("an offset to commit must be an int or an OffsetAndMetadata, not %s"
                        % type(committed).__name__)
    return offset


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

    def _build_base_config(self):
        """The settings every client of this instance starts from, as a
        dict of the library's setting names: the kafka_url (which wins:
        the library parses it into servers and credentials) or the
        bootstrap servers joined with commas, then security_protocol,
        sasl_mechanism, sasl_plain_username, sasl_plain_password,
        client_id, and the consumer settings group_id, auto_offset_reset,
        enable_auto_commit; settings left unset are left out.

        ValueError when the config names neither a kafka_url nor bootstrap
        servers. Internal, as in the KafkaInstance documentation, which
        names it; _base_config() turns it into the library's config."""
        if not self.config.get("kafka_url") and not self.config.get("bootstrap_servers"):
            raise ValueError("KafkaInstance needs a kafka_url or bootstrap servers")
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
        return settings

    def _base_config(self):
        """_build_base_config()'s settings as the library's config."""
        return _n.Config(**self._build_base_config())

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


class _PyFutureBase:
    """FutureRecordMetadata's fields, when the compiled FutureBase is not
    there."""

    __slots__ = ("_topic", "_done", "_value", "_error", "_callbacks", "_errbacks",
                 "_partition", "_offset", "_timestamp")

    def __init__(self, topic):
        self._topic = topic
        self._done = self._value = self._error = self._callbacks = self._errbacks = None
        self._partition = self._offset = self._timestamp = -1


class _PyCore:
    """KafkaProducer.send's common case, and the batch it gathers into, in
    Python: used when the compiled one (_speedups.c) is not built, or when
    KAFKA_INSTANCE_PURE_PYTHON is set. The two take the same steps and
    make the same decisions; keep them in step."""

    def _core_init(self, value_serializer, key_serializer, dumps, future_type, as_bytes,
                   key_bytes, batch, report_size):
        self._core_lock = threading.Lock()  # the batch and the tag counter
        self._future_type = future_type
        self._batch = batch
        self._pending = {}  # tag -> future, until its outcome is taken
        self._ready = collections.deque()  # sealed batches, in order
        self._topics = {}  # topic name -> its UTF-8 bytes
        self._closed = self._started = self._shipping = False
        self._in_flight = 0
        self._next_tag = 1
        self._batch_topic, self._batch_first = None, 0
        self._batch_data, self._batch_lengths = [], array.array("q")

    def send(self, topic, value=None, key=None, headers=None, partition=None,
             timestamp_ms=None):
        """Queues a message (value serialized, JSON by default) and returns
        its FutureRecordMetadata at once."""
        if not topic:
            raise ValueError("send: a topic is required")
        if self._closed:
            self._refuse()
        if not self._started:
            self._start_threads()
        if headers is not None or partition is not None or timestamp_ms:
            return self._send_other(topic, value, key, headers, partition, timestamp_ms)
        if not isinstance(topic, str):
            raise TypeError("topic must be str, not %s" % type(topic).__name__)
        payload = self._payload(value)
        key = self._key(key)
        future = self._future_type(topic)
        encoded = self._topics.get(topic)
        if encoded is None:
            encoded = self._topics[topic] = topic.encode("utf-8")
        sealed = []
        with self._core_lock:
            if self._closed:
                self._refuse()
            lengths = self._batch_lengths
            if lengths and encoded != self._batch_topic:
                sealed.append(self._seal_locked())  # the order is kept
                lengths = self._batch_lengths
            tag = self._next_tag
            self._next_tag = tag + 1
            self._pending[tag] = future
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
            # A full batch goes; so do the gathered ones when nothing is on
            # its way.
            ship = len(lengths) >= 2 * self._batch or not (
                self._in_flight or self._shipping or self._ready)
            if ship:
                sealed.append(self._seal_locked())
        self._ready.extend(sealed)
        if ship:
            self._ship_from_send()
        return future

    def _seal_locked(self):
        """Takes the gathered batch out (the core lock held); None when
        nothing is gathered."""
        if not self._batch_lengths:
            return None
        sealed = (self._batch_topic, self._batch_first, b"".join(self._batch_data),
                  self._batch_lengths.tobytes())
        self._batch_topic, self._batch_data, self._batch_lengths = None, [], array.array("q")
        return sealed

    def _seal(self):
        """Moves the gathered batch, if any, to the ready ones."""
        with self._core_lock:
            sealed = self._seal_locked()
        if sealed is not None:
            self._ready.append(sealed)

    def _take_tag(self):
        """A tag for a message sent on its own. The gathered batch is
        sealed first: a batch's tags follow each other."""
        with self._core_lock:
            sealed = self._seal_locked()
            tag = self._next_tag
            self._next_tag = tag + 1
        if sealed is not None:
            self._ready.append(sealed)
        return tag

    def _resolve_reports(self, view, n):
        """The outcomes of the first n reports in `view` (bytes of
        KafkaTrackedReports): ([(future, what its _done was)] to complete,
        [(future, code, rdkafka_code)] that failed). The futures' lock is
        held."""
        pending = self._pending
        woken, failed = [], []
        for tag, code, rdkafka_code, partition, offset, timestamp in _REPORT.iter_unpack(
                view[:n * _REPORT.size]):
            future = pending.pop(tag, None)
            if future is None:
                continue
            if code:
                failed.append((future, code, rdkafka_code))
                continue
            future._partition, future._offset, future._timestamp = partition, offset, timestamp
            waiting = future._done
            future._done = True
            if waiting is not None or future._callbacks or future._errbacks:
                woken.append((future, waiting))
        return woken, failed


try:  # the compiled parts; the same behaviour in Python otherwise
    if os.environ.get("KAFKA_INSTANCE_PURE_PYTHON"):
        raise ImportError("KAFKA_INSTANCE_PURE_PYTHON is set")
    from ._speedups import FutureBase as _FutureBase, ProducerCore as _Core
except ImportError:
    _FutureBase, _Core = _PyFutureBase, _PyCore

COMPILED = _Core is not _PyCore
"""Whether KafkaProducer.send's common case and the resolving of its
futures run compiled (kafka_instance/_speedups.c)."""


class FutureRecordMetadata(_FutureBase):
    """What became of one sent message: get(timeout) waits for the broker's
    answer and returns RecordMetadata, or raises the KafkaError that
    refused it (code KAFKA_ERR_TIMEOUT when the wait ran out).
    add_callback / add_errback functions run on the producer's report
    thread (or at once when the answer is already there).

    _done is None, then a threading.Event once someone waits, then True."""

    __slots__ = ()

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
        self._callbacks = self._errbacks = None  # no cycle through them once run
        for fn in callbacks or ():
            try:
                fn(self.exception if self._error is not None else self.value)
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
        """The KafkaError that refused the message (a copy), or None."""
        return None if self._error is None else _fresh(self._error)

    @property
    def value(self):
        v = self._value
        if v is None and self._done is True and self._error is None:  # made on demand
            v = self._value = RecordMetadata(self._topic, self._partition, self._offset,
                                             self._timestamp)
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
            fn(self.exception)
        return self

    def get(self, timeout=None):
        """The RecordMetadata once the broker answered (waiting up to
        `timeout` seconds, None: no limit), or raises the KafkaError that
        refused the message. Inside a send callback, waiting for a future
        not yet done raises KafkaError(KAFKA_ERR_STATE): callbacks run on
        the thread that resolves futures, which would wait for itself."""
        if self._done is not True:
            if threading.get_ident() in _REPORT_THREADS:
                raise _n.KafkaError(value=_n.KAFKA_ERR_STATE, message=(
                    "get() of a message to %s not yet answered was called inside a send "
                    "callback, whose thread resolves it: call it from another thread"
                    % self._topic))
            with _FUTURE_LOCK:
                if self._done is None:
                    self._done = threading.Event()
                event = self._done
            if event is not True and not event.wait(timeout):
                raise _n.KafkaError.timeout(
                    "no answer from the broker for a message to %s within %s s"
                    % (self._topic, timeout))
        if self._error is not None:
            raise _fresh(self._error)
        return self.value


def _fresh(error):
    """A copy of `error` with no traceback. A future keeps an exception
    that was never raised and hands out copies: a raised exception's
    traceback holds frames that can hold the future, and the compiled
    future is not tracked by the cycle collector, which could then never
    free that loop."""
    copy = error.__class__.__new__(error.__class__)
    copy.__dict__.update(error.__dict__)
    copy.args = error.args
    return copy


if COMPILED:
    # Instances of a class written in Python are tracked by the cycle
    # collector, and a producer keeps thousands of futures alive at a time:
    # the collector went through all of them again and again. The compiled
    # FutureBase is not tracked, so it takes the methods above and is the
    # class.
    for _name, _attr in list(vars(FutureRecordMetadata).items()):
        if _name not in ("__module__", "__qualname__", "__slots__"):
            setattr(_FutureBase, _name, _attr)
    _FutureBase.__name__ = _FutureBase.__qualname__ = "FutureRecordMetadata"
    _FutureBase.__module__ = __name__
    FutureRecordMetadata = _FutureBase

_FUTURE_LOCK = threading.Lock()
_REPORT_THREADS = set()  # the idents of the producers' report threads

# A KafkaTrackedReport: tag, code, rdkafka_code, partition, offset,
# timestamp_ms (native layout, as ctypes lays out _TrackedReport).
_REPORT = struct.Struct("@Qiiiqq")
assert _REPORT.size == ctypes.sizeof(_n._TrackedReport)


class KafkaProducer(_Core):
    """Sends messages; thread-safe. Made by KafkaInstance.get_producer.

    Like kafka-python's, it gathers messages while earlier ones are on
    their way: a message sent when nothing is in flight goes into the
    library at once; the ones that follow are gathered in batches of up to
    500, and each full batch is handed over to the library in one call
    that copies it and returns. The library's own sender thread queues the
    records, without Python's lock, in the order they were handed over;
    send() waits only when 20,000 records are waiting for it (up to
    max_block_ms). A batch not yet full goes as soon as earlier outcomes
    arrive. A message with headers, a partition or a timestamp goes in a
    call of its own, once the messages gathered before it are in the
    library's queue (waiting up to max_block_ms, as for room).

    The library keeps each message's outcome, and a thread of this
    producer (the report thread) takes them in bulk, resolves the futures
    and runs their callbacks: no call from the library into Python per
    message. A message that could not be queued (no room in the library's
    queue within max_block_ms of its send, too large) fails its future, on
    the same thread.

    send()'s common case (no headers, partition or timestamp) is compiled
    when the package was built with a C compiler and Python's headers
    (COMPILED says whether), and the same steps in Python otherwise."""

    BATCH = 500
    READY = 32
    REPORTS = 8192  # outcomes taken at most at a time
    GATHER_MS = 5

    def __init__(self, instance, value_serializer=None, key_serializer=None,
                 max_block_ms=60000, **kwargs):
        # None: the defaults (JSON values, str keys as UTF-8).
        self._value_serializer = value_serializer
        self._key_serializer = key_serializer
        self._max_block_ms = int(max_block_ms)
        self._core_init(value_serializer, key_serializer, _dumps_bytes, FutureRecordMetadata,
                        _as_bytes, _key_bytes, self.BATCH, _REPORT.size)
        self._producer = instance.native.get_producer(**kwargs)
        # The ready batches' hand-over, the in-flight count, the threads.
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)  # batches taken or shipped
        self._refused = []  # (future, error) for the report thread to fail
        self._completing = 0  # futures done whose callbacks are running
        self._close_deadline = None  # set by close: nothing waits past it
        self._calling = 0  # threads in a send of their own (_send_other)
        self._stop = False
        self._thread = None
        self._pid = os.getpid()
        self._forked = None  # the error a child of a fork gets
        _PRODUCERS.add(self)

    def _payload(self, value):
        if value is None:
            return None
        if self._value_serializer is None:
            return _dumps_bytes(value)
        return _as_bytes(self._value_serializer(value), "value_serializer")

    def _key(self, key):
        if key is None or key.__class__ is bytes:
            return key
        if self._key_serializer is None and key.__class__ is str:
            return key.encode()
        return _as_bytes((self._key_serializer or _key_bytes)(key), "key_serializer")

    def _refuse(self):
        raise _fresh(self._forked) if self._forked else _n.KafkaError(
            value=_n.KAFKA_ERR_STATE, message="the producer is closed")

    def _forked_away(self):
        """In the child of a fork (os.register_at_fork): the producer's
        threads and its library client stay with the parent. Sends and
        flush are refused at once (KAFKA_ERR_STATE) instead of queueing
        messages nothing will send, close does nothing (it would release
        nothing here), and the futures still pending fail with that error
        (without running their callbacks). The locks are made anew: another
        thread of the parent may have held one."""
        self._forked = _n.KafkaError(value=_n.KAFKA_ERR_STATE, message=(
            "this producer was created in process %d and cannot be used after fork(): "
            "create producers in the process that uses them" % self._pid))
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        if not COMPILED:
            self._core_lock = threading.Lock()
        self._closed = self._stop = True
        left = list(self._pending.values()) + [f for f, _ in self._refused]
        self._pending.clear()
        del self._refused[:]
        for future in left:
            future._error, future._done = _fresh(self._forked), True

    def _start_threads(self):
        with self._lock:
            if self._thread is None and not self._stop:
                self._thread = threading.Thread(target=self._take_reports,
                                                name="kafka-reports", daemon=True)
                self._thread.start()
                self._started = True

    def _take_reports(self):
        _REPORT_THREADS.add(threading.get_ident())
        try:
            self._report_loop()
        finally:
            _REPORT_THREADS.discard(threading.get_ident())

    def _report_loop(self):
        buffer = _n.report_buffer(self.REPORTS)
        view = memoryview(buffer).cast("B")
        while not self._stop:
            try:
                # While messages stream, the library gathers their outcomes
                # for a few ms: each take costs a turn of Python's lock,
                # which the sending thread then waits for.
                n = self._producer.reports(buffer, 100, self.GATHER_MS)
            except _n.KafkaError as e:  # the producer is gone: nothing more comes
                failure("taking delivery reports failed", __name__ + ".KafkaProducer",
                        "Kafka Producer", e)
                return
            try:
                if n:
                    self._resolve(view, n)
                self._fail_refused()
                with self._lock:
                    self._in_flight -= n
                self._seal()  # the gathered ones go now
                self._ship_ready(wait=False)  # this thread must not wait for room
            except Exception as e:  # this thread must go on resolving futures
                failure("resolving delivery reports failed", __name__ + ".KafkaProducer",
                        "Kafka Producer", e)

    def _ship_from_send(self):
        """send() sealed a batch: this thread hands the ready ones over,
        or, while another thread does, goes on unless too many wait."""
        while True:
            self._ship_ready()
            with self._lock:
                if len(self._ready) < self.READY:
                    return
                if self._shipping:
                    self._changed.wait()

    def _resolve(self, view, n):
        """Resolves the futures of the first n reports in `view`. Under the
        futures' lock, once per batch: a delivered message's future nobody
        waits for and without callbacks is only marked done; the others
        are completed after the lock is released."""
        with _FUTURE_LOCK:
            woken, failed = self._resolve_reports(view, n)
            for future, code, rdkafka_code in failed:
                future._error = _n.KafkaError(value=code, rdkafka_code=rdkafka_code,
                                              message="message to %s not delivered"
                                              % future._topic)
                woken.append((future, future._done))
                future._done = True
            self._completing += len(woken)  # flush waits for their callbacks
        try:
            for future, waiting in woken:
                future._completed(waiting)
        finally:
            self._completing -= len(woken)

    def _fail(self, tag, error):
        """Fails a message's future (self._lock held): the report thread
        resolves it, as every future, and runs its errbacks."""
        future = self._pending.pop(tag, None)
        if future is not None:
            self._refused.append((future, _fresh(error)))

    def _fail_refused(self):
        """On the report thread (or in close, once it stopped)."""
        refused = self._refused
        while refused:
            future, error = refused.pop(0)
            self._completing += 1  # before it is done: flush waits for its errbacks
            try:
                future._resolve(None, error)
            finally:
                self._completing -= 1

    def _merged(self):
        """Takes the ready batches (self._lock held), the ones that follow
        each other (same topic, tags in sequence) joined: one hand-over for
        them. Each is [topic, first tag, data parts, lengths parts, count]."""
        batches = []
        ready = self._ready
        for _ in range(len(ready)):  # sends may append meanwhile
            topic, first, data, lengths = ready.popleft()
            count = len(lengths) // 16  # two int64 per record
            self._in_flight += count
            if batches:
                last = batches[-1]
                if last[0] == topic and last[1] + last[4] == first:
                    last[2].append(data)
                    last[3].append(lengths)
                    last[4] += count
                    continue
            batches.append([topic, first, [data], [lengths], count])
        return batches

    def _ship_ready(self, deadline=None, wait=True):
        """Hands the ready batches to the library in order, outside the
        lock; returns at once when another thread is doing it (that thread
        takes these too). When the library's hand-over room is full, waits
        for it: up to max_block_ms for a batch (then its futures fail), and
        not past `deadline` or a close's deadline; with wait=False not at
        all. Batches not handed over stay ready, in order."""
        with self._lock:
            if self._shipping:
                return
            self._shipping = True
        try:
            while True:
                with self._lock:
                    if not self._ready:
                        return
                    batches = self._merged()
                    self._changed.notify_all()
                for k, batch in enumerate(batches):
                    if not self._hand_over(batch, deadline, wait):
                        with self._lock:  # back, in front of the ones sealed since
                            for topic, first, data, lengths, count in reversed(batches[k:]):
                                self._in_flight -= count
                                self._ready.appendleft(
                                    (topic, first, b"".join(data), b"".join(lengths)))
                        return
        finally:
            with self._lock:
                self._shipping = False
                self._changed.notify_all()

    def _hand_over(self, batch, deadline, wait):
        """One merged batch to the library: True once it is handed over, or
        failed (its futures then fail); False when there was no room and
        this call may not wait (more)."""
        topic, first, data, lengths, count = batch
        data = data[0] if len(data) == 1 else b"".join(data)
        lengths = lengths[0] if len(lengths) == 1 else b"".join(lengths)
        blocked_until = None
        while True:
            try:
                self._producer.hand_over_packed(topic, data, lengths, first,
                                                self._max_block_ms)
                return True
            except _n.KafkaError as e:
                error = e
            if error.value == _n.KAFKA_ERR_QUEUE_FULL:
                if not wait:
                    return False
                now = time.monotonic()
                if blocked_until is None:
                    blocked_until = now + self._max_block_ms / 1000.0
                closing = self._close_deadline
                limits = [t for t in (blocked_until, deadline, closing) if t is not None]
                if now < min(limits):
                    try:  # room comes as the library queues what it was handed
                        self._producer.wait_handed_over(
                            max(1, min(100, int((min(limits) - now) * 1000))))
                    except _n.KafkaError as e:
                        if e.value != _n.KAFKA_ERR_TIMEOUT:
                            raise
                    continue
                if now < blocked_until and (closing is None or now < closing):
                    return False  # the caller's time is up, not the messages'
                error = _n.KafkaError.timeout(
                    "no room in the library's queue for a message to %s within %s" % (
                        topic.decode("utf-8", "replace"),
                        "max_block_ms" if now >= blocked_until else "close's timeout"))
            with self._lock:
                self._in_flight -= count
                for tag in range(first, first + count):
                    self._fail(tag, error)
            return True

    def _drain(self, queued=True, deadline=None):
        """Hands every message gathered so far over to the library (waiting
        for room, not past `deadline`) and, with `queued`, waits until the
        library queued them, so that what is sent next goes after them."""
        self._seal()
        while True:
            self._ship_ready(deadline)
            with self._lock:
                if not self._ready and not self._shipping:
                    break
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    return
                if self._shipping:
                    self._changed.wait(0.1 if left is None else min(0.1, left))
        if queued:
            try:
                self._producer.wait_handed_over(self._max_block_ms)
            except _n.KafkaError as e:
                if e.value != _n.KAFKA_ERR_TIMEOUT:
                    raise

    def _send_other(self, topic, value, key, headers, partition, timestamp_ms):
        """A message with headers, a partition or a timestamp: after the
        ones gathered before it, in a call of its own."""
        payload = self._payload(value)
        key = self._key(key)
        future = FutureRecordMetadata(topic)
        self._drain()
        with self._lock:
            if self._closed:
                self._refuse()
            tag = self._take_tag()
            self._pending[tag] = future
            self._in_flight += 1
            self._calling += 1  # close waits for this thread's calls
        try:
            self._send_record(topic, payload, key, headers, partition, timestamp_ms, tag)
        except _n.KafkaError as e:
            with self._lock:
                self._in_flight -= 1
                self._fail(tag, e)
        except Exception:
            with self._lock:
                self._in_flight -= 1
                self._pending.pop(tag, None)
            raise
        finally:
            with self._lock:
                self._calling -= 1
                self._changed.notify_all()
        return future

    def _send_record(self, topic, payload, key, headers, partition, timestamp_ms, tag):
        """Queues one message in a call of its own; a full queue is tried
        again for up to max_block_ms (not past a close's deadline), as the
        gathered messages wait for room."""
        until = time.monotonic() + self._max_block_ms / 1000.0
        while True:
            try:
                self._producer.send_record(topic, payload, key, headers, partition,
                                           timestamp_ms or 0, None, tag)
                return
            except _n.KafkaError as e:
                closing = self._close_deadline
                now = time.monotonic()
                if (e.value != _n.KAFKA_ERR_QUEUE_FULL or now >= until
                        or (closing is not None and now >= closing)):
                    raise
            time.sleep(0.001)

    def flush(self, timeout=None):
        """Waits until every message sent before the call is answered, its
        future done and its callbacks run (timeout in seconds; None: no
        limit); messages other threads send meanwhile do not hold it up.
        KafkaError KAFKA_ERR_TIMEOUT when the time ran out. Nothing to do
        once closed. Inside a send callback of this producer it raises
        KafkaError(KAFKA_ERR_STATE): the callback's thread resolves the
        futures it would wait for (so does close)."""
        if self._forked:
            raise _fresh(self._forked)
        if self._closed:
            return
        self._not_in_a_callback()
        deadline = None if timeout is None else time.monotonic() + timeout
        # The futures to wait for. Under both locks, a future is either
        # pending, refused (in _refused) or done.
        with self._lock, _FUTURE_LOCK:
            waiting = list(self._pending.values())
            waiting.extend(future for future, _ in self._refused)
        self._drain(queued=False, deadline=deadline)
        at = 0
        while True:
            while at < len(waiting) and waiting[at]._done is True:
                at += 1  # they are answered roughly in the order sent
            if at == len(waiting) and not self._completing:
                return
            if deadline is not None and time.monotonic() >= deadline:
                left = sum(1 for f in waiting[at:] if f._done is not True)
                raise _n.KafkaError.timeout(
                    "%d message(s) not answered within %s s" % (left, timeout))
            time.sleep(0.001)

    def _not_in_a_callback(self):
        if threading.current_thread() is self._thread:
            raise _n.KafkaError(value=_n.KAFKA_ERR_STATE, message=(
                "flush() or close() was called inside a send callback of the same producer, "
                "whose thread resolves the futures it would wait for: call it from another "
                "thread"))

    def close(self, timeout=None):
        """Refuses sends from then on (KafkaError KAFKA_ERR_STATE), delivers
        what was sent before (up to `timeout` seconds, None: 10 s) and
        releases the producer; what could not be delivered in that time fails
        its future (get() raises), and close returns. Closing again does
        nothing; inside a send callback of this producer it raises
        KafkaError(KAFKA_ERR_STATE) (see flush)."""
        if self._closed:
            return
        self._not_in_a_callback()
        seconds = 10.0 if timeout is None else timeout
        deadline = time.monotonic() + seconds
        with self._lock:
            self._closed = True  # sends from now on are refused
            self._close_deadline = deadline  # and nothing waits past it
        self._drain(queued=False, deadline=deadline)  # the library's flush waits for them
        try:
            self._producer.flush(max(0, int((deadline - time.monotonic()) * 1000)))
        except _n.KafkaError as e:
            if e.value != _n.KAFKA_ERR_TIMEOUT:
                raise
        while (self._pending or self._refused) and time.monotonic() < deadline:
            time.sleep(0.001)  # the report thread resolves the last ones
        with self._lock:
            self._stop = True
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()  # it returns within 100 ms: before the handle goes
        with self._lock:  # other threads' calls end at the deadline: before the handle goes
            while self._shipping or self._calling:
                self._changed.wait(0.1)
        # From here callbacks run on this thread, which resolves the last
        # futures: get() of one not yet answered must not wait for itself.
        me = threading.get_ident()
        _REPORT_THREADS.add(me)
        try:
            # Outcomes that arrived after the thread's last take.
            buffer = _n.report_buffer(1024)
            view = memoryview(buffer).cast("B")
            while True:
                n = self._producer.reports(buffer, 0)
                if not n:
                    break
                self._resolve(view, n)
            self._fail_refused()
            try:
                self._producer.close(0)
            except _n.KafkaError as e:
                # As kafka-python's close: messages not delivered in time
                # fail their futures (and the library logged it); close
                # itself succeeds. Anything else is raised.
                if e.value != _n.KAFKA_ERR_TIMEOUT:
                    raise
            left = list(self._pending.values())
            self._pending.clear()
            for future in left:
                future._resolve(None, _n.KafkaError.timeout(
                    "message to %s not delivered: the producer closed first" % future._topic))
        finally:
            _REPORT_THREADS.discard(me)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


_PRODUCERS = weakref.WeakSet()  # this process's producers, for a fork's child


def _after_fork_in_child():
    for producer in list(_PRODUCERS):
        producer._forked_away()


os.register_at_fork(after_in_child=_after_fork_in_child)


class KafkaConsumer:
    """Reads messages from its topics. Iterating yields ConsumerRecords;
    poll() returns {TopicPartition: [ConsumerRecord]}. A message counts as
    processed (its offset may be committed) once the next message is asked
    for, or at commit() or close(); commit(message) commits through one
    record instead."""

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

    def commit(self, message=None, offsets=None):
        """Commits and waits for the broker:

        - commit(): every message handed out so far, as kafka-python's
          does: the whole batch the last poll() returned, the records after
          the one being processed included;
        - commit(message): through that record only: its partition's offset
          becomes message.offset + 1 (the next to read), nothing else is
          committed, and what a later commit() commits is unchanged. For a
          batch processed record by record with at-least-once: commit each
          record once processed, and a record that failed, and the ones
          after it, stay uncommitted;
        - commit(offsets={TopicPartition: offset}): exactly those offsets,
          each the next message to read (an int, or kafka-python's
          OffsetAndMetadata, whose metadata is not stored). As in
          kafka-python, the dict may also be passed as the first argument.
        """
        try:
            if isinstance(message, dict) and offsets is None:
                message, offsets = None, message  # kafka-python's commit(offsets)
            if message is not None and offsets is not None:
                raise TypeError("commit: a message or offsets, not both")
            if message is not None:
                self._consumer.commit(message)
            elif offsets is not None:
                self._consumer.commit_offsets(
                    [(tp[0], tp[1], _offset_of(o)) for tp, o in offsets.items()])
            else:
                self._consumer.commit()
        except Exception as e:
            failure("Kafka commit failed", __name__ + ".KafkaConsumer.commit",
                    "Kafka Consumer", e)
            raise

    def close(self, autocommit=True):
        """Leaves the group and releases the consumer. With auto-commit on
        (the default) it first commits what was processed (what poll()
        returned, the record iteration gave last); with it off it commits
        nothing: what was not committed is read again by the group."""
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

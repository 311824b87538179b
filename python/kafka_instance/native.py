"""The C API of kafka_instance, one call for one call, over ctypes
(standard library only). The rest of the package is built on it; use it
directly for what the KafkaInstance API does not cover (admin calls,
statistics, transactions, rebalance callbacks).

The FFI rules any language follows:
- every fallible call takes a KafkaError* last; check its code;
- handles (config, instance, producer, consumer, message) are owned by the
  caller and released with their free/close function exactly once;
- strings go in as NUL-terminated UTF-8 bytes; bytes come back as
  (pointer, length) pairs that stay valid until the owning handle is freed;
- callbacks may run on library threads: keep the ctypes function objects
  alive as long as the library may call them, and never let an exception
  unwind into the library (every trampoline here catches).

The library is found through KAFKA_INSTANCE_LIB (a path), else the copy
installed with this package, else the system loader (an installed
libkafka_instance.so.0), else this repository's target/release or
target/debug. Its log records go to Python's logging, logger
"kafka_instance", with the structured fields as `extra`.
"""

import atexit
import ctypes
import glob
import json
import logging
import os
import struct
import threading
import weakref
from ctypes import (CFUNCTYPE, POINTER, Structure, byref, c_bool, c_char,
                    c_char_p, c_int, c_int32, c_int64, c_size_t, c_void_p)


def _load():
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.environ.get("KAFKA_INSTANCE_LIB")
    if path:
        return ctypes.CDLL(path)
    bundled = sorted(glob.glob(os.path.join(here, "_kafka_instance*.so")))
    if bundled:
        return ctypes.CDLL(bundled[0])
    try:
        return ctypes.CDLL("libkafka_instance.so.0")
    except OSError:
        pass
    root = os.path.join(here, "..", "..", "target")
    built = [os.path.join(root, profile, "libkafka_instance.so") for profile in ("release", "debug")]
    built = sorted((p for p in built if os.path.exists(p)), key=os.path.getmtime, reverse=True)
    if built:  # the newest build of this checkout
        return ctypes.CDLL(built[0])
    raise OSError("libkafka_instance.so not found: set KAFKA_INSTANCE_LIB to its path, "
                  "install this package with pip, or install the library "
                  "(scripts/install.sh, then ldconfig)")


lib = _load()


class _Error(Structure):
    _fields_ = [("code", c_int), ("rdkafka_code", c_int32), ("retriable", c_bool),
                ("fatal", c_bool), ("txn_requires_abort", c_bool), ("message", c_char * 512)]


HANDLER = CFUNCTYPE(c_int, c_void_p, c_void_p)


class _LogRecord(Structure):
    _fields_ = [("level", c_int), ("log_type", c_char_p), ("message", c_char_p),
                ("controller", c_char_p), ("subject", c_char_p), ("payload_json", c_char_p)]


LOG_CALLBACK = CFUNCTYPE(None, POINTER(_LogRecord), c_void_p)
logger = logging.getLogger("kafka_instance")
_LEVELS = {3: logging.ERROR, 4: logging.WARNING, 6: logging.INFO, 7: logging.DEBUG}


def _forward(record, _opaque):
    r = record.contents
    level = _LEVELS.get(r.level, logging.INFO)
    if logger.isEnabledFor(level):
        logger.log(level, r.message.decode("utf-8", "replace"), extra={
            "log_type": r.log_type.decode(),
            "controller": r.controller.decode(),
            "subject": r.subject.decode(),
            "payload": json.loads(r.payload_json) if r.payload_json else None,
        })


class _TopicPartition(Structure):
    _fields_ = [("topic", c_char_p), ("partition", c_int32), ("offset", c_int64),
                ("low_watermark", c_int64), ("high_watermark", c_int64),
                ("committed", c_int64), ("lag", c_int64), ("uncommitted_lag", c_int64)]


class _Broker(Structure):
    _fields_ = [("id", c_int32), ("host", c_char_p), ("port", c_int32)]


class _PartitionInfo(Structure):
    _fields_ = [("topic", c_char_p), ("partition", c_int32), ("leader", c_int32),
                ("replicas", POINTER(c_int32)), ("replica_count", c_size_t),
                ("in_sync", POINTER(c_int32)), ("in_sync_count", c_size_t),
                ("error", c_int), ("rdkafka_code", c_int32)]


class _GroupMember(Structure):
    _fields_ = [("member_id", c_char_p), ("client_id", c_char_p), ("host", c_char_p),
                ("assignment", POINTER(_TopicPartition)), ("assignment_count", c_size_t)]


class _Group(Structure):
    _fields_ = [("name", c_char_p), ("state", c_char_p), ("protocol_type", c_char_p),
                ("protocol", c_char_p), ("members", POINTER(_GroupMember)),
                ("member_count", c_size_t)]


class _ConfigEntry(Structure):
    _fields_ = [("name", c_char_p), ("value", c_char_p), ("set_on_topic", c_bool),
                ("is_default", c_bool), ("is_read_only", c_bool), ("is_sensitive", c_bool)]


class _BrokerStatistics(Structure):
    _fields_ = [("name", c_char_p), ("node_id", c_int32), ("state", c_char_p),
                ("rtt_avg_us", c_int64), ("rtt_p99_us", c_int64)]


class _PartitionStatistics(Structure):
    _fields_ = [("topic", c_char_p), ("partition", c_int32), ("consumer_lag", c_int64),
                ("high_watermark", c_int64), ("committed_offset", c_int64),
                ("queued_messages", c_int64)]


class _Statistics(Structure):
    _fields_ = [("client_name", c_char_p), ("client_type", c_char_p),
                ("messages_sent", c_int64), ("bytes_sent", c_int64),
                ("messages_received", c_int64), ("bytes_received", c_int64),
                ("queued_messages", c_int64), ("queued_bytes", c_int64),
                ("brokers", POINTER(_BrokerStatistics)), ("broker_count", c_size_t),
                ("partitions", POINTER(_PartitionStatistics)), ("partition_count", c_size_t)]


class _OAuthToken(Structure):
    _fields_ = [("token", c_char_p), ("principal", c_char_p), ("lifetime_ms", c_int64),
                ("error", c_char_p)]


STATISTICS_CALLBACK = CFUNCTYPE(None, c_void_p, c_size_t, POINTER(_Statistics), c_void_p)
OAUTH_CALLBACK = CFUNCTYPE(c_int, c_char_p, POINTER(_OAuthToken), c_void_p)


def _struct(s):
    """A ctypes structure as a dict, C strings decoded."""
    out = {}
    for name, _ in s._fields_:
        v = getattr(s, name)
        out[name] = v.decode("utf-8", "replace") if isinstance(v, bytes) else v
    return out


def _array(ptr, count):
    return [ptr[i] for i in range(count)] if count else []


# Objects whose library threads call Python (statistics, tokens): released
# before the interpreter finalizes, when such a call could no longer take
# the GIL (Python ends a thread that tries, which the library cannot
# survive).
_with_callbacks = weakref.WeakSet()


@atexit.register
def _release_callback_users():
    for obj in list(_with_callbacks):
        try:
            obj.close() if hasattr(obj, "close") else obj.free()
        except Exception:  # at exit: release what can be released
            pass
    for obj in list(_with_callbacks):
        if hasattr(obj, "free"):
            obj.free()


class _DeliveryReport(Structure):
    _fields_ = [("code", c_int), ("rdkafka_code", c_int32), ("topic", c_char_p),
                ("partition", c_int32), ("offset", c_int64), ("timestamp_ms", c_int64)]


class _Header(Structure):
    _fields_ = [("name", c_char_p), ("value", c_void_p), ("value_len", c_size_t)]


class _Record(Structure):
    _fields_ = [("topic", c_char_p), ("key", c_char_p), ("key_len", c_size_t),
                ("value", c_char_p), ("value_len", c_size_t),
                ("headers", POINTER(_Header)), ("header_count", c_size_t),
                ("has_partition", c_bool), ("partition", c_int32), ("timestamp_ms", c_int64)]


class _MessageView(Structure):
    _fields_ = [("topic", c_void_p), ("partition", c_int32), ("offset", c_int64),
                ("timestamp_ms", c_int64), ("key", c_void_p), ("key_len", c_size_t),
                ("value", c_void_p), ("value_len", c_size_t), ("header_count", c_size_t)]


# A _MessageView as struct unpacks it (native layout).
_VIEW = struct.Struct("@PiqqPNPNN")


class _TrackedReport(Structure):
    _fields_ = [("tag", ctypes.c_uint64), ("code", c_int), ("rdkafka_code", c_int32),
                ("partition", c_int32), ("offset", c_int64), ("timestamp_ms", c_int64)]


# The opaque of a delivery callback is declared an integer: a message id.
DELIVERY_CALLBACK = CFUNCTYPE(None, POINTER(_DeliveryReport), c_size_t)
REBALANCE = CFUNCTYPE(None, c_void_p, c_int, c_void_p, c_void_p)
COMMIT_CALLBACK = CFUNCTYPE(None, c_void_p, POINTER(_Error), c_void_p, c_void_p)
KAFKA_REBALANCE_ASSIGNED, KAFKA_REBALANCE_REVOKED, KAFKA_REBALANCE_LOST = 1, 2, 3
KAFKA_OFFSET_BEGINNING, KAFKA_OFFSET_END = -2, -1
KAFKA_OFFSET_COMMITTED, KAFKA_OFFSET_NONE = -1000, -1001


def _partitions(handle, free=True):
    """A C partition list as [dict], freed unless it is borrowed."""
    out = []
    for i in range(lib.kafka_partition_list_count(handle)):
        p = lib.kafka_partition_list_get(handle, i).contents
        out.append({name: getattr(p, name) for name, _ in p._fields_})
        out[-1]["topic"] = p.topic.decode()
    if free:
        lib.kafka_partition_list_free(handle)
    return out


def _list(partitions):
    """[(topic, partition[, offset])] as a new C partition list."""
    handle = lib.kafka_partition_list_new()
    try:
        for item in partitions:
            topic, partition = item[0], item[1]
            offset = item[2] if len(item) > 2 else KAFKA_OFFSET_COMMITTED
            _call(lib.kafka_partition_list_add, handle, _b(topic), partition, offset)
    except Exception:
        lib.kafka_partition_list_free(handle)
        raise
    return handle


def _sig(name, restype, *argtypes):
    f = getattr(lib, name)
    f.restype, f.argtypes = restype, list(argtypes)


_E = POINTER(_Error)
_sig("kafka_error_code_name", c_char_p, c_int)
_sig("kafka_config_new", c_void_p)
_sig("kafka_config_free", None, c_void_p)
_sig("kafka_config_set", c_int, c_void_p, c_char_p, c_char_p, _E)
_sig("kafka_instance_new", c_void_p, c_void_p, _E)
_sig("kafka_instance_free", None, c_void_p)
_sig("kafka_instance_get_producer", c_void_p, c_void_p, c_void_p, _E)
_sig("kafka_instance_create_topic", c_int, c_void_p, c_char_p, c_int32, c_int32, c_int32, _E)
_sig("kafka_producer_send_json", c_int, c_void_p, c_char_p, c_char_p, c_char_p, _E)
_sig("kafka_producer_flush", c_int, c_void_p, c_int32, POINTER(c_size_t), _E)
_sig("kafka_producer_close", c_int, c_void_p, c_int32, _E)
_sig("kafka_producer_send_json_array", c_int, c_void_p, c_char_p, c_char_p, c_char_p,
     c_size_t, c_void_p, c_void_p, POINTER(c_int), _E)
_sig("kafka_producer_init_transactions", c_int, c_void_p, c_int32, _E)
_sig("kafka_producer_begin_transaction", c_int, c_void_p, _E)
_sig("kafka_producer_commit_transaction", c_int, c_void_p, c_int32, _E)
_sig("kafka_producer_abort_transaction", c_int, c_void_p, c_int32, _E)
_sig("kafka_producer_send_offsets_to_transaction", c_int, c_void_p, c_void_p, c_void_p, c_int32, _E)
_sig("kafka_producer_fatal_error", c_bool, c_void_p, _E)
_sig("kafka_instance_get_consumer", c_void_p, c_void_p, POINTER(c_char_p), c_size_t, c_void_p, _E)
_sig("kafka_consumer_register_handler", c_int, c_void_p, c_char_p, HANDLER, c_void_p, _E)
_sig("kafka_consumer_consume", c_int, c_void_p, c_int32, POINTER(c_size_t), _E)
_sig("kafka_consumer_close", c_int, c_void_p, _E)
_sig("kafka_consumer_store_message", c_int, c_void_p, c_void_p, _E)
_sig("kafka_consumer_wakeup", c_int, c_void_p, _E)
_sig("kafka_message_topic", c_char_p, c_void_p)
_sig("kafka_message_partition", c_int32, c_void_p)
_sig("kafka_message_offset", c_int64, c_void_p)
_sig("kafka_message_key", c_void_p, c_void_p, POINTER(c_size_t))
_sig("kafka_message_value", c_void_p, c_void_p, POINTER(c_size_t))
_sig("kafka_mock_cluster_new", c_void_p, c_int32, _E)
_sig("kafka_mock_cluster_bootstrap_servers", c_char_p, c_void_p)
_sig("kafka_mock_cluster_create_topic", c_int, c_void_p, c_char_p, c_int32, c_int32, _E)
_sig("kafka_mock_cluster_free", None, c_void_p)
_sig("kafka_set_log_callback", None, LOG_CALLBACK, c_void_p, c_int)
_sig("kafka_partition_list_new", c_void_p)
_sig("kafka_instance_delete_topic", c_int, c_void_p, c_char_p, c_int32, _E)
_sig("kafka_instance_describe_cluster", c_int, c_void_p, c_int32, POINTER(c_void_p), _E)
_sig("kafka_instance_describe_topic", c_int, c_void_p, c_char_p, c_int32, POINTER(c_void_p), _E)
_sig("kafka_cluster_id", c_char_p, c_void_p)
_sig("kafka_cluster_broker_count", c_size_t, c_void_p)
_sig("kafka_cluster_broker", POINTER(_Broker), c_void_p, c_size_t)
_sig("kafka_cluster_partition_count", c_size_t, c_void_p)
_sig("kafka_cluster_partition", POINTER(_PartitionInfo), c_void_p, c_size_t)
_sig("kafka_cluster_free", None, c_void_p)
_sig("kafka_instance_list_groups", c_int, c_void_p, c_int32, POINTER(c_void_p), _E)
_sig("kafka_instance_describe_group", c_int, c_void_p, c_char_p, c_int32, POINTER(c_void_p), _E)
_sig("kafka_group_list_count", c_size_t, c_void_p)
_sig("kafka_group_list_get", POINTER(_Group), c_void_p, c_size_t)
_sig("kafka_group_list_free", None, c_void_p)
_sig("kafka_instance_group_offsets", c_int, c_void_p, c_char_p, c_void_p, c_int32,
     POINTER(c_void_p), _E)
_sig("kafka_instance_group_lag", c_int, c_void_p, c_char_p, c_void_p, c_int32,
     POINTER(c_void_p), _E)
_sig("kafka_instance_delete_group", c_int, c_void_p, c_char_p, c_int32, _E)
_sig("kafka_instance_create_partitions", c_int, c_void_p, c_char_p, c_int32, c_int32, _E)
_sig("kafka_instance_delete_records", c_int, c_void_p, c_char_p, c_int32, c_int64, c_int32,
     POINTER(c_int64), _E)
_sig("kafka_instance_describe_topic_config", c_int, c_void_p, c_char_p, c_int32,
     POINTER(c_void_p), _E)
_sig("kafka_instance_alter_topic_config", c_int, c_void_p, c_char_p, POINTER(c_char_p),
     POINTER(c_char_p), c_size_t, c_int32, _E)
_sig("kafka_topic_config_count", c_size_t, c_void_p)
_sig("kafka_topic_config_get", POINTER(_ConfigEntry), c_void_p, c_size_t)
_sig("kafka_topic_config_free", None, c_void_p)
_sig("kafka_set_statistics_callback", c_int, c_void_p, c_int32, STATISTICS_CALLBACK, c_void_p, _E)
_sig("kafka_config_set_oauthbearer_token_callback", c_int, c_void_p, OAUTH_CALLBACK, c_void_p, _E)
_sig("kafka_partition_list_add", c_int, c_void_p, c_char_p, c_int32, c_int64, _E)
_sig("kafka_partition_list_count", c_size_t, c_void_p)
_sig("kafka_partition_list_get", POINTER(_TopicPartition), c_void_p, c_size_t)
_sig("kafka_partition_list_free", None, c_void_p)
_sig("kafka_consumer_set_rebalance_callback", c_int, c_void_p, REBALANCE, c_void_p, _E)
_sig("kafka_consumer_assignment", c_int, c_void_p, POINTER(c_void_p), _E)
_sig("kafka_consumer_seek", c_int, c_void_p, c_char_p, c_int32, c_int64, c_int32, _E)
_sig("kafka_consumer_pause", c_int, c_void_p, c_void_p, _E)
_sig("kafka_consumer_resume", c_int, c_void_p, c_void_p, _E)
_sig("kafka_consumer_lag", c_int, c_void_p, c_int32, POINTER(c_void_p), _E)
_sig("kafka_consumer_commit", c_int, c_void_p, _E)
_sig("kafka_consumer_commit_message", c_int, c_void_p, c_void_p, _E)
_sig("kafka_consumer_commit_offsets", c_int, c_void_p, c_void_p, _E)
_sig("kafka_consumer_commit_async", c_int, c_void_p, c_void_p, COMMIT_CALLBACK, c_void_p, _E)
_sig("kafka_producer_send", c_int, c_void_p, POINTER(_Record), DELIVERY_CALLBACK, c_size_t, _E)
_sig("kafka_consumer_poll", c_int, c_void_p, c_int32, POINTER(c_void_p), _E)
_sig("kafka_consumer_poll_batch", c_int, c_void_p, POINTER(c_void_p), c_size_t, c_int32,
     POINTER(c_size_t), _E)
_sig("kafka_consumer_event_fd", c_int, c_void_p, _E)
_sig("kafka_message_views", c_int, POINTER(c_void_p), c_size_t, POINTER(_MessageView), _E)
_sig("kafka_producer_send_tracked", c_int, c_void_p, POINTER(_Record), ctypes.c_uint64, _E)
_sig("kafka_producer_reports", c_int, c_void_p, POINTER(_TrackedReport), c_size_t, c_int32,
     POINTER(c_size_t), _E)
_sig("kafka_producer_hand_over_tracked_packed", c_int, c_void_p, c_char_p, c_char_p, c_size_t,
     c_char_p, c_size_t, ctypes.c_uint64, c_int32, _E)
_sig("kafka_producer_wait_handed_over", c_int, c_void_p, c_int32, _E)
_sig("kafka_producer_reports_gathered", c_int, c_void_p, POINTER(_TrackedReport), c_size_t,
     c_int32, c_int32, POINTER(c_size_t), _E)
_sig("kafka_producer_send_tracked_packed", c_int, c_void_p, c_char_p, c_char_p, c_size_t,
     c_void_p, c_size_t, ctypes.c_uint64, c_int32, POINTER(c_size_t), _E)
_sig("kafka_message_free", None, c_void_p)
_sig("kafka_message_timestamp", c_int64, c_void_p)
_sig("kafka_message_header_count", c_size_t, c_void_p)
_sig("kafka_message_header", c_bool, c_void_p, c_size_t, POINTER(c_char_p), POINTER(c_void_p),
     POINTER(c_size_t))

# Every record the library emits (debug and up) goes to `logger`, which
# decides what to keep; the ctypes function must live as long as the library.
_log_callback = LOG_CALLBACK(_forward)
lib.kafka_set_log_callback(_log_callback, None, 7)


KAFKA_ERR_TIMEOUT = 4
KAFKA_ERR_QUEUE_FULL = 5
KAFKA_ERR_STATE = 10
KAFKA_ERR_WAKEUP = 11


def report_buffer(n=1024):
    """Room for `n` tracked reports (see Producer.reports)."""
    return (_TrackedReport * n)()


class KafkaError(Exception):
    """A failed call: `code` is the KafkaErrorCode's name (KAFKA_ERR_...),
    `value` its number, `rdkafka_code` librdkafka's or the broker's code."""

    def __init__(self, err=None, *, value=0, rdkafka_code=0, message=""):
        if err is not None:
            value, rdkafka_code = err.code, err.rdkafka_code
            message = err.message.decode("utf-8", "replace")
        self.value = value
        self.code = lib.kafka_error_code_name(value).decode()
        self.rdkafka_code = rdkafka_code
        super().__init__("%s: %s" % (self.code, message))

    @classmethod
    def timeout(cls, message):
        return cls(value=KAFKA_ERR_TIMEOUT, message=message)

    @classmethod
    def tracked(cls, topic, report):
        """The failure a tracked report carries."""
        why = lib.kafka_error_code_name(report.code).decode()
        return cls(value=report.code, rdkafka_code=report.rdkafka_code,
                   message="message to %s not delivered (%s, librdkafka code %d)"
                   % (topic, why, report.rdkafka_code))

    @classmethod
    def delivery(cls, report):
        """The failure a delivery report carries."""
        why = lib.kafka_error_code_name(report.code).decode()
        return cls(value=report.code, rdkafka_code=report.rdkafka_code,
                   message="message to %s not delivered (%s, librdkafka code %d)"
                   % (report.topic.decode("utf-8", "replace") if report.topic else "?", why,
                      report.rdkafka_code))


def _call(f, *args):
    err = _Error()
    result = f(*args, byref(err))
    if err.code != 0:
        raise KafkaError(err)
    return result


def _b(text):
    return None if text is None else text.encode("utf-8")


class Config:
    def __init__(self, **settings):
        self._cfg = lib.kafka_config_new()
        self._keep = []  # callbacks: kept by the instance and its clients
        for key, value in settings.items():
            self.set(key, value)

    def set_statistics_callback(self, interval_ms, fn):
        """fn(summary: dict, json_text: str) every interval_ms, on a library
        thread, for each client made from this config. Exceptions are logged
        and never reach the library."""
        def trampoline(json_ptr, length, summary, _opaque):
            try:
                s = summary.contents if summary else None
                figures = None
                if s is not None:
                    figures = _struct(s)
                    figures["brokers"] = [_struct(b) for b in _array(s.brokers, s.broker_count)]
                    figures["partitions"] = [_struct(p) for p in
                                             _array(s.partitions, s.partition_count)]
                fn(figures, ctypes.string_at(json_ptr, length).decode("utf-8", "replace"))
            except Exception:
                logger.exception("statistics callback failed")
        cb = STATISTICS_CALLBACK(trampoline)
        self._keep.append(cb)
        _call(lib.kafka_set_statistics_callback, self._cfg, interval_ms, cb, None)
        return self

    def set_oauthbearer_token_callback(self, fn):
        """fn(oauthbearer_config or None) -> (token, principal, lifetime_ms)
        (lifetime: ms since the Unix epoch); raising reports the failure to
        the client. Called on a library thread, at start and before expiry."""
        kept = {}

        def trampoline(config, token, _opaque):
            try:
                value, principal, lifetime_ms = fn(config.decode() if config else None)
                kept["t"], kept["p"] = value.encode(), principal.encode()
                token.contents.token, token.contents.principal = kept["t"], kept["p"]
                token.contents.lifetime_ms = lifetime_ms
                return 0
            except Exception as e:  # never unwinds into the library
                kept["e"] = str(e).encode("utf-8", "replace")
                token.contents.error = kept["e"]
                return 1
        cb = OAUTH_CALLBACK(trampoline)
        self._keep.append(cb)
        _call(lib.kafka_config_set_oauthbearer_token_callback, self._cfg, cb, None)
        return self

    def set(self, key, value):
        if isinstance(value, bool):
            value = "true" if value else "false"
        _call(lib.kafka_config_set, self._cfg, _b(key), _b(str(value)))
        return self

    def __del__(self):
        lib.kafka_config_free(self._cfg)


class Message:
    """A view of a message, valid only inside the handler."""

    def __init__(self, ptr):
        self._ptr = ptr
        self.topic = lib.kafka_message_topic(ptr).decode()
        self.partition = lib.kafka_message_partition(ptr)
        self.offset = lib.kafka_message_offset(ptr)
        self.key = self._bytes(lib.kafka_message_key, ptr)
        self.value = self._bytes(lib.kafka_message_value, ptr)

    @staticmethod
    def _bytes(f, ptr):
        n = c_size_t()
        p = f(ptr, byref(n))
        return None if not p else ctypes.string_at(p, n.value)


class Received:
    """A polled message, copied out of the library (the library's message is
    freed at once)."""

    __slots__ = ("topic", "partition", "offset", "timestamp", "key", "value", "headers")

    def __init__(self, ptr):
        self.topic = lib.kafka_message_topic(ptr).decode()
        self.partition = lib.kafka_message_partition(ptr)
        self.offset = lib.kafka_message_offset(ptr)
        self.timestamp = lib.kafka_message_timestamp(ptr)
        self.key = Message._bytes(lib.kafka_message_key, ptr)
        self.value = Message._bytes(lib.kafka_message_value, ptr)
        self.headers = []
        for i in range(lib.kafka_message_header_count(ptr)):
            name, value, n = c_char_p(), c_void_p(), c_size_t()
            if lib.kafka_message_header(ptr, i, byref(name), byref(value), byref(n)):
                self.headers.append((name.value.decode("utf-8", "replace"),
                                     ctypes.string_at(value, n.value) if value else None))


_thread_scratch = threading.local()


def _scratch():
    """This thread's record and error structures, made once."""
    try:
        return _thread_scratch.pair
    except AttributeError:
        pair = _thread_scratch.pair = (_Record(), _Error())
        return pair


class Producer:
    def __init__(self, handle):
        self._p = handle

    def send_record(self, topic, value, key, headers, partition, timestamp_ms, callback,
                    opaque):
        """Sends bytes as they are; callback(report pointer, opaque) once,
        on the producer's thread (a DELIVERY_CALLBACK kept alive by the
        caller). callback None: kafka_producer_send_tracked with `opaque` as
        the tag; take the outcome with reports()."""
        r = _Record()
        r.topic = _b(topic)
        if key is not None:
            r.key, r.key_len = key, len(key)
        if value is not None:
            r.value, r.value_len = value, len(value)
        if headers:
            hs = (_Header * len(headers))()
            for h, (name, hv) in zip(hs, headers):
                h.name = _b(name)
                if hv is not None:
                    hv = hv if isinstance(hv, bytes) else str(hv).encode("utf-8")
                    h.value, h.value_len = ctypes.cast(ctypes.c_char_p(hv), c_void_p), len(hv)
            r.headers, r.header_count = hs, len(headers)
            keep = (hs, [h for _, h in headers])  # alive for the call
        if partition is not None:
            r.has_partition, r.partition = True, partition
        r.timestamp_ms = timestamp_ms or 0
        if callback is None:
            _call(lib.kafka_producer_send_tracked, self._p, byref(r), opaque)
        else:
            _call(lib.kafka_producer_send, self._p, byref(r), callback, opaque)
        if headers:
            del keep

    def send_tracked(self, topic, value, key, tag):
        """The hot path of a tracked send: `topic` as bytes, `value` and
        `key` bytes or None, no headers, the partitioner's choice, now. The
        record and error structures are this thread's, reused."""
        scratch = _scratch()
        r, err = scratch
        r.topic = topic
        if key is None:
            r.key, r.key_len = None, 0
        else:
            r.key, r.key_len = key, len(key)
        if value is None:
            r.value, r.value_len = None, 0
        else:
            r.value, r.value_len = value, len(value)
        if lib.kafka_producer_send_tracked(self._p, byref(r), tag, byref(err)) != 0:
            raise KafkaError(err)

    def send_packed(self, topic, data, lengths, first_tag, timeout_ms):
        """kafka_producer_send_tracked_packed: `lengths` an array('q') of
        key, value lengths (-1: none) for each record, `data` their bytes
        back to back. Returns (queued, None) or (queued, KafkaError) for
        the record that stopped it."""
        queued, err = c_size_t(), _Error()
        address, _ = lengths.buffer_info()
        rc = lib.kafka_producer_send_tracked_packed(
            self._p, topic, data, len(data), address, len(lengths) // 2, first_tag, timeout_ms,
            byref(queued), byref(err))
        return queued.value, (KafkaError(err) if rc != 0 else None)

    def hand_over_packed(self, topic, data, lengths, first_tag, timeout_ms):
        """kafka_producer_hand_over_tracked_packed: `lengths` bytes of
        native int64 pairs (key, value lengths, -1: none), `data` the
        records' bytes back to back. The producer's thread queues them;
        each gets a report, a failed one when it could not be queued."""
        _call(lib.kafka_producer_hand_over_tracked_packed, self._p, topic, data, len(data),
              lengths, len(lengths) // 16, first_tag, timeout_ms)

    def wait_handed_over(self, timeout_ms=-1):
        """Waits until every record handed over is queued (or failed)."""
        _call(lib.kafka_producer_wait_handed_over, self._p, timeout_ms)

    def reports(self, buffer, timeout_ms, gather_ms=0):
        """Outcomes of tracked sends, written into `buffer` (a ctypes array
        of _TrackedReport): how many, waiting up to timeout_ms for the
        first, then up to gather_ms for more while messages are in flight
        (kafka_producer_reports_gathered)."""
        n = c_size_t()
        _call(lib.kafka_producer_reports_gathered, self._p, buffer, len(buffer), timeout_ms,
              gather_ms, byref(n))
        return n.value

    def flush(self, timeout_ms=-1):
        """Waits until every queued message is answered (-1: no limit)."""
        _call(lib.kafka_producer_flush, self._p, timeout_ms, None)

    def send(self, topic, value, key=None):
        """Sends `value` JSON-encoded (the text is what is sent)."""
        _call(lib.kafka_producer_send_json, self._p, _b(topic), _b(key), _b(json.dumps(value)))

    def send_batch(self, topic, values, keys=None):
        """Sends each value JSON-encoded (the text json.dumps gives it), in
        one call: the list is encoded at once and the library splits it.
        Returns each one's status (0: queued, else the KafkaErrorCode that
        refused it: 5, a full queue, means send it again later). Raises
        KafkaError when nothing could be queued for another reason (bad
        arguments, a value json.dumps encodes as invalid JSON, such as NaN)."""
        n = len(values)
        if keys is not None and len(keys) != n:
            raise ValueError("send_batch: %d keys for %d values" % (len(keys), n))
        results = (c_int * n)()
        err = _Error()
        rc = lib.kafka_producer_send_json_array(
            self._p, _b(topic), None if keys is None else json.dumps(keys).encode(),
            json.dumps(values).encode(), n, None, None, results, byref(err))
        if rc != 0 and rc != KAFKA_ERR_QUEUE_FULL and all(r == rc for r in results):
            raise KafkaError(err)
        return list(results)

    def init_transactions(self, timeout_ms=60000):
        _call(lib.kafka_producer_init_transactions, self._p, timeout_ms)

    def begin_transaction(self):
        _call(lib.kafka_producer_begin_transaction, self._p)

    def send_offsets_to_transaction(self, consumer, timeout_ms=60000):
        """The consumer's positions into the open transaction."""
        _call(lib.kafka_producer_send_offsets_to_transaction, self._p, consumer._c, None, timeout_ms)

    def commit_transaction(self, timeout_ms=60000):
        _call(lib.kafka_producer_commit_transaction, self._p, timeout_ms)

    def abort_transaction(self, timeout_ms=60000):
        _call(lib.kafka_producer_abort_transaction, self._p, timeout_ms)

    def fatal_error(self):
        """The KafkaError that finished this producer, or None."""
        err = _Error()
        return KafkaError(err) if lib.kafka_producer_fatal_error(self._p, byref(err)) else None

    def close(self, timeout_ms=10000):
        p, self._p = self._p, None
        if p:
            _call(lib.kafka_producer_close, p, timeout_ms)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class Consumer:
    def __init__(self, handle):
        self._c = handle
        self._handlers = []  # keeps the ctypes callbacks alive
        self._scratch = None  # poll_tuples' arrays, made once

    def register_handler(self, topic, fn):
        def trampoline(msg, _opaque):
            try:
                fn(Message(msg))
                return 0
            except Exception:  # a failing handler is logged by the library
                return 1
        cb = HANDLER(trampoline)
        self._handlers.append(cb)
        _call(lib.kafka_consumer_register_handler, self._c, _b(topic), cb, None)
        return self

    def consume(self, timeout_ms=1000):
        """One batch through the handlers; KafkaError KAFKA_ERR_WAKEUP when
        woken by wakeup()."""
        n = c_size_t()
        _call(lib.kafka_consumer_consume, self._c, timeout_ms, byref(n))
        return n.value

    def commit(self, message=None):
        """Commits what is done and waits for the broker; given a message,
        commits its partition through it only (its offset + 1) and nothing
        else: a Message inside a handler with commit_message, a polled copy
        (Received, or anything with topic, partition and offset) with
        commit_offsets."""
        if message is None:
            _call(lib.kafka_consumer_commit, self._c)
        elif isinstance(message, Message):
            self.commit_message(message)
        else:
            self.commit_offsets([(message.topic, message.partition, message.offset + 1)])

    def commit_message(self, message):
        """Commits `message`'s offset + 1 for its partition, nothing else,
        and waits for the broker (kafka_consumer_commit_message): a Message
        inside its handler."""
        _call(lib.kafka_consumer_commit_message, self._c, message._ptr)

    def commit_offsets(self, offsets):
        """Commits exactly [(topic, partition, offset)], each the offset of
        the next message to read, and waits for the broker
        (kafka_consumer_commit_offsets)."""
        handle = _list(offsets)
        try:
            _call(lib.kafka_consumer_commit_offsets, self._c, handle)
        finally:
            lib.kafka_partition_list_free(handle)

    def poll(self, timeout_ms=1000):
        """The next message (a Received copy), or None when none came within
        timeout_ms (-1: no limit)."""
        out = c_void_p()
        _call(lib.kafka_consumer_poll, self._c, timeout_ms, byref(out))
        if not out:
            return None
        try:
            return Received(out)
        finally:
            lib.kafka_message_free(out)

    def poll_batch(self, capacity=500, timeout_ms=1000):
        """Up to `capacity` messages (Received copies) that are there or
        arrive within timeout_ms."""
        out = (c_void_p * capacity)()
        n = c_size_t()
        _call(lib.kafka_consumer_poll_batch, self._c, out, capacity, timeout_ms, byref(n))
        try:
            return [Received(out[i]) for i in range(n.value)]
        finally:
            for i in range(n.value):
                lib.kafka_message_free(out[i])

    def poll_tuples(self, capacity=500, timeout_ms=1000):
        """poll_batch's messages as (topic, partition, offset, timestamp, key,
        value, headers) tuples, read with one kafka_message_views call for
        the batch: the fast path for bindings built on this one."""
        scratch = self._scratch
        if scratch is None or len(scratch[0]) < capacity:
            scratch = self._scratch = ((c_void_p * capacity)(), (_MessageView * capacity)())
        out, views = scratch
        n = c_size_t()
        _call(lib.kafka_consumer_poll_batch, self._c, out, capacity, timeout_ms, byref(n))
        count = n.value
        if not count:
            return []
        try:
            _call(lib.kafka_message_views, out, count, views)
            # A topic's C string is shared by its messages and freed with
            # them: its address names it only within this batch.
            topics, string_at, got = {}, ctypes.string_at, []
            raw = memoryview(views).cast("B")[:count * _VIEW.size]
            for i, (t, partition, offset, ts, k, klen, v, vlen, hc) in enumerate(
                    _VIEW.iter_unpack(raw)):
                topic = topics.get(t)
                if topic is None:
                    topic = topics[t] = ctypes.string_at(t).decode()
                headers = Received(out[i]).headers if hc else []
                got.append((topic, partition, offset, ts,
                            string_at(k, klen) if k else None,
                            string_at(v, vlen) if v else None, headers))
            return got
        finally:
            for i in range(count):
                lib.kafka_message_free(out[i])

    def event_fd(self):
        """A descriptor readable while a poll would return at once (for
        select/epoll/asyncio); never read or close it; closed by close()."""
        return _call(lib.kafka_consumer_event_fd, self._c)

    def commit_async(self, offsets=None, callback=None):
        """Starts a commit of what is done (or of [(topic, partition,
        offset)]) and returns at once; callback(error or None, [partition
        dicts]) is called once, from a later consume or from close."""
        if not hasattr(self, "_commit_cb"):
            self._pending, self._next = {}, 0

            def trampoline(_c, result, offsets, opaque):
                fn = self._pending.pop(opaque, None)
                error = KafkaError(result.contents) if result.contents.code else None
                try:
                    if fn:
                        fn(error, _partitions(offsets, free=False) if offsets else [])
                except Exception:  # must not unwind into the library
                    pass
            self._commit_cb = COMMIT_CALLBACK(trampoline)  # kept alive with the consumer
        self._next += 1
        self._pending[self._next] = callback
        handle = _list(offsets) if offsets is not None else None
        try:
            _call(lib.kafka_consumer_commit_async, self._c, handle, self._commit_cb, self._next)
        except Exception:
            self._pending.pop(self._next, None)
            raise
        finally:
            if handle is not None:
                lib.kafka_partition_list_free(handle)

    def store(self, message):
        """Marks a message (inside its handler) as done: the next commit
        commits it."""
        _call(lib.kafka_consumer_store_message, self._c, message._ptr)

    def wakeup(self):
        """Makes the running (or next) consume raise KAFKA_ERR_WAKEUP; safe
        from another thread or a signal handler."""
        lib.kafka_consumer_wakeup(self._c, None)

    def on_rebalance(self, fn):
        """fn(event, [partition dicts]) at each rebalance, on the polling
        thread (KAFKA_REBALANCE_ASSIGNED / _REVOKED / _LOST)."""
        def trampoline(_c, event, partitions, _opaque):
            try:
                fn(event, _partitions(partitions, free=False))
            except Exception:  # must not unwind into the library
                pass
        self._rebalance = REBALANCE(trampoline)  # kept alive with the consumer
        _call(lib.kafka_consumer_set_rebalance_callback, self._c, self._rebalance, None)
        return self

    def assignment(self):
        out = c_void_p()
        _call(lib.kafka_consumer_assignment, self._c, byref(out))
        return [(p["topic"], p["partition"]) for p in _partitions(out)]

    def seek(self, topic, partition, offset, timeout_ms=10000):
        _call(lib.kafka_consumer_seek, self._c, _b(topic), partition, offset, timeout_ms)

    def pause(self, partitions):
        handle = _list(partitions)
        try:
            _call(lib.kafka_consumer_pause, self._c, handle)
        finally:
            lib.kafka_partition_list_free(handle)

    def resume(self, partitions):
        handle = _list(partitions)
        try:
            _call(lib.kafka_consumer_resume, self._c, handle)
        finally:
            lib.kafka_partition_list_free(handle)

    def lag(self, timeout_ms=10000):
        """[{topic, partition, offset, high_watermark, committed, lag, ...}]"""
        out = c_void_p()
        _call(lib.kafka_consumer_lag, self._c, timeout_ms, byref(out))
        return _partitions(out)

    def close(self):
        """Commits, leaves the group and releases the consumer. Refused
        inside one of its handlers (KAFKA_ERR_STATE; it stays open)."""
        if not self._c:
            return
        err = _Error()
        lib.kafka_consumer_close(self._c, byref(err))
        if err.code != KAFKA_ERR_STATE:
            self._c = None
        if err.code != 0:
            raise KafkaError(err)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class KafkaInstance:
    def __init__(self, config):
        self._inst = _call(lib.kafka_instance_new, config._cfg)
        self._keep = list(config._keep)
        if self._keep:
            _with_callbacks.add(self)

    def _answer(self, f, *args):
        out = c_void_p()
        _call(f, self._inst, *args, byref(out))
        return out

    def describe_cluster(self, timeout_ms=10000, topic=None):
        """{"id", "brokers": [...], "partitions": [...]} (of `topic` alone
        when given)."""
        if topic is None:
            h = self._answer(lib.kafka_instance_describe_cluster, timeout_ms)
        else:
            h = self._answer(lib.kafka_instance_describe_topic, _b(topic), timeout_ms)
        try:
            cid = lib.kafka_cluster_id(h)
            brokers = [_struct(lib.kafka_cluster_broker(h, i).contents)
                       for i in range(lib.kafka_cluster_broker_count(h))]
            partitions = []
            for i in range(lib.kafka_cluster_partition_count(h)):
                p = lib.kafka_cluster_partition(h, i).contents
                d = _struct(p)
                d["replicas"] = _array(p.replicas, p.replica_count)
                d["in_sync"] = _array(p.in_sync, p.in_sync_count)
                partitions.append(d)
            return {"id": cid.decode() if cid else None, "brokers": brokers,
                    "partitions": partitions}
        finally:
            lib.kafka_cluster_free(h)

    def describe_topic(self, topic, timeout_ms=10000):
        return self.describe_cluster(timeout_ms, topic)

    def _groups(self, h):
        try:
            out = []
            for i in range(lib.kafka_group_list_count(h)):
                g = lib.kafka_group_list_get(h, i).contents
                d = _struct(g)
                d["members"] = []
                for m in _array(g.members, g.member_count):
                    md = _struct(m)
                    md["assignment"] = [(p.topic.decode(), p.partition)
                                        for p in _array(m.assignment, m.assignment_count)]
                    d["members"].append(md)
                out.append(d)
            return out
        finally:
            lib.kafka_group_list_free(h)

    def list_groups(self, timeout_ms=10000):
        return self._groups(self._answer(lib.kafka_instance_list_groups, timeout_ms))

    def describe_group(self, group, timeout_ms=10000):
        return self._groups(self._answer(lib.kafka_instance_describe_group, _b(group), timeout_ms))[0]

    def _group_answer(self, f, group, partitions, timeout_ms):
        handle = _list(partitions) if partitions is not None else None
        try:
            return _partitions(self._answer(f, _b(group), handle, timeout_ms))
        finally:
            if handle is not None:
                lib.kafka_partition_list_free(handle)

    def group_offsets(self, group, partitions=None, timeout_ms=10000):
        """The group's committed offsets: of [(topic, partition)], or of
        every partition it committed."""
        return self._group_answer(lib.kafka_instance_group_offsets, group, partitions, timeout_ms)

    def group_lag(self, group, partitions=None, timeout_ms=10000):
        """Per partition: committed, low/high watermark and lag."""
        return self._group_answer(lib.kafka_instance_group_lag, group, partitions, timeout_ms)

    def delete_group(self, group, timeout_ms=10000):
        _call(lib.kafka_instance_delete_group, self._inst, _b(group), timeout_ms)

    def delete_topic(self, topic, timeout_ms=10000):
        _call(lib.kafka_instance_delete_topic, self._inst, _b(topic), timeout_ms)

    def create_partitions(self, topic, total, timeout_ms=10000):
        _call(lib.kafka_instance_create_partitions, self._inst, _b(topic), total, timeout_ms)

    def delete_records(self, topic, partition, before_offset, timeout_ms=10000):
        """Returns the partition's new low watermark."""
        low = c_int64()
        _call(lib.kafka_instance_delete_records, self._inst, _b(topic), partition, before_offset,
              timeout_ms, byref(low))
        return low.value

    def describe_topic_config(self, topic, timeout_ms=10000):
        """[{"name", "value", "set_on_topic", ...}]"""
        h = self._answer(lib.kafka_instance_describe_topic_config, _b(topic), timeout_ms)
        try:
            return [_struct(lib.kafka_topic_config_get(h, i).contents)
                    for i in range(lib.kafka_topic_config_count(h))]
        finally:
            lib.kafka_topic_config_free(h)

    def alter_topic_config(self, topic, changes, timeout_ms=10000):
        """changes: {name: value or None (back to the inherited value)}."""
        n = len(changes)
        keys = (c_char_p * n)(*[_b(k) for k in changes])
        values = (c_char_p * n)(*[_b(v) for v in changes.values()])
        _call(lib.kafka_instance_alter_topic_config, self._inst, _b(topic), keys, values, n,
              timeout_ms)

    def create_topic(self, topic, partitions=1, replication_factor=1, timeout_ms=10000):
        """Creates a topic on a real cluster (the embedded broker: MockCluster.create_topic)."""
        _call(lib.kafka_instance_create_topic, self._inst, _b(topic), partitions, replication_factor, timeout_ms)

    def get_producer(self, **overrides):
        cfg = Config(**overrides) if overrides else None
        p = Producer(_call(lib.kafka_instance_get_producer, self._inst, cfg._cfg if cfg else None))
        p._keep = self._keep
        if self._keep:
            _with_callbacks.add(p)
        return p

    def get_consumer(self, topics, **overrides):
        cfg = Config(**overrides) if overrides else None
        names = (c_char_p * len(topics))(*[_b(t) for t in topics])
        c = Consumer(_call(lib.kafka_instance_get_consumer, self._inst, names, len(topics),
                           cfg._cfg if cfg else None))
        c._keep = self._keep
        if self._keep:
            _with_callbacks.add(c)
        return c

    def free(self):
        """Releases the instance (and its admin client) now."""
        inst, self._inst = self._inst, None
        if inst:
            lib.kafka_instance_free(inst)

    def __del__(self):
        self.free()


class MockCluster:
    def __init__(self, brokers=1):
        self._mc = _call(lib.kafka_mock_cluster_new, brokers)

    @property
    def bootstrap_servers(self):
        return lib.kafka_mock_cluster_bootstrap_servers(self._mc).decode()

    def create_topic(self, topic, partitions=1):
        _call(lib.kafka_mock_cluster_create_topic, self._mc, _b(topic), partitions, 1)

    def __del__(self):
        lib.kafka_mock_cluster_free(self._mc)

"""KafkaProducer's unhappy paths: threads sending every kind of message at
once, a refused message among good ones, callbacks that call back in, a
close during a burst, bad arguments.

tests/bindings.rs runs these twice: with send()'s compiled common case
(kafka_instance/_speedups.c) and with KAFKA_INSTANCE_PURE_PYTHON=1, the
same steps in Python."""

import gc
import json
import os
import signal
import threading
import time

import pytest

from kafka_instance import KafkaConfig, KafkaError, KafkaInstance
from kafka_instance import connection


def instance(broker):
    return KafkaInstance(KafkaConfig().set_bootstrap_servers(broker.servers))


def read_all(broker, topics, count, timeout=60):
    """`count` records from `topics` (from the start), as
    {(topic, partition, offset): value}."""
    config = (KafkaConfig().set_bootstrap_servers(broker.servers)
              .set_group_id("read-" + os.urandom(5).hex()).set_auto_offset_reset("earliest"))
    consumer = KafkaInstance(config).get_consumer(topics, session_timeout_ms=6000)
    got = {}
    deadline = time.monotonic() + timeout
    try:
        while len(got) < count and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=1000).values():
                for r in records:
                    got[(r.topic, r.partition, r.offset)] = r.value
    finally:
        consumer.close()
    return got


def test_the_compiled_send_is_used_unless_turned_off():
    pure = bool(os.environ.get("KAFKA_INSTANCE_PURE_PYTHON"))
    assert connection.COMPILED is not pure
    future = connection.FutureRecordMetadata("t")
    # Compiled futures are not tracked by the cycle collector (a producer
    # keeps thousands alive); the Python ones are.
    assert gc.is_tracked(future) is pure
    assert not future.is_done() and future.value is None


def test_pending_futures_are_found_by_tag_even_when_one_waits_behind_a_million():
    """The futures waiting for an outcome, by tag: a dict in Python, a ring
    indexed by tag when compiled, whose entries more than 2**20 tags older
    than the newest move to a dict (a message waiting long on a partition
    while others flow). Either way it must behave as the dict: every entry
    found once, in tag order, however old."""
    producer = connection.KafkaProducer.__new__(connection.KafkaProducer)
    producer._core_init(None, None, connection._dumps_bytes, connection.FutureRecordMetadata,
                        connection._as_bytes, connection._key_bytes, 500, connection._REPORT.size)
    pending, expected = producer._pending, {}
    old = object()
    pending[1] = expected[1] = old
    count = (1 << 20) + 200_000
    for tag in range(2, count):
        pending[tag] = expected[tag] = tag
    assert len(pending) == len(expected)
    for tag in range(2, count, 3):  # answered out of order
        assert pending.pop(tag) is expected.pop(tag)
    assert pending.pop(count + 7, "none") == "none"
    with pytest.raises(KeyError):
        del pending[2]
    assert list(pending.values()) == [expected[t] for t in sorted(expected)]
    assert pending.pop(1) is old  # the oldest, long moved out of the ring
    pending.clear()
    assert len(pending) == 0 and list(pending.values()) == []
    pending[count] = "again"
    assert pending.pop(count) == "again" and not pending


def test_threads_sending_every_kind_of_message_keep_each_threads_order(broker):
    """Plain sends (gathered into batches), sends with headers or a
    partition (each in a call of its own) and topic switches, from four
    threads at once: every future gets its own message's offset, nothing
    is lost or doubled, and each thread's messages are in its order."""
    a, b = broker.topic("mixed-a"), broker.topic("mixed-b")
    per_thread = 1500
    futures = {}  # (thread, n) -> (topic, future)

    def run(me):
        for n in range(per_thread):
            value = {"t": me, "n": n}
            if me == 0:
                topic, f = a, producer.send(a, value=value, key="k")
            elif me == 1:
                topic = a if n % 7 else b
                f = producer.send(topic, value=value)
            elif me == 2:
                topic = b
                f = (producer.send(b, value=value, headers=[("h", b"1")]) if n % 3 == 0
                     else producer.send(b, value=value))
            else:
                topic = a if n % 2 else b
                f = (producer.send(topic, value=value, partition=0) if n % 5 == 0
                     else producer.send(topic, value=value))
            futures[(me, n)] = (topic, f)

    producer = instance(broker).get_producer()
    threads = [threading.Thread(target=run, args=(me,)) for me in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        producer.flush(timeout=60)  # a lost tag would leave a future waiting
    finally:
        producer.close(timeout=10)
    assert len(futures) == 4 * per_thread
    metadata = {}
    for key, (topic, f) in futures.items():
        m = f.get(timeout=0)  # close delivered everything
        assert m.topic == topic
        metadata[key] = (m.topic, m.partition, m.offset)
    assert len(set(metadata.values())) == len(metadata), "one offset per message"

    stored = read_all(broker, [a, b], len(futures))
    assert len(stored) == len(futures)
    for (me, n), where in metadata.items():
        assert stored[where] == {"t": me, "n": n}, "the future's offset holds its message"
    for me in range(4):
        for topic in (a, b):
            offsets = [metadata[(me, n)][2] for n in range(per_thread)
                       if metadata[(me, n)][0] == topic]
            assert offsets == sorted(offsets), "thread %d's order in %s" % (me, topic)


def test_a_refused_message_fails_its_own_future_and_the_others_go(broker):
    topic = broker.topic("refused")
    with instance(broker).producer_context() as producer:
        before = [producer.send(topic, value={"n": n}) for n in range(300)]
        big = producer.send(topic, value="x" * 2_000_000)  # over message.max.bytes
        after = [producer.send(topic, value={"n": n}) for n in range(300, 600)]
    with pytest.raises(KafkaError) as refused:
        big.get(timeout=0)
    assert refused.value.code != "KAFKA_OK"
    offsets = [f.get(timeout=0).offset for f in before + after]
    assert offsets == list(range(600)), "the others are delivered, in order"


def test_callbacks_that_send_again_or_wait_on_their_own_thread(broker):
    """A send callback runs on the thread that resolves futures: sending
    from it works; get() of a future not yet done, flush() and close() from
    it are refused with KAFKA_ERR_STATE instead of waiting for themselves."""
    topic = broker.topic("callbacks")
    outcomes = {}
    done = threading.Event()
    with instance(broker).producer_context() as producer:
        def on_first(metadata):
            try:
                follow = producer.send(topic, value={"follow": metadata.offset})
                outcomes["follow"] = follow
                for name, call in (("get", lambda: follow.get()), ("flush", producer.flush),
                                   ("close", producer.close)):
                    try:
                        call()
                        outcomes[name] = "returned"
                    except KafkaError as e:
                        outcomes[name] = e.code
            finally:
                done.set()

        producer.send(topic, value={"first": True}).add_callback(on_first)
        assert done.wait(30), "the callback ran"
    assert outcomes["get"] == "KAFKA_ERR_STATE"
    assert outcomes["flush"] == "KAFKA_ERR_STATE"
    assert outcomes["close"] == "KAFKA_ERR_STATE"
    assert outcomes["follow"].get(timeout=0).offset == 1, "the send from the callback went"


def test_close_during_a_burst_answers_every_future(broker):
    """Another thread sends as fast as it can while the producer closes:
    every send either raises (closed) or returns a future that close
    answered, delivered or failed; none is left waiting."""
    topic = broker.topic("close-burst")
    producer = instance(broker).get_producer()
    futures, refused = [], []

    def burst():
        while True:
            try:
                futures.append(producer.send(topic, value={"n": len(futures)}))
            except KafkaError as e:
                refused.append(e.code)
                return

    sender = threading.Thread(target=burst)
    sender.start()
    # Under the embedded broker's log limit (it keeps the last 100,000
    # messages of a partition), so that every delivered one can be read.
    while len(futures) < 20000 and sender.is_alive():
        time.sleep(0.001)
    producer.close(timeout=10)
    sender.join(10)
    assert not sender.is_alive()
    assert refused == ["KAFKA_ERR_STATE"]
    assert futures, "the burst sent something"
    assert all(f.is_done() for f in futures), "close answered every future"
    delivered = sum(f.succeeded() for f in futures)
    assert delivered > 0
    stored = read_all(broker, [topic], delivered)
    assert len(stored) == delivered, "every future that succeeded is on the broker"


def test_bad_arguments_raise_and_the_producer_goes_on(broker):
    topic = broker.topic("bad-args")
    with instance(broker).producer_context() as producer:
        with pytest.raises(TypeError):
            producer.send()
        with pytest.raises(ValueError, match="a topic is required"):
            producer.send("", value=1)
        with pytest.raises(TypeError, match="topic must be str"):
            producer.send(b"bytes-topic", value=1)
        with pytest.raises(TypeError, match="unexpected keyword argument 'vaule'"):
            producer.send(topic, vaule=1)
        with pytest.raises(TypeError, match="multiple values"):
            producer.send(topic, 1, value=2)
        with pytest.raises(TypeError):
            producer.send(topic, 1, 2, None, None, None, 7)
        with pytest.raises(TypeError, match="key must be str, bytes or None"):
            producer.send(topic, value=1, key=5)
        with pytest.raises(TypeError):
            producer.send(topic, value=object())  # not JSON
        keyed = producer.send(topic, value={"ok": 1}, key=b"k")
        empty = producer.send(topic, value=None, key="")
        assert keyed.get(timeout=30).offset == 0
        assert empty.get(timeout=30).offset == 1
    stored = read_all(broker, [topic], 2)
    assert sorted(stored.values(), key=json.dumps) == sorted([{"ok": 1}, None], key=json.dumps)


def test_a_failed_future_is_freed_after_get_raised(broker):
    """get() raises a copy of the stored error: a raised exception's
    traceback holds frames that hold the future, and the compiled future
    is not tracked by the cycle collector, which could never free that
    loop. The usual try: f.get() except KafkaError: pattern leaks nothing."""
    topic = broker.topic("failed-freed")
    with instance(broker).producer_context() as producer:
        for _ in range(20):
            future = producer.send(topic, value="x" * 2_000_000)  # refused: too large
            producer.flush(timeout=30)
            try:
                future.get()
            except KafkaError as e:
                assert e.code != "KAFKA_OK"
            else:
                raise AssertionError("a message over message.max.bytes was delivered")
            errors = [future.exception]
            future.add_errback(errors.append)
            assert len(errors) == 2 and all(isinstance(e, KafkaError) for e in errors)
            del future, errors
        gc.collect()
    alive = sum(isinstance(o, KafkaError) for o in gc.get_objects())
    assert alive == 0, "%d KafkaError objects outlived their futures" % alive


def test_flush_waits_for_what_was_sent_before_it_and_no_more(broker):
    """flush() returns once every message sent before it is answered, its
    future done and its callbacks run, while another thread goes on
    sending; a refused message's future is done too."""
    topic = broker.topic("flush-before")
    producer = instance(broker).get_producer()
    stop = threading.Event()

    def keep_sending():
        while not stop.is_set():
            producer.send(topic, value={"later": True})
            time.sleep(0)

    called = []
    before = [producer.send(topic, value={"n": n}) for n in range(2000)]
    for f in before:
        f.add_callback(called.append)
    refused = producer.send(topic, value="x" * 2_000_000)
    other = threading.Thread(target=keep_sending)
    other.start()
    try:
        producer.flush(timeout=30)  # would time out if it waited for the other thread
        assert all(f.is_done() for f in before) and refused.is_done()
        assert len(called) == len(before), "every callback ran before flush returned"
        assert refused.failed()
    finally:
        stop.set()
        other.join()
        producer.close(timeout=10)


def test_a_forked_child_is_refused_at_once_and_the_parent_goes_on(broker):
    """fork() during a burst: the child's sends and flush raise
    KAFKA_ERR_STATE at once (the producer's threads and client stayed with
    the parent), the futures it inherited fail with that error instead of
    waiting forever, close does nothing, and nothing hangs, whichever lock
    a thread of the parent held at the fork. The parent's producer goes on
    and delivers everything it sent."""
    topic = broker.topic("fork")
    producer = instance(broker).get_producer()
    sent = []
    for _ in range(5):
        sent.extend(producer.send(topic, value={"n": n}) for n in range(5000))
        pid = os.fork()
        if pid == 0:  # the child: report through the exit status only
            code = 0
            try:
                signal.alarm(20)  # a hang ends the child with SIGALRM
                try:
                    producer.send(topic, value={"child": True})
                    code = 10
                except KafkaError as e:
                    code = code or (0 if e.code == "KAFKA_ERR_STATE" else 11)
                try:
                    producer.flush(timeout=5)
                    code = code or 12
                except KafkaError as e:
                    code = code or (0 if e.code == "KAFKA_ERR_STATE" else 13)
                undone = [f for f in sent if not f.is_done()]
                if undone:
                    try:
                        undone[0].get(timeout=1)
                        code = code or 14
                    except KafkaError as e:
                        code = code or (0 if e.code == "KAFKA_ERR_STATE" else 15)
                producer.close(timeout=1)
            except BaseException:
                code = code or 16
            os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0, "child status %d" % status
    producer.flush(timeout=60)
    assert all(f.succeeded() for f in sent)
    producer.close(timeout=10)


def unreachable_producer(**kwargs):
    """A producer whose broker address answers nothing: what it sends stays
    queued in the library until it fails."""
    return KafkaInstance(KafkaConfig().set_bootstrap_servers(["127.0.0.1:1"])).get_producer(
        **kwargs)


def test_flush_and_close_keep_their_timeouts_when_nothing_can_be_delivered():
    """No broker answers: the library's queue (1,000 messages) fills and the
    rest of the 21,000 wait in the library's hand-over. flush(timeout=1)
    raises KAFKA_ERR_TIMEOUT after about 1 s and close(timeout=1) returns
    after about 1 s, every future failed: neither waits for max_block_ms
    (60 s) or for the messages' own timeouts."""
    producer = unreachable_producer(**{"queue.buffering.max.messages": "1000"})
    futures = [producer.send("nowhere", value={"n": i}) for i in range(21000)]
    started = time.monotonic()
    with pytest.raises(KafkaError) as raised:
        producer.flush(timeout=1)
    assert raised.value.code == "KAFKA_ERR_TIMEOUT"
    assert time.monotonic() - started < 20, "flush kept its timeout"
    started = time.monotonic()
    producer.close(timeout=1)
    assert time.monotonic() - started < 20, "close kept its timeout"
    assert all(f.failed() for f in futures), "close failed every future"


def test_an_errback_that_waits_for_another_future_during_close_is_refused():
    """close() runs the errbacks of the messages it could not deliver, on
    its own thread: one that waits for another message not yet answered
    gets KAFKA_ERR_STATE at once instead of waiting for ever, and close
    returns."""
    producer = unreachable_producer()
    first = producer.send("nowhere", value=1)
    second = producer.send("nowhere", value=2)
    seen = []

    def errback(error):
        try:
            second.get(timeout=30)
            seen.append("got it")
        except KafkaError as e:
            seen.append(e.code)

    first.add_errback(errback)
    started = time.monotonic()
    producer.close(timeout=1)
    assert time.monotonic() - started < 20
    assert seen == ["KAFKA_ERR_STATE"]
    assert first.failed() and second.failed()


def test_sends_with_headers_wait_for_room_in_a_full_queue(broker):
    """A message with headers goes in a call of its own; when the library's
    queue is full (1 message here) it waits for room, up to max_block_ms,
    as gathered messages do, instead of failing at once."""
    topic = broker.topic("headers-full")
    with instance(broker).producer_context(**{"queue.buffering.max.messages": "1"}) as producer:
        futures = [producer.send(topic, value={"n": i}, headers=[("h", b"v")])
                   for i in range(200)]
        producer.flush(timeout=60)
    failed = [str(f.exception) for f in futures if f.failed()]
    assert not failed, failed[:3]

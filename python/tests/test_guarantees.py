"""Delivery guarantees through Python: nothing processed is lost when a
consumer closes, and a process killed mid-batch loses nothing (what it had
not committed is read again).

Consumers here use a 6 s session: a member joining a group that another
member just left (or died in) waits up to the session timeout on the
embedded broker (45 s by default)."""

SESSION = {"session_timeout_ms": 6000}

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

from kafka_instance import KafkaConfig, KafkaInstance


def config(broker, group):
    return (KafkaConfig().set_bootstrap_servers(broker.servers).set_group_id(group)
            .set_auto_offset_reset("earliest"))


def produce(broker, topic, n):
    instance = KafkaInstance(KafkaConfig().set_bootstrap_servers(broker.servers))
    with instance.producer_context() as producer:
        futures = [producer.send(topic, value={"n": i}) for i in range(n)]
    assert all(f.succeeded() for f in futures), "every message acknowledged"


def drain(consumer, first_ms=30000, then_ms=3000):
    """Everything the consumer gets: the first batch may take a group join
    (up to first_ms); then until a poll of then_ms finds nothing."""
    out = []
    wait = first_ms
    while True:
        batch = consumer.poll(timeout_ms=wait)
        if not batch:
            return out
        out.extend(r.value["n"] for records in batch.values() for r in records)
        wait = then_ms


def test_no_loss_when_a_consumer_closes(broker, group):
    topic = broker.topic("close-no-loss")
    produce(broker, topic, 200)
    first = KafkaInstance(config(broker, group)).get_consumer([topic], **SESSION)
    seen = []
    for message in first:
        seen.append(message.value["n"])
        if len(seen) == 50:
            break
    first.close()  # the 50 processed are committed here

    second = KafkaInstance(config(broker, group)).get_consumer([topic], **SESSION)
    try:
        rest = drain(second)
    finally:
        second.close()
    assert seen == list(range(50))
    assert rest == list(range(50, 200)), "resumes right after the last processed message"


CHILD = textwrap.dedent("""
    import os, sys
    from kafka_instance import KafkaConfig, KafkaInstance
    servers, group, topic, out = sys.argv[1:5]
    config = (KafkaConfig().set_bootstrap_servers(servers.split(","))
              .set_group_id(group).set_auto_offset_reset("earliest"))
    consumer = KafkaInstance(config).get_consumer([topic], auto_commit_interval_ms=100,
                                                session_timeout_ms=6000)
    with open(out, "a") as done:
        for message in consumer:
            done.write("%d\\n" % message.value["n"])  # processed
            done.flush()
            os.fsync(done.fileno())
""")


def test_a_process_killed_mid_batch_loses_nothing(broker, group, tmp_path):
    topic = broker.topic("kill-no-loss")
    n = 2000
    produce(broker, topic, n)
    out = tmp_path / "processed"
    child = subprocess.Popen([sys.executable, "-c", CHILD, ",".join(broker.servers), group,
                              topic, str(out)])
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            done = out.read_text().split() if out.exists() else []
            if len(done) >= 300:
                break
            assert child.poll() is None, "the child ended early"
            time.sleep(0.01)
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait()
    before = [int(x) for x in out.read_text().split()]
    assert 300 <= len(before) < n, "killed mid-stream (%d processed)" % len(before)

    after_consumer = KafkaInstance(config(broker, group)).get_consumer([topic], **SESSION)
    try:
        after = drain(after_consumer)
    finally:
        after_consumer.close()
    assert set(before) | set(after) == set(range(n)), "nothing lost"
    assert after and after[0] <= before[-1] + 1, "resumes at or before the kill"
    repeated = set(before) & set(after)
    print("killed after %d, %d read again" % (len(before), len(repeated)))


def test_a_value_that_is_not_json_is_given_as_bytes_and_logged(broker, group, caplog):
    """Never lose a message over its encoding: the record keeps its bytes,
    the failure is logged, the records after it arrive."""
    import logging
    topic = broker.topic("not-json")
    instance = KafkaInstance(KafkaConfig().set_bootstrap_servers(broker.servers))
    with instance.producer_context(value_serializer=lambda v: v) as producer:
        for raw in (b'{"n": 0}', b"not json", b'{"n": 2}'):
            producer.send(topic, value=raw)
    caplog.set_level(logging.ERROR, logger="kafka_instance")
    consumer = KafkaInstance(config(broker, group)).get_consumer([topic], **SESSION)
    try:
        got = []
        deadline = time.monotonic() + 30
        while len(got) < 3 and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=1000).values():
                got.extend(r.value for r in records)
    finally:
        consumer.close()
    assert got == [{"n": 0}, b"not json", {"n": 2}]
    assert any("could not be decoded" in r.getMessage() for r in caplog.records)


def test_a_serializer_that_returns_text_is_refused_at_send(broker):
    import pytest
    topic = broker.topic("bad-serializer")
    instance = KafkaInstance(KafkaConfig().set_bootstrap_servers(broker.servers))
    def serializer(value):
        return "text" if value == "bad" else json.dumps(value).encode()

    with instance.producer_context(value_serializer=serializer) as producer:
        with pytest.raises(TypeError, match="value_serializer must return bytes, not str"):
            producer.send(topic, value="bad")
        # The producer goes on working.
        assert producer.send(topic, value={"n": 2}).get(timeout=10).offset == 0


def test_commit_message_mid_batch_keeps_the_failed_message_for_the_next_consumer(broker, group):
    """The manual-commit loop: a batch processed record by record, each
    success committed with commit(message), a failure mid-batch ending it
    without a commit. The group's next consumer starts at the failed record
    and reads the rest of the batch after it: a bare commit() there would
    have committed the whole batch, and those records would never be read
    again."""
    topic = broker.topic("commit-message")
    n, failing = 10, 4
    produce(broker, topic, n)
    manual = config(broker, group).set_enable_auto_commit(False)

    first = KafkaInstance(manual).get_consumer([topic], **SESSION)
    processed, batch = [], []
    try:
        deadline = time.monotonic() + 30
        while not batch and time.monotonic() < deadline:
            batch = [r for records in first.poll(timeout_ms=1000).values() for r in records]
        assert [r.value["n"] for r in batch][failing + 1:], \
            "records after the failing one in the same batch: %r" % batch
        for message in batch:
            if message.value["n"] == failing:
                break  # failed: not committed, to be processed again
            processed.append(message.value["n"])
            first.commit(message)
    finally:
        first.close()  # auto-commit off: commits nothing more
    assert processed == list(range(failing))
    offsets = KafkaInstance(manual).native.group_offsets(group, [(topic, 0)])
    assert [p["offset"] for p in offsets] == [failing], "committed through the last success"

    second = KafkaInstance(manual).get_consumer([topic], **SESSION)
    try:
        again = drain(second)
    finally:
        second.close()
    assert again == list(range(failing, n)), \
        "the failed record first, then the rest of its batch, each once"


def test_every_consumer_commits_through_one_record_or_exact_offsets(broker, group):
    """commit(message) of the native and the asyncio consumers, and
    kafka-python's commit(offsets=...), commit what they are given and
    nothing else (a bare commit() afterwards still commits everything
    handed out)."""
    import asyncio

    from kafka_instance import AsyncKafkaInstance, TopicPartition

    topic = broker.topic("commit-exact")
    produce(broker, topic, 8)
    manual = config(broker, group).set_enable_auto_commit(False)
    instance = KafkaInstance(manual)

    def committed():
        return instance.native.group_offsets(group, [(topic, 0)])[0]["offset"]

    consumer = instance.native.get_consumer([topic], session_timeout_ms=6000)
    try:
        got = []
        deadline = time.monotonic() + 30
        while len(got) < 8 and time.monotonic() < deadline:
            got.extend(consumer.poll_batch(timeout_ms=1000))
        assert [r.offset for r in got] == list(range(8))
        consumer.commit(got[2])
        assert committed() == 3, "native: through the record given"
    finally:
        consumer.close()

    consumer = instance.get_consumer([topic], **SESSION)
    try:
        assert drain(consumer) == list(range(3, 8)), "resumes after the record committed"
        consumer.commit(offsets={TopicPartition(topic, 0): 5})
        assert committed() == 5, "exactly the offset given"
        consumer.commit({TopicPartition(topic, 0): 6})  # kafka-python's positional form
        assert committed() == 6
        consumer.commit()
        assert committed() == 8, "a bare commit(): everything handed out"
    finally:
        consumer.close()

    produce(broker, topic, 3)  # offsets 8, 9, 10

    async def read_and_commit_one():
        async with AsyncKafkaInstance(manual).consumer_context([topic], **SESSION) as c:
            records = []
            while len(records) < 3:
                batch = await c.getmany(timeout_ms=30000)
                assert batch, "messages within 30 s"
                records.extend(r for rs in batch.values() for r in rs)
            await c.commit(records[0])
            return [r.offset for r in records]

    assert asyncio.run(read_and_commit_one()) == [8, 9, 10]
    assert committed() == 9, "asyncio: through the record given"

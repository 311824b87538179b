"""Produce JSON with the ctypes binding and consume it back through a
handler, on the embedded broker (or KAFKA_BOOTSTRAP_SERVERS)."""

import json
import logging
import os
import sys
import threading
import time

logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
# The package: installed (pip install ./python), beside this file, or in
# this checkout's python/ folder.
_here = os.path.dirname(os.path.abspath(__file__))
for _where in (_here, os.path.join(_here, "..", "python")):
    if os.path.isdir(os.path.join(_where, "kafka_instance")):
        sys.path.insert(0, _where)
        break
from kafka_instance.native import Config, KafkaError, KafkaInstance, MockCluster  # noqa: E402

servers = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
embedded = None
topic = "py-orders-%d" % os.getpid()
if not servers:
    embedded = MockCluster(1)
    servers = embedded.bootstrap_servers
    embedded.create_topic(topic, partitions=2)

kafka = KafkaInstance(Config(kafka_url="kafka://" + servers, group_id=topic + "-group",
                             auto_offset_reset="earliest"))
if not embedded:
    kafka.create_topic(topic, partitions=2)
orders = [{"order_id": i, "amount": 9.99 * i, "note": "caf\u00e9"} for i in range(1, 6)]
with kafka.get_producer(acks="all") as producer:
    # One call for the lot (one boundary crossing, not five).
    statuses = producer.send_batch(topic, orders,
                                   keys=["customer-%d" % (o["order_id"] % 2) for o in orders])
    assert statuses == [0] * len(orders), statuses

# A value that is not JSON is refused (and logged by the library at error
# level: quiet here, since the demo expects it).
quiet = logging.getLogger("kafka_instance")
quiet.setLevel(logging.CRITICAL)
try:
    with kafka.get_producer() as producer:
        producer.send(topic, float("nan"))  # json.dumps gives NaN: not JSON
    raise SystemExit("demo: invalid JSON was accepted")
except KafkaError as e:
    assert e.code == "KAFKA_ERR_SERIALIZATION", e
try:  # in a batch, the list is refused as a whole: nothing of it is queued
    with kafka.get_producer() as producer:
        producer.send_batch(topic, [{"order_id": 6}, float("nan")])
    raise SystemExit("demo: a batch with invalid JSON was accepted")
except KafkaError as e:
    assert e.code == "KAFKA_ERR_SERIALIZATION", e
finally:
    quiet.setLevel(logging.NOTSET)

received, assigned = [], []
with kafka.get_consumer([topic], session_timeout_ms=6000) as consumer:
    consumer.register_handler(topic, lambda m: received.append(json.loads(m.value)))
    consumer.on_rebalance(lambda event, parts: assigned.extend(parts) if event == 1 else None)
    deadline = time.time() + 30
    while len(received) < len(orders) and time.time() < deadline:
        consumer.consume(500)
    # Consumer control: what it holds, a pause and resume, its lag.
    assert sorted(p["partition"] for p in assigned) == [0, 1], assigned
    assert sorted(consumer.assignment()) == [(topic, 0), (topic, 1)]
    consumer.pause([(topic, 0)])
    consumer.resume([(topic, 0)])
    # An asynchronous commit: its outcome arrives in a later consume.
    outcomes = []
    consumer.commit_async(callback=lambda error, offsets: outcomes.append((error, offsets)))
    deadline = time.time() + 30
    while not outcomes and time.time() < deadline:
        consumer.consume(100)
    assert len(outcomes) == 1 and outcomes[0][0] is None, outcomes
    lag = consumer.lag()
    assert sum(p["lag"] for p in lag) == 0 and len(lag) == 2, lag
    # The shutdown pattern: another thread (or a signal handler) wakes the
    # consuming thread, which then closes the consumer.
    threading.Timer(0.3, consumer.wakeup).start()
    try:
        consumer.consume(-1)
        raise SystemExit("demo: consume(-1) returned without being woken")
    except KafkaError as e:
        assert e.code == "KAFKA_ERR_WAKEUP", e

# A transaction: what it sends becomes visible to read_committed readers
# only when it commits.
audit = topic + "-audit"
if embedded:
    embedded.create_topic(audit, partitions=1)
else:
    kafka.create_topic(audit, partitions=1)
with kafka.get_producer(transactional_id=topic + "-txn") as producer:
    producer.init_transactions()
    producer.begin_transaction()
    producer.send_batch(audit, [{"audited": o["order_id"]} for o in orders])
    try:
        quiet.setLevel(logging.CRITICAL)
        producer.commit_transaction()
        assert producer.fatal_error() is None
    except KafkaError as e:
        if e.rdkafka_code != -165:  # _UNSUPPORTED_FEATURE: a broker without them
            raise
        print("demo: transactions skipped: the broker does not support them (%s)" % e)
    finally:
        quiet.setLevel(logging.NOTSET)

ok = sorted(received, key=lambda o: o["order_id"]) == orders
print("demo: produced %d orders, consumed %d, equal: %s" % (len(orders), len(received), ok))
sys.exit(0 if ok else 1)

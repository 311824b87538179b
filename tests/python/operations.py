"""The ctypes binding's operations, against the embedded broker: statistics
and OAUTHBEARER callbacks, cluster and group views, group lag. Run by
tests/examples.rs; prints "operations: ok"."""
import os
import sys
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "python"))
from kafka_instance import native as ki  # noqa: E402

mc = ki.MockCluster(3)
mc.create_topic("ops", partitions=2)
seen = {}
lock = threading.Lock()


def on_stats(summary, text):
    assert text.startswith("{"), text[:20]
    with lock:
        seen.setdefault(summary["client_type"], []).append(summary)


config = ki.Config(bootstrap_servers=mc.bootstrap_servers, group_id="ops-group",
                   auto_offset_reset="earliest").set_statistics_callback(100, on_stats)
kafka = ki.KafkaInstance(config)
del config  # the instance keeps its callbacks

producer = kafka.get_producer()
statuses = producer.send_batch("ops", [{"n": i} for i in range(20)], keys=["k%d" % i for i in range(20)])
assert statuses == [0] * 20, statuses
deadline = time.time() + 10
while time.time() < deadline:
    with lock:
        if any(s["messages_sent"] == 20 for s in seen.get("producer", [])):
            break
    time.sleep(0.05)
else:
    raise SystemExit("no producer statistics counting 20 sent: %r" % seen.get("producer", [])[-1:])
producer.close()

cluster = kafka.describe_cluster()
assert [b["id"] for b in cluster["brokers"]] == [1, 2, 3], cluster["brokers"]
ops = [p for p in cluster["partitions"] if p["topic"] == "ops"]
assert [p["partition"] for p in ops] == [0, 1], ops
assert all(p["leader"] in p["replicas"] for p in ops), ops
assert len(kafka.describe_topic("ops")["partitions"]) == 2

consumer = kafka.get_consumer(["ops"])
read = []
consumer.register_handler("ops", lambda m: read.append(m.offset))
deadline = time.time() + 30
while len(read) < 20 and time.time() < deadline:
    consumer.consume(500)
consumer.commit()
lag = kafka.group_lag("ops-group", [("ops", 0), ("ops", 1)])
assert sum(p["lag"] for p in lag) == 0, lag
assert sum(p["committed"] for p in lag) == 20, lag
offsets = kafka.group_offsets("ops-group", [("ops", 0), ("ops", 1)])
assert sum(p["committed"] for p in offsets) == 20, offsets
consumer.close()
try:
    kafka.group_lag("", [("ops", 0)])
    raise SystemExit("an empty group was accepted")
except ki.KafkaError as e:
    assert e.code == "KAFKA_ERR_INVALID_ARGUMENT", e

asked = []


def token(config):
    asked.append(config)
    raise RuntimeError("no vault today")


oauth = ki.KafkaInstance(ki.Config(bootstrap_servers=mc.bootstrap_servers,
                                   security_protocol="SASL_PLAINTEXT",
                                   sasl_mechanism="OAUTHBEARER")
                         .set_oauthbearer_token_callback(token))
p = oauth.get_producer()
deadline = time.time() + 10
while not asked and time.time() < deadline:
    time.sleep(0.05)
assert asked == [None], asked
p.close(1000)
print("operations: ok (%d statistics reports)" % sum(len(v) for v in seen.values()))

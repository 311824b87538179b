#!/usr/bin/env python3
"""The peer figures of docs/performance.md: one producer workload through kafka_instance
and the clients a user would otherwise pick, on the same machine and
broker.

    export $(scripts/broker.sh start)          # or any broker
    make -C examples-c PROFILE=release bench   # the C figure
    target/venv/bin/pip install --no-build-isolation ./python   # the package, release build
    target/venv/bin/python benches/peers.py [messages] [rounds]   # default 1000000 1

Workload: `messages` keyed JSON values of about 100 bytes (the Python framework's
`{"order_id": ..., ...}` dicts), acks=all, sent asynchronously, then
flushed; the figure is messages per second from the first send until all
are acknowledged. Each client gets its own topic (3 partitions). Each
producer first sends one message and waits for its acknowledgement, and
the clock starts after it: a new idempotent producer waits 0.5 to 1 s for
its producer id (librdkafka asks for it on a 500 ms timer), and at these
counts that start-up would be most of the figure.

- kafka_instance, C: examples-c/build/bench (pre-encoded values, our
  send_json validates them);
- kafka_instance, Python: the package in python/ (kafka_instance.native, ctypes),
  json.dumps per message, one call per message and one call per 1,000
  (send_batch);
- kafka_instance, Python package API: KafkaInstance(...).get_producer()
  .send(topic, value=dict, key=str) per message (JSON-encoded by the
  package; each send returns a future; the installed package's compiled
  send when it is installed, which the first lines say);
- confluent-kafka (Python over librdkafka), json.dumps per message;
- kafka-python (the client the Python framework is built on), value_serializer=json.dumps.

Then consuming: each Python client reads the `messages` the package API
wrote, in batches of up to 500 (the package's poll(max_records=500),
confluent-kafka's consume(500), kafka-python's poll(max_records=500)),
decoding every value from JSON; the figure is messages per second from
the first poll until all arrived.

A client that is not installed is reported as such (pip install
confluent-kafka kafka-python). Not part of the test command.
"""
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
try:  # the installed package (pip install ./python), with its compiled send
    import kafka_instance  # noqa: F401
except ImportError:  # the sources, with KAFKA_INSTANCE_LIB (send in Python)
    sys.path.insert(0, os.path.join(ROOT, "python"))

SERVERS = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "").strip()
N = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 1
PAD = "x" * 40


def value(i):
    return {"order_id": i, "customer": "alice", "pad": PAD}


def key(i):
    return "customer-%d" % (i % 1000)


def topic(name):
    """A fresh topic, created through kafka_instance's admin call."""
    from kafka_instance import native as ki
    t = "peers-%s-%d-%d" % (name, os.getpid(), int(time.time()))
    ki.KafkaInstance(ki.Config(bootstrap_servers=SERVERS)).create_topic(t, 3)
    return t


def run_c():
    exe = os.path.join(ROOT, "examples-c", "build", "bench")
    if not os.path.exists(exe):
        return None, "not built: make -C examples-c PROFILE=release bench"
    out = subprocess.run([exe, str(N), "100"], capture_output=True, text=True,
                         env=dict(os.environ, KAFKA_INSTANCE_LOG="off"))
    if out.returncode != 0:
        return None, "failed: " + out.stderr.strip()[-200:]
    line = next(l for l in out.stdout.splitlines() if l.startswith("produce:"))
    return float(line.split(": ")[2].split(" msg/s")[0]), "examples-c/bench"


def run_ours_python():
    from kafka_instance import native as ki
    t = topic("ours")
    inst = ki.KafkaInstance(ki.Config(bootstrap_servers=SERVERS))
    p = inst.get_producer()
    p.send(t, value(-1), key(-1))
    p.flush()
    start = time.perf_counter()
    for i in range(N):
        while True:
            try:
                p.send(t, value(i), key(i))
                break
            except ki.KafkaError as e:
                if e.code != "KAFKA_ERR_QUEUE_FULL":
                    raise
                time.sleep(0.0001)
    p.close(300000)
    return N / (time.perf_counter() - start), "ctypes binding"


def run_ours_python_batch():
    from kafka_instance import native as ki
    t = topic("oursbatch")
    inst = ki.KafkaInstance(ki.Config(bootstrap_servers=SERVERS))
    p = inst.get_producer()
    p.send(t, value(-1), key(-1))
    p.flush()
    start = time.perf_counter()
    for first in range(0, N, 1000):
        todo = list(range(first, min(first + 1000, N)))
        while todo:
            statuses = p.send_batch(t, [value(i) for i in todo], keys=[key(i) for i in todo])
            # 5: KAFKA_ERR_QUEUE_FULL, sent again; anything else is a failure.
            if any(s not in (0, 5) for s in statuses):
                raise RuntimeError("send_batch: %r" % sorted(set(statuses)))
            todo = [i for i, s in zip(todo, statuses) if s == 5]
            if todo:
                time.sleep(0.0001)
    p.close(300000)
    return N / (time.perf_counter() - start), "ctypes binding, send_batch of 1,000"


def run_ours_package(**kwargs):
    """The package's KafkaInstance API, as a service written for it sends."""
    from kafka_instance import KafkaConfig, KafkaError, KafkaInstance
    t = topic("package")
    kafka = KafkaInstance(KafkaConfig().set_bootstrap_servers(SERVERS.split(",")))
    p = kafka.get_producer(acks="all", **kwargs)
    p.send(t, value=value(-1), key=key(-1)).get(timeout=60)
    start = time.perf_counter()
    for i in range(N):
        while True:
            try:
                p.send(t, value=value(i), key=key(i))
                break
            except KafkaError as e:
                if e.code != "KAFKA_ERR_QUEUE_FULL":
                    raise
                time.sleep(0.0001)
    p.flush()
    secs = time.perf_counter() - start
    p.close()
    run_ours_package.topic = t
    if kwargs:
        return N / secs, "value_serializer=json.dumps: the standard library's encoder"
    try:
        import orjson  # noqa: F401
        return N / secs, "default serializer: orjson (installed)"
    except ImportError:
        return N / secs, "default serializer: json (orjson not installed)"


def run_ours_package_json():
    return run_ours_package(value_serializer=lambda v: json.dumps(v).encode())


def run_confluent_orjson():
    try:
        import orjson
    except ImportError:
        return None, "orjson not installed"
    return run_confluent(orjson.dumps, "orjson.dumps per message")


def group(name):
    """A new consumer group for each read, so that each reads from the start."""
    group.count = getattr(group, "count", 0) + 1
    return "peers-%s-%d-%d" % (name, os.getpid(), group.count)


def timed_reads(take):
    """Messages per second from the first non-empty read until all N + 1
    (the first, sent before the clock started, and N) arrived: take()
    reads one batch and says how many it got. None when they did not
    arrive within 10 minutes."""
    got, start = 0, None
    deadline = time.monotonic() + 600
    while got < N + 1 and time.monotonic() < deadline:
        n = take()
        if n and start is None:
            start = time.perf_counter()
        got += n
    return got / (time.perf_counter() - start) if got == N + 1 else None


def consume_ours():
    from kafka_instance import KafkaConfig, KafkaInstance
    config = (KafkaConfig().set_bootstrap_servers(SERVERS.split(","))
              .set_group_id(group("ours")).set_auto_offset_reset("earliest"))
    c = KafkaInstance(config).get_consumer([run_ours_package.topic])
    rate = timed_reads(lambda: sum(map(len, c.poll(timeout_ms=1000, max_records=500).values())))
    c.close()
    return rate, "poll(max_records=500), values decoded"


def consume_confluent_orjson():
    try:
        import orjson
    except ImportError:
        return None, "orjson not installed"
    return consume_confluent(orjson.loads, "consume(500), orjson.loads per value")


def consume_confluent(loads=json.loads, how="consume(500), json.loads per value"):
    try:
        import confluent_kafka
    except ImportError:
        return None, "not installed"
    c = confluent_kafka.Consumer({"bootstrap.servers": SERVERS,
                                  "group.id": group("confluent"),
                                  "auto.offset.reset": "earliest"})
    c.subscribe([run_ours_package.topic])

    def take():
        n = 0
        for m in c.consume(500, 1.0):
            if m.error() is None:
                loads(m.value())
                n += 1
        return n
    rate = timed_reads(take)
    c.close()
    return rate, how


def consume_kafka_python():
    try:
        import kafka
    except ImportError:
        return None, "not installed"
    c = kafka.KafkaConsumer(run_ours_package.topic, bootstrap_servers=SERVERS,
                            group_id=group("kp"), auto_offset_reset="earliest",
                            value_deserializer=json.loads)
    rate = timed_reads(lambda: sum(map(len, c.poll(timeout_ms=1000, max_records=500).values())))
    c.close()
    return rate, "poll(max_records=500), value_deserializer=json.loads"


def run_confluent(encode=lambda v: json.dumps(v).encode(), how="json.dumps per message"):
    try:
        import confluent_kafka
    except ImportError:
        return None, "not installed (pip install confluent-kafka)"
    t = topic("confluent")
    p = confluent_kafka.Producer({"bootstrap.servers": SERVERS, "acks": "all",
                                  "enable.idempotence": True,
                                  "partitioner": "murmur2_random"})
    p.produce(t, encode(value(-1)), key(-1).encode())
    p.flush(60)
    start = time.perf_counter()
    for i in range(N):
        while True:
            try:
                p.produce(t, encode(value(i)), key(i).encode())
                break
            except BufferError:
                p.poll(0.001)
        if i % 1000 == 0:
            p.poll(0)
    left = p.flush(300)
    if left:
        return None, "%d messages not delivered" % left
    version = getattr(confluent_kafka, "__version__", None) or confluent_kafka.version()[0]
    return N / (time.perf_counter() - start), "confluent-kafka %s, librdkafka %s, %s" % (
        version, confluent_kafka.libversion()[0], how)


def run_kafka_python():
    try:
        import kafka
    except ImportError:
        return None, "not installed (pip install kafka-python)"
    t = topic("kafkapython")
    p = kafka.KafkaProducer(bootstrap_servers=SERVERS, acks="all", linger_ms=5,
                            value_serializer=lambda v: json.dumps(v).encode(),
                            key_serializer=str.encode)
    p.send(t, value(-1), key(-1)).get(timeout=60)
    start = time.perf_counter()
    for i in range(N):
        p.send(t, value(i), key(i))
    p.flush(timeout=600)
    secs = time.perf_counter() - start
    p.close()
    return N / secs, "kafka-python %s" % kafka.__version__


def table(title, runs):
    """Runs each client ROUNDS times, in turn (round by round, so that a
    slow spell of the machine touches every client), and prints the median
    and the spread."""
    rates = {name: [] for name, _ in runs}
    notes = {}
    for r in range(ROUNDS):
        for name, run in runs:
            print("  %s (round %d) ..." % (name, r + 1), flush=True)
            try:
                rate, note = run()
            except Exception as e:  # one failing peer must not hide the others
                rate, note = None, "failed: %s" % e
            if rate:
                rates[name].append(rate)
            notes[name] = note
    median = {name: statistics.median(r) if r else None for name, r in rates.items()}
    base = median[runs[0][0]]
    print("\n%s (median of %d)\n\n| client | msg/s | spread | vs first row | notes |\n"
          "|---|---:|---:|---:|---|" % (title, ROUNDS))
    for name, _ in runs:
        rate, r = median[name], rates[name]
        print("| %s | %s | %s | %s | %s |" % (
            name, "%.0f" % rate if rate else "-",
            "%.0f-%.0f" % (min(r), max(r)) if r else "-",
            "%.2f" % (rate / base) if rate and base else "-", notes[name]))
    print()


def main():
    if not SERVERS:
        print("set KAFKA_BOOTSTRAP_SERVERS (e.g. export $(scripts/broker.sh start)): "
              "kafka-python needs a real broker", file=sys.stderr)
        return 2
    import kafka_instance
    from kafka_instance import connection
    print("peers: %d x ~100 B JSON, acks=all, against %s, %d round(s)" % (N, SERVERS, ROUNDS))
    print("kafka_instance from %s (send() compiled: %s)" % (
        os.path.dirname(kafka_instance.__file__), connection.COMPILED))
    table("producing", [("kafka_instance (C)", run_c),
                        ("kafka_instance (Python, KafkaInstance API)", run_ours_package),
                        ("kafka_instance (Python, KafkaInstance API, json)", run_ours_package_json),
                        ("kafka_instance (Python ctypes)", run_ours_python),
                        ("kafka_instance (Python ctypes, send_batch)", run_ours_python_batch),
                        ("confluent-kafka (Python)", run_confluent),
                        ("confluent-kafka (Python, orjson)", run_confluent_orjson),
                        ("kafka-python", run_kafka_python)])
    table("consuming", [("kafka_instance (Python, KafkaInstance API)", consume_ours),
                        ("confluent-kafka (Python)", consume_confluent),
                        ("confluent-kafka (Python, orjson)", consume_confluent_orjson),
                        ("kafka-python", consume_kafka_python)])
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""kafka-python as an independent peer client for tests/interop.rs.

  read    BOOTSTRAP TOPIC N           print N values (json.loads), one JSON line each
  write   BOOTSTRAP TOPIC N           send N dicts serialized with json.dumps (UTF-8),
                                      print the exact bytes sent (one line each)
  member  BOOTSTRAP TOPIC GROUP SECS  consume in GROUP for SECS, print "partition offset" lines

No broker-specific settings: kafka-python's own version probe is used.
"""

import json
import sys
import time

from kafka import KafkaConsumer, KafkaProducer

mode, bootstrap, topic = sys.argv[1], sys.argv[2], sys.argv[3]
common = dict(bootstrap_servers=bootstrap, request_timeout_ms=20000)

if mode == "read":
    n = int(sys.argv[4])
    consumer = KafkaConsumer(topic, group_id=None, auto_offset_reset="earliest",
                             value_deserializer=json.loads, consumer_timeout_ms=20000, **common)
    got = 0
    for message in consumer:
        print(json.dumps(message.value, sort_keys=True), flush=True)
        got += 1
        if got == n:
            break
    consumer.close()
elif mode == "write":
    n = int(sys.argv[4])
    producer = KafkaProducer(value_serializer=lambda v: json.dumps(v).encode("utf-8"),
                             key_serializer=str.encode, acks="all", **common)
    for i in range(n):
        value = {"from": "kafka-python", "i": i, "text": "caf\u00e9"}
        producer.send(topic, value=value, key="k%d" % i).get(timeout=20)
        print(json.dumps(value), flush=True)
    producer.flush()
    producer.close()
elif mode == "member":
    group, seconds = sys.argv[4], float(sys.argv[5])
    consumer = KafkaConsumer(topic, group_id=group, auto_offset_reset="earliest",
                             session_timeout_ms=6000, heartbeat_interval_ms=1000, **common)
    deadline = time.time() + seconds
    while time.time() < deadline:
        for _tp, records in consumer.poll(timeout_ms=200).items():
            for r in records:
                print("%d %d" % (r.partition, r.offset), flush=True)
    consumer.close()
else:
    sys.exit("unknown mode " + mode)

import os

from kafka_instance import KafkaConfig, KafkaInstance, MockCluster

servers = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
embedded = None
if not servers:  # no broker given: an embedded one, in this process
    embedded = MockCluster(1)
    embedded.create_topic("orders")
    servers = embedded.bootstrap_servers

config = (KafkaConfig()
          .set_bootstrap_servers(servers.split(","))
          .set_group_id("orders-report")
          .set_auto_offset_reset("earliest"))
kafka = KafkaInstance(config)

with kafka.producer_context() as producer:
    for order_id in (1, 2, 3):
        producer.send("orders", value={"order_id": order_id}, key=str(order_id))

received = []
with kafka.consumer_context(["orders"], consumer_timeout_ms=20000) as consumer:
    for message in consumer:  # message.value is decoded from JSON
        received.append(message.value["order_id"])
        if len(received) == 3:
            break
print("received orders", sorted(received))

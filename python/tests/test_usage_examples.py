"""The usage examples of the KafkaInstance documentation, as they are written
there apart from the import, the broker address and topic names (unique per
run), each checked against what arrives."""

import logging

import pytest

from kafka_instance import KafkaConfig, KafkaInstance


def produce(broker, topic, values):
    instance = KafkaInstance(KafkaConfig().set_bootstrap_servers(broker.servers))
    with instance.producer_context() as producer:
        for v in values:
            producer.send(topic, value=v)


def read_all(broker, topic, expected, group):
    config = (KafkaConfig().set_bootstrap_servers(broker.servers).set_group_id(group)
              .set_auto_offset_reset("earliest"))
    consumer = KafkaInstance(config).get_consumer([topic], consumer_timeout_ms=15000)
    got = []
    try:
        for message in consumer:
            got.append(message.value)
            if len(got) == expected:
                break
    finally:
        consumer.close()
    return got


def test_basic_producer_setup(broker, group):
    topic = broker.topic("test-topic")
    # -- as documented --
    config = KafkaConfig().set_bootstrap_servers(broker.servers)
    kafka_instance = KafkaInstance(config)

    producer = kafka_instance.get_producer()
    try:
        future = producer.send(topic, value={'message': 'Hello Kafka'})
        result = future.get(timeout=10)
        print(f"Message sent successfully: {result}")
    finally:
        producer.flush()
        producer.close()
    # --
    assert result.topic == topic and result.partition == 0 and result.offset == 0
    assert read_all(broker, topic, 1, group) == [{'message': 'Hello Kafka'}]


def test_basic_consumer_setup(broker, group):
    topic = broker.topic("test-topic")
    produce(broker, topic, [{"n": i} for i in range(103)])
    seen = []
    # -- as documented --
    config = (
        KafkaConfig()
        .set_bootstrap_servers(broker.servers)
        .set_group_id(group)
        .set_auto_offset_reset('earliest')
    )
    kafka_instance = KafkaInstance(config)

    consumer = kafka_instance.get_consumer([topic])
    try:
        for message in consumer:
            print(f"Received: {message.value}")
            seen.append(message.value)
            if message.offset > 100:  # Stop after 100 messages
                break
    finally:
        consumer.close()
    # --
    assert seen == [{"n": i} for i in range(102)]


def test_using_context_managers(broker, group):
    topic = broker.topic("events")
    counts = []
    # -- as documented --
    config = (
        KafkaConfig()
        .set_bootstrap_servers(broker.servers)
        .set_group_id(group)
        .set_auto_offset_reset('earliest')  # (the document's group reads new messages only)
    )
    kafka_instance = KafkaInstance(config)

    with kafka_instance.producer_context() as producer:
        for i in range(100):
            producer.send(topic, value={'event_id': i, 'type': 'click'})

    with kafka_instance.consumer_context([topic]) as consumer:
        messages = consumer.poll(timeout_ms=10000)
        for tp, records in messages.items():
            print(f"Received {len(records)} messages from {tp}")
            counts.append((tp, len(records), [r.value['event_id'] for r in records]))
    # --
    assert counts, "poll(timeout_ms=10000) returned messages"
    (tp, n, ids), = counts
    assert tp.topic == topic and tp.partition == 0
    assert ids == list(range(n)), "in order from the first"


def test_secure_connection_with_sasl_ssl(broker, caplog):
    """Configured as documented; no broker here speaks SASL_SSL, so the
    producer is created and closed, and the password appears in no log
    record and no repr."""
    # -- as documented (servers unreachable on purpose: port 1) --
    config = (
        KafkaConfig()
        .set_bootstrap_servers(['127.0.0.1:1', '127.0.0.1:1'])
        .set_security_protocol('SASL_SSL')
        .set_sasl_mechanism('SCRAM-SHA-256')
        .set_sasl_plain_username('app_user')
        .set_sasl_plain_password('secure_password')
        .set_client_id('payment-service')
    )

    kafka_instance = KafkaInstance(config)

    caplog.set_level(logging.DEBUG, logger="kafka_instance")
    with kafka_instance.producer_context(acks='all') as producer:
        future = producer.send('payments', value={'payment_id': 'PAY-123', 'amount': 500.00})
        with pytest.raises(Exception):
            future.get(timeout=1)
        producer.close(timeout=0.5)
    # --
    assert "secure_password" not in repr(config)
    for r in caplog.records:
        assert "secure_password" not in r.getMessage()
        assert "secure_password" not in repr(getattr(r, "payload", None))


def test_multiple_topics_consumer(broker, group):
    topics = [broker.topic(t) for t in ('user-created', 'user-updated', 'user-deleted')]
    for i, t in enumerate(topics):
        produce(broker, t, [{"user": i}])
    handled = []
    handle_user_created = handle_user_updated = handle_user_deleted = handled.append
    # -- as documented --
    config = (
        KafkaConfig()
        .set_bootstrap_servers(broker.servers)
        .set_group_id(group)
        .set_auto_offset_reset('earliest')  # (the document's 'latest' reads new messages only)
    )

    kafka_instance = KafkaInstance(config)

    consumer = kafka_instance.get_consumer(topics)

    try:
        for message in consumer:
            print(f"Topic: {message.topic}")
            print(f"Partition: {message.partition}")
            print(f"Offset: {message.offset}")
            print(f"Value: {message.value}")

            # Handle different topics
            if message.topic == topics[0]:
                handle_user_created(message.value)
            elif message.topic == topics[1]:
                handle_user_updated(message.value)
            elif message.topic == topics[2]:
                handle_user_deleted(message.value)
            if len(handled) == 3:
                break
    finally:
        consumer.close()
    # --
    assert sorted(h["user"] for h in handled) == [0, 1, 2]


def test_custom_producer_configuration(broker, group):
    topic = broker.topic("critical-events")
    # -- as documented --
    config = KafkaConfig().set_bootstrap_servers(broker.servers)
    kafka_instance = KafkaInstance(config)

    producer = kafka_instance.get_producer(
        acks='all',  # Wait for all replicas
        retries=5,  # Retry up to 5 times
        max_in_flight_requests_per_connection=1,  # Ensure ordering
        compression_type='snappy',  # Compress messages
        linger_ms=10,  # Batch messages for 10ms
        batch_size=32768  # Batch size in bytes
    )

    try:
        producer.send(topic, value={'event': 'system-shutdown'})
    finally:
        producer.flush()
        producer.close()
    # --
    assert read_all(broker, topic, 1, group) == [{'event': 'system-shutdown'}]


def test_manual_offset_commit_consumer(broker, group):
    """The documented loop, ended once a poll finds nothing. commit() commits
    the consumer's position (as kafka-python's does): the whole batch the
    last poll returned, so a failure that breaks out of a batch skips the
    rest of it unless the loop polls again from a new consumer. The
    package's README commits with commit(message) instead, which keeps the
    failed record (test_guarantees.py checks that)."""
    topic = broker.topic("transactions")
    produce(broker, topic, [{"tx": i} for i in range(10)])
    processed, failed, committed_after = [], [], []

    def process_transaction(value):
        if value["tx"] == 6:
            failed.append(value)
            raise RuntimeError("transaction 6 fails")
        processed.append(value)

    # -- as documented (the loop ends once a poll finds nothing) --
    config = (
        KafkaConfig()
        .set_bootstrap_servers(broker.servers)
        .set_group_id(group)
        .set_enable_auto_commit(False)  # Disable auto-commit
        .set_auto_offset_reset('earliest')
    )

    kafka_instance = KafkaInstance(config)
    consumer = kafka_instance.get_consumer([topic])

    try:
        while True:
            messages = consumer.poll(timeout_ms=1000)
            if not messages and (processed or failed):
                break

            for topic_partition, records in messages.items():
                for message in records:
                    try:
                        # Process message
                        process_transaction(message.value)

                        # Commit after successful processing
                        consumer.commit()
                        committed_after.append(message.offset)
                    except Exception as e:
                        print(f"Error processing message: {e}")
                        # Don't commit - message will be reprocessed
                        break
    finally:
        consumer.close()
    # --
    assert [p["tx"] for p in processed[:6]] == [0, 1, 2, 3, 4, 5]
    assert failed and failed[0] == {"tx": 6}
    assert len(processed) == len({p["tx"] for p in processed}), "each once"
    # A new consumer of the group resumes after the last commit: never a
    # message processed before it.
    again = KafkaInstance(config).get_consumer([topic], session_timeout_ms=6000)
    try:
        later = [r.offset for rs in again.poll(timeout_ms=10000).values() for r in rs]
    finally:
        again.close()
    assert all(o > committed_after[-1] for o in later), (committed_after, later)


def test_the_documented_build_base_config_gives_the_base_settings(broker):
    """_build_base_config(), the private method the documentation names:
    the settings every client starts from (kafka_url winning over the
    servers), and ValueError when there are no servers."""
    config = (KafkaConfig().set_bootstrap_servers(broker.servers)
              .set_client_id("payment-service").set_group_id("g"))
    instance = KafkaInstance(config)
    assert instance._build_base_config() == {
        "bootstrap_servers": ",".join(broker.servers), "client_id": "payment-service",
        "group_id": "g"}
    config.set_kafka_url("kafka://user:pw@c:9092")
    assert instance._build_base_config()["kafka_url"] == "kafka://user:pw@c:9092"
    assert "bootstrap_servers" not in instance._build_base_config()
    instance.config = KafkaConfig()  # neither servers nor a URL
    with pytest.raises(ValueError, match="kafka_url or bootstrap servers"):
        instance._build_base_config()

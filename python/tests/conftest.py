"""The broker the tests use: KAFKA_BOOTSTRAP_SERVERS when set, else the
library's embedded broker (librdkafka's mock cluster, in this process)."""

import os
import uuid

import pytest

from kafka_instance import KafkaConfig, KafkaInstance, MockCluster


class Broker:
    def __init__(self):
        servers = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "").strip()
        self.mock = None if servers else MockCluster(1)
        self.servers = servers.split(",") if servers else [self.mock.bootstrap_servers]
        self.name = "external" if servers else "embedded"

    def topic(self, prefix, partitions=1):
        """A new topic, made on the broker."""
        name = "%s-%s" % (prefix, uuid.uuid4().hex[:10])
        if self.mock is not None:
            self.mock.create_topic(name, partitions)
        else:
            admin = KafkaInstance(KafkaConfig().set_bootstrap_servers(self.servers))
            admin.native.create_topic(name, partitions, 1)
        return name


@pytest.fixture(scope="module")
def broker():
    return Broker()


@pytest.fixture
def group():
    return "group-" + uuid.uuid4().hex[:10]

"""kafka_instance for Python: a native Kafka client (Rust on librdkafka)
behind the API of the KafkaInstance manager that Python services already
use: KafkaConfig, KafkaInstance (get_producer / get_consumer and their
`with` contexts), Producer, Consumer, and AsyncKafkaInstance for asyncio.

The C API itself, one call for one call, is `kafka_instance.native`.
Failures are logged (logger "kafka_instance", with log_type, controller,
subject and payload as `extra` fields) and then raised.
"""

from .aio import AsyncConsumer, AsyncKafkaInstance, AsyncProducer
from .config import KafkaConfig
from .connection import (ConsumerRecord, FutureRecordMetadata, KafkaConsumer, KafkaInstance,
                         KafkaProducer, RecordMetadata, TopicPartition)
from .consumer import Consumer
from .native import KafkaError, MockCluster
from .producer import Producer

__all__ = [
    "AsyncConsumer", "AsyncKafkaInstance", "AsyncProducer", "Consumer", "ConsumerRecord",
    "FutureRecordMetadata", "KafkaConfig", "KafkaConsumer", "KafkaError", "KafkaInstance",
    "KafkaProducer", "MockCluster", "Producer", "RecordMetadata", "TopicPartition",
]

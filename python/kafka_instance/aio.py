"""asyncio: producers and consumers that never block the event loop and use
no thread per call.

A send's delivery report arrives on the producer's own thread and is handed
to the loop with call_soon_threadsafe. A consumer waits on its event file
descriptor (kafka_consumer_event_fd, readable while a poll would return
something) with loop.add_reader, then polls without waiting.
"""

import asyncio
import contextlib

from .connection import KafkaInstance


class AsyncKafkaInstance:
    """KafkaInstance for asyncio code: the same KafkaConfig, and async
    producers and consumers. Raises as KafkaInstance does."""

    def __init__(self, config):
        self._instance = KafkaInstance(config)
        self.config = config

    def get_producer(self, **kwargs):
        return AsyncProducer(self._instance.get_producer(**kwargs))

    def get_consumer(self, topics, **kwargs):
        return AsyncConsumer(self._instance.get_consumer(topics, **kwargs))

    @contextlib.asynccontextmanager
    async def producer_context(self, **kwargs):
        producer = self.get_producer(**kwargs)
        try:
            yield producer
        finally:
            await producer.close()

    @contextlib.asynccontextmanager
    async def consumer_context(self, topics, **kwargs):
        consumer = self.get_consumer(topics, **kwargs)
        try:
            yield consumer
        finally:
            await consumer.close()

    @property
    def native(self):
        return self._instance.native


class AsyncProducer:
    def __init__(self, producer):
        self._producer = producer
        self._pending = set()

    async def send(self, topic, value=None, key=None, headers=None, partition=None,
                   timestamp_ms=None):
        """Sends and waits (without blocking the loop) for the broker's
        answer: RecordMetadata, or the KafkaError that refused it."""
        return await self.send_nowait(topic, value, key, headers, partition, timestamp_ms)

    def send_nowait(self, topic, value=None, key=None, headers=None, partition=None,
                    timestamp_ms=None):
        """Queues the message and returns an asyncio future of its
        RecordMetadata at once."""
        loop = asyncio.get_running_loop()
        result = loop.create_future()
        sent = self._producer.send(topic, value=value, key=key, headers=headers,
                                   partition=partition, timestamp_ms=timestamp_ms)

        def done(outcome, ok):
            if not result.done():
                result.set_result(outcome) if ok else result.set_exception(outcome)

        sent.add_callback(lambda m: loop.call_soon_threadsafe(done, m, True))
        sent.add_errback(lambda e: loop.call_soon_threadsafe(done, e, False))
        self._pending.add(result)
        result.add_done_callback(self._pending.discard)
        return result

    async def flush(self):
        """Waits until every message sent so far is answered."""
        if self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    async def close(self):
        await self.flush()
        self._producer.close(0)


# The longest a consumer waits on its descriptor without polling: polls keep
# it in its group (max.poll.interval.ms) and run its auto-commit.
_IDLE_POLL = 1.0


class AsyncConsumer:
    def __init__(self, consumer):
        self._consumer = consumer
        self._fd = consumer.event_fd()

    async def _readable(self, timeout):
        loop = asyncio.get_running_loop()
        ready = loop.create_future()
        loop.add_reader(self._fd, lambda: ready.done() or ready.set_result(None))
        try:
            await asyncio.wait_for(ready, timeout)
        except asyncio.TimeoutError:
            pass
        finally:
            loop.remove_reader(self._fd)

    async def getmany(self, timeout_ms=0, max_records=None):
        """{TopicPartition: [ConsumerRecord]}: what is there, or what
        arrives within timeout_ms."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_ms / 1000
        while True:
            batch = self._consumer.poll(timeout_ms=0, max_records=max_records)
            left = deadline - loop.time()
            if batch or left <= 0:
                return batch
            await self._readable(min(left, _IDLE_POLL))

    async def getone(self):
        """The next ConsumerRecord, waiting as long as it takes."""
        while True:
            batch = self._consumer.poll(timeout_ms=0, max_records=1)
            for records in batch.values():
                return records[0]
            await self._readable(_IDLE_POLL)

    def __aiter__(self):
        return self

    async def __anext__(self):
        return await self.getone()

    async def commit(self, message=None, offsets=None):
        """As KafkaConsumer.commit: everything handed out, through one
        record (commit(message)), or exactly `offsets`."""
        self._consumer.commit(message, offsets)

    async def close(self):
        """Commits what was processed and leaves the group (on a worker
        thread: this can wait for the broker)."""
        await asyncio.get_running_loop().run_in_executor(None, self._consumer.close)

"""asyncio: sends and reads without blocking the loop, and no thread per
call."""

import asyncio
import threading

from kafka_instance import AsyncKafkaInstance, KafkaConfig


def config(broker, group):
    return (KafkaConfig().set_bootstrap_servers(broker.servers).set_group_id(group)
            .set_auto_offset_reset("earliest"))


def test_async_send_and_read_keep_the_loop_running(broker, group):
    topic = broker.topic("aio")

    async def main():
        instance = AsyncKafkaInstance(config(broker, group))
        threads = threading.active_count()
        async with instance.producer_context() as producer:
            sent = await asyncio.gather(*[producer.send(topic, value={"n": i})
                                          for i in range(100)])
        assert [m.offset for m in sent] == list(range(100))

        ticks = 0

        async def ticker():
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        tick = asyncio.create_task(ticker())
        async with instance.consumer_context([topic]) as consumer:
            got = []
            while len(got) < 100:
                batch = await consumer.getmany(timeout_ms=5000)
                assert batch, "messages within 5 s"
                got.extend(r.value["n"] for rs in batch.values() for r in rs)
            assert got == list(range(100))
            assert threading.active_count() == threads, "no Python thread per call"
            # Nothing more comes: the wait lets the loop run meanwhile.
            before = ticks
            assert await consumer.getmany(timeout_ms=1000) == {}
            assert ticks - before >= 20, "the loop ran %d ticks in 1 s" % (ticks - before)

            # A message arriving while getone() waits wakes it.
            later = asyncio.create_task(consumer.getone())
            await asyncio.sleep(0.3)
            assert not later.done()
            producer = instance.get_producer()
            await producer.send(topic, value={"n": 100})
            record = await asyncio.wait_for(later, 10)
            assert record.value == {"n": 100}
            await producer.close()
        tick.cancel()

    asyncio.run(main())

'use strict';
const test = require('node:test');
const assert = require('node:assert');
const { Instance, MockCluster } = require('..');

test('produce JSON, consume through a handler, delivery callbacks, clean close', async () => {
  const topic = `node-orders-${Date.now()}`;
  let mc = null;
  let servers = (process.env.KAFKA_BOOTSTRAP_SERVERS || '').trim();
  if (!servers) {
    mc = new MockCluster(1);
    mc.createTopic(topic, 1);
    servers = mc.bootstrapServers;
  }
  const inst = new Instance({ bootstrap_servers: servers, group_id: topic, auto_offset_reset: 'earliest' });
  if (!mc) {
    // an external broker: the topic is made by the first send (auto-create)
  }
  const producer = inst.producer();
  const sent = await Promise.all(Array.from({ length: 10 }, (_, i) => producer.sendJSON(topic, { order_id: i }, `k${i}`)));
  assert.deepStrictEqual(sent.map((m) => m.offset), [...Array(10).keys()]);
  await producer.flush(10000);
  await producer.close(10000);
  await assert.rejects(producer.sendJSON(topic, {}), /closed/);

  const consumer = inst.consumer([topic]);
  const got = [];
  consumer.handle(topic, (m) => {
    got.push(m.value.order_id);
    if (m.value.order_id === 3) throw new Error('a failing handler is logged, not fatal');
  });
  const deadline = Date.now() + 20000;
  while (got.length < 10 && Date.now() < deadline) await consumer.consume(500);
  await consumer.close();
  assert.deepStrictEqual(got, [...Array(10).keys()]);
  assert.throws(() => new Instance({ no_such_setting: '1' }), /KAFKA_ERR/);
  inst.free();
  if (mc) mc.free();
});

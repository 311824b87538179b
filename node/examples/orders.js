'use strict';
const { Instance, MockCluster } = require('..');

async function main() {
  let servers = process.env.KAFKA_BOOTSTRAP_SERVERS;
  let embedded = null;
  if (!servers) { // no broker given: an embedded one, in this process
    embedded = new MockCluster(1);
    embedded.createTopic('orders', 1);
    servers = embedded.bootstrapServers;
  }
  const kafka = new Instance({ bootstrap_servers: servers, group_id: 'orders-report', auto_offset_reset: 'earliest' });

  const producer = kafka.producer();
  await Promise.all([1, 2, 3].map((id) => producer.sendJSON('orders', { order_id: id }, String(id))));
  await producer.close();

  const consumer = kafka.consumer(['orders']);
  const received = [];
  consumer.handle('orders', (m) => received.push(m.value.order_id));
  for (let tries = 0; received.length < 3 && tries < 40; tries++) await consumer.consume(500);
  await consumer.close();
  console.log('received orders', received.sort());
  kafka.free();
  if (embedded) embedded.free();
}

main();

'use strict';
// kafka_instance for Node.js, over koffi: an instance made from settings,
// producers whose send() returns a promise of the broker's answer,
// consumers that dispatch to handlers, and a clean close.
//
// Threads: the library reports deliveries on the producer's own thread;
// koffi queues such calls to the JS thread and the library thread waits
// until JS runs them. So every call that waits for deliveries (flush,
// close) runs on a worker thread (koffi's .async) and returns a promise:
// a synchronous wait on the JS thread would wait for itself. Handlers run
// on the thread that consumes: consume() is async too, so the event loop
// keeps running while it waits for messages.
//
// Lifetime: registered callbacks live until the producer or consumer is
// closed; a JS exception in a callback never unwinds into the library (a
// failed handler returns 1, which the library logs).

const koffi = require('koffi');
const path = require('path');
const fs = require('fs');

function load() {
  const candidates = [];
  if (process.env.KAFKA_INSTANCE_LIB) candidates.push(process.env.KAFKA_INSTANCE_LIB);
  candidates.push('libkafka_instance.so.0');
  for (const profile of ['release', 'debug']) {
    candidates.push(path.join(__dirname, '..', 'target', profile, 'libkafka_instance.so'));
  }
  for (const c of candidates) {
    if (c.includes(path.sep) && !fs.existsSync(c)) continue;
    try {
      return koffi.load(c);
    } catch (e) {
      if (c === process.env.KAFKA_INSTANCE_LIB) throw e;
    }
  }
  throw new Error('libkafka_instance.so not found: set KAFKA_INSTANCE_LIB or install it');
}

const lib = load();

const KafkaError = koffi.struct('KafkaError', {
  code: 'int', rdkafka_code: 'int32_t', retriable: 'bool', fatal: 'bool',
  txn_requires_abort: 'bool', message: koffi.array('char', 512, 'String'),
});
const KafkaDeliveryReport = koffi.struct('KafkaDeliveryReport', {
  code: 'int', rdkafka_code: 'int32_t', topic: 'const char *', partition: 'int32_t',
  offset: 'int64_t', timestamp_ms: 'int64_t',
});
const KafkaRecord = koffi.struct('KafkaRecord', {
  topic: 'const char *', key: 'const void *', key_len: 'size_t',
  value: 'const void *', value_len: 'size_t', headers: 'const void *', header_count: 'size_t',
  has_partition: 'bool', partition: 'int32_t', timestamp_ms: 'int64_t',
});
// The opaque is declared intptr_t: a message id, passed through as is.
const DeliveryCallback = koffi.proto('void KiDelivered(const KafkaDeliveryReport *report, intptr_t opaque)');
const Handler = koffi.proto('int KiHandler(const void *m, void *opaque)');

const f = {
  codeName: lib.func('const char *kafka_error_code_name(int code)'),
  configNew: lib.func('void *kafka_config_new()'),
  configFree: lib.func('void kafka_config_free(void *cfg)'),
  configSet: lib.func('int kafka_config_set(void *cfg, const char *key, const char *value, _Out_ KafkaError *err)'),
  instanceNew: lib.func('void *kafka_instance_new(void *cfg, _Out_ KafkaError *err)'),
  instanceFree: lib.func('void kafka_instance_free(void *inst)'),
  getProducer: lib.func('void *kafka_instance_get_producer(void *inst, void *overrides, _Out_ KafkaError *err)'),
  send: lib.func('int kafka_producer_send(void *p, const KafkaRecord *record, KiDelivered *cb, intptr_t opaque, _Out_ KafkaError *err)'),
  flush: lib.func('int kafka_producer_flush(void *p, int32_t timeout_ms, void *remaining, _Out_ KafkaError *err)'),
  closeProducer: lib.func('int kafka_producer_close(void *p, int32_t timeout_ms, _Out_ KafkaError *err)'),
  getConsumer: lib.func('void *kafka_instance_get_consumer(void *inst, const char **topics, size_t count, void *overrides, _Out_ KafkaError *err)'),
  register: lib.func('int kafka_consumer_register_handler(void *c, const char *topic, KiHandler *handler, void *opaque, _Out_ KafkaError *err)'),
  consume: lib.func('int kafka_consumer_consume(void *c, int32_t timeout_ms, _Out_ size_t *dispatched, _Out_ KafkaError *err)'),
  closeConsumer: lib.func('int kafka_consumer_close(void *c, _Out_ KafkaError *err)'),
  msgTopic: lib.func('const char *kafka_message_topic(const void *m)'),
  msgPartition: lib.func('int32_t kafka_message_partition(const void *m)'),
  msgOffset: lib.func('int64_t kafka_message_offset(const void *m)'),
  msgKey: lib.func('const void *kafka_message_key(const void *m, _Out_ size_t *len)'),
  msgValue: lib.func('const void *kafka_message_value(const void *m, _Out_ size_t *len)'),
  mockNew: lib.func('void *kafka_mock_cluster_new(int32_t brokers, _Out_ KafkaError *err)'),
  mockServers: lib.func('const char *kafka_mock_cluster_bootstrap_servers(void *mc)'),
  mockTopic: lib.func('int kafka_mock_cluster_create_topic(void *mc, const char *topic, int32_t partitions, int32_t replication, _Out_ KafkaError *err)'),
  mockFree: lib.func('void kafka_mock_cluster_free(void *mc)'),
};

class LibraryError extends Error {
  constructor(err) {
    super(`${f.codeName(err.code)}: ${err.message}`);
    this.code = f.codeName(err.code);
    this.rdkafkaCode = err.rdkafka_code;
  }
}

function check(rc, err) {
  if (err.code !== 0) throw new LibraryError(err);
  return rc;
}

function asyncCall(fn, ...args) {
  return new Promise((resolve, reject) => {
    fn.async(...args, (e, rc) => (e ? reject(e) : resolve(rc)));
  });
}

class Instance {
  // settings: names as the library takes them (bootstrap_servers,
  // kafka_url, group_id, auto_offset_reset, acks, linger_ms, ...).
  constructor(settings) {
    const cfg = f.configNew();
    try {
      for (const [k, v] of Object.entries(settings)) {
        const err = {};
        check(f.configSet(cfg, k, String(v), err), err);
      }
      const err = {};
      this._inst = check(f.instanceNew(cfg, err), err);
    } finally {
      f.configFree(cfg);
    }
  }

  producer() {
    const err = {};
    return new Producer(check(f.getProducer(this._inst, null, err), err));
  }

  consumer(topics) {
    const err = {};
    return new Consumer(check(f.getConsumer(this._inst, topics, topics.length, null, err), err));
  }

  free() {
    if (this._inst) f.instanceFree(this._inst);
    this._inst = null;
  }
}

class Producer {
  constructor(handle) {
    this._p = handle;
    this._pending = new Map();
    this._next = 1;
    this._cb = koffi.register((ptr, opaque) => {
      const report = koffi.decode(ptr, KafkaDeliveryReport);
      const id = Number(opaque);
      const waiting = this._pending.get(id);
      this._pending.delete(id);
      this._keepAliveWhilePending();
      if (!waiting) return;
      if (report.code === 0) {
        waiting.resolve({ topic: waiting.topic, partition: report.partition, offset: Number(report.offset) });
      } else {
        const e = new Error(`${f.codeName(report.code)}: delivery failed`);
        e.code = f.codeName(report.code);
        e.rdkafkaCode = report.rdkafka_code;
        waiting.reject(e);
      }
    }, koffi.pointer(DeliveryCallback));
  }

  // Reports arrive from a library thread through koffi, which does not
  // keep Node's event loop alive: a timer does, while any is awaited.
  _keepAliveWhilePending() {
    if (this._pending.size > 0 && !this._alive) {
      this._alive = setInterval(() => {}, 1 << 30);
    } else if (this._pending.size === 0 && this._alive) {
      clearInterval(this._alive);
      this._alive = null;
    }
  }

  // Sends value as JSON; resolves with {topic, partition, offset} once the
  // broker acknowledged it, rejects with why it was not.
  sendJSON(topic, value, key) {
    if (!this._p) return Promise.reject(new Error('the producer is closed'));
    const body = Buffer.from(JSON.stringify(value));
    const k = key === undefined || key === null ? null : Buffer.from(String(key));
    const id = this._next++;
    return new Promise((resolve, reject) => {
      this._pending.set(id, { resolve, reject, topic });
      this._keepAliveWhilePending();
      const err = {};
      const record = {
        topic, key: k, key_len: k ? k.length : 0, value: body, value_len: body.length,
        headers: null, header_count: 0, has_partition: false, partition: 0, timestamp_ms: 0,
      };
      if (f.send(this._p, record, this._cb, id, err) !== 0) {
        this._pending.delete(id);
        this._keepAliveWhilePending();
        reject(new LibraryError(err));
      }
    });
  }

  // Waits (on a worker thread) until every message is answered.
  async flush(timeoutMs = -1) {
    const err = {};
    await asyncCall(f.flush, this._p, timeoutMs, null, err);
    check(0, err);
  }

  // Delivers what is queued, then releases the producer and its callback.
  async close(timeoutMs = 10000) {
    if (!this._p) return;
    const p = this._p;
    this._p = null;
    const err = {};
    await asyncCall(f.closeProducer, p, timeoutMs, err);
    koffi.unregister(this._cb);
    check(0, err);
  }
}

class Consumer {
  constructor(handle) {
    this._c = handle;
    this._handlers = [];
  }

  // fn({topic, partition, offset, key, value}) for each message of topic
  // (value decoded from JSON); handlers of a topic run in order. A handler
  // that throws counts as failed (logged by the library).
  handle(topic, fn) {
    const cb = koffi.register((m, _opaque) => {
      try {
        const klen = [0];
        const vlen = [0];
        const k = f.msgKey(m, klen);
        const v = f.msgValue(m, vlen);
        fn({
          topic: f.msgTopic(m),
          partition: f.msgPartition(m),
          offset: Number(f.msgOffset(m)),
          key: k ? Buffer.from(koffi.decode(k, koffi.array('uint8_t', klen[0]))) : null,
          value: v ? JSON.parse(Buffer.from(koffi.decode(v, koffi.array('uint8_t', vlen[0]))).toString()) : null,
        });
        return 0;
      } catch (e) {
        return 1;
      }
    }, koffi.pointer(Handler));
    this._handlers.push(cb);
    const err = {};
    check(f.register(this._c, topic, cb, null, err), err);
    return this;
  }

  // Polls once (up to timeoutMs, on a worker thread) and runs the
  // handlers; resolves with how many messages were dispatched.
  async consume(timeoutMs = 1000) {
    const n = [0];
    const err = {};
    await asyncCall(f.consume, this._c, timeoutMs, n, err);
    check(0, err);
    return Number(n[0]);
  }

  // Commits what was processed, leaves the group, releases the consumer.
  async close() {
    if (!this._c) return;
    const c = this._c;
    this._c = null;
    const err = {};
    await asyncCall(f.closeConsumer, c, err);
    for (const cb of this._handlers) koffi.unregister(cb);
    this._handlers = [];
    check(0, err);
  }
}

// The library's embedded broker (librdkafka's mock cluster).
class MockCluster {
  constructor(brokers = 1) {
    const err = {};
    this._mc = check(f.mockNew(brokers, err), err);
  }

  get bootstrapServers() {
    return f.mockServers(this._mc);
  }

  createTopic(topic, partitions = 1) {
    const err = {};
    check(f.mockTopic(this._mc, topic, partitions, 1, err), err);
  }

  free() {
    if (this._mc) f.mockFree(this._mc);
    this._mc = null;
  }
}

module.exports = { Instance, Producer, Consumer, MockCluster, LibraryError };

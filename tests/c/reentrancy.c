/* Callbacks that call back into the library, against the embedded broker.
 *
 *   reentrancy [CASE]
 *
 * Runs one case, or every case without an argument (as under valgrind).
 * Each case checks that the call made from inside a callback either works
 * or is refused with KAFKA_ERR_STATE, at once, and that the handle keeps
 * working afterwards: never a crash, a hang or a use after free. */
#define _POSIX_C_SOURCE 200809L
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kafka_instance.h"
#include "check.h"

static KafkaMockCluster *mc;
static const char *servers;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static KafkaInstance *instance(const char *group) {
  KafkaError err;
  KafkaConfig *cfg = kafka_config_new();
  kafka_config_set_bootstrap_servers(cfg, &servers, 1, &err);
  kafka_config_set_group_id(cfg, group, &err);
  kafka_config_set_auto_offset_reset(cfg, "earliest", &err);
  kafka_config_set(cfg, "session_timeout_ms", "6000", &err);
  KafkaInstance *inst = kafka_instance_new(cfg, &err);
  CHECK(inst != NULL, "instance: %s", err.message);
  kafka_config_free(cfg);
  return inst;
}

static KafkaRecord record(const char *topic, const char *value) {
  KafkaRecord r;
  memset(&r, 0, sizeof r);
  r.topic = topic;
  r.value = value;
  r.value_len = strlen(value);
  return r;
}

/* ---- producers ---- */

/* What a delivery callback did, for the test to check afterwards. */
struct inside {
  KafkaProducer *self;
  KafkaProducer *other;
  atomic_int calls;
  atomic_int other_calls;
  KafkaErrorCode flush, flush_finite, send_sync, send_json_sync, close, send;
  double slowest;
};

static void count_other(const KafkaDeliveryReport *r, void *opaque) {
  struct inside *in = opaque;
  (void)r;
  atomic_fetch_add(&in->other_calls, 1);
}

static void record_took(struct inside *in, double since) {
  double took = now_s() - since;
  if (took > in->slowest) in->slowest = took;
}

/* In p's own callback: every call that would wait for p's thread. */
static void call_waiting_functions(const KafkaDeliveryReport *r, void *opaque) {
  struct inside *in = opaque;
  KafkaError err;
  (void)r;
  if (atomic_fetch_add(&in->calls, 1) != 0) return;
  double t = now_s();
  in->flush = kafka_producer_flush(in->self, -1, NULL, &err);
  in->flush_finite = kafka_producer_flush(in->self, 5000, NULL, &err);
  KafkaRecord rec = record("reentrant", "{}");
  in->send_sync = kafka_producer_send_sync(in->self, &rec, -1, NULL, &err);
  in->send_json_sync = kafka_producer_send_json_sync(in->self, "reentrant", NULL, "{}", 5000, NULL, &err);
  in->close = kafka_producer_close(in->self, 0, &err);
  record_took(in, t);
  /* A plain send works and gets its own callback. */
  in->send = kafka_producer_send(in->self, &rec, count_other, in, &err);
}

static void producer_waits_inside_its_own_callback(void) {
  KafkaError err;
  KafkaInstance *inst = instance("unused");
  KafkaProducer *p = kafka_instance_get_producer(inst, NULL, &err);
  struct inside in;
  memset(&in, 0, sizeof in);
  in.self = p;
  KafkaRecord rec = record("reentrant", "{}");
  CHECK(kafka_producer_send(p, &rec, call_waiting_functions, &in, &err) == KAFKA_OK, "send: %s", err.message);
  CHECK(kafka_producer_flush(p, 10000, NULL, &err) == KAFKA_OK, "flush: %s", err.message);
  CHECK(in.flush == KAFKA_ERR_STATE, "flush(-1) in own callback: %d", in.flush);
  CHECK(in.flush_finite == KAFKA_ERR_STATE, "flush(5000) in own callback: %d", in.flush_finite);
  CHECK(in.send_sync == KAFKA_ERR_STATE, "send_sync in own callback: %d", in.send_sync);
  CHECK(in.send_json_sync == KAFKA_ERR_STATE, "send_json_sync in own callback: %d", in.send_json_sync);
  CHECK(in.close == KAFKA_ERR_STATE, "close in own callback: %d", in.close);
  CHECK(in.slowest < 1.0, "refusals took %.3f s, not at once", in.slowest);
  CHECK(in.send == KAFKA_OK, "send in own callback: %d", in.send);
  CHECK(atomic_load(&in.other_calls) == 1, "the send from the callback got %d callbacks", atomic_load(&in.other_calls));
  /* Still open and working: a sync send, then a normal close. */
  CHECK(kafka_producer_send_json_sync(p, "reentrant", NULL, "{}", 10000, NULL, &err) == KAFKA_OK, "after: %s", err.message);
  CHECK(kafka_producer_close(p, 10000, &err) == KAFKA_OK, "close: %s", err.message);
  kafka_instance_free(inst);
}

/* In A's callback, close B, which still has messages queued. */
static void close_other(const KafkaDeliveryReport *r, void *opaque) {
  struct inside *in = opaque;
  KafkaError err;
  (void)r;
  if (atomic_fetch_add(&in->calls, 1) != 0) return;
  in->close = kafka_producer_close(in->other, 0, &err);
  /* Every one of B's callbacks has run before close returned. */
  in->send = atomic_load(&in->other_calls) == 10 ? KAFKA_OK : KAFKA_ERR_INTERNAL;
}

static void producer_closes_another_inside_a_callback(void) {
  KafkaError err;
  KafkaInstance *inst = instance("unused");
  KafkaProducer *a = kafka_instance_get_producer(inst, NULL, &err);
  /* B holds its messages in its queue for a minute (linger): they are
   * still there when A's callback closes it. */
  KafkaConfig *slow = kafka_config_new();
  kafka_config_set(slow, "linger_ms", "60000", &err);
  kafka_config_set(slow, "message_timeout_ms", "300000", &err);
  KafkaProducer *b = kafka_instance_get_producer(inst, slow, &err);
  CHECK(b != NULL, "producer B: %s", err.message);
  kafka_config_free(slow);
  struct inside in;
  memset(&in, 0, sizeof in);
  in.self = a;
  in.other = b;
  KafkaRecord held = record("reentrant", "{}");
  for (int i = 0; i < 10; i++)
    CHECK(kafka_producer_send(b, &held, count_other, &in, &err) == KAFKA_OK, "queue on B: %s", err.message);
  KafkaRecord rec = record("reentrant", "{}");
  CHECK(kafka_producer_send(a, &rec, close_other, &in, &err) == KAFKA_OK, "send on A: %s", err.message);
  CHECK(kafka_producer_flush(a, 20000, NULL, &err) == KAFKA_OK, "flush A: %s", err.message);
  CHECK(in.close == KAFKA_ERR_TIMEOUT, "close(B, 0) with 10 queued: %d (purged: timeout)", in.close);
  CHECK(in.send == KAFKA_OK, "B's 10 purge callbacks all ran before its close returned (%d)", atomic_load(&in.other_calls));
  CHECK(atomic_load(&in.other_calls) == 10, "B callbacks: %d, not exactly one each", atomic_load(&in.other_calls));
  CHECK(kafka_producer_close(a, 10000, &err) == KAFKA_OK, "close A: %s", err.message);
  kafka_instance_free(inst);
}

static int close_inside_producer_scope(KafkaProducer *p, void *opaque) {
  KafkaError err;
  *(KafkaErrorCode *)opaque = kafka_producer_close(p, 0, &err);
  return kafka_producer_send_json(p, "reentrant", NULL, "{}", &err) == KAFKA_OK ? 0 : 1;
}

static void producer_scope_refuses_close(void) {
  KafkaError err;
  KafkaInstance *inst = instance("unused");
  KafkaErrorCode inner = KAFKA_OK;
  KafkaErrorCode rc = kafka_instance_with_producer(inst, NULL, close_inside_producer_scope, &inner, &err);
  CHECK(inner == KAFKA_ERR_STATE, "close inside the scope: %d", inner);
  CHECK(rc == KAFKA_OK, "the scope still sent and closed: %d %s", rc, err.message);
  kafka_instance_free(inst);
}

/* ---- consumers ---- */

struct handled {
  KafkaConsumer *c;
  int messages, second_handler_runs, registered;
  KafkaErrorCode close, poll, batch, consume, commit, commit_message, store;
};

static int second_handler(const KafkaMessage *m, void *opaque) {
  struct handled *h = opaque;
  (void)m;
  h->second_handler_runs++;
  return 0;
}

static int busy_handler(const KafkaMessage *m, void *opaque) {
  struct handled *h = opaque;
  KafkaError err;
  h->messages++;
  /* Registering inside a handler, on every message: each takes effect
   * from the next message (and allocates while the list is in use). */
  if (kafka_consumer_register_handler(h->c, "events", second_handler, h, &err) == KAFKA_OK) h->registered++;
  char *scratch = malloc(4096); /* what used to crash: reuse of freed memory */
  memset(scratch, 0xab, 4096);
  free(scratch);
  if (h->messages == 1) {
    KafkaMessage *out = NULL;
    KafkaMessage *batch[4];
    size_t n = 0;
    h->close = kafka_consumer_close(h->c, &err);
    h->poll = kafka_consumer_poll(h->c, 0, &out, &err);
    h->batch = kafka_consumer_poll_batch(h->c, batch, 4, 0, &n, &err);
    h->consume = kafka_consumer_consume(h->c, 0, NULL, &err);
    h->commit_message = kafka_consumer_commit_message(h->c, m, &err);
    h->store = kafka_consumer_store_message(h->c, m, &err);
    h->commit = kafka_consumer_commit(h->c, &err);
  }
  return 0;
}

static void produce(KafkaInstance *inst, const char *topic, int n) {
  KafkaError err;
  KafkaProducer *p = kafka_instance_get_producer(inst, NULL, &err);
  for (int i = 0; i < n; i++) {
    char v[32];
    snprintf(v, sizeof v, "{\"n\": %d}", i);
    CHECK(kafka_producer_send_json(p, topic, NULL, v, &err) == KAFKA_OK, "produce: %s", err.message);
  }
  CHECK(kafka_producer_close(p, 10000, &err) == KAFKA_OK, "produce close: %s", err.message);
}

/* Consumes until `want` messages went through the handlers or 30 s. */
static void consume_until(KafkaConsumer *c, const int *count, int want) {
  KafkaError err;
  double give_up = now_s() + 30;
  while (*count < want && now_s() < give_up)
    CHECK(kafka_consumer_consume(c, 200, NULL, &err) == KAFKA_OK, "consume: %s", err.message);
}

static void consumer_handlers_call_back_in(void) {
  KafkaError err;
  KafkaInstance *inst = instance("reentrant-handlers");
  produce(inst, "events", 3);
  const char *topics[] = {"events"};
  struct handled h;
  memset(&h, 0, sizeof h);
  h.c = kafka_instance_get_consumer(inst, topics, 1, NULL, &err);
  CHECK(h.c != NULL, "consumer: %s", err.message);
  CHECK(kafka_consumer_register_handler(h.c, "events", busy_handler, &h, &err) == KAFKA_OK, "register");
  consume_until(h.c, &h.messages, 3);
  CHECK(h.messages == 3, "handled %d of 3", h.messages);
  CHECK(h.close == KAFKA_ERR_STATE, "close inside a handler: %d", h.close);
  CHECK(h.poll == KAFKA_ERR_STATE, "poll inside a handler: %d", h.poll);
  CHECK(h.batch == KAFKA_ERR_STATE, "poll_batch inside a handler: %d", h.batch);
  CHECK(h.consume == KAFKA_ERR_STATE, "consume inside a handler: %d", h.consume);
  CHECK(h.commit_message == KAFKA_OK, "commit_message inside a handler: %d", h.commit_message);
  CHECK(h.store == KAFKA_OK, "store_message inside a handler: %d", h.store);
  CHECK(h.commit == KAFKA_OK, "commit inside a handler: %d", h.commit);
  CHECK(h.registered == 3, "registered %d handlers from handlers", h.registered);
  /* Registered during message 1 runs from message 2 on; during message 2,
   * from message 3: 1 + 2 runs. */
  CHECK(h.second_handler_runs == 3, "handlers registered inside ran %d times, not 3", h.second_handler_runs);
  CHECK(kafka_consumer_close(h.c, &err) == KAFKA_OK, "close after consume: %s", err.message);
  kafka_instance_free(inst);
}

static int close_inside_consumer_scope(KafkaConsumer *c, void *opaque) {
  KafkaError err;
  *(KafkaErrorCode *)opaque = kafka_consumer_close(c, &err);
  KafkaMessage *m = NULL;
  /* Still open: a poll works. */
  if (kafka_consumer_poll(c, 0, &m, &err) != KAFKA_OK) return 1;
  kafka_message_free(m);
  return 0;
}

static void consumer_scope_refuses_close(void) {
  KafkaError err;
  KafkaInstance *inst = instance("reentrant-scope");
  const char *topics[] = {"events"};
  KafkaErrorCode inner = KAFKA_OK;
  KafkaErrorCode rc = kafka_instance_with_consumer(inst, topics, 1, NULL, close_inside_consumer_scope, &inner, &err);
  CHECK(inner == KAFKA_ERR_STATE, "close inside the scope: %d", inner);
  CHECK(rc == KAFKA_OK, "the scope still polled and closed: %d %s", rc, err.message);
  kafka_instance_free(inst);
}

/* A log callback that calls back into the consumer it is told about:
 * close and poll, on every record it sees (debug level: many). */
static KafkaConsumer *log_target;
static int log_calls, log_refused, log_other;

static void calling_logger(const KafkaLogRecord *r, void *opaque) {
  (void)opaque;
  (void)r;
  if (!log_target) return;
  KafkaError err;
  KafkaMessage *m = NULL;
  KafkaErrorCode codes[2] = {
      kafka_consumer_close(log_target, &err),
      kafka_consumer_poll(log_target, 0, &m, &err),
  };
  kafka_message_free(m);
  log_calls++;
  for (int i = 0; i < 2; i++) {
    if (codes[i] == KAFKA_ERR_STATE) log_refused++;
    else log_other++;
  }
}

static void consumer_log_callback_calls_back_in(void) {
  KafkaError err;
  KafkaInstance *inst = instance("reentrant-log");
  const char *topics[] = {"events"};
  KafkaConfig *debug = kafka_config_new();
  kafka_config_set(debug, "debug", "cgrp", &err); /* many records, in polls and in close */
  KafkaConsumer *c = kafka_instance_get_consumer(inst, topics, 1, debug, &err);
  kafka_config_free(debug);
  log_target = c;
  kafka_set_log_callback(calling_logger, NULL, KAFKA_LOG_DEBUG);
  /* Inside polls: records of the rebalance, of librdkafka. */
  double give_up = now_s() + 30;
  while (log_calls < 5 && now_s() < give_up) {
    KafkaMessage *m = NULL;
    CHECK(kafka_consumer_poll(c, 200, &m, &err) == KAFKA_OK, "poll: %s", err.message);
    kafka_message_free(m);
  }
  CHECK(log_calls >= 5, "the log callback ran %d times inside polls", log_calls);
  /* Inside close: the revocation and librdkafka's records while it
   * leaves the group, from the closing thread. */
  int before = log_calls;
  CHECK(kafka_consumer_close(c, &err) == KAFKA_OK, "close: %s", err.message);
  CHECK(log_calls > before, "the log callback ran inside close");
  kafka_set_log_callback(NULL, NULL, KAFKA_LOG_ERROR);
  log_target = NULL;
  CHECK(log_other == 0, "%d close or poll calls from a log callback were not refused", log_other);
  CHECK(log_refused == 2 * log_calls, "refusals: %d of %d", log_refused, 2 * log_calls);
  kafka_instance_free(inst);
}

/* A log callback that calls back into its producer: flush, send_sync and
 * close of the producer whose records it sees are refused at once. */
static KafkaProducer *log_producer;
static int plog_calls, plog_refused, plog_other;

static void producer_logger(const KafkaLogRecord *r, void *opaque) {
  (void)opaque;
  if (!log_producer || strcmp(r->subject, "librdkafka") != 0) return;
  KafkaError err;
  KafkaErrorCode codes[3] = {
      kafka_producer_flush(log_producer, -1, NULL, &err),
      kafka_producer_send_json_sync(log_producer, "reentrant", NULL, "{}", -1, NULL, &err),
      kafka_producer_close(log_producer, -1, &err),
  };
  plog_calls++;
  for (int i = 0; i < 3; i++) {
    if (codes[i] == KAFKA_ERR_STATE) plog_refused++;
    else plog_other++;
  }
}

static void producer_log_callback_calls_back_in(void) {
  KafkaError err;
  KafkaInstance *inst = instance("unused");
  KafkaConfig *debug = kafka_config_new();
  kafka_config_set(debug, "debug", "broker,topic,msg", &err);
  KafkaProducer *p = kafka_instance_get_producer(inst, debug, &err);
  kafka_config_free(debug);
  log_producer = p;
  kafka_set_log_callback(producer_logger, NULL, KAFKA_LOG_DEBUG);
  for (int i = 0; i < 5; i++)
    CHECK(kafka_producer_send_json(p, "reentrant", NULL, "{}", &err) == KAFKA_OK, "send: %s", err.message);
  double give_up = now_s() + 30;
  while (plog_calls < 3 && now_s() < give_up) {
    struct timespec ms = {0, 20 * 1000 * 1000};
    nanosleep(&ms, NULL);
  }
  CHECK(plog_calls >= 3, "the log callback ran %d times on the producer's thread", plog_calls);
  CHECK(kafka_producer_close(p, 10000, &err) == KAFKA_OK, "close: %s", err.message);
  kafka_set_log_callback(NULL, NULL, KAFKA_LOG_ERROR);
  log_producer = NULL;
  CHECK(plog_other == 0, "%d waiting calls from a log callback were not refused", plog_other);
  kafka_instance_free(inst);
}

/* A statistics callback that calls back in: admin calls on its own
 * instance work from the admin client's thread, and it may free that
 * instance there (the thread is not joined from inside itself). */
static atomic_int stats_calls, stats_described, stats_other, stats_freed;
static _Atomic(KafkaInstance *) stats_inst;   /* the instance the callback uses */
static _Atomic(KafkaInstance *) stats_free_me; /* set: the callback frees it */

static void calling_statistics(const char *json, size_t len, const KafkaStatistics *s, void *opaque) {
  (void)json;
  (void)len;
  (void)s;
  (void)opaque;
  stats_calls++;
  KafkaInstance *inst = atomic_load(&stats_inst);
  if (!inst) return;
  KafkaCluster *cl = NULL;
  KafkaError err;
  if (kafka_instance_describe_cluster(inst, 5000, &cl, &err) == KAFKA_OK) stats_described++;
  else stats_other++;
  kafka_cluster_free(cl);
  if (atomic_exchange(&stats_free_me, NULL)) {
    atomic_store(&stats_inst, NULL);
    kafka_instance_free(inst);
    stats_freed = 1;
  }
}

static void statistics_callback_calls_back_in(void) {
  KafkaError err;
  KafkaConfig *cfg = kafka_config_new();
  kafka_config_set_bootstrap_servers(cfg, &servers, 1, &err);
  CHECK(kafka_set_statistics_callback(cfg, 100, calling_statistics, NULL, &err) == KAFKA_OK, "set: %s",
        err.message);
  KafkaInstance *inst = kafka_instance_new(cfg, &err);
  kafka_config_free(cfg);
  CHECK(inst != NULL, "instance: %s", err.message);
  if (!inst) return;
  atomic_store(&stats_inst, inst);
  /* The first admin call makes the admin client, whose statistics arrive
   * on its own thread. */
  KafkaCluster *cl = NULL;
  CHECK(kafka_instance_describe_cluster(inst, 10000, &cl, &err) == KAFKA_OK, "describe: %s", err.message);
  kafka_cluster_free(cl);
  double give_up = now_s() + 30;
  while (stats_described < 3 && now_s() < give_up) {
    struct timespec ms = {0, 20 * 1000 * 1000};
    nanosleep(&ms, NULL);
  }
  CHECK(stats_described >= 3, "admin calls from the statistics callback: %d worked, %d not",
        (int)stats_described, (int)stats_other);
  CHECK(stats_other == 0, "%d admin calls from the statistics callback failed", (int)stats_other);
  /* From here on the instance belongs to the callback, which frees it. */
  atomic_store(&stats_free_me, inst);
  give_up = now_s() + 30;
  while (!stats_freed && now_s() < give_up) {
    struct timespec ms = {0, 20 * 1000 * 1000};
    nanosleep(&ms, NULL);
  }
  CHECK(stats_freed, "the callback freed its instance");
  int calls = stats_calls;
  struct timespec settle = {0, 500 * 1000 * 1000};
  nanosleep(&settle, NULL);
  CHECK(stats_calls == calls, "no statistics after the instance was freed (%d more)", stats_calls - calls);
}

static const struct {
  const char *name;
  void (*run)(void);
} cases[] = {
    {"producer_waits_inside_its_own_callback", producer_waits_inside_its_own_callback},
    {"producer_closes_another_inside_a_callback", producer_closes_another_inside_a_callback},
    {"producer_scope_refuses_close", producer_scope_refuses_close},
    {"consumer_handlers_call_back_in", consumer_handlers_call_back_in},
    {"consumer_scope_refuses_close", consumer_scope_refuses_close},
    {"consumer_log_callback_calls_back_in", consumer_log_callback_calls_back_in},
    {"producer_log_callback_calls_back_in", producer_log_callback_calls_back_in},
    {"statistics_callback_calls_back_in", statistics_callback_calls_back_in},
};

int main(int argc, char **argv) {
  KafkaError err;
  mc = kafka_mock_cluster_new(1, &err);
  if (!mc) return 1;
  servers = kafka_mock_cluster_bootstrap_servers(mc);
  kafka_mock_cluster_create_topic(mc, "reentrant", 1, 1, &err);
  kafka_mock_cluster_create_topic(mc, "events", 1, 1, &err);
  int ran = 0;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    if (argc > 1 && strcmp(argv[1], cases[i].name) != 0) continue;
    cases[i].run();
    ran++;
  }
  CHECK(ran > 0, "no case named %s", argc > 1 ? argv[1] : "");
  kafka_mock_cluster_free(mc);
  FINISH("reentrancy");
}

/* Clients and fork(): in the child, every call on a producer, consumer or
 * embedded broker the parent created returns KAFKA_ERR_STATE at once
 * (closing and freeing them releases nothing of the parent's), while
 * clients the child creates itself work. The parent's clients go on
 * working. A zero-copy message (which holds its closed consumer's client)
 * is read and freed in the child without touching librdkafka there, and
 * freed in the parent afterwards. The instance's admin client, made in
 * the parent, is made again in the child on its first admin call; the
 * statistics callback of the config goes on for the child's own clients
 * (on the child's threads) and the inherited instance frees cleanly. */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kafka_instance.h"
#include "check.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static atomic_int statistics_seen = 0;

static void on_statistics(const char *json, size_t len, const KafkaStatistics *summary, void *opaque) {
  (void)json;
  (void)len;
  (void)summary;
  (void)opaque;
  statistics_seen++;
}

static int brokers_described(KafkaInstance *inst, KafkaError *err) {
  KafkaCluster *cl = NULL;
  if (kafka_instance_describe_cluster(inst, 10000, &cl, err) != KAFKA_OK) return -1;
  int n = (int)kafka_cluster_broker_count(cl);
  kafka_cluster_free(cl);
  return n;
}

static KafkaInstance *instance_for(KafkaMockCluster *mc, const char *group) {
  KafkaError err;
  KafkaConfig *cfg = kafka_config_new();
  const char *servers[] = {kafka_mock_cluster_bootstrap_servers(mc)};
  kafka_config_set_bootstrap_servers(cfg, servers, 1, &err);
  kafka_config_set_group_id(cfg, group, &err);
  kafka_config_set_auto_offset_reset(cfg, "earliest", &err);
  kafka_config_set(cfg, "session_timeout_ms", "6000", &err);
  kafka_set_statistics_callback(cfg, 100, on_statistics, NULL, &err);
  KafkaInstance *inst = kafka_instance_new(cfg, &err);
  kafka_config_free(cfg);
  return inst;
}

/* The child: refusals for what it inherited, work for what it makes. */
static int child(KafkaMockCluster *mc, KafkaInstance *inst, KafkaProducer *p, KafkaConsumer *c,
                 KafkaMessage *held) {
  KafkaError err;
  double start = now_s();
  CHECK(kafka_producer_send_json(p, "forked", NULL, "{}", &err) == KAFKA_ERR_STATE, "send: %d", err.code);
  CHECK(strstr(err.message, "after fork") != NULL, "the message says why: %s", err.message);
  CHECK(kafka_producer_send_json_sync(p, "forked", NULL, "{}", 1000, NULL, &err) == KAFKA_ERR_STATE, "send_sync");
  CHECK(kafka_producer_flush(p, -1, NULL, &err) == KAFKA_ERR_STATE, "flush(-1)");
  CHECK(kafka_producer_close(p, -1, &err) == KAFKA_ERR_STATE, "close: %d", err.code);
  KafkaMessage *m = NULL;
  CHECK(kafka_consumer_poll(c, -1, &m, &err) == KAFKA_ERR_STATE, "poll(-1)");
  CHECK(kafka_consumer_commit(c, &err) == KAFKA_ERR_STATE, "commit");
  CHECK(kafka_consumer_wakeup(c, &err) == KAFKA_ERR_STATE, "wakeup");
  CHECK(kafka_consumer_close(c, &err) == KAFKA_ERR_STATE, "consumer close");
  CHECK(kafka_mock_cluster_create_topic(mc, "child-topic", 1, 1, &err) == KAFKA_ERR_STATE, "mock");
  size_t len = 0;
  const char *value = kafka_message_value(held, &len);
  CHECK(value && len == 8 && memcmp(value, "{\"n\": 0}", 8) == 0, "a held message reads in the child");
  kafka_message_free(held); /* the last reference: nothing of librdkafka's runs */
  kafka_mock_cluster_free(mc); /* releases nothing of the parent's */
  CHECK(now_s() - start < 2.0, "every refusal came at once (%.2f s)", now_s() - start);

  /* Clients made here work, from the inherited instance (a config) too. */
  KafkaMockCluster *own = kafka_mock_cluster_new(1, &err);
  CHECK(own != NULL, "a mock cluster in the child: %s", err.message);
  if (own) {
    kafka_mock_cluster_create_topic(own, "child-topic", 1, 1, &err);
    KafkaInstance *mine = instance_for(own, "child");
    KafkaProducer *q = kafka_instance_get_producer(mine, NULL, &err);
    CHECK(kafka_producer_send_json_sync(q, "child-topic", NULL, "{}", 10000, NULL, &err) == KAFKA_OK,
          "the child's own producer: %s", err.message);
    CHECK(kafka_producer_close(q, 10000, &err) == KAFKA_OK, "close own");
    kafka_instance_free(mine);
    kafka_mock_cluster_free(own);
  }
  statistics_seen = 0;
  CHECK(brokers_described(inst, &err) == 1, "the inherited instance's admin calls work: %s", err.message);
  KafkaProducer *from_inherited = kafka_instance_get_producer(inst, NULL, &err);
  CHECK(from_inherited != NULL, "a producer from the inherited instance: %s", err.message);
  double until = now_s() + 10;
  while (statistics_seen < 2 && now_s() < until) {
    struct timespec ms = {0, 20 * 1000 * 1000};
    nanosleep(&ms, NULL);
  }
  CHECK(statistics_seen >= 2, "statistics from the child's own clients: %d", statistics_seen);
  kafka_producer_close(from_inherited, 0, &err);
  kafka_instance_free(inst); /* the child's admin client is released; the parent's is not touched */
  return failures == 0 ? 0 : 1;
}

int main(void) {
  KafkaError err;
  KafkaMockCluster *mc = kafka_mock_cluster_new(1, &err);
  if (!mc) return 1;
  kafka_mock_cluster_create_topic(mc, "forked", 1, 1, &err);
  KafkaInstance *inst = instance_for(mc, "fork");
  KafkaProducer *p = kafka_instance_get_producer(inst, NULL, &err);
  CHECK(kafka_producer_send_json_sync(p, "forked", NULL, "{\"n\": 0}", 10000, NULL, &err) == KAFKA_OK,
        "send before fork: %s", err.message);
  const char *topics[] = {"forked"};
  KafkaConsumer *c = kafka_instance_get_consumer(inst, topics, 1, NULL, &err);
  /* Fork once the parent's clients are connected and idle. A child forked
   * while a librdkafka thread of the parent is inside glibc's resolver
   * (getaddrinfo, which librdkafka calls on every connection) inherits the
   * resolver's lock held and deadlocks on its own first connection: only
   * async-signal-safe calls are safe in the child of a threaded process. */
  int got = 0;
  double until = now_s() + 30;
  while (got < 1 && now_s() < until) {
    KafkaMessage *m = NULL;
    CHECK(kafka_consumer_poll(c, 500, &m, &err) == KAFKA_OK, "poll: %s", err.message);
    if (m) got++;
    kafka_message_free(m);
  }
  CHECK(got == 1, "the parent's consumer got the first message before the fork");
  CHECK(brokers_described(inst, &err) == 1, "admin before the fork: %s", err.message);
  CHECK(statistics_seen > 0, "statistics in the parent before the fork");
  /* A zero-copy message kept across the fork, its consumer closed: the
     message holds the last reference to the client. */
  KafkaConfig *zero_copy = kafka_config_new();
  kafka_config_set_group_id(zero_copy, "fork-zero-copy", &err);
  kafka_config_set(zero_copy, "zero_copy_messages", "true", &err);
  KafkaConsumer *zc = kafka_instance_get_consumer(inst, topics, 1, zero_copy, &err);
  kafka_config_free(zero_copy);
  KafkaMessage *held = NULL;
  until = now_s() + 30;
  while (!held && now_s() < until)
    CHECK(kafka_consumer_poll(zc, 500, &held, &err) == KAFKA_OK, "poll zero-copy: %s", err.message);
  CHECK(held != NULL, "a zero-copy message before the fork");
  if (!held) return 1;
  CHECK(kafka_consumer_close(zc, &err) == KAFKA_OK, "close zero-copy: %s", err.message);

  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0) {
    alarm(30); /* a hang in the child fails the test instead of blocking it */
    _exit(child(mc, inst, p, c, held));
  }
  int status = 0;
  double give_up = now_s() + 40;
  while (waitpid(pid, &status, WNOHANG) == 0 && now_s() < give_up) {
    struct timespec ms = {0, 10 * 1000 * 1000};
    nanosleep(&ms, NULL);
  }
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the child's checks (status %d)", status);
  kafka_message_free(held); /* the parent's: releases the client */

  /* The parent's clients are untouched. */
  CHECK(kafka_producer_send_json_sync(p, "forked", NULL, "{\"n\": 1}", 10000, NULL, &err) == KAFKA_OK,
        "send after fork: %s", err.message);
  until = now_s() + 30;
  while (got < 2 && now_s() < until) {
    KafkaMessage *m = NULL;
    CHECK(kafka_consumer_poll(c, 500, &m, &err) == KAFKA_OK, "poll: %s", err.message);
    if (m) got++;
    kafka_message_free(m);
  }
  CHECK(got == 2, "the parent's consumer got %d of 2", got);
  CHECK(brokers_described(inst, &err) == 1, "the parent's admin client after the fork: %s", err.message);
  CHECK(kafka_consumer_close(c, &err) == KAFKA_OK, "close consumer: %s", err.message);
  CHECK(kafka_producer_close(p, 10000, &err) == KAFKA_OK, "close producer: %s", err.message);
  kafka_instance_free(inst);
  kafka_mock_cluster_free(mc);
  FINISH("fork");
}

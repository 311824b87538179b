/* kafka_consumer_wakeup: from another thread, from a signal handler, and
 * before a poll, against the embedded broker. A woken poll, batch or
 * consume returns KAFKA_ERR_WAKEUP promptly; the consumer then works and
 * closes as usual. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kafka_instance.h"
#include "check.h"

static KafkaConsumer *consumer;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double woken_at;

static void *wake_later(void *arg) {
  (void)arg;
  struct timespec half = {0, 500 * 1000 * 1000};
  nanosleep(&half, NULL);
  woken_at = now_s();
  kafka_consumer_wakeup(consumer, NULL);
  return NULL;
}

/* The shutdown pattern: the handler only wakes the polling thread. */
static void on_signal(int sig) {
  (void)sig;
  kafka_consumer_wakeup(consumer, NULL);
}

static int handler(const KafkaMessage *m, void *opaque) {
  (void)m;
  (*(int *)opaque)++;
  return 0;
}

int main(void) {
  KafkaError err;
  KafkaMockCluster *mc = kafka_mock_cluster_new(1, &err);
  if (!mc) return 1;
  kafka_mock_cluster_create_topic(mc, "quiet", 1, 1, &err);
  KafkaConfig *cfg = kafka_config_new();
  const char *servers[] = {kafka_mock_cluster_bootstrap_servers(mc)};
  kafka_config_set_bootstrap_servers(cfg, servers, 1, &err);
  kafka_config_set_group_id(cfg, "wakeup", &err);
  kafka_config_set_auto_offset_reset(cfg, "earliest", &err);
  kafka_config_set(cfg, "session_timeout_ms", "6000", &err);
  KafkaInstance *inst = kafka_instance_new(cfg, &err);
  const char *topics[] = {"quiet"};
  consumer = kafka_instance_get_consumer(inst, topics, 1, NULL, &err);
  CHECK(consumer != NULL, "consumer: %s", err.message);
  int handled = 0;
  kafka_consumer_register_handler(consumer, "quiet", handler, &handled, &err);

  /* From another thread, while poll(-1) waits on an empty topic. */
  pthread_t t;
  pthread_create(&t, NULL, wake_later, NULL);
  double start = now_s();
  KafkaMessage *m = NULL;
  KafkaErrorCode rc = kafka_consumer_poll(consumer, -1, &m, &err);
  double returned_at = now_s();
  pthread_join(t, NULL);
  CHECK(rc == KAFKA_ERR_WAKEUP, "poll(-1) woken by a thread: %d %s", rc, err.message);
  CHECK(m == NULL, "no message with a wake-up");
  /* The pipe wakes the poll at once; without it, the poll would notice
   * the flag only at the end of its 500 ms wait. */
  double latency = returned_at - woken_at;
  printf("wakeup: poll(-1) returned %.1f ms after kafka_consumer_wakeup\n", latency * 1000);
  CHECK(woken_at > start && latency < 0.4, "poll(-1) returned %.3f s after the wake-up", latency);
  CHECK(strcmp(kafka_error_code_name(rc), "KAFKA_ERR_WAKEUP") == 0, "code name");

  /* One wake-up wakes one poll: the next waits its timeout. */
  start = now_s();
  rc = kafka_consumer_poll(consumer, 300, &m, &err);
  CHECK(rc == KAFKA_OK && m == NULL, "the next poll is an ordinary one: %d", rc);
  CHECK(now_s() - start >= 0.25, "the next poll waited its timeout");

  /* From a signal handler, with poll_batch and consume. */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGALRM, &sa, NULL);
  KafkaMessage *batch[8];
  size_t n = 99;
  alarm(1);
  start = now_s();
  rc = kafka_consumer_poll_batch(consumer, batch, 8, -1, &n, &err);
  CHECK(rc == KAFKA_ERR_WAKEUP, "poll_batch(-1) woken by SIGALRM: %d %s", rc, err.message);
  CHECK(n == 0, "no messages with a wake-up: %zu", n);
  CHECK(now_s() - start < 6.0, "poll_batch woke promptly");
  alarm(1);
  size_t dispatched = 99;
  rc = kafka_consumer_consume(consumer, -1, &dispatched, &err);
  CHECK(rc == KAFKA_ERR_WAKEUP, "consume(-1) woken by SIGALRM: %d %s", rc, err.message);
  CHECK(dispatched == 0, "nothing dispatched with a wake-up");

  /* Before the poll: the next one returns at once. */
  CHECK(kafka_consumer_wakeup(consumer, &err) == KAFKA_OK, "wakeup: %s", err.message);
  start = now_s();
  rc = kafka_consumer_poll(consumer, 10000, &m, &err);
  CHECK(rc == KAFKA_ERR_WAKEUP, "a poll after a wake-up: %d", rc);
  CHECK(now_s() - start < 1.0, "returned at once");

  /* NULL is refused, without a crash. */
  CHECK(kafka_consumer_wakeup(NULL, &err) == KAFKA_ERR_INVALID_ARGUMENT, "NULL consumer");

  /* The consumer still works: a message sent now is consumed. */
  KafkaProducer *p = kafka_instance_get_producer(inst, NULL, &err);
  CHECK(kafka_producer_send_json_sync(p, "quiet", NULL, "{\"n\": 1}", 10000, NULL, &err) == KAFKA_OK,
        "send: %s", err.message);
  kafka_producer_close(p, 10000, &err);
  double give_up = now_s() + 30;
  while (handled == 0 && now_s() < give_up)
    CHECK(kafka_consumer_consume(consumer, 500, NULL, &err) == KAFKA_OK, "consume: %s", err.message);
  CHECK(handled == 1, "the message after the wake-ups was handled (%d)", handled);
  CHECK(kafka_consumer_close(consumer, &err) == KAFKA_OK, "close: %s", err.message);

  kafka_instance_free(inst);
  kafka_config_free(cfg);
  kafka_mock_cluster_free(mc);
  FINISH("wakeup");
}

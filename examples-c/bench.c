/* Throughput through the C header, to reproduce the figures of
 * docs/performance.md with your own compiler and flags:
 *
 *   make -C examples-c PROFILE=release bench
 *   examples-c/build/bench [messages] [value_bytes]     (default 1000000 100)
 *
 * Produces `messages` keyed JSON values with kafka_producer_send_json
 * (retrying while the local queue is full), flushes, then reads them back
 * with kafka_consumer_poll_batch, and prints messages per second for each
 * half. The clock starts once a first message is acknowledged: a new
 * idempotent producer waits for its producer id (librdkafka asks for it
 * on a 500 ms timer), which is start-up, not throughput. Against KAFKA_BOOTSTRAP_SERVERS when set, else the embedded broker
 * (in-process: it shares the CPU with the client, and caps fetches). */
#define _POSIX_C_SOURCE 200809L
#include <time.h>

#include "example.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void pause_100us(void) {
  struct timespec ts = {0, 100000};
  nanosleep(&ts, NULL);
}

int main(int argc, char **argv) {
  long messages = argc > 1 ? atol(argv[1]) : 1000000;
  long size = argc > 2 ? atol(argv[2]) : 100;
  if (messages < 1 || size < 32 || size > 1000000) {
    fprintf(stderr, "usage: bench [messages >= 1] [value_bytes 32..1000000]\n");
    return 2;
  }
  KafkaError err;
  KafkaConfig *cfg = kafka_config_new();
  char group[64];
  snprintf(group, sizeof group, "bench-%ld", (long)time(NULL));
  if (kafka_config_set(cfg, "bootstrap_servers", example_servers(), &err) != KAFKA_OK ||
      kafka_config_set_group_id(cfg, group, &err) != KAFKA_OK ||
      kafka_config_set_auto_offset_reset(cfg, "earliest", &err) != KAFKA_OK)
    return fail("configuring", &err);
  KafkaInstance *kafka = kafka_instance_new(cfg, &err);
  if (!kafka) return fail("kafka_instance_new", &err);
  char topic[64];
  snprintf(topic, sizeof topic, "bench-%ld-%ld", (long)time(NULL), messages);
  example_topic(kafka, topic, 3);

  /* {"seq":0,"pad":"xxxx"} padded to `size` bytes. */
  char *value = malloc((size_t)size + 1);
  if (!value) return 1;
  int head = snprintf(value, (size_t)size + 1, "{\"seq\":0,\"pad\":\"");
  memset(value + head, 'x', (size_t)(size - head - 2));
  memcpy(value + size - 2, "\"}", 3);

  KafkaProducer *p = kafka_instance_get_producer(kafka, NULL, &err);
  if (!p) return fail("kafka_instance_get_producer", &err);
  if (kafka_producer_send_json(p, topic, NULL, value, &err) != KAFKA_OK ||
      kafka_producer_flush(p, 60000, NULL, &err) != KAFKA_OK)
    return fail("the first message", &err);
  double t0 = now();
  for (long i = 0; i < messages; i++) {
    char key[32];
    snprintf(key, sizeof key, "customer-%ld", i % 1000);
    KafkaErrorCode rc;
    while ((rc = kafka_producer_send_json(p, topic, key, value, &err)) == KAFKA_ERR_QUEUE_FULL)
      pause_100us();
    if (rc != KAFKA_OK) return fail("kafka_producer_send_json", &err);
  }
  if (kafka_producer_flush(p, 300000, NULL, &err) != KAFKA_OK) return fail("flush", &err);
  double produced = now() - t0;
  if (kafka_producer_close(p, 10000, &err) != KAFKA_OK) return fail("close", &err);

  const char *topics[] = {topic};
  KafkaConsumer *c = kafka_instance_get_consumer(kafka, topics, 1, NULL, &err);
  if (!c) return fail("kafka_instance_get_consumer", &err);
  KafkaMessage *batch[1000];
  long got = 0, expected = messages + 1; /* and the first one */
  double first = 0, give_up = now() + 600;
  while (got < expected && now() < give_up) {
    size_t n = 0;
    if (kafka_consumer_poll_batch(c, batch, 1000, 100, &n, &err) != KAFKA_OK)
      return fail("kafka_consumer_poll_batch", &err);
    if (n > 0 && got == 0) first = now();
    for (size_t i = 0; i < n; i++) kafka_message_free(batch[i]);
    got += (long)n;
  }
  double consumed = now() - first;
  kafka_consumer_close(c, &err);
  if (got != expected) {
    fprintf(stderr, "read %ld of %ld messages\n", got, expected);
    return 1;
  }

  printf("produce: %ld x %ld B in %.2f s: %.0f msg/s, %.1f MB/s\n", messages, size, produced,
         (double)messages / produced, (double)messages * (double)size / produced / 1e6);
  printf("consume: %ld x %ld B in %.2f s: %.0f msg/s (from the first message)\n", expected, size,
         consumed, (double)expected / consumed);
  free(value);
  kafka_instance_free(kafka);
  kafka_config_free(cfg);
  example_done();
  return 0;
}

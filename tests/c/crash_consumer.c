/* A consumer process for the delivery-guarantee tests, which kill it.
 *
 *   crash_consumer SERVERS TOPIC GROUP MODE COMMIT KILL_AT [SETTING=VALUE...]
 *
 * MODE: poll (one message per kafka_consumer_poll), batch
 * (kafka_consumer_poll_batch of up to 16) or consume (a handler under
 * kafka_consumer_consume). COMMIT: auto (enable_auto_commit, the default
 * rule) or message (auto-commit off, kafka_consumer_commit_message right
 * after each message is processed). Processing a message prints
 * "processed <n>" (n from its JSON value {"n": n}) and flushes stdout.
 *
 * KILL_AT >= 0: the process dies (SIGKILL) while processing its
 * KILL_AT-th message (counting from 0): handed the message right after
 * the poll, in the middle of a batch, or inside the handler (by MODE), it
 * works on it for 300 ms (longer than the tests' auto-commit interval, so
 * a commit made meanwhile would be seen), then is killed before finishing.
 * KILL_AT -1: no kill; the process closes the consumer and exits 0 once
 * nothing arrived for 3 s after the first message (CRASH_CONSUMER_IDLE_S
 * seconds when set), or for 30 s from the start (joining the group takes
 * a few seconds). Settings after KILL_AT go to the consumer. */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kafka_instance.h"

static long handed = 0;
static long kill_at = -1;
static int commit_each = 0;

static void fail(const char *what, const KafkaError *err) {
  fprintf(stderr, "crash_consumer: %s: %s\n", what, err->message);
  exit(2);
}

/* Counts a message handed to the application; dies at KILL_AT, 300 ms
 * into processing it. */
static void handed_one(void) {
  if (handed++ == kill_at) {
    struct timespec working = {0, 300 * 1000 * 1000};
    nanosleep(&working, NULL);
    raise(SIGKILL);
  }
}

static void process(KafkaConsumer *c, const KafkaMessage *m) {
  size_t len = 0;
  const char *v = kafka_message_value(m, &len);
  const char *digits = v ? memchr(v, ':', len) : NULL;
  if (!digits) {
    fprintf(stderr, "crash_consumer: unexpected value\n");
    exit(2);
  }
  printf("processed %ld\n", strtol(digits + 1, NULL, 10));
  fflush(stdout);
  if (commit_each) {
    KafkaError err;
    if (kafka_consumer_commit_message(c, m, &err) != KAFKA_OK) fail("commit_message", &err);
  }
}

static int handler(const KafkaMessage *m, void *opaque) {
  handed_one();
  process(opaque, m);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 7) {
    fprintf(stderr, "usage: crash_consumer SERVERS TOPIC GROUP MODE COMMIT KILL_AT [K=V...]\n");
    return 2;
  }
  const char *mode = argv[4];
  commit_each = strcmp(argv[5], "message") == 0;
  kill_at = strtol(argv[6], NULL, 10);

  KafkaError err;
  KafkaConfig *cfg = kafka_config_new();
  const char *servers[] = {argv[1]};
  if (kafka_config_set_bootstrap_servers(cfg, servers, 1, &err)) fail("servers", &err);
  if (kafka_config_set_group_id(cfg, argv[3], &err)) fail("group", &err);
  if (kafka_config_set_auto_offset_reset(cfg, "earliest", &err)) fail("reset", &err);
  if (kafka_config_set_enable_auto_commit(cfg, !commit_each, &err)) fail("auto commit", &err);
  for (int i = 7; i < argc; i++) {
    char *eq = strchr(argv[i], '=');
    if (!eq) return 2;
    *eq = '\0';
    if (kafka_config_set(cfg, argv[i], eq + 1, &err)) fail(argv[i], &err);
  }
  KafkaInstance *inst = kafka_instance_new(cfg, &err);
  if (!inst) fail("instance", &err);
  const char *topics[] = {argv[2]};
  KafkaConsumer *c = kafka_instance_get_consumer(inst, topics, 1, NULL, &err);
  if (!c) fail("consumer", &err);
  if (strcmp(mode, "consume") == 0 &&
      kafka_consumer_register_handler(c, argv[2], handler, c, &err) != KAFKA_OK)
    fail("register_handler", &err);

  const char *idle_env = getenv("CRASH_CONSUMER_IDLE_S");
  const long idle_s = idle_env ? strtol(idle_env, NULL, 10) : 3;
  time_t idle_since = time(NULL);
  while (time(NULL) - idle_since < (handed > 0 ? idle_s : 30)) {
    size_t n = 0;
    if (strcmp(mode, "poll") == 0) {
      KafkaMessage *m = NULL;
      if (kafka_consumer_poll(c, 200, &m, &err) != KAFKA_OK) fail("poll", &err);
      if (m) {
        n = 1;
        handed_one();
        process(c, m);
        kafka_message_free(m);
      }
    } else if (strcmp(mode, "batch") == 0) {
      KafkaMessage *batch[16];
      if (kafka_consumer_poll_batch(c, batch, 16, 200, &n, &err) != KAFKA_OK) fail("poll_batch", &err);
      for (size_t i = 0; i < n; i++) {
        handed_one();
        process(c, batch[i]);
      }
      for (size_t i = 0; i < n; i++) kafka_message_free(batch[i]);
    } else {
      if (kafka_consumer_consume(c, 200, &n, &err) != KAFKA_OK) fail("consume", &err);
    }
    if (n > 0) idle_since = time(NULL);
  }
  if (kafka_consumer_close(c, &err) != KAFKA_OK) fail("close", &err);
  kafka_instance_free(inst);
  kafka_config_free(cfg);
  return 0;
}

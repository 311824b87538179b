/* An exactly-once pipeline process for tests/producer_transactions.rs,
 * which kills it and restarts it.
 *
 *   eos_pipeline SERVERS IN OUT GROUP TXN_ID FAULT_AT FAULT [SETTING=VALUE...]
 *
 * Reads IN (read_committed, auto-commit off) in batches of up to 8 and,
 * per batch, in one transaction: writes each value {"n": N} to OUT as
 * {"n": N} and sends the batch's offsets to the transaction, then commits.
 * FAULT_AT >= 0: while writing its FAULT_AT-th output (counting from 0),
 * the process either dies (FAULT kill: SIGKILL) or aborts the transaction
 * and exits 3 (FAULT abort). FAULT_AT -1: no fault; the process exits 0
 * once nothing arrived for 3 s after the first message (or 30 s from the
 * start). Settings after FAULT go to the consumer. Prints "committed K"
 * after each commit (K outputs so far in this life). */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kafka_instance.h"

static void fail(const char *what, const KafkaError *err) {
  fprintf(stderr, "eos_pipeline: %s: %s (fatal %d, abortable %d)\n", what, err->message, err->fatal,
          err->txn_requires_abort);
  exit(2);
}

int main(int argc, char **argv) {
  if (argc < 8) {
    fprintf(stderr, "usage: eos_pipeline SERVERS IN OUT GROUP TXN_ID FAULT_AT FAULT [K=V...]\n");
    return 2;
  }
  const char *in = argv[2], *out = argv[3];
  long fault_at = strtol(argv[6], NULL, 10);
  int kill_fault = strcmp(argv[7], "kill") == 0;
  KafkaError err;

  KafkaConfig *cfg = kafka_config_new();
  const char *servers[] = {argv[1]};
  if (kafka_config_set_bootstrap_servers(cfg, servers, 1, &err) != KAFKA_OK) fail("servers", &err);
  KafkaInstance *inst = kafka_instance_new(cfg, &err);
  if (!inst) fail("instance", &err);

  KafkaConfig *co = kafka_config_new();
  kafka_config_set_group_id(co, argv[4], &err);
  kafka_config_set_auto_offset_reset(co, "earliest", &err);
  kafka_config_set_enable_auto_commit(co, false, &err);
  kafka_config_set(co, "isolation_level", "read_committed", &err);
  for (int i = 8; i < argc; i++) {
    char *eq = strchr(argv[i], '=');
    if (!eq) continue;
    *eq = 0;
    if (kafka_config_set(co, argv[i], eq + 1, &err) != KAFKA_OK) fail(argv[i], &err);
  }
  const char *topics[] = {in};
  KafkaConsumer *c = kafka_instance_get_consumer(inst, topics, 1, co, &err);
  if (!c) fail("consumer", &err);

  KafkaConfig *po = kafka_config_new();
  if (kafka_config_set(po, "transactional_id", argv[5], &err) != KAFKA_OK) fail("transactional_id", &err);
  KafkaProducer *p = kafka_instance_get_producer(inst, po, &err);
  if (!p) fail("producer", &err);
  /* Fences the previous life (same id) and finishes its transaction. */
  if (kafka_producer_init_transactions(p, 30000, &err) != KAFKA_OK) fail("init_transactions", &err);

  long written = 0;
  int seen_any = 0;
  time_t idle_since = time(NULL);
  for (;;) {
    KafkaMessage *batch[8];
    size_t n = 0;
    if (kafka_consumer_poll_batch(c, batch, 8, 500, &n, &err) != KAFKA_OK) fail("poll_batch", &err);
    if (n == 0) {
      if (time(NULL) - idle_since >= (seen_any ? 3 : 30)) break;
      continue;
    }
    seen_any = 1;
    idle_since = time(NULL);
    if (kafka_producer_begin_transaction(p, &err) != KAFKA_OK) fail("begin_transaction", &err);
    for (size_t i = 0; i < n; i++) {
      size_t len = 0;
      const char *v = kafka_message_value(batch[i], &len);
      char value[64];
      snprintf(value, sizeof value, "%.*s", (int)(len < 60 ? len : 60), v ? v : "");
      if (written == fault_at) {
        if (kill_fault) raise(SIGKILL);
        if (kafka_producer_abort_transaction(p, 30000, &err) != KAFKA_OK) fail("abort_transaction", &err);
        printf("aborted\n");
        fflush(stdout);
        exit(3);
      }
      if (kafka_producer_send_json(p, out, NULL, value, &err) != KAFKA_OK) fail("send_json", &err);
      written++;
      kafka_message_free(batch[i]);
    }
    /* NULL: the consumer's positions, just after this batch. */
    if (kafka_producer_send_offsets_to_transaction(p, c, NULL, 30000, &err) != KAFKA_OK)
      fail("send_offsets_to_transaction", &err);
    if (kafka_producer_commit_transaction(p, 30000, &err) != KAFKA_OK) fail("commit_transaction", &err);
    printf("committed %ld\n", written);
    fflush(stdout);
  }
  if (kafka_producer_close(p, 10000, &err) != KAFKA_OK) fail("close producer", &err);
  if (kafka_consumer_close(c, &err) != KAFKA_OK) fail("close consumer", &err);
  kafka_config_free(po);
  kafka_config_free(co);
  kafka_config_free(cfg);
  kafka_instance_free(inst);
  return 0;
}

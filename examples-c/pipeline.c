/* Pipeline: read "payments", write one "ledger" entry per payment, and
 * commit the consumed offsets in the same transaction, so that on a broker
 * with transactions every payment reaches the ledger exactly once, even
 * across crashes. A producer that hits a fatal error (fenced by a newer
 * instance with the same transactional id) is replaced by a new one: the
 * transaction it had open is aborted, and the consumer goes back to the
 * last committed offsets. */
#include "example.h"

/* A transactional producer, ready for its first transaction. */
static KafkaProducer *transactional_producer(KafkaInstance *kafka, KafkaError *err) {
  KafkaConfig *overrides = kafka_config_new();
  kafka_config_set(overrides, "transactional_id", "payments-to-ledger", err);
  KafkaProducer *p = kafka_instance_get_producer(kafka, overrides, err);
  kafka_config_free(overrides);
  if (p && kafka_producer_init_transactions(p, 30000, err) != KAFKA_OK) {
    kafka_producer_close(p, 0, NULL);
    return NULL;
  }
  return p;
}

/* Writes a batch and its offsets in one transaction. KAFKA_OK, or the
 * failure (the transaction is aborted where it can be). */
static KafkaErrorCode move_batch(KafkaProducer *p, KafkaConsumer *c, KafkaMessage **batch, size_t n,
                                 KafkaError *err) {
  if (kafka_producer_begin_transaction(p, err) != KAFKA_OK) return err->code;
  for (size_t i = 0; i < n; i++) {
    size_t len = 0;
    const char *v = kafka_message_value(batch[i], &len);
    char entry[160];
    snprintf(entry, sizeof entry, "{\"payment\": %.*s}", (int)(len < 120 ? len : 120), v);
    if (kafka_producer_send_json(p, "ledger", NULL, entry, err) != KAFKA_OK) goto abort;
  }
  /* NULL: the consumer's positions, just after this batch. */
  if (kafka_producer_send_offsets_to_transaction(p, c, NULL, 30000, err) != KAFKA_OK) goto abort;
  if (kafka_producer_commit_transaction(p, 30000, err) != KAFKA_OK) goto abort;
  return KAFKA_OK;
abort:
  if (!err->fatal) {
    KafkaError ignored;
    kafka_producer_abort_transaction(p, 30000, &ignored);
  }
  return err->code;
}

int main(void) {
  KafkaError err;
  KafkaConfig *config = kafka_config_new();
  const char *servers[] = {example_servers()};
  kafka_config_set_bootstrap_servers(config, servers, 1, &err);
  kafka_config_set_group_id(config, "ledger-writer", &err);
  kafka_config_set_auto_offset_reset(config, "earliest", &err);
  /* Only the transaction commits the consumer's offsets. */
  kafka_config_set_enable_auto_commit(config, false, &err);
  kafka_config_set(config, "isolation_level", "read_committed", &err);
  KafkaInstance *kafka = kafka_instance_new(config, &err);
  if (!kafka) return fail("creating the instance", &err);
  example_topic(kafka, "payments", 1);
  example_topic(kafka, "ledger", 1);
  example_seed(kafka, "payments", 20);

  const char *topics[] = {"payments"};
  KafkaConsumer *consumer = kafka_instance_get_consumer(kafka, topics, 1, NULL, &err);
  if (!consumer) return fail("creating the consumer", &err);
  KafkaProducer *producer = transactional_producer(kafka, &err);
  if (!producer) return fail("creating the transactional producer", &err);

  int moved = 0, transactions = 0, idle = 0;
  while (moved < 20 && idle < 60) {
    KafkaMessage *batch[8];
    size_t n = 0;
    if (kafka_consumer_poll_batch(consumer, batch, 8, 500, &n, &err) != KAFKA_OK) return fail("polling", &err);
    idle = n ? 0 : idle + 1;
    if (!n) continue;
    KafkaErrorCode rc = move_batch(producer, consumer, batch, n, &err);
    for (size_t i = 0; i < n; i++) kafka_message_free(batch[i]);
    if (rc == KAFKA_OK) {
      moved += (int)n;
      transactions++;
      continue;
    }
    if (err.rdkafka_code == -165) { /* _UNSUPPORTED_FEATURE */
      fprintf(stderr, "pipeline: the broker does not support transactions: %s\n", err.message);
      return 3;
    }
    KafkaError fatal;
    if (!kafka_producer_fatal_error(producer, &fatal)) return fail("a transaction", &err);
    /* Fatal: this producer is finished. A new one fences it, and the
     * consumer starts again from what was committed. */
    fprintf(stderr, "pipeline: %s; starting a new producer\n", fatal.message);
    kafka_producer_close(producer, 0, NULL);
    producer = transactional_producer(kafka, &err);
    if (!producer) return fail("replacing the producer", &err);
    kafka_consumer_close(consumer, &err);
    consumer = kafka_instance_get_consumer(kafka, topics, 1, NULL, &err);
    if (!consumer) return fail("creating the consumer again", &err);
  }
  printf("pipeline: %d payments moved to the ledger in %d transactions\n", moved, transactions);
  kafka_producer_close(producer, 10000, &err);
  kafka_consumer_close(consumer, &err);
  kafka_instance_free(kafka);
  kafka_config_free(config);
  example_done();
  return moved == 20 ? 0 : 1;
}

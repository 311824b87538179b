/* Manual offset commits: auto-commit off; each message is committed after
 * it was processed, so a failure means it is read again, never lost. */
#include "example.h"

static int process_transaction(const KafkaMessage *m) {
  size_t len;
  const char *value = kafka_message_value(m, &len);
  printf("processing %.*s\n", (int)len, value);
  return 0; /* non-zero: not processed, do not commit */
}

int main(void) {
  KafkaError err;
  KafkaConfig *config = kafka_config_new();
  const char *servers[] = {example_servers()};
  kafka_config_set_bootstrap_servers(config, servers, 1, &err);
  kafka_config_set_group_id(config, "manual-commit-group", &err);
  kafka_config_set_enable_auto_commit(config, false, &err);
  kafka_config_set_auto_offset_reset(config, "earliest", &err);
  KafkaInstance *kafka = kafka_instance_new(config, &err);
  if (!kafka) return fail("creating the instance", &err);
  example_topic(kafka, "transactions", 1);
  example_seed(kafka, "transactions", 4);

  const char *topics[] = {"transactions"};
  KafkaConsumer *consumer = kafka_instance_get_consumer(kafka, topics, 1, NULL, &err);
  if (!consumer) return fail("creating the consumer", &err);
  int committed = 0;
  for (int tries = 0; tries < 60 && committed < 4; tries++) {
    KafkaMessage *m = NULL;
    if (kafka_consumer_poll(consumer, 500, &m, &err) != KAFKA_OK) return fail("polling", &err);
    if (!m) continue;
    if (process_transaction(m) == 0) {
      /* Commit after successful processing: offset + 1 of this message. */
      if (kafka_consumer_commit_message(consumer, m, &err) != KAFKA_OK) return fail("committing", &err);
      committed++;
    }
    kafka_message_free(m);
  }
  printf("committed %d messages\n", committed);
  kafka_consumer_close(consumer, &err);
  kafka_instance_free(kafka);
  kafka_config_free(config);
  example_done();
  return committed == 4 ? 0 : 1;
}

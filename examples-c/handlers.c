/* A consumer with handlers: register functions per topic (they run
 * in registration order), then consume() dispatches each polled batch and,
 * with auto-commit off, commits after it. */
#include "example.h"

static int orders_seen = 0, audits_seen = 0;

static int on_order(const KafkaMessage *m, void *opaque) {
  (void)opaque;
  size_t len;
  const char *value = kafka_message_value(m, &len);
  printf("order handler: %.*s\n", (int)len, value);
  orders_seen++;
  return 0;
}

static int audit(const KafkaMessage *m, void *opaque) {
  printf("%s: audited offset %lld\n", (const char *)opaque, (long long)kafka_message_offset(m));
  audits_seen++;
  return 0; /* non-zero would be logged with topic/partition/offset, and consumption goes on */
}

int main(void) {
  KafkaError err;
  KafkaConfig *config = kafka_config_new();
  const char *servers[] = {example_servers()};
  kafka_config_set_bootstrap_servers(config, servers, 1, &err);
  kafka_config_set_group_id(config, "order-handlers", &err);
  kafka_config_set_auto_offset_reset(config, "earliest", &err);
  kafka_config_set_enable_auto_commit(config, false, &err);
  KafkaInstance *kafka = kafka_instance_new(config, &err);
  if (!kafka) return fail("creating the instance", &err);
  example_topic(kafka, "orders", 1);
  example_seed(kafka, "orders", 3);

  const char *topics[] = {"orders"};
  KafkaConsumer *consumer = kafka_instance_get_consumer(kafka, topics, 1, NULL, &err);
  if (!consumer) return fail("creating the consumer", &err);
  kafka_consumer_register_handler(consumer, "orders", on_order, NULL, &err);
  kafka_consumer_register_handler(consumer, "orders", audit, "audit", &err);
  for (int tries = 0; tries < 60 && orders_seen < 3; tries++) {
    if (kafka_consumer_consume(consumer, 500, NULL, &err) != KAFKA_OK) return fail("consuming", &err);
  }
  kafka_consumer_close(consumer, &err);
  kafka_instance_free(kafka);
  kafka_config_free(config);
  example_done();
  return orders_seen == 3 && audits_seen == 3 ? 0 : 1;
}

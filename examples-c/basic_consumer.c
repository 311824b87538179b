/* Basic consumer: subscribe, read from the earliest offset, print. */
#include "example.h"

int main(void) {
  KafkaError err;
  KafkaConfig *config = kafka_config_new();
  const char *servers[] = {example_servers()};
  kafka_config_set_bootstrap_servers(config, servers, 1, &err);
  kafka_config_set_group_id(config, "test-consumer-group", &err);
  kafka_config_set_auto_offset_reset(config, "earliest", &err);
  KafkaInstance *kafka = kafka_instance_new(config, &err);
  if (!kafka) return fail("creating the instance", &err);
  example_topic(kafka, "test-topic", 1);
  example_seed(kafka, "test-topic", 5);

  const char *topics[] = {"test-topic"};
  KafkaConsumer *consumer = kafka_instance_get_consumer(kafka, topics, 1, NULL, &err);
  if (!consumer) return fail("creating the consumer", &err);
  int received = 0;
  for (int tries = 0; tries < 60 && received < 5; tries++) {
    KafkaMessage *m = NULL;
    if (kafka_consumer_poll(consumer, 500, &m, &err) != KAFKA_OK) return fail("polling", &err);
    if (!m) continue; /* nothing within the timeout */
    size_t len;
    const char *value = kafka_message_value(m, &len);
    printf("Received: %.*s\n", (int)len, value);
    received++;
    kafka_message_free(m);
  }
  kafka_consumer_close(consumer, &err); /* leaves the group cleanly */
  kafka_instance_free(kafka);
  kafka_config_free(config);
  example_done();
  return received == 5 ? 0 : 1;
}

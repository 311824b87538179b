/* One consumer, several related topics, dispatching on each message's
 * topic. */
#include "example.h"

static int handled[3];

static void handle(const KafkaMessage *m) {
  const char *topic = kafka_message_topic(m);
  size_t len;
  const char *value = kafka_message_value(m, &len);
  printf("Topic: %s  Partition: %d  Offset: %lld  Value: %.*s\n", topic, kafka_message_partition(m),
         (long long)kafka_message_offset(m), (int)len, value);
  if (strcmp(topic, "user-created") == 0) handled[0]++;
  else if (strcmp(topic, "user-updated") == 0) handled[1]++;
  else if (strcmp(topic, "user-deleted") == 0) handled[2]++;
}

int main(void) {
  KafkaError err;
  KafkaConfig *config = kafka_config_new();
  const char *servers[] = {example_servers()};
  kafka_config_set_bootstrap_servers(config, servers, 1, &err);
  kafka_config_set_group_id(config, "multi-topic-consumer", &err);
  kafka_config_set_auto_offset_reset(config, "earliest", &err);
  KafkaInstance *kafka = kafka_instance_new(config, &err);
  if (!kafka) return fail("creating the instance", &err);
  const char *topics[] = {"user-created", "user-updated", "user-deleted"};
  for (int i = 0; i < 3; i++) {
    example_topic(kafka, topics[i], 1);
    example_seed(kafka, topics[i], 2);
  }

  KafkaConsumer *consumer = kafka_instance_get_consumer(kafka, topics, 3, NULL, &err);
  if (!consumer) return fail("creating the consumer", &err);
  for (int tries = 0; tries < 60 && handled[0] + handled[1] + handled[2] < 6; tries++) {
    KafkaMessage *m = NULL;
    if (kafka_consumer_poll(consumer, 500, &m, &err) != KAFKA_OK) return fail("polling", &err);
    if (m) {
      handle(m);
      kafka_message_free(m);
    }
  }
  kafka_consumer_close(consumer, &err);
  kafka_instance_free(kafka);
  kafka_config_free(config);
  example_done();
  return handled[0] == 2 && handled[1] == 2 && handled[2] == 2 ? 0 : 1;
}

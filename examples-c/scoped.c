/* The context managers: a scope function runs with a producer (flushed and
 * closed after it) or a consumer (closed after it), whatever it returns. */
#include "example.h"

static int send_events(KafkaProducer *producer, void *opaque) {
  (void)opaque;
  KafkaError err;
  for (int i = 0; i < 100; i++) {
    char json[64];
    snprintf(json, sizeof json, "{\"event_id\": %d, \"type\": \"click\"}", i);
    if (kafka_producer_send_json(producer, "events", NULL, json, &err) != KAFKA_OK) return 1;
  }
  return 0; /* flushed and closed by kafka_instance_with_producer */
}

static int read_events(KafkaConsumer *consumer, void *opaque) {
  int *received = opaque;
  KafkaMessage *batch[50];
  KafkaError err;
  for (int tries = 0; tries < 60 && *received < 100; tries++) {
    size_t count = 0;
    if (kafka_consumer_poll_batch(consumer, batch, 50, 500, &count, &err) != KAFKA_OK) return 1;
    for (size_t i = 0; i < count; i++) kafka_message_free(batch[i]);
    *received += (int)count;
  }
  return 0;
}

int main(void) {
  KafkaError err;
  KafkaConfig *config = kafka_config_new();
  const char *servers[] = {example_servers()};
  kafka_config_set_bootstrap_servers(config, servers, 1, &err);
  kafka_config_set_group_id(config, "batch-processor", &err);
  kafka_config_set_auto_offset_reset(config, "earliest", &err);
  KafkaInstance *kafka = kafka_instance_new(config, &err);
  if (!kafka) return fail("creating the instance", &err);
  example_topic(kafka, "events", 2);

  if (kafka_instance_with_producer(kafka, NULL, send_events, NULL, &err) != KAFKA_OK)
    return fail("the producer scope", &err);
  int received = 0;
  const char *topics[] = {"events"};
  if (kafka_instance_with_consumer(kafka, topics, 1, NULL, read_events, &received, &err) != KAFKA_OK)
    return fail("the consumer scope", &err);
  printf("Received %d messages\n", received);

  kafka_instance_free(kafka);
  kafka_config_free(config);
  example_done();
  return received >= 100 ? 0 : 1;
}

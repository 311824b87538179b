/* Basic producer: one config, one instance, JSON sent and acknowledged. */
#include "example.h"

int main(void) {
  KafkaError err;
  KafkaConfig *config = kafka_config_new();
  const char *servers[] = {example_servers()};
  kafka_config_set_bootstrap_servers(config, servers, 1, &err);
  KafkaInstance *kafka = kafka_instance_new(config, &err);
  if (!kafka) return fail("creating the instance", &err);
  example_topic(kafka, "test-topic", 1);

  KafkaProducer *producer = kafka_instance_get_producer(kafka, NULL, &err);
  if (!producer) return fail("creating the producer", &err);
  /* An acknowledged send: wait up to 10 s for the broker. */
  KafkaDeliveryReport report;
  if (kafka_producer_send_json_sync(producer, "test-topic", NULL, "{\"message\": \"Hello Kafka\"}", 10000, &report,
                                    &err) != KAFKA_OK)
    return fail("sending", &err);
  printf("Message sent successfully: partition %d, offset %lld\n", report.partition, (long long)report.offset);

  kafka_producer_close(producer, 10000, &err); /* flush, then close */
  kafka_instance_free(kafka);
  kafka_config_free(config);
  example_done();
  return 0;
}

/* A high-reliability producer: every replica acknowledges, retries keep
 * order (one request in flight), compression and batching for throughput.
 * The settings take kafka-python's names. */
#include "example.h"

int main(void) {
  KafkaError err;
  KafkaConfig *config = kafka_config_new();
  const char *servers[] = {example_servers()};
  kafka_config_set_bootstrap_servers(config, servers, 1, &err);
  KafkaInstance *kafka = kafka_instance_new(config, &err);
  if (!kafka) return fail("creating the instance", &err);
  example_topic(kafka, "critical-events", 1);

  KafkaConfig *reliable = kafka_config_new();
  if (kafka_config_set(reliable, "acks", "all", &err) ||              /* wait for all replicas */
      kafka_config_set(reliable, "retries", "5", &err) ||             /* retry up to 5 times */
      kafka_config_set(reliable, "max_in_flight_requests_per_connection", "1", &err) || /* keep order */
      kafka_config_set(reliable, "compression_type", "snappy", &err) || /* compress batches */
      kafka_config_set(reliable, "linger_ms", "10", &err) ||          /* batch for 10 ms */
      kafka_config_set(reliable, "batch_size", "32768", &err))        /* batch size in bytes */
    return fail("configuring", &err);
  KafkaProducer *producer = kafka_instance_get_producer(kafka, reliable, &err);
  if (!producer) return fail("creating the producer", &err);
  if (kafka_producer_send_json_sync(producer, "critical-events", NULL, "{\"event\": \"system-shutdown\"}", 10000,
                                    NULL, &err) != KAFKA_OK)
    return fail("sending", &err);
  printf("critical event acknowledged by all replicas\n");

  kafka_producer_close(producer, 10000, &err);
  kafka_config_free(reliable);
  kafka_instance_free(kafka);
  kafka_config_free(config);
  example_done();
  return 0;
}

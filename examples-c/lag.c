/* Lag: how far behind a group's consumer is, per partition: messages not
 * yet handed to it, and messages not yet committed. */
#include "example.h"

int main(void) {
  KafkaError err;
  KafkaConfig *config = kafka_config_new();
  const char *servers[] = {example_servers()};
  kafka_config_set_bootstrap_servers(config, servers, 1, &err);
  kafka_config_set_group_id(config, "lag-report", &err);
  kafka_config_set_auto_offset_reset(config, "earliest", &err);
  kafka_config_set_enable_auto_commit(config, false, &err);
  KafkaInstance *kafka = kafka_instance_new(config, &err);
  if (!kafka) return fail("creating the instance", &err);
  example_topic(kafka, "shipments", 2);
  example_seed(kafka, "shipments", 10);

  const char *topics[] = {"shipments"};
  KafkaConsumer *consumer = kafka_instance_get_consumer(kafka, topics, 1, NULL, &err);
  if (!consumer) return fail("creating the consumer", &err);
  /* Read four messages and commit them. */
  int read = 0;
  for (int tries = 0; tries < 60 && read < 4; tries++) {
    KafkaMessage *m = NULL;
    if (kafka_consumer_poll(consumer, 500, &m, &err) != KAFKA_OK) return fail("polling", &err);
    if (m) read++;
    kafka_message_free(m);
  }
  if (kafka_consumer_commit(consumer, &err) != KAFKA_OK) return fail("committing", &err);

  KafkaPartitionList *lag = NULL;
  if (kafka_consumer_lag(consumer, 10000, &lag, &err) != KAFKA_OK) return fail("asking for the lag", &err);
  long long behind = 0;
  for (size_t i = 0; i < kafka_partition_list_count(lag); i++) {
    const KafkaTopicPartition *p = kafka_partition_list_get(lag, i);
    printf("%s[%d]: position %lld of %lld, lag %lld, uncommitted %lld\n", p->topic, p->partition,
           (long long)p->offset, (long long)p->high_watermark, (long long)p->lag, (long long)p->uncommitted_lag);
    behind += p->lag;
  }
  printf("total lag: %lld\n", behind);
  kafka_partition_list_free(lag);
  kafka_consumer_close(consumer, &err);
  kafka_instance_free(kafka);
  kafka_config_free(config);
  example_done();
  return 0;
}

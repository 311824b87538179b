/* Replay: read a topic again from a point in time, with manual assignment
 * (no group rebalancing): assign partition 0, seek to the timestamp, read
 * what came after it. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime, nanosleep */
#include <time.h>

#include "example.h"

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void pause_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

int main(void) {
  KafkaError err;
  KafkaConfig *config = kafka_config_new();
  const char *servers[] = {example_servers()};
  kafka_config_set_bootstrap_servers(config, servers, 1, &err);
  kafka_config_set_group_id(config, "replay", &err);
  KafkaInstance *kafka = kafka_instance_new(config, &err);
  if (!kafka) return fail("creating the instance", &err);
  example_topic(kafka, "audit-log", 1);
  example_seed(kafka, "audit-log", 3); /* before the point in time */
  pause_ms(1500);
  long long since = now_ms();
  pause_ms(500);
  example_seed(kafka, "audit-log", 2); /* after it: what the replay reads */

  const char *topics[] = {"audit-log"};
  KafkaConsumer *consumer = kafka_instance_get_consumer(kafka, topics, 1, NULL, &err);
  if (!consumer) return fail("creating the consumer", &err);
  /* Manual assignment: leave the subscription, take partition 0. */
  KafkaPartitionList *partitions = kafka_partition_list_new();
  kafka_partition_list_add(partitions, "audit-log", 0, KAFKA_OFFSET_END, &err);
  if (kafka_consumer_unsubscribe(consumer, &err) != KAFKA_OK ||
      kafka_consumer_assign(consumer, partitions, &err) != KAFKA_OK)
    return fail("assigning", &err);
  kafka_partition_list_free(partitions);

  KafkaPartitionList *moved = NULL;
  if (kafka_consumer_seek_to_time(consumer, since, 10000, &moved, &err) != KAFKA_OK)
    return fail("seeking to the time", &err);
  const KafkaTopicPartition *p = kafka_partition_list_get(moved, 0);
  if (p->offset == KAFKA_OFFSET_NONE)
    printf("no message after that time: reading from the end\n");
  else
    printf("replaying %s partition %d from offset %lld\n", p->topic, p->partition, (long long)p->offset);
  kafka_partition_list_free(moved);

  int replayed = 0;
  for (int tries = 0; tries < 10 && replayed < 2; tries++) {
    KafkaMessage *m = NULL;
    if (kafka_consumer_poll(consumer, 500, &m, &err) != KAFKA_OK) return fail("polling", &err);
    if (!m) continue;
    size_t len;
    const char *value = kafka_message_value(m, &len);
    printf("replayed offset %lld: %.*s\n", (long long)kafka_message_offset(m), (int)len, value);
    replayed++;
    kafka_message_free(m);
  }
  kafka_consumer_close(consumer, &err);
  kafka_instance_free(kafka);
  kafka_config_free(config);
  example_done();
  return 0;
}

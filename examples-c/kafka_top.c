/* kafka-top: once a second, how fast a topic is written and a group reads
 * it, and each partition's lag (what the group has yet to process).
 *
 *   kafka_top <group> <topic> [seconds]   watch a group on your cluster
 *   kafka_top                             a 4-second demo: it writes 300
 *                                         messages a second and reads 200
 *                                         (on the embedded broker unless
 *                                         KAFKA_BOOTSTRAP_SERVERS is set)
 *
 * Throughput comes from the partitions' end offsets (written) and the
 * group's committed offsets (read) between two looks, one second apart;
 * the lag is end minus committed (kafka_instance_group_lag). */
#include <threads.h>
#include <time.h>

#include "example.h"

static double now_s(void) {
  struct timespec ts;
  timespec_get(&ts, TIME_UTC);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The group's lag on every partition of `topic`, printed; the sums of the
 * end offsets and committed offsets go to *ends and *committed. */
static int look(KafkaInstance *kafka, const char *group, const KafkaPartitionList *partitions,
                long long *ends, long long *committed, long long *lag, int print) {
  KafkaError err;
  KafkaPartitionList *lags = NULL;
  if (kafka_instance_group_lag(kafka, group, partitions, 10000, &lags, &err) != KAFKA_OK)
    return fail("asking for the group's lag", &err);
  *ends = *committed = *lag = 0;
  for (size_t i = 0; i < kafka_partition_list_count(lags); i++) {
    const KafkaTopicPartition *p = kafka_partition_list_get(lags, i);
    long long done = p->committed >= 0 ? p->committed : 0;
    *ends += p->high_watermark;
    *committed += done;
    *lag += p->lag;
    if (print)
      printf("  %s[%d]  end %-8lld committed %-8lld lag %lld\n", p->topic, p->partition,
             (long long)p->high_watermark, done, (long long)p->lag);
  }
  kafka_partition_list_free(lags);
  return 0;
}

int main(int argc, char **argv) {
  int demo = argc < 3;
  char demo_name[64]; /* a topic and group of its own for each demo run */
  snprintf(demo_name, sizeof demo_name, "kafka-top-demo-%lld", (long long)time(NULL));
  const char *group = demo ? demo_name : argv[1];
  const char *topic = demo ? demo_name : argv[2];
  int seconds = argc > 3 ? atoi(argv[3]) : demo ? 4 : 1000000;

  KafkaError err;
  KafkaConfig *config = kafka_config_new();
  const char *servers[] = {example_servers()};
  kafka_config_set_bootstrap_servers(config, servers, 1, &err);
  kafka_config_set_group_id(config, group, &err);
  kafka_config_set_auto_offset_reset(config, "earliest", &err);
  KafkaInstance *kafka = kafka_instance_new(config, &err);
  kafka_config_free(config);
  if (!kafka) return fail("creating the instance", &err);

  /* The demo's traffic: a producer and a slower consumer in the group. */
  KafkaProducer *producer = NULL;
  KafkaConsumer *consumer = NULL;
  if (demo) {
    example_topic(kafka, topic, 3);
    producer = kafka_instance_get_producer(kafka, NULL, &err);
    if (!producer) return fail("creating the producer", &err);
    const char *topics[] = {topic};
    consumer = kafka_instance_get_consumer(kafka, topics, 1, NULL, &err);
    if (!consumer) return fail("creating the consumer", &err);
    /* Until the group has given it the topic's partitions. */
    size_t assigned = 0;
    for (double give_up = now_s() + 30; assigned == 0 && now_s() < give_up;) {
      KafkaMessage *m = NULL; /* none yet: nothing was written */
      if (kafka_consumer_poll(consumer, 100, &m, &err) != KAFKA_OK) return fail("polling", &err);
      kafka_message_free(m);
      KafkaPartitionList *a = NULL;
      if (kafka_consumer_assignment(consumer, &a, &err) != KAFKA_OK) return fail("assignment", &err);
      assigned = kafka_partition_list_count(a);
      kafka_partition_list_free(a);
    }
  }

  /* The partitions to watch: every partition of the topic. */
  KafkaCluster *described = NULL;
  if (kafka_instance_describe_topic(kafka, topic, 10000, &described, &err) != KAFKA_OK)
    return fail("describing the topic", &err);
  KafkaPartitionList *partitions = kafka_partition_list_new();
  for (size_t i = 0; i < kafka_cluster_partition_count(described); i++) {
    const KafkaPartitionInfo *p = kafka_cluster_partition(described, i);
    kafka_partition_list_add(partitions, p->topic, p->partition, KAFKA_OFFSET_END, &err);
  }
  printf("kafka-top: group %s on %s (%zu partitions, %zu brokers)\n", group, topic,
         kafka_cluster_partition_count(described), kafka_cluster_broker_count(described));
  kafka_cluster_free(described);

  long long ends, committed, lag, last_ends, last_committed;
  if (look(kafka, group, partitions, &last_ends, &last_committed, &lag, 0)) return 1;
  long long sent = 0, read = 0;
  for (int s = 1; s <= seconds; s++) {
    double until = now_s() + 1.0;
    if (demo) {
      for (int i = 0; i < 300; i++) {
        char json[48], key[16];
        snprintf(json, sizeof json, "{\"tick\": %d, \"n\": %d}", s, i);
        snprintf(key, sizeof key, "k%d", i);
        if (kafka_producer_send_json(producer, topic, key, json, &err) != KAFKA_OK)
          return fail("sending", &err);
      }
      sent += 300;
      if (kafka_producer_flush(producer, 10000, NULL, &err) != KAFKA_OK) return fail("flushing", &err);
    }
    /* The demo's consumer reads up to 200 messages this second. */
    for (int got = 0; demo && got < 200 && now_s() < until;) {
      KafkaMessage *m = NULL;
      if (kafka_consumer_poll(consumer, 50, &m, &err) != KAFKA_OK) return fail("polling", &err);
      if (m) {
        got++;
        read++;
        kafka_message_free(m);
      }
    }
    double left = until - now_s();
    if (left > 0) {
      struct timespec nap = {0, (long)(left * 1e9)};
      thrd_sleep(&nap, NULL);
    }
    if (demo && kafka_consumer_commit(consumer, &err) != KAFKA_OK) return fail("committing", &err);
    if (look(kafka, group, partitions, &ends, &committed, &lag, 0)) return 1;
    printf("t=%ds  written %lld msg/s  read %lld msg/s  lag %lld\n", s, ends - last_ends,
           committed - last_committed, lag);
    look(kafka, group, partitions, &ends, &committed, &lag, 1);
    last_ends = ends;
    last_committed = committed;
  }

  int status = 0;
  if (demo) {
    /* What was written and not read: the lag, on a broker whose end
     * offsets are current. */
    printf("kafka-top: wrote %lld, read %lld, lag %lld\n", sent, read, lag);
    if (kafka_consumer_close(consumer, &err) != KAFKA_OK) status = fail("closing the consumer", &err);
    if (kafka_producer_close(producer, 10000, &err) != KAFKA_OK) status = fail("closing the producer", &err);
  }
  kafka_partition_list_free(partitions);
  kafka_instance_free(kafka);
  example_done();
  return status;
}

/* quickstart: produce a handful of JSON orders, consume them back through
 * a topic handler, commit, close, and say what happened.
 *
 * Connects to KAFKA_BOOTSTRAP_SERVERS when it is set; otherwise starts the
 * embedded broker. Exits non-zero if any order did not come back as sent.
 *
 *   make -C examples-c run
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kafka_instance.h"

#define ORDERS 6

static const char *customers[] = {"alice", "bob", "carol"};

struct received {
  char json[ORDERS][128];
  int seen[ORDERS];
  int count;
};

/* The topic handler: runs for every message of the orders topic. */
static int on_order(const KafkaMessage *m, void *opaque) {
  struct received *r = opaque;
  size_t len = 0, key_len = 0;
  const char *value = kafka_message_value(m, &len);
  const char *key = kafka_message_key(m, &key_len);
  /* Values are bytes with a length, not C strings: copy before parsing. */
  char text[128] = {0};
  if (value != NULL && len < sizeof text) memcpy(text, value, len);
  int id = -1;
  if (value == NULL || sscanf(text, "{\"order_id\": %d", &id) != 1 || id < 0 || id >= ORDERS) {
    fprintf(stderr, "quickstart: unexpected message\n");
    return 1; /* logged by the library; consumption goes on */
  }
  r->seen[id] += (len == strlen(r->json[id]) && memcmp(value, r->json[id], len) == 0);
  r->count++;
  printf("  order %d for %.*s: partition %d, offset %lld\n", id, (int)key_len, key,
         kafka_message_partition(m), (long long)kafka_message_offset(m));
  return 0;
}

static int fail(const char *what, const KafkaError *err) {
  fprintf(stderr, "quickstart: %s failed: %s (%s)\n", what, err->message, kafka_error_code_name(err->code));
  return 1;
}

int main(void) {
  KafkaError err;
  KafkaMockCluster *embedded = NULL;
  const char *servers = getenv("KAFKA_BOOTSTRAP_SERVERS");
  char topic[64], group[64];
  snprintf(topic, sizeof topic, "orders-%ld-%ld", (long)getpid(), (long)time(NULL));
  snprintf(group, sizeof group, "quickstart-%ld-%ld", (long)getpid(), (long)time(NULL));

  printf("kafka_instance %s (librdkafka %s)\n", kafka_instance_version(), kafka_instance_librdkafka_version());
  if (servers == NULL || servers[0] == '\0') {
    embedded = kafka_mock_cluster_new(1, &err);
    if (embedded == NULL) return fail("starting the embedded broker", &err);
    servers = kafka_mock_cluster_bootstrap_servers(embedded);
    printf("embedded broker on %s\n", servers);
  } else {
    printf("brokers at %s\n", servers);
  }

  /* One config, one instance. */
  char url[1024];
  snprintf(url, sizeof url, "kafka://%s", servers);
  KafkaConfig *config = kafka_config_new();
  if (kafka_config_set_kafka_url(config, url, &err) ||
      kafka_config_set_client_id(config, "quickstart", &err) ||
      kafka_config_set_group_id(config, group, &err) ||
      kafka_config_set_auto_offset_reset(config, "earliest", &err) ||
      kafka_config_set_enable_auto_commit(config, false, &err))
    return fail("configuring", &err);
  KafkaInstance *instance = kafka_instance_new(config, &err);
  kafka_config_free(config);
  if (instance == NULL) return fail("creating the instance", &err);

  KafkaErrorCode rc = embedded ? kafka_mock_cluster_create_topic(embedded, topic, 3, 1, &err)
                               : kafka_instance_create_topic(instance, topic, 3, 1, 10000, &err);
  if (rc != KAFKA_OK) return fail("creating the topic", &err);

  /* Produce: JSON values, keyed by customer, acknowledged on flush. */
  struct received received;
  memset(&received, 0, sizeof received);
  KafkaProducer *producer = kafka_instance_get_producer(instance, NULL, &err);
  if (producer == NULL) return fail("creating the producer", &err);
  for (int i = 0; i < ORDERS; i++) {
    snprintf(received.json[i], sizeof received.json[i], "{\"order_id\": %d, \"customer\": \"%s\", \"amount\": %d.99}",
             i, customers[i % 3], 10 * (i + 1));
    if (kafka_producer_send_json(producer, topic, customers[i % 3], received.json[i], &err) != KAFKA_OK)
      return fail("sending", &err);
  }
  if (kafka_producer_close(producer, 10000, &err) != KAFKA_OK) return fail("flushing the producer", &err);
  printf("produced %d orders to %s (3 partitions, keyed by customer)\n", ORDERS, topic);

  /* Consume: a handler for the topic; consume() commits after each batch. */
  const char *topics[] = {topic};
  KafkaConsumer *consumer = kafka_instance_get_consumer(instance, topics, 1, NULL, &err);
  if (consumer == NULL) return fail("creating the consumer", &err);
  if (kafka_consumer_register_handler(consumer, topic, on_order, &received, &err) != KAFKA_OK)
    return fail("registering the handler", &err);
  time_t give_up = time(NULL) + 60;
  while (received.count < ORDERS && time(NULL) < give_up) {
    if (kafka_consumer_consume(consumer, 1000, NULL, &err) != KAFKA_OK) return fail("consuming", &err);
  }
  if (kafka_consumer_close(consumer, &err) != KAFKA_OK) return fail("closing the consumer", &err);
  kafka_instance_free(instance);
  kafka_mock_cluster_free(embedded);

  int intact = 0;
  for (int i = 0; i < ORDERS; i++) intact += received.seen[i] == 1;
  printf("consumed %d/%d orders, %d byte-identical; offsets committed; everything closed\n", received.count, ORDERS,
         intact);
  if (intact != ORDERS || received.count != ORDERS) {
    fprintf(stderr, "quickstart: FAILED: not every order round-tripped\n");
    return 1;
  }
  printf("quickstart: ok\n");
  return 0;
}

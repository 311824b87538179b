/* The consumer through the header: poll, batches, message accessors,
 * manual commits and resume, the scoped consumer, bad input, messages
 * outliving their consumer, against the embedded broker. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "kafka_instance.h"
#include "check.h"


/* Polls one message, waiting up to 30 s. */
static KafkaMessage *next(KafkaConsumer *c) {
  time_t give_up = time(NULL) + 30;
  KafkaError err;
  while (time(NULL) < give_up) {
    KafkaMessage *m = NULL;
    if (kafka_consumer_poll(c, 500, &m, &err) != KAFKA_OK) {
      fprintf(stderr, "poll: %s\n", err.message);
      return NULL;
    }
    if (m) return m;
  }
  return NULL;
}

static int count_in_scope(KafkaConsumer *c, void *opaque) {
  int *seen = opaque;
  KafkaMessage *m = next(c);
  if (m == NULL) return 1;
  (*seen)++;
  kafka_message_free(m);
  return 0;
}

int main(void) {
  KafkaError err;
  KafkaMockCluster *mc = kafka_mock_cluster_new(1, &err);
  if (!mc) return 1;
  kafka_mock_cluster_create_topic(mc, "events", 1, 1, &err);

  KafkaConfig *cfg = kafka_config_new();
  const char *servers[] = {kafka_mock_cluster_bootstrap_servers(mc)};
  kafka_config_set_bootstrap_servers(cfg, servers, 1, &err);
  kafka_config_set_group_id(cfg, "c-consumer", &err);
  kafka_config_set_auto_offset_reset(cfg, "earliest", &err);
  kafka_config_set_enable_auto_commit(cfg, false, &err);
  kafka_config_set(cfg, "session_timeout_ms", "6000", &err);
  KafkaInstance *inst = kafka_instance_new(cfg, &err);
  CHECK(inst != NULL, "instance: %s", err.message);

  /* Five messages with a header. */
  KafkaProducer *p = kafka_instance_get_producer(inst, NULL, &err);
  for (int i = 0; i < 5; i++) {
    char value[32];
    snprintf(value, sizeof value, "{\"n\": %d}", i);
    KafkaHeader h = {"source", "c-test", 6};
    KafkaRecord r;
    memset(&r, 0, sizeof r);
    r.topic = "events";
    r.key = "k";
    r.key_len = 1;
    r.value = value;
    r.value_len = strlen(value);
    r.headers = &h;
    r.header_count = 1;
    CHECK(kafka_producer_send(p, &r, NULL, NULL, &err) == KAFKA_OK, "send: %s", err.message);
  }
  CHECK(kafka_producer_close(p, 10000, &err) == KAFKA_OK, "close producer: %s", err.message);

  /* Bad input. */
  const char *topics[] = {"events"};
  const char *bad_topics[] = {"bad topic"};
  CHECK(kafka_instance_get_consumer(inst, topics, 0, NULL, &err) == NULL && err.code == KAFKA_ERR_INVALID_ARGUMENT,
        "empty list");
  CHECK(kafka_instance_get_consumer(inst, bad_topics, 1, NULL, &err) == NULL &&
            err.code == KAFKA_ERR_INVALID_ARGUMENT, "bad topic");
  KafkaConfig *producer_only = kafka_config_new();
  kafka_config_set(producer_only, "acks", "all", &err);
  CHECK(kafka_instance_get_consumer(inst, topics, 1, producer_only, &err) == NULL && err.code == KAFKA_ERR_CONFIG,
        "producer setting");

  /* Read two, commit the second; read one more without committing. */
  KafkaConsumer *c = kafka_instance_get_consumer(inst, topics, 1, NULL, &err);
  CHECK(c != NULL, "consumer: %s", err.message);
  KafkaMessage *first = next(c);
  KafkaMessage *second = next(c);
  CHECK(first && second, "two messages");
  if (!first || !second) return 1;
  size_t len = 0;
  const char *value = kafka_message_value(first, &len);
  CHECK(len == 8 && memcmp(value, "{\"n\": 0}", 8) == 0, "value %.*s", (int)len, value);
  CHECK(strcmp(kafka_message_topic(first), "events") == 0, "topic");
  CHECK(kafka_message_offset(first) == 0 && kafka_message_offset(second) == 1, "offsets");
  CHECK(kafka_message_timestamp(first) > 0, "timestamp");
  const void *key = kafka_message_key(first, &len);
  CHECK(key && len == 1, "key");
  const char *name = NULL;
  const void *hv = NULL;
  size_t hlen = 0;
  CHECK(kafka_message_header_count(first) == 1, "one header");
  CHECK(kafka_message_header(first, 0, &name, &hv, &hlen) && strcmp(name, "source") == 0 && hlen == 6, "header");
  CHECK(!kafka_message_header(first, 1, &name, &hv, &hlen), "no second header");
  CHECK(kafka_consumer_commit_message(c, second, &err) == KAFKA_OK, "commit: %s", err.message);
  KafkaMessage *third = next(c);
  CHECK(third && kafka_message_offset(third) == 2, "third");
  kafka_message_free(third);
  CHECK(kafka_consumer_close(c, &err) == KAFKA_OK, "close: %s", err.message);

  /* Messages outlive their consumer. */
  CHECK(kafka_message_partition(first) == 0, "still readable");
  kafka_message_free(first);
  kafka_message_free(second);

  /* A new consumer in the group resumes right after the commit: offset 2. */
  c = kafka_instance_get_consumer(inst, topics, 1, NULL, &err);
  KafkaMessage *batch[8];
  size_t got = 0;
  time_t give_up = time(NULL) + 30;
  while (got == 0 && time(NULL) < give_up)
    CHECK(kafka_consumer_poll_batch(c, batch, 8, 500, &got, &err) == KAFKA_OK, "batch: %s", err.message);
  CHECK(got >= 1 && kafka_message_offset(batch[0]) == 2, "resumed at %lld", got ? (long long)kafka_message_offset(batch[0]) : -1LL);
  for (size_t i = 0; i < got; i++) kafka_message_free(batch[i]);
  CHECK(kafka_consumer_commit(c, &err) == KAFKA_OK, "commit positions: %s", err.message);
  CHECK(kafka_consumer_close(c, &err) == KAFKA_OK, "close: %s", err.message);

  /* The scoped consumer closes whatever the scope returns. */
  int seen = 0;
  KafkaConfig *fresh = kafka_config_new();
  kafka_config_set_group_id(fresh, "c-consumer-scope", &err);
  CHECK(kafka_instance_with_consumer(inst, topics, 1, fresh, count_in_scope, &seen, &err) == KAFKA_OK && seen == 1,
        "scope: %s", err.message);

  /* Zero-copy messages outlive their consumer and instance too: the
     client is released with the last of them. */
  KafkaConfig *zero_copy = kafka_config_new();
  kafka_config_set_group_id(zero_copy, "c-consumer-zero-copy", &err);
  CHECK(kafka_config_set(zero_copy, "zero_copy_messages", "true", &err) == KAFKA_OK, "zero copy: %s", err.message);
  c = kafka_instance_get_consumer(inst, topics, 1, zero_copy, &err);
  CHECK(c != NULL, "zero-copy consumer: %s", err.message);
  KafkaMessage *held = next(c);
  CHECK(held && kafka_message_offset(held) == 0, "a held message");
  if (!held) return 1;
  CHECK(kafka_consumer_close(c, &err) == KAFKA_OK, "close: %s", err.message);

  kafka_config_free(zero_copy);
  kafka_config_free(fresh);
  kafka_config_free(producer_only);
  kafka_config_free(cfg);
  kafka_instance_free(inst);
  value = kafka_message_value(held, &len);
  CHECK(len == 8 && memcmp(value, "{\"n\": 0}", 8) == 0, "a held value after close: %.*s", (int)len, value);
  CHECK(strcmp(kafka_message_topic(held), "events") == 0, "a held topic");
  CHECK(kafka_message_header(held, 0, &name, &hv, &hlen) && strcmp(name, "source") == 0 && hlen == 6 &&
            memcmp(hv, "c-test", 6) == 0,
        "a held header");
  kafka_message_free(held);
  kafka_mock_cluster_free(mc);
  FINISH("consumer");
}

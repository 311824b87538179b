/* What every example shares: a broker to talk to (KAFKA_BOOTSTRAP_SERVERS
 * when set, otherwise the embedded one), topics that exist, a few JSON
 * messages to read, and a one-line error report. Not part of the API. */
#ifndef KAFKA_INSTANCE_EXAMPLE_H
#define KAFKA_INSTANCE_EXAMPLE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka_instance.h"

static KafkaMockCluster *example_embedded = NULL;

/* Prints what failed and returns 1 (for `return fail(...)` in main). */
static inline int fail(const char *what, const KafkaError *err) {
  fprintf(stderr, "%s failed: %s (%s)\n", what, err->message, kafka_error_code_name(err->code));
  return 1;
}

/* The brokers to use: KAFKA_BOOTSTRAP_SERVERS, or a fresh embedded one. */
static inline const char *example_servers(void) {
  const char *servers = getenv("KAFKA_BOOTSTRAP_SERVERS");
  if (servers && *servers) return servers;
  KafkaError err;
  example_embedded = kafka_mock_cluster_new(1, &err);
  if (!example_embedded) {
    fail("starting the embedded broker", &err);
    exit(1);
  }
  return kafka_mock_cluster_bootstrap_servers(example_embedded);
}

/* Creates `topic` (an existing one is fine). */
static inline void example_topic(KafkaInstance *inst, const char *topic, int partitions) {
  KafkaError err;
  KafkaErrorCode rc = example_embedded
                          ? kafka_mock_cluster_create_topic(example_embedded, topic, partitions, 1, &err)
                          : kafka_instance_create_topic(inst, topic, partitions, 1, 10000, &err);
  if (rc != KAFKA_OK && err.rdkafka_code != 36 /* TOPIC_ALREADY_EXISTS */) {
    fail("creating a topic", &err);
    exit(1);
  }
}

/* Writes `count` small JSON messages to `topic`, so consumers have
 * something to read. */
static inline void example_seed(KafkaInstance *inst, const char *topic, int count) {
  KafkaError err;
  KafkaProducer *p = kafka_instance_get_producer(inst, NULL, &err);
  for (int i = 0; p && i < count; i++) {
    char json[64];
    snprintf(json, sizeof json, "{\"seq\": %d, \"topic\": \"%s\"}", i, topic);
    kafka_producer_send_json(p, topic, NULL, json, &err);
  }
  if (!p || kafka_producer_close(p, 10000, &err) != KAFKA_OK) {
    fail("seeding", &err);
    exit(1);
  }
}

/* Releases the embedded broker, if one was started. */
static inline void example_done(void) { kafka_mock_cluster_free(example_embedded); }

#endif

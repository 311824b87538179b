/* quickstart: connect to KAFKA_BOOTSTRAP_SERVERS, or start the embedded
 * broker when it is not set; build a config from a URL; create the
 * instance every producer and consumer comes from; report what happened.
 *
 *   make -C examples-c run
 */
#include <stdio.h>
#include <stdlib.h>

#include "kafka_instance.h"

static int fail(const char *what, const KafkaError *err) {
  fprintf(stderr, "quickstart: %s failed: %s (%s)\n", what, err->message,
          kafka_error_code_name(err->code));
  return 1;
}

int main(void) {
  KafkaError err;
  KafkaMockCluster *embedded = NULL;
  const char *servers = getenv("KAFKA_BOOTSTRAP_SERVERS");

  printf("kafka_instance %s (librdkafka %s)\n", kafka_instance_version(),
         kafka_instance_librdkafka_version());

  if (servers == NULL || servers[0] == '\0') {
    embedded = kafka_mock_cluster_new(1, &err);
    if (embedded == NULL) return fail("starting the embedded broker", &err);
    servers = kafka_mock_cluster_bootstrap_servers(embedded);
    if (kafka_mock_cluster_create_topic(embedded, "orders", 3, 1, &err) != KAFKA_OK)
      return fail("creating topic orders", &err);
    printf("embedded broker listening on %s, topic \"orders\" with 3 partitions\n", servers);
  } else {
    printf("using the brokers at %s\n", servers);
  }

  char url[1024];
  snprintf(url, sizeof url, "kafka://%s", servers);
  KafkaConfig *config = kafka_config_new();
  if (kafka_config_set_kafka_url(config, url, &err) != KAFKA_OK) return fail("setting the URL", &err);
  if (kafka_config_set_client_id(config, "quickstart", &err) != KAFKA_OK) return fail("client id", &err);
  if (kafka_config_set_group_id(config, "quickstart-group", &err) != KAFKA_OK) return fail("group id", &err);
  if (kafka_config_set(config, "linger_ms", "5", &err) != KAFKA_OK) return fail("linger_ms", &err);

  char value[256];
  size_t len = 0;
  if (kafka_config_get(config, "bootstrap.servers", value, sizeof value, &len, &err) == KAFKA_ERR_NOT_FOUND)
    printf("config: kafka_url set; bootstrap servers come from it\n");
  if (kafka_config_get(config, "linger.ms", value, sizeof value, &len, &err) == KAFKA_OK)
    printf("config: linger_ms is linger.ms = %s\n", value);

  KafkaInstance *instance = kafka_instance_new(config, &err);
  kafka_config_free(config); /* the instance keeps its own copy */
  if (instance == NULL) return fail("creating the instance", &err);
  printf("instance ready\n");

  kafka_instance_free(instance);
  kafka_mock_cluster_free(embedded);
  printf("quickstart: done\n");
  return 0;
}

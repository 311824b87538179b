/* Config, instance, errors, logging callback and the embedded broker,
 * through the header, as a C program uses them. Exits non-zero on the
 * first failed check. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kafka_instance.h"
#include "check.h"


struct log_counts {
  int errors;
  int infos;
  int last_level;
  char last_controller[128];
  char last_subject[64];
};

static void on_log(const KafkaLogRecord *record, void *opaque) {
  struct log_counts *counts = opaque;
  if (record->level == KAFKA_LOG_ERROR) counts->errors++;
  if (record->level == KAFKA_LOG_INFO) counts->infos++;
  counts->last_level = record->level;
  snprintf(counts->last_controller, sizeof counts->last_controller, "%s", record->controller);
  snprintf(counts->last_subject, sizeof counts->last_subject, "%s", record->subject);
}

int main(void) {
  KafkaError err;

  /* With no callback installed, this failure goes to stderr as one JSON
   * line (the test harness checks it). */
  KafkaConfig *probe = kafka_config_new();
  kafka_config_set(probe, "default.sink.probe", "1", NULL);
  kafka_config_free(probe);

  struct log_counts counts;
  memset(&counts, 0, sizeof counts);
  kafka_set_log_callback(on_log, &counts, KAFKA_LOG_DEBUG);

  printf("kafka_instance %s on librdkafka %s\n", kafka_instance_version(),
         kafka_instance_librdkafka_version());
  CHECK(strcmp(kafka_error_code_name(KAFKA_ERR_TIMEOUT), "KAFKA_ERR_TIMEOUT") == 0, "code name");
  CHECK(strcmp(kafka_error_code_name((KafkaErrorCode)42), "KAFKA_ERR_UNKNOWN") == 0, "unknown code");

  /* The embedded broker. */
  KafkaMockCluster *mc = kafka_mock_cluster_new(3, &err);
  CHECK(mc != NULL, "mock cluster: %s", err.message);
  if (!mc) return 1;
  const char *servers = kafka_mock_cluster_bootstrap_servers(mc);
  CHECK(strncmp(servers, "127.0.0.1:", 10) == 0, "bootstrap %s", servers);
  CHECK(counts.infos >= 1, "mock cluster start logged at info");
  CHECK(kafka_mock_cluster_create_topic(mc, "orders", 3, 3, &err) == KAFKA_OK, "topic: %s", err.message);
  CHECK(kafka_mock_cluster_create_topic(mc, "", 3, 1, &err) == KAFKA_ERR_INVALID_ARGUMENT, "empty topic");
  CHECK(kafka_mock_cluster_broker_down(mc, 2, &err) == KAFKA_OK, "down: %s", err.message);
  CHECK(kafka_mock_cluster_broker_up(mc, 2, &err) == KAFKA_OK, "up: %s", err.message);
  CHECK(kafka_mock_cluster_broker_down(mc, 9, &err) == KAFKA_ERR_INVALID_ARGUMENT, "no broker 9");

  /* A config from a URL with percent-encoded credentials. */
  KafkaConfig *cfg = kafka_config_new();
  char url[512];
  snprintf(url, sizeof url, "kafka://app%%40corp:p%%40ss@%s", servers);
  CHECK(kafka_config_set_kafka_url(cfg, url, &err) == KAFKA_OK, "url: %s", err.message);
  CHECK(kafka_config_set_client_id(cfg, "c-foundation", &err) == KAFKA_OK, "client id");
  CHECK(kafka_config_set(cfg, "linger_ms", "5", &err) == KAFKA_OK, "linger_ms: %s", err.message);
  CHECK(kafka_config_set(cfg, "compression_type", "zstd", &err) == KAFKA_OK, "zstd: %s", err.message);

  /* Unknown keys and refused values fail at set time, naming the key. */
  counts.errors = 0;
  CHECK(kafka_config_set(cfg, "lingerz_ms", "5", &err) == KAFKA_ERR_CONFIG, "unknown key");
  CHECK(strstr(err.message, "lingerz_ms") != NULL, "message names the key: %s", err.message);
  CHECK(counts.errors == 1, "the failure was logged once (%d)", counts.errors);
  CHECK(strcmp(counts.last_controller, "kafka_instance.config.set") == 0, "controller %s", counts.last_controller);
  CHECK(strcmp(counts.last_subject, "Kafka Config") == 0, "subject %s", counts.last_subject);
  CHECK(kafka_config_set(cfg, "acks", "most", &err) == KAFKA_ERR_CONFIG, "bad acks");
  CHECK(kafka_config_set_security_protocol(cfg, "TLS", &err) == KAFKA_ERR_CONFIG, "bad protocol");
  CHECK(kafka_config_set(cfg, NULL, "1", &err) == KAFKA_ERR_INVALID_ARGUMENT, "NULL key");

  /* get: under the set name, the canonical name, with size queries. */
  char buf[64];
  size_t len = 0;
  CHECK(kafka_config_get(cfg, "linger.ms", buf, sizeof buf, &len, &err) == KAFKA_OK, "get");
  CHECK(strcmp(buf, "5") == 0 && len == 1, "linger.ms = %s", buf);
  CHECK(kafka_config_get(cfg, "client_id", NULL, 0, &len, &err) == KAFKA_ERR_BUFFER_TOO_SMALL, "size query");
  CHECK(len == strlen("c-foundation"), "length %zu", len);
  CHECK(kafka_config_get(cfg, "group_id", buf, sizeof buf, &len, &err) == KAFKA_ERR_NOT_FOUND, "unset");

  /* Instances. */
  KafkaInstance *inst = kafka_instance_new(cfg, &err);
  CHECK(inst != NULL, "instance: %s", err.message);
  KafkaConfig *empty = kafka_config_new();
  CHECK(kafka_instance_new(empty, &err) == NULL && err.code == KAFKA_ERR_CONFIG, "no brokers");
  CHECK(kafka_instance_new(NULL, &err) == NULL && err.code == KAFKA_ERR_INVALID_ARGUMENT, "NULL cfg");

  /* Cleanup, including NULL frees. */
  kafka_instance_free(inst);
  kafka_config_free(empty);
  kafka_config_free(cfg);
  kafka_mock_cluster_free(mc);
  kafka_instance_free(NULL);
  kafka_config_free(NULL);
  kafka_mock_cluster_free(NULL);
  kafka_set_log_callback(NULL, NULL, KAFKA_LOG_WARNING);

  FINISH("foundation");
}

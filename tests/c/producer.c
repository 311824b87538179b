/* The producer through the header: JSON and raw sends, acknowledged sends,
 * delivery callbacks, bad input, a broker outage, flush, close and the
 * scoped producer, against the embedded broker. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "kafka_instance.h"
#include "check.h"


struct tally {
  int ok;
  int failed;
  int64_t last_offset;
};

static void on_delivery(const KafkaDeliveryReport *report, void *opaque) {
  struct tally *t = opaque;
  if (report->code == KAFKA_OK) {
    t->ok++;
    t->last_offset = report->offset;
  } else {
    t->failed++;
  }
}

static int scope_sends(KafkaProducer *p, void *opaque) {
  const char *topic = opaque;
  for (int i = 0; i < 5; i++) {
    char json[64];
    snprintf(json, sizeof json, "{\"event_id\": %d, \"type\": \"click\"}", i);
    if (kafka_producer_send_json(p, topic, NULL, json, NULL) != KAFKA_OK) return 1;
  }
  return 0;
}

int main(void) {
  KafkaError err;
  KafkaMockCluster *mc = kafka_mock_cluster_new(1, &err);
  CHECK(mc != NULL, "mock: %s", err.message);
  if (!mc) return 1;
  kafka_mock_cluster_create_topic(mc, "orders", 3, 1, &err);

  KafkaConfig *cfg = kafka_config_new();
  const char *servers[] = {kafka_mock_cluster_bootstrap_servers(mc)};
  kafka_config_set_bootstrap_servers(cfg, servers, 1, &err);
  KafkaInstance *inst = kafka_instance_new(cfg, &err);
  CHECK(inst != NULL, "instance: %s", err.message);

  KafkaConfig *reliable = kafka_config_new();
  kafka_config_set(reliable, "acks", "all", &err);
  kafka_config_set(reliable, "retries", "5", &err);
  kafka_config_set(reliable, "max_in_flight_requests_per_connection", "1", &err);
  kafka_config_set(reliable, "compression_type", "zstd", &err);
  kafka_config_set(reliable, "linger_ms", "10", &err);
  kafka_config_set(reliable, "batch_size", "32768", &err);
  KafkaProducer *p = kafka_instance_get_producer(inst, reliable, &err);
  CHECK(p != NULL, "producer: %s", err.message);
  kafka_instance_free(inst); /* the producer outlives it */
  inst = kafka_instance_new(cfg, &err);

  /* Acknowledged JSON send. */
  KafkaDeliveryReport report;
  CHECK(kafka_producer_send_json_sync(p, "orders", "order-1", "{\"order_id\": 1, \"amount\": 99.99}",
                                      10000, &report, &err) == KAFKA_OK, "sync: %s", err.message);
  CHECK(report.code == KAFKA_OK && report.offset == 0 && report.partition >= 0,
        "report %d/%d", report.partition, (int)report.offset);
  CHECK(strcmp(report.topic, "orders") == 0, "topic %s", report.topic);

  /* Raw records with callbacks: binary key, headers, explicit partition. */
  struct tally t = {0, 0, -1};
  unsigned char key[] = {0, 1, 2};
  KafkaHeader headers[] = {{"trace-id", "abc", 3}};
  for (int i = 0; i < 10; i++) {
    KafkaRecord r;
    memset(&r, 0, sizeof r);
    r.topic = "orders";
    r.key = key;
    r.key_len = sizeof key;
    r.value = "raw";
    r.value_len = 3;
    r.headers = headers;
    r.header_count = 1;
    r.has_partition = true;
    r.partition = 2;
    CHECK(kafka_producer_send(p, &r, on_delivery, &t, &err) == KAFKA_OK, "send: %s", err.message);
  }
  size_t remaining = 99;
  CHECK(kafka_producer_flush(p, 10000, &remaining, &err) == KAFKA_OK, "flush: %s", err.message);
  CHECK(remaining == 0 && t.ok == 10 && t.failed == 0, "ok %d failed %d", t.ok, t.failed);
  CHECK(t.last_offset == 9, "offset %d", (int)t.last_offset);

  /* Bad input: nothing queued. */
  CHECK(kafka_producer_send_json(p, "orders", NULL, "{\"a\": }", &err) == KAFKA_ERR_SERIALIZATION, "bad json");
  CHECK(strstr(err.message, "column") != NULL, "where it broke: %s", err.message);
  CHECK(kafka_producer_send_json(p, "", NULL, "{}", &err) == KAFKA_ERR_INVALID_ARGUMENT, "empty topic");
  CHECK(kafka_producer_send_json(p, NULL, NULL, "{}", &err) == KAFKA_ERR_INVALID_ARGUMENT, "NULL topic");
  CHECK(kafka_producer_in_flight(p) == 0, "nothing queued");

  /* Broker down: the acknowledged send times out, then everything is
   * delivered once the broker is back. */
  kafka_mock_cluster_broker_down(mc, 1, &err);
  CHECK(kafka_producer_send_json_sync(p, "orders", "k", "{\"during\": \"outage\"}", 800, NULL, &err) ==
            KAFKA_ERR_TIMEOUT, "timeout: %s", kafka_error_code_name(err.code));
  CHECK(err.retriable || err.code == KAFKA_ERR_TIMEOUT, "timeout");
  kafka_mock_cluster_broker_up(mc, 1, &err);
  CHECK(kafka_producer_flush(p, 20000, &remaining, &err) == KAFKA_OK, "flush after outage: %s", err.message);
  CHECK(kafka_producer_close(p, 10000, &err) == KAFKA_OK, "close: %s", err.message);

  /* The scoped producer: flushed and closed whatever the scope returns. */
  CHECK(kafka_instance_with_producer(inst, NULL, scope_sends, "orders", &err) == KAFKA_OK, "scope: %s",
        err.message);

  kafka_config_free(reliable);
  kafka_config_free(cfg);
  kafka_instance_free(inst);
  kafka_mock_cluster_free(mc);
  FINISH("producer");
}

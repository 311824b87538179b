/* A production configuration with SASL/SCRAM over TLS. It connects only
 * when KAFKA_SASL_BOOTSTRAP_SERVERS (and KAFKA_SASL_USERNAME /
 * KAFKA_SASL_PASSWORD) are given; otherwise it builds the configuration,
 * shows it (the password never appears) and checks it is complete. */
#include "example.h"

static void show(const KafkaConfig *config, const char *key) {
  char value[256];
  KafkaError err;
  if (kafka_config_get(config, key, value, sizeof value, NULL, &err) == KAFKA_OK) printf("  %s = %s\n", key, value);
}

int main(void) {
  KafkaError err;
  const char *servers = getenv("KAFKA_SASL_BOOTSTRAP_SERVERS");
  const char *user = getenv("KAFKA_SASL_USERNAME");
  const char *password = getenv("KAFKA_SASL_PASSWORD");
  KafkaConfig *config = kafka_config_new();
  const char *brokers[] = {servers ? servers : "prod-broker1:9093"};
  if (kafka_config_set_bootstrap_servers(config, brokers, 1, &err) ||
      kafka_config_set_security_protocol(config, "SASL_SSL", &err) ||
      kafka_config_set_sasl_mechanism(config, "SCRAM-SHA-256", &err) ||
      kafka_config_set_sasl_plain_username(config, user ? user : "app_user", &err) ||
      kafka_config_set_sasl_plain_password(config, password ? password : "secure_password", &err) ||
      kafka_config_set_client_id(config, "payment-service", &err))
    return fail("configuring", &err);
  /* The same in one line: kafka+sasl_ssl://app_user:secure_password@prod-broker1:9093 */
  printf("configuration:\n");
  show(config, "bootstrap_servers");
  show(config, "security_protocol");
  show(config, "sasl_mechanism");
  show(config, "sasl_plain_username");
  show(config, "sasl_plain_password"); /* prints *** */
  show(config, "client_id");

  KafkaInstance *kafka = kafka_instance_new(config, &err);
  if (!kafka) return fail("creating the instance", &err);
  if (servers) {
    KafkaConfig *reliable = kafka_config_new();
    kafka_config_set(reliable, "acks", "all", &err);
    KafkaProducer *producer = kafka_instance_get_producer(kafka, reliable, &err);
    if (!producer) return fail("creating the producer", &err);
    if (kafka_producer_send_json_sync(producer, "payments", NULL, "{\"payment_id\": \"PAY-123\", \"amount\": 500.00}",
                                      10000, NULL, &err) != KAFKA_OK)
      return fail("sending over SASL_SSL", &err);
    printf("sent over SASL_SSL\n");
    kafka_producer_close(producer, 10000, &err);
    kafka_config_free(reliable);
  } else {
    printf("no KAFKA_SASL_BOOTSTRAP_SERVERS: configuration checked, not connecting\n");
  }
  kafka_instance_free(kafka);
  kafka_config_free(config);
  return 0;
}

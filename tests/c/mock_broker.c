/* An embedded broker in its own process: starts a mock cluster, creates
 * the topic given as argv[1] with argv[2] partitions, prints the bootstrap
 * servers on one line, and runs until its standard input closes. Used by
 * tests that must not count the broker's memory as theirs. */
#include <stdio.h>
#include <stdlib.h>

#include "kafka_instance.h"

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: mock_broker TOPIC PARTITIONS\n");
    return 2;
  }
  KafkaError err;
  KafkaMockCluster *mc = kafka_mock_cluster_new(1, &err);
  if (!mc || kafka_mock_cluster_create_topic(mc, argv[1], atoi(argv[2]), 1, &err) != KAFKA_OK) {
    fprintf(stderr, "mock_broker: %s\n", err.message);
    return 1;
  }
  printf("%s\n", kafka_mock_cluster_bootstrap_servers(mc));
  fflush(stdout);
  while (getchar() != EOF) {
  }
  kafka_mock_cluster_free(mc);
  return 0;
}

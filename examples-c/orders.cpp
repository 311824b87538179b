// orders: the C++ layer in a few lines. Produces three orders and reads
// them back through a handler; against KAFKA_BOOTSTRAP_SERVERS when set,
// otherwise the embedded broker.
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>

#include "kafka_instance.hpp"

int main() try {
  std::unique_ptr<kafka::MockCluster> embedded;
  const char *env = std::getenv("KAFKA_BOOTSTRAP_SERVERS");
  std::string servers = env && *env ? env : "";
  if (servers.empty()) {
    embedded = std::make_unique<kafka::MockCluster>(1);
    servers = embedded->bootstrap_servers();
  }
  std::string topic = "cpp-orders-" + std::to_string(std::chrono::system_clock::now().time_since_epoch().count());
  kafka::Instance kafka(kafka::Config()
                            .kafka_url("kafka://" + servers)
                            .group_id(topic + "-group")
                            .auto_offset_reset("earliest"));
  if (embedded) embedded->create_topic(topic, 1); else kafka.create_topic(topic, 1);

  kafka.with_producer([&](kafka::Producer &p) {
    for (int i = 1; i <= 3; i++) p.send_json(topic, "{\"order_id\": " + std::to_string(i) + "}");
  });

  int seen = 0;
  kafka.with_consumer({topic}, [&](kafka::Consumer &c) {
    c.on(topic, [&](const kafka::MessageView &m) {
      std::cout << "order at offset " << m.offset() << ": " << m.value() << "\n";
      seen++;
    });
    for (int round = 0; round < 60 && seen < 3; round++) c.consume(500);
  });
  std::cout << (seen == 3 ? "orders: ok\n" : "orders: FAILED\n");
  return seen == 3 ? 0 : 1;
} catch (const kafka::Error &e) {
  std::cerr << "orders: " << e.name() << ": " << e.what() << "\n";
  return 1;
}

// The C++ layer's operations: statistics and OAUTHBEARER callbacks as
// std::function (kept alive by the clients, not the Config), cluster and
// group descriptions, group lag; against the embedded broker.
#include <atomic>
#include <chrono>
#include <iostream>
#include <mutex>
#include <string>
#include <thread>

#include "kafka_instance.hpp"

static int failures = 0;
#define CHECK(cond, what)                                                          \
  do {                                                                             \
    if (!(cond)) {                                                                 \
      std::cerr << "FAIL " << __FILE__ << ":" << __LINE__ << ": " << what << "\n"; \
      failures++;                                                                  \
    }                                                                              \
  } while (0)

int main() {
  kafka::MockCluster mc(3);
  mc.create_topic("ops", 2, 3);
  std::atomic<long long> sent{-1};
  std::atomic<int> reports{0};
  std::optional<kafka::Instance> kafka;
  {
    // The Config goes out of scope: its callbacks must live on.
    kafka::Config config;
    config.bootstrap_servers({mc.bootstrap_servers()})
        .group_id("ops-group")
        .auto_offset_reset("earliest")
        .statistics_callback(100, [&](std::string_view json, const KafkaStatistics *s) {
          reports++;
          if (s && std::string_view(s->client_type) == "producer") sent = s->messages_sent;
          if (json.empty()) throw std::runtime_error("swallowed, never unwinds into the library");
        });
    kafka.emplace(config);
  }
  {
    auto p = kafka->producer();
    for (int i = 0; i < 25; i++) p.send_json("ops", "{\"n\": " + std::to_string(i) + "}", "k" + std::to_string(i));
    p.flush(10000);
    for (int i = 0; i < 100 && sent.load() != 25; i++) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    CHECK(sent.load() == 25, "the producer's statistics count 25 sent, got " << sent.load());
  }

  auto cluster = kafka->describe_cluster();
  CHECK(cluster.brokers().size() == 3, "three brokers");
  CHECK(cluster.partitions().size() == 2, "two partitions of ops");
  for (const auto &p : cluster.partitions()) CHECK(p.replica_count == 3, "three replicas");
  CHECK(kafka->describe_topic("ops").partitions().size() == 2, "describe_topic");

  {
    auto c = kafka->consumer({"ops"});
    int got = 0;
    for (int i = 0; i < 200 && got < 10; i++)
      if (c.poll(100)) got++;
    c.commit();
    kafka::PartitionList parts{{"ops", 0, 0}, {"ops", 1, 0}};
    auto lag = kafka->group_lag("ops-group", &parts);
    long long total = 0, committed = 0;
    for (size_t i = 0; i < lag.size(); i++) {
      total += lag[i].lag;
      if (lag[i].committed >= 0) committed += lag[i].committed;
    }
    CHECK(lag.size() == 2, "lag of two partitions");
    CHECK(committed == got && total == 25 - got, "lag " << total << ", committed " << committed << ", read " << got);
    bool refused = false;
    try {
      kafka->group_lag("", &parts);
    } catch (const kafka::Error &e) {
      refused = e.code() == KAFKA_ERR_INVALID_ARGUMENT;
    }
    CHECK(refused, "an empty group name is refused");
  }

  // OAUTHBEARER: the callback is asked (no poll), and its exception is the
  // client's authentication failure.
  {
    std::atomic<int> asked{0};
    kafka::Instance oauth(kafka::Config()
                              .bootstrap_servers({mc.bootstrap_servers()})
                              .security_protocol("SASL_PLAINTEXT")
                              .sasl_mechanism("OAUTHBEARER")
                              .oauthbearer_token_callback([&](std::optional<std::string_view>) -> kafka::OAuthToken {
                                asked++;
                                throw std::runtime_error("no vault today");
                              }));
    auto p = oauth.producer();
    KafkaErrorCode code = KAFKA_OK;
    int32_t rdkafka_code = 0;
    std::string message;
    try {
      p.send_json_sync("ops", "{}", std::nullopt, 5000);
    } catch (const kafka::Error &e) {
      code = e.code();
      rdkafka_code = e.rdkafka_code();
      message = e.what();
    }
    CHECK(asked.load() >= 1, "the token callback was asked");
    CHECK(code == KAFKA_ERR_BROKER && rdkafka_code == -169, "an authentication failure: " << message);
    CHECK(message.find("no vault today") != std::string::npos, message);
  }
  kafka.reset();
  if (failures) {
    std::cerr << failures << " check(s) failed\n";
    return 1;
  }
  std::cout << "operations: all checks passed (" << reports.load() << " statistics reports)\n";
  return 0;
}

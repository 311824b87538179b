// The C++ layer: owners, exceptions, scopes, handlers and callbacks,
// against the embedded broker.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "kafka_instance.hpp"

static int failures = 0;
#define CHECK(cond, what)                                                     \
  do {                                                                        \
    if (!(cond)) {                                                            \
      std::cerr << "FAIL " << __FILE__ << ":" << __LINE__ << ": " << what << "\n"; \
      failures++;                                                             \
    }                                                                         \
  } while (0)

template <typename F>
static bool throws_code(F &&f, KafkaErrorCode code) {
  try {
    f();
  } catch (const kafka::Error &e) {
    return e.code() == code;
  }
  return false;
}

int main() {
  kafka::MockCluster cluster(1);
  cluster.create_topic("orders", 3);
  cluster.create_topic("payments", 1);
  cluster.create_topic("ledger", 1);

  kafka::Config config;
  config.bootstrap_servers({cluster.bootstrap_servers()})
      .client_id("cpp-test")
      .group_id("cpp-group")
      .auto_offset_reset("earliest")
      .enable_auto_commit(false)
      .set("session_timeout_ms", "6000");
  CHECK(config.get("client.id") == std::optional<std::string>("cpp-test"), "get under the canonical name");
  CHECK(!config.get("transactional_id").has_value(), "unset is nullopt");
  CHECK(throws_code([&] { config.set("no.such.key", "1"); }, KAFKA_ERR_CONFIG), "unknown key throws");
  kafka::Config copy = config;  // deep copy
  copy.client_id("other");
  CHECK(config.get("client_id") == std::optional<std::string>("cpp-test"), "copies are independent");

  CHECK(throws_code([] { kafka::Instance none{kafka::Config()}; }, KAFKA_ERR_CONFIG), "no brokers throws");
  kafka::Instance kafka(config);

  // Produce: JSON sync, JSON async, records with a callback.
  std::atomic<int> delivered{0};
  {
    kafka::Producer producer = kafka.producer(kafka::Config().set("linger_ms", "5"));
    kafka::Delivery d = producer.send_json_sync("orders", R"({"order_id": 1})", std::string("alice"));
    CHECK(d.ok() && d.offset >= 0 && d.topic == "orders", "sync delivery");
    CHECK(throws_code([&] { producer.send_json("orders", "{not json"); }, KAFKA_ERR_SERIALIZATION),
          "invalid JSON throws");
    CHECK(throws_code([&] { producer.send_json("", "{}"); }, KAFKA_ERR_INVALID_ARGUMENT), "empty topic throws");
    for (int i = 2; i <= 4; i++) producer.send_json("orders", "{\"order_id\": " + std::to_string(i) + "}", "bob");
    kafka::Record r;
    r.topic = "payments";
    r.key = std::string("k\0ey", 4);
    r.value = std::string(R"({"paid": true})");
    r.headers = {{"trace", "t-1"}};
    producer.send(r, [&](const kafka::Delivery &d) {
      if (d.ok()) delivered++;
    });
    producer.send(r, [](const kafka::Delivery &) { throw std::runtime_error("swallowed"); });
    kafka::Producer moved = std::move(producer);  // the moved-from one owns nothing
    moved.flush();
    CHECK(moved.in_flight() == 0, "flushed");
  }  // the destructor closes it
  CHECK(delivered == 1, "one callback per record");

  // The producer scope.
  kafka.with_producer([](kafka::Producer &p) { p.send_json("payments", R"({"paid": false})"); });

  // Consume with handlers; a throwing handler is a logged failure.
  std::vector<std::string> seen;
  {
    kafka::Consumer consumer = kafka.consumer({"orders", "payments"});
    consumer.on("orders", [&](const kafka::MessageView &m) { seen.push_back(std::string(m.value())); })
        .on("orders", [](const kafka::MessageView &m) {
          if (m.value().find("\"order_id\": 3") != std::string_view::npos) throw std::runtime_error("bad order");
        })
        .on("payments", [&](const kafka::MessageView &m) {
          CHECK(m.header_count() <= 1, "headers");
          seen.push_back("payment");
        });
    auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    size_t total = 0;
    while (total < 7 && std::chrono::steady_clock::now() < give_up) total += consumer.consume(500);
    CHECK(total == 7, "7 messages consumed, got " << total);
  }
  CHECK(seen.size() == 7, "handlers saw every message");

  // poll / poll_batch / commit, and messages outliving their consumer.
  kafka.producer().send_json_sync("payments", R"({"late": true})");
  std::optional<kafka::Message> kept;
  {
    kafka::Consumer consumer = kafka.consumer({"payments"}, kafka::Config().group_id("cpp-poll"));
    auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    std::vector<kafka::Message> batch;
    while (batch.empty() && std::chrono::steady_clock::now() < give_up) batch = consumer.poll_batch(10, 500);
    CHECK(!batch.empty(), "a batch");
    if (!batch.empty()) {
      consumer.commit(batch.back());
      kept = std::move(batch.front());
    }
    consumer.commit();
    consumer.close();
  }
  CHECK(kept && kept->topic() == "payments" && kept->offset() == 0, "the message outlives its consumer");
  CHECK(kept && kept->key().has_value() && kept->key()->size() == 4, "binary key");
  CHECK(kept && kept->header(0) && kept->header(0)->first == "trace", "header");

  // Calling back in from a handler: store works, close throws
  // KAFKA_ERR_STATE and leaves the consumer open; wakeup from a thread.
  {
    kafka::Consumer consumer = kafka.consumer({"payments"}, kafka::Config().group_id("cpp-reentrant"));
    bool refused = false, stored = false;
    consumer.on("payments", [&](const kafka::MessageView &m) {
      consumer.store(m);
      stored = true;
      refused = throws_code([&] { consumer.close(); }, KAFKA_ERR_STATE);
    });
    auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!stored && std::chrono::steady_clock::now() < give_up) consumer.consume(500);
    CHECK(stored && refused, "store in a handler works, close in a handler throws KAFKA_ERR_STATE");
    while (consumer.poll(500)) {
    }  // nothing left: the next poll(-1) blocks
    std::thread waker([&] {
      std::this_thread::sleep_for(std::chrono::milliseconds(300));
      consumer.wakeup();
    });
    CHECK(throws_code([&] { consumer.poll(-1); }, KAFKA_ERR_WAKEUP), "a woken poll(-1) throws KAFKA_ERR_WAKEUP");
    waker.join();
    consumer.close();  // still open after the refused close
    CHECK(consumer.raw() == nullptr, "closed");
  }

  // Consumer control: a rebalance handler, manual assignment, seek, lag,
  // an explicit commit, pause and resume, with RAII partition lists.
  {
    kafka::Consumer consumer = kafka.consumer({"orders"}, kafka::Config().group_id("cpp-control"));
    std::vector<KafkaRebalanceEvent> events;
    size_t assigned = 0;
    consumer.on_rebalance([&](KafkaRebalanceEvent event, const kafka::PartitionListView &partitions) {
      events.push_back(event);
      if (event == KAFKA_REBALANCE_ASSIGNED) assigned += partitions.size();
    });
    auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (assigned == 0 && std::chrono::steady_clock::now() < give_up) consumer.poll(200);
    CHECK(assigned == 3, "the rebalance handler saw 3 partitions assigned, saw " << assigned);
    CHECK(consumer.assignment().size() == 3, "assignment()");
    CHECK(consumer.subscription().size() == 1 && std::string_view(consumer.subscription()[0].topic) == "orders",
          "subscription()");
    consumer.close();
  }
  {
    // Manual assignment, on a consumer made for it (its subscription left
    // before it joined).
    kafka::Consumer consumer = kafka.consumer({"payments"}, kafka::Config().group_id("cpp-manual"));
    consumer.unsubscribe();
    consumer.assign(kafka::PartitionList{{"payments", 0, KAFKA_OFFSET_BEGINNING}});
    std::optional<kafka::Message> first;
    auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (!first && std::chrono::steady_clock::now() < give_up) first = consumer.poll(200);
    CHECK(first && first->offset() == 0, "assigned from the beginning");
    consumer.seek("payments", 0, 0);
    auto again = consumer.poll(5000);
    CHECK(again && again->offset() == 0, "seek back to 0");
    auto [low, high] = consumer.watermarks("payments", 0);
    CHECK(low == 0 && high >= 1, "watermarks");
    consumer.commit(kafka::PartitionList{{"payments", 0, 1}});
    // An asynchronous commit: its outcome comes from a later poll.
    int outcomes = 0;
    KafkaErrorCode outcome = KAFKA_ERR_INTERNAL;
    int64_t committed_at = -1;
    consumer.commit_async(kafka::PartitionList{{"payments", 0, 1}},
                          [&](const KafkaError &result, const kafka::PartitionListView &offsets) {
                            outcomes++;
                            outcome = result.code;
                            if (!offsets.empty()) committed_at = offsets[0].offset;
                          });
    CHECK(outcomes == 0, "commit_async returns before its outcome");
    give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (outcomes == 0 && std::chrono::steady_clock::now() < give_up) consumer.poll(100);
    CHECK(outcomes == 1 && outcome == KAFKA_OK && committed_at == 1, "commit_async's outcome, once");
    CHECK(throws_code([&] { consumer.commit_async(kafka::PartitionList(), [](const KafkaError &, const kafka::PartitionListView &) {}); },
                      KAFKA_ERR_INVALID_ARGUMENT),
          "an empty commit_async throws (and frees its handler)");
    kafka::PartitionList lag = consumer.lag();
    CHECK(lag.size() == 1 && lag[0].committed == 1 && lag[0].high_watermark == high, "lag");
    kafka::PartitionList paused{{"payments", 0, 0}};
    consumer.pause(paused);
    consumer.resume(paused);
    CHECK(throws_code([&] { consumer.assign(kafka::PartitionList()); }, KAFKA_ERR_INVALID_ARGUMENT),
          "an empty assignment throws");
    CHECK(throws_code([&] { kafka::PartitionList().add("orders", -1); }, KAFKA_ERR_INVALID_ARGUMENT),
          "a negative partition throws");
  }
  CHECK(kept && kept->header_last("trace").has_value() && !kept->header_last("absent"), "header by name");

  // Batches, a send that waits for room, and a transaction scope that
  // aborts unless committed.
  {
    kafka::Producer producer = kafka.producer(kafka::Config().set("transactional_id", "cpp-ledger"));
    producer.init_transactions();
    CHECK(!producer.fatal_error(), "no fatal error");
    try {
      kafka::Transaction txn(producer);
      producer.send_json("ledger", R"({"n": -1})");
      throw std::runtime_error("processing failed");
    } catch (const std::runtime_error &) {
      // The scope aborted the transaction.
    }
    std::atomic<int> batch_delivered{0};
    {
      kafka::Transaction txn(producer);
      std::vector<KafkaErrorCode> json = producer.send_json_batch("ledger", {R"({"n": 0})", "{not json", R"({"n": 1})"});
      CHECK(json.size() == 3 && json[0] == KAFKA_OK && json[1] == KAFKA_ERR_SERIALIZATION && json[2] == KAFKA_OK,
            "per-record JSON statuses");
      std::vector<kafka::Record> records(2);
      records[0].topic = "ledger";
      records[0].value = R"({"n": 2})";
      records[1].topic = "";
      std::vector<KafkaErrorCode> rs =
          producer.send_batch(records, [&](const kafka::Delivery &d) { batch_delivered += d.ok(); });
      CHECK(rs.size() == 2 && rs[0] == KAFKA_OK && rs[1] == KAFKA_ERR_INVALID_ARGUMENT, "per-record statuses");
      kafka::Record last;
      last.topic = "ledger";
      last.value = R"({"n": 3})";
      producer.send_wait(last, 1000);
      txn.commit();
    }
    CHECK(batch_delivered == 1, "one callback for the one queued record, saw " << batch_delivered);
    CHECK(throws_code([&] { producer.send_wait(kafka::Record{}, 10); }, KAFKA_ERR_INVALID_ARGUMENT),
          "a record without a topic throws");
  }

  if (failures) {
    std::cerr << failures << " check(s) failed\n";
    return 1;
  }
  std::cout << "raii: all checks passed\n";
  return 0;
}

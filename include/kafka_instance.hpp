// kafka_instance.hpp: a header-only C++17 layer over kafka_instance.h.
//
// Move-only owners for every handle, errors as kafka::Error exceptions,
// scopes that flush and close in destructors, handlers and delivery
// callbacks as std::function. Written by hand (kafka_instance.h is
// generated); every call goes through the C API.
//
//   kafka::Instance kafka(kafka::Config().kafka_url("kafka://localhost:9092").group_id("billing"));
//   kafka.producer().send_json_sync("orders", R"({"order_id": 1})", "alice");
//   auto consumer = kafka.consumer({"orders"});
//   consumer.on("orders", [](const kafka::MessageView &m) { std::cout << m.value() << "\n"; });
//   consumer.consume(5000);
//
// Exceptions thrown by a handler or a delivery callback never cross into
// the library: a handler's exception counts as a failed handler (logged by
// the library; the message still counts as done), a delivery callback's is
// swallowed. Handlers and callbacks may call back into the library, as in
// C (kafka_instance.h, KafkaHandler and KafkaDeliveryCallback).
#ifndef KAFKA_INSTANCE_HPP
#define KAFKA_INSTANCE_HPP

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <list>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "kafka_instance.h"

namespace kafka {

/// A failure reported by the library: the C API's KafkaError. `what()` is
/// its message; `name()` its code's name ("KAFKA_ERR_TIMEOUT").
class Error : public std::runtime_error {
 public:
  explicit Error(const KafkaError &e)
      : std::runtime_error(e.message),
        code_(e.code),
        rdkafka_code_(e.rdkafka_code),
        retriable_(e.retriable),
        fatal_(e.fatal),
        txn_requires_abort_(e.txn_requires_abort) {}

  KafkaErrorCode code() const noexcept { return code_; }
  const char *name() const noexcept { return kafka_error_code_name(code_); }
  int32_t rdkafka_code() const noexcept { return rdkafka_code_; }
  bool retriable() const noexcept { return retriable_; }
  bool fatal() const noexcept { return fatal_; }
  /// The transaction must be aborted; the producer goes on after.
  bool txn_requires_abort() const noexcept { return txn_requires_abort_; }

 private:
  KafkaErrorCode code_;
  int32_t rdkafka_code_;
  bool retriable_;
  bool fatal_;
  bool txn_requires_abort_;
};

namespace detail {

/// Calls a C function that takes a trailing KafkaError* and throws on
/// failure.
template <typename F>
auto call(F &&f) {
  KafkaError err{};
  auto result = f(&err);
  if (err.code != KAFKA_OK) throw Error(err);
  return result;
}

/// Marks a batch result the library has not written: no KafkaErrorCode
/// has this value.
constexpr KafkaErrorCode unwritten = static_cast<KafkaErrorCode>(-1);

/// Throws `err` when the batch call failed before it looked at the
/// records (one or more results left unwritten).
inline void check_written(const std::vector<KafkaErrorCode> &results, const KafkaError &err) {
  for (KafkaErrorCode r : results)
    if (r == unwritten) throw Error(err);
}

/// A token a Config's OAUTHBEARER callback returns.
struct OAuthTokenValue {
  std::string token;
  std::string principal;
  int64_t lifetime_ms = 0;  // when it expires, ms since the Unix epoch
};

/// The std::function callbacks of a Config, shared by its copies and kept
/// alive by the Instance and the clients made from it.
struct Hooks {
  std::function<void(std::string_view json, const KafkaStatistics *summary)> statistics;
  std::function<OAuthTokenValue(std::optional<std::string_view> oauthbearer_config)> oauth;

  static void on_statistics(const char *json, size_t len, const KafkaStatistics *summary, void *opaque) noexcept {
    try {
      static_cast<Hooks *>(opaque)->statistics(std::string_view(json, len), summary);
    } catch (...) {
      // Never let an exception unwind into the library's thread.
    }
  }

  static int on_oauth(const char *config, KafkaOAuthToken *out, void *opaque) noexcept {
    // Kept until the next call on this thread: the library copies them
    // when this returns.
    thread_local OAuthTokenValue value;
    thread_local std::string error;
    try {
      auto cfg = config ? std::optional<std::string_view>(config) : std::nullopt;
      value = static_cast<Hooks *>(opaque)->oauth(cfg);
      out->token = value.token.c_str();
      out->principal = value.principal.c_str();
      out->lifetime_ms = value.lifetime_ms;
      return 0;
    } catch (const std::exception &e) {
      error = e.what();
    } catch (...) {
      error = "the token callback threw";
    }
    out->error = error.c_str();
    return 1;
  }
};

/// Keeps both hooks (an instance's and a client's overrides') alive.
inline std::shared_ptr<const void> keep(std::shared_ptr<const void> a, std::shared_ptr<const void> b) {
  if (!b) return a;
  if (!a) return b;
  return std::make_shared<std::pair<std::shared_ptr<const void>, std::shared_ptr<const void>>>(a, b);
}

/// A C handle owned by a unique_ptr with its free function.
template <typename T, void (*Free)(T *)>
struct Deleter {
  void operator()(T *p) const noexcept { Free(p); }
};

}  // namespace detail

/// A configuration: chainable setters; not thread-safe.
class Config {
 public:
  Config() : cfg_(kafka_config_new()) {}
  Config(const Config &other) : cfg_(kafka_config_clone(other.cfg_.get())), hooks_(other.hooks_) {}
  Config &operator=(const Config &other) {
    if (this != &other) {
      cfg_.reset(kafka_config_clone(other.cfg_.get()));
      hooks_ = other.hooks_;
    }
    return *this;
  }
  Config(Config &&) noexcept = default;
  Config &operator=(Config &&) noexcept = default;

  Config &kafka_url(const std::string &url) {
    return apply([&](KafkaError *e) { return kafka_config_set_kafka_url(raw(), url.c_str(), e); });
  }
  Config &bootstrap_servers(const std::vector<std::string> &servers) {
    std::vector<const char *> list;
    for (const auto &s : servers) list.push_back(s.c_str());
    return apply([&](KafkaError *e) {
      return kafka_config_set_bootstrap_servers(raw(), list.data(), list.size(), e);
    });
  }
  Config &security_protocol(const std::string &v) {
    return apply([&](KafkaError *e) { return kafka_config_set_security_protocol(raw(), v.c_str(), e); });
  }
  Config &sasl_mechanism(const std::string &v) {
    return apply([&](KafkaError *e) { return kafka_config_set_sasl_mechanism(raw(), v.c_str(), e); });
  }
  Config &sasl_plain_username(const std::string &v) {
    return apply([&](KafkaError *e) { return kafka_config_set_sasl_plain_username(raw(), v.c_str(), e); });
  }
  Config &sasl_plain_password(const std::string &v) {
    return apply([&](KafkaError *e) { return kafka_config_set_sasl_plain_password(raw(), v.c_str(), e); });
  }
  Config &client_id(const std::string &v) {
    return apply([&](KafkaError *e) { return kafka_config_set_client_id(raw(), v.c_str(), e); });
  }
  Config &group_id(const std::string &v) {
    return apply([&](KafkaError *e) { return kafka_config_set_group_id(raw(), v.c_str(), e); });
  }
  Config &auto_offset_reset(const std::string &v) {
    return apply([&](KafkaError *e) { return kafka_config_set_auto_offset_reset(raw(), v.c_str(), e); });
  }
  Config &enable_auto_commit(bool v) {
    return apply([&](KafkaError *e) { return kafka_config_set_enable_auto_commit(raw(), v, e); });
  }
  /// Any setting by any name (librdkafka's or kafka-python's).
  Config &set(const std::string &key, const std::string &value) {
    return apply([&](KafkaError *e) { return kafka_config_set(raw(), key.c_str(), value.c_str(), e); });
  }

  /// A setting's value: std::nullopt when unset.
  std::optional<std::string> get(const std::string &key) const {
    KafkaError err{};
    size_t len = 0;
    KafkaErrorCode rc = kafka_config_get(cfg_.get(), key.c_str(), nullptr, 0, &len, &err);
    if (rc == KAFKA_ERR_NOT_FOUND) return std::nullopt;
    if (rc != KAFKA_ERR_BUFFER_TOO_SMALL) throw Error(err);
    std::string value(len + 1, '\0');
    detail::call([&](KafkaError *e) {
      return kafka_config_get(cfg_.get(), key.c_str(), value.data(), value.size(), &len, e);
    });
    value.resize(len);
    return value;
  }

  /// Clients made from this config call `cb` with librdkafka's statistics
  /// JSON and its figures every `interval_ms`, on a library thread (0
  /// turns it off). Exceptions it throws are swallowed.
  Config &statistics_callback(int32_t interval_ms,
                              std::function<void(std::string_view json, const KafkaStatistics *summary)> cb) {
    hooks().statistics = std::move(cb);
    return apply([&](KafkaError *e) {
      return kafka_set_statistics_callback(cfg_.get(), interval_ms,
                                           hooks_->statistics ? &detail::Hooks::on_statistics : nullptr,
                                           hooks_.get(), e);
    });
  }

  /// Clients made from this config get their SASL/OAUTHBEARER tokens from
  /// `cb`, called on a library thread at start and before each expires.
  /// Throwing reports the failure (its what()) to the client.
  Config &oauthbearer_token_callback(
      std::function<detail::OAuthTokenValue(std::optional<std::string_view> oauthbearer_config)> cb) {
    hooks().oauth = std::move(cb);
    return apply([&](KafkaError *e) {
      return kafka_config_set_oauthbearer_token_callback(
          cfg_.get(), hooks_->oauth ? &detail::Hooks::on_oauth : nullptr, hooks_.get(), e);
    });
  }

  KafkaConfig *raw() const noexcept { return cfg_.get(); }
  /// What keeps this config's callbacks alive (null without callbacks).
  std::shared_ptr<const void> keepalive() const noexcept { return hooks_; }

 private:
  template <typename F>
  Config &apply(F &&f) {
    detail::call(std::forward<F>(f));
    return *this;
  }
  detail::Hooks &hooks() {
    if (!hooks_) hooks_ = std::make_shared<detail::Hooks>();
    return *hooks_;
  }
  std::unique_ptr<KafkaConfig, detail::Deleter<KafkaConfig, kafka_config_free>> cfg_;
  std::shared_ptr<detail::Hooks> hooks_;
};

/// The token type a Config's OAUTHBEARER callback returns.
using OAuthToken = detail::OAuthTokenValue;

/// A borrowed view of a consumed message (what handlers receive).
class MessageView {
 public:
  explicit MessageView(const KafkaMessage *m) noexcept : m_(m) {}

  std::string_view topic() const { return kafka_message_topic(m_); }
  int32_t partition() const noexcept { return kafka_message_partition(m_); }
  int64_t offset() const noexcept { return kafka_message_offset(m_); }
  /// Milliseconds since the epoch, -1 if none.
  int64_t timestamp() const noexcept { return kafka_message_timestamp(m_); }
  /// std::nullopt when the message has no key.
  std::optional<std::string_view> key() const { return bytes(kafka_message_key); }
  /// The value; empty for a tombstone (see has_value).
  std::string_view value() const { return bytes(kafka_message_value).value_or(std::string_view()); }
  bool has_value() const { return bytes(kafka_message_value).has_value(); }
  size_t header_count() const noexcept { return kafka_message_header_count(m_); }
  /// The value of the last header named `name`: std::nullopt when there is
  /// none, an empty view for a header without a value.
  std::optional<std::string_view> header_last(const std::string &name) const {
    const void *v = nullptr;
    size_t len = 0;
    if (!kafka_message_header_last(m_, name.c_str(), &v, &len)) return std::nullopt;
    return std::string_view(static_cast<const char *>(v), v ? len : 0);
  }
  /// Header `i` as (name, value); the value is nullopt for a header without
  /// one. std::nullopt when `i` is out of range.
  std::optional<std::pair<std::string_view, std::optional<std::string_view>>> header(size_t i) const {
    const char *name = nullptr;
    const void *value = nullptr;
    size_t len = 0;
    if (!kafka_message_header(m_, i, &name, &value, &len)) return std::nullopt;
    std::optional<std::string_view> v;
    if (value) v = std::string_view(static_cast<const char *>(value), len);
    return std::make_pair(std::string_view(name), v);
  }
  const KafkaMessage *raw() const noexcept { return m_; }

 protected:
  template <typename F>
  std::optional<std::string_view> bytes(F f) const {
    size_t len = 0;
    const void *p = f(m_, &len);
    if (!p) return std::nullopt;
    return std::string_view(static_cast<const char *>(p), len);
  }
  const KafkaMessage *m_;
};

/// An owned message: freed when it goes out of scope; outlives its
/// consumer.
class Message : public MessageView {
 public:
  explicit Message(KafkaMessage *m) noexcept : MessageView(m) {}
  Message(Message &&other) noexcept : MessageView(other.m_) { other.m_ = nullptr; }
  Message &operator=(Message &&other) noexcept {
    if (this != &other) {
      kafka_message_free(const_cast<KafkaMessage *>(m_));
      m_ = other.m_;
      other.m_ = nullptr;
    }
    return *this;
  }
  Message(const Message &) = delete;
  Message &operator=(const Message &) = delete;
  ~Message() { kafka_message_free(const_cast<KafkaMessage *>(m_)); }
};

/// Where an acknowledged message went (or why it did not).
struct Delivery {
  KafkaErrorCode code;
  int32_t rdkafka_code;
  std::string topic;
  int32_t partition;
  int64_t offset;
  int64_t timestamp_ms;
  bool ok() const noexcept { return code == KAFKA_OK; }
};

/// A message for Producer::send: binary key and value, headers, partition
/// and timestamp are optional.
struct Record {
  std::string topic;
  std::optional<std::string> key;
  std::optional<std::string> value;  // nullopt: a tombstone
  std::vector<std::pair<std::string, std::string>> headers;
  std::optional<int32_t> partition;
  int64_t timestamp_ms = 0;  // 0: now
};

/// A producer: safe to share between threads. Its destructor flushes (up to
/// 10 s) and closes it.
class Producer {
 public:
  using Callback = std::function<void(const Delivery &)>;

  /// `keep`: what keeps the config's callbacks alive while `p` lives.
  explicit Producer(KafkaProducer *p, std::shared_ptr<const void> keep = nullptr) noexcept
      : p_(p), keep_(std::move(keep)) {}
  Producer(Producer &&other) noexcept : p_(std::exchange(other.p_, nullptr)), keep_(std::move(other.keep_)) {}
  Producer &operator=(Producer &&other) noexcept {
    if (this != &other) {
      kafka_producer_close(p_, 10000, nullptr);
      p_ = std::exchange(other.p_, nullptr);
      keep_ = std::move(other.keep_);
    }
    return *this;
  }
  Producer(const Producer &) = delete;
  Producer &operator=(const Producer &) = delete;
  ~Producer() { kafka_producer_close(p_, 10000, nullptr); }

  /// Queues a JSON value (checked: kafka::Error with KAFKA_ERR_SERIALIZATION
  /// when it is not JSON).
  void send_json(const std::string &topic, const std::string &json,
                 const std::optional<std::string> &key = std::nullopt) {
    detail::call([&](KafkaError *e) {
      return kafka_producer_send_json(p_, topic.c_str(), key ? key->c_str() : nullptr, json.c_str(), e);
    });
  }

  /// Sends a JSON value and waits for the broker's acknowledgement (10 s
  /// by default).
  Delivery send_json_sync(const std::string &topic, const std::string &json,
                          const std::optional<std::string> &key = std::nullopt, int32_t timeout_ms = 10000) {
    KafkaDeliveryReport r{};
    detail::call([&](KafkaError *e) {
      return kafka_producer_send_json_sync(p_, topic.c_str(), key ? key->c_str() : nullptr, json.c_str(), timeout_ms,
                                           &r, e);
    });
    return Delivery{r.code, r.rdkafka_code, topic, r.partition, r.offset, r.timestamp_ms};
  }

  /// Queues a record; `on_delivery` (optional) runs once with its outcome,
  /// on the producer's thread.
  void send(const Record &record, Callback on_delivery = nullptr) {
    std::vector<KafkaHeader> headers;
    KafkaRecord r = c_record(record, headers);
    if (!on_delivery) {
      detail::call([&](KafkaError *e) { return kafka_producer_send(p_, &r, nullptr, nullptr, e); });
      return;
    }
    auto owned = std::make_unique<Callback>(std::move(on_delivery));
    detail::call([&](KafkaError *e) { return kafka_producer_send(p_, &r, &Producer::deliver, owned.get(), e); });
    owned.release();  // deliver() deletes it, exactly once
  }

  /// Queues JSON values to one topic in one call. Returns each record's
  /// status (KAFKA_OK: queued); a refused record (not JSON, or an invalid
  /// topic, which refuses them all) queues nothing. Throws only when the
  /// call itself fails (a producer already closed).
  std::vector<KafkaErrorCode> send_json_batch(const std::string &topic, const std::vector<std::string> &values,
                                              const std::vector<std::optional<std::string>> &keys = {}) {
    std::vector<const char *> vs, ks;
    for (const auto &v : values) vs.push_back(v.c_str());
    for (const auto &k : keys) ks.push_back(k ? k->c_str() : nullptr);
    if (!keys.empty() && keys.size() != values.size()) throw std::invalid_argument("kafka::send_json_batch: keys");
    std::vector<KafkaErrorCode> results(values.size(), detail::unwritten);
    KafkaError err{};
    kafka_producer_send_json_batch(p_, topic.c_str(), ks.empty() ? nullptr : ks.data(), vs.data(), vs.size(),
                                   nullptr, nullptr, results.data(), &err);
    detail::check_written(results, err);
    return results;
  }

  /// Queues records in one call; `on_delivery` (optional) runs once per
  /// queued record. Returns each record's status, as send_json_batch.
  std::vector<KafkaErrorCode> send_batch(const std::vector<Record> &records, Callback on_delivery = nullptr) {
    if (records.empty()) return {};
    std::vector<std::vector<KafkaHeader>> headers(records.size());
    std::vector<KafkaRecord> rs(records.size());
    for (size_t i = 0; i < records.size(); i++) rs[i] = c_record(records[i], headers[i]);
    std::vector<KafkaErrorCode> results(records.size(), detail::unwritten);
    KafkaError err{};
    if (!on_delivery) {
      kafka_producer_send_batch(p_, rs.data(), rs.size(), nullptr, nullptr, results.data(), &err);
    } else {
      // One callback shared by the queued records, freed after the last.
      auto *shared = new SharedCallback{std::move(on_delivery), records.size()};
      std::vector<void *> opaques(records.size(), shared);
      kafka_producer_send_batch(p_, rs.data(), rs.size(), &Producer::deliver_shared, opaques.data(), results.data(),
                                &err);
      size_t refused = 0;
      for (KafkaErrorCode r : results) refused += r != KAFKA_OK;
      if (refused && shared->left.fetch_sub(refused) == refused) delete shared;
    }
    detail::check_written(results, err);
    return results;
  }

  /// Like send, but waits up to `timeout_ms` for room when the local queue
  /// is full (kafka::Error KAFKA_ERR_TIMEOUT when none came).
  void send_wait(const Record &record, int32_t timeout_ms, Callback on_delivery = nullptr) {
    std::vector<KafkaHeader> headers;
    KafkaRecord r = c_record(record, headers);
    std::unique_ptr<Callback> owned = on_delivery ? std::make_unique<Callback>(std::move(on_delivery)) : nullptr;
    detail::call([&](KafkaError *e) {
      return kafka_producer_send_wait(p_, &r, owned ? &Producer::deliver : nullptr, owned.get(), timeout_ms, e);
    });
    owned.release();  // deliver() deletes it, exactly once
  }

  /// Transactions (see kafka_producer_init_transactions); kafka::Transaction
  /// is the scope that aborts unless committed.
  void init_transactions(int32_t timeout_ms = 60000) {
    detail::call([&](KafkaError *e) { return kafka_producer_init_transactions(p_, timeout_ms, e); });
  }
  void begin_transaction() {
    detail::call([&](KafkaError *e) { return kafka_producer_begin_transaction(p_, e); });
  }
  void commit_transaction(int32_t timeout_ms = 60000) {
    detail::call([&](KafkaError *e) { return kafka_producer_commit_transaction(p_, timeout_ms, e); });
  }
  void abort_transaction(int32_t timeout_ms = 60000) {
    detail::call([&](KafkaError *e) { return kafka_producer_abort_transaction(p_, timeout_ms, e); });
  }
  /// The consumer's positions (or `offsets`) into the transaction.
  void send_offsets_to_transaction(KafkaConsumer *consumer, const KafkaPartitionList *offsets = nullptr,
                                   int32_t timeout_ms = 60000) {
    detail::call([&](KafkaError *e) {
      return kafka_producer_send_offsets_to_transaction(p_, consumer, offsets, timeout_ms, e);
    });
  }
  /// The fatal error that finished this producer, if any: then only a new
  /// producer can go on.
  std::optional<Error> fatal_error() const {
    KafkaError err{};
    if (!kafka_producer_fatal_error(p_, &err)) return std::nullopt;
    return Error(err);
  }
  /// Purges undelivered messages; each gets its failure callback.
  void purge(bool queued = true, bool in_flight = false) {
    detail::call([&](KafkaError *e) { return kafka_producer_purge(p_, queued, in_flight, e); });
  }

  /// Waits for every outcome; kafka::Error (KAFKA_ERR_TIMEOUT) when some
  /// remain after `timeout_ms`.
  void flush(int32_t timeout_ms = 10000) {
    detail::call([&](KafkaError *e) { return kafka_producer_flush(p_, timeout_ms, nullptr, e); });
  }
  size_t in_flight() const noexcept { return kafka_producer_in_flight(p_); }

  /// Flushes and closes now, reporting failures (the destructor cannot).
  /// A refused close (KAFKA_ERR_STATE inside this producer's own delivery
  /// callback; KAFKA_ERR_INVALID_ARGUMENT for a timeout below -1) throws
  /// and leaves the producer open; any other outcome releases it.
  void close(int32_t timeout_ms = 10000) {
    KafkaError err{};
    KafkaErrorCode rc = kafka_producer_close(p_, timeout_ms, &err);
    if (rc == KAFKA_ERR_STATE || rc == KAFKA_ERR_INVALID_ARGUMENT) throw Error(err);
    p_ = nullptr;
    if (err.code != KAFKA_OK) throw Error(err);
  }

  KafkaProducer *raw() const noexcept { return p_; }

 private:
  struct SharedCallback {
    Callback f;
    std::atomic<size_t> left;
  };
  /// `record` as the C API's, borrowing its strings; `headers` holds its
  /// headers for as long as the result is used.
  static KafkaRecord c_record(const Record &record, std::vector<KafkaHeader> &headers) {
    for (const auto &h : record.headers) headers.push_back(KafkaHeader{h.first.c_str(), h.second.data(), h.second.size()});
    KafkaRecord r{};
    r.topic = record.topic.c_str();
    if (record.key) {
      r.key = record.key->data();
      r.key_len = record.key->size();
    }
    if (record.value) {
      r.value = record.value->data();
      r.value_len = record.value->size();
    }
    r.headers = headers.empty() ? nullptr : headers.data();
    r.header_count = headers.size();
    r.has_partition = record.partition.has_value();
    r.partition = record.partition.value_or(0);
    r.timestamp_ms = record.timestamp_ms;
    return r;
  }
  static void deliver_shared(const KafkaDeliveryReport *r, void *opaque) {
    auto *shared = static_cast<SharedCallback *>(opaque);
    try {
      shared->f(Delivery{r->code, r->rdkafka_code, r->topic, r->partition, r->offset, r->timestamp_ms});
    } catch (...) {
    }
    if (shared->left.fetch_sub(1) == 1) delete shared;
  }
  static void deliver(const KafkaDeliveryReport *r, void *opaque) {
    std::unique_ptr<Callback> f(static_cast<Callback *>(opaque));
    try {
      (*f)(Delivery{r->code, r->rdkafka_code, r->topic, r->partition, r->offset, r->timestamp_ms});
    } catch (...) {
      // Never let an exception unwind into the library's thread.
    }
  }
  KafkaProducer *p_;
  std::shared_ptr<const void> keep_;
};

/// A transaction scope on a transactional producer: begins when made;
/// commit() commits; leaving the scope without a commit (an exception, an
/// early return) aborts, so nothing half-done becomes visible.
class Transaction {
 public:
  explicit Transaction(Producer &p, int32_t timeout_ms = 60000) : p_(p), timeout_ms_(timeout_ms) {
    p_.begin_transaction();
  }
  Transaction(const Transaction &) = delete;
  Transaction &operator=(const Transaction &) = delete;
  ~Transaction() {
    if (!done_) kafka_producer_abort_transaction(p_.raw(), timeout_ms_, nullptr);
  }
  /// The consumer's positions into this transaction (see
  /// Producer::send_offsets_to_transaction).
  void send_offsets(KafkaConsumer *consumer, const KafkaPartitionList *offsets = nullptr) {
    p_.send_offsets_to_transaction(consumer, offsets, timeout_ms_);
  }
  void commit() {
    p_.commit_transaction(timeout_ms_);
    done_ = true;
  }
  /// On failure (it throws), the destructor tries the abort again.
  void abort() {
    p_.abort_transaction(timeout_ms_);
    done_ = true;
  }

 private:
  Producer &p_;
  int32_t timeout_ms_;
  bool done_ = false;
};

/// A read-only view of a partition list: what a rebalance callback
/// receives (valid during the call), and the base of PartitionList.
class PartitionListView {
 public:
  explicit PartitionListView(const KafkaPartitionList *l) noexcept : l_(l) {}
  size_t size() const noexcept { return kafka_partition_list_count(l_); }
  bool empty() const noexcept { return size() == 0; }
  /// Entry `i`; throws std::out_of_range past the end.
  const KafkaTopicPartition &operator[](size_t i) const {
    const KafkaTopicPartition *p = kafka_partition_list_get(l_, i);
    if (!p) throw std::out_of_range("kafka::PartitionList index");
    return *p;
  }
  const KafkaPartitionList *raw() const noexcept { return l_; }

 protected:
  const KafkaPartitionList *l_;
};

/// An owned partition list: built to give (assign, pause, commit) or
/// returned by a query; freed by its destructor.
class PartitionList : public PartitionListView {
 public:
  PartitionList() : PartitionListView(kafka_partition_list_new()) {}
  /// Takes ownership of a list returned by the C API.
  explicit PartitionList(KafkaPartitionList *owned) noexcept : PartitionListView(owned) {}
  PartitionList(std::initializer_list<std::tuple<std::string, int32_t, int64_t>> items) : PartitionList() {
    for (const auto &[topic, partition, offset] : items) add(topic, partition, offset);
  }
  PartitionList(PartitionList &&other) noexcept : PartitionListView(std::exchange(other.l_, nullptr)) {}
  PartitionList &operator=(PartitionList &&other) noexcept {
    if (this != &other) {
      kafka_partition_list_free(owned());
      l_ = std::exchange(other.l_, nullptr);
    }
    return *this;
  }
  PartitionList(const PartitionList &) = delete;
  PartitionList &operator=(const PartitionList &) = delete;
  ~PartitionList() { kafka_partition_list_free(owned()); }

  /// Adds a partition with an offset (0 or more, or KAFKA_OFFSET_BEGINNING,
  /// _END, _COMMITTED).
  PartitionList &add(const std::string &topic, int32_t partition, int64_t offset = KAFKA_OFFSET_COMMITTED) {
    detail::call([&](KafkaError *e) { return kafka_partition_list_add(owned(), topic.c_str(), partition, offset, e); });
    return *this;
  }

 private:
  KafkaPartitionList *owned() const noexcept { return const_cast<KafkaPartitionList *>(l_); }
};

/// A subscribed consumer; one thread at a time. Its destructor closes it
/// (leaving the group).
class Consumer {
 public:
  /// A handler; returning normally is success, throwing is a failure that
  /// the library logs with the message's coordinates.
  using Handler = std::function<void(const MessageView &)>;

  /// `keep`: what keeps the config's callbacks alive while `c` lives.
  explicit Consumer(KafkaConsumer *c, std::shared_ptr<const void> keep = nullptr) noexcept
      : c_(c), keep_(std::move(keep)) {}
  Consumer(Consumer &&other) noexcept
      : c_(std::exchange(other.c_, nullptr)),
        keep_(std::move(other.keep_)),
        handlers_(std::move(other.handlers_)),
        on_rebalance_(std::move(other.on_rebalance_)) {}
  Consumer &operator=(Consumer &&other) noexcept {
    if (this != &other) {
      kafka_consumer_close(c_, nullptr);
      c_ = std::exchange(other.c_, nullptr);
      keep_ = std::move(other.keep_);
      handlers_ = std::move(other.handlers_);
      on_rebalance_ = std::move(other.on_rebalance_);
    }
    return *this;
  }
  Consumer(const Consumer &) = delete;
  Consumer &operator=(const Consumer &) = delete;
  ~Consumer() { kafka_consumer_close(c_, nullptr); }

  /// One message, or std::nullopt when none came within `timeout_ms`.
  std::optional<Message> poll(int32_t timeout_ms) {
    KafkaMessage *m = nullptr;
    detail::call([&](KafkaError *e) { return kafka_consumer_poll(c_, timeout_ms, &m, e); });
    if (!m) return std::nullopt;
    return Message(m);
  }

  /// Up to `max` messages: waits for the first, then takes what is there.
  std::vector<Message> poll_batch(size_t max, int32_t timeout_ms) {
    std::vector<KafkaMessage *> out(max);
    size_t count = 0;
    detail::call([&](KafkaError *e) { return kafka_consumer_poll_batch(c_, out.data(), max, timeout_ms, &count, e); });
    std::vector<Message> messages;
    messages.reserve(count);
    for (size_t i = 0; i < count; i++) messages.emplace_back(out[i]);
    return messages;
  }

  /// Commits every message the application is done with (see
  /// kafka_consumer_commit).
  void commit() {
    detail::call([&](KafkaError *e) { return kafka_consumer_commit(c_, e); });
  }
  /// Commits the offset after `m`, and nothing else.
  void commit(const MessageView &m) {
    detail::call([&](KafkaError *e) { return kafka_consumer_commit_message(c_, m.raw(), e); });
  }
  /// Marks `m` (and what came before it on its partition) as done: the
  /// next commit commits it. Any thread may call it.
  void store(const MessageView &m) {
    detail::call([&](KafkaError *e) { return kafka_consumer_store_message(c_, m.raw(), e); });
  }

  /// Makes the blocked (or the next) poll, poll_batch or consume throw a
  /// kafka::Error with code KAFKA_ERR_WAKEUP. Safe from any thread and from
  /// a signal handler.
  void wakeup() const noexcept { kafka_consumer_wakeup(c_, nullptr); }

  /// Adds a handler for `topic`: handlers run in registration order.
  Consumer &on(const std::string &topic, Handler handler) {
    handlers_.push_back(std::move(handler));
    Handler *stored = &handlers_.back();  // std::list: the address stays put
    detail::call([&](KafkaError *e) {
      return kafka_consumer_register_handler(c_, topic.c_str(), &Consumer::dispatch, stored, e);
    });
    return *this;
  }

  /// One batch through the handlers; returns how many messages were
  /// polled.
  size_t consume(int32_t timeout_ms = 1000) {
    size_t n = 0;
    detail::call([&](KafkaError *e) { return kafka_consumer_consume(c_, timeout_ms, &n, e); });
    return n;
  }

  /// Commits, leaves the group and closes now, reporting failures (a
  /// failed final commit among them). A refused close (KAFKA_ERR_STATE:
  /// inside one of this consumer's handlers) throws and leaves it open;
  /// any other outcome releases it.
  void close() {
    KafkaError err{};
    if (kafka_consumer_close(c_, &err) == KAFKA_ERR_STATE) throw Error(err);
    c_ = nullptr;
    if (err.code != KAFKA_OK) throw Error(err);
  }

  /// Replaces the subscription (a name starting with ^ is a pattern).
  void subscribe(const std::vector<std::string> &topics) {
    std::vector<const char *> names;
    for (const auto &t : topics) names.push_back(t.c_str());
    detail::call([&](KafkaError *e) { return kafka_consumer_subscribe(c_, names.data(), names.size(), e); });
  }
  void unsubscribe() {
    detail::call([&](KafkaError *e) { return kafka_consumer_unsubscribe(c_, e); });
  }
  PartitionList subscription() { return answer(kafka_consumer_subscription); }

  /// Manual assignment: these partitions, each from its offset.
  void assign(const PartitionListView &partitions) {
    detail::call([&](KafkaError *e) { return kafka_consumer_assign(c_, partitions.raw(), e); });
  }
  void unassign() {
    detail::call([&](KafkaError *e) { return kafka_consumer_unassign(c_, e); });
  }
  PartitionList assignment() { return answer(kafka_consumer_assignment); }

  /// Moves a partition to `offset` (or KAFKA_OFFSET_BEGINNING / _END).
  void seek(const std::string &topic, int32_t partition, int64_t offset, int32_t timeout_ms = 10000) {
    detail::call([&](KafkaError *e) { return kafka_consumer_seek(c_, topic.c_str(), partition, offset, timeout_ms, e); });
  }
  /// Moves every assigned partition to its first message at or after
  /// `timestamp_ms`; returns where each went.
  PartitionList seek_to_time(int64_t timestamp_ms, int32_t timeout_ms = 10000) {
    KafkaPartitionList *out = nullptr;
    detail::call([&](KafkaError *e) { return kafka_consumer_seek_to_time(c_, timestamp_ms, timeout_ms, &out, e); });
    return PartitionList(out);
  }
  void pause(const PartitionListView &partitions) {
    detail::call([&](KafkaError *e) { return kafka_consumer_pause(c_, partitions.raw(), e); });
  }
  void resume(const PartitionListView &partitions) {
    detail::call([&](KafkaError *e) { return kafka_consumer_resume(c_, partitions.raw(), e); });
  }

  PartitionList position() { return answer(kafka_consumer_position); }
  PartitionList committed(int32_t timeout_ms = 10000) {
    KafkaPartitionList *out = nullptr;
    detail::call([&](KafkaError *e) { return kafka_consumer_committed(c_, timeout_ms, &out, e); });
    return PartitionList(out);
  }
  /// {low, high} watermarks of a partition.
  std::pair<int64_t, int64_t> watermarks(const std::string &topic, int32_t partition, int32_t timeout_ms = 10000) {
    int64_t low = 0, high = 0;
    detail::call([&](KafkaError *e) {
      return kafka_consumer_watermarks(c_, topic.c_str(), partition, timeout_ms, &low, &high, e);
    });
    return {low, high};
  }
  /// Per assigned partition: position, watermarks, committed, lag.
  PartitionList lag(int32_t timeout_ms = 10000) {
    KafkaPartitionList *out = nullptr;
    detail::call([&](KafkaError *e) { return kafka_consumer_lag(c_, timeout_ms, &out, e); });
    return PartitionList(out);
  }
  /// Commits exactly these offsets.
  void commit(const PartitionListView &offsets) {
    detail::call([&](KafkaError *e) { return kafka_consumer_commit_offsets(c_, offsets.raw(), e); });
  }

  /// The outcome of a commit_async: called once, on the polling thread or
  /// inside close (see KafkaCommitCallback); an exception from it is
  /// swallowed.
  using CommitHandler = std::function<void(const KafkaError &, const PartitionListView &)>;
  /// Starts a commit of what is done and returns at once; `done` (may be
  /// empty) gets the outcome.
  void commit_async(CommitHandler done = nullptr) { start_commit(nullptr, std::move(done)); }
  /// Starts a commit of exactly these offsets.
  void commit_async(const PartitionListView &offsets, CommitHandler done = nullptr) {
    start_commit(offsets.raw(), std::move(done));
  }

  /// Called on the polling thread at each rebalance (see
  /// KafkaRebalanceCallback); an exception from it is swallowed.
  using RebalanceHandler = std::function<void(KafkaRebalanceEvent, const PartitionListView &)>;
  Consumer &on_rebalance(RebalanceHandler handler) {
    auto stored = std::make_unique<RebalanceHandler>(std::move(handler));
    detail::call([&](KafkaError *e) {
      return kafka_consumer_set_rebalance_callback(c_, &Consumer::rebalance, stored.get(), e);
    });
    on_rebalance_ = std::move(stored);
    return *this;
  }

  KafkaConsumer *raw() const noexcept { return c_; }

 private:
  void start_commit(const KafkaPartitionList *offsets, CommitHandler done) {
    std::unique_ptr<CommitHandler> stored;
    if (done) stored = std::make_unique<CommitHandler>(std::move(done));
    detail::call([&](KafkaError *e) {
      return kafka_consumer_commit_async(c_, offsets, stored ? &Consumer::commit_done : nullptr, stored.get(), e);
    });
    stored.release();  // accepted: the callback owns it now
  }
  static void commit_done(KafkaConsumer *, const KafkaError *result, const KafkaPartitionList *offsets,
                          void *opaque) {
    std::unique_ptr<CommitHandler> done(static_cast<CommitHandler *>(opaque));
    try {
      (*done)(*result, PartitionListView(offsets));
    } catch (...) {
    }
  }
  template <typename F>
  PartitionList answer(F f) {
    KafkaPartitionList *out = nullptr;
    detail::call([&](KafkaError *e) { return f(c_, &out, e); });
    return PartitionList(out);
  }
  static void rebalance(KafkaConsumer *, KafkaRebalanceEvent event, const KafkaPartitionList *partitions,
                        void *opaque) {
    try {
      (*static_cast<RebalanceHandler *>(opaque))(event, PartitionListView(partitions));
    } catch (...) {
    }
  }
  static int dispatch(const KafkaMessage *m, void *opaque) {
    try {
      (*static_cast<Handler *>(opaque))(MessageView(m));
      return 0;
    } catch (...) {
      return 1;
    }
  }
  KafkaConsumer *c_;
  std::shared_ptr<const void> keep_;
  std::list<Handler> handlers_;
  std::unique_ptr<RebalanceHandler> on_rebalance_;
};

/// A cluster's brokers and partitions (Instance::describe_cluster,
/// describe_topic). What the entries point to lives as long as this.
class Cluster {
 public:
  explicit Cluster(KafkaCluster *c) noexcept : c_(c) {}
  std::optional<std::string_view> id() const {
    const char *id = kafka_cluster_id(c_.get());
    return id ? std::optional<std::string_view>(id) : std::nullopt;
  }
  std::vector<KafkaBroker> brokers() const {
    std::vector<KafkaBroker> out;
    for (size_t i = 0; i < kafka_cluster_broker_count(c_.get()); i++) out.push_back(*kafka_cluster_broker(c_.get(), i));
    return out;
  }
  std::vector<KafkaPartitionInfo> partitions() const {
    std::vector<KafkaPartitionInfo> out;
    for (size_t i = 0; i < kafka_cluster_partition_count(c_.get()); i++)
      out.push_back(*kafka_cluster_partition(c_.get(), i));
    return out;
  }
  const KafkaCluster *raw() const noexcept { return c_.get(); }

 private:
  std::unique_ptr<KafkaCluster, detail::Deleter<KafkaCluster, kafka_cluster_free>> c_;
};

/// Consumer groups (Instance::list_groups, describe_group). What the
/// entries point to lives as long as this.
class GroupList {
 public:
  explicit GroupList(KafkaGroupList *l) noexcept : l_(l) {}
  size_t size() const noexcept { return kafka_group_list_count(l_.get()); }
  /// Group `i`; throws std::out_of_range past the end.
  const KafkaGroup &operator[](size_t i) const {
    const KafkaGroup *g = kafka_group_list_get(l_.get(), i);
    if (!g) throw std::out_of_range("kafka::GroupList index");
    return *g;
  }
  const KafkaGroupList *raw() const noexcept { return l_.get(); }

 private:
  std::unique_ptr<KafkaGroupList, detail::Deleter<KafkaGroupList, kafka_group_list_free>> l_;
};

/// A topic's settings (Instance::describe_topic_config).
class TopicConfig {
 public:
  explicit TopicConfig(KafkaTopicConfig *c) noexcept : c_(c) {}
  size_t size() const noexcept { return kafka_topic_config_count(c_.get()); }
  /// Setting `i`; throws std::out_of_range past the end.
  const KafkaConfigEntry &operator[](size_t i) const {
    const KafkaConfigEntry *e = kafka_topic_config_get(c_.get(), i);
    if (!e) throw std::out_of_range("kafka::TopicConfig index");
    return *e;
  }
  /// The value of `name`; nullopt when absent, valueless or sensitive.
  std::optional<std::string_view> value(const std::string &name) const {
    const char *v = kafka_topic_config_value(c_.get(), name.c_str());
    return v ? std::optional<std::string_view>(v) : std::nullopt;
  }

 private:
  std::unique_ptr<KafkaTopicConfig, detail::Deleter<KafkaTopicConfig, kafka_topic_config_free>> c_;
};

/// The connection manager: thread-safe; producers and consumers outlive
/// it.
class Instance {
 public:
  explicit Instance(const Config &config)
      : inst_(detail::call([&](KafkaError *e) { return kafka_instance_new(config.raw(), e); })),
        keep_(config.keepalive()) {}

  /// A producer with optional overrides.
  Producer producer(const std::optional<Config> &overrides = std::nullopt) {
    return Producer(detail::call([&](KafkaError *e) {
                      return kafka_instance_get_producer(inst_.get(), overrides ? overrides->raw() : nullptr, e);
                    }),
                    detail::keep(keep_, overrides ? overrides->keepalive() : nullptr));
  }

  /// A consumer subscribed to `topics`.
  Consumer consumer(const std::vector<std::string> &topics, const std::optional<Config> &overrides = std::nullopt) {
    std::vector<const char *> list;
    for (const auto &t : topics) list.push_back(t.c_str());
    return Consumer(detail::call([&](KafkaError *e) {
                      return kafka_instance_get_consumer(inst_.get(), list.data(), list.size(),
                                                         overrides ? overrides->raw() : nullptr, e);
                    }),
                    detail::keep(keep_, overrides ? overrides->keepalive() : nullptr));
  }

  /// A scoped producer: `body(producer)`, then flush and close
  /// whatever happens (an exception propagates after the cleanup).
  template <typename F>
  void with_producer(F &&body, const std::optional<Config> &overrides = std::nullopt) {
    Producer p = producer(overrides);
    body(p);
    p.close();
  }

  /// A scoped consumer: `body(consumer)`, then close.
  template <typename F>
  void with_consumer(const std::vector<std::string> &topics, F &&body,
                     const std::optional<Config> &overrides = std::nullopt) {
    Consumer c = consumer(topics, overrides);
    body(c);
    c.close();
  }

  void create_topic(const std::string &topic, int32_t partitions, int32_t replication_factor = 1,
                    int32_t timeout_ms = 10000) {
    detail::call([&](KafkaError *e) {
      return kafka_instance_create_topic(inst_.get(), topic.c_str(), partitions, replication_factor, timeout_ms, e);
    });
  }

  void delete_topic(const std::string &topic, int32_t timeout_ms = 10000) {
    detail::call([&](KafkaError *e) { return kafka_instance_delete_topic(inst_.get(), topic.c_str(), timeout_ms, e); });
  }

  Cluster describe_cluster(int32_t timeout_ms = 10000) {
    KafkaCluster *out = nullptr;
    detail::call([&](KafkaError *e) { return kafka_instance_describe_cluster(inst_.get(), timeout_ms, &out, e); });
    return Cluster(out);
  }

  Cluster describe_topic(const std::string &topic, int32_t timeout_ms = 10000) {
    KafkaCluster *out = nullptr;
    detail::call([&](KafkaError *e) {
      return kafka_instance_describe_topic(inst_.get(), topic.c_str(), timeout_ms, &out, e);
    });
    return Cluster(out);
  }

  GroupList list_groups(int32_t timeout_ms = 10000) {
    KafkaGroupList *out = nullptr;
    detail::call([&](KafkaError *e) { return kafka_instance_list_groups(inst_.get(), timeout_ms, &out, e); });
    return GroupList(out);
  }

  GroupList describe_group(const std::string &group, int32_t timeout_ms = 10000) {
    KafkaGroupList *out = nullptr;
    detail::call([&](KafkaError *e) {
      return kafka_instance_describe_group(inst_.get(), group.c_str(), timeout_ms, &out, e);
    });
    return GroupList(out);
  }

  /// The group's committed offsets (of `partitions`, or of every
  /// partition it committed).
  PartitionList group_offsets(const std::string &group, const PartitionListView *partitions = nullptr,
                              int32_t timeout_ms = 10000) {
    KafkaPartitionList *out = nullptr;
    detail::call([&](KafkaError *e) {
      return kafka_instance_group_offsets(inst_.get(), group.c_str(), partitions ? partitions->raw() : nullptr,
                                          timeout_ms, &out, e);
    });
    return PartitionList(out);
  }

  /// The group's lag: committed offsets, watermarks and `lag` per partition.
  PartitionList group_lag(const std::string &group, const PartitionListView *partitions = nullptr,
                          int32_t timeout_ms = 10000) {
    KafkaPartitionList *out = nullptr;
    detail::call([&](KafkaError *e) {
      return kafka_instance_group_lag(inst_.get(), group.c_str(), partitions ? partitions->raw() : nullptr,
                                      timeout_ms, &out, e);
    });
    return PartitionList(out);
  }

  void delete_group(const std::string &group, int32_t timeout_ms = 10000) {
    detail::call([&](KafkaError *e) { return kafka_instance_delete_group(inst_.get(), group.c_str(), timeout_ms, e); });
  }

  void create_partitions(const std::string &topic, int32_t total, int32_t timeout_ms = 10000) {
    detail::call([&](KafkaError *e) {
      return kafka_instance_create_partitions(inst_.get(), topic.c_str(), total, timeout_ms, e);
    });
  }

  /// Deletes the records before `before_offset` (-1: all); returns the new
  /// low watermark.
  int64_t delete_records(const std::string &topic, int32_t partition, int64_t before_offset,
                         int32_t timeout_ms = 10000) {
    int64_t low = 0;
    detail::call([&](KafkaError *e) {
      return kafka_instance_delete_records(inst_.get(), topic.c_str(), partition, before_offset, timeout_ms, &low, e);
    });
    return low;
  }

  TopicConfig describe_topic_config(const std::string &topic, int32_t timeout_ms = 10000) {
    KafkaTopicConfig *out = nullptr;
    detail::call([&](KafkaError *e) {
      return kafka_instance_describe_topic_config(inst_.get(), topic.c_str(), timeout_ms, &out, e);
    });
    return TopicConfig(out);
  }

  /// Sets (or, with nullopt, resets) settings of `topic`, keeping its others.
  void alter_topic_config(const std::string &topic,
                          const std::vector<std::pair<std::string, std::optional<std::string>>> &changes,
                          int32_t timeout_ms = 10000) {
    std::vector<const char *> keys, values;
    for (const auto &[k, v] : changes) {
      keys.push_back(k.c_str());
      values.push_back(v ? v->c_str() : nullptr);
    }
    detail::call([&](KafkaError *e) {
      return kafka_instance_alter_topic_config(inst_.get(), topic.c_str(), keys.data(), values.data(), keys.size(),
                                               timeout_ms, e);
    });
  }

  KafkaInstance *raw() const noexcept { return inst_.get(); }

 private:
  std::unique_ptr<KafkaInstance, detail::Deleter<KafkaInstance, kafka_instance_free>> inst_;
  std::shared_ptr<const void> keep_;
};

/// The embedded broker, for development and tests.
class MockCluster {
 public:
  explicit MockCluster(int32_t brokers = 1)
      : mc_(detail::call([&](KafkaError *e) { return kafka_mock_cluster_new(brokers, e); })) {}
  std::string bootstrap_servers() const { return kafka_mock_cluster_bootstrap_servers(mc_.get()); }
  void create_topic(const std::string &topic, int32_t partitions, int32_t replication_factor = 1) {
    detail::call([&](KafkaError *e) {
      return kafka_mock_cluster_create_topic(mc_.get(), topic.c_str(), partitions, replication_factor, e);
    });
  }
  void broker_down(int32_t id) {
    detail::call([&](KafkaError *e) { return kafka_mock_cluster_broker_down(mc_.get(), id, e); });
  }
  void broker_up(int32_t id) {
    detail::call([&](KafkaError *e) { return kafka_mock_cluster_broker_up(mc_.get(), id, e); });
  }
  /// Moves a partition's leadership to broker `id` (-1: no leader).
  void partition_set_leader(const std::string &topic, int32_t partition, int32_t id) {
    detail::call([&](KafkaError *e) {
      return kafka_mock_cluster_partition_set_leader(mc_.get(), topic.c_str(), partition, id, e);
    });
  }

 private:
  std::unique_ptr<KafkaMockCluster, detail::Deleter<KafkaMockCluster, kafka_mock_cluster_free>> mc_;
};

}  // namespace kafka

#endif  // KAFKA_INSTANCE_HPP

// A scripted RabbitMQ for the AMQP source's unit tests: FakeAmqpBroker
// implements AmqpConnector, and its connections record every call and
// answer from a script, so no broker is needed.
//
//   - A stream queue (`stream_queue`, its messages in `stream`, the oldest
//     retained at `first_offset`): Consume() with x-stream-offset N (or
//     "first") positions the connection's reader, and Wait() delivers the
//     next message with its x-stream-offset header, as RabbitMQ does.
//   - Live deliveries (`live`) for any other queue, in order, shared by
//     connections.
//   - Failures: Fail("consume", status) makes the next call of that
//     operation fail (once per Fail()); Open() failures likewise ("open").
//
// Thread-safe (one mutex), so a test may run AmqpSource::Run() on a thread.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "amqp_client.h"
#include "fakes.h"

namespace notifications {

class FakeAmqpBroker final : public AmqpConnector {
 public:
  struct Message {
    std::string body;
    std::optional<int64_t> timestamp;
    std::string routing_key = "nasqueron.ops.github.push";
  };

  // Appends to the stream; returns its offset.
  int64_t AddToStream(std::string body, std::optional<int64_t> ts = {}) {
    std::lock_guard<std::mutex> lock(mu_);
    stream_.push_back(Message{std::move(body), ts});
    return first_offset_ + static_cast<int64_t>(stream_.size()) - 1;
  }
  // Drops the oldest `n` messages, as retention does.
  void Truncate(size_t n) {
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t i = 0; i < n && !stream_.empty(); ++i) {
      stream_.pop_front();
      ++first_offset_;
    }
  }
  void AddLive(std::string body,
               std::string routing_key = "nasqueron.ops.github.push",
               std::optional<int64_t> ts = {}) {
    std::lock_guard<std::mutex> lock(mu_);
    live_.push_back(Message{std::move(body), ts, std::move(routing_key)});
  }
  void Fail(const std::string& op, AmqpStatus status) {
    std::lock_guard<std::mutex> lock(mu_);
    failures_[op].push_back(std::move(status));
  }
  void SetStreamQueue(std::string name) {
    std::lock_guard<std::mutex> lock(mu_);
    stream_queue_ = std::move(name);
  }
  // Deliveries without the x-stream-offset header (a classic queue).
  void SetNoOffsetHeader(bool v) {
    std::lock_guard<std::mutex> lock(mu_);
    no_offset_header_ = v;
  }
  // Redelivers this many messages before the offset a consumer asks for
  // (RabbitMQ starts at the chunk holding it).
  void SetChunkRewind(int64_t n) {
    std::lock_guard<std::mutex> lock(mu_);
    chunk_rewind_ = n;
  }
  // Wait() blocks until the connection is interrupted, as a read from a
  // broker that stopped answering would.
  void SetWaitBlocks(bool v) {
    std::lock_guard<std::mutex> lock(mu_);
    wait_blocks_ = v;
  }
  // Each Wait() that finds nothing advances `clock` by its timeout, as a
  // real wait would take it.
  void AdvanceOnIdle(FakeClock* clock) {
    std::lock_guard<std::mutex> lock(mu_);
    idle_clock_ = clock;
  }
  // The message count a declaration or Inspect() reports.
  void SetMessageCount(uint32_t n) {
    std::lock_guard<std::mutex> lock(mu_);
    message_count_ = n;
  }
  // Every call of every connection, in order: "open", "declare_queue
  // notifications-stream passive", "consume q x-stream-offset=5",
  // "ack 7 multiple", "interrupt", "close" (destroyed)...
  std::vector<std::string> calls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }
  size_t connections() const {
    std::lock_guard<std::mutex> lock(mu_);
    return connections_;
  }
  // Calls blocked in Wait() now (with SetWaitBlocks).
  size_t blocked() const {
    std::lock_guard<std::mutex> lock(mu_);
    return blocked_;
  }
  size_t open_connections() const {
    std::lock_guard<std::mutex> lock(mu_);
    return open_;
  }

  std::unique_ptr<AmqpConnection> NewConnection() override;

 private:
  class Connection;
  friend class Connection;

  // mu_ held.
  std::optional<AmqpStatus> TakeFailure(const std::string& op) {
    auto it = failures_.find(op);
    if (it == failures_.end() || it->second.empty()) return std::nullopt;
    AmqpStatus s = std::move(it->second.front());
    it->second.pop_front();
    return s;
  }

  mutable std::mutex mu_;
  std::deque<Message> stream_;
  int64_t first_offset_ = 0;
  std::string stream_queue_ = "notifications-stream";
  std::deque<Message> live_;
  std::map<std::string, std::deque<AmqpStatus>> failures_;
  bool no_offset_header_ = false;
  uint32_t message_count_ = 0;
  std::vector<std::string> calls_;
  size_t connections_ = 0;
  size_t open_ = 0;
  uint64_t server_queues_ = 0;
  int64_t chunk_rewind_ = 0;
  FakeClock* idle_clock_ = nullptr;
  bool wait_blocks_ = false;
  size_t blocked_ = 0;
  std::condition_variable interrupted_cv_;
};

class FakeAmqpBroker::Connection final : public AmqpConnection {
 public:
  explicit Connection(FakeAmqpBroker& b) : b_(b) {}
  ~Connection() override {
    std::lock_guard<std::mutex> lock(b_.mu_);
    b_.calls_.push_back("close");
    if (opened_) --b_.open_;
  }

  AmqpStatus Open(const AmqpEndpoint& e) override {
    std::lock_guard<std::mutex> lock(b_.mu_);
    b_.calls_.push_back("open " + e.user + "@" + e.host + "/" + e.vhost);
    ++b_.connections_;
    if (auto f = b_.TakeFailure("open")) return *f;
    opened_ = true;
    ++b_.open_;
    return {};
  }
  AmqpStatus DeclareExchange(const std::string& name, const std::string& type,
                             bool durable, bool passive) override {
    return Call("declare_exchange " + name + " " + type +
                    (durable ? " durable" : "") + (passive ? " passive" : ""),
                "declare_exchange");
  }
  AmqpStatus DeclareQueue(const std::string& name, bool passive, bool exclusive,
                          AmqpQueueInfo* info) override {
    std::lock_guard<std::mutex> lock(b_.mu_);
    b_.calls_.push_back("declare_queue " + (name.empty() ? "''" : name) +
                        (passive ? " passive" : "") +
                        (exclusive ? " exclusive" : ""));
    if (auto f = b_.TakeFailure("declare_queue")) return *f;
    info->name =
        name.empty() ? "amq.gen-" + std::to_string(++b_.server_queues_) : name;
    info->message_count = b_.message_count_;
    return {};
  }
  AmqpStatus BindQueue(const std::string& queue, const std::string& exchange,
                       const std::string& key) override {
    return Call("bind " + queue + " " + exchange + " " + key, "bind");
  }
  AmqpStatus Qos(uint16_t prefetch) override {
    return Call("qos " + std::to_string(prefetch), "qos");
  }
  AmqpStatus Consume(const std::string& queue,
                     const std::vector<AmqpArgument>& args) override {
    std::lock_guard<std::mutex> lock(b_.mu_);
    std::string call = "consume " + queue;
    for (const AmqpArgument& a : args) {
      call += " " + a.key + "=";
      if (const auto* n = std::get_if<int64_t>(&a.value)) {
        call += std::to_string(*n);
        position_ = std::max<int64_t>(0, *n - b_.chunk_rewind_);
      } else {
        call += std::get<std::string>(a.value);
        position_ = b_.first_offset_;  // "first"
      }
    }
    b_.calls_.push_back(call);
    if (auto f = b_.TakeFailure("consume")) return *f;
    queue_ = queue;
    return {};
  }
  AmqpStatus Wait(std::chrono::milliseconds timeout,
                  std::optional<AmqpDelivery>* out) override {
    std::unique_lock<std::mutex> lock(b_.mu_);
    out->reset();
    if (auto f = b_.TakeFailure("wait")) return *f;
    if (b_.wait_blocks_) {
      ++b_.blocked_;
      b_.interrupted_cv_.wait(lock, [this] { return interrupted_; });
      --b_.blocked_;
    }
    if (interrupted_) {
      return AmqpStatus::Error(AmqpErrorKind::kConnectionLost, "interrupted");
    }
    AmqpDelivery d;
    d.delivery_tag = ++tag_;
    if (queue_ == b_.stream_queue_) {
      // A reader before the oldest retained message starts there.
      position_ = std::max(position_, b_.first_offset_);
      int64_t index = position_ - b_.first_offset_;
      if (index >= static_cast<int64_t>(b_.stream_.size())) {
        --tag_;
        if (b_.idle_clock_) b_.idle_clock_->Advance(timeout);
        return {};
      }
      const Message& m = b_.stream_[static_cast<size_t>(index)];
      d.body = m.body;
      d.timestamp = m.timestamp;
      d.routing_key = m.routing_key;
      if (!b_.no_offset_header_) d.stream_offset = position_;
      ++position_;
    } else {
      if (b_.live_.empty()) {
        --tag_;
        if (b_.idle_clock_) b_.idle_clock_->Advance(timeout);
        return {};
      }
      const Message& m = b_.live_.front();
      d.body = m.body;
      d.timestamp = m.timestamp;
      d.routing_key = m.routing_key;
      b_.live_.pop_front();
    }
    d.exchange = "notifications";
    *out = std::move(d);
    return {};
  }
  AmqpStatus Ack(uint64_t tag, bool multiple) override {
    return Call("ack " + std::to_string(tag) + (multiple ? " multiple" : ""),
                "ack");
  }
  AmqpStatus Inspect(const std::string& queue, AmqpQueueInfo* info) override {
    std::lock_guard<std::mutex> lock(b_.mu_);
    b_.calls_.push_back("inspect " + queue);
    if (auto f = b_.TakeFailure("inspect")) return *f;
    info->name = queue;
    info->message_count = b_.message_count_;
    return {};
  }
  AmqpStatus Publish(const std::string& exchange, const std::string& key,
                     const std::string& body,
                     std::optional<int64_t> ts) override {
    std::lock_guard<std::mutex> lock(b_.mu_);
    b_.calls_.push_back("publish " + exchange + " " + key);
    b_.stream_.push_back(Message{body, ts, key});
    return {};
  }
  void Interrupt() override {
    std::lock_guard<std::mutex> lock(b_.mu_);
    b_.calls_.push_back("interrupt");
    interrupted_ = true;
    b_.interrupted_cv_.notify_all();
  }

 private:
  AmqpStatus Call(const std::string& call, const std::string& op) {
    std::lock_guard<std::mutex> lock(b_.mu_);
    b_.calls_.push_back(call);
    if (auto f = b_.TakeFailure(op)) return *f;
    return {};
  }

  FakeAmqpBroker& b_;
  bool opened_ = false;
  bool interrupted_ = false;
  std::string queue_;
  int64_t position_ = 0;
  uint64_t tag_ = 0;
};

inline std::unique_ptr<AmqpConnection> FakeAmqpBroker::NewConnection() {
  return std::make_unique<Connection>(*this);
}

}  // namespace notifications

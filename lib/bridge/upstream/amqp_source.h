// AmqpSource: the bridge's other upstream loop, beside the Poller: consumes
// Nasqueron's notifications from RabbitMQ (docs/amqp.md) and publishes them
// into the same EventHub, with the same backoff and the same health
// reporting (UpstreamState, Metrics).
//
// Two modes:
//   - stream (options.queue set): consumes that existing stream queue from
//     the cursor on (from "first" without one): the cursor's own message
//     comes back first and is dropped; when it is no longer retained, the
//     streams get a reset (what followed it may be lost). A message's id
//     is its stream offset in decimal ("0", "1", ..., no leading zero), so
//     every bridge consuming the same stream gives the same id to the same
//     message, and ids order by CompareIds(). The cursor is the last
//     offset consumed (published or skipped).
//   - live (no queue): declares a server-named exclusive queue, binds it to
//     the exchange with each binding key, and consumes it. Ids are minted
//     here, "<start>-<n>": the process's start time in Unix milliseconds
//     (13 digits) and a 10-digit counter from 1, so they increase within a
//     process and across restarts. What is published while the bridge is
//     disconnected is lost.
//
// Each delivery: a body that is not a notification, or one too large
// (ReadAmqpMessage: the body over max_body_bytes, the notification as kept
// over max_item_bytes) is skipped: counted, logged, acked, never stopping
// the consumer. `time` is the message's timestamp property
// when present, else the time the bridge received it. Deliveries that are
// already waiting are taken together (up to max_batch) and published as one
// hub batch; they are acknowledged (one multiple ack) only once they are in
// the hub's history, and the cursor is reported after that.
//
// Connections: one at a time, made and used by the thread calling
// Subscribe()/Pump()/Run(); any error (connect, login, refusal, lost
// connection, missed heartbeats) drops it, and Run() makes a new one after
// BackoffDelay() (the poller's policy). The library is entered at least
// every `wake` (capped at half the heartbeat) so heartbeats are served and
// Stop() is seen.
//
// Thread-safety: Subscribe(), Pump() and Run() from one thread; Stop(),
// State() and LastOffset() from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "amqp_client.h"
#include "amqp_message.h"
#include "backoff.h"
#include "clock.h"
#include "event_hub.h"
#include "logger.h"
#include "metrics.h"
#include "upstream_health.h"

namespace notifications {

struct AmqpSourceOptions {
  AmqpEndpoint endpoint;
  std::string exchange = "notifications";  // Live mode: bound to.
  // Stream mode: the stream queue to consume; "" = live mode.
  std::string queue;
  // Live mode: topic patterns the exclusive queue is bound with.
  std::vector<std::string> binding_keys{"#"};
  BackoffPolicy backoff;    // After failures, as the poller.
  uint64_t seed = 0;        // For backoff jitter; 0 = random.
  uint16_t prefetch = 256;  // Unacknowledged deliveries in flight.
  size_t max_batch = 256;   // Deliveries published as one hub batch, at most.
  // Bodies and notifications above these are skipped (ReadAmqpMessage);
  // rawContent is kept when the hub's streams carry it.
  size_t max_body_bytes = size_t{16} << 20;
  size_t max_item_bytes = size_t{1} << 20;
  // Longest single wait inside the library: bounds how late Stop() is seen.
  std::chrono::milliseconds wake{250};
  // How often the broker is asked for the queue's message count (lag).
  std::chrono::milliseconds inspect_interval{5000};
  // Called on the consuming thread after each batch is published and
  // acknowledged, with the cursor (e.g. to persist it).
  std::function<void(const std::optional<std::string>& cursor)> on_cursor;
};

class AmqpSource {
 public:
  // Every reference must outlive the source. `initial_cursor`: stream mode
  // resumes after this offset (e.g. from a state file); ignored in live
  // mode. A cursor that is not an offset is ignored with a warning.
  AmqpSource(AmqpConnector& connector, EventHub& hub, Metrics& metrics,
             Logger& logger, Clock& clock, AmqpSourceOptions options,
             std::optional<std::string> initial_cursor = std::nullopt);
  ~AmqpSource();

  AmqpSource(const AmqpSource&) = delete;
  AmqpSource& operator=(const AmqpSource&) = delete;

  // Connects, declares (stream mode: checks the queue; live mode: checks
  // the exchange, declares and binds the exclusive queue), and starts the
  // consumer. On failure the connection is dropped, the failure recorded
  // (state, metrics, log) and returned.
  AmqpStatus Subscribe();
  // With a subscription: waits up to `wake` for deliveries and handles
  // every one that is ready (publish, ack, cursor). On failure as above.
  AmqpStatus Pump();
  bool subscribed() const { return connection_ != nullptr; }

  // Subscribe() and Pump() until Stop(), with backoff between failures.
  void Run();
  // Makes Run() return promptly: ends the backoff sleep, lets a consumer
  // that is waiting for deliveries close its connection politely, and
  // interrupts one still blocked after 2 * wake (a login, a silent
  // broker). Returns within about that. Idempotent.
  void Stop();

  UpstreamState State() const;
  // Stream mode: the last offset consumed, nullopt before the first (and
  // without an initial cursor). For the gap source.
  std::optional<int64_t> LastOffset() const;

  bool stream_mode() const { return !options_.queue.empty(); }

 private:
  AmqpStatus Fail(AmqpStatus status, const std::string& step);
  AmqpStatus Setup(AmqpConnection& c);
  void Drop();
  // Handles `batch`; stops at the first delivery that breaks the mode's
  // rules (returned as an error after what precedes it is published).
  AmqpStatus Handle(std::vector<AmqpDelivery>& batch);
  void MaybeInspect();
  void SetConnection(const char* state);
  bool Sleep(std::chrono::milliseconds delay);
  // The n-th live id of this process (live mode).
  std::string LiveId(uint64_t n) const;

  AmqpConnector& connector_;
  EventHub& hub_;
  Metrics& metrics_;
  Logger& logger_;
  Clock& clock_;
  const AmqpSourceOptions options_;
  const AmqpMessageLimits limits_;  // From options_ and the hub.
  const std::string where_;         // The endpoint, for messages.
  std::mt19937_64 rng_;
  uint32_t failures_ = 0;  // Consecutive, for Run()'s backoff.

  // Owned by the consuming thread:
  std::unique_ptr<AmqpConnection> connection_;
  std::string queue_name_;  // The queue consumed (server-named in live mode).
  // Stream mode: the offset the current subscription asked to start at
  // (the cursor), until its first delivery (a later one means a gap).
  std::optional<int64_t> expected_first_;
  std::chrono::steady_clock::time_point next_inspect_{};
  const std::string live_prefix_;  // "<start ms>-"
  uint64_t live_counter_ = 0;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  // guarded by mu_:
  bool stopped_ = false;
  AmqpConnection* active_ = nullptr;  // For Stop() to interrupt.
  std::optional<int64_t> offset_;     // Stream mode: last offset consumed.
  std::string cursor_;                // Last id consumed ("" = none).
  UpstreamState state_;
};

// Parses a stream offset as the ids write it: decimal, no sign, no leading
// zero (but "0"), at most 18 digits. nullopt otherwise.
std::optional<int64_t> ParseStreamOffset(const std::string& id);

}  // namespace notifications

// Metrics: the bridge's counters and gauges, and their rendering in the
// Prometheus text exposition format (version 0.0.4).
//
// Thread-safe: every counter is atomic; Snapshot() reads them all (not as
// one atomic view, which Prometheus does not need).
//
// Exposition grammar (one block per metric):
//   # HELP <name> <text>\n
//   # TYPE <name> counter|gauge\n
//   <name>[{label="value"}] <value>\n
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <string>

#include "amqp_client.h"
#include "upstream_health.h"

namespace notifications {

constexpr size_t kFetchErrorKinds = static_cast<size_t>(kLastFetchError) + 1;

struct MetricsSnapshot {
  uint64_t polls = 0;  // Upstream page requests made by the poller.
  std::array<uint64_t, kFetchErrorKinds> poll_errors{};  // By FetchError.
  uint64_t contract_violations = 0;  // Pages rejected by the poller itself.
  uint64_t notifications_published = 0;
  uint64_t duplicates_dropped = 0;  // Overlapping items not re-published.
  uint64_t upstream_resets = 0;     // 410s that restarted from the oldest.
  int64_t clients_connected = 0;
  uint64_t streams_opened = 0;
  uint64_t streams_rejected = 0;  // Turned away at --max-clients.
  uint64_t events_sent = 0;       // Notification events written to streams.
  uint64_t bytes_sent = 0;        // SSE bytes written to streams.
  uint64_t gap_fetches = 0;       // Upstream requests made for resumes.
  uint64_t state_save_errors = 0;  // Failed writes of --state-file.
  double last_success_unix_seconds = 0;  // 0 = never.
  // Notifications left out by the source: cannot be represented (a number
  // beyond a double, a lone surrogate), or above --max-item-bytes.
  uint64_t skipped_unrepresentable = 0;
  uint64_t skipped_too_large = 0;
  uint64_t ids_backwards = 0;      // Pages whose ids all fell below the cursor.
  uint64_t resets_suppressed = 0;  // 410s in a loop that did not reset streams.
  int64_t upstream_degraded = 0;   // 1 while /healthz says degraded.
  int64_t history_bytes = 0;       // Bytes the hub's history holds.
  uint64_t gap_requests = 0;       // Resumes that needed a gap fetched.
  uint64_t gap_shared = 0;         // ... answered by a shared fetch or cache.
  uint64_t gap_rejected = 0;       // ... refused: too many fetches at once.
  int64_t gap_fetches_in_flight = 0;
  // The AMQP source (docs/amqp.md); rendered only when `amqp` is true.
  bool amqp = false;
  int64_t amqp_connected = 0;                           // 1 while consuming.
  uint64_t amqp_connections = 0;                        // Subscriptions made.
  std::array<uint64_t, kAmqpErrorKinds> amqp_errors{};  // By AmqpErrorKind.
  uint64_t amqp_messages = 0;                           // Deliveries received.
  uint64_t amqp_skipped = 0;  // Not notifications: acked and skipped.
  int64_t amqp_offset = -1;   // Last stream offset consumed; -1 none.
  int64_t amqp_lag = -1;      // Estimate; -1 unknown.
};

class Metrics {
 public:
  std::atomic<uint64_t> polls{0};
  std::array<std::atomic<uint64_t>, kFetchErrorKinds> poll_errors{};
  std::atomic<uint64_t> contract_violations{0};
  std::atomic<uint64_t> notifications_published{0};
  std::atomic<uint64_t> duplicates_dropped{0};
  std::atomic<uint64_t> upstream_resets{0};
  std::atomic<int64_t> clients_connected{0};
  std::atomic<uint64_t> streams_opened{0};
  std::atomic<uint64_t> streams_rejected{0};
  std::atomic<uint64_t> events_sent{0};
  std::atomic<uint64_t> bytes_sent{0};
  std::atomic<uint64_t> gap_fetches{0};
  std::atomic<uint64_t> state_save_errors{0};
  std::atomic<int64_t> last_success_unix_ms{0};
  std::atomic<uint64_t> skipped_unrepresentable{0};
  std::atomic<uint64_t> skipped_too_large{0};
  std::atomic<uint64_t> ids_backwards{0};
  std::atomic<uint64_t> resets_suppressed{0};
  std::atomic<int64_t> upstream_degraded{0};
  std::atomic<int64_t> history_bytes{0};
  std::atomic<uint64_t> gap_requests{0};
  std::atomic<uint64_t> gap_shared{0};
  std::atomic<uint64_t> gap_rejected{0};
  std::atomic<int64_t> gap_fetches_in_flight{0};
  // The AMQP source: see MetricsSnapshot.
  std::atomic<bool> amqp{false};
  std::atomic<int64_t> amqp_connected{0};
  std::atomic<uint64_t> amqp_connections{0};
  std::array<std::atomic<uint64_t>, kAmqpErrorKinds> amqp_errors{};
  std::atomic<uint64_t> amqp_messages{0};
  std::atomic<uint64_t> amqp_skipped{0};
  std::atomic<int64_t> amqp_offset{-1};
  std::atomic<int64_t> amqp_lag{-1};

  void CountPollError(FetchError error) {
    poll_errors[static_cast<size_t>(error)].fetch_add(1, std::memory_order_relaxed);
  }
  void CountAmqpError(AmqpErrorKind kind) {
    amqp_errors[static_cast<size_t>(kind)].fetch_add(1,
                                                     std::memory_order_relaxed);
  }
  MetricsSnapshot Snapshot() const;
};

// Renders `m` in the Prometheus text format, every metric prefixed with
// "notifications_bridge_". Pure: same input, same bytes.
std::string RenderPrometheus(const MetricsSnapshot& m);

}  // namespace notifications

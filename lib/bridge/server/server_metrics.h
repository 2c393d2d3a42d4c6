// ServerMetrics: what the HTTP side counts beyond the hub's Metrics
// (metrics.h): refused requests, the handshake cap, accept failures, cut
// streams. Rendered after the hub's metrics in /metrics, in the same
// Prometheus text format, every name prefixed with "notifications_bridge_".
//
// Thread-safe: every field is atomic (the server loops share one instance).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>

namespace notifications {

// Statuses the server answers by itself when a request is refused before
// any route sees it (malformed, too large, too slow).
enum class RefusedStatus { k400, k408, k414, k431, k505, kCount };

struct ServerMetricsSnapshot {
  uint64_t requests = 0;  // Request heads read completely.
  uint64_t refused[static_cast<size_t>(RefusedStatus::kCount)] = {};
  int64_t handshakes = 0;            // Connections not (yet) streams: gauge.
  uint64_t handshakes_evicted = 0;   // Closed to make room at the cap.
  uint64_t fd_exhausted = 0;         // accept() failed with EMFILE/ENFILE.
  uint64_t streams_cut_slow = 0;     // Unsent bytes past the bound.
  uint64_t streams_cut_stalled = 0;  // No progress for --write-timeout.
  int64_t waiting = 0;  // Requests parked (gap fetches, long-polls): gauge.
  int64_t parked = 0;   // Of those, long-polls: gauge (capped).
  int64_t unsent = 0;   // Bytes queued for streams' clients: gauge.
  size_t worker_threads = 0;  // Threads of the blocking pool: gauge.
};

class ServerMetrics {
 public:
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> refused[static_cast<size_t>(RefusedStatus::kCount)] =
      {};
  std::atomic<int64_t> handshakes{0};
  std::atomic<uint64_t> handshakes_evicted{0};
  std::atomic<uint64_t> fd_exhausted{0};
  std::atomic<uint64_t> streams_cut_slow{0};
  std::atomic<uint64_t> streams_cut_stalled{0};
  std::atomic<int64_t> waiting{0};
  std::atomic<int64_t> parked{0};  // Of those, long-polls (Park), all loops.
  std::atomic<int64_t> unsent{0};

  // Counts a refusal; statuses outside RefusedStatus are not counted.
  void CountRefused(int status);
  ServerMetricsSnapshot Snapshot(size_t worker_threads) const;
};

// Renders `m` (Prometheus text format 0.0.4). Pure.
std::string RenderServerMetrics(const ServerMetricsSnapshot& m);

}  // namespace notifications

// MockApiOptions: every setting of the mock delivery API, with its default
// and unit, and their validation. Plain values; thread-safe to read.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include "mock_faults.h"
#include "notification_store.h"
#include "status.h"

namespace notifications {

struct MockApiOptions {
  // Address to listen on (IPv4 or IPv6 literal, or a host name).
  std::string host = "127.0.0.1";
  // TCP port; 0 = any free port (read the bound one with port()).
  int port = 8081;
  // Prefix of the contract's routes: "" or "/a/b" (starts with '/', no
  // trailing '/', only [A-Za-z0-9._~/-]).
  std::string base_path = "/delivery";
  // Notifications kept in memory, at least 1; older ones answer 410.
  size_t retention = NotificationStore::kDefaultRetention;
  // Bearer token required on every route but {base}/status; empty = none.
  // Printable ASCII without spaces.
  std::string token;
  // JSON file holding an array of notifications (the page item shape; ids
  // and times in it are ignored) appended at Start; empty = none.
  std::string fixtures_path;
  // Synthetic notifications appended per second, 0..10000; 0 = off.
  // Fractional rates are fine (0.2 = one every 5 s).
  double generate_rate = 0;
  // When > 0, each page with new items also starts by re-serving up to this
  // many items the caller already has (`after` and those just before it),
  // within `limit`: for testing callers' dedupe. 0..max_limit.
  int overlap = 0;
  // `limit` when the request has none, 1..max_limit.
  size_t default_limit = 100;
  // Highest `limit` accepted; a greater one answers 400.
  size_t max_limit = 1000;
  // Connections served at once, each on its own thread (created on demand,
  // retired when idle): slow clients and held long-polls never keep the
  // others waiting below this. More wait in a queue. 1..100000.
  size_t max_connections = 1024;
  // A request head (request line and headers) must be complete this long
  // after the connection opened or its previous answer was sent; a slower
  // client is disconnected, however steadily it sends. 0.1 s..1 h.
  std::chrono::milliseconds request_head_timeout{10000};
  // None by default.
  MockFaultOptions faults;
};

// Ok, or kInvalidArgument naming the first field out of range and its value.
Status ValidateMockApiOptions(const MockApiOptions& options);

// Largest request body the gate accepts, in bytes (413 above).
inline constexpr size_t kMockMaxPayloadBytes = 1024 * 1024;

}  // namespace notifications

// What the upstream side (the poller, the gap fetches) tells the server side
// about its health, without either including the other: the kinds of
// failure a fetch can have (counted in /metrics) and the state /healthz
// shows. Plain values; thread-safe as values are.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace notifications {

enum class FetchError {
  kNone,
  kConnect,       // Refused, unreachable, DNS.
  kTimeout,       // connect or total timeout.
  kTransport,     // Reset, truncated body, other transport failure.
  kTooLarge,      // Body above max_page_bytes.
  kGone,          // 410: upstream forgot `after`.
  kUnauthorized,  // 401/403: token missing or wrong.
  kHttpClient,    // Other 4xx.
  kHttpServer,    // 5xx (and any other unexpected status).
  kNotJson,       // 200 with a non-JSON Content-Type.
  kMalformed,     // JSON that does not parse or breaks the contract.
  kRedirect,      // 3xx: never followed; --delivery-url needs fixing.
  kOutOfFds,      // The bridge could not open a socket (EMFILE/ENFILE).
};
constexpr FetchError kLastFetchError = FetchError::kOutOfFds;

// Stable lowercase label for logs and metrics: "connect", "timeout", ...
const char* FetchErrorName(FetchError error);

// What /healthz shows about upstream.
struct UpstreamState {
  bool upstream_ok = false;     // The last request succeeded.
  int64_t last_success_ms = 0;  // Wall time of it, 0 = never.
  std::string last_error;       // "" when none yet.
  int64_t last_error_ms = 0;
  uint32_t consecutive_failures = 0;
  std::string cursor;  // "" = from the oldest.

  // Requests succeed but the source is not delivering as it should (e.g.
  // its ids went back below the cursor, or it forgets every cursor it
  // serves): /healthz says "degraded" (503) with the reason, although
  // upstream_ok may be true. Cleared when the source behaves again.
  bool degraded = false;
  std::string degraded_reason;    // One line; "" when not degraded.
  int64_t degraded_since_ms = 0;  // Wall time it began, 0 when not.

  // Notifications the source sent that were left out (cannot be
  // represented, or above the size cap): the stream goes on without them.
  uint64_t skipped = 0;
  std::string last_skipped_id;      // "" = none yet.
  std::string last_skipped_reason;  // One line.
  int64_t last_skipped_ms = 0;
  // Which source feeds the hub: "polling" (the delivery API) or "amqp"
  // (RabbitMQ, docs/amqp.md).
  std::string source = "polling";
  // AMQP only ("" for polling): "connecting", "connected" (consuming) or
  // "disconnected" (waiting to retry).
  std::string connection;
  // AMQP stream mode: the last stream offset consumed; nullopt otherwise.
  std::optional<int64_t> offset;
  // AMQP: messages the broker holds that the bridge has not consumed yet,
  // from the queue's message count (the broker refreshes it every few
  // seconds: an estimate); nullopt when unknown.
  std::optional<int64_t> lag;
};

}  // namespace notifications

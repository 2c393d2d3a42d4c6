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
  kHttpServer,    // 5xx (and unexpected 1xx/3xx).
  kNotJson,       // 200 with a non-JSON Content-Type.
  kMalformed,     // JSON that does not parse or breaks the contract.
};

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

// BridgeServer: the bridge's HTTP front, on cpp-httplib.
//
// Routes (docs/events.md for the stream):
//   GET /events    Server-Sent Events stream: a StreamSession per request;
//                  once its opening bytes are written, the socket leaves
//                  httplib for the StreamFanout's event loops
//   GET /status    "ALIVE" (Nasqueron's container health check)
//   GET /healthz   JSON: upstream state, cursor, clients; 503 when the last
//                  poll failed
//   GET /metrics   Prometheus text format
//   GET /...       the page, from --public-dir (StaticFiles)
//   OPTIONS *      CORS preflight; other methods: 405
//
// Around cpp-httplib as Debian builds it (see shared/KNOWLEDGE.md): its
// per-connection loop is replaced (so a handler can take its socket, and
// idle keep-alive connections wait in poll() instead of httplib's 1 ms
// sleep loop), its worker pool by an on-demand WorkerPool, the listen
// backlog is raised to SOMAXCONN, SO_REUSEPORT is not set (a second bridge
// on the same port fails instead of sharing it), and routing is done here
// without regexes.
//
// Thread-safe: Start/Stop from the owning thread; handlers run on pool
// threads. Not copyable.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "event_hub.h"
#include "logger.h"
#include "metrics.h"
#include "upstream_health.h"
#include "status.h"
#include "stream_session.h"

namespace notifications {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0 = any free port; see BridgeServer::port().
  std::string public_dir;  // "" = no page.
  // Every route lives under this prefix ("/notifications": the stream is
  // /notifications/events), for a proxy that does not strip it. "" = /.
  std::string base_path;
  size_t max_clients = 1000;
  std::vector<std::string> allow_origins;  // Exact CORS origins.
  std::chrono::milliseconds heartbeat{15000};
  std::chrono::milliseconds retry{3000};  // Jitter: up to 2/3 of it more.
  // `retry:` told to streams turned away at max_clients: in [busy_retry,
  // 2 * busy_retry], so the crowd comes back spread out.
  std::chrono::milliseconds busy_retry{30000};
  // A stream whose client takes no bytes for this long is cut.
  std::chrono::milliseconds write_timeout{5000};
  // Threads writing the event streams (StreamFanout); 0 = one per core.
  size_t stream_threads = 0;
  // Worker threads beyond max_clients (status, metrics, files, refusals).
  // A stream holds a worker only until its opening bytes are written.
  size_t extra_threads = 16;
  // When not empty, /events requires this token: as the `access_token`
  // query parameter or the `notifications_stream_token` cookie (an
  // EventSource cannot send headers). Missing or wrong: 401, no stream.
  std::string stream_token;
};

// Name of the cookie that can carry the stream token.
inline constexpr const char* kStreamTokenCookie = "notifications_stream_token";

// True when `request_token` equals `expected`, in time that depends only
// on their lengths (no early exit on the first differing byte).
bool TokensEqual(const std::string& request_token, const std::string& expected);

// The value of cookie `name` in a Cookie header ("a=1; b=2"), or "".
std::string CookieValue(const std::string& cookie_header, const std::string& name);

// The JSON body of /healthz (pure; for tests). `upstream` shows the source
// ("polling" or "amqp"); for AMQP also its connection, offset and lag.
std::string RenderHealthz(const UpstreamState& upstream, int64_t clients,
                          size_t history, size_t history_capacity);

class BridgeServer {
 public:
  // References must outlive the server. `gaps` may be null.
  // `upstream_state` is called for /healthz.
  BridgeServer(ServerOptions options, EventHub& hub, GapSource* gaps,
               Metrics& metrics, Logger& logger,
               std::function<UpstreamState()> upstream_state);
  ~BridgeServer();
  BridgeServer(const BridgeServer&) = delete;
  BridgeServer& operator=(const BridgeServer&) = delete;

  // Binds and serves on a background thread. Fails (with the address and
  // the reason) when the address cannot be bound.
  Status Start();
  // The bound port (after Start()).
  int port() const;
  // Stops accepting, waits for every connection to finish. Streams end when
  // the hub is shut down: call EventHub::Shutdown() first; Stop() then
  // gives them up to 3 s to write their last chunk before closing.
  // Idempotent.
  void Stop();

  // Worker threads alive now, and the most ever alive (for tests/metrics).
  size_t threads() const;
  size_t peak_threads() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace notifications

// BridgeServer: the bridge's HTTP/1.1 server, on its own event loops.
//
// A few ServerLoops (server_loop.h; --stream-threads, one per core by
// default) share one listening socket: each accepts, reads and parses
// request heads (HttpRequestParser, with the limits of ServerOptions),
// answers the routes (BridgeRoutes, routes.h) and writes its SSE streams.
// No thread per connection or per handshake; work that blocks (a gap
// fetched from upstream for a stream resuming from an old Last-Event-ID)
// runs on a small pool of threads (ServerOptions::blocking_threads) and
// its result is handed back to the connection's loop.
//
// Routes (docs/events.md for the stream; README, "Routes"):
//   GET /events    Server-Sent Events stream
//   GET /status    "ALIVE" (Nasqueron's container health check)
//   GET /healthz   JSON: upstream state, cursor, clients; 503 when the last
//                  poll failed
//   GET /metrics   Prometheus text format
//   GET /...       the page, from --public-dir (StaticFiles)
//   OPTIONS *      CORS preflight; other methods: 405
//
// Adding a route (e.g. the delivery API's long-poll,
// GET /delivery/notifications?after=&limit=&wait=, served from the hub's
// history): before Start(), call
//
//   server.AddRoute("/delivery/notifications", [&](HttpExchange& ex) {
//     // On a loop thread: parse ex.request().query (ParseQueryString),
//     // check the stream token if needed, then either answer now:
//     //   ex.Respond(HttpReply::Text(200, "application/json", page));
//     // or wait for the hub, at most `wait`:
//     //   ex.Park(wait, [&](HttpExchange& later, HttpExchange::Wake why) {
//     //     if (why == HttpExchange::Wake::kPublished && nothing_new)
//     //       return false;              // keep waiting
//     //     later.Respond(...);          // answer (kTimeout: an empty page)
//     //     return true;
//     //   });
//   });
//
// The handler and every callback run on the connection's loop and must not
// block; blocking work goes through ex.RunBlocking(). Parked requests are
// capped (max_parked) and woken after each hub publication.
//
// Thread-safe: Start/Stop/AddRoute from the owning thread; port(), threads()
// from any. Not copyable.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "clock.h"
#include "event_hub.h"
#include "gap_source.h"
#include "http_exchange.h"
#include "logger.h"
#include "metrics.h"
#include "routes.h"
#include "server_options.h"
#include "status.h"
#include "upstream_health.h"

namespace notifications {

class BridgeServer {
 public:
  // References must outlive the server. `gaps` may be null.
  // `upstream_state` is called for /healthz (from the loops' threads).
  BridgeServer(ServerOptions options, EventHub& hub, GapSource* gaps,
               Metrics& metrics, Logger& logger, Clock& clock,
               std::function<UpstreamState()> upstream_state);
  // With the system clock.
  BridgeServer(ServerOptions options, EventHub& hub, GapSource* gaps,
               Metrics& metrics, Logger& logger,
               std::function<UpstreamState()> upstream_state);
  ~BridgeServer();
  BridgeServer(const BridgeServer&) = delete;
  BridgeServer& operator=(const BridgeServer&) = delete;

  // Serves `path` (under the base path) with `handler`, for GET and HEAD
  // (see above). Before Start().
  void AddRoute(std::string path, std::function<void(HttpExchange&)> handler);

  // Binds (backlog SOMAXCONN, no SO_REUSEPORT: a second bridge on the same
  // port fails instead of sharing it) and starts the loops. Fails (with
  // the address and the reason) when the address cannot be bound.
  Status Start();
  // The bound port (after Start()).
  int port() const;
  // Stops accepting; ends every stream with its last chunk (where the
  // socket takes it), answers requests waiting on upstream, closes idle
  // connections; what is still being written after `grace` is closed. Then
  // the loops exit: the server is down within about `grace`, whatever is in
  // flight. Work still running on the blocking pool (a gap fetch) is
  // waited for by the destructor, not here. Idempotent.
  void Stop(std::chrono::milliseconds grace = std::chrono::milliseconds(1500));

  // Threads of the blocking pool alive now, and the most ever alive.
  size_t threads() const;
  size_t peak_threads() const;
  // Streams open now, and connections in their handshake.
  size_t streams() const;
  size_t handshakes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace notifications

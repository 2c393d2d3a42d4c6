// BridgeRoutes: what the bridge answers to each request (README, "Routes";
// docs/events.md for the stream), independent of sockets: the server loops
// call Handle() with an HttpExchange.
//
//   OPTIONS any        204, Allow, CORS preflight fields for allowed origins
//   not GET/HEAD       405 JSON, Allow: GET, HEAD, OPTIONS
//   <base>             301 to <base>/ (with --base-path)
//   <base>/events      the SSE stream: token (401), parameters (400),
//                      HEAD (headers only), --max-clients (200 + long
//                      retry + end), a gap fetched on the blocking pool
//   <base>/status      "ALIVE"
//   <base>/healthz     JSON upstream state; 503 while the last poll failed
//   <base>/metrics     Prometheus text: the hub's, then the server's
//   extra routes       Add() (e.g. a long-poll route), exact paths
//   <base>/...         StaticFiles: cached bytes, gzip when accepted (Vary:
//                      Accept-Encoding), ETag per representation, 304
// Every answer carries X-Content-Type-Options: nosniff, and with
// --allow-origin, Vary: Origin (plus Access-Control-Allow-Origin for an
// allowed origin).
//
// What each route costs is bounded: no route reads a file or compresses
// per request (StaticFiles caches), /metrics and /healthz render a few KB,
// filters are bounded by Filter's limits, the query by 256 parameters and
// the head by the server's limits.
//
// Thread-safe: every loop calls Handle(); Add() only before serving.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <string>

#include "event_hub.h"
#include "gap_source.h"
#include "http_exchange.h"
#include "log_limiter.h"
#include "metrics.h"
#include "server_options.h"
#include "shared_frames.h"
#include "static_files.h"
#include "upstream_health.h"

namespace notifications {

class BridgeRoutes final : public HttpHandler {
 public:
  // Everything must outlive the routes. `gaps` may be null.
  // `extra_metrics` is appended to /metrics (the server's own counters).
  BridgeRoutes(const ServerOptions& options, EventHub& hub, GapSource* gaps,
               Metrics& metrics, const StaticFiles& files,
               std::function<UpstreamState()> upstream_state,
               std::function<std::string()> extra_metrics,
               LogLimiter& refused_log);
  BridgeRoutes(const BridgeRoutes&) = delete;
  BridgeRoutes& operator=(const BridgeRoutes&) = delete;

  // Serves `path` (under the base path, e.g. "/delivery/notifications")
  // with `handler`, for GET and HEAD. Before the server starts.
  void Add(std::string path, std::function<void(HttpExchange&)> handler);

  void Handle(HttpExchange& ex) override;

 private:
  void HandleEvents(HttpExchange& ex, HeaderFields fields);
  void HandleStatic(HttpExchange& ex, const std::string& path,
                    HeaderFields fields);
  void AddCors(const HttpRequestHead& request, HeaderFields* fields) const;
  uint64_t NextSeed();

  const ServerOptions& options_;
  EventHub& hub_;
  GapSource* gaps_;
  Metrics& metrics_;
  const StaticFiles& files_;
  std::function<UpstreamState()> upstream_state_;
  std::function<std::string()> extra_metrics_;
  LogLimiter& refused_log_;
  std::map<std::string, std::function<void(HttpExchange&)>> extra_;
  // Gap notifications, encoded once for every stream that resumes through
  // them (a reconnect storm holds each missed frame once).
  SharedFrames frames_;

  std::mutex rng_mu_;
  std::mt19937_64 rng_;  // guarded by rng_mu_
};

// The standard JSON error answer: {"error":code,"message":message}.
HttpReply JsonError(int status, const std::string& code,
                    const std::string& message);

// True when `request_token` equals `expected`, in time that depends only
// on their lengths (no early exit on the first differing byte).
bool TokensEqual(const std::string& request_token, const std::string& expected);

// The value of cookie `name` in a Cookie header ("a=1; b=2"), or "".
std::string CookieValue(const std::string& cookie_header,
                        const std::string& name);

// The JSON body of /healthz (pure; for tests). `upstream` shows the source
// ("polling" or "amqp"); for AMQP also its connection, offset and lag.
std::string RenderHealthz(const UpstreamState& upstream, int64_t clients,
                          size_t history, size_t history_capacity);

}  // namespace notifications

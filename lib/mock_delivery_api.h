// MockDeliveryApi: notifications-mock-api, a real HTTP server implementing
// the delivery API contract (docs/delivery-api.md) for local development and
// tests, fed by fixtures, by a synthetic generator and by a copy of the
// Notifications Center's native gate.
//
// Routes (`{base}` is MockApiOptions::base_path, "/delivery" by default):
//
//   GET  {base}/status                  200 text/plain "ALIVE"; no token.
//   GET  {base}/notifications?after=&limit=
//                                       200 application/json page, or
//                                       400 bad_request, 401 unauthorized,
//                                       410 gone, exactly as the contract.
//   POST /gate/Notification/{project}   Not under {base}: the Notifications
//                                       Center's own path. Body: one
//                                       notification as JSON (`project` in it
//                                       wins over the path's). 200 with
//                                       {"id":"…","time":"…","routingKey":"…"},
//                                       400 bad_request naming the problem,
//                                       401 unauthorized, 413 payload_too_large
//                                       above 1 MiB.
//   anything else                       404 not_found.
//
// Every non-200 answer has the contract's JSON error body
// {"error": "...", "message": "..."} and Content-Type application/json.
// When a token is configured, every route but {base}/status requires
// "Authorization: Bearer <token>" (compared in constant time).
//
// Thread-safe: Start/Stop/port/store may be called from any thread; requests
// are served by the server's own worker threads. Not copyable. The clock and
// logger given to the constructor must outlive the object.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "clock.h"
#include "logger.h"
#include "notification.h"
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
};

// Ok, or kInvalidArgument naming the first field out of range and its value.
Status ValidateMockApiOptions(const MockApiOptions& options);

// The n-th notification of the synthetic generator (n from 0): it rotates
// over GitHub push/pull_request/status, Jenkins started/completed.success/
// completed.failure, Phabricator TASK/DREV (link ""), DockerHub push/
// buildFailure, over groups ops/ci/docker/devtools/orgz/"", with realistic
// text, link and a small rawContent. Deterministic; no id or time.
Notification SyntheticNotification(uint64_t n);

// Largest request body the gate accepts, in bytes (413 above).
inline constexpr size_t kMockMaxPayloadBytes = 1024 * 1024;

class MockDeliveryApi {
 public:
  // Builds the store (ids prefixed with the clock's current Unix seconds,
  // 10 digits) and nothing else: no socket, no thread before Start().
  MockDeliveryApi(MockApiOptions options, Clock& clock, Logger& logger);
  // Stops (see Stop()).
  ~MockDeliveryApi();

  MockDeliveryApi(const MockDeliveryApi&) = delete;
  MockDeliveryApi& operator=(const MockDeliveryApi&) = delete;

  // Validates the options, appends the fixtures, binds host:port and
  // starts serving on a background thread, then starts the generator when
  // generate_rate > 0. Returns when requests can be accepted.
  // Failures (nothing left running): kInvalidArgument for bad options or a
  // bad fixtures file (message names the path and the problem);
  // kUnavailable when the address cannot be bound, e.g. the port is taken
  // (the port is exclusive: SO_REUSEADDR only, never SO_REUSEPORT).
  // Callable once; a second call fails with kInternal.
  Status Start();

  // The bound TCP port once Start() succeeded (the real one when
  // options.port is 0); 0 before.
  int port() const;

  // Stops the generator and the server and joins their threads; requests in
  // flight are finished first. Idempotent; prompt (no sleep to wait out).
  void Stop();

  // The notifications served; append to it directly in tests. Valid for the
  // object's life, before and after Start/Stop.
  NotificationStore& store();

  const MockApiOptions& options() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace notifications

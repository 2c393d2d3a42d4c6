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
//   GET  {base}/faults                  Mock-only: 200 application/json
//                                       counts of injected faults,
//                                       {"requests":N,"total":T,"faults":
//                                       {"5xx":a,"delay":b,...}}.
//   DELETE {base}/faults                Mock-only: stops injecting faults
//                                       (the API "heals"); same answer.
//   anything else                       404 not_found.
//
// Fault injection (MockFaultOptions, docs/delivery-api.md "Fault
// injection"): each GET {base}/notifications that passed the token and
// parameter checks draws at most one fault with the configured
// probabilities; the routes above describe the answers without faults.
//
// Every non-200 answer has the contract's JSON error body
// {"error": "...", "message": "..."} and Content-Type application/json.
// When a token is configured, every route but {base}/status requires
// "Authorization: Bearer <token>" (compared in constant time).
//
// Under pressure (MockHttpServer): each connection is served by its own
// thread from a pool that grows on demand up to
// MockApiOptions::max_connections (slow clients and held long-polls never
// make GET {base}/status wait below that), a request head must be complete
// within request_head_timeout whatever the client's pace, and the listen
// backlog is SOMAXCONN.
//
// Thread-safe: Start/Stop/port/store may be called from any thread; requests
// are served by the server's own worker threads. Not copyable. The clock and
// logger given to the constructor must outlive the object.
#pragma once

#include <memory>

#include "clock.h"
#include "logger.h"
#include "mock_faults.h"
#include "mock_options.h"
#include "notification_store.h"
#include "status.h"

namespace notifications {

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
  // flight are finished first (those held by a delay or slow fault are cut
  // short). Idempotent; prompt (no sleep to wait out).
  void Stop();

  // The notifications served; append to it directly in tests. Valid for the
  // object's life, before and after Start/Stop.
  NotificationStore& store();

  const MockApiOptions& options() const;

  // Counts of the faults injected so far (what GET {base}/faults answers).
  MockFaultCounts fault_counts() const;
  // No fault from now on (what DELETE {base}/faults does); requests already
  // held by a delay or slow fault finish as they were.
  void StopFaults();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace notifications

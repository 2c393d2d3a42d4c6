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
// Thread-safe: Start/Stop/port/store may be called from any thread; requests
// are served by the server's own worker threads. Not copyable. The clock and
// logger given to the constructor must outlive the object.
#pragma once

#include <array>
#include <chrono>
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

// What can go wrong with one poll request, on purpose. Each is what a real
// delivery API, its proxy or its network can do.
enum class MockFault {
  k5xx,       // 500, 502 or 503 with the contract's JSON error body.
  kDelay,     // Held for MockFaultOptions::delay, then answered normally.
  kClose,     // Headers with the full Content-Length, part of the body,
              // then the connection is closed.
  kTruncate,  // 200 application/json, complete framing, but the JSON is cut
              // short (a proper prefix: never valid JSON).
  kGarbage,   // 200 text/html, an HTML error page instead of JSON.
  kReserve,   // The page re-serves 1..limit already delivered items (as
              // --overlap, at random); only when it has a new item.
  kGone,      // 410 gone as if `after` were forgotten; only with `after`.
  kSlow,      // The normal page, dripped in small pieces every 100 ms over
              // MockFaultOptions::slow.
};
inline constexpr size_t kMockFaultKinds = 8;
// Stable lowercase label: "5xx", "delay", "close", "truncate", "garbage",
// "reserve", "gone", "slow" (the flag is --fault-<label>).
const char* MockFaultName(MockFault fault);

struct MockFaultOptions {
  // Probability (0..1) that one poll request gets each fault, indexed by
  // MockFault. They add up to at most 1: a request gets at most one fault
  // (one uniform draw per request falls into at most one of the rates laid
  // end to end). A fault that does not apply to a request (gone without
  // `after`, reserve without a new item) leaves it unharmed and uncounted.
  std::array<double, kMockFaultKinds> rates{};
  // How long kDelay holds a request, 0..3600 s. Longer than the bridge's
  // default --request-timeout (30 s), so that it is a timeout there.
  std::chrono::milliseconds delay{35000};
  // About how long kSlow takes to drip a whole page, 0..3600 s.
  std::chrono::milliseconds slow{2000};
  // Seed of the fault draws, for reproducible runs; 0 = random. The draws
  // come in request arrival order: with one caller (the bridge's poller)
  // a seed replays the same faults.
  uint64_t seed = 0;

  double& rate(MockFault f) { return rates[static_cast<size_t>(f)]; }
  double rate(MockFault f) const { return rates[static_cast<size_t>(f)]; }
  // Sum of the rates: the probability that a request draws a fault.
  double Total() const;
};

// Faults injected so far, by kind (indexed by MockFault).
struct MockFaultCounts {
  // GET {base}/notifications requests that passed the token and parameter
  // checks (those that could draw a fault), faulted or not.
  uint64_t requests = 0;
  std::array<uint64_t, kMockFaultKinds> injected{};
  uint64_t total() const;
  uint64_t of(MockFault f) const { return injected[static_cast<size_t>(f)]; }
};

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
  // None by default.
  MockFaultOptions faults;
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

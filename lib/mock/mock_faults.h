// Fault injection of the mock delivery API (docs/delivery-api.md, "Fault
// injection"): what can go wrong with one poll request on purpose, with
// which probabilities, and the injector that draws, counts and holds them.
#pragma once

#include <array>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <random>
#include <string>

#include "clock.h"

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

// {"requests":N,"total":T,"faults":{"5xx":a,"delay":b,...}} in MockFault
// order: what GET {base}/faults answers.
std::string FaultCountsToJson(const MockFaultCounts& counts);

// The answers of the 5xx fault; one is drawn per faulted request.
struct InjectedServerError {
  int status;
  const char* code;
  const char* what;
};
inline constexpr InjectedServerError kInjectedServerErrors[] = {
    {500, "internal", "internal server error"},
    {502, "bad_gateway", "bad gateway"},
    {503, "unavailable", "service unavailable"},
};

// What the garbage fault answers: what a proxy in front of a dead backend,
// or a captive portal, answers: a 200 that is not JSON.
inline constexpr char kGarbageHtml[] =
    "<!DOCTYPE html>\n<html><head><title>Service temporarily "
    "unavailable</title></head>\n<body><h1>We&rsquo;ll be right back</h1>"
    "<p>injected fault: garbage (notifications-mock-api "
    "--fault-garbage)</p></body></html>\n";

// How often the slow fault writes a piece of the page.
inline constexpr std::chrono::milliseconds kDripInterval{100};

// MockFaultInjector: draws the fault of each poll request, counts what was
// injected, and holds requests (delay, slow) until their time or Stop().
// Thread-safe (one mutex; never held while waiting but in Hold()'s
// condition variable). Not copyable. `clock` must outlive it.
class MockFaultInjector {
 public:
  MockFaultInjector(const MockFaultOptions& options, Clock& clock);
  MockFaultInjector(const MockFaultInjector&) = delete;
  MockFaultInjector& operator=(const MockFaultInjector&) = delete;

  // Counts a request that may draw a fault, and draws one with the current
  // rates: the fault, or nullopt.
  std::optional<MockFault> Draw();
  // A uniform integer in [lo, max(lo, hi)] from the same generator.
  size_t Uniform(size_t lo, size_t hi);
  // Counts one injected `fault`.
  void Count(MockFault fault);
  // Waits `duration` unless Stop() comes first; false when stopping.
  bool Hold(std::chrono::nanoseconds duration);
  // No fault from now on (DELETE {base}/faults): rates become 0. True when
  // some rate was not 0.
  bool StopInjecting();
  // Wakes every Hold() now, and makes later ones return false at once.
  void Stop();

  MockFaultCounts counts() const;

 private:
  Clock& clock_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  // guarded by mu_:
  std::mt19937_64 rng_;
  std::array<double, kMockFaultKinds> rates_;  // Until StopInjecting().
  MockFaultCounts counts_;
  bool stopped_ = false;  // Stop() was called: no more holding requests.
};

}  // namespace notifications

// What a misbehaving upstream does to a real bridge, seen from outside:
// /healthz, /metrics and a browser-like stream.
#include <doctest/doctest.h>

#include <functional>
#include <thread>

#include "test_support.h"

namespace notifications {
namespace {

using namespace std::chrono_literals;
using testing::BridgeProcess;
using testing::HttpRequestTo;
using testing::Metric;
using testing::MockApiProcess;
using testing::SseClient;
using testing::WaitUntil;

TEST_CASE(
    "upstream faults: a 410 on every poll resets the streams once and /healthz "
    "says degraded") {
  // Before: every request with a cursor got 410, and each one reset every
  // stream and re-published the page: once per poll interval, forever,
  // while /healthz answered 200 between two of them.
  MockApiProcess mock({"--fault-gone", "1"});
  REQUIRE(
      !mock.Post(
               R"({"service":"GitHub","group":"ops","type":"push","text":"one"})")
           .empty());
  BridgeProcess bridge(mock.base_url(),
                       {"--poll-interval", "0.1", "--backoff-max", "0.2"});
  SseClient client(bridge.url("/events"));
  REQUIRE(WaitUntil(
      [&] { return Metric(bridge, "notifications_bridge_upstream_resets_suppressed_total") >= 5; },
      20s));
  CHECK(Metric(bridge, "notifications_bridge_upstream_resets_total") == 1);
  CHECK(Metric(bridge, "notifications_bridge_upstream_degraded") == 1);
  auto health = HttpRequestTo(bridge.url("/healthz"));
  CHECK(health.status == 503);
  CHECK(health.body.find("\"status\":\"degraded\"") != std::string::npos);
  CHECK(health.body.find(
            "\"degraded\":true,\"degradedReason\":\"the delivery API "
            "answers 410 for cursors it has just served") != std::string::npos);
  // The stream saw at most the one reset (it may have connected after it).
  CHECK(client.WaitFor(2, 200ms, "reset").size() <= 1);
  // The incident ends: the next request with the cursor succeeds.
  CHECK(HttpRequestTo(mock.base_url() + "/faults", "DELETE").status == 200);
  REQUIRE(
      WaitUntil([&] { return Metric(bridge, "notifications_bridge_upstream_degraded") == 0; }, 10s));
  CHECK(HttpRequestTo(bridge.url("/healthz")).status == 200);
  CHECK(Metric(bridge, "notifications_bridge_upstream_resets_total") == 1);
}

}  // namespace
}  // namespace notifications

// SIGTERM while upstream holds the bridge: a long-poll the API holds, a
// page it drips slowly, a gap fetch it delays. The bridge cancels the
// transfer and exits 0 within 2 s (the shipped unit's TimeoutStopSec is 20;
// before, the bridge waited for the API: 18 s with --long-poll 20).
// bench/shutdown.sh measures the same cases.
#include <doctest/doctest.h>
#include <signal.h>

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

const char kBody[] =
    R"({"service":"GitHub","group":"ops","type":"push","text":"one"})";

// The value of the sample `name` in the bridge's /metrics, or -1.
std::chrono::milliseconds Terminate(BridgeProcess& bridge) {
  auto start = std::chrono::steady_clock::now();
  bridge.process->Signal(SIGTERM);
  int code = bridge.process->Wait(10s);
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  CHECK(code == 0);
  MESSAGE("exited " << code << " after " << took.count() << " ms");
  return took;
}

TEST_CASE("upstream shutdown: SIGTERM during a long-poll held by the API exits 0 within 2 s") {
  MockApiProcess mock;
  REQUIRE(!mock.Post(kBody).empty());
  BridgeProcess bridge(mock.base_url(), {"--long-poll", "20"});
  // The first poll brings the notification; the second is then held by the
  // API for up to 20 s, as nothing newer comes.
  REQUIRE(WaitUntil([&] { return Metric(bridge, "notifications_bridge_notifications_published_total") == 1; }, 10s));
  REQUIRE(WaitUntil([&] { return Metric(bridge, "notifications_bridge_polls_total") >= 2; }, 10s));
  std::this_thread::sleep_for(300ms);  // Let it reach the API and be held.
  CHECK(Metric(bridge, "notifications_bridge_polls_total") == 2);  // Still that one request.
  CHECK(Terminate(bridge) < 2s);
  CHECK(bridge.process->Stderr().find("error") == std::string::npos);
}

TEST_CASE("upstream shutdown: SIGTERM while the API drips a slow page exits 0 within 2 s") {
  MockApiProcess mock({"--fault-slow", "1", "--fault-slow-seconds", "20"});
  REQUIRE(!mock.Post(kBody).empty());
  BridgeProcess bridge(mock.base_url(), {"--request-timeout", "60"});
  REQUIRE(WaitUntil([&] { return Metric(bridge, "notifications_bridge_polls_total") >= 1; }, 10s));
  std::this_thread::sleep_for(300ms);  // The drip has begun.
  CHECK(Metric(bridge, "notifications_bridge_notifications_published_total") == 0);
  CHECK(Terminate(bridge) < 2s);
}

TEST_CASE("upstream shutdown: SIGTERM during a gap fetch the API delays exits 0 within 2 s") {
  // Every request held 30 s: the poller's and the resuming stream's.
  MockApiProcess mock({"--fault-delay", "1", "--fault-delay-seconds", "30"});
  BridgeProcess bridge(mock.base_url(), {"--request-timeout", "60"});
  REQUIRE(WaitUntil([&] { return Metric(bridge, "notifications_bridge_polls_total") >= 1; }, 10s));
  // An id older than the (empty) history: its gap is fetched upstream.
  SseClient client(bridge.url("/events"), {{"Last-Event-ID", "1795869554-0000000001"}});
  REQUIRE(WaitUntil([&] { return Metric(bridge, "notifications_bridge_gap_fetches_total") >= 1; }, 10s));
  std::this_thread::sleep_for(300ms);
  CHECK(Metric(bridge, "notifications_bridge_gap_fetches_in_flight") == 1);
  CHECK(Terminate(bridge) < 2s);
  CHECK(client.WaitForEnd(2s));
}

}  // namespace
}  // namespace notifications

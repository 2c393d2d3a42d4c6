// The bridge behind a real nginx configured with the location block we
// ship for api.nasqueron.org (packaging/nginx/notifications.conf, its
// {{ app_port }} and {{ api_entry_point }} filled in), with a real mock
// delivery API upstream (nginx_proxy.h runs nginx).
//
// Controls: each behaviour is also shown to fail when the directive that
// provides it is taken out, so these tests would notice a regression in
// the shipped file.
//
// Without nginx the cases say so and pass.
#include <doctest/doctest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>
#include <utility>

#include "nginx_proxy.h"
#include "test_support.h"

namespace notifications {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testing::BridgeProcess;
using testing::ChildProcess;
using testing::HttpRequestTo;
using testing::MockApiProcess;
using testing::NginxMissing;
using testing::NginxProxy;
using testing::RenderNginxTemplate;
using testing::ReplaceAll;
using testing::ShippedNginxFile;
using testing::SseClient;
using testing::WaitForMetricEquals;

constexpr char kEntryPoint[] = "/notifications";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// nginx in front of the bridge at `upstream_port`, with the shipped
// location block after `edits` (each one must apply).
std::string ShippedLocation(int upstream_port,
                            const std::vector<std::pair<std::string, std::string>>& edits) {
  std::string location = RenderNginxTemplate(
      ShippedNginxFile("notifications.conf"),
      {{"app_port", std::to_string(upstream_port)}, {"api_entry_point", kEntryPoint}});
  for (const auto& [from, to] : edits) ReplaceAll(location, from, to);
  return location;
}

class ShippedProxy : public NginxProxy {
 public:
  explicit ShippedProxy(int upstream_port,
                        const std::vector<std::pair<std::string, std::string>>& edits = {})
      : NginxProxy(ShippedLocation(upstream_port, edits), "", kEntryPoint) {}
};

std::string Body(const std::string& text) {
  return R"({"service":"GitHub","group":"ops","type":"push","text":")" + text +
         R"(","link":""})";
}

bool WaitConnected(const SseClient& client, std::chrono::milliseconds timeout) {
  for (auto deadline = Clock::now() + timeout; Clock::now() < deadline;) {
    if (client.status() != 0) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

double Ms(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

// Streams through nginx ask for gzip, as browsers do: a compressed or
// buffered stream would show here.
const std::map<std::string, std::string> kBrowserHeaders = {{"Accept-Encoding", "gzip"}};

// The shipped block, made independent of the bridge's own
// "X-Accel-Buffering: no": only the block's directives may keep nginx
// from buffering.
const std::pair<std::string, std::string> kIgnoreBridgeHint = {
    "proxy_buffering off;", "proxy_buffering off; proxy_ignore_headers X-Accel-Buffering;"};

TEST_CASE("nginx: the shipped location serves the bridge under its entry point") {
  if (NginxMissing()) return;
  MockApiProcess mock;
  REQUIRE(mock.port > 0);
  BridgeProcess bridge(mock.base_url(), {"--base-path", kEntryPoint});
  REQUIRE(bridge.port > 0);
  ShippedProxy nginx(bridge.port);

  auto status = HttpRequestTo(nginx.url("/status"));
  CHECK(status.status == 200);
  CHECK(status.body == "ALIVE");
  auto page = HttpRequestTo(nginx.url("/"));
  CHECK(page.status == 200);
  CHECK(page.body == ReadFile(std::string(NB_SOURCE_DIR) + "/public/index.html"));
  // Without the slash the page's relative URLs would break: redirected.
  auto bare = HttpRequestTo(nginx.url(""));
  CHECK(bare.status == 301);
  CHECK(bare.headers["location"].find(std::string(kEntryPoint) + "/") != std::string::npos);
}

TEST_CASE("nginx: events pass through the shipped location at once and uncompressed") {
  if (NginxMissing()) return;
  constexpr double kPollS = 0.5;
  MockApiProcess mock;
  REQUIRE(mock.port > 0);
  // A 30 s heartbeat: an event held by nginx until the stream's next bytes
  // would come 30 s late, far beyond the 5 s each one is given below.
  BridgeProcess bridge(mock.base_url(),
                       {"--base-path", kEntryPoint, "--poll-interval", "0.5",
                        "--heartbeat", "30"});
  REQUIRE(bridge.port > 0);
  ShippedProxy nginx(bridge.port, {kIgnoreBridgeHint});

  SseClient direct(bridge.url(std::string(kEntryPoint) + "/events"));
  SseClient proxied(nginx.url("/events"), kBrowserHeaders);
  REQUIRE(direct.WaitForOpen(5s));
  REQUIRE(proxied.WaitForOpen(5s));
  CHECK(proxied.header("content-type") == "text/event-stream");
  CHECK(proxied.header("content-encoding") == "");

  constexpr int kEvents = 8;
  double worst_post_to_proxied_ms = 0;
  double worst_proxy_extra_ms = 0;
  double sum_post_to_proxied_ms = 0;
  for (int i = 0; i < kEvents; ++i) {
    auto posted = Clock::now();
    REQUIRE(!mock.Post(Body("through nginx " + std::to_string(i))).empty());
    REQUIRE(direct.WaitFor(static_cast<size_t>(i + 1), 5s).size() == static_cast<size_t>(i + 1));
    auto at_direct = Clock::now();
    REQUIRE(proxied.WaitFor(static_cast<size_t>(i + 1), 5s).size() == static_cast<size_t>(i + 1));
    auto at_proxied = Clock::now();
    worst_post_to_proxied_ms = std::max(worst_post_to_proxied_ms, Ms(at_proxied - posted));
    worst_proxy_extra_ms = std::max(worst_proxy_extra_ms, Ms(at_proxied - at_direct));
    sum_post_to_proxied_ms += Ms(at_proxied - posted);
    // Spread the posts over the poll cycle.
    std::this_thread::sleep_for(std::chrono::milliseconds(130 + 70 * i));
  }
  MESSAGE("through nginx: post -> event mean " << sum_post_to_proxied_ms / kEvents
          << " ms, worst " << worst_post_to_proxied_ms << " ms (poll interval "
          << kPollS * 1000 << " ms); worst extra delay over the direct stream "
          << worst_proxy_extra_ms << " ms");
  // Each event reached the proxied client before the next one was posted,
  // within 5 s, far below the heartbeat: nginx passed it on by itself. How
  // soon is the figure above, not a bound.
  CHECK(proxied.header("content-encoding") == "");
  auto ids_direct = testing::Ids(direct.WaitFor(kEvents, 10ms));
  CHECK(testing::Ids(proxied.WaitFor(kEvents, 10ms)) == ids_direct);
}

// What protects the stream, one directive at a time (the bridge's own
// "X-Accel-Buffering: no" ignored throughout). Measured with nginx 1.22:
// buffering alone does not hold small chunked events back when the client
// reads, and compression alone flushes at every event (compressed, though);
// together they hold everything, headers included, so a browser's
// EventSource never even opens. The shipped block turns both off.
TEST_CASE("nginx: gzip off or proxy_buffering off alone keeps events flowing and without both nothing arrives") {
  if (NginxMissing()) return;
  const std::pair<std::string, std::string> kGzipOn = {"gzip off;", ""};
  const std::pair<std::string, std::string> kBufferingOn = {
      "proxy_buffering off;", "proxy_buffering on; proxy_ignore_headers X-Accel-Buffering;"};
  std::vector<std::pair<std::string, std::string>> edits;
  bool expect_flowing = true;
  bool expect_gzip = false;
  std::string what;
  SUBCASE("compression on, buffering off") {
    edits = {kGzipOn, kIgnoreBridgeHint};
    expect_gzip = true;
    what = "gzip on, proxy_buffering off";
  }
  SUBCASE("buffering on, compression off") {
    edits = {kBufferingOn};
    what = "gzip off, proxy_buffering on";
  }
  SUBCASE("control: both on") {
    edits = {kGzipOn, kBufferingOn};
    expect_flowing = false;
    what = "gzip on, proxy_buffering on";
  }
  MockApiProcess mock;
  REQUIRE(mock.port > 0);
  // A 30 s heartbeat: bytes held until the stream's next write would come
  // far beyond the 3 s each event is given below.
  BridgeProcess bridge(mock.base_url(),
                       {"--base-path", kEntryPoint, "--poll-interval", "0.5",
                        "--heartbeat", "30"});
  REQUIRE(bridge.port > 0);
  ShippedProxy nginx(bridge.port, edits);
  SseClient direct(bridge.url(std::string(kEntryPoint) + "/events"));
  SseClient proxied(nginx.url("/events"), kBrowserHeaders);
  REQUIRE(direct.WaitForOpen(5s));
  // nginx's own stream to the bridge is open (so the event will reach
  // nginx), whatever nginx passes on to its client.
  REQUIRE(WaitForMetricEquals(bridge, "notifications_bridge_clients_connected",
                              2, 5s));
  CHECK(WaitConnected(proxied, 2s) == expect_flowing);
  // The opening bytes (compressed or not) are through before counting.
  if (expect_flowing) {
    REQUIRE(testing::WaitUntil([&] { return !proxied.raw().empty(); }, 5s));
  }
  size_t before = proxied.raw().size();
  REQUIRE(!mock.Post(Body("one event")).empty());
  REQUIRE(direct.WaitFor(1, 5s).size() == 1);
  auto at_direct = Clock::now();
  while (proxied.raw().size() == before && Clock::now() - at_direct < 3s) {
    std::this_thread::sleep_for(2ms);
  }
  bool arrived = proxied.raw().size() > before;
  const std::string outcome = arrived ? "the event's bytes arrived " : "nothing arrived in ";
  const std::string encoding = proxied.header("content-encoding").empty() ? "" : " (gzip)";
  MESSAGE(what << ": " << outcome << Ms(Clock::now() - at_direct)
          << " ms after the direct stream's" << encoding);
  CHECK(arrived == expect_flowing);
  CHECK((proxied.header("content-encoding") == "gzip") == expect_gzip);
  if (expect_flowing && !expect_gzip) CHECK(proxied.WaitFor(1, 1s).size() == 1);
}

TEST_CASE("nginx: an idle stream outlives a short proxy_read_timeout thanks to heartbeats") {
  if (NginxMissing()) return;
  MockApiProcess mock;
  REQUIRE(mock.port > 0);
  BridgeProcess bridge(mock.base_url(), {"--base-path", kEntryPoint, "--heartbeat", "2"});
  REQUIRE(bridge.port > 0);
  ShippedProxy nginx(bridge.port, {{"proxy_read_timeout 90s;", "proxy_read_timeout 5s;"}});

  SseClient proxied(nginx.url("/events"), kBrowserHeaders);
  REQUIRE(WaitConnected(proxied, 5s));
  auto connected = Clock::now();
  CHECK_FALSE(proxied.WaitForEnd(8s));
  MESSAGE("idle for " << Ms(Clock::now() - connected) << " ms behind proxy_read_timeout 5s, "
          << proxied.comments() << " heartbeat comments, still connected");
  CHECK(proxied.comments() >= 3);
  auto posted = Clock::now();
  REQUIRE(!mock.Post(Body("after the idle time")).empty());
  CHECK(proxied.WaitFor(1, 5s).size() == 1);
  MESSAGE("then an event " << Ms(Clock::now() - posted) << " ms after its post");
}

TEST_CASE("nginx: control: without heartbeats nginx cuts the idle stream at proxy_read_timeout") {
  if (NginxMissing()) return;
  MockApiProcess mock;
  REQUIRE(mock.port > 0);
  BridgeProcess bridge(mock.base_url(), {"--base-path", kEntryPoint, "--heartbeat", "60"});
  REQUIRE(bridge.port > 0);
  ShippedProxy nginx(bridge.port, {{"proxy_read_timeout 90s;", "proxy_read_timeout 5s;"}});

  SseClient proxied(nginx.url("/events"), kBrowserHeaders);
  REQUIRE(WaitConnected(proxied, 5s));
  auto connected = Clock::now();
  CHECK(proxied.WaitForEnd(9s));
  double cut_ms = Ms(Clock::now() - connected);
  MESSAGE("heartbeat 60 s: nginx ended the idle stream after " << cut_ms << " ms");
  CHECK(cut_ms > 4500);
  CHECK(nginx.ErrorLog().find("upstream timed out") != std::string::npos);
}

}  // namespace
}  // namespace notifications

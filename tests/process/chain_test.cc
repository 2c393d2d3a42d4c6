// A bridge serving the delivery API (--serve-delivery-api) and a second
// bridge polling it, as real processes: what a deployment without broker
// access on every host does (docs/amqp.md, "Chaining bridges"). Here the
// first bridge polls the mock; tests/amqp/broker_test.cc chains from
// RabbitMQ.
#include <doctest/doctest.h>
#include <sys/socket.h>
#include <unistd.h>

#include "temp_file.h"
#include "test_support.h"

namespace notifications {
namespace {

using namespace std::chrono_literals;
using testing::BridgeProcess;
using testing::BrowserLikeClient;
using testing::HttpRequestTo;
using testing::HttpResult;
using testing::Metric;
using testing::MockApiProcess;
using testing::TempFile;

std::string Push(int i) {
  return "{\"service\":\"GitHub\",\"group\":\"ops\",\"type\":\"push\","
         "\"text\":\"push " +
         std::to_string(i) + "\",\"link\":\"\"}";
}

TEST_CASE(
    "chain: a bridge polling another's --serve-delivery-api streams the same "
    "notifications with the same ids, held by long-polls") {
  MockApiProcess mock;
  REQUIRE(mock.port > 0);
  BridgeProcess first(
      mock.base_url(),
      {"--serve-delivery-api", "--poll-interval", "0.1", "--long-poll", "5"});
  REQUIRE(first.port > 0);
  // A poll interval far longer than the test: only the long-poll (wait=)
  // answered as soon as the first bridge has news gets them here in time.
  BridgeProcess second(first.url("/delivery"),
                       {"--poll-interval", "120", "--long-poll", "60"});
  REQUIRE(second.port > 0);
  BrowserLikeClient browser(second.url("/events"));

  std::vector<std::string> ids;
  for (int i = 0; i < 30; ++i) ids.push_back(mock.Post(Push(i)));
  CHECK(browser.WaitForList(ids, 30s));
  CHECK(browser.order_violations() == 0);
  // A second burst after the long-polls have settled.
  std::this_thread::sleep_for(300ms);
  for (int i = 30; i < 40; ++i) ids.push_back(mock.Post(Push(i)));
  CHECK(browser.WaitForList(ids, 30s));
  CHECK(browser.resets() == 0);

  HttpResult healthz = HttpRequestTo(second.url("/healthz"));
  CHECK(healthz.status == 200);
  CHECK(healthz.body.find("\"cursor\":\"" + ids.back() + "\"") !=
        std::string::npos);
}

TEST_CASE("chain: the served delivery API speaks the contract") {
  MockApiProcess mock;
  BridgeProcess bridge(
      mock.base_url(),
      {"--serve-delivery-api", "--poll-interval", "0.1", "--history", "5",
       "--allow-origin", "https://infra.nasqueron.org"});
  REQUIRE(bridge.port > 0);
  std::vector<std::string> ids;
  for (int i = 0; i < 8; ++i) ids.push_back(mock.Post(Push(i)));
  const std::string base = bridge.url("/delivery");
  REQUIRE(testing::WaitUntil(
      [&] {
        return HttpRequestTo(bridge.url("/healthz"))
                   .body.find("\"cursor\":\"" + ids.back() + "\"") !=
               std::string::npos;
      },
      10s));

  HttpResult status = HttpRequestTo(base + "/status");
  CHECK(status.status == 200);
  CHECK(status.body == "ALIVE");
  // The common fields of every route: nosniff, and CORS for allowed
  // origins (before, the added routes dropped them).
  CHECK(status.headers["x-content-type-options"] == "nosniff");
  HttpResult cross = HttpRequestTo(base + "/notifications", "GET",
                                   {{"Origin", "https://infra.nasqueron.org"}});
  CHECK(cross.headers["access-control-allow-origin"] ==
        "https://infra.nasqueron.org");
  CHECK(cross.headers["vary"] == "Origin");
  CHECK(cross.headers["x-content-type-options"] == "nosniff");

  // The history holds the last 5: a page from the oldest retained.
  HttpResult page = HttpRequestTo(base + "/notifications?limit=2");
  CHECK(page.status == 200);
  CHECK(page.headers["content-type"] == "application/json");
  CHECK(page.headers["cache-control"] == "no-store");
  CHECK(page.body.find("\"id\":\"" + ids[3] + "\"") != std::string::npos);
  CHECK(page.body.find("\"cursor\":\"" + ids[4] + "\"") != std::string::npos);
  CHECK(page.body.find("\"more\":true") != std::string::npos);

  // After the newest: an empty page at once without wait=...
  HttpResult empty = HttpRequestTo(base + "/notifications?after=" + ids[7]);
  CHECK(empty.status == 200);
  CHECK(empty.body.find("\"notifications\":[]") != std::string::npos);
  // ... and a cursor older than the history: 410, the caller restarts.
  HttpResult gone = HttpRequestTo(base + "/notifications?after=" + ids[0]);
  CHECK(gone.status == 410);
  CHECK(gone.body.find("\"error\":\"gone\"") != std::string::npos);
  // Bad parameters: 400 naming the problem.
  for (const char* bad : {"limit=0", "limit=1001", "wait=301", "wait=x",
                          "after=", "after=a%20b", "limit=5&limit=5"}) {
    CAPTURE(bad);
    HttpResult r = HttpRequestTo(base + "/notifications?" + bad);
    CHECK(r.status == 400);
    CHECK(r.body.find("\"error\":\"bad_request\"") != std::string::npos);
  }
  // The long-poll answers when the next notification arrives.
  std::string late;
  std::thread poster([&] {
    std::this_thread::sleep_for(500ms);
    late = mock.Post(Push(8));
  });
  HttpResult held =
      HttpRequestTo(base + "/notifications?wait=60&after=" + ids[7]);
  poster.join();
  CHECK(held.status == 200);
  CHECK(held.body.find("\"id\":\"" + late + "\"") != std::string::npos);
}

TEST_CASE(
    "chain: with --stream-token-file the served API wants the same token as "
    "a Bearer token") {
  TempFile token("chain-token-123\n");
  MockApiProcess mock;
  BridgeProcess first(mock.base_url(),
                      {"--serve-delivery-api", "--poll-interval", "0.1",
                       "--stream-token-file", token.path});
  REQUIRE(first.port > 0);
  const std::string url = first.url("/delivery/notifications");
  HttpResult none = HttpRequestTo(url);
  CHECK(none.status == 401);
  CHECK(none.headers["www-authenticate"].find("Bearer") == 0);
  CHECK(HttpRequestTo(url, "GET", {{"Authorization", "Bearer wrong"}}).status ==
        401);
  CHECK(HttpRequestTo(url, "GET", {{"Authorization", "bearer chain-token-123"}})
            .status == 200);
  // /status never needs it (health checks).
  CHECK(HttpRequestTo(first.url("/delivery/status")).status == 200);

  // A second bridge with the token polls it; one without is refused, and
  // says so in its /healthz.
  BridgeProcess with(first.url("/delivery"),
                     {"--token-file", token.path, "--poll-interval", "0.2"});
  BridgeProcess without(first.url("/delivery"), {"--poll-interval", "0.2"});
  const std::string id = mock.Post(Push(1));
  BrowserLikeClient browser(with.url("/events"));
  CHECK(browser.WaitForList({id}, 20s));
  CHECK(testing::WaitUntil(
      [&] {
        HttpResult h = HttpRequestTo(without.url("/healthz"));
        return h.status == 503 && h.body.find("401") != std::string::npos;
      },
      10s));
}

TEST_CASE(
    "chain: long-polls are capped over the whole server (--max-clients), "
    "not per event loop") {
  MockApiProcess mock;
  // 4 loops: before, each held at most a quarter of the cap (25 here), and
  // connections are not spread evenly, so most of 90 were answered at once.
  BridgeProcess bridge(mock.base_url(),
                       {"--serve-delivery-api", "--poll-interval", "0.1",
                        "--max-clients", "100", "--stream-threads", "4"});
  REQUIRE(bridge.port > 0);
  const std::string first = mock.Post(Push(0));
  REQUIRE(testing::WaitForMetric(
      bridge, "notifications_bridge_notifications_published_total", 1, 10s));
  std::vector<int> fds;
  for (int i = 0; i < 90; ++i) {
    int fd = testing::RawConnect(bridge.port);
    REQUIRE(fd >= 0);
    testing::SendAll(fd, "GET /delivery/notifications?wait=60&after=" + first +
                             " HTTP/1.1\r\nHost: x\r\n\r\n");
    fds.push_back(fd);
  }
  CHECK(testing::WaitUntil(
      [&] {
        return Metric(bridge, "notifications_bridge_requests_parked") == 90;
      },
      10s));
  // All of them answered with the next notification.
  const std::string next = mock.Post(Push(1));
  size_t answered = 0;
  for (int fd : fds) {
    std::string got;
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (got.find("\"cursor\"") == std::string::npos &&
           std::chrono::steady_clock::now() < deadline) {
      char buf[4096];
      ssize_t n = recv(fd, buf, sizeof buf, 0);
      if (n <= 0) break;
      got.append(buf, static_cast<size_t>(n));
    }
    if (got.find("\"id\":\"" + next + "\"") != std::string::npos) ++answered;
    close(fd);
  }
  CHECK(answered == 90);
}

}  // namespace
}  // namespace notifications

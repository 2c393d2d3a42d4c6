// End to end: a delivery API and notifications-bridge as real processes on
// free loopback ports, real SSE clients, notifications posted to the API's
// gate.
//
// The cases about the delivery API contract (order and content, overlap,
// resume, gap, reset, backlog, filters, 410, long-poll, one request per
// interval) run twice: against notifications-mock-api, and against
// tests/independent_api/delivery_api.py, a second implementation written
// from docs/delivery-api.md alone (testing::Upstream). Both declare the
// same test name, the second with " (independent API)" appended.
#include <doctest/doctest.h>
#include <signal.h>

#include <algorithm>
#include <functional>
#include <set>
#include <thread>

#include "test_support.h"

namespace notifications {
namespace {

using namespace std::chrono_literals;
using testing::BridgeProcess;
using testing::ChildProcess;
using testing::DeliveryApiProcess;
using testing::HttpRequestTo;
using testing::Ids;
using testing::Metric;
using testing::MockApiProcess;
using testing::SseClient;
using testing::Upstream;
using testing::UpstreamMissing;
using testing::WaitForMetric;

// Declares `name` against the mock, and again with " (independent API)"
// against the independent implementation; `body` takes the Upstream.
#define UPSTREAM_TEST_CASE(name, body)                   \
  TEST_CASE(name) { body(Upstream::kMock); }             \
  TEST_CASE(name " (independent API)") {                 \
    if (UpstreamMissing(Upstream::kIndependent)) return; \
    body(Upstream::kIndependent);                        \
  }

std::string Body(const std::string& service, const std::string& group,
                 const std::string& type, const std::string& text,
                 const std::string& link = "") {
  return "{\"service\":\"" + service + "\",\"group\":\"" + group +
         "\",\"type\":\"" + type + "\",\"text\":\"" + text +
         "\",\"link\":\"" + link + "\"}";
}

std::vector<std::string> PostMany(const DeliveryApiProcess& api, int n,
                                  const std::string& prefix = "n") {
  std::vector<std::string> ids;
  for (int i = 0; i < n; ++i) {
    ids.push_back(
        api.Post(Body("GitHub", "ops", "push", prefix + std::to_string(i))));
    REQUIRE(!ids.back().empty());
  }
  return ids;
}

// The string value of `"field":"..."` in a JSON text without escaped
// quotes in that value, or "" when absent.
std::string JsonString(const std::string& json, const std::string& field) {
  const std::string key = "\"" + field + "\":\"";
  size_t at = json.find(key);
  if (at == std::string::npos) return "";
  at += key.size();
  return json.substr(at, json.find('"', at) - at);
}

const char kPublished[] = "notifications_bridge_notifications_published_total";
const char kPolls[] = "notifications_bridge_polls_total";

void ArriveInOrder(Upstream upstream) {
  DeliveryApiProcess api(upstream);
  REQUIRE(api.port > 0);
  BridgeProcess bridge(api.base_url());
  REQUIRE(bridge.port > 0);
  SseClient client(bridge.url("/events"));
  REQUIRE(client.WaitForOpen(10s));
  std::vector<std::string> ids;
  ids.push_back(api.Post(Body("GitHub", "ops", "push",
                              "dereckson pushed 1 commit to rOPS",
                              "https://github.com/nasqueron/operations")));
  ids.push_back(api.Post(
      R"({"service":"Phabricator","group":"devtools","type":"TASK","text":"T1210: line one\nline two\r\nend \u00e9\u2014\ud83d\ude80 <b>","link":""})"));
  ids.push_back(api.Post(
      R"({"service":"Jenkins","group":"ci","type":"completed.failure","text":null,"link":null})"));
  auto events = client.WaitFor(3, 10s);
  REQUIRE(events.size() == 3);
  CHECK(Ids(events) == ids);
  // Every notification carries the time the delivery API received it,
  // passed through as the API wrote it.
  const std::string page =
      HttpRequestTo(api.base_url() + "/notifications").body;
  for (const auto& e : events) {
    std::string time = JsonString(e.data, "time");
    CAPTURE(e.data);
    CHECK(time.rfind("20", 0) == 0);
    CHECK(page.find("\"time\":\"" + time + "\"") != std::string::npos);
  }
  CHECK(events[0].data ==
        "{\"id\":\"" + ids[0] + "\",\"time\":\"" +
            JsonString(events[0].data, "time") +
            "\",\"service\":\"GitHub\",\"project\":\"Nasqueron\",\"group\":"
            "\"ops\","
            "\"type\":\"push\",\"text\":\"dereckson pushed 1 commit to rOPS\","
            "\"link\":\"https://github.com/nasqueron/operations\"}");
  // CR/LF stay escaped inside one data line; non-ASCII arrives as UTF-8.
  CHECK(events[1].data.find(R"("text":"T1210: line one\nline two\r\nend é—🚀 <b>")") !=
        std::string::npos);
  CHECK(events[2].data.find("\"text\":null,\"link\":null") !=
        std::string::npos);
}
UPSTREAM_TEST_CASE(
    "e2e: posted notifications arrive in order with their content",
    ArriveInOrder)

void OverlapNeverTwice(Upstream upstream) {
  DeliveryApiProcess api(upstream, {"--overlap", "5"});
  BridgeProcess bridge(api.base_url(), {"--page-limit", "3"});
  SseClient client(bridge.url("/events"));
  REQUIRE(client.WaitForOpen(10s));
  std::vector<std::string> ids = PostMany(api, 12);
  REQUIRE(Ids(client.WaitFor(12, 10s)) == ids);
  // Several more polls, each of which could have re-published something:
  // nothing more arrives.
  const double polls = Metric(bridge, kPolls);
  REQUIRE(WaitForMetric(bridge, kPolls, polls + 3, 10s));
  CHECK(Ids(client.WaitFor(13, 10ms)) == ids);
  CHECK(Metric(bridge, kPublished) == 12);
  CHECK(Metric(bridge, "notifications_bridge_duplicates_dropped_total") > 0);
}
UPSTREAM_TEST_CASE(
    "e2e: overlapping pages from the API are never streamed twice",
    OverlapNeverTwice)

void ResumeAfterDisconnect(Upstream upstream) {
  DeliveryApiProcess api(upstream);
  BridgeProcess bridge(api.base_url());
  auto first = std::make_unique<SseClient>(bridge.url("/events"));
  REQUIRE(first->WaitForOpen(10s));
  std::vector<std::string> ids = PostMany(api, 3);
  REQUIRE(first->WaitFor(3, 10s).size() == 3);
  first.reset();  // Disconnect.
  std::vector<std::string> more = PostMany(api, 3, "m");
  // Published while nobody listened: the resume replays them.
  REQUIRE(WaitForMetric(bridge, kPublished, 6, 10s));
  SseClient header(bridge.url("/events"), {{"Last-Event-ID", ids[2]}});
  CHECK(Ids(header.WaitFor(3, 10s)) == more);
  // Same with the query parameter, as the page uses it.
  SseClient query(bridge.url("/events?lastEventId=" + ids[1]));
  std::vector<std::string> expected = {ids[2]};
  expected.insert(expected.end(), more.begin(), more.end());
  CHECK(Ids(query.WaitFor(4, 10s)) == expected);
}
UPSTREAM_TEST_CASE("e2e: Last-Event-ID resumes exactly after a disconnect",
                   ResumeAfterDisconnect)

void GapAfterRestart(Upstream upstream) {
  DeliveryApiProcess api(upstream);
  std::vector<std::string> ids = PostMany(api, 10);
  auto bridge = std::make_unique<BridgeProcess>(
      api.base_url(), std::vector<std::string>{"--history", "3"});
  int port = bridge->port;
  REQUIRE(WaitForMetric(*bridge, kPublished, 10, 10s));
  {
    SseClient warm(bridge->url("/events?backlog=3"));
    REQUIRE(warm.WaitFor(3, 10s).size() == 3);
  }
  bridge->process->Signal(SIGKILL);
  bridge->process->Wait(5s);
  std::vector<std::string> during = PostMany(api, 2, "during");
  bridge = std::make_unique<BridgeProcess>(
      api.base_url(), std::vector<std::string>{"--history", "3"}, port);
  REQUIRE(bridge->port == port);
  // It polled everything (12) and keeps 3: ids[1] is older than its history.
  REQUIRE(WaitForMetric(*bridge, kPublished, 12, 10s));
  // A client last saw ids[1]: 2..9 and the two posted during the restart.
  SseClient client(bridge->url("/events"), {{"Last-Event-ID", ids[1]}});
  std::vector<std::string> expected(ids.begin() + 2, ids.end());
  expected.insert(expected.end(), during.begin(), during.end());
  auto events = client.WaitFor(expected.size(), 10s);
  CHECK(Ids(events) == expected);
  std::string after = PostMany(api, 1, "after")[0];
  expected.push_back(after);
  CHECK(Ids(client.WaitFor(expected.size(), 10s)) == expected);
  CHECK(Metric(*bridge, "notifications_bridge_gap_fetches_total") >= 1);
}
UPSTREAM_TEST_CASE(
    "e2e: after a bridge restart the gap is fetched from the API",
    GapAfterRestart)

void UnknownIdResets(Upstream upstream) {
  DeliveryApiProcess api(upstream);
  std::vector<std::string> ids = PostMany(api, 4);
  BridgeProcess bridge(api.base_url());
  REQUIRE(WaitForMetric(bridge, kPublished, 4, 10s));
  SseClient client(bridge.url("/events?backlog=2"),
                   {{"Last-Event-ID", "0000000001-0000000001"}});
  auto events = client.WaitFor(2, 10s);
  auto all = client.events();
  REQUIRE(all.size() >= 3);
  CHECK(all[0].type == "reset");
  CHECK(all[0].data.find("unknown-last-event-id") != std::string::npos);
  CHECK(Ids(events) == std::vector<std::string>{ids[2], ids[3]});
}
UPSTREAM_TEST_CASE("e2e: an id nobody knows gets a reset, then the backlog",
                   UnknownIdResets)

void BacklogThenLive(Upstream upstream) {
  DeliveryApiProcess api(upstream,
                         {"--fixtures", NB_FIXTURES_DIR "/notifications.json"});
  BridgeProcess bridge(api.base_url());
  REQUIRE(WaitForMetric(bridge, kPublished, 5, 10s));
  SseClient client(bridge.url("/events?backlog=5"));
  auto backlog = client.WaitFor(5, 10s);
  REQUIRE(backlog.size() == 5);
  std::string live = api.Post(Body("DockerHub", "docker", "push", "live"));
  auto events = client.WaitFor(6, 10s);
  REQUIRE(events.size() == 6);
  CHECK(events[5].last_event_id == live);
}
UPSTREAM_TEST_CASE(
    "e2e: backlog gives the most recent notifications, then live",
    BacklogThenLive)

void Filters(Upstream upstream) {
  DeliveryApiProcess api(upstream);
  BridgeProcess bridge(api.base_url());
  SseClient jenkins(bridge.url("/events?service=JENKINS"));
  SseClient ops(bridge.url("/events?key=nasqueron.ops.%23"));
  SseClient both(bridge.url("/events?group=ci&type=completed.failure&type=started"));
  for (SseClient* c : {&jenkins, &ops, &both}) REQUIRE(c->WaitForOpen(10s));
  std::string a = api.Post(Body("GitHub", "ops", "push", "a"));
  std::string b = api.Post(Body("Jenkins", "ci", "started", "b"));
  std::string c = api.Post(Body("Jenkins", "ops", "completed.success", "c"));
  std::string d = api.Post(Body("Jenkins", "ci", "completed.failure", "d"));
  std::string e = api.Post(Body("GitHub", "ops", "push", "e"), "Wolfplex");
  CHECK(Ids(jenkins.WaitFor(3, 10s)) == std::vector<std::string>{b, c, d});
  CHECK(Ids(ops.WaitFor(2, 10s)) == std::vector<std::string>{a, c});
  CHECK(Ids(both.WaitFor(2, 10s)) == std::vector<std::string>{b, d});
  // And nothing else: every notification went through the filters.
  REQUIRE(WaitForMetric(bridge, kPublished, 5, 10s));
  CHECK(jenkins.WaitFor(4, 10ms).size() == 3);
  CHECK(ops.WaitFor(3, 10ms).size() == 2);
  CHECK(both.WaitFor(3, 10ms).size() == 2);
}
UPSTREAM_TEST_CASE("e2e: filters by field and by topic pattern", Filters)

TEST_CASE("e2e: 50 simultaneous streams all receive every event") {
  MockApiProcess mock;
  BridgeProcess bridge(mock.base_url());
  std::vector<std::unique_ptr<SseClient>> clients;
  for (int i = 0; i < 50; ++i) {
    clients.push_back(std::make_unique<SseClient>(bridge.url("/events")));
  }
  for (auto& c : clients) REQUIRE(c->WaitForOpen(15s));
  CHECK(Metric(bridge, "notifications_bridge_clients_connected") == 50);
  std::vector<std::string> ids = PostMany(mock, 10);
  for (auto& c : clients) CHECK(Ids(c->WaitFor(10, 15s)) == ids);
  CHECK(Metric(bridge, "notifications_bridge_events_sent_total") == 500);
}

void ForgottenCursorResets(Upstream upstream) {
  DeliveryApiProcess api(upstream, {"--retention", "5"});
  BridgeProcess bridge(api.base_url(), {"--poll-interval", "1.5"});
  SseClient client(bridge.url("/events"));
  REQUIRE(client.WaitForOpen(10s));
  std::string first = PostMany(api, 1)[0];
  REQUIRE(client.WaitFor(1, 10s).size() == 1);
  // Between two polls (the one that brought `first` just happened), more
  // than the API retains: our cursor is forgotten.
  const double polls = Metric(bridge, kPolls);
  std::vector<std::string> burst = PostMany(api, 12, "burst");
  REQUIRE_MESSAGE(Metric(bridge, kPolls) == polls,
                  "a poll came in the middle of the burst: the machine is too "
                  "slow for this test's 1.5 s interval");
  auto resets = client.WaitFor(1, 10s, "reset");
  REQUIRE(resets.size() == 1);
  CHECK(resets[0].data.find("upstream-reset") != std::string::npos);
  CHECK(Metric(bridge, "notifications_bridge_upstream_resets_total") == 1);
  // Then the 5 the API still retains, after the reset.
  std::vector<std::string> retained(burst.end() - 5, burst.end());
  auto events = client.WaitFor(6, 10s);
  REQUIRE(events.size() == 6);
  std::vector<std::string> got = Ids(events);
  CHECK(got[0] == first);
  CHECK(std::vector<std::string>(got.begin() + 1, got.end()) == retained);
}
UPSTREAM_TEST_CASE("e2e: the API forgetting the cursor resets the streams",
                   ForgottenCursorResets)

TEST_CASE("e2e: status, healthz and metrics") {
  MockApiProcess mock;
  BridgeProcess bridge(mock.base_url());
  REQUIRE(WaitForMetric(
      bridge, "notifications_bridge_last_success_timestamp_seconds", 1, 10s));
  CHECK(HttpRequestTo(bridge.url("/status")).body == "ALIVE");
  auto health = HttpRequestTo(bridge.url("/healthz"));
  CHECK(health.status == 200);
  CHECK(health.body.find("\"upstream\":{\"ok\":true") != std::string::npos);
  auto metrics = HttpRequestTo(bridge.url("/metrics"));
  CHECK(metrics.body.find("notifications_bridge_polls_total ") != std::string::npos);
  // The API goes away: healthz says so, with the reason.
  mock.process->Signal(SIGKILL);
  mock.process->Wait(5s);
  REQUIRE(WaitForMetric(
      bridge, "notifications_bridge_poll_errors_total{kind=\"connect\"}", 1,
      10s));
  health = HttpRequestTo(bridge.url("/healthz"));
  CHECK(health.status == 503);
  CHECK(health.body.find("\"lastError\":\"connect") != std::string::npos);
}

TEST_CASE("e2e: SIGTERM ends every stream cleanly and exits 0") {
  MockApiProcess mock;
  BridgeProcess bridge(mock.base_url());
  std::vector<std::unique_ptr<SseClient>> clients;
  for (int i = 0; i < 20; ++i) {
    clients.push_back(std::make_unique<SseClient>(bridge.url("/events")));
  }
  for (auto& c : clients) REQUIRE(c->WaitForOpen(10s));
  auto start = std::chrono::steady_clock::now();
  bridge.process->Signal(SIGTERM);
  CHECK(bridge.process->Wait(5s) == 0);
  CHECK(std::chrono::steady_clock::now() - start < 5s);
  for (auto& c : clients) {
    CHECK(c->WaitForEnd(1s));
    // Ended with the final chunk, not cut: curl says the body is complete.
    CHECK_MESSAGE(c->ended_cleanly(), "curl: " << c->curl_error());
  }
}

TEST_CASE("e2e: SIGINT ends every stream cleanly and stops the mock and the bridge with exit 0") {
  MockApiProcess mock;
  BridgeProcess bridge(mock.base_url());
  std::vector<std::unique_ptr<SseClient>> clients;
  for (int i = 0; i < 10; ++i) {
    clients.push_back(std::make_unique<SseClient>(bridge.url("/events")));
  }
  for (auto& c : clients) REQUIRE(c->WaitForOpen(10s));
  bridge.process->Signal(SIGINT);
  mock.process->Signal(SIGINT);
  CHECK(bridge.process->Wait(5s) == 0);
  CHECK(mock.process->Wait(5s) == 0);
  for (auto& c : clients) {
    CHECK(c->WaitForEnd(1s));
    CHECK_MESSAGE(c->ended_cleanly(), "curl: " << c->curl_error());
  }
}

TEST_CASE("e2e: control: a stream cut without its last chunk is not a clean end") {
  MockApiProcess mock;
  BridgeProcess bridge(mock.base_url());
  SseClient client(bridge.url("/events"));
  REQUIRE(client.WaitForOpen(10s));
  bridge.process->Signal(SIGKILL);
  CHECK(client.WaitForEnd(5s));
  CHECK(client.status() == 200);
  CHECK_FALSE(client.ended_cleanly());
  CHECK(client.curl_result() != 0);
}

TEST_CASE("e2e: bad flags exit non-zero with a one-line message") {
  struct Case {
    std::vector<std::string> args;
    const char* mentions;
    int code;  // 2: usage error; 1: cannot run with these settings.
  };
  for (const Case& k : std::vector<Case>{
           {{NB_BRIDGE_EXE}, "--delivery-url", 2},
           {{NB_BRIDGE_EXE, "--delivery-url", "http://x", "--poll-interval", "-1"}, "poll-interval", 2},
           {{NB_BRIDGE_EXE, "--delivery-url", "http://x", "--listen", "x"}, "--listen", 2},
           {{NB_BRIDGE_EXE, "--delivery-url", "http://x", "--heartbeat", "soon"}, "heartbeat", 2},
           {{NB_MOCK_API_EXE, "--port", "99999"}, "port", 2},
           {{NB_MOCK_API_EXE, "--fixtures", "/nonexistent.json"}, "nonexistent", 1},
       }) {
    ChildProcess p(k.args);
    int code = p.Wait(10s);
    CAPTURE(p.Stderr());
    CHECK(code == k.code);
    // One line saying what is wrong (plus, for usage errors, a pointer to
    // --help).
    std::string err = p.Stderr();
    CHECK(std::count(err.begin(), err.end(), '\n') <= 2);
    CHECK(err.substr(0, err.find('\n')).find(k.mentions) != std::string::npos);
    CHECK(p.Stderr().find(k.mentions) != std::string::npos);
  }
}

TEST_CASE("e2e: --help and --version") {
  ChildProcess help({NB_BRIDGE_EXE, "--help"});
  CHECK(!help.WaitForLine("--delivery-url", 5s).empty());
  CHECK(help.Wait(5s) == 0);
  ChildProcess version({NB_BRIDGE_EXE, "--version"});
  CHECK(!version.WaitForLine("notifications-bridge " NB_VERSION_STRING, 5s).empty());
  CHECK(version.Wait(5s) == 0);
  ChildProcess mock_version({NB_MOCK_API_EXE, "--version"});
  CHECK(!mock_version.WaitForLine("notifications-mock-api " NB_VERSION_STRING, 5s).empty());
}

TEST_CASE("e2e: a taken port is a clear error") {
  MockApiProcess mock;
  BridgeProcess first(mock.base_url());
  ChildProcess second({NB_BRIDGE_EXE, "--delivery-url", mock.base_url(), "--listen",
                       "127.0.0.1:" + std::to_string(first.port)});
  CHECK(second.Wait(10s) == 1);
  CHECK(second.Stderr().find("cannot listen on 127.0.0.1:" + std::to_string(first.port)) !=
        std::string::npos);
}

}  // namespace
}  // namespace notifications

namespace notifications {
namespace {

// A 30 s poll interval: only long-poll can bring each notification within
// a third of it (the deadline of each wait below). How much sooner it
// comes is measured by bench/, not asserted here.
void LongPoll(Upstream upstream) {
  DeliveryApiProcess api(upstream);
  BridgeProcess bridge(api.base_url(),
                       {"--poll-interval", "30", "--long-poll", "10"});
  SseClient client(bridge.url("/events"));
  REQUIRE(client.WaitForOpen(10s));
  REQUIRE(WaitForMetric(bridge, kPolls, 1, 10s));  // Held by the API.
  for (int i = 0; i < 5; ++i) {
    std::string id = PostMany(api, 1, "lp")[0];
    auto events = client.WaitFor(static_cast<size_t>(i + 1), 10s);
    REQUIRE(events.size() == static_cast<size_t>(i + 1));
    CHECK(events.back().last_event_id == id);
  }
  // One request in flight at a time: a handful of polls, not a spin.
  CHECK(Metric(bridge, kPolls) <= 12);
  if (upstream == Upstream::kIndependent) CHECK(api.RequestsServed() <= 12);
}
UPSTREAM_TEST_CASE(
    "e2e: long-poll brings a notification below the poll interval", LongPoll)

// docs/delivery-api.md: an API that does not implement `wait` ignores it
// and answers at once; the bridge must stay correct, and fall back to its
// --poll-interval instead of asking again at once (a spin). Only the
// independent API can be that API.
TEST_CASE(
    "e2e: long-poll against an API that ignores wait polls at the interval, "
    "not in a loop (independent API)") {
  if (UpstreamMissing(Upstream::kIndependent)) return;
  constexpr double kIntervalS = 0.2;
  DeliveryApiProcess api(Upstream::kIndependent, {"--ignore-wait"});
  BridgeProcess bridge(api.base_url(),
                       {"--poll-interval", "0.2", "--long-poll", "10"});
  SseClient client(bridge.url("/events"));
  REQUIRE(client.WaitForOpen(10s));
  std::vector<std::string> ids = PostMany(api, 3);
  CHECK(Ids(client.WaitFor(3, 10s)) == ids);
  // Then 10 polls of empty answers given at once: at least 9 intervals.
  const double polls = Metric(bridge, kPolls);
  const long served = api.RequestsServed();
  const auto start = std::chrono::steady_clock::now();
  REQUIRE(WaitForMetric(bridge, kPolls, polls + 10, 30s));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
          .count();
  const double made = Metric(bridge, kPolls) - polls;
  CHECK(seconds >= (made - 1) * kIntervalS * 0.95);
  CHECK(api.RequestsServed() - served <= made + 1);
  std::string late = PostMany(api, 1, "late")[0];
  ids.push_back(late);
  CHECK(Ids(client.WaitFor(4, 10s)) == ids);
}

// The same number of upstream requests in a window with 1 client as with
// 100 (the bridge polls for itself, not per stream): N polls take at
// least N-1 intervals either way, and the API counted as many requests as
// the bridge says it made.
void OneRequestPerInterval(Upstream upstream) {
  constexpr double kIntervalS = 0.2;
  constexpr int kPollsPerWindow = 10;
  DeliveryApiProcess api(upstream);
  BridgeProcess bridge(api.base_url(), {"--poll-interval", "0.2"});
  std::vector<std::unique_ptr<SseClient>> clients;
  clients.push_back(std::make_unique<SseClient>(bridge.url("/events")));
  REQUIRE(clients[0]->WaitForOpen(10s));
  REQUIRE(WaitForMetric(bridge, kPolls, 1, 10s));

  // Waits for kPollsPerWindow more polls while `during` runs; returns the
  // seconds they took.
  auto window = [&](const std::function<void()>& during) {
    const double polls = Metric(bridge, kPolls);
    const long served = api.RequestsServed();
    const auto start = std::chrono::steady_clock::now();
    during();
    REQUIRE(WaitForMetric(bridge, kPolls, polls + kPollsPerWindow, 30s));
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
            .count();
    const double made = Metric(bridge, kPolls) - polls;
    if (upstream == Upstream::kIndependent) {
      // Counted by the API; one may be in flight at either end.
      const long counted = api.RequestsServed() - served;
      CHECK(counted >= made - 1);
      CHECK(counted <= made + 1);
    }
    // At most one request per interval, with one request taking some time.
    CHECK(seconds >= (made - 1) * kIntervalS * 0.95);
    return std::make_pair(made, seconds);
  };
  auto [one_polls, one_seconds] = window([] {});
  auto [many_polls, many_seconds] = window([&] {
    for (int i = 0; i < 99; ++i) {
      clients.push_back(std::make_unique<SseClient>(bridge.url("/events")));
    }
    for (auto& c : clients) REQUIRE(c->WaitForOpen(10s));
    // The streams are served: the 100 get what is posted meanwhile.
    std::string id = PostMany(api, 1)[0];
    for (auto& c : clients)
      REQUIRE(Ids(c->WaitFor(1, 10s)) == std::vector<std::string>{id});
  });
  MESSAGE("1 client: " << one_polls << " polls in " << one_seconds
                       << " s; 100 clients: " << many_polls << " polls in "
                       << many_seconds << " s (interval " << kIntervalS
                       << " s)");
  CHECK(Metric(bridge, "notifications_bridge_clients_connected") == 100);
  // Fresh streams never ask upstream for anything.
  CHECK(Metric(bridge, "notifications_bridge_gap_fetches_total") == 0);
}
UPSTREAM_TEST_CASE(
    "e2e: one upstream request per interval whether 1 or 100 clients are "
    "connected",
    OneRequestPerInterval)

// The API side of long-poll, as docs/delivery-api.md specifies `wait`:
// held until a notification arrives (well before `wait`), or the empty
// page after `wait`.
void ApiHoldsLongPoll(Upstream upstream) {
  DeliveryApiProcess api(upstream);
  std::string first = PostMany(api, 1)[0];
  std::thread later([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    api.Post(
        R"({"service":"GitHub","group":"ops","type":"push","text":"late"})");
  });
  auto start = std::chrono::steady_clock::now();
  auto r = HttpRequestTo(api.base_url() + "/notifications?after=" + first +
                         "&wait=8");
  auto took = std::chrono::steady_clock::now() - start;
  later.join();
  CHECK(r.status == 200);
  CHECK(r.body.find("\"text\":\"late\"") != std::string::npos);
  CHECK(took >= std::chrono::milliseconds(250));
  CHECK(took < std::chrono::seconds(8));  // Answered on arrival, not at `wait`.
  // Nothing newer within the wait: an empty page after it.
  start = std::chrono::steady_clock::now();
  r = HttpRequestTo(
      api.base_url() + "/notifications?after=" +
      api.Post(
          R"({"service":"GitHub","group":"ops","type":"push","text":"x"})") +
      "&wait=1");
  CHECK(r.body.find("\"notifications\":[]") != std::string::npos);
  CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(900));
  CHECK(HttpRequestTo(api.base_url() + "/notifications?wait=abc").status ==
        400);
}
UPSTREAM_TEST_CASE(
    "e2e: the API holds a long-poll until a notification arrives",
    ApiHoldsLongPoll)

}  // namespace
}  // namespace notifications

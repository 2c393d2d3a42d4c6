// End to end: notifications-mock-api and notifications-bridge as real
// processes on free loopback ports, real SSE clients, notifications posted
// to the mock's gate.
#include <doctest/doctest.h>
#include <signal.h>

#include <algorithm>
#include <set>

#include "test_support.h"

namespace notifications {
namespace {

using namespace std::chrono_literals;
using testing::BridgeProcess;
using testing::ChildProcess;
using testing::HttpRequestTo;
using testing::Ids;
using testing::MockApiProcess;
using testing::SseClient;

std::string Body(const std::string& service, const std::string& group,
                 const std::string& type, const std::string& text,
                 const std::string& link = "") {
  return "{\"service\":\"" + service + "\",\"group\":\"" + group +
         "\",\"type\":\"" + type + "\",\"text\":\"" + text +
         "\",\"link\":\"" + link + "\"}";
}

std::vector<std::string> PostMany(const MockApiProcess& mock, int n,
                                  const std::string& prefix = "n") {
  std::vector<std::string> ids;
  for (int i = 0; i < n; ++i) {
    ids.push_back(mock.Post(Body("GitHub", "ops", "push", prefix + std::to_string(i))));
    REQUIRE(!ids.back().empty());
  }
  return ids;
}

TEST_CASE("e2e: posted notifications arrive in order with their content") {
  MockApiProcess mock;
  REQUIRE(mock.port > 0);
  BridgeProcess bridge(mock.base_url());
  REQUIRE(bridge.port > 0);
  SseClient client(bridge.url("/events"));
  std::this_thread::sleep_for(200ms);
  std::vector<std::string> ids;
  ids.push_back(mock.Post(Body("GitHub", "ops", "push",
                               "dereckson pushed 1 commit to rOPS", "https://github.com/nasqueron/operations")));
  ids.push_back(mock.Post(
      R"({"service":"Phabricator","group":"devtools","type":"TASK","text":"T1210: line one\nline two\r\nend \u00e9\u2014\ud83d\ude80 <b>","link":""})"));
  ids.push_back(mock.Post(R"({"service":"Jenkins","group":"ci","type":"completed.failure","text":null,"link":null})"));
  auto events = client.WaitFor(3, 10s);
  REQUIRE(events.size() == 3);
  CHECK(Ids(events) == ids);
  CHECK(events[0].data ==
        "{\"id\":\"" + ids[0] + "\",\"time\":" +
            events[0].data.substr(events[0].data.find("\"time\":") + 7, 26) +
            ",\"service\":\"GitHub\",\"project\":\"Nasqueron\",\"group\":\"ops\","
            "\"type\":\"push\",\"text\":\"dereckson pushed 1 commit to rOPS\","
            "\"link\":\"https://github.com/nasqueron/operations\"}");
  // CR/LF stay escaped inside one data line; non-ASCII arrives as UTF-8.
  CHECK(events[1].data.find(R"("text":"T1210: line one\nline two\r\nend é—🚀 <b>")") !=
        std::string::npos);
  CHECK(events[2].data.find("\"text\":null,\"link\":null") != std::string::npos);
  // Every notification carries the time the delivery API received it.
  for (const auto& e : events) CHECK(e.data.find("\"time\":\"20") != std::string::npos);
}

TEST_CASE("e2e: overlapping pages from the API are never streamed twice") {
  MockApiProcess mock({"--overlap", "5"});
  BridgeProcess bridge(mock.base_url(), {"--page-limit", "3"});
  SseClient client(bridge.url("/events"));
  std::this_thread::sleep_for(200ms);
  std::vector<std::string> ids = PostMany(mock, 12);
  auto events = client.WaitFor(12, 10s);
  std::this_thread::sleep_for(500ms);  // Several more overlapping polls.
  CHECK(Ids(client.WaitFor(13, 10ms)) == ids);
  HttpRequestTo(bridge.url("/metrics"));
  std::string metrics = HttpRequestTo(bridge.url("/metrics")).body;
  CHECK(metrics.find("notifications_bridge_duplicates_dropped_total 0\n") == std::string::npos);
}

TEST_CASE("e2e: Last-Event-ID resumes exactly after a disconnect") {
  MockApiProcess mock;
  BridgeProcess bridge(mock.base_url());
  auto first = std::make_unique<SseClient>(bridge.url("/events"));
  std::this_thread::sleep_for(200ms);
  std::vector<std::string> ids = PostMany(mock, 3);
  REQUIRE(first->WaitFor(3, 10s).size() == 3);
  first.reset();  // Disconnect.
  std::vector<std::string> more = PostMany(mock, 3, "m");
  std::this_thread::sleep_for(500ms);
  SseClient header(bridge.url("/events"), {{"Last-Event-ID", ids[2]}});
  CHECK(Ids(header.WaitFor(3, 10s)) == more);
  // Same with the query parameter, as the page uses it.
  SseClient query(bridge.url("/events?lastEventId=" + ids[1]));
  std::vector<std::string> expected = {ids[2]};
  expected.insert(expected.end(), more.begin(), more.end());
  CHECK(Ids(query.WaitFor(4, 10s)) == expected);
}

TEST_CASE("e2e: after a bridge restart the gap is fetched from the API") {
  MockApiProcess mock;
  std::vector<std::string> ids = PostMany(mock, 10);
  auto bridge = std::make_unique<BridgeProcess>(mock.base_url(),
                                                std::vector<std::string>{"--history", "3"});
  int port = bridge->port;
  std::this_thread::sleep_for(500ms);  // Its first polls.
  {
    SseClient warm(bridge->url("/events?backlog=3"));
    REQUIRE(warm.WaitFor(3, 10s).size() == 3);
  }
  bridge->process->Signal(SIGKILL);
  bridge->process->Wait(5s);
  std::vector<std::string> during = PostMany(mock, 2, "during");
  bridge = std::make_unique<BridgeProcess>(
      mock.base_url(), std::vector<std::string>{"--history", "3"}, port);
  REQUIRE(bridge->port == port);
  std::this_thread::sleep_for(500ms);  // It polled everything; keeps 3.
  // A client last saw ids[1]: 2..9 and the two posted during the restart.
  SseClient client(bridge->url("/events"), {{"Last-Event-ID", ids[1]}});
  std::vector<std::string> expected(ids.begin() + 2, ids.end());
  expected.insert(expected.end(), during.begin(), during.end());
  auto events = client.WaitFor(expected.size(), 10s);
  CHECK(Ids(events) == expected);
  std::string after = PostMany(mock, 1, "after")[0];
  expected.push_back(after);
  CHECK(Ids(client.WaitFor(expected.size(), 10s)) == expected);
  std::string metrics = HttpRequestTo(bridge->url("/metrics")).body;
  CHECK(metrics.find("notifications_bridge_gap_fetches_total ") != std::string::npos);
  CHECK(metrics.find("notifications_bridge_gap_fetches_total 0\n") == std::string::npos);
}

TEST_CASE("e2e: an id nobody knows gets a reset, then the backlog") {
  MockApiProcess mock;
  std::vector<std::string> ids = PostMany(mock, 4);
  BridgeProcess bridge(mock.base_url());
  std::this_thread::sleep_for(500ms);
  SseClient client(bridge.url("/events?backlog=2"),
                   {{"Last-Event-ID", "0000000001-0000000001"}});
  auto events = client.WaitFor(2, 10s);
  auto all = client.events();
  REQUIRE(all.size() >= 3);
  CHECK(all[0].type == "reset");
  CHECK(all[0].data.find("unknown-last-event-id") != std::string::npos);
  CHECK(Ids(events) == std::vector<std::string>{ids[2], ids[3]});
}

TEST_CASE("e2e: backlog gives the most recent notifications, then live") {
  MockApiProcess mock({"--fixtures", NB_FIXTURES_DIR "/notifications.json"});
  BridgeProcess bridge(mock.base_url());
  std::this_thread::sleep_for(500ms);
  SseClient client(bridge.url("/events?backlog=5"));
  auto backlog = client.WaitFor(5, 10s);
  REQUIRE(backlog.size() == 5);
  std::string live = mock.Post(Body("DockerHub", "docker", "push", "live"));
  auto events = client.WaitFor(6, 10s);
  REQUIRE(events.size() == 6);
  CHECK(events[5].last_event_id == live);
}

TEST_CASE("e2e: filters by field and by topic pattern") {
  MockApiProcess mock;
  BridgeProcess bridge(mock.base_url());
  SseClient jenkins(bridge.url("/events?service=JENKINS"));
  SseClient ops(bridge.url("/events?key=nasqueron.ops.%23"));
  SseClient both(bridge.url("/events?group=ci&type=completed.failure&type=started"));
  std::this_thread::sleep_for(300ms);
  std::string a = mock.Post(Body("GitHub", "ops", "push", "a"));
  std::string b = mock.Post(Body("Jenkins", "ci", "started", "b"));
  std::string c = mock.Post(Body("Jenkins", "ops", "completed.success", "c"));
  std::string d = mock.Post(Body("Jenkins", "ci", "completed.failure", "d"));
  std::string e = mock.Post(Body("GitHub", "ops", "push", "e"), "Wolfplex");
  CHECK(Ids(jenkins.WaitFor(3, 10s)) == std::vector<std::string>{b, c, d});
  CHECK(Ids(ops.WaitFor(2, 10s)) == std::vector<std::string>{a, c});
  CHECK(Ids(both.WaitFor(2, 10s)) == std::vector<std::string>{b, d});
}

TEST_CASE("e2e: 50 simultaneous streams all receive every event") {
  MockApiProcess mock;
  BridgeProcess bridge(mock.base_url());
  std::vector<std::unique_ptr<SseClient>> clients;
  for (int i = 0; i < 50; ++i) {
    clients.push_back(std::make_unique<SseClient>(bridge.url("/events")));
  }
  for (int i = 0; i < 300; ++i) {
    std::string m = HttpRequestTo(bridge.url("/metrics")).body;
    if (m.find("notifications_bridge_clients_connected 50\n") != std::string::npos) break;
    std::this_thread::sleep_for(20ms);
  }
  std::vector<std::string> ids = PostMany(mock, 10);
  for (auto& c : clients) CHECK(Ids(c->WaitFor(10, 15s)) == ids);
  std::string m = HttpRequestTo(bridge.url("/metrics")).body;
  CHECK(m.find("notifications_bridge_events_sent_total 500\n") != std::string::npos);
}

TEST_CASE("e2e: the API forgetting the cursor resets the streams") {
  MockApiProcess mock({"--retention", "5"});
  BridgeProcess bridge(mock.base_url(), {"--poll-interval", "1.5"});
  SseClient client(bridge.url("/events"));
  std::this_thread::sleep_for(200ms);
  std::string first = PostMany(mock, 1)[0];
  REQUIRE(client.WaitFor(1, 10s).size() == 1);
  // Between two polls, more than the API retains: our cursor is forgotten.
  std::vector<std::string> burst = PostMany(mock, 12, "burst");
  auto resets = client.WaitFor(1, 10s, "reset");
  REQUIRE(resets.size() == 1);
  CHECK(resets[0].data.find("upstream-reset") != std::string::npos);
  // Then the 5 the API still retains, after the reset.
  std::vector<std::string> retained(burst.end() - 5, burst.end());
  auto events = client.WaitFor(6, 10s);
  REQUIRE(events.size() == 6);
  std::vector<std::string> got = Ids(events);
  CHECK(got[0] == first);
  CHECK(std::vector<std::string>(got.begin() + 1, got.end()) == retained);
}

TEST_CASE("e2e: status, healthz and metrics") {
  MockApiProcess mock;
  BridgeProcess bridge(mock.base_url());
  std::this_thread::sleep_for(300ms);
  CHECK(HttpRequestTo(bridge.url("/status")).body == "ALIVE");
  auto health = HttpRequestTo(bridge.url("/healthz"));
  CHECK(health.status == 200);
  CHECK(health.body.find("\"upstream\":{\"ok\":true") != std::string::npos);
  auto metrics = HttpRequestTo(bridge.url("/metrics"));
  CHECK(metrics.body.find("notifications_bridge_polls_total ") != std::string::npos);
  // The API goes away: healthz says so, with the reason.
  mock.process->Signal(SIGKILL);
  mock.process->Wait(5s);
  std::this_thread::sleep_for(800ms);
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
  std::this_thread::sleep_for(500ms);
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
  std::this_thread::sleep_for(500ms);
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
  std::this_thread::sleep_for(500ms);
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

TEST_CASE("e2e: long-poll brings a notification below the poll interval") {
  MockApiProcess mock;
  // A 30 s poll interval: only long-poll can make this fast.
  BridgeProcess bridge(mock.base_url(), {"--poll-interval", "30", "--long-poll", "10"});
  SseClient client(bridge.url("/events"));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // First polls.
  std::vector<std::chrono::milliseconds> latencies;
  for (int i = 0; i < 5; ++i) {
    auto posted = std::chrono::steady_clock::now();
    std::string id = PostMany(mock, 1, "lp")[0];
    auto events = client.WaitFor(static_cast<size_t>(i + 1), std::chrono::seconds(5));
    REQUIRE(events.size() == static_cast<size_t>(i + 1));
    CHECK(events.back().last_event_id == id);
    latencies.push_back(std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - posted));
  }
  for (auto l : latencies) CHECK(l < std::chrono::seconds(2));
  // One request in flight at a time: a handful of polls, not a spin.
  std::string m = HttpRequestTo(bridge.url("/metrics")).body;
  size_t at = m.find("notifications_bridge_polls_total ");
  REQUIRE(at != std::string::npos);
  CHECK(std::atol(m.c_str() + at + 33) <= 12);
}

TEST_CASE("e2e: the mock holds a long-poll until a notification arrives") {
  MockApiProcess mock;
  std::string first = PostMany(mock, 1)[0];
  std::thread later([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    mock.Post(R"({"service":"GitHub","group":"ops","type":"push","text":"late"})");
  });
  auto start = std::chrono::steady_clock::now();
  auto r = HttpRequestTo(mock.base_url() + "/notifications?after=" + first + "&wait=5");
  auto took = std::chrono::steady_clock::now() - start;
  later.join();
  CHECK(r.status == 200);
  CHECK(r.body.find("\"text\":\"late\"") != std::string::npos);
  CHECK(took >= std::chrono::milliseconds(250));
  CHECK(took < std::chrono::seconds(3));
  // Nothing newer within the wait: an empty page after it.
  start = std::chrono::steady_clock::now();
  r = HttpRequestTo(mock.base_url() + "/notifications?after=" + mock.Post(
      R"({"service":"GitHub","group":"ops","type":"push","text":"x"})") + "&wait=1");
  CHECK(r.body.find("\"notifications\":[]") != std::string::npos);
  CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(900));
  CHECK(HttpRequestTo(mock.base_url() + "/notifications?wait=abc").status == 400);
}

}  // namespace
}  // namespace notifications

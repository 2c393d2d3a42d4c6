// notifications-tail against the real mock and bridge processes: the
// binary, and TailClient in-process over a real CurlHttpStream.
#include <doctest/doctest.h>
#include <signal.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "curl_http_client.h"
#include "curl_stream.h"
#include "env_guard.h"
#include "notification_parser.h"
#include "tail_client.h"
#include "tail_sinks.h"
#include "test_support.h"

namespace notifications {
namespace {

using namespace std::chrono_literals;
using testing::BridgeProcess;
using testing::CapturedSinks;
using testing::ChildProcess;
using testing::EnvGuard;
using testing::MockApiProcess;
using testing::SseClient;

// ---- The real binary against the real mock and bridge
// -------------------------

std::string Body(const std::string& service, const std::string& group,
                 const std::string& type, const std::string& text,
                 const std::string& link = "") {
  return "{\"service\":\"" + service + "\",\"group\":\"" + group +
         "\",\"type\":\"" + type + "\",\"text\":\"" + text + "\",\"link\":\"" +
         link + "\"}";
}

std::unique_ptr<ChildProcess> Tail(std::vector<std::string> args) {
  args.insert(args.begin(), NB_TAIL_EXE);
  return std::make_unique<ChildProcess>(args);
}

// The next `n` stdout lines (fewer after `timeout`).
std::vector<std::string> Lines(ChildProcess& p, size_t n,
                               std::chrono::milliseconds timeout) {
  std::vector<std::string> lines;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (lines.size() < n) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    std::string line = p.WaitForLine("", left);
    if (line.empty()) break;  // Timeout (the tail never prints empty lines).
    lines.push_back(line);
  }
  return lines;
}

// Waits until the child's stderr contains `needle`.
bool WaitForStderr(const ChildProcess& p, const std::string& needle,
                   std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (p.Stderr().find(needle) != std::string::npos) return true;
    std::this_thread::sleep_for(20ms);
  }
  return p.Stderr().find(needle) != std::string::npos;
}

// The text after "] " of a formatted line.
std::string AfterTime(const std::string& line) {
  size_t at = line.find("] ");
  return at == std::string::npos ? line : line.substr(at + 2);
}

// The tail is connected once the bridge counts its stream.
void WaitForClients(const BridgeProcess& bridge, int n) {
  const std::string gauge =
      "notifications_bridge_clients_connected " + std::to_string(n) + "\n";
  for (int i = 0; i < 500; ++i) {
    if (testing::HttpRequestTo(bridge.url("/metrics")).body.find(gauge) !=
        std::string::npos) {
      return;
    }
    std::this_thread::sleep_for(20ms);
  }
  FAIL("the bridge never had " << n << " client(s)");
}

TEST_CASE(
    "tail: the binary prints each posted notification in the line format") {
  EnvGuard tz("TZ", "UTC");  // Inherited by the child.
  MockApiProcess mock;
  BridgeProcess bridge(mock.base_url());
  REQUIRE(bridge.port > 0);
  auto text = Tail({bridge.url("/events")});
  auto json = Tail({"--json", bridge.url("/events")});
  WaitForClients(bridge, 2);
  REQUIRE_FALSE(
      mock.Post(Body("GitHub", "ops", "push", "dereckson pushed 1 commit",
                     "https://github.com/nasqueron/operations"))
          .empty());
  REQUIRE_FALSE(
      mock.Post(
              R"({"service":"Phabricator","group":"devtools","type":"TASK",)"
              R"("text":"T1210: r\u00e9sum\u00e9 \u2014 \ud83d\ude80\nsecond line","link":""})")
          .empty());
  REQUIRE_FALSE(
      mock.Post(
              R"({"service":"Jenkins","group":"","type":"started","text":null,"link":null})")
          .empty());
  std::vector<std::string> lines = Lines(*text, 3, 10s);
  std::vector<std::string> objects = Lines(*json, 3, 10s);
  REQUIRE(lines.size() == 3);
  REQUIRE(objects.size() == 3);
  CHECK(AfterTime(lines[0]) ==
        "<Nasqueron/ops> dereckson pushed 1 commit \xE2\x80\x94 "
        "https://github.com/nasqueron/operations");
  CHECK(AfterTime(lines[1]) ==
        "<Nasqueron/devtools> T1210: r\xC3\xA9sum\xC3\xA9 \xE2\x80\x94 "
        "\xF0\x9F\x9A\x80 second line");
  CHECK(AfterTime(lines[2]) == "<Nasqueron/> ");
  // Byte for byte, time included: each line is the format of the
  // notification the bridge sent (its `time`, shown in UTC here).
  for (size_t i = 0; i < 3; ++i) {
    Result<Notification> n = ParseStreamNotification(objects[i]);
    REQUIRE(n.ok());
    REQUIRE(ParseRfc3339(n->time).has_value());
    CHECK(lines[i] == FormatNotificationLine(*n, 0));
  }
  text->Signal(SIGTERM);
  json->Signal(SIGTERM);
  CHECK(text->Wait(5s) == 0);
  CHECK(json->Wait(5s) == 0);
}

TEST_CASE(
    "tail: --json prints each event's data exactly as the bridge sent it") {
  MockApiProcess mock;
  BridgeProcess bridge(mock.base_url());
  auto tail = Tail({"--json", bridge.url("/events")});
  SseClient reference(bridge.url("/events"));
  WaitForClients(bridge, 2);
  mock.Post(
      Body("GitHub", "ops", "push", "a \\\"quoted\\\" \\u00e9", "https://x/y"));
  mock.Post(
      R"({"service":"Jenkins","group":"ci","type":"completed.failure","text":null,"link":null})");
  auto events = reference.WaitFor(2, 10s);
  std::vector<std::string> objects = Lines(*tail, 2, 10s);
  REQUIRE(events.size() == 2);
  REQUIRE(objects.size() == 2);
  CHECK(objects[0] == events[0].data);
  CHECK(objects[1] == events[1].data);
  CHECK(objects[0].find(R"("text":"a \"quoted\" é")") != std::string::npos);
}

TEST_CASE(
    "tail: --service Jenkins prints only Jenkins notifications (filtered by "
    "the bridge)") {
  MockApiProcess mock;
  BridgeProcess bridge(mock.base_url());
  auto tail = Tail({"--service", "Jenkins", bridge.url("/events")});
  auto ops = Tail({"--routing-key", "nasqueron.ops.#", "--type", "push",
                   bridge.url("/events")});
  WaitForClients(bridge, 2);
  mock.Post(Body("GitHub", "ops", "push", "g1"));
  mock.Post(Body("Jenkins", "ci", "started", "j1"));
  mock.Post(Body("GitHub", "ci", "push", "g2"));
  mock.Post(Body("Jenkins", "ops", "completed.success", "j2"));
  mock.Post(Body("GitHub", "ops", "push", "g3"), "Wolfplex");
  mock.Post(Body("Jenkins", "ci", "completed.failure", "j3"));
  mock.Post(Body("GitHub", "ops", "push", "g4"));
  std::vector<std::string> lines = Lines(*tail, 3, 10s);
  REQUIRE(lines.size() == 3);
  CHECK(AfterTime(lines[0]) == "<Nasqueron/ci> j1");
  CHECK(AfterTime(lines[1]) == "<Nasqueron/ops> j2");
  CHECK(AfterTime(lines[2]) == "<Nasqueron/ci> j3");
  std::vector<std::string> pushes = Lines(*ops, 2, 10s);
  REQUIRE(pushes.size() == 2);
  CHECK(AfterTime(pushes[0]) == "<Nasqueron/ops> g1");
  CHECK(AfterTime(pushes[1]) == "<Nasqueron/ops> g4");
  // Nothing else arrives.
  CHECK(Lines(*tail, 1, 500ms).empty());
  CHECK(Lines(*ops, 1, 10ms).empty());
}

TEST_CASE("tail: --backlog N first prints the N most recent notifications") {
  MockApiProcess mock;
  for (int i = 0; i < 6; ++i)
    mock.Post(Body("GitHub", "ops", "push", "old" + std::to_string(i)));
  BridgeProcess bridge(mock.base_url());
  std::this_thread::sleep_for(500ms);  // Its first polls fill its history.
  auto tail = Tail({"--backlog", "3", bridge.url("/events")});
  std::vector<std::string> lines = Lines(*tail, 3, 10s);
  REQUIRE(lines.size() == 3);
  CHECK(AfterTime(lines[0]) == "<Nasqueron/ops> old3");
  CHECK(AfterTime(lines[1]) == "<Nasqueron/ops> old4");
  CHECK(AfterTime(lines[2]) == "<Nasqueron/ops> old5");
  mock.Post(Body("GitHub", "ops", "push", "live"));
  std::vector<std::string> live = Lines(*tail, 1, 10s);
  REQUIRE(live.size() == 1);
  CHECK(AfterTime(live[0]) == "<Nasqueron/ops> live");
}

TEST_CASE(
    "tail: after the bridge is killed and restarted, every notification is "
    "printed once, in order") {
  MockApiProcess mock;
  const std::vector<std::string> fast = {"--retry", "0.2"};
  auto bridge = std::make_unique<BridgeProcess>(mock.base_url(), fast);
  const int port = bridge->port;
  REQUIRE(port > 0);
  auto tail = Tail({"--json", bridge->url("/events")});
  WaitForClients(*bridge, 1);
  std::vector<std::string> expected;
  for (int i = 0; i < 3; ++i)
    expected.push_back(
        mock.Post(Body("GitHub", "ops", "push", "before" + std::to_string(i))));
  std::vector<std::string> seen = Lines(*tail, 3, 10s);
  REQUIRE(seen.size() == 3);

  bridge->process->Signal(SIGKILL);
  REQUIRE(bridge->process->Wait(5s) >= 0);
  for (int i = 0; i < 3; ++i)
    expected.push_back(
        mock.Post(Body("GitHub", "ops", "push", "during" + std::to_string(i))));
  // The tail retries against the closed port meanwhile (connection refused).
  CHECK(WaitForStderr(*tail, "cannot connect to", 10s));
  bridge = std::make_unique<BridgeProcess>(mock.base_url(), fast, port);
  REQUIRE(bridge->port == port);
  for (int i = 0; i < 3; ++i)
    expected.push_back(
        mock.Post(Body("GitHub", "ops", "push", "after" + std::to_string(i))));

  std::vector<std::string> more = Lines(*tail, 6, 20s);
  seen.insert(seen.end(), more.begin(), more.end());
  // Nothing more (no duplicate) arrives.
  std::vector<std::string> extra = Lines(*tail, 1, 1s);
  seen.insert(seen.end(), extra.begin(), extra.end());
  std::vector<std::string> ids;
  for (const std::string& object : seen) {
    Result<Notification> n = ParseStreamNotification(object);
    REQUIRE(n.ok());
    ids.push_back(n->id);
  }
  CHECK(ids == expected);
  std::string err = tail->Stderr();
  CAPTURE(err);
  CHECK(err.find("stream interrupted: ") != std::string::npos);
  CHECK(err.find("reconnected, resuming after " + expected[2]) !=
        std::string::npos);
  CHECK(err.find("skipped") ==
        std::string::npos);  // The bridge sent no duplicate.
  tail->Signal(SIGINT);
  CHECK(tail->Wait(5s) == 0);
}

TEST_CASE("tail: a reset prints a notice on stderr and the stream goes on") {
  MockApiProcess mock({"--retention", "5"});
  BridgeProcess bridge(mock.base_url(), {"--poll-interval", "1.5"});
  auto tail = Tail({bridge.url("/events")});
  WaitForClients(bridge, 1);
  mock.Post(Body("GitHub", "ops", "push", "first"));
  std::vector<std::string> first = Lines(*tail, 1, 10s);
  REQUIRE(first.size() == 1);
  CHECK(AfterTime(first[0]) == "<Nasqueron/ops> first");
  // Between two polls, more than the API retains: the bridge resets.
  for (int i = 0; i < 12; ++i)
    mock.Post(Body("GitHub", "ops", "push", "burst" + std::to_string(i)));
  CHECK(WaitForStderr(*tail, "stream reset: ", 10s));
  std::vector<std::string> retained = Lines(*tail, 5, 10s);
  REQUIRE(retained.size() == 5);
  for (int i = 0; i < 5; ++i) {
    CHECK(AfterTime(retained[static_cast<size_t>(i)]) ==
          "<Nasqueron/ops> burst" + std::to_string(7 + i));
  }
  std::string err = tail->Stderr();
  CHECK(err.rfind("stream reset: ", 0) == 0);
  CHECK(err.find('\n') == err.size() - 1);  // One line.
}

TEST_CASE("tail: --once exits 0 when the bridge ends the stream") {
  MockApiProcess mock;
  // A full bridge answers 200 text/event-stream with a long retry: and ends
  // the body at once: a stream that ends cleanly, every time.
  BridgeProcess bridge(mock.base_url(), {"--max-clients", "1"});
  SseClient holder(bridge.url("/events"));
  WaitForClients(bridge, 1);
  auto tail = Tail({"--once", bridge.url("/events")});
  CHECK(tail->Wait(10s) == 0);
  CHECK(tail->Stderr().empty());
  // Without --once, the same end is followed by a reconnection after the
  // bridge's (long) retry:.
  auto again = Tail({bridge.url("/events")});
  CHECK(WaitForStderr(*again, "the bridge ended the stream; reconnecting in ",
                      10s));
  again->Signal(SIGTERM);
  CHECK(again->Wait(5s) == 0);
}

TEST_CASE(
    "tail: --once after a bridge shutdown exits 0 on a clean end, 1 on a cut") {
  MockApiProcess mock;
  BridgeProcess bridge(mock.base_url());
  auto tail = Tail({"--once", bridge.url("/events")});
  WaitForClients(bridge, 1);
  mock.Post(Body("GitHub", "ops", "push", "only"));
  REQUIRE(Lines(*tail, 1, 10s).size() == 1);
  bridge.process->Signal(
      SIGTERM);  // Should end every stream with its final chunk.
  int code = tail->Wait(10s);
  std::string err = tail->Stderr();
  CAPTURE(err);
  // The bridge sometimes closes without the final chunk on SIGTERM (a race
  // between its hub shutdown and httplib's stop); the tail must tell the two
  // apart either way.
  if (code == 0) {
    CHECK(err.empty());
  } else {
    CHECK(code == 1);
    CHECK(err.rfind("notifications-tail: stream interrupted: ", 0) == 0);
  }
}

TEST_CASE("tail: SIGINT and SIGTERM exit 0 promptly") {
  MockApiProcess mock;
  // A fast heartbeat: the bridge notices a closed stream at its next write.
  BridgeProcess bridge(mock.base_url(), {"--heartbeat", "0.2"});
  for (int sig : {SIGINT, SIGTERM}) {
    CAPTURE(sig);
    auto tail = Tail({bridge.url("/events")});
    WaitForClients(bridge, 1);
    auto start = std::chrono::steady_clock::now();
    tail->Signal(sig);
    CHECK(tail->Wait(5s) == 0);
    CHECK(std::chrono::steady_clock::now() - start < 1s);
    CHECK(tail->Stderr().empty());
    WaitForClients(bridge, 0);  // The bridge noticed the closed stream.
  }
  // Also while waiting between two connections.
  auto tail = Tail({"--max-retry-delay", "60", bridge.url("/events")});
  WaitForClients(bridge, 1);
  bridge.process->Signal(SIGKILL);
  REQUIRE(WaitForStderr(*tail, "reconnecting in", 10s));
  auto start = std::chrono::steady_clock::now();
  tail->Signal(SIGTERM);
  CHECK(tail->Wait(5s) == 0);
  CHECK(std::chrono::steady_clock::now() - start < 1s);
}

TEST_CASE("tail: a refused port exits 1 with 'cannot connect to'") {
  // A port that was just free: bind one, note it, close it.
  MockApiProcess mock;
  int port = mock.port;
  mock.process->Signal(SIGKILL);
  mock.process->Wait(5s);
  std::string url = "http://127.0.0.1:" + std::to_string(port) + "/events";
  auto tail = Tail({url});
  CHECK(tail->Wait(10s) == 1);
  std::string err = tail->Stderr();
  CHECK(err.rfind("notifications-tail: cannot connect to " + url + ": ", 0) ==
        0);
  CHECK(err.find("Connection refused") != std::string::npos);
  CHECK(err.find('\n') == err.size() - 1);
}

TEST_CASE(
    "tail: a URL that is not a bridge stream exits 1 with a clear message") {
  MockApiProcess mock;
  BridgeProcess bridge(mock.base_url());
  struct Case {
    std::string url;
    std::vector<std::string> flags;
    std::string expected;
  };
  const std::string mock_status =
      "http://127.0.0.1:" + std::to_string(mock.port) + "/delivery/status";
  std::vector<Case> cases = {
      {mock_status,
       {},
       "notifications-tail: " + mock_status +
           " answered with Content-Type text/plain: not a notifications bridge "
           "stream "
           "(expected 200 text/event-stream) \xE2\x80\x94 is the path right? A "
           "bridge's stream is at /events\n"},
      {bridge.url("/nothing/here"),
       {},
       "notifications-tail: " + bridge.url("/nothing/here") +
           " answered HTTP 404: not a notifications bridge stream (expected "
           "200 "
           "text/event-stream) \xE2\x80\x94 is the path right? A bridge's "
           "stream is at "
           "/events\n"},
      {bridge.url("/events"),
       {"--routing-key", "nasqueron.ops#"},
       "notifications-tail: " + bridge.url("/events") +
           " answered HTTP 400: "
           "bad_request: key: "},
  };
  for (const Case& c : cases) {
    CAPTURE(c.url);
    std::vector<std::string> args = c.flags;
    args.push_back(c.url);
    auto tail = Tail(args);
    CHECK(tail->Wait(10s) == 1);
    std::string err = tail->Stderr();
    CAPTURE(err);
    CHECK(err.rfind(c.expected, 0) == 0);
    CHECK(err.find('\n') == err.size() - 1);
  }
  auto bad = Tail({"ftp://127.0.0.1/events"});
  CHECK(bad->Wait(10s) == 2);
  CHECK(bad->Stderr().rfind("notifications-tail: invalid URL", 0) == 0);
}

TEST_CASE("tail: the binary answers --help and --version") {
  auto help = Tail({"--help"});
  std::string usage = help->WaitForLine("Usage:", 10s);
  CHECK(usage == "Usage: notifications-tail [OPTIONS] URL");
  CHECK(help->Wait(10s) == 0);
  auto version = Tail({"--version"});
  CHECK(version->WaitForLine("", 10s) ==
        std::string("notifications-tail ") + NB_VERSION_STRING);
  CHECK(version->Wait(10s) == 0);
}

// ---- TailClient in-process
// ----------------------------------------------------

TailOptions OptionsFor(const std::string& url) {
  TailOptions o;
  o.url = url;
  o.stream_url = url;
  return o;
}

TEST_CASE("tail: TailClient::Stop() from another thread ends Run() promptly") {
  MockApiProcess mock;
  BridgeProcess bridge(mock.base_url());
  CapturedSinks c;
  CurlHttpStream stream;
  TailClient client(OptionsFor(bridge.url("/events")), c.sinks(), stream);
  Status status = Status::Unavailable("not run");
  std::thread runner([&] { status = client.Run(); });
  WaitForClients(bridge, 1);
  mock.Post(Body("GitHub", "ops", "push", "x"));
  CHECK(c.WaitForOut(1, 10s));
  auto start = std::chrono::steady_clock::now();
  client.Stop();
  runner.join();
  CHECK(std::chrono::steady_clock::now() - start < 500ms);
  CHECK(status.ok());
  REQUIRE(c.out().size() == 1);
  CHECK(AfterTime(c.out()[0]) == "<Nasqueron/ops> x");
  // Stop() before Run(): Run() returns at once.
  CurlHttpStream stopped_stream;
  TailClient stopped(OptionsFor(bridge.url("/events")), c.sinks(),
                     stopped_stream);
  stopped.Stop();
  CHECK(stopped.Run().ok());
}

TEST_CASE(
    "tail: TailClient's first-connection failures are errors, with their "
    "kind") {
  MockApiProcess mock;
  CapturedSinks c;
  CurlHttpStream stream;
  TailClient not_stream(
      OptionsFor("http://127.0.0.1:" + std::to_string(mock.port) +
                 "/delivery/status"),
      c.sinks(), stream);
  Status status = not_stream.Run();
  CHECK(status.code() == Status::Code::kInvalidArgument);
  CHECK(status.message().find("not a notifications bridge stream") !=
        std::string::npos);
  int port = mock.port;
  mock.process->Signal(SIGKILL);
  mock.process->Wait(5s);
  TailClient refused(
      OptionsFor("http://127.0.0.1:" + std::to_string(port) + "/events"),
      c.sinks(), stream);
  status = refused.Run();
  CHECK(status.code() == Status::Code::kUnavailable);
  CHECK(status.message().rfind("cannot connect to http://127.0.0.1:", 0) == 0);
  CHECK(c.out().empty());
  CHECK(c.err().empty());
}

TEST_CASE(
    "tail: a silent stream is taken as dead after --idle-timeout and resumed") {
  MockApiProcess mock;
  BridgeProcess bridge(mock.base_url(),
                       {"--heartbeat", "30", "--retry", "0.1"});
  CapturedSinks c;
  TailOptions o = OptionsFor(bridge.url("/events"));
  o.json = true;
  o.idle_timeout = 700ms;
  CurlHttpStream stream;
  TailClient client(o, c.sinks(), stream);
  std::thread runner([&] { (void)client.Run(); });
  WaitForClients(bridge, 1);
  std::vector<std::string> ids;
  ids.push_back(mock.Post(Body("GitHub", "ops", "push", "a")));
  std::this_thread::sleep_for(2s);  // Silent: at least one idle reconnection.
  ids.push_back(mock.Post(Body("GitHub", "ops", "push", "b")));
  CHECK(c.WaitForOut(2, 10s));
  client.Stop();
  runner.join();
  std::vector<std::string> got;
  for (const std::string& object : c.out())
    got.push_back(ParseStreamNotification(object)->id);
  CHECK(got == ids);
  std::vector<std::string> err = c.err();
  REQUIRE_FALSE(err.empty());
  CHECK(err[0].rfind(
            "stream silent for 0.7 s (not even a heartbeat): taken as dead; "
            "reconnecting in ",
            0) == 0);
  bool resumed = false;
  for (const std::string& line : err) {
    if (line == "reconnected, resuming after " + ids[0]) resumed = true;
  }
  CHECK(resumed);
}

}  // namespace
}  // namespace notifications

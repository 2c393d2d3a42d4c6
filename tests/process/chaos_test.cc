// Chaos: the real notifications-mock-api injecting faults into the polls,
// the real notifications-bridge, browser-like clients that drop and resume,
// notifications posted concurrently; and the bridge facing an API that is
// gone for a while, or that serves a page too large. Figures are printed on
// stdout so that docs/reliability.md can quote them (nb_process_tests -tc='chaos:*').
#include <doctest/doctest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "test_support.h"

namespace notifications {
namespace {

using namespace std::chrono_literals;
using testing::WaitUntil;
using testing::BridgeProcess;
using testing::BrowserLikeClient;
using testing::ChildProcess;
using testing::HttpRequestTo;
using testing::MockApiProcess;
using testing::SseClient;
using testing::WaitUntil;

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The value of the sample `name` (with its labels, e.g.
// `poll_errors_total{kind="gone"}`) in Prometheus text, or -1.
long long Metric(const std::string& text, const std::string& name) {
  const std::string key = "notifications_bridge_" + name + " ";
  size_t at = 0;
  while ((at = text.find(key, at)) != std::string::npos) {
    if (at == 0 || text[at - 1] == '\n') {
      return std::atoll(text.c_str() + at + key.size());
    }
    at += key.size();
  }
  return -1;
}

long long BridgeMetric(const BridgeProcess& bridge, const std::string& name) {
  return Metric(HttpRequestTo(bridge.url("/metrics")).body, name);
}

// A count from the mock's GET {base}/faults answer, e.g. "requests" or
// "gone".
long long FaultCount(const std::string& json, const std::string& name) {
  const std::string key = "\"" + name + "\":";
  size_t at = json.find(key);
  return at == std::string::npos ? -1
                                 : std::atoll(json.c_str() + at + key.size());
}

std::string GateBody(int n) {
  static const char* const kServices[] = {"GitHub", "Jenkins", "Phabricator",
                                          "DockerHub"};
  static const char* const kGroups[] = {"ops", "ci", "devtools", "docker", ""};
  return std::string("{\"service\":\"") + kServices[n % 4] + "\",\"group\":\"" +
         kGroups[n % 5] + "\",\"type\":\"push\",\"text\":\"chaos " +
         std::to_string(n) + "\",\"link\":\"\"}";
}

// Where two id lists first differ, for failure messages.
std::string FirstDifference(const std::vector<std::string>& got,
                            const std::vector<std::string>& want) {
  size_t i = 0;
  while (i < got.size() && i < want.size() && got[i] == want[i]) ++i;
  return "holds " + std::to_string(got.size()) + " of " +
         std::to_string(want.size()) + "; first difference at " +
         std::to_string(i) + ": got " + (i < got.size() ? got[i] : "(end)") +
         ", want " + (i < want.size() ? want[i] : "(end)");
}

// A sanitizer report in a child's stderr, "" when none (checked again when
// the child goes, by ~ChildProcess; here it is checked while it runs).
std::string SanitizerReport(const ChildProcess& process) {
  return testing::SanitizerReportIn(process.Stderr());
}

const char* const kFaultKinds[] = {"5xx",     "delay",   "close", "truncate",
                                   "garbage", "reserve", "gone",  "slow"};

}  // namespace

TEST_CASE(
    "chaos: 2000 notifications through ~30% upstream faults reach 20 "
    "dropping and resuming clients exactly once and in order") {
  constexpr int kNotifications = 2000;
  constexpr int kClients = 20;
  constexpr int kDroppingClients = 10;  // The first ones drop at random.
  constexpr int kPosters = 4;
  const auto start = Clock::now();

  // 27% spread over the seven other kinds (~3.9% each) + 3% gone = 30% of
  // polls. Retention far above what is posted: a 410 restarts the bridge
  // from the very first notification.
  MockApiProcess mock({"--retention", "100000", "--fault-rate", "0.27",
                       "--fault-gone", "0.03", "--fault-seed", "20261128",
                       "--fault-delay-seconds", "1", "--fault-slow-seconds",
                       "0.25"});
  REQUIRE(mock.port > 0);
  // The delay (1 s) outlasts --request-timeout (0.5 s): a timeout. The
  // drip (0.25 s) does not: a slow success. History and the clients'
  // backlog above 2,000: a client that gets a reset is given everything.
  BridgeProcess bridge(
      mock.base_url(),
      {"--poll-interval", "0.02", "--request-timeout", "0.5",
       "--connect-timeout", "0.5", "--backoff-initial", "0.05", "--backoff-max",
       "0.4", "--history", "5000", "--retry", "0.1", "--heartbeat", "1"});
  REQUIRE(bridge.port > 0);

  std::vector<std::unique_ptr<BrowserLikeClient>> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.push_back(std::make_unique<BrowserLikeClient>(
        bridge.url("/events?backlog=5000")));
  }
  REQUIRE(WaitUntil(
      [&] { return BridgeMetric(bridge, "clients_connected") == kClients; },
      10s));

  // Drops at random moments, until told to stop.
  std::atomic<bool> dropping{true};
  std::atomic<int> drops{0};
  std::thread dropper([&] {
    std::mt19937 rng(7);
    std::uniform_int_distribution<int> pick(0, kDroppingClients - 1);
    std::uniform_int_distribution<int> pause_ms(20, 150);
    while (dropping) {
      std::this_thread::sleep_for(std::chrono::milliseconds(pause_ms(rng)));
      clients[static_cast<size_t>(pick(rng))]->Disconnect();
      ++drops;
    }
  });

  // Posted concurrently, ~200 per second in all.
  std::vector<std::vector<std::string>> posted(kPosters);
  std::vector<std::thread> posters;
  const auto posting_start = Clock::now();
  for (int t = 0; t < kPosters; ++t) {
    posters.emplace_back([&, t] {
      for (int i = t; i < kNotifications; i += kPosters) {
        posted[static_cast<size_t>(t)].push_back(mock.Post(GateBody(i)));
        std::this_thread::sleep_for(20ms);
      }
    });
  }
  for (std::thread& p : posters) p.join();
  const double posting_seconds = SecondsSince(posting_start);
  // Faults and drops go on until every kind of fault was injected a few
  // times (with this seed the draws are the same from run to run, so this
  // is a matter of enough polls), at least one more second.
  const std::string faults_url =
      "http://127.0.0.1:" + std::to_string(mock.port) + "/delivery/faults";
  std::this_thread::sleep_for(1s);
  WaitUntil(
      [&] {
        std::string counts = HttpRequestTo(faults_url).body;
        for (const char* kind : kFaultKinds) {
          if (FaultCount(counts, kind) < 3) return false;
        }
        return true;
      },
      20s);
  dropping = false;
  dropper.join();

  std::vector<std::string> expected;
  for (const auto& ids : posted)
    expected.insert(expected.end(), ids.begin(), ids.end());
  REQUIRE(std::count(expected.begin(), expected.end(), "") == 0);
  // Ids are fixed-width: byte order is the API's order.
  std::sort(expected.begin(), expected.end());
  REQUIRE(std::set<std::string>(expected.begin(), expected.end()).size() ==
          kNotifications);

  // Until here the API misbehaved on ~30% of polls; now the incident ends,
  // so that a last 410 cannot reset the clients while they are compared.
  const std::string faults = HttpRequestTo(faults_url, "DELETE").body;
  const auto heal = Clock::now();
  for (size_t i = 0; i < clients.size(); ++i) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        heal + 30s - Clock::now());
    bool converged = clients[i]->WaitForList(expected, std::max(left, 1ms));
    CAPTURE(i);
    CHECK_MESSAGE(converged, FirstDifference(clients[i]->ids(), expected));
  }
  const double convergence_seconds = SecondsSince(heal);
  // Three more polls, fault-free now: nothing more may arrive.
  const long long polls = BridgeMetric(bridge, "polls_total");
  CHECK(WaitUntil(
      [&] { return BridgeMetric(bridge, "polls_total") >= polls + 3; }, 10s));

  size_t connections = 0, resets = 0, events = 0;
  for (size_t i = 0; i < clients.size(); ++i) {
    CAPTURE(i);
    CHECK(clients[i]->gave_up() == "");
    CHECK_MESSAGE(clients[i]->order_violations() == 0,
                  clients[i]->first_violation());
    CHECK(clients[i]->ids() == expected);
    connections += clients[i]->connections();
    resets += clients[i]->resets();
    events += clients[i]->notifications();
  }
  const std::string metrics = HttpRequestTo(bridge.url("/metrics")).body;
  const size_t peak_rss_kib = testing::PeakRssKib(bridge.process->pid());
  for (auto& c : clients) c->Stop();
  const double total_seconds = SecondsSince(start);

  // The run exercised what it claims: every kind of fault, seen by the
  // bridge as the error it is, and resets that re-published everything.
  for (const char* kind : kFaultKinds) {
    CAPTURE(kind);
    CHECK(FaultCount(faults, kind) >= 3);
  }
  for (const char* kind :
       {"timeout", "transport", "http_5xx", "not_json", "malformed", "gone"}) {
    CAPTURE(kind);
    CHECK(Metric(metrics,
                 std::string("poll_errors_total{kind=\"") + kind + "\"}") > 0);
  }
  CHECK(Metric(metrics, "upstream_resets_total") > 0);
  CHECK(Metric(metrics, "duplicates_dropped_total") > 0);
  CHECK(resets > 0);
  CHECK(drops > 0);
  CHECK(SanitizerReport(*bridge.process) == "");
  CHECK(SanitizerReport(*mock.process) == "");
  // The time taken and the bridge's peak memory are figures (printed
  // below), not bounds: a slow or loaded machine is not a failure.

  char summary[2048];
  std::snprintf(
      summary, sizeof summary,
      "chaos: %d notifications, %d clients (%d dropped at random %d times), "
      "%.1f s posting, converged %.2f s after the faults stopped, %.1f s in "
      "all\n"
      "chaos: mock %s\n"
      "chaos: bridge polls %lld, errors timeout %lld transport %lld http_5xx "
      "%lld "
      "not_json %lld malformed %lld gone %lld; upstream resets %lld, "
      "duplicates "
      "dropped %lld, streams opened %lld, gap fetches %lld, events sent %lld\n"
      "chaos: clients: %zu connections, %zu resets received, %zu notification "
      "events received; bridge peak RSS (VmHWM) %.1f MiB\n",
      kNotifications, kClients, kDroppingClients, drops.load(), posting_seconds,
      convergence_seconds, total_seconds, faults.c_str(),
      Metric(metrics, "polls_total"),
      Metric(metrics, "poll_errors_total{kind=\"timeout\"}"),
      Metric(metrics, "poll_errors_total{kind=\"transport\"}"),
      Metric(metrics, "poll_errors_total{kind=\"http_5xx\"}"),
      Metric(metrics, "poll_errors_total{kind=\"not_json\"}"),
      Metric(metrics, "poll_errors_total{kind=\"malformed\"}"),
      Metric(metrics, "poll_errors_total{kind=\"gone\"}"),
      Metric(metrics, "upstream_resets_total"),
      Metric(metrics, "duplicates_dropped_total"),
      Metric(metrics, "streams_opened_total"),
      Metric(metrics, "gap_fetches_total"),
      Metric(metrics, "events_sent_total"), connections, resets, events,
      static_cast<double>(peak_rss_kib) / 1024);
  std::fputs(summary, stdout);
  std::fflush(stdout);
}

TEST_CASE(
    "chaos: an unreachable delivery API costs few requests (backoff) "
    "and the bridge recovers") {
  MockApiProcess mock;
  REQUIRE(mock.port > 0);
  const int port = mock.port;
  BridgeProcess bridge(
      mock.base_url(),
      {"--poll-interval", "0.1", "--backoff-initial", "0.5", "--backoff-max",
       "4", "--request-timeout", "1", "--connect-timeout", "1"});
  REQUIRE(bridge.port > 0);
  SseClient client(bridge.url("/events"));
  REQUIRE(WaitUntil(
      [&] { return BridgeMetric(bridge, "clients_connected") == 1; }, 10s));
  std::string before = mock.Post(GateBody(0));
  REQUIRE(client.WaitFor(1, 10s).size() == 1);

  // The API goes away for 10 s.
  mock.process->Signal(SIGKILL);
  REQUIRE(mock.process->Wait(5s) >= 0);
  const long long polls_at_kill = BridgeMetric(bridge, "polls_total");
  const long long connect_errors_at_kill =
      BridgeMetric(bridge, "poll_errors_total{kind=\"connect\"}");
  std::this_thread::sleep_for(10s);
  const std::string metrics = HttpRequestTo(bridge.url("/metrics")).body;
  const long long requests = Metric(metrics, "polls_total") - polls_at_kill;
  const long long failures =
      Metric(metrics, "poll_errors_total{kind=\"connect\"}") -
      connect_errors_at_kill;
  auto health = HttpRequestTo(bridge.url("/healthz"));

  // Waits after the n-th failure are random in [c/2, c], c = min(4, 0.5 *
  // 2^(n-1)): at least 0.25, 0.5, 1, 2, 2, 2 s... so at most 1 + 7 requests
  // start within 10 s; at most 0.5, 1, 2, 4 s... so at least 1 + 4 do.
  CHECK(requests <= 8);
  CHECK(requests >= 4);
  // Each one failed to connect; the last may still be in flight (a poll
  // is counted when it starts, its error when it ends).
  CHECK(failures <= requests);
  CHECK(failures >= requests - 1);
  CHECK(health.status == 503);
  CHECK(health.body.find("\"lastError\":\"connect") != std::string::npos);

  // The API comes back on the same port, knowing nothing of the old ids:
  // the bridge's next retry (within --backoff-max) gets 410, resets, and
  // publishes. Counted in requests: once the API answers, no request fails
  // any more; one 410, one reset. How long that took is printed, not
  // bounded (it is mostly the backoff wait).
  const auto restart = Clock::now();
  ChildProcess again(
      {NB_MOCK_API_EXE, "--port", std::to_string(port), "--log-level", "warn"});
  REQUIRE(testing::PortFromLine(again.WaitForLine("listening on", 10s)) ==
          port);
  HttpRequestTo("http://127.0.0.1:" + std::to_string(port) +
                    "/gate/Notification/Nasqueron",
                "POST", {{"Content-Type", "application/json"}}, GateBody(1));
  const long long connect_errors_when_back =
      BridgeMetric(bridge, "poll_errors_total{kind=\"connect\"}");
  auto resets = client.WaitFor(1, 15s, "reset");
  auto events = client.WaitFor(2, 15s);
  const double recovery_seconds = SecondsSince(restart);
  REQUIRE(resets.size() == 1);
  CHECK(resets[0].data.find("upstream-reset") != std::string::npos);
  REQUIRE(events.size() == 2);
  CHECK(events[0].last_event_id == before);
  CHECK(events[1].last_event_id != before);
  CHECK(BridgeMetric(bridge, "poll_errors_total{kind=\"connect\"}") ==
        connect_errors_when_back);
  CHECK(BridgeMetric(bridge, "poll_errors_total{kind=\"gone\"}") == 1);
  CHECK(BridgeMetric(bridge, "upstream_resets_total") == 1);
  CHECK(HttpRequestTo(bridge.url("/healthz")).status == 200);
  CHECK(SanitizerReport(*bridge.process) == "");

  char summary[512];
  std::snprintf(
      summary, sizeof summary,
      "backoff: API unreachable for 10 s: %lld upstream requests (bound 8, "
      "--backoff-initial 0.5 --backoff-max 4); publishing again %.2f s after "
      "the API came back\n",
      requests, recovery_seconds);
  std::fputs(summary, stdout);
  std::fflush(stdout);
}

TEST_CASE(
    "chaos: a page above --max-page-bytes is an error counted and logged "
    "and shown in healthz while the bridge stays up") {
  MockApiProcess mock;
  REQUIRE(mock.port > 0);
  BridgeProcess bridge(mock.base_url(), {"--max-page-bytes", "65536"});
  REQUIRE(bridge.port > 0);
  SseClient client(bridge.url("/events"));
  REQUIRE(WaitUntil(
      [&] { return BridgeMetric(bridge, "clients_connected") == 1; }, 10s));
  std::string small = mock.Post(GateBody(0));
  REQUIRE(client.WaitFor(1, 10s).size() == 1);

  // 300 KB of rawContent, not compressible to nothing on the way.
  std::mt19937 rng(3);
  std::string blob;
  for (int i = 0; i < 300 * 1024; ++i) {
    blob += "abcdefghijklmnopqrstuvwxyz0123456789"[rng() % 36];
  }
  std::string big = mock.Post(
      "{\"service\":\"GitHub\",\"group\":\"ops\",\"type\":\"push\",\"text\":"
      "\"big\","
      "\"rawContent\":{\"blob\":\"" +
      blob + "\"}}");
  REQUIRE(!big.empty());

  REQUIRE(WaitUntil(
      [&] {
        return BridgeMetric(bridge, "poll_errors_total{kind=\"too_large\"}") >=
               2;
      },
      10s));
  auto health = HttpRequestTo(bridge.url("/healthz"));
  CHECK(health.status == 503);
  CHECK(health.body.find("\"lastError\":\"too_large") != std::string::npos);
  CHECK(bridge.process->Wait(0ms) == -1);  // Still running.
  CHECK(HttpRequestTo(bridge.url("/status")).body == "ALIVE");
  // Retried with backoff, not in a tight loop: with the test's
  // --backoff-initial 0.1 --backoff-max 0.5 the waits are at least 0.05,
  // 0.1, 0.2, then 0.25 s each (and each attempt costs the mock a 300 KiB
  // page to build and compress): a loop would show hundreds.
  const auto window_start = Clock::now();
  const long long errors =
      BridgeMetric(bridge, "poll_errors_total{kind=\"too_large\"}");
  long long later = errors;
  CHECK(WaitUntil(
      [&] {
        later = BridgeMetric(bridge, "poll_errors_total{kind=\"too_large\"}");
        return later > errors && Clock::now() - window_start >= 2s;
      },
      15s));
  const double window_seconds = SecondsSince(window_start);
  CHECK(later - errors <= static_cast<long long>(window_seconds / 0.25) + 4);
  const std::string log = bridge.process->Stderr();
  const size_t log_at = log.find("too_large");
  REQUIRE(log_at != std::string::npos);
  const size_t line_start = log.rfind('\n', log_at) == std::string::npos
                                ? 0
                                : log.rfind('\n', log_at) + 1;
  const std::string log_line =
      log.substr(line_start, log.find('\n', log_at) - line_start);
  CHECK(log_line.find("larger than 65536 bytes") != std::string::npos);
  CHECK(client.WaitFor(2, 100ms).size() == 1);  // Never published.

  // The remedy: a larger --max-page-bytes gets past it.
  BridgeProcess roomy(mock.base_url(), {"--max-page-bytes", "1048576"});
  SseClient roomy_client(roomy.url("/events?backlog=10"));
  auto events = roomy_client.WaitFor(2, 10s);
  REQUIRE(events.size() == 2);
  CHECK(events[0].last_event_id == small);
  CHECK(events[1].last_event_id == big);
  CHECK(SanitizerReport(*bridge.process) == "");
  CHECK(SanitizerReport(*roomy.process) == "");

  std::string summary =
      "max-page-bytes: a " + std::to_string(blob.size() / 1024) +
      " KiB notification with --max-page-bytes 65536: " +
      std::to_string(later - errors) + " too_large errors in " +
      std::to_string(window_seconds).substr(0, 3) +
      " s (backoff), healthz 503, log: " + log_line + "\n";
  std::fputs(summary.c_str(), stdout);
  std::fflush(stdout);
}

}  // namespace notifications

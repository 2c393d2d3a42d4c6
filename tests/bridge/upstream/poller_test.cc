#include "poller.h"

#include <doctest/doctest.h>

#include <thread>

#include "fakes.h"

namespace notifications {
namespace {

using namespace std::chrono_literals;

std::string Page(const std::vector<int>& ids, bool more = false,
                 bool with_time = true) {
  std::string body = "{\"notifications\":[";
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) body += ",";
    body += "{\"id\":\"" + std::to_string(ids[i]) + "\",\"service\":\"GitHub\"," +
            "\"project\":\"Nasqueron\",\"group\":\"ops\",\"type\":\"push\"," +
            "\"text\":\"n" + std::to_string(ids[i]) + "\",\"link\":\"\"" +
            (with_time ? ",\"time\":\"2026-11-28T10:00:00Z\"" : "") + "}";
  }
  std::string cursor = ids.empty() ? "" : std::to_string(ids.back());
  body += "],\"cursor\":\"" + cursor + "\",\"more\":" + (more ? "true" : "false") + "}";
  return body;
}

struct Rig {
  FakeHttpClient http;
  FakeClock clock;
  Metrics metrics;
  std::vector<std::string> log_lines;
  Logger logger{LogLevel::kDebug, [this](const std::string& l) { log_lines.push_back(l); }};
  DeliveryClient client{http, [] {
                          DeliveryOptions o;
                          o.base_url = "http://api.test/delivery";
                          return o;
                        }()};
  EventHub hub{100, false};

  std::vector<std::string> HistoryIds() {
    std::vector<std::string> ids;
    for (const auto& e : hub.TakeSnapshot().history) ids.push_back(e->id);
    return ids;
  }
};

TEST_CASE("poller: publishes a page and moves the cursor to its last item") {
  Rig rig;
  Poller poller(rig.client, rig.hub, rig.metrics, rig.logger, rig.clock, {});
  rig.http.PushJson(200, Page({1, 2, 3}));
  Poller::Outcome o = poller.PollOnce();
  CHECK(o.error == FetchError::kNone);
  CHECK(o.published == 3);
  CHECK(rig.HistoryIds() == std::vector<std::string>{"1", "2", "3"});
  CHECK(poller.State().cursor == "3");
  CHECK(poller.State().upstream_ok);
  rig.http.PushJson(200, Page({}));
  poller.PollOnce();
  auto reqs = rig.http.requests();
  CHECK(reqs[0].url.find("after=") == std::string::npos);
  CHECK(reqs[1].url.find("after=3") != std::string::npos);
}

TEST_CASE("poller: overlapping pages never publish an id twice") {
  Rig rig;
  Poller poller(rig.client, rig.hub, rig.metrics, rig.logger, rig.clock, {});
  rig.http.PushJson(200, Page({1, 2, 3}));
  rig.http.PushJson(200, Page({2, 3, 4, 5}));
  rig.http.PushJson(200, Page({5}));
  poller.PollOnce();
  Poller::Outcome o = poller.PollOnce();
  CHECK(o.published == 2);
  CHECK(o.duplicates == 2);
  o = poller.PollOnce();
  CHECK(o.published == 0);
  CHECK(rig.HistoryIds() == std::vector<std::string>{"1", "2", "3", "4", "5"});
  CHECK(rig.metrics.duplicates_dropped == 3);
  CHECK(rig.metrics.notifications_published == 5);
}

TEST_CASE("poller: a failed poll publishes nothing and keeps the cursor") {
  Rig rig;
  Poller poller(rig.client, rig.hub, rig.metrics, rig.logger, rig.clock, {},
                std::string("10"));
  rig.http.PushJson(503, "{}");
  rig.http.PushJson(200, "{\"notifications\":[{\"id\":\"11\"}");  // truncated
  rig.http.PushJson(200, Page({12, 11}));                      // out of order
  for (int i = 0; i < 3; ++i) CHECK(poller.PollOnce().error != FetchError::kNone);
  CHECK(rig.hub.HistorySize() == 0);
  CHECK(poller.State().cursor == "10");
  CHECK(poller.State().consecutive_failures == 3);
  CHECK_FALSE(poller.State().upstream_ok);
  CHECK(rig.metrics.poll_errors[static_cast<size_t>(FetchError::kHttpServer)] == 1);
  CHECK(rig.metrics.poll_errors[static_cast<size_t>(FetchError::kMalformed)] == 2);
  // Every failure is one clear log line.
  size_t warnings = 0;
  for (const auto& l : rig.log_lines) warnings += l.find(" warn poll ") != std::string::npos;
  CHECK(warnings == 3);
  rig.http.PushJson(200, Page({11, 12}));
  CHECK(poller.PollOnce().published == 2);
  CHECK(poller.State().consecutive_failures == 0);
}

TEST_CASE("poller: 410 resets the streams and restarts from the oldest") {
  Rig rig;
  Poller poller(rig.client, rig.hub, rig.metrics, rig.logger, rig.clock, {});
  rig.http.PushJson(200, Page({1, 2}));
  poller.PollOnce();
  rig.http.PushJson(410, R"({"error":"gone","message":"cursor 2 is no longer retained"})");
  Poller::Outcome o = poller.PollOnce();
  CHECK(o.error == FetchError::kGone);
  CHECK(o.more);  // Restart at once.
  CHECK(rig.hub.HistorySize() == 0);
  std::vector<HubEventPtr> events;
  rig.hub.ReadAfter(2, 10, &events);
  REQUIRE(events.size() == 1);
  CHECK(events[0]->kind == HubEvent::Kind::kReset);
  rig.http.PushJson(200, Page({40, 41}));
  CHECK(poller.PollOnce().published == 2);
  CHECK(rig.http.requests().back().url.find("after=") == std::string::npos);
  CHECK(rig.metrics.upstream_resets == 1);
}

TEST_CASE("poller: a 410 without cursor is an error, not a reset loop") {
  Rig rig;
  Poller poller(rig.client, rig.hub, rig.metrics, rig.logger, rig.clock, {});
  rig.http.PushJson(410, "{}");
  Poller::Outcome o = poller.PollOnce();
  CHECK(o.error == FetchError::kGone);
  CHECK_FALSE(o.more);
  CHECK(rig.metrics.upstream_resets == 0);
}

TEST_CASE("poller: stamps notifications without time with first-seen time") {
  Rig rig;
  Poller poller(rig.client, rig.hub, rig.metrics, rig.logger, rig.clock, {});
  rig.http.PushJson(200, Page({1}, false, false));
  poller.PollOnce();
  auto h = rig.hub.TakeSnapshot().history;
  REQUIRE(h.size() == 1);
  CHECK(h[0]->notification.time == FormatRfc3339(rig.clock.WallMillis()));
}

TEST_CASE("poller: a page of only old items claiming more is refused") {
  Rig rig;
  Poller poller(rig.client, rig.hub, rig.metrics, rig.logger, rig.clock, {},
                std::string("5"));
  rig.http.PushJson(200, Page({4, 5}, true));
  Poller::Outcome o = poller.PollOnce();
  CHECK(o.contract_violation);
  CHECK_FALSE(o.more);
}

TEST_CASE("poller: Run follows more at once, waits the interval, backs off") {
  Rig rig;
  PollerOptions options;
  options.interval = 5000ms;
  options.backoff = BackoffPolicy{1000ms, 4000ms};
  options.seed = 7;
  Poller poller(rig.client, rig.hub, rig.metrics, rig.logger, rig.clock, options);
  rig.http.PushJson(200, Page({1}, true));   // more: no wait
  rig.http.PushJson(200, Page({2}, false));  // interval
  // Then the fake answers connection errors: backoff 1, 2, 4, 4 s (±jitter).
  std::thread t([&] { poller.Run(); });
  while (rig.clock.waits().size() < 6) std::this_thread::sleep_for(1ms);
  poller.Stop();
  t.join();
  auto waits = rig.clock.waits();
  CHECK(waits[0] == 5000ms);
  auto in = [](std::chrono::milliseconds w, int lo, int hi) {
    return w.count() >= lo && w.count() <= hi;
  };
  CHECK(in(waits[1], 500, 1000));
  CHECK(in(waits[2], 1000, 2000));
  CHECK(in(waits[3], 2000, 4000));
  CHECK(in(waits[4], 2000, 4000));  // capped
  CHECK(rig.hub.HistorySize() == 2);
  // Two successes, then failures; never more requests than waits + 1.
  CHECK(rig.http.requests().size() <= waits.size() + 2);
}

}  // namespace
}  // namespace notifications

namespace notifications {
namespace {

// An HttpClient that lets time pass on the fake clock during a request, as
// an API holding a long-poll would.
class SlowHttp final : public HttpClient {
 public:
  SlowHttp(FakeHttpClient& inner, FakeClock& clock) : inner_(inner), clock_(clock) {}
  HttpResponse Get(const HttpRequest& r) override {
    clock_.Advance(next_delay);
    return inner_.Get(r);
  }
  std::chrono::milliseconds next_delay{0};

 private:
  FakeHttpClient& inner_;
  FakeClock& clock_;
};

TEST_CASE("poller: long-poll asks the API to wait and follows held requests at once") {
  FakeHttpClient http;
  FakeClock clock;
  SlowHttp slow(http, clock);
  Metrics metrics;
  Logger logger(LogLevel::kOff);
  DeliveryOptions o;
  o.base_url = "http://api.test/delivery";
  o.long_poll = std::chrono::seconds(20);
  o.total_timeout = std::chrono::seconds(10);
  DeliveryClient client(slow, o);
  EventHub hub(10, false);
  Poller poller(client, hub, metrics, logger, clock, {});

  http.PushJson(200, Page({1}));
  Poller::Outcome first = poller.PollOnce();
  CHECK(http.requests()[0].url.find("&wait=20") != std::string::npos);
  CHECK(http.requests()[0].total_timeout == std::chrono::seconds(30));
  CHECK(first.held);  // New items: ask again at once.

  slow.next_delay = std::chrono::seconds(20);  // Held until its wait ended.
  http.PushJson(200, Page({}));
  CHECK(poller.PollOnce().held);

  slow.next_delay = std::chrono::milliseconds(300);  // Answered on arrival.
  http.PushJson(200, Page({2}));
  Poller::Outcome arrival = poller.PollOnce();
  CHECK(arrival.published == 1);
  CHECK(arrival.held);
}

TEST_CASE("poller: an API that ignores wait is polled at the interval") {
  FakeHttpClient http;
  FakeClock clock;
  Metrics metrics;
  Logger logger(LogLevel::kOff);
  DeliveryOptions o;
  o.base_url = "http://api.test/delivery";
  o.long_poll = std::chrono::seconds(20);
  DeliveryClient client(http, o);
  EventHub hub(10, false);
  PollerOptions options;
  options.interval = std::chrono::milliseconds(5000);
  Poller poller(client, hub, metrics, logger, clock, options);
  http.PushJson(200, Page({}));  // Empty, at once: `wait` ignored.
  http.PushJson(200, Page({}));
  std::thread t([&] { poller.Run(); });
  while (clock.waits().size() < 2) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  poller.Stop();
  t.join();
  CHECK(clock.waits()[0] == std::chrono::milliseconds(5000));
  CHECK(clock.waits()[1] == std::chrono::milliseconds(5000));
}

}  // namespace
}  // namespace notifications

namespace notifications {
namespace {

// A page body with raw items (JSON text each), for bad items.
std::string RawPage(const std::vector<std::string>& items,
                    const std::string& cursor, bool more = false) {
  std::string body = "{\"notifications\":[";
  for (size_t i = 0; i < items.size(); ++i) body += (i ? "," : "") + items[i];
  return body + "],\"cursor\":\"" + cursor +
         "\",\"more\":" + (more ? "true" : "false") + "}";
}

std::string Good(int id) {
  return "{\"id\":\"" + std::to_string(id) +
         "\",\"service\":\"GitHub\",\"project\":\"Nasqueron\",\"group\":"
         "\"ops\","
         "\"type\":\"push\",\"text\":\"n" +
         std::to_string(id) + "\",\"time\":\"2026-11-28T10:00:00Z\"}";
}

size_t Count(const std::vector<std::string>& lines, const std::string& needle) {
  size_t n = 0;
  for (const auto& l : lines) n += l.find(needle) != std::string::npos;
  return n;
}

// Streams reset so far: each reset is one reset event for every stream.
uint64_t Resets(const Metrics& metrics) {
  return metrics.upstream_resets.load();
}

TEST_CASE(
    "poller: an item that cannot be represented is skipped, not the page") {
  // Before: the whole page was rejected on every retry, so nothing after
  // item 2 was ever published.
  Rig rig;
  std::vector<std::optional<std::string>> saved;
  PollerOptions options;
  options.on_cursor = [&](const std::optional<std::string>& c) {
    saved.push_back(c);
  };
  Poller poller(rig.client, rig.hub, rig.metrics, rig.logger, rig.clock,
                options);
  rig.http.PushJson(
      200,
      RawPage({Good(1), R"({"id":"2","text":"x","rawContent":{"n":1e400}})",
               R"({"id":"3","text":"a\ud800b"})", Good(4)},
              "4"));
  Poller::Outcome o = poller.PollOnce();
  CHECK(o.error == FetchError::kNone);
  CHECK(o.published == 2);
  CHECK(o.skipped == 2);
  CHECK(rig.HistoryIds() == std::vector<std::string>{"1", "4"});
  CHECK(rig.metrics.skipped_unrepresentable == 2);
  UpstreamState s = poller.State();
  CHECK(s.upstream_ok);
  CHECK_FALSE(s.degraded);
  CHECK(s.skipped == 2);
  CHECK(s.last_skipped_id == "3");
  CHECK(s.last_skipped_reason.rfind("a lone surrogate escape \\ud800 at offset",
                                    0) == 0);
  CHECK(s.last_skipped_ms == rig.clock.WallMillis());
  CHECK(Count(rig.log_lines,
              "skipped notification 2 (item 1 of its page): a number "
              "beyond the range of a double (1e400)") == 1);
  CHECK(Count(rig.log_lines, "skipped notification 3") == 1);
  // The same items re-served by an overlapping page are not counted again.
  rig.http.PushJson(
      200, RawPage({R"({"id":"3","text":"a\ud800b"})", Good(4), Good(5)}, "5"));
  CHECK(poller.PollOnce().published == 1);
  CHECK(rig.metrics.skipped_unrepresentable == 2);
  CHECK(Count(rig.log_lines, "skipped notification") == 2);
  CHECK(saved.back() == std::optional<std::string>("5"));
}

TEST_CASE(
    "poller: a page whose new items are all skipped moves the cursor past "
    "them") {
  Rig rig;
  std::vector<std::optional<std::string>> saved;
  PollerOptions options;
  options.on_cursor = [&](const std::optional<std::string>& c) {
    saved.push_back(c);
  };
  Poller poller(rig.client, rig.hub, rig.metrics, rig.logger, rig.clock,
                options, std::string("3"));
  rig.http.PushJson(
      200,
      RawPage({Good(3), R"({"id":"4","rawContent":[-1e999]})"}, "4", true));
  Poller::Outcome o = poller.PollOnce();
  CHECK(o.error == FetchError::kNone);  // Not "only old items but more".
  CHECK(o.more);
  CHECK(o.published == 0);
  CHECK(poller.State().cursor == "4");
  REQUIRE(saved.size() == 1);
  CHECK(saved[0] == std::optional<std::string>("4"));
  rig.http.PushJson(200, RawPage({}, "4"));
  poller.PollOnce();
  CHECK(rig.http.requests().back().url.find("after=4") != std::string::npos);
}

TEST_CASE(
    "poller: a notification above the size cap is skipped and counted as "
    "such") {
  FakeHttpClient http;
  FakeClock clock;
  Metrics metrics;
  std::vector<std::string> lines;
  Logger logger(LogLevel::kInfo,
                [&](const std::string& l) { lines.push_back(l); });
  DeliveryOptions o;
  o.base_url = "http://api.test/delivery";
  o.max_item_bytes = 1000;
  DeliveryClient client(http, o);
  EventHub hub(10, false);
  Poller poller(client, hub, metrics, logger, clock, {});
  http.PushJson(
      200, RawPage({Good(1),
                    R"({"id":"2","text":")" + std::string(2000, 'x') + "\"}",
                    Good(3)},
                   "3"));
  CHECK(poller.PollOnce().published == 2);
  CHECK(metrics.skipped_too_large == 1);
  CHECK(metrics.skipped_unrepresentable == 0);
  CHECK(poller.State().last_skipped_reason ==
        "2001 bytes, above the cap of 1000");
  CHECK(Count(lines, "skipped notification 2") == 1);
}

TEST_CASE("poller: skipped items are logged up to a bound per page") {
  Rig rig;
  PollerOptions options;
  options.max_skip_log_lines = 3;
  Poller poller(rig.client, rig.hub, rig.metrics, rig.logger, rig.clock,
                options);
  std::vector<std::string> items;
  for (int i = 1; i <= 50; ++i) {
    items.push_back("{\"id\":\"" + std::to_string(i) +
                    "\",\"rawContent\":1e400}");
  }
  rig.http.PushJson(200, RawPage(items, "50"));
  CHECK(poller.PollOnce().skipped == 50);
  CHECK(rig.metrics.skipped_unrepresentable == 50);
  CHECK(Count(rig.log_lines, "skipped notification") == 3);
  CHECK(Count(rig.log_lines,
              "skipped 47 more notification(s) of the same page, up to 50") ==
        1);
}

TEST_CASE(
    "poller: ids that go back below the cursor are degraded, counted, said "
    "once") {
  // Before: dropped as duplicates forever while /healthz said ok.
  Rig rig;
  Poller poller(rig.client, rig.hub, rig.metrics, rig.logger, rig.clock, {},
                std::string("10"));
  rig.http.PushJson(200, Page({1, 2}));
  rig.http.PushJson(200, Page({1, 2, 3}));
  for (int i = 0; i < 2; ++i)
    CHECK(poller.PollOnce().error == FetchError::kNone);
  UpstreamState s = poller.State();
  CHECK(s.upstream_ok);
  CHECK(s.degraded);
  // The reason tells the latest page's newest id.
  CHECK(
      s.degraded_reason.find("ids went back below the cursor (asked after 10, "
                             "its newest is 3)") != std::string::npos);
  CHECK(s.degraded_since_ms == rig.clock.WallMillis());
  CHECK(s.cursor == "10");
  CHECK(rig.metrics.ids_backwards == 2);
  CHECK(rig.metrics.upstream_degraded == 1);
  CHECK(rig.hub.HistorySize() == 0);
  CHECK(Count(rig.log_lines, "upstream degraded") == 1);
  // An overlap that ends at the cursor is not going backwards.
  rig.http.PushJson(200, Page({9, 10}));
  poller.PollOnce();
  CHECK(rig.metrics.ids_backwards == 2);
  rig.http.PushJson(200, Page({10, 11}));
  CHECK(poller.PollOnce().published == 1);
  CHECK_FALSE(poller.State().degraded);
  CHECK(poller.State().degraded_reason.empty());
  CHECK(rig.metrics.upstream_degraded == 0);
}

TEST_CASE("poller: a 410 loop resets the streams once, not once per poll") {
  // Before: every request with a cursor got 410, reset every stream and
  // re-published the same page, once per poll.
  Rig rig;
  PollerOptions options;
  options.min_reset_interval = 60000ms;
  Poller poller(rig.client, rig.hub, rig.metrics, rig.logger, rig.clock,
                options, std::string("2"));
  rig.http.PushJson(
      410, R"({"error":"gone","message":"cursor 2 is no longer retained"})");
  CHECK(poller.PollOnce().more);  // First 410: reset, restart from the oldest.
  CHECK(Resets(rig.metrics) == 1);
  rig.http.PushJson(200, Page({1, 2}));
  CHECK(poller.PollOnce().published == 2);
  for (int i = 0; i < 5; ++i) {
    rig.http.PushJson(410, R"({"error":"gone"})");
    Poller::Outcome o = poller.PollOnce();
    CHECK(o.error == FetchError::kGone);
    CHECK_FALSE(o.more);  // A failure: backoff, not at once.
    rig.clock.Advance(5000ms);
  }
  CHECK(Resets(rig.metrics) == 1);
  CHECK(rig.hub.HistorySize() == 2);
  CHECK(rig.metrics.upstream_resets == 1);
  CHECK(rig.metrics.resets_suppressed == 5);
  CHECK(rig.metrics.poll_errors[static_cast<size_t>(FetchError::kGone)] == 6);
  UpstreamState s = poller.State();
  CHECK(s.degraded);
  CHECK(s.degraded_reason.find("answers 410 for cursors it has just served") !=
        std::string::npos);
  CHECK_FALSE(s.upstream_ok);
  CHECK(s.cursor == "2");
  CHECK(rig.http.requests().back().url.find("after=2") != std::string::npos);
  // Past the interval, it may really have lost them again: one more reset.
  rig.clock.Advance(60000ms);
  rig.http.PushJson(410, R"({"error":"gone"})");
  CHECK(poller.PollOnce().more);
  CHECK(Resets(rig.metrics) == 2);
  // A request with a cursor that succeeds ends the loop.
  rig.http.PushJson(200, Page({1, 2}));
  rig.http.PushJson(200, Page({2, 3}));
  poller.PollOnce();
  poller.PollOnce();
  CHECK_FALSE(poller.State().degraded);
  CHECK(rig.metrics.upstream_degraded == 0);
}

TEST_CASE("poller: a 410 after the cursor was served again resets at once") {
  Rig rig;
  Poller poller(rig.client, rig.hub, rig.metrics, rig.logger, rig.clock, {},
                std::string("2"));
  rig.http.PushJson(410, "{}");
  rig.http.PushJson(200, Page({1, 2}));
  rig.http.PushJson(200, Page({3}));  // A request with a cursor succeeded.
  rig.http.PushJson(410, "{}");       // Upstream restarted again: real.
  for (int i = 0; i < 4; ++i) poller.PollOnce();
  CHECK(Resets(rig.metrics) == 2);
  CHECK(rig.metrics.resets_suppressed == 0);
  CHECK_FALSE(poller.State().degraded);
}

TEST_CASE(
    "poller: Stop() drops a long-poll held upstream; nothing is counted") {
  // Before: Run() returned only when the API answered (18 s with
  // --long-poll 20).
  Rig rig;
  Poller poller(rig.client, rig.hub, rig.metrics, rig.logger, rig.clock, {});
  rig.http.PushHang();
  std::thread t([&] { poller.Run(); });
  rig.http.WaitForHanging(1);
  poller.Stop();
  t.join();
  CHECK(rig.metrics.polls == 1);
  for (size_t i = 0; i < kFetchErrorKinds; ++i)
    CHECK(rig.metrics.poll_errors[i] == 0);
  CHECK(poller.State().last_error.empty());
  // A poll after Stop() never reaches upstream.
  CHECK(poller.PollOnce().cancelled);
}

TEST_CASE("poller: a redirect is counted as http_3xx, not http_5xx") {
  Rig rig;
  Poller poller(rig.client, rig.hub, rig.metrics, rig.logger, rig.clock, {});
  rig.http.PushRedirect(308, "https://api.example/delivery/notifications");
  CHECK(poller.PollOnce().error == FetchError::kRedirect);
  CHECK(rig.metrics.poll_errors[static_cast<size_t>(FetchError::kRedirect)] ==
        1);
  CHECK(rig.metrics.poll_errors[static_cast<size_t>(FetchError::kHttpServer)] ==
        0);
  CHECK(poller.State().last_error.rfind(
            "http_3xx: HTTP 308 redirect to https://api.example", 0) == 0);
}

}  // namespace
}  // namespace notifications

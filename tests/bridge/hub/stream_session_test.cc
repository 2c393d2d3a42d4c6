#include "stream_session.h"

#include <doctest/doctest.h>

#include <map>
#include <set>
#include <thread>

#include "sse_parser.h"
#include "test_support.h"

namespace notifications {
namespace {

using namespace std::chrono_literals;

Notification Make(const std::string& id, const std::string& service = "GitHub") {
  return testing::SampleNotification(id, service);
}

// Ids here are decimal counters: shortlex order is numeric order.
std::vector<Notification> Range(int from, int to) {
  std::vector<Notification> v;
  for (int i = from; i <= to; ++i) v.push_back(Make(std::to_string(i)));
  return v;
}

class FakeGaps final : public GapSource {
 public:
  Result<std::vector<Notification>> FetchAfter(const std::string& after,
                                               const std::string& stop_at,
                                               size_t max_items) override {
    calls.push_back(after + "|" + stop_at);
    if (!error.ok()) return error;
    std::vector<Notification> out;
    for (const Notification& n : upstream) {
      if (CompareIds(n.id, after) <= 0) continue;
      out.push_back(n);
      if (!stop_at.empty() && CompareIds(n.id, stop_at) >= 0) break;
    }
    if (out.size() > max_items) return Status::InvalidArgument("too many");
    return out;
  }
  std::vector<Notification> upstream;
  Status error;
  std::vector<std::string> calls;
};

struct Parsed {
  std::vector<SseParser::Event> events;
  std::optional<int64_t> retry;
  size_t comments = 0;
};

Parsed Parse(const std::string& bytes) {
  SseParser p;
  Parsed out;
  p.Feed(bytes, [&](const SseParser::Event& e) { out.events.push_back(e); });
  out.retry = p.retry_ms();
  out.comments = p.comments_seen();
  return out;
}

std::vector<std::string> NotificationIds(const Parsed& p) {
  std::vector<std::string> ids;
  for (const auto& e : p.events) {
    if (e.type == "notification") ids.push_back(e.last_event_id);
  }
  return ids;
}

StreamOptions FastOptions() {
  StreamOptions o;
  o.heartbeat = 30ms;
  o.retry = 3000ms;
  o.retry_jitter = 2000ms;
  return o;
}

TEST_CASE("stream session: opens with a jittered retry and a comment") {
  EventHub hub(10, false);
  StreamSession s(hub, nullptr, StreamRequest{}, FastOptions(), 42);
  std::string open = s.Open();
  CHECK(open.rfind("retry: ", 0) == 0);
  CHECK(open.find("\n: connected\n\n") != std::string::npos);
  Parsed p = Parse(open);
  REQUIRE(p.retry);
  CHECK(*p.retry >= 3000);
  CHECK(*p.retry <= 5000);
  CHECK(*p.retry == s.retry_ms());
  // Different seeds spread clients apart.
  std::set<int64_t> seen;
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    seen.insert(StreamSession(hub, nullptr, {}, FastOptions(), seed).retry_ms());
  }
  CHECK(seen.size() > 10);
}

TEST_CASE("stream session: a fresh stream gets no backlog by default, then live") {
  EventHub hub(10, false);
  hub.Publish(Range(1, 3));
  StreamSession s(hub, nullptr, StreamRequest{}, FastOptions(), 1);
  CHECK(NotificationIds(Parse(s.Open())).empty());
  hub.Publish(Range(4, 5));
  std::string out;
  CHECK(s.Next(&out) == StreamSession::Step::kData);
  CHECK(NotificationIds(Parse(out)) == std::vector<std::string>{"4", "5"});
}

TEST_CASE("stream session: backlog gives the N most recent, oldest first") {
  EventHub hub(10, false);
  hub.Publish(Range(1, 6));
  StreamRequest r;
  r.backlog = 3;
  StreamSession s(hub, nullptr, r, FastOptions(), 1);
  CHECK(NotificationIds(Parse(s.Open())) == std::vector<std::string>{"4", "5", "6"});
  r.backlog = 100;  // Clamped to what exists.
  StreamSession all(hub, nullptr, r, FastOptions(), 1);
  CHECK(NotificationIds(Parse(all.Open())).size() == 6);
}

TEST_CASE("stream session: backlog counts only what passes the filter") {
  EventHub hub(10, false);
  hub.Publish({Make("1", "Jenkins"), Make("2"), Make("3", "Jenkins"), Make("4")});
  StreamRequest r;
  r.backlog = 2;
  r.filter = Filter::FromQuery({{"service", "jenkins"}}).value();
  StreamSession s(hub, nullptr, r, FastOptions(), 1);
  CHECK(NotificationIds(Parse(s.Open())) == std::vector<std::string>{"1", "3"});
  hub.Publish({Make("5"), Make("6", "Jenkins")});
  std::string out;
  s.Next(&out);
  CHECK(NotificationIds(Parse(out)) == std::vector<std::string>{"6"});
}

TEST_CASE("stream session: Last-Event-ID in history replays what follows it") {
  EventHub hub(10, false);
  hub.Publish(Range(1, 6));
  StreamRequest r;
  r.last_event_id = "3";
  r.backlog = 50;  // Ignored when resuming.
  FakeGaps gaps;
  StreamSession s(hub, &gaps, r, FastOptions(), 1);
  CHECK(NotificationIds(Parse(s.Open())) == std::vector<std::string>{"4", "5", "6"});
  CHECK(gaps.calls.empty());  // No upstream request needed.
}

TEST_CASE("stream session: the newest id resumes with nothing to replay") {
  EventHub hub(10, false);
  hub.Publish(Range(1, 3));
  StreamRequest r;
  r.last_event_id = "3";
  StreamSession s(hub, nullptr, r, FastOptions(), 1);
  CHECK(NotificationIds(Parse(s.Open())).empty());
}

TEST_CASE("stream session: an id older than history is filled from upstream") {
  EventHub hub(3, false);
  hub.Publish(Range(1, 10));  // History keeps 8, 9, 10.
  FakeGaps gaps;
  gaps.upstream = Range(1, 12);  // Upstream is ahead of our poller.
  StreamRequest r;
  r.last_event_id = "4";
  StreamSession s(hub, &gaps, r, FastOptions(), 1);
  CHECK(NotificationIds(Parse(s.Open())) ==
        std::vector<std::string>{"5", "6", "7", "8", "9", "10"});
  CHECK(gaps.calls == std::vector<std::string>{"4|8"});
  // 11 and 12 come live later, exactly once.
  hub.Publish(Range(11, 12));
  std::string out;
  s.Next(&out);
  CHECK(NotificationIds(Parse(out)) == std::vector<std::string>{"11", "12"});
}

TEST_CASE("stream session: after a bridge restart the gap comes from upstream") {
  EventHub hub(100, false);  // Empty: the bridge just started.
  FakeGaps gaps;
  gaps.upstream = Range(1, 5);
  StreamRequest r;
  r.last_event_id = "2";
  StreamSession s(hub, &gaps, r, FastOptions(), 1);
  CHECK(NotificationIds(Parse(s.Open())) == std::vector<std::string>{"3", "4", "5"});
  // The poller then publishes 1..6; only 6 is new for this client.
  hub.Publish(Range(1, 6));
  std::string out;
  s.Next(&out);
  CHECK(NotificationIds(Parse(out)) == std::vector<std::string>{"6"});
}

TEST_CASE("stream session: an id nobody knows starts with a reset") {
  EventHub hub(10, false);
  hub.Publish(Range(1, 5));
  FakeGaps gaps;
  gaps.error = Status::Error(Status::Code::kGone, "gone");
  StreamRequest r;
  r.last_event_id = "999";
  r.backlog = 2;
  StreamSession s(hub, &gaps, r, FastOptions(), 1);
  Parsed p = Parse(s.Open());
  REQUIRE(p.events.size() == 3);
  CHECK(p.events[0].type == "reset");
  CHECK(p.events[0].data.find("\"reason\":\"unknown-last-event-id\"") != std::string::npos);
  // The reset's id is where the backlog starts from: a reconnect right after
  // it would resume there instead of resetting again.
  CHECK(p.events[0].last_event_id == "3");
  CHECK(NotificationIds(p) == std::vector<std::string>{"4", "5"});
}

TEST_CASE("stream session: upstream unreachable on resume ends the stream, no reset") {
  EventHub hub(10, false);
  hub.Publish(Range(5, 6));
  FakeGaps gaps;
  gaps.error = Status::Unavailable("connect: refused");
  StreamRequest r;
  r.last_event_id = "2";
  StreamSession s(hub, &gaps, r, FastOptions(), 1);
  Parsed p = Parse(s.Open());
  CHECK(p.events.empty());
  CHECK(p.retry.has_value());
  std::string out;
  CHECK(s.Next(&out) == StreamSession::Step::kEnd);
}

TEST_CASE("stream session: heartbeat when idle, even when everything is filtered") {
  EventHub hub(10, false);
  StreamRequest r;
  r.filter = Filter::FromQuery({{"service", "jenkins"}}).value();
  StreamSession s(hub, nullptr, r, FastOptions(), 1);
  (void)s.Open();
  std::string out;
  CHECK(s.Next(&out) == StreamSession::Step::kHeartbeat);
  CHECK(out == ": keep-alive\n\n");
  // A flood of filtered-out events must not starve the heartbeat.
  bool heartbeat = false;
  for (int i = 0; i < 50 && !heartbeat; ++i) {
    hub.Publish({Make(std::to_string(100 + i))});
    out.clear();
    heartbeat = s.Next(&out) == StreamSession::Step::kHeartbeat;
    std::this_thread::sleep_for(2ms);
  }
  CHECK(heartbeat);
}

TEST_CASE("stream session: live reset is relayed and clears the floor") {
  EventHub hub(10, false);
  hub.Publish(Range(5, 6));
  StreamSession s(hub, nullptr, StreamRequest{}, FastOptions(), 1);
  (void)s.Open();
  hub.Reset("upstream-reset", "the API forgot us");
  hub.Publish(Range(1, 2));  // Lower ids after the reset are new again.
  std::string out;
  s.Next(&out);
  Parsed p = Parse(out);
  REQUIRE(p.events.size() == 3);
  CHECK(p.events[0].type == "reset");
  CHECK(p.events[0].last_event_id == "");
  CHECK(NotificationIds(p) == std::vector<std::string>{"1", "2"});
}

TEST_CASE("stream session: ends on shutdown and when it lagged") {
  EventHub hub(2, false);
  StreamSession s(hub, nullptr, StreamRequest{}, FastOptions(), 1);
  (void)s.Open();
  hub.Publish(Range(1, 5));  // Evicts events the session never took.
  std::string out;
  CHECK(s.Next(&out) == StreamSession::Step::kEnd);
  StreamSession t(hub, nullptr, StreamRequest{}, FastOptions(), 1);
  (void)t.Open();
  hub.Shutdown();
  CHECK(t.Next(&out) == StreamSession::Step::kEnd);
}

}  // namespace
}  // namespace notifications

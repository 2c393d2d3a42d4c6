#include "stream_session.h"

#include <doctest/doctest.h>

#include <map>
#include <set>
#include <thread>

#include "shared_frames.h"
#include "sse_output.h"
#include "sse_parser.h"
#include "test_support.h"

namespace notifications {
namespace {

using namespace std::chrono_literals;

Notification Make(const std::string& id,
                  const std::string& service = "GitHub") {
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
  o.retry = 3000ms;
  o.retry_jitter = 2000ms;
  return o;
}

// The whole opening, as the server writes it (the gap fetched in place).
std::string Open(StreamSession& s) {
  if (s.Begin() == StreamSession::Start::kNeedGap)
    s.ResumeWithGap(s.FetchGap());
  SseOutput out;
  CHECK(s.Produce(SIZE_MAX, &out));
  return out.ToString();
}

// What the server writes next for live events: the hub read after the
// session's seq (non-blocking), then Advance().
std::string Live(EventHub& hub, StreamSession& s,
                 EventHub::WaitStatus* status = nullptr) {
  std::vector<HubEventPtr> events;
  EventHub::WaitStatus st = hub.ReadAfter(s.seq(), 512, &events);
  if (status) *status = st;
  SseOutput out;
  s.Advance(events, &out);
  return out.ToString();
}

TEST_CASE("stream session: opens with a jittered retry and a comment") {
  EventHub hub(10, false);
  StreamSession s(hub, nullptr, StreamRequest{}, FastOptions(), 42);
  std::string open = Open(s);
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
    seen.insert(
        StreamSession(hub, nullptr, {}, FastOptions(), seed).retry_ms());
  }
  CHECK(seen.size() > 10);
}

TEST_CASE(
    "stream session: a fresh stream gets no backlog by default, then live") {
  EventHub hub(10, false);
  hub.Publish(Range(1, 3));
  StreamSession s(hub, nullptr, StreamRequest{}, FastOptions(), 1);
  CHECK(NotificationIds(Parse(Open(s))).empty());
  hub.Publish(Range(4, 5));
  CHECK(NotificationIds(Parse(Live(hub, s))) ==
        std::vector<std::string>{"4", "5"});
}

TEST_CASE("stream session: backlog gives the N most recent, oldest first") {
  EventHub hub(10, false);
  hub.Publish(Range(1, 6));
  StreamRequest r;
  r.backlog = 3;
  StreamSession s(hub, nullptr, r, FastOptions(), 1);
  CHECK(NotificationIds(Parse(Open(s))) ==
        std::vector<std::string>{"4", "5", "6"});
  r.backlog = 100;  // Clamped to what exists.
  StreamSession all(hub, nullptr, r, FastOptions(), 1);
  CHECK(NotificationIds(Parse(Open(all))).size() == 6);
}

TEST_CASE("stream session: backlog counts only what passes the filter") {
  EventHub hub(10, false);
  hub.Publish(
      {Make("1", "Jenkins"), Make("2"), Make("3", "Jenkins"), Make("4")});
  StreamRequest r;
  r.backlog = 2;
  r.filter = Filter::FromQuery({{"service", "jenkins"}}).value();
  StreamSession s(hub, nullptr, r, FastOptions(), 1);
  CHECK(NotificationIds(Parse(Open(s))) == std::vector<std::string>{"1", "3"});
  hub.Publish({Make("5"), Make("6", "Jenkins")});
  CHECK(NotificationIds(Parse(Live(hub, s))) == std::vector<std::string>{"6"});
}

TEST_CASE("stream session: Last-Event-ID in history replays what follows it") {
  EventHub hub(10, false);
  hub.Publish(Range(1, 6));
  StreamRequest r;
  r.last_event_id = "3";
  r.backlog = 50;  // Ignored when resuming.
  FakeGaps gaps;
  StreamSession s(hub, &gaps, r, FastOptions(), 1);
  CHECK(NotificationIds(Parse(Open(s))) ==
        std::vector<std::string>{"4", "5", "6"});
  CHECK(gaps.calls.empty());  // No upstream request needed.
}

TEST_CASE("stream session: the newest id resumes with nothing to replay") {
  EventHub hub(10, false);
  hub.Publish(Range(1, 3));
  StreamRequest r;
  r.last_event_id = "3";
  StreamSession s(hub, nullptr, r, FastOptions(), 1);
  CHECK(NotificationIds(Parse(Open(s))).empty());
}

TEST_CASE("stream session: an id older than history is filled from upstream") {
  EventHub hub(3, false);
  hub.Publish(Range(1, 10));  // History keeps 8, 9, 10.
  FakeGaps gaps;
  gaps.upstream = Range(1, 12);  // Upstream is ahead of our poller.
  StreamRequest r;
  r.last_event_id = "4";
  StreamSession s(hub, &gaps, r, FastOptions(), 1);
  CHECK(NotificationIds(Parse(Open(s))) ==
        std::vector<std::string>{"5", "6", "7", "8", "9", "10"});
  CHECK(gaps.calls == std::vector<std::string>{"4|8"});
  // 11 and 12 come live later, exactly once.
  hub.Publish(Range(11, 12));
  CHECK(NotificationIds(Parse(Live(hub, s))) ==
        std::vector<std::string>{"11", "12"});
}

TEST_CASE(
    "stream session: after a bridge restart the gap comes from upstream") {
  EventHub hub(100, false);  // Empty: the bridge just started.
  FakeGaps gaps;
  gaps.upstream = Range(1, 5);
  StreamRequest r;
  r.last_event_id = "2";
  StreamSession s(hub, &gaps, r, FastOptions(), 1);
  CHECK(NotificationIds(Parse(Open(s))) ==
        std::vector<std::string>{"3", "4", "5"});
  // The poller then publishes 1..6; only 6 is new for this client.
  hub.Publish(Range(1, 6));
  CHECK(NotificationIds(Parse(Live(hub, s))) == std::vector<std::string>{"6"});
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
  Parsed p = Parse(Open(s));
  REQUIRE(p.events.size() == 3);
  CHECK(p.events[0].type == "reset");
  CHECK(p.events[0].data.find("\"reason\":\"unknown-last-event-id\"") !=
        std::string::npos);
  // The reset's id is where the backlog starts from: a reconnect right after
  // it would resume there instead of resetting again.
  CHECK(p.events[0].last_event_id == "3");
  CHECK(NotificationIds(p) == std::vector<std::string>{"4", "5"});
}

TEST_CASE(
    "stream session: upstream unreachable on resume ends the stream, no "
    "reset") {
  EventHub hub(10, false);
  hub.Publish(Range(5, 6));
  FakeGaps gaps;
  gaps.error = Status::Unavailable("connect: refused");
  StreamRequest r;
  r.last_event_id = "2";
  StreamSession s(hub, &gaps, r, FastOptions(), 1);
  Parsed p = Parse(Open(s));
  CHECK(p.events.empty());
  CHECK(p.retry.has_value());
  CHECK(p.comments == 2);  // "connected", then why it ends.
  CHECK(s.ended());
}

TEST_CASE(
    "stream session: filtered-out events add nothing (the server's heartbeat "
    "covers the silence)") {
  EventHub hub(10, false);
  StreamRequest r;
  r.filter = Filter::FromQuery({{"service", "jenkins"}}).value();
  StreamSession s(hub, nullptr, r, FastOptions(), 1);
  (void)Open(s);
  hub.Publish({Make("100"), Make("101")});
  CHECK(Live(hub, s).empty());
  CHECK(s.seq() == hub.last_seq());
}

TEST_CASE("stream session: live reset is relayed and clears the floor") {
  EventHub hub(10, false);
  hub.Publish(Range(5, 6));
  StreamSession s(hub, nullptr, StreamRequest{}, FastOptions(), 1);
  (void)Open(s);
  hub.Reset("upstream-reset", "the API forgot us");
  hub.Publish(Range(1, 2));  // Lower ids after the reset are new again.
  Parsed p = Parse(Live(hub, s));
  REQUIRE(p.events.size() == 3);
  CHECK(p.events[0].type == "reset");
  CHECK(p.events[0].last_event_id == "");
  CHECK(NotificationIds(p) == std::vector<std::string>{"1", "2"});
}

TEST_CASE(
    "stream session: the hub says when a stream lagged and when it shut down") {
  EventHub hub(2, false);
  StreamSession s(hub, nullptr, StreamRequest{}, FastOptions(), 1);
  (void)Open(s);
  hub.Publish(Range(1, 5));  // Evicts events the session never took.
  EventHub::WaitStatus status;
  CHECK(Live(hub, s, &status).empty());
  CHECK(status == EventHub::WaitStatus::kLagged);
  StreamSession t(hub, nullptr, StreamRequest{}, FastOptions(), 1);
  (void)Open(t);
  hub.Shutdown();
  CHECK(Live(hub, t, &status).empty());
  CHECK(status == EventHub::WaitStatus::kShutdown);
}

TEST_CASE(
    "stream session: the opening comes out as the budget allows, frames "
    "shared") {
  EventHub hub(1000, false);
  std::vector<Notification> batch;
  for (int i = 1; i <= 1000; ++i) {
    Notification n = Make(std::to_string(i));
    n.text = std::string(1000, 'x');
    batch.push_back(n);
  }
  hub.Publish(batch);
  StreamRequest r;
  r.backlog = 1000;
  StreamSession s(hub, nullptr, r, FastOptions(), 1);
  REQUIRE(s.Begin() == StreamSession::Start::kReady);
  SseOutput out;
  CHECK_FALSE(s.Produce(64 * 1024, &out));
  // About 64 KiB, not the whole megabyte.
  CHECK(out.bytes() >= 64 * 1024);
  CHECK(out.bytes() < 64 * 1024 + 2000);
  // Frames are the hub's own strings, not copies.
  auto snap = hub.TakeSnapshot();
  REQUIRE(out.pieces().size() > 2);
  CHECK(out.pieces()[1].event.get() == snap.history[0].get());
  std::string all = out.ToString();
  while (true) {
    out.Clear();
    bool done = s.Produce(64 * 1024, &out);
    all += out.ToString();
    if (done) break;
  }
  CHECK(NotificationIds(Parse(all)).size() == 1000);
  CHECK(s.notifications_sent() == 1000);
  // Then live, exactly after the replay.
  hub.Publish({Make("1001")});
  CHECK(NotificationIds(Parse(Live(hub, s))) ==
        std::vector<std::string>{"1001"});
}

TEST_CASE(
    "stream session: gap frames are shared between streams through "
    "SharedFrames") {
  EventHub hub(3, false);
  hub.Publish(Range(10, 12));
  FakeGaps gaps;
  gaps.upstream = Range(1, 12);
  SharedFrames frames(false);
  StreamRequest r;
  r.last_event_id = "2";
  StreamSession a(hub, &gaps, r, FastOptions(), 1);
  r.last_event_id = "4";
  StreamSession b(hub, &gaps, r, FastOptions(), 2);
  REQUIRE(a.Begin() == StreamSession::Start::kNeedGap);
  REQUIRE(b.Begin() == StreamSession::Start::kNeedGap);
  Result<std::vector<HubEventPtr>> ga = a.FetchGap(&frames);
  Result<std::vector<HubEventPtr>> gb = b.FetchGap(&frames);
  REQUIRE(ga.ok());
  REQUIRE(gb.ok());
  // 3..9 for a, 5..9 for b (10 on is the history): 5..9 are the same events.
  REQUIRE(ga.value().size() == 7);
  REQUIRE(gb.value().size() == 5);
  CHECK(ga.value()[2].get() == gb.value()[0].get());
  CHECK(frames.live() == 7);
  a.ResumeWithGap(std::move(ga));
  SseOutput out;
  REQUIRE(a.Produce(SIZE_MAX, &out));
  CHECK(NotificationIds(Parse(out.ToString())) ==
        std::vector<std::string>{"3", "4", "5", "6", "7", "8", "9", "10", "11",
                                 "12"});
  gb = Status::Unavailable("dropped");
  CHECK(frames.live() == 7);  // a's output still holds them...
  out.Clear();
  CHECK(frames.live() == 0);  // ...and nothing else: nothing outlives them.
}

}  // namespace
}  // namespace notifications

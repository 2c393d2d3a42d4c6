#include "amqp_gap_source.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <optional>

#include "fake_amqp.h"
#include "fakes.h"

namespace notifications {
namespace {

using namespace std::chrono_literals;

std::string Body(int n) {
  return "{\"service\":\"GitHub\",\"project\":\"Nasqueron\",\"group\":\"ops\","
         "\"rawContent\":null,\"type\":\"push\",\"text\":\"pushed " +
         std::to_string(n) + "\",\"link\":\"\"}";
}

struct Rig {
  FakeAmqpBroker broker;
  FakeClock clock;
  std::optional<int64_t> live;
  std::atomic<uint64_t> requests{0};
  AmqpGapSource gaps{
      broker, clock,
      [] {
        AmqpGapOptions o;
        o.endpoint = ParseAmqpUrl("amqp://bridge@rabbitmq.test/dev").value();
        o.queue = "notifications-stream";
        return o;
      }(),
      [this] { return live; }, &requests};

  Rig(int messages = 10) {
    for (int i = 0; i < messages; ++i) broker.AddToStream(Body(i));
    broker.AdvanceOnIdle(&clock);
  }
  static std::vector<std::string> Ids(const std::vector<Notification>& items) {
    std::vector<std::string> ids;
    for (const Notification& n : items) ids.push_back(n.id);
    return ids;
  }
};

TEST_CASE(
    "amqp gap source: reads the missed range from the stream, then closes") {
  Rig rig;
  auto r = rig.gaps.FetchAfter("2", "6", 100);
  REQUIRE(r.ok());
  CHECK(Rig::Ids(r.value()) == std::vector<std::string>{"3", "4", "5", "6"});
  CHECK(r.value()[0].text == "pushed 3");
  CHECK(!r.value()[0].time.empty());
  auto calls = rig.broker.calls();
  CHECK(std::find(calls.begin(), calls.end(),
                  "consume notifications-stream x-stream-offset=2") !=
        calls.end());
  CHECK(rig.broker.open_connections() == 0);
  CHECK(rig.requests == 1);
}

TEST_CASE(
    "amqp gap source: with an empty history it reads up to the live offset") {
  Rig rig;
  rig.live = 8;
  auto r = rig.gaps.FetchAfter("5", "", 100);
  REQUIRE(r.ok());
  CHECK(Rig::Ids(r.value()) == std::vector<std::string>{"6", "7", "8"});
  // Not read live yet at all: the client retries later.
  Rig fresh;
  auto u = fresh.gaps.FetchAfter("5", "", 100);
  CHECK(u.status().code() == Status::Code::kUnavailable);
}

TEST_CASE("amqp gap source: nothing missed costs no read") {
  Rig rig;
  rig.live = 4;
  CHECK(rig.gaps.FetchAfter("4", "", 100).value().empty());
  CHECK(rig.gaps.FetchAfter("7", "", 100).value().empty());  // Ahead of us.
  CHECK(rig.gaps.FetchAfter("6", "6", 100).value().empty());
  CHECK(rig.broker.connections() == 0);
}

TEST_CASE(
    "amqp gap source: an id that is not an offset of the stream is unknown") {
  Rig rig;
  for (const char* id : {"1795869554-0000000042", "03", "abc"}) {
    auto r = rig.gaps.FetchAfter(id, "6", 100);
    CHECK(r.status().code() == Status::Code::kGone);
  }
  CHECK(rig.broker.connections() == 0);
}

TEST_CASE(
    "amqp gap source: more notifications than the limit is a gap too large") {
  Rig rig;
  auto r = rig.gaps.FetchAfter("0", "9", 5);
  CHECK(r.status().code() == Status::Code::kInvalidArgument);
  CHECK(r.status().message() == "more than 5 notifications missed");
  CHECK(rig.gaps.FetchAfter("0", "5", 5).ok());  // Exactly 5: fine.
}

TEST_CASE(
    "amqp gap source: rawContent is kept only when streams carry it, and a "
    "gap heavier than max_bytes is too large") {
  FakeAmqpBroker broker;
  FakeClock clock;
  const std::string raw = "{\"payload\":\"" + std::string(4000, 'p') + "\"}";
  for (int i = 0; i < 6; ++i) {
    broker.AddToStream(
        "{\"service\":\"GitHub\",\"project\":\"Nasqueron\",\"group\":"
        "\"ops\",\"rawContent\":" +
        raw + ",\"type\":\"push\",\"text\":\"pushed " + std::to_string(i) +
        "\",\"link\":\"\"}");
  }
  broker.AdvanceOnIdle(&clock);
  auto make = [&](bool include_raw, size_t max_bytes) {
    AmqpGapOptions o;
    o.endpoint = ParseAmqpUrl("amqp://bridge@rabbitmq.test/dev").value();
    o.queue = "notifications-stream";
    o.limits.include_raw_content = include_raw;
    o.max_bytes = max_bytes;
    o.cache_ttl = std::chrono::milliseconds(0);
    return std::make_unique<AmqpGapSource>(
        broker, clock, o, [] { return std::optional<int64_t>(5); });
  };
  // Without --raw-content: five small items, far below 8 KiB.
  auto lean = make(false, 8192);
  auto r = lean->FetchAfter("0", "5", 100);
  REQUIRE(r.ok());
  REQUIRE(r->size() == 5);
  CHECK(!r->front().raw_content.has_value());
  // With it: each item weighs its payload; two fit in 8 KiB, not five.
  auto heavy = make(true, 8192);
  auto too_large = heavy->FetchAfter("0", "5", 100);
  CHECK(too_large.status().code() == Status::Code::kInvalidArgument);
  CHECK(too_large.status().message() ==
        "more than 8192 bytes of notifications missed");
  auto two = heavy->FetchAfter("0", "2", 100);
  REQUIRE(two.ok());
  REQUIRE(two->size() == 2);
  CHECK(two->front().raw_content.has_value());
}

TEST_CASE("amqp gap source: the results kept add up to at most max_bytes") {
  FakeAmqpBroker broker;
  FakeClock clock;
  std::atomic<uint64_t> requests{0};
  for (int i = 0; i < 10; ++i) broker.AddToStream(Body(i));
  broker.AdvanceOnIdle(&clock);
  auto make = [&](size_t max_bytes) {
    AmqpGapOptions o;
    o.endpoint = ParseAmqpUrl("amqp://bridge@rabbitmq.test/dev").value();
    o.queue = "notifications-stream";
    o.max_bytes = max_bytes;
    o.cache_ttl = std::chrono::hours(1);  // Only the byte bound evicts.
    return std::make_unique<AmqpGapSource>(
        broker, clock, o, [] { return std::optional<int64_t>(9); }, &requests);
  };
  // The weight of one range of two notifications.
  auto probe = make(kDefaultMaxGapBytes)->FetchAfter("0", "2", 100);
  REQUIRE(probe.ok());
  size_t weight = 0;
  for (const Notification& n : probe.value()) weight += n.ByteSize();
  // Room for one such range, not two.
  auto gaps = make(weight + weight / 2);
  requests = 0;
  REQUIRE(gaps->FetchAfter("0", "2", 100).ok());
  REQUIRE(gaps->FetchAfter("0", "2", 100).ok());
  CHECK(requests == 1);  // Kept.
  REQUIRE(gaps->FetchAfter("2", "4", 100).ok());
  REQUIRE(gaps->FetchAfter("2", "4", 100).ok());
  CHECK(requests == 2);  // Kept, in place of the first.
  REQUIRE(gaps->FetchAfter("0", "2", 100).ok());
  CHECK(requests == 3);  // The first was let go.
}

TEST_CASE("amqp gap source: offsets the stream no longer retains are gone") {
  Rig rig;
  rig.broker.Truncate(5);
  auto r = rig.gaps.FetchAfter("2", "8", 100);
  CHECK(r.status().code() == Status::Code::kGone);
  CHECK(r.status().message().find("no longer retains offset 2") !=
        std::string::npos);
}

TEST_CASE(
    "amqp gap source: a broker that cannot be reached is unavailable, not "
    "cached") {
  Rig rig;
  rig.broker.Fail("open",
                  AmqpStatus::Error(AmqpErrorKind::kConnect, "refused"));
  auto r = rig.gaps.FetchAfter("2", "4", 100);
  CHECK(r.status().code() == Status::Code::kUnavailable);
  CHECK(r.status().message().find("connect: refused") != std::string::npos);
  auto again = rig.gaps.FetchAfter("2", "4", 100);
  CHECK(again.ok());
  CHECK(rig.requests == 2);
}

TEST_CASE("amqp gap source: a range the stream does not reach times out") {
  Rig rig(3);
  rig.live = 20;  // Claimed by the live source, absent from the stream.
  auto r = rig.gaps.FetchAfter("1", "", 100);
  CHECK(r.status().code() == Status::Code::kUnavailable);
  CHECK(r.status().message().find("timed out") != std::string::npos);
  CHECK(rig.broker.open_connections() == 0);
}

TEST_CASE(
    "amqp gap source: messages that are not notifications are skipped as "
    "live") {
  Rig rig(0);
  rig.broker.AddToStream(Body(0));
  rig.broker.AddToStream("poison");
  rig.broker.AddToStream(Body(2));
  auto r = rig.gaps.FetchAfter("0", "2", 100);
  REQUIRE(r.ok());
  CHECK(Rig::Ids(r.value()) == std::vector<std::string>{"2"});
}

TEST_CASE(
    "amqp gap source: one read serves every client resuming from the same id") {
  Rig rig;
  for (int i = 0; i < 5; ++i) CHECK(rig.gaps.FetchAfter("2", "6", 100).ok());
  CHECK(rig.requests == 1);
  rig.clock.Advance(3s);
  CHECK(rig.gaps.FetchAfter("2", "6", 100).ok());
  CHECK(rig.requests == 2);
}

TEST_CASE("amqp gap source: after Stop() every fetch is unavailable at once") {
  Rig rig;
  rig.gaps.Stop();
  auto r = rig.gaps.FetchAfter("2", "6", 100);
  CHECK(r.status().code() == Status::Code::kUnavailable);
  CHECK(rig.broker.connections() == 0);
}

}  // namespace
}  // namespace notifications

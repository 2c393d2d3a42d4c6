#include "event_hub.h"

#include <doctest/doctest.h>

#include <atomic>
#include <limits>
#include <thread>

namespace notifications {
namespace {

using namespace std::chrono_literals;

Notification Make(const std::string& id, const std::string& text = "t") {
  Notification n;
  n.id = id;
  n.time = "2026-11-28T12:00:00.000Z";
  n.service = "GitHub";
  n.project = "Nasqueron";
  n.group = "ops";
  n.type = "push";
  n.text = text;
  n.link = "";
  return n;
}

TEST_CASE("event hub: each notification is encoded once into its SSE frame") {
  EventHub hub(10, false);
  hub.Publish({Make("1", "hello")});
  auto snap = hub.TakeSnapshot();
  REQUIRE(snap.history.size() == 1);
  CHECK(snap.last_seq == 1);
  const std::string& frame = snap.history[0]->frame;
  CHECK(frame.rfind("id: 1\nevent: notification\ndata: {\"id\":\"1\"", 0) == 0);
  CHECK(frame.find("\"text\":\"hello\"") != std::string::npos);
  CHECK(frame.substr(frame.size() - 2) == "\n\n");
}

TEST_CASE("event hub: history is bounded and keeps the newest") {
  EventHub hub(3, false);
  for (int i = 1; i <= 5; ++i) hub.Publish({Make(std::to_string(i))});
  auto snap = hub.TakeSnapshot();
  REQUIRE(snap.history.size() == 3);
  CHECK(snap.history[0]->id == "3");
  CHECK(snap.history[2]->id == "5");
  CHECK(hub.NewestId() == "5");
  CHECK(snap.last_seq == 5);
}

TEST_CASE("event hub: history is bounded in bytes too, evicting the oldest") {
  // Before: bounded in count only, so 1,000 notifications of 1 MB held
  // 2 GB (text plus frame). Now the byte bound wins when it comes first.
  const std::string big(100000, 'x');
  const size_t one = EventBytes([&] {
    HubEvent e;
    e.kind = HubEvent::Kind::kNotification;
    return e;
  }());
  CHECK(one >= sizeof(HubEvent));
  EventHub hub(1000, false, 350000);
  CHECK(hub.history_bytes() == 350000);
  for (int i = 1; i <= 10; ++i) hub.Publish({Make(std::to_string(i), big)});
  auto snap = hub.TakeSnapshot();
  // Each holds the text twice (notification and frame): ~200 KB each.
  REQUIRE(snap.history.size() == 1);
  CHECK(snap.history[0]->id == "10");
  size_t sum = 0;
  for (const auto& e : snap.history) sum += EventBytes(*e);
  CHECK(hub.HistoryBytes() == sum);
  CHECK(sum > 200000);
  // Small ones fill it up to the bound, no further.
  for (int i = 11; i <= 200; ++i) hub.Publish({Make(std::to_string(i))});
  CHECK(hub.HistoryBytes() <= 350000);
  CHECK(hub.HistorySize() > 100);
  CHECK(hub.NewestId() == "200");
  // A reset empties it.
  hub.Reset("upstream-reset", "gone");
  CHECK(hub.HistoryBytes() == 0);
}

TEST_CASE(
    "event hub: the newest notification stays even above the byte bound") {
  EventHub hub(10, false, 1000);
  hub.Publish({Make("1", std::string(5000, 'y'))});
  CHECK(hub.HistorySize() == 1);
  hub.Publish({Make("2", std::string(5000, 'y'))});
  CHECK(hub.HistorySize() == 1);
  CHECK(hub.NewestId() == "2");
}

TEST_CASE("event hub: a snapshot can take only the newest notifications") {
  EventHub hub(10, false);
  for (int i = 1; i <= 5; ++i) hub.Publish({Make(std::to_string(i))});
  auto two = hub.TakeSnapshot(2);
  REQUIRE(two.history.size() == 2);
  CHECK(two.history[0]->id == "4");
  CHECK(two.history[1]->id == "5");
  CHECK(two.newest_id == "5");
  auto none = hub.TakeSnapshot(0);
  CHECK(none.history.empty());
  CHECK(none.newest_id == "5");
  CHECK(none.last_seq == 5);
  hub.Reset("upstream-reset", "gone");
  CHECK(hub.TakeSnapshot(0).newest_id.empty());
}

TEST_CASE("event hub: reset clears history and reaches waiters as a marker") {
  EventHub hub(10, false);
  hub.Publish({Make("7"), Make("8")});
  hub.Reset("upstream-reset", "gone");
  CHECK(hub.HistorySize() == 0);
  CHECK(hub.NewestId().empty());
  std::vector<HubEventPtr> out;
  // Even a reader far behind gets the marker, not "lagged".
  REQUIRE(hub.ReadAfter(0, 10, &out) == EventHub::WaitStatus::kEvents);
  REQUIRE(out.size() == 1);
  CHECK(out[0]->kind == HubEvent::Kind::kReset);
  CHECK(out[0]->reason == "upstream-reset");
  hub.Publish({Make("1")});
  CHECK(hub.TakeSnapshot().history.size() == 1);
}

TEST_CASE("event hub: raw content only when asked") {
  Notification n = Make("1");
  n.raw_content = "{\"a\":1}";
  EventHub with(10, true), without(10, false);
  with.Publish({n});
  without.Publish({n});
  CHECK(with.TakeSnapshot().history[0]->frame.find("\"rawContent\":{\"a\":1}") != std::string::npos);
  CHECK(without.TakeSnapshot().history[0]->frame.find("rawContent") == std::string::npos);
}

TEST_CASE("event hub: ReadAfter never blocks and returns everything newer") {
  EventHub hub(10, false);
  std::vector<HubEventPtr> out;
  CHECK(hub.ReadAfter(0, 10, &out) == EventHub::WaitStatus::kTimeout);
  CHECK(out.empty());
  hub.Publish({Make("1"), Make("2"), Make("3")});
  CHECK(hub.last_seq() == 3);
  // No limit at all: the size arithmetic must not wrap.
  REQUIRE(hub.ReadAfter(0, std::numeric_limits<size_t>::max(), &out) ==
          EventHub::WaitStatus::kEvents);
  REQUIRE(out.size() == 3);
  CHECK(out[0]->id == "1");
  CHECK(out[2]->id == "3");
  out.clear();
  REQUIRE(hub.ReadAfter(1, 1, &out) == EventHub::WaitStatus::kEvents);
  REQUIRE(out.size() == 1);
  CHECK(out[0]->id == "2");
  out.clear();
  CHECK(hub.ReadAfter(3, 10, &out) == EventHub::WaitStatus::kTimeout);
}

TEST_CASE("event hub: ReadAfter reports lag and shutdown") {
  EventHub hub(2, false);
  for (int i = 1; i <= 5; ++i) hub.Publish({Make(std::to_string(i))});
  std::vector<HubEventPtr> out;
  CHECK(hub.ReadAfter(1, 10, &out) == EventHub::WaitStatus::kLagged);
  CHECK(hub.ReadAfter(3, 10, &out) == EventHub::WaitStatus::kEvents);
  hub.Shutdown();
  // What was published before the shutdown can still be read, then the end.
  out.clear();
  REQUIRE(hub.ReadAfter(3, 10, &out) == EventHub::WaitStatus::kEvents);
  CHECK(out.size() == 2);
  CHECK(hub.ReadAfter(5, 10, &out) == EventHub::WaitStatus::kShutdown);
}

TEST_CASE("event hub: wakers are called on publish, reset and shutdown, until removed") {
  EventHub hub(10, false);
  int calls = 0;
  int id = hub.AddWaker([&] { ++calls; });
  hub.Publish({Make("1")});
  CHECK(calls == 1);
  hub.Publish({});  // Nothing published: nobody to wake.
  CHECK(calls == 1);
  hub.Reset("upstream-reset", "m");
  CHECK(calls == 2);
  hub.RemoveWaker(id);
  hub.Publish({Make("2")});
  CHECK(calls == 2);
  int other = 0;
  hub.AddWaker([&] { ++other; });
  hub.Shutdown();
  CHECK(other == 1);
  CHECK(calls == 2);
}

}  // namespace
}  // namespace notifications

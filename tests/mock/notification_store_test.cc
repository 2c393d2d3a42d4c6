#include "notification_store.h"

#include <doctest/doctest.h>

#include <atomic>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace notifications {
namespace {

// A clock whose wall time only moves when the test says so.
class StoreTestClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point Now() override {
    return std::chrono::steady_clock::time_point(
        std::chrono::milliseconds(millis_.load()));
  }
  int64_t WallMillis() override { return millis_.load(); }
  bool WaitFor(std::condition_variable&, std::unique_lock<std::mutex>&,
               std::chrono::nanoseconds,
               const std::function<bool()>& pred) override {
    return pred();
  }
  void Advance(int64_t ms) { millis_ += ms; }

 private:
  std::atomic<int64_t> millis_{1795869554123};
};

Notification Text(const std::string& text) {
  Notification n;
  n.service = "GitHub";
  n.project = "Nasqueron";
  n.group = "ops";
  n.type = "push";
  n.text = text;
  n.link = "";
  return n;
}

std::vector<std::string> Texts(const NotificationStore::Page& page) {
  std::vector<std::string> out;
  for (const Notification& n : page.items) out.push_back(n.text.value_or("?"));
  return out;
}

void AppendTexts(NotificationStore& store, int from, int to) {
  for (int i = from; i <= to; ++i) store.Append(Text("n" + std::to_string(i)));
}

}  // namespace

TEST_CASE("store assigns fixed-width ids from 1 and the clock's time") {
  StoreTestClock clock;
  NotificationStore store(10, clock, "1795869554");
  Notification first = store.Append(Text("a"));
  clock.Advance(1000);
  Notification second = store.Append(Text("b"));
  CHECK(first.id == "1795869554-0000000001");
  CHECK(second.id == "1795869554-0000000002");
  CHECK(first.time == "2026-11-28T12:39:14.123Z");
  CHECK(second.time == "2026-11-28T12:39:15.123Z");
  CHECK(IsValidId(first.id));
  CHECK(CompareIds(first.id, second.id) < 0);
  CHECK(second.text == "b");
  CHECK(store.NewestId() == second.id);
  CHECK(store.Size() == 2);
}

TEST_CASE("store replaces any id and time the notification came with") {
  StoreTestClock clock;
  NotificationStore store(10, clock, "p");
  Notification n = Text("a");
  n.id = "zzz";
  n.time = "2000-01-01T00:00:00Z";
  Notification stored = store.Append(n);
  CHECK(stored.id == "p-0000000001");
  CHECK(stored.time != "2000-01-01T00:00:00Z");
}

TEST_CASE("empty store answers an empty page with an empty cursor") {
  StoreTestClock clock;
  NotificationStore store(10, clock, "p");
  NotificationStore::Page page = store.Query(std::nullopt, 100);
  CHECK_FALSE(page.gone);
  CHECK(page.items.empty());
  CHECK(page.cursor.empty());
  CHECK_FALSE(page.more);
  CHECK(store.NewestId().empty());
}

TEST_CASE("query without after starts at the oldest, oldest first") {
  StoreTestClock clock;
  NotificationStore store(10, clock, "p");
  AppendTexts(store, 1, 3);
  NotificationStore::Page page = store.Query(std::nullopt, 100);
  CHECK(Texts(page) == std::vector<std::string>{"n1", "n2", "n3"});
  CHECK(page.cursor == "p-0000000003");
  CHECK_FALSE(page.more);
}

TEST_CASE("query pages by limit with more set while items remain") {
  StoreTestClock clock;
  NotificationStore store(100, clock, "p");
  AppendTexts(store, 1, 5);
  NotificationStore::Page first = store.Query(std::nullopt, 2);
  CHECK(Texts(first) == std::vector<std::string>{"n1", "n2"});
  CHECK(first.more);
  NotificationStore::Page second = store.Query(first.cursor, 2);
  CHECK(Texts(second) == std::vector<std::string>{"n3", "n4"});
  CHECK(second.more);
  NotificationStore::Page third = store.Query(second.cursor, 2);
  CHECK(Texts(third) == std::vector<std::string>{"n5"});
  CHECK_FALSE(third.more);
  CHECK(third.cursor == "p-0000000005");
}

TEST_CASE("a page ending exactly at the newest item has more false") {
  StoreTestClock clock;
  NotificationStore store(100, clock, "p");
  AppendTexts(store, 1, 4);
  NotificationStore::Page page = store.Query(std::nullopt, 4);
  CHECK(page.items.size() == 4);
  CHECK_FALSE(page.more);
}

TEST_CASE("after the newest id answers an empty page whose cursor is after") {
  StoreTestClock clock;
  NotificationStore store(10, clock, "p");
  AppendTexts(store, 1, 3);
  NotificationStore::Page page = store.Query(std::string("p-0000000003"), 10);
  CHECK_FALSE(page.gone);
  CHECK(page.items.empty());
  CHECK(page.cursor == "p-0000000003");
  CHECK_FALSE(page.more);
}

TEST_CASE("limit zero is taken as one") {
  StoreTestClock clock;
  NotificationStore store(10, clock, "p");
  AppendTexts(store, 1, 3);
  NotificationStore::Page page = store.Query(std::nullopt, 0);
  CHECK(Texts(page) == std::vector<std::string>{"n1"});
  CHECK(page.more);
}

TEST_CASE("retention drops the oldest and their ids become gone") {
  StoreTestClock clock;
  NotificationStore store(3, clock, "p");
  AppendTexts(store, 1, 5);
  CHECK(store.Size() == 3);
  NotificationStore::Page all = store.Query(std::nullopt, 100);
  CHECK(Texts(all) == std::vector<std::string>{"n3", "n4", "n5"});
  CHECK(all.items.front().id == "p-0000000003");

  CHECK(store.Query(std::string("p-0000000001"), 10).gone);
  CHECK(store.Query(std::string("p-0000000002"), 10).gone);
  // The oldest retained id is still a valid cursor.
  NotificationStore::Page after_oldest =
      store.Query(std::string("p-0000000003"), 10);
  CHECK_FALSE(after_oldest.gone);
  CHECK(Texts(after_oldest) == std::vector<std::string>{"n4", "n5"});
}

TEST_CASE("ids never issued by this store are gone") {
  StoreTestClock clock;
  NotificationStore store(10, clock, "1795869554");
  AppendTexts(store, 1, 3);
  auto gone = [&](const std::string& after) {
    return store.Query(after, 10).gone;
  };
  CHECK(gone("1795869554-0000000004"));  // not issued yet
  CHECK(gone("1795869554-0000000000"));  // seq starts at 1
  CHECK(gone("1795860000-0000000002"));  // another start of the mock
  CHECK(gone("1795869554-000000002"));   // another width
  CHECK(gone("1795869554-00000000002"));
  CHECK(gone("1795869554_0000000002"));
  CHECK(gone("1795869554-00000000a2"));
  CHECK(gone("42"));
  CHECK_FALSE(gone("1795869554-0000000002"));
}

TEST_CASE("any after on an empty store is gone") {
  StoreTestClock clock;
  NotificationStore store(10, clock, "p");
  CHECK(store.Query(std::string("p-0000000001"), 10).gone);
}

TEST_CASE("retention of zero is taken as one") {
  StoreTestClock clock;
  NotificationStore store(0, clock, "p");
  AppendTexts(store, 1, 2);
  CHECK(store.Size() == 1);
  CHECK(store.retention() == 1);
  CHECK(store.NewestId() == "p-0000000002");
}

TEST_CASE("overlap re-serves items up to and including after") {
  StoreTestClock clock;
  NotificationStore store(100, clock, "p");
  AppendTexts(store, 1, 6);
  NotificationStore::Page page =
      store.Query(std::string("p-0000000004"), 10, 2);
  CHECK(Texts(page) == std::vector<std::string>{"n3", "n4", "n5", "n6"});
  CHECK(page.cursor == "p-0000000006");
  CHECK_FALSE(page.more);
}

TEST_CASE("overlap is bounded by what is retained before after") {
  StoreTestClock clock;
  NotificationStore store(100, clock, "p");
  AppendTexts(store, 1, 3);
  NotificationStore::Page page =
      store.Query(std::string("p-0000000001"), 10, 5);
  CHECK(Texts(page) == std::vector<std::string>{"n1", "n2", "n3"});
}

TEST_CASE("overlap adds nothing to a page without new items or without after") {
  StoreTestClock clock;
  NotificationStore store(100, clock, "p");
  AppendTexts(store, 1, 3);
  CHECK(store.Query(std::string("p-0000000003"), 10, 2).items.empty());
  CHECK(Texts(store.Query(std::nullopt, 10, 2)) ==
        std::vector<std::string>{"n1", "n2", "n3"});
}

TEST_CASE("overlap shares the limit but always leaves room for one new item") {
  StoreTestClock clock;
  NotificationStore store(100, clock, "p");
  AppendTexts(store, 1, 10);
  NotificationStore::Page page = store.Query(std::string("p-0000000005"), 3, 5);
  CHECK(Texts(page) == std::vector<std::string>{"n4", "n5", "n6"});
  CHECK(page.cursor == "p-0000000006");
  CHECK(page.more);
  NotificationStore::Page tiny = store.Query(std::string("p-0000000005"), 1, 5);
  CHECK(Texts(tiny) == std::vector<std::string>{"n6"});
}

TEST_CASE("concurrent appends and queries keep ids unique and ordered") {
  StoreTestClock clock;
  NotificationStore store(500, clock, "p");
  std::atomic<bool> done{false};
  std::atomic<bool> ordered{true};
  std::thread reader([&] {
    while (!done.load()) {
      NotificationStore::Page page = store.Query(std::nullopt, 1000);
      for (size_t i = 1; i < page.items.size(); ++i) {
        if (CompareIds(page.items[i - 1].id, page.items[i].id) >= 0) {
          ordered = false;
        }
      }
    }
  });
  std::vector<std::thread> writers;
  for (int w = 0; w < 4; ++w) {
    writers.emplace_back([&] { AppendTexts(store, 1, 250); });
  }
  for (std::thread& t : writers) t.join();
  done = true;
  reader.join();
  CHECK(ordered.load());
  CHECK(store.Size() == 500);
  CHECK(store.NewestId() == "p-0000001000");
}

}  // namespace notifications

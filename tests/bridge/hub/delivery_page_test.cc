#include "delivery_page.h"

#include <doctest/doctest.h>

#include "test_support.h"

namespace notifications {
namespace {

using testing::SampleNotification;

std::string Item(const std::string& id) {
  return "{\"id\":\"" + id +
         "\",\"time\":\"2026-11-28T12:00:00.000Z\",\"service\":\"GitHub\","
         "\"project\":\"Nasqueron\",\"group\":\"ops\",\"type\":\"push\","
         "\"text\":\"text " +
         id + "\",\"link\":\"\",\"rawContent\":null}";
}

DeliveryQuery Query(std::optional<std::string> after, size_t limit = 100,
                    int wait = 0) {
  DeliveryQuery q;
  q.after = std::move(after);
  q.limit = limit;
  q.wait = std::chrono::seconds(wait);
  return q;
}

void PublishIds(EventHub& hub, std::initializer_list<const char*> ids) {
  std::vector<Notification> batch;
  for (const char* id : ids) batch.push_back(SampleNotification(id));
  hub.Publish(std::move(batch));
}

TEST_CASE("delivery page: from the oldest retained, byte for byte") {
  EventHub hub(10, false);
  PublishIds(hub, {"7", "8", "9"});
  DeliveryAnswer a =
      RenderDeliveryPage(hub.TakeSnapshot(), Query(std::nullopt), false);
  CHECK(a.status == 200);
  CHECK_FALSE(a.empty);
  CHECK(a.body == "{\"notifications\":[" + Item("7") + "," + Item("8") + "," +
                      Item("9") + "],\"cursor\":\"9\",\"more\":false}");
}

TEST_CASE(
    "delivery page: after a cursor, at most limit, more when more follow") {
  EventHub hub(10, false);
  PublishIds(hub, {"7", "8", "9", "10"});
  DeliveryAnswer a =
      RenderDeliveryPage(hub.TakeSnapshot(), Query("7", 2), false);
  CHECK(a.body == "{\"notifications\":[" + Item("8") + "," + Item("9") +
                      "],\"cursor\":\"9\",\"more\":true}");
  a = RenderDeliveryPage(hub.TakeSnapshot(), Query("9", 2), false);
  CHECK(a.body == "{\"notifications\":[" + Item("10") +
                      "],\"cursor\":\"10\",\"more\":false}");
}

TEST_CASE(
    "delivery page: the newest cursor, or one not yet published, is an empty "
    "page") {
  EventHub hub(10, false);
  PublishIds(hub, {"7", "8"});
  DeliveryAnswer a = RenderDeliveryPage(hub.TakeSnapshot(), Query("8"), false);
  CHECK(a.status == 200);
  CHECK(a.body == "{\"notifications\":[],\"cursor\":\"8\",\"more\":false}");
  CHECK_FALSE(a.empty);  // No wait asked: nothing to hold.
  a = RenderDeliveryPage(hub.TakeSnapshot(), Query("12", 100, 20), false);
  CHECK(a.body == "{\"notifications\":[],\"cursor\":\"12\",\"more\":false}");
  CHECK(a.empty);  // A long-poll holds it.
  EventHub empty(10, false);
  a = RenderDeliveryPage(empty.TakeSnapshot(), Query(std::nullopt), false);
  CHECK(a.body == "{\"notifications\":[],\"cursor\":\"\",\"more\":false}");
}

TEST_CASE("delivery page: a cursor between retained ids gets what follows it") {
  // Stream offsets of skipped (poison) messages are never ids, but a caller
  // may hold one that fell between them.
  EventHub hub(10, false);
  PublishIds(hub, {"3", "5", "6"});
  DeliveryAnswer a = RenderDeliveryPage(hub.TakeSnapshot(), Query("4"), false);
  CHECK(a.body == "{\"notifications\":[" + Item("5") + "," + Item("6") +
                      "],\"cursor\":\"6\",\"more\":false}");
}

TEST_CASE("delivery page: 410 for a cursor older than the history") {
  EventHub hub(3, false);
  PublishIds(hub, {"1", "2", "3", "4", "5"});  // 1 and 2 evicted.
  auto snap = hub.TakeSnapshot();
  CHECK(snap.horizon_id == "2");
  DeliveryAnswer a = RenderDeliveryPage(snap, Query("1"), false);
  CHECK(a.status == 410);
  CHECK(a.body ==
        "{\"error\":\"gone\",\"message\":\"cursor 1 is no longer retained; "
        "restart without after\"}");
  // The caller holding the newest evicted one misses nothing.
  a = RenderDeliveryPage(snap, Query("2"), false);
  CHECK(a.status == 200);
  CHECK(a.body.find("\"cursor\":\"5\"") != std::string::npos);
}

TEST_CASE(
    "delivery page: after a reset, every cursor up to the old newest is gone") {
  EventHub hub(10, false);
  PublishIds(hub, {"1", "2", "3"});
  hub.Reset("upstream-reset", "forgotten");
  PublishIds(hub, {"10", "11"});
  auto snap = hub.TakeSnapshot();
  CHECK(RenderDeliveryPage(snap, Query("3"), false).status == 410);
  CHECK(RenderDeliveryPage(snap, Query("2"), false).status == 410);
  DeliveryAnswer a = RenderDeliveryPage(snap, Query("10"), false);
  CHECK(a.status == 200);
  CHECK(a.body.find("\"cursor\":\"11\"") != std::string::npos);
}

TEST_CASE(
    "delivery page: without a resume point, a cursor older than the first "
    "notification published is gone") {
  // A bridge started without --state-file reads its source from the oldest
  // the source retains: anything older was dropped there.
  EventHub hub(10, false);
  CHECK(hub.TakeSnapshot().horizon_id.empty());
  PublishIds(hub, {"20", "21"});
  auto snap = hub.TakeSnapshot();
  CHECK(snap.horizon_id == "20");
  CHECK_FALSE(snap.horizon_inclusive);
  CHECK(RenderDeliveryPage(snap, Query("19"), false).status == 410);
  DeliveryAnswer a = RenderDeliveryPage(snap, Query("20"), false);
  CHECK(a.status == 200);
  CHECK(a.body == "{\"notifications\":[" + Item("21") +
                      "],\"cursor\":\"21\",\"more\":false}");
}

TEST_CASE("delivery page: before the source's start cursor is gone") {
  EventHub hub(10, false);
  hub.SetHorizon("41");
  PublishIds(hub, {"42"});
  auto snap = hub.TakeSnapshot();
  CHECK(RenderDeliveryPage(snap, Query("40"), false).status == 410);
  CHECK(RenderDeliveryPage(snap, Query("41"), false)
            .body.find("\"cursor\":\"42\"") != std::string::npos);
}

TEST_CASE(
    "delivery page: rawContent only when the bridge keeps it for streams") {
  EventHub hub(10, true);
  Notification n = SampleNotification("1");
  n.raw_content = "{\"ref\":\"main\"}";
  hub.Publish({n});
  CHECK(RenderDeliveryPage(hub.TakeSnapshot(), Query(std::nullopt), true)
            .body.find("\"rawContent\":{\"ref\":\"main\"}") !=
        std::string::npos);
  CHECK(RenderDeliveryPage(hub.TakeSnapshot(), Query(std::nullopt), false)
            .body.find("\"rawContent\":null") != std::string::npos);
}

TEST_CASE(
    "delivery page: bounded in bytes whatever the limit, one notification "
    "always given") {
  EventHub hub(100, false);
  std::vector<Notification> batch;
  for (int i = 1; i <= 10; ++i) {
    Notification n = SampleNotification(std::to_string(i));
    n.text = std::string(100 * 1024, 'x');
    batch.push_back(n);
  }
  hub.Publish(std::move(batch));
  // Before: limit=1000 built a page of every retained notification (4 MB
  // per request with a history of large ones, held for a slow caller).
  DeliveryAnswer a =
      RenderDeliveryPage(hub.TakeSnapshot(), Query(std::nullopt, 1000), false);
  CHECK(a.status == 200);
  CHECK(a.body.size() < 300 * 1024);
  CHECK(a.body.find("\"cursor\":\"2\"") != std::string::npos);
  CHECK(a.body.find("\"more\":true") != std::string::npos);
  // The caller goes on from the cursor and gets the rest, page by page.
  a = RenderDeliveryPage(hub.TakeSnapshot(), Query("2", 1000), false);
  CHECK(a.body.find("\"cursor\":\"4\"") != std::string::npos);
  // One notification larger than the bound is still given, alone.
  a = RenderDeliveryPage(hub.TakeSnapshot(), Query(std::nullopt, 1000), false,
                         1000);
  CHECK(a.body.find("\"cursor\":\"1\"") != std::string::npos);
  CHECK(a.body.find("\"more\":true") != std::string::npos);
}

TEST_CASE("delivery query: parameters as the contract defines them") {
  DeliveryQuery q =
      ParseDeliveryQuery(
          {{"after", "41"}, {"limit", "5"}, {"wait", "25"}, {"unknown", "x"}})
          .value();
  CHECK(q.after == "41");
  CHECK(q.limit == 5);
  CHECK(q.wait == std::chrono::seconds(25));
  q = ParseDeliveryQuery({}).value();
  CHECK_FALSE(q.after.has_value());
  CHECK(q.limit == 100);
  CHECK(q.wait == std::chrono::seconds(0));

  struct Case {
    std::vector<std::pair<std::string, std::string>> params;
    const char* message;
  };
  for (const Case& c : std::vector<Case>{
           {{{"limit", "0"}},
            "limit must be an integer from 1 to 1000, got \"0\""},
           {{{"limit", "1001"}},
            "limit must be an integer from 1 to 1000, got \"1001\""},
           {{{"limit", "-1"}},
            "limit must be an integer from 1 to 1000, got \"-1\""},
           {{{"limit", " 5"}},
            "limit must be an integer from 1 to 1000, got \" 5\""},
           {{{"wait", "301"}},
            "wait must be an integer from 0 to 300, got \"301\""},
           {{{"wait", "00"}},
            "wait must be an integer from 0 to 300, got \"00\""},
           {{{"after", ""}},
            "after must be an id (1 to 128 bytes of [A-Za-z0-9._:-]), got "
            "\"\""},
           {{{"after", "a b"}},
            "after must be an id (1 to 128 bytes of [A-Za-z0-9._:-]), got \"a "
            "b\""},
           {{{"after", "1"}, {"after", "1"}}, "parameter after is repeated"},
       }) {
    Result<DeliveryQuery> r = ParseDeliveryQuery(c.params);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message() == c.message);
  }
}

}  // namespace
}  // namespace notifications

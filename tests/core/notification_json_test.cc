#include "notification_json.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "notification_parser.h"

namespace notifications {
namespace {

using namespace std::string_literals;

Notification Push() {
  Notification n;
  n.id = "1795869554-0000000042";
  n.time = "2026-11-28T12:00:00.123Z";
  n.service = "GitHub";
  n.project = "Nasqueron";
  n.group = "ops";
  n.type = "push";
  n.text = "dereckson pushed 2 commits";
  n.link = "https://github.com/nasqueron/operations/compare/a...b";
  n.raw_content = R"({"ref":"refs/heads/main","size":2})";
  return n;
}

// Strings that must survive the trip: NUL, CR, LF, other controls, quotes,
// backslash, slash, non-ASCII (2, 3 and 4 bytes, U+2028).
const std::vector<std::string> kHardStrings = {
    "",
    "a\0b"s,
    "\r\n",
    "line one\nline two\rthree",
    "\t\b\f\x01\x1F\x7F",
    "quote \" backslash \\ slash /",
    "D\xC3\xA9ploiement r\xC3\xA9ussi \xE2\x9C\x93 \xF0\x9F\x9A\x80",
    "\xE2\x80\xA8\xE2\x80\xA9",
    "</script>",
};

void CheckSameFields(const Notification& a, const Notification& b) {
  CHECK(a.service == b.service);
  CHECK(a.project == b.project);
  CHECK(a.group == b.group);
  CHECK(a.type == b.type);
  CHECK(a.text == b.text);
  CHECK(a.link == b.link);
  CHECK(a.raw_content == b.raw_content);
}

TEST_SUITE_BEGIN("notification_json");

TEST_CASE("NotificationToJson writes every field in the contract's order") {
  CHECK(NotificationToJson(Push(), false) ==
        R"({"id":"1795869554-0000000042","time":"2026-11-28T12:00:00.123Z",)"
        R"("service":"GitHub","project":"Nasqueron","group":"ops",)"
        R"("type":"push","text":"dereckson pushed 2 commits",)"
        R"("link":"https://github.com/nasqueron/operations/compare/a...b"})");
}

TEST_CASE("NotificationToJson appends rawContent verbatim when asked") {
  CHECK(NotificationToJson(Push(), true) ==
        R"({"id":"1795869554-0000000042","time":"2026-11-28T12:00:00.123Z",)"
        R"("service":"GitHub","project":"Nasqueron","group":"ops",)"
        R"("type":"push","text":"dereckson pushed 2 commits",)"
        R"("link":"https://github.com/nasqueron/operations/compare/a...b",)"
        R"("rawContent":{"ref":"refs/heads/main","size":2}})");
}

TEST_CASE("NotificationToJson writes missing fields as null, time as string") {
  Notification n;
  n.id = "1";
  CHECK(NotificationToJson(n, false) ==
        R"({"id":"1","time":"","service":null,"project":null,"group":null,)"
        R"("type":null,"text":null,"link":null})");
  CHECK(NotificationToJson(n, true) ==
        R"({"id":"1","time":"","service":null,"project":null,"group":null,)"
        R"("type":null,"text":null,"link":null,"rawContent":null})");
}

TEST_CASE("NotificationToJson writes empty strings as empty strings") {
  Notification n;
  n.id = "1";
  n.group = "";
  n.link = "";
  n.raw_content = "";  // Not JSON: written as null.
  CHECK(NotificationToJson(n, true) ==
        R"({"id":"1","time":"","service":null,"project":null,"group":"",)"
        R"("type":null,"text":null,"link":"","rawContent":null})");
}

TEST_CASE("NotificationToJson writes rawContent of any JSON type") {
  Notification n;
  n.id = "1";
  n.raw_content = "[1,\"two\",null]";
  std::string json = NotificationToJson(n, true);
  const std::string tail = R"(,"link":null,"rawContent":[1,"two",null]})";
  REQUIRE(json.size() > tail.size());
  CHECK(json.substr(json.size() - tail.size()) == tail);
}

TEST_CASE("NotificationToJson escapes controls, keeps UTF-8 and slash") {
  Notification n;
  n.id = "1";
  n.text = "a\0b\r\nc\t\x01\x1F\x7F \"q\" \\ / caf\xC3\xA9 \xF0\x9F\x9A\x80"s;
  CHECK(NotificationToJson(n, false) ==
        R"({"id":"1","time":"","service":null,"project":null,"group":null,)"
        R"("type":null,)"
        "\"text\":\"a\\u0000b\\r\\nc\\t\\u0001\\u001F\x7F \\\"q\\\" \\\\ / "
        "caf\xC3\xA9 \xF0\x9F\x9A\x80\",\"link\":null}");
}

TEST_CASE("NotificationToJson output never holds a raw CR, LF or NUL") {
  for (const std::string& s : kHardStrings) {
    Notification n = Push();
    n.text = s;
    n.service = s;
    n.time = s;
    std::string json = NotificationToJson(n, true);
    CHECK(json.find('\r') == std::string::npos);
    CHECK(json.find('\n') == std::string::npos);
    CHECK(json.find('\0') == std::string::npos);
  }
}

TEST_CASE("NotificationToJson writes invalid UTF-8 as U+FFFD") {
  Notification n;
  n.id = "1";
  n.text = "caf\xE9";
  CHECK(NotificationToJson(n, false).find("\"text\":\"caf\xEF\xBF\xBD\"") !=
        std::string::npos);
}

TEST_CASE("PageToJson writes a delivery API page with rawContent") {
  Notification a = Push();
  Notification b;
  b.id = "1795869554-0000000043";
  b.time = "2026-11-28T12:00:01Z";
  b.service = "Phabricator";
  b.project = "Nasqueron";
  b.group = "orgz";
  b.type = "TASK";
  b.text = "created T1";
  b.link = "";
  CHECK(PageToJson({a, b}, b.id, true) ==
        R"({"notifications":[)"
        R"({"id":"1795869554-0000000042","time":"2026-11-28T12:00:00.123Z",)"
        R"("service":"GitHub","project":"Nasqueron","group":"ops",)"
        R"("type":"push","text":"dereckson pushed 2 commits",)"
        R"("link":"https://github.com/nasqueron/operations/compare/a...b",)"
        R"("rawContent":{"ref":"refs/heads/main","size":2}},)"
        R"({"id":"1795869554-0000000043","time":"2026-11-28T12:00:01Z",)"
        R"("service":"Phabricator","project":"Nasqueron","group":"orgz",)"
        R"("type":"TASK","text":"created T1","link":"","rawContent":null}],)"
        R"("cursor":"1795869554-0000000043","more":true})");
}

TEST_CASE("PageToJson writes an empty page") {
  CHECK(PageToJson({}, "", false) ==
        R"({"notifications":[],"cursor":"","more":false})");
}

TEST_CASE("ErrorToJson writes error and message") {
  CHECK(ErrorToJson("gone", "cursor 1-1 is no longer retained") ==
        R"({"error":"gone","message":"cursor 1-1 is no longer retained"})");
  CHECK(ErrorToJson("bad_request", "\"limit\" must be 1..1000\n") ==
        R"({"error":"bad_request","message":"\"limit\" must be 1..1000\n"})");
}

TEST_CASE("JsonString quotes and escapes any string") {
  CHECK(JsonString("") == R"("")");
  CHECK(JsonString("plain") == R"("plain")");
  CHECK(JsonString("a\"b\\c/d") == R"("a\"b\\c/d")");
  CHECK(JsonString("\r\n\t\b\f") == R"("\r\n\t\b\f")");
  CHECK(JsonString("\0\x1F"s) == R"("\u0000\u001F")");
  CHECK(JsonString("caf\xC3\xA9") == "\"caf\xC3\xA9\"");
  CHECK(JsonString("\xFF") == "\"\xEF\xBF\xBD\"");
}

TEST_CASE("NotificationToJson then ParseGateNotification gives the fields") {
  for (const std::string& s : kHardStrings) {
    Notification n = Push();
    n.service = s;
    n.project = s;
    n.group = s;
    n.type = s;
    n.text = s;
    n.link = s;
    n.raw_content = "{\"s\":" + JsonString(s) + ",\"n\":[1,-2,0.5,true]}";
    Result<Notification> back =
        ParseGateNotification(NotificationToJson(n, true), "default");
    INFO("string: " << JsonString(s));
    REQUIRE(back.ok());
    CheckSameFields(*back, n);
  }
}

TEST_CASE("NotificationToJson keeps nulls through ParseGateNotification") {
  Notification n = Push();
  n.text.reset();
  n.link.reset();
  n.raw_content.reset();
  Result<Notification> back =
      ParseGateNotification(NotificationToJson(n, true), "default");
  REQUIRE(back.ok());
  CheckSameFields(*back, n);
}

TEST_CASE("PageToJson then ParsePage gives every item back") {
  std::vector<Notification> items;
  int seq = 0;
  for (const std::string& s : kHardStrings) {
    Notification n = Push();
    n.id = "1795869554-" + std::to_string(1000000000 + ++seq);
    n.time = s;
    n.service = s;
    n.project = s;
    n.group = s;
    n.type = s;
    n.text = s;
    n.link = s;
    n.raw_content = "[" + JsonString(s) + "]";
    items.push_back(n);
  }
  Notification nulls;
  nulls.id = "1795869554-" + std::to_string(1000000000 + ++seq);
  items.push_back(nulls);

  Result<Page> page = ParsePage(PageToJson(items, items.back().id, true));
  if (!page.ok()) INFO("error: " << page.status().message());
  REQUIRE(page.ok());
  CHECK(page->cursor == items.back().id);
  CHECK(page->more);
  REQUIRE(page->notifications.size() == items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    INFO("item " << i);
    CHECK(page->notifications[i].id == items[i].id);
    CHECK(page->notifications[i].time == items[i].time);
    CheckSameFields(page->notifications[i], items[i]);
  }
}

TEST_SUITE_END();

}  // namespace
}  // namespace notifications

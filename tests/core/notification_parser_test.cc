#include "notification_parser.h"
#include "utf8.h"

#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace notifications {
namespace {

using namespace std::string_literals;

const std::string kFffd = "\xEF\xBF\xBD";

// A page as the PHP delivery API writes it: "\/" escapes, \u escapes with a
// surrogate pair, null fields, an empty link, an empty group.
const char kPage[] = R"({"notifications":[
  {"id":"1795869554-0000000001","time":"2026-11-28T12:00:00.123Z",
   "service":"GitHub","project":"Nasqueron","group":"ops","type":"push",
   "text":"dereckson pushed 2 commits to operations",
   "link":"https:\/\/github.com\/nasqueron\/operations\/compare\/a...b",
   "rawContent":{"ref":"refs\/heads\/main","commits":[{"id":"9e1f",
     "message":"Fix \"quotes\"\nand lines"}],"forced":false,"size":2,
     "ratio":0.5,"neg":-3,"none":null}},
  {"id":"1795869554-0000000002","time":"2026-11-28T12:00:01Z",
   "service":"Phabricator","project":"Nasqueron","group":"orgz",
   "type":"TASK","text":"dereckson created T1210","link":"",
   "rawContent":{"type":"TASK"}},
  {"id":"1795869554-0000000003","time":null,"service":"Jenkins",
   "project":"Nasqueron","group":"ci","type":"completed.success",
   "text":null,"link":null,"rawContent":null},
  {"id":"1795869554-0000000004","service":"Jenkins","project":"Nasqueron",
   "group":"ci","type":"completed.success",
   "text":"D\u00e9ploiement r\u00e9ussi \ud83d\ude80","link":"https:\/\/x\/"},
  {"id":"1795869554-0000000005","service":"GitHub","project":"Nasqueron",
   "group":"","type":"push","future":{"field":1}}
 ],
 "cursor":"1795869554-0000000005","more":true,"unknown":[1,2]})";

Page MustParse(std::string_view body, size_t max_items = 10000) {
  Result<Page> page = ParsePage(body, max_items);
  if (!page.ok()) INFO("error: " << page.status().message());
  REQUIRE(page.ok());
  return std::move(page).value();
}

std::string PageError(std::string_view body, size_t max_items = 10000) {
  Result<Page> page = ParsePage(body, max_items);
  if (page.ok()) return "(ok)";
  CHECK(page.status().code() == Status::Code::kInvalidArgument);
  return page.status().message();
}

// A page body around `items` (JSON text of the array's content).
std::string Wrap(const std::string& items, const std::string& cursor) {
  return R"({"notifications":[)" + items + R"(],"cursor":")" + cursor +
         R"(","more":false})";
}

std::string Item(const std::string& id, const std::string& extra = "") {
  return R"({"id":")" + id + R"(","service":"s","project":"p","group":"g",)" +
         R"("type":"t")" + extra + "}";
}

std::string SeqId(int i) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "1-%010d", i);
  return buffer;
}

std::string GateError(std::string_view body) {
  Result<Notification> n = ParseGateNotification(body, "Nasqueron");
  return n.ok() ? "(ok)" : n.status().message();
}

TEST_SUITE_BEGIN("notification_parser");

TEST_CASE("ParsePage reads a PHP page: escapes, nulls, empty link, group") {
  Page page = MustParse(kPage);
  REQUIRE(page.notifications.size() == 5);
  CHECK(page.cursor == "1795869554-0000000005");
  CHECK(page.more);

  const Notification& push = page.notifications[0];
  CHECK(push.id == "1795869554-0000000001");
  CHECK(push.time == "2026-11-28T12:00:00.123Z");
  CHECK(push.service == "GitHub");
  CHECK(push.project == "Nasqueron");
  CHECK(push.group == "ops");
  CHECK(push.type == "push");
  CHECK(push.text == "dereckson pushed 2 commits to operations");
  CHECK(push.link == "https://github.com/nasqueron/operations/compare/a...b");
  CHECK(push.raw_content ==
        R"({"ref":"refs/heads/main","commits":[{"id":"9e1f",)"
        R"("message":"Fix \"quotes\"\nand lines"}],"forced":false,)"
        R"("size":2,"ratio":0.5,"neg":-3,"none":null})");

  const Notification& task = page.notifications[1];
  CHECK(task.type == "TASK");
  CHECK(task.link == "");
  CHECK(task.raw_content == R"({"type":"TASK"})");

  const Notification& nulls = page.notifications[2];
  CHECK(nulls.time == "");
  CHECK_FALSE(nulls.text.has_value());
  CHECK_FALSE(nulls.link.has_value());
  CHECK_FALSE(nulls.raw_content.has_value());

  const Notification& accents = page.notifications[3];
  CHECK(accents.time == "");
  CHECK(accents.text == "D\xC3\xA9ploiement r\xC3\xA9ussi \xF0\x9F\x9A\x80");
  CHECK_FALSE(accents.raw_content.has_value());

  const Notification& empty_group = page.notifications[4];
  CHECK(empty_group.group == "");
  CHECK(empty_group.RoutingKey() == "nasqueron..github.push");
  CHECK_FALSE(empty_group.text.has_value());
}

TEST_CASE("ParsePage reads an empty page with an empty or given cursor") {
  Page empty = MustParse(R"({"notifications":[],"cursor":""})");
  CHECK(empty.notifications.empty());
  CHECK(empty.cursor == "");
  CHECK_FALSE(empty.more);
  Page after = MustParse(
      R"({"notifications":[],"cursor":"1795869554-0000000042","more":false})");
  CHECK(after.cursor == "1795869554-0000000042");
}

TEST_CASE("ParsePage accepts whitespace around the document") {
  CHECK(MustParse(" \r\n\t{\"notifications\":[],\"cursor\":\"\"} \n")
            .notifications.empty());
}

TEST_CASE("ParsePage keeps NUL, CR and LF in strings with exact lengths") {
  Page page = MustParse(
      Wrap(Item("1", R"(,"text":"a\u0000b\r\nc","link":"\u0000")"), "1"));
  CHECK(page.notifications[0].text == "a\0b\r\nc"s);
  CHECK(page.notifications[0].link->size() == 1);
}

TEST_CASE("ParsePage replaces raw invalid UTF-8 with U+FFFD, keeps the page") {
  Page page = MustParse(Wrap(
      Item("1", ",\"text\":\"caf\xE9 \xC3\xA9\",\"rawContent\":[\"\xFF\"]"),
      "1"));
  CHECK(page.notifications[0].text == "caf" + kFffd + " \xC3\xA9");
  CHECK(page.notifications[0].raw_content == "[\"" + kFffd + "\"]");
}

TEST_CASE(
    "ParsePage skips an item holding a lone surrogate escape, high or low") {
  // Before: a lone high surrogate failed the whole page (so every retry of
  // the poller failed on it forever), a lone low one became 3 U+FFFD.
  const std::string body =
      Wrap(Item("1") + "," + Item("2", R"(,"text":"a\ud800b")") + "," +
               Item("3", R"(,"rawContent":{"k\udc00":1})") + "," +
               Item("4", R"(,"text":"\ud83d\ude80 ok")"),
           "4");
  Page page = MustParse(body);
  REQUIRE(page.notifications.size() == 2);
  CHECK(page.notifications[0].id == "1");
  CHECK(page.notifications[1].id == "4");
  CHECK(page.notifications[1].text == "\xF0\x9F\x9A\x80 ok");
  REQUIRE(page.skipped.size() == 2);
  CHECK(page.skipped[0].index == 1);
  CHECK(page.skipped[0].id == "2");
  CHECK(page.skipped[0].reason == "a lone surrogate escape \\ud800 at offset " +
                                      std::to_string(body.find("\\ud800")));
  CHECK(page.skipped[1].id == "3");
  CHECK(page.skipped[1].reason.rfind("a lone surrogate escape \\udc00", 0) ==
        0);
  CHECK(page.cursor == "4");
}

TEST_CASE(
    "ParsePage: a lone surrogate outside the items is U+FFFD, not an error") {
  Page page = MustParse(
      R"({"notifications":[],"cursor":"","ignored":"a\ud800\ud800\ude00b\udc00"})");
  CHECK(page.skipped.empty());
  // Within an id it is not an id: the page is not the contract.
  CHECK(PageError(Wrap(R"({"id":"a\ud800"})", "a")) ==
        "item 0: \"id\" must be 1 to 128 bytes of [A-Za-z0-9._:-]");
}

TEST_CASE("ParsePage skips the last item too, and the cursor stays its id") {
  Page page = MustParse(
      Wrap(Item("1") + "," + Item("2", R"(,"rawContent":[1e400])"), "2"));
  CHECK(page.notifications.size() == 1);
  REQUIRE(page.skipped.size() == 1);
  CHECK(page.skipped[0].id == "2");
  CHECK(page.cursor == "2");
  // Order and cursor checks still count skipped items.
  CHECK(PageError(Wrap(Item("2", R"(,"rawContent":[1e400])") + "," + Item("1"),
                       "1")) == "ids out of order at item 1 (1 <= 2)");
  CHECK(PageError(Wrap(Item("1") + "," + Item("2", R"(,"rawContent":[1e400])"),
                       "1")) == "cursor \"1\" is not the last id \"2\"");
}

TEST_CASE("ParsePage: no number in an item fails the page, whatever its size") {
  // Each either reads (kept) or is beyond a double (item skipped); some are
  // refused by RapidJSON's own reader before ours sees them (exponent or
  // integer part too big for its checks), which used to fail the page.
  const std::string digits400 = "1" + std::string(400, '0');
  struct Case {
    std::string number;
    bool skipped;
  };
  const std::vector<Case> cases = {
      {"1e400", true},
      {"-1e400", true},
      {"0e400", true},
      {"0.0e400", true},
      {digits400, true},
      {"-" + digits400, true},
      {digits400 + ".5", true},
      {"1e308", false},
      {"1.7976931348623157e308", false},
      {"10e308", true},
      {"0.001e310", false},
      {"1e-400", false},
      {"123456789012345678901234567890e280", true},
      {"0." + std::string(500, '0') + "1e500", false},
  };
  for (const Case& c : cases) {
    CAPTURE(c.number);
    const std::string body = Wrap(
        Item("1", ",\"rawContent\":{\"n\":" + c.number + "}") + "," + Item("2"),
        "2");
    Page page = MustParse(body);
    CHECK(page.skipped.size() == (c.skipped ? 1u : 0u));
    CHECK(page.notifications.size() == (c.skipped ? 1u : 2u));
    if (c.skipped && page.skipped.size() == 1) {
      CHECK(page.skipped[0].reason ==
            "a number beyond the range of a double (" + c.number.substr(0, 40) +
                (c.number.size() > 40 ? "..." : "") + ") at offset " +
                std::to_string(body.find(c.number)));
    }
  }
}

TEST_CASE("ParsePage drops rawContent while parsing unless asked to keep it") {
  const std::string body =
      Wrap(Item("1", R"(,"text":"t","rawContent":{"big":"xxxxxxxxxx"})"), "1");
  PageOptions options;
  options.keep_raw_content = false;
  Result<Page> page = ParsePage(body, options);
  REQUIRE(page.ok());
  CHECK_FALSE(page->notifications[0].raw_content.has_value());
  CHECK(page->notifications[0].text == "t");
  // A rawContent that is not even valid JSON still fails the page.
  CHECK_FALSE(
      ParsePage(Wrap(Item("1", R"(,"rawContent":{"a":})"), "1"), options).ok());
  options.keep_raw_content = true;
  CHECK(ParsePage(body, options)->notifications[0].raw_content ==
        R"({"big":"xxxxxxxxxx"})");
}

TEST_CASE("ParsePage skips an item above max_item_bytes, counted as kept") {
  const std::string big(5000, 'x');
  const std::string body =
      Wrap(Item("1") + "," + Item("2", R"(,"text":")" + big + R"(")") + "," +
               Item("3", R"(,"rawContent":")" + big + R"(")") + "," + Item("4"),
           "4");
  PageOptions options;
  options.max_item_bytes = 4096;
  options.keep_raw_content = false;
  Result<Page> page = ParsePage(body, options);
  REQUIRE(page.ok());
  // Item 3's size is counted without the rawContent it will not keep.
  std::vector<std::string> ids;
  for (const auto& n : page->notifications) ids.push_back(n.id);
  CHECK(ids == std::vector<std::string>{"1", "3", "4"});
  REQUIRE(page->skipped.size() == 1);
  CHECK(page->skipped[0].id == "2");
  CHECK(page->skipped[0].reason == "5005 bytes, above the cap of 4096");
  options.keep_raw_content = true;
  page = ParsePage(body, options);
  REQUIRE(page.ok());
  CHECK(page->skipped.size() == 2);
  CHECK(page->notifications.size() == 2);
}

TEST_CASE("ParsePage keeps rawContent of any JSON type, compact") {
  auto raw = [](const std::string& json) {
    return MustParse(Wrap(Item("1", ",\"rawContent\": " + json), "1"))
        .notifications[0]
        .raw_content;
  };
  CHECK(raw("\"just a string\"") == "\"just a string\"");
  CHECK(raw("42") == "42");
  CHECK(raw("-42") == "-42");
  CHECK(raw("18446744073709551615") == "18446744073709551615");
  CHECK(raw("-9223372036854775808") == "-9223372036854775808");
  CHECK(raw("1E2") == "100.0");
  CHECK(raw("0.1") == "0.1");
  CHECK(raw("true") == "true");
  CHECK(raw("[ 1 , { \"a\" : [ ] , \"b\" : { } } ]") ==
        "[1,{\"a\":[],\"b\":{}}]");
  CHECK(raw("{\"s\":\"\\u00e9\\/\\u0001\"}") == "{\"s\":\"\xC3\xA9/\\u0001\"}");
}

TEST_CASE("ParsePage reads numbers exactly where RapidJSON 1.1 did not") {
  // Found by fuzz/page_parser_fuzzer.cc (inputs in fuzz/regressions/): the
  // full-precision strtod of RapidJSON 1.1 has undefined behaviour on these
  // and read them as 3.5e218, -1.4e-194, 1.7e-18 and -3.1e-308.
  auto raw = [](const std::string& json) {
    return MustParse(Wrap(Item("1", ",\"rawContent\":" + json), "1"))
        .notifications[0]
        .raw_content;
  };
  CHECK(raw("[0E220]") == "[0.0]");
  CHECK(raw("[0.0000000000000000000000000]") == "[0.0]");
  CHECK(raw("[184467440737095516155]") == "[184467440737095500000.0]");
  // Too big for a double inside an item: that item is skipped (it used to
  // fail the page); outside items it still fails the page.
  const std::string too_big =
      Wrap(Item("1", ",\"rawContent\":[1000e306]"), "1");
  Page skipped = MustParse(too_big);
  CHECK(skipped.notifications.empty());
  REQUIRE(skipped.skipped.size() == 1);
  CHECK(skipped.skipped[0].reason ==
        "a number beyond the range of a double (1000e306) at offset " +
            std::to_string(too_big.find("1000e306")));
  const std::string root_too_big =
      R"({"notifications":[],"cursor":"","x":1000e306})";
  CHECK(PageError(root_too_big) ==
        "truncated or invalid JSON at offset " +
            std::to_string(root_too_big.find("1000e306")) +
            ": Number too big to be stored in double.");
  // Types and forms are RapidJSON's: integers that fit 64 bits stay
  // integers ("-0" is 0), the rest are doubles; underflow keeps the sign.
  CHECK(raw("[0,-0,0.0,-0.0,0e0,-0e0,-0.000e-999]") ==
        "[0,0,0.0,-0.0,0.0,-0.0,-0.0]");
  CHECK(raw("[18446744073709551616,-9223372036854775809]") ==
        "[18446744073709553000.0,-9223372036854776000.0]");
  CHECK(raw("[1e-400,-1e-400,5e-324,1.7976931348623157e308]") ==
        "[0.0,-0.0,5e-324,1.7976931348623157e308]");
  CHECK(raw("[0.1,1.5e-7,123456.789e3]") == "[0.1,1.5e-7,123456789.0]");
  // RapidJSON's own limit stays: a decimal exponent above 308.
  CHECK(PageError("[0e400]") ==
        "truncated or invalid JSON at offset 1: Number too big to be stored "
        "in double.");
}

TEST_CASE("ParsePage keeps a 1 MB rawContent intact") {
  std::string blob(1 << 20, 'x');
  for (size_t i = 0; i < blob.size(); i += 97) blob[i] = 'y';
  std::string raw = R"({"blob":")" + blob + R"(","n":[1,2,3]})";
  Page page = MustParse(Wrap(Item("1", ",\"rawContent\":" + raw), "1"));
  CHECK(page.notifications[0].raw_content == raw);
}

TEST_CASE("ParsePage handles deeply nested rawContent without recursion") {
  const int depth = 200000;
  std::string raw = std::string(depth, '[') + std::string(depth, ']');
  Page page = MustParse(Wrap(Item("1", ",\"rawContent\":" + raw), "1"));
  CHECK(page.notifications[0].raw_content == raw);
}

TEST_CASE("ParsePage ignores id and fields it does not know") {
  Page page = MustParse(Wrap(Item("1", R"(,"x":{"id":5},"y":[null])"), "1"));
  CHECK(page.notifications[0].id == "1");
}

TEST_CASE("ParsePage accepts ids up to 128 bytes of the id alphabet") {
  std::string id(128, 'a');
  CHECK(MustParse(Wrap(Item(id), id)).notifications[0].id == id);
  CHECK(
      MustParse(Wrap(Item("AZaz09._:-"), "AZaz09._:-")).notifications.size() ==
      1);
}

TEST_CASE("ParsePage orders ids shortlex: 9 before 10") {
  Page page = MustParse(Wrap(Item("9") + "," + Item("10"), "10"));
  CHECK(page.notifications[1].id == "10");
}

TEST_CASE("ParsePage rejects bad JSON with the offset") {
  CHECK(PageError("") ==
        "truncated or invalid JSON at offset 0: The document is empty.");
  CHECK(PageError("<html>502 Bad Gateway</html>") ==
        "truncated or invalid JSON at offset 0: Invalid value.");
  std::string truncated = std::string(kPage).substr(0, 200);
  CHECK(PageError(truncated).rfind("truncated or invalid JSON at offset ", 0) ==
        0);
  CHECK(PageError(R"({"notifications":[],"cursor":""} x)") ==
        "truncated or invalid JSON at offset 33: The document root must not "
        "be followed by other values.");
  CHECK(PageError("{\"notifications\":[],\"cursor\":\"\"}\0x"s) ==
        "truncated or invalid JSON at offset 32: The document root must not "
        "be followed by other values.");
  CHECK(PageError("{\"notifications\":[],\"cursor\":\"\"}\0"s) != "(ok)");
  CHECK(PageError("{\"notifications\":[\0],\"cursor\":\"\"}"s) != "(ok)");
}

TEST_CASE("ParsePage rejects a page that is not an object") {
  CHECK(PageError("[]") == "page must be a JSON object");
  CHECK(PageError("\"page\"") == "page must be a JSON object");
  CHECK(PageError("null") == "page must be a JSON object");
}

TEST_CASE("ParsePage rejects missing or mistyped top-level fields") {
  CHECK(PageError(R"({"cursor":""})") ==
        "missing required field \"notifications\"");
  CHECK(PageError(R"({"notifications":{},"cursor":""})") ==
        "\"notifications\" must be an array");
  CHECK(PageError(R"({"notifications":[]})") ==
        "missing required field \"cursor\"");
  CHECK(PageError(R"({"notifications":[],"cursor":null})") ==
        "\"cursor\" must be a string");
  CHECK(PageError(R"({"notifications":[],"cursor":"a b"})") ==
        "\"cursor\" must be \"\" or 1 to 128 bytes of [A-Za-z0-9._:-]");
  CHECK(PageError(R"({"notifications":[],"cursor":"","more":"yes"})") ==
        "\"more\" must be a boolean");
}

TEST_CASE("ParsePage rejects an item that is not an object") {
  CHECK(PageError(Wrap(Item("1") + ",[]", "1")) ==
        "item 1: must be a JSON object");
}

TEST_CASE("ParsePage rejects a missing, mistyped or invalid id") {
  CHECK(PageError(Wrap(Item("1") + R"(,{"service":"s"})", "1")) ==
        "item 1: missing required field \"id\"");
  CHECK(PageError(Wrap(R"({"id":5})", "5")) ==
        "item 0: \"id\" must be a string");
  CHECK(PageError(Wrap(R"({"id":null})", "")) ==
        "item 0: \"id\" must be a string");
  const std::string invalid =
      "item 0: \"id\" must be 1 to 128 bytes of [A-Za-z0-9._:-]";
  CHECK(PageError(Wrap(Item(""), "")) == invalid);
  CHECK(PageError(Wrap(Item("a b"), "a b")) == invalid);
  CHECK(PageError(Wrap(Item("a\\/b"), "a/b")) == invalid);
  CHECK(PageError(Wrap(Item("caf\\u00e9"), "x")) == invalid);
  CHECK(PageError(Wrap(Item("a\\u0000"), "x")) == invalid);
  std::string long_id(129, '1');
  CHECK(PageError(Wrap(Item(long_id), long_id)) == invalid);
}

TEST_CASE("ParsePage rejects fields of the wrong type, naming field and item") {
  CHECK(PageError(Wrap(Item("1") + "," + Item("2", R"(,"text":5)"), "2")) ==
        "item 1: \"text\" must be a string or null");
  CHECK(PageError(Wrap(Item("1", R"(,"time":true)"), "1")) ==
        "item 0: \"time\" must be a string or null");
  CHECK(PageError(Wrap(R"({"id":"1","service":{}})", "1")) ==
        "item 0: \"service\" must be a string or null");
  CHECK(PageError(Wrap(R"({"id":"1","group":["ops"]})", "1")) ==
        "item 0: \"group\" must be a string or null");
  CHECK(PageError(Wrap(R"({"id":"1","link":false})", "1")) ==
        "item 0: \"link\" must be a string or null");
}

TEST_CASE("ParsePage rejects ids out of order, naming the item") {
  CHECK(PageError(Wrap(Item("10") + "," + Item("9"), "9")) ==
        "ids out of order at item 1 (9 <= 10)");
  CHECK(PageError(Wrap(Item("1-2") + "," + Item("1-3") + "," + Item("1-1"),
                       "1-1")) == "ids out of order at item 2 (1-1 <= 1-3)");
}

TEST_CASE("ParsePage rejects duplicate ids") {
  CHECK(PageError(Wrap(Item("5") + "," + Item("5"), "5")) ==
        "ids out of order at item 1 (5 <= 5)");
}

TEST_CASE("ParsePage rejects a cursor that is not the last id") {
  CHECK(PageError(Wrap(Item("1") + "," + Item("2"), "1")) ==
        "cursor \"1\" is not the last id \"2\"");
  CHECK(PageError(Wrap(Item("1"), "")) ==
        "cursor \"\" is not the last id \"1\"");
}

TEST_CASE("ParsePage rejects a page with more than max_items items") {
  std::string items;
  for (int i = 1; i <= 10001; ++i) {
    if (i > 1) items += ',';
    items += R"({"id":")" + SeqId(i) + R"("})";
  }
  std::string body = Wrap(items, SeqId(10001));
  CHECK(PageError(body) ==
        "page has 10001 items, more than the limit of 10000");
  CHECK(MustParse(body, 10001).notifications.size() == 10001);
  CHECK(PageError(Wrap(Item("1") + "," + Item("2"), "2"), 1) ==
        "page has 2 items, more than the limit of 1");
}

TEST_CASE("ParseGateNotification reads a gate body") {
  Result<Notification> n = ParseGateNotification(
      R"({"service":"GitHub","group":"ops","type":"push",)"
      R"("text":"pushed","link":"https:\/\/github.com\/x",)"
      R"("rawContent":{"ref":"refs\/heads\/main"},)"
      R"("id":"ignored","time":"ignored"})",
      "Nasqueron");
  REQUIRE(n.ok());
  CHECK(n->id == "");
  CHECK(n->time == "");
  CHECK(n->service == "GitHub");
  CHECK(n->project == "Nasqueron");
  CHECK(n->group == "ops");
  CHECK(n->type == "push");
  CHECK(n->text == "pushed");
  CHECK(n->link == "https://github.com/x");
  CHECK(n->raw_content == R"({"ref":"refs/heads/main"})");
}

TEST_CASE("ParseGateNotification takes project from the body over default") {
  Result<Notification> n = ParseGateNotification(
      R"({"service":"s","project":"Wolfplex","group":"","type":"t"})",
      "Nasqueron");
  REQUIRE(n.ok());
  CHECK(n->project == "Wolfplex");
  CHECK(n->group == "");
  CHECK_FALSE(n->text.has_value());
  CHECK_FALSE(n->link.has_value());
  CHECK_FALSE(n->raw_content.has_value());

  n = ParseGateNotification(
      R"({"service":"s","project":null,"group":"g","type":"t","text":null})",
      "Nasqueron");
  REQUIRE(n.ok());
  CHECK(n->project == "Nasqueron");
}

TEST_CASE("ParseGateNotification names the problem") {
  CHECK(GateError("") ==
        "body is not valid JSON at offset 0: The document is empty.");
  CHECK(GateError("{\"service\":") ==
        "body is not valid JSON at offset 11: Invalid value.");
  CHECK(GateError("[]") == "body must be a JSON object");
  CHECK(GateError(R"({"group":"g","type":"t"})") ==
        "missing required field \"service\"");
  CHECK(GateError(R"({"service":"s","type":"t"})") ==
        "missing required field \"group\"");
  CHECK(GateError(R"({"service":"s","group":"g"})") ==
        "missing required field \"type\"");
  CHECK(GateError(R"({"service":"s","group":"g","type":5})") ==
        "\"type\" must be a string");
  CHECK(GateError(R"({"service":null,"group":"g","type":"t"})") ==
        "\"service\" must be a string");
  CHECK(GateError(R"({"service":"s","project":1,"group":"g","type":"t"})") ==
        "\"project\" must be a string");
  CHECK(GateError(R"({"service":"s","group":"g","type":"t","text":[]})") ==
        "\"text\" must be a string or null");
  CHECK(GateError(R"({"service":"s","group":"g","type":"t","link":1})") ==
        "\"link\" must be a string or null");
}

TEST_CASE("ParseNotificationArray reads gate objects with a project each") {
  Result<std::vector<Notification>> items = ParseNotificationArray(
      R"([{"service":"GitHub","project":"Nasqueron","group":"","type":"push",
           "text":"D\u00e9ploiement \ud83d\ude80","id":"x","time":"y"},
          {"service":"Phabricator","project":"Nasqueron","group":"orgz",
           "type":"TASK","text":"created T1","link":"","rawContent":null}])");
  REQUIRE(items.ok());
  REQUIRE(items->size() == 2);
  CHECK((*items)[0].id == "");
  CHECK((*items)[0].time == "");
  CHECK((*items)[0].text == "D\xC3\xA9ploiement \xF0\x9F\x9A\x80");
  CHECK((*items)[1].link == "");
  CHECK_FALSE((*items)[1].raw_content.has_value());
  CHECK(ParseNotificationArray("[]")->empty());
}

TEST_CASE("ParseNotificationArray names the item in errors") {
  auto error = [](std::string_view body) {
    Result<std::vector<Notification>> r = ParseNotificationArray(body);
    return r.ok() ? "(ok)" : r.status().message();
  };
  CHECK(error(R"([{"service":"s","project":"p","group":"g","type":"t"},
                  {"service":"s","group":"g","type":"t"}])") ==
        "item 1: missing required field \"project\"");
  CHECK(error(R"([{"service":"s","project":null,"group":"g","type":"t"}])") ==
        "item 0: \"project\" must be a string");
  CHECK(error("[1]") == "item 0: must be a JSON object");
  CHECK(error("{}") == "top level must be a JSON array");
  CHECK(error("[") == "not valid JSON at offset 1: Invalid value.");
}

TEST_CASE("ParseNotificationArray reads tests/fixtures/notifications.json") {
  std::ifstream file(NB_FIXTURES_DIR "/notifications.json", std::ios::binary);
  REQUIRE_MESSAGE(file.good(), "tests/fixtures/notifications.json is missing");
  std::stringstream text;
  text << file.rdbuf();
  Result<std::vector<Notification>> items = ParseNotificationArray(text.str());
  if (!items.ok()) INFO("error: " << items.status().message());
  REQUIRE(items.ok());
  CHECK_FALSE(items->empty());
  for (const Notification& n : *items) {
    CHECK(n.project.has_value());
    CHECK(n.service.has_value());
    CHECK(n.group.has_value());
    CHECK(n.type.has_value());
    CHECK(SanitizeUtf8(n.text.value_or("")) == n.text.value_or(""));
  }
}

TEST_CASE("ParseErrorBody formats error and message") {
  CHECK(
      ParseErrorBody(
          R"({"error":"gone","message":"cursor 1-1 is no longer retained"})") ==
      "gone: cursor 1-1 is no longer retained");
  CHECK(ParseErrorBody(R"({"error":"bad_request"})") == "bad_request");
  CHECK(ParseErrorBody(R"({"error":"x","message":5})") == "x");
  CHECK(ParseErrorBody(R"({"error":"x","message":"a\nb\r\u0000c"})") ==
        "x: a b  c");
}

TEST_CASE("ParseErrorBody returns empty for other shapes") {
  CHECK(ParseErrorBody("") == "");
  CHECK(ParseErrorBody("<html>502</html>") == "");
  CHECK(ParseErrorBody("[]") == "");
  CHECK(ParseErrorBody(R"({"message":"m"})") == "");
  CHECK(ParseErrorBody(R"({"error":5,"message":"m"})") == "");
}

TEST_CASE("ParseErrorBody never returns more than 200 bytes") {
  std::string message(300, 'm');
  CHECK(ParseErrorBody(R"({"error":"e","message":")" + message + "\"}") ==
        "e: " + std::string(197, 'm'));
  // Cut on a character boundary: "e: " + 98 x "é" is 199 bytes, the 99th
  // "é" would end at byte 201.
  std::string accents;
  for (int i = 0; i < 150; ++i) accents += "\\u00e9";
  std::string out =
      ParseErrorBody(R"({"error":"e","message":")" + accents + "\"}");
  CHECK(out.size() == 199);
  CHECK(SanitizeUtf8(out) == out);
}

TEST_CASE("SanitizeUtf8 keeps valid UTF-8 unchanged") {
  CHECK(SanitizeUtf8("") == "");
  CHECK(SanitizeUtf8("plain ASCII\0\r\n"s) == "plain ASCII\0\r\n"s);
  const std::string valid =
      "\xC2\x80 \xDF\xBF \xE0\xA0\x80 \xED\x9F\xBF \xEE\x80\x80 \xEF\xBF\xBF "
      "\xF0\x90\x80\x80 \xF4\x8F\xBF\xBF \xC3\xA9\xF0\x9F\x9A\x80";
  CHECK(SanitizeUtf8(valid) == valid);
}

TEST_CASE("SanitizeUtf8 replaces each maximal ill-formed subsequence") {
  CHECK(SanitizeUtf8("a\x80z") == "a" + kFffd + "z");
  CHECK(SanitizeUtf8("\xFF\xFE") == kFffd + kFffd);
  CHECK(SanitizeUtf8("\xC0\x80") == kFffd + kFffd);              // Overlong.
  CHECK(SanitizeUtf8("\xC1\xBF") == kFffd + kFffd);              // Overlong.
  CHECK(SanitizeUtf8("\xE0\x80\x80") == kFffd + kFffd + kFffd);  // Overlong.
  CHECK(SanitizeUtf8("\xED\xA0\x80") == kFffd + kFffd + kFffd);  // Surrogate.
  CHECK(SanitizeUtf8("\xF4\x90\x80\x80") ==
        kFffd + kFffd + kFffd + kFffd);  // Above U+10FFFF.
  CHECK(SanitizeUtf8("\xF5\x80") == kFffd + kFffd);
  // A truncated sequence is one U+FFFD, and the next byte is kept.
  CHECK(SanitizeUtf8("\xE2\x82") == kFffd);
  CHECK(SanitizeUtf8("\xE2\x82z") == kFffd + "z");
  CHECK(SanitizeUtf8("\xF0\x9F\x9A") == kFffd);
  CHECK(SanitizeUtf8("\xF0\x9F\x9A\xC3\xA9") == kFffd + "\xC3\xA9");
  CHECK(SanitizeUtf8("caf\xE9") == "caf" + kFffd);  // Latin-1.
}

TEST_SUITE_END();

TEST_CASE(
    "stream notification: ParseStreamNotification reads the bridge's notification data") {
  Result<Notification> n = ParseStreamNotification(
      R"({"id":"1-0000000042","time":"2026-11-28T12:00:00.123Z","service":"GitHub",)"
      R"("project":"Nasqueron","group":"","type":"push","text":"a\"b\n\u00e9\ud83d\ude80",)"
      R"("link":null,"rawContent":{"deep":[[[{"x":1}]]],"text":5},"future":[1,2]})");
  REQUIRE(n.ok());
  CHECK(n->id == "1-0000000042");
  CHECK(n->time == "2026-11-28T12:00:00.123Z");
  CHECK(n->service == "GitHub");
  CHECK(n->project == "Nasqueron");
  CHECK(n->group == "");
  CHECK(n->type == "push");
  CHECK(n->text == "a\"b\n\xC3\xA9\xF0\x9F\x9A\x80");
  CHECK_FALSE(n->link.has_value());
  CHECK_FALSE(n->raw_content.has_value());  // Never printed: not kept.

  Result<Notification> empty = ParseStreamNotification(" {} \n");
  REQUIRE(empty.ok());
  CHECK(empty->id.empty());
  CHECK(empty->time.empty());
  CHECK_FALSE(empty->text.has_value());
}

TEST_CASE("stream notification: ParseStreamNotification survives any nesting in rawContent") {
  std::string deep = R"({"text":"ok","rawContent":)" +
                     std::string(100000, '[') + std::string(100000, ']') + "}";
  Result<Notification> n = ParseStreamNotification(deep);
  REQUIRE(n.ok());
  CHECK(n->text == "ok");
}

TEST_CASE(
    "stream notification: ParseStreamNotification rejects what is not a notification object") {
  auto error = [](std::string_view data) {
    Result<Notification> n = ParseStreamNotification(data);
    return n.ok() ? std::string("ok") : n.status().message();
  };
  CHECK(error("[]") == "not a JSON object");
  CHECK(error("\"text\"") == "not a JSON object");
  CHECK(error("null") == "not a JSON object");
  CHECK(error(R"({"text":5})") == "\"text\" must be a string or null");
  CHECK(error(R"({"link":{"a":1}})") == "\"link\" must be a string or null");
  CHECK(error(R"({"id":["x"]})") == "\"id\" must be a string or null");
  CHECK(error("") == "not valid JSON at offset 0: The document is empty.");
  CHECK(
      error(R"({"text":"a"} x)") ==
      "not valid JSON at offset 13: The document root must not be followed by "
      "other values.");
  CHECK(error(R"({"text":"a")").rfind("not valid JSON at offset 11: ", 0) == 0);
}

TEST_CASE("stream notification: a reset's message, else its reason, else \"\"") {
  CHECK(ParseResetMessage(
            R"({"reason":"gap-too-large","message":"missed 20000"})") ==
        "missed 20000");
  CHECK(ParseResetMessage(R"({"reason":"upstream-reset"})") ==
        "upstream-reset");
  CHECK(ParseResetMessage(R"({"reason":"upstream-reset","message":""})") ==
        "upstream-reset");
  CHECK(ParseResetMessage(R"({"message":"two\nlines"})") == "two\nlines");
  CHECK(ParseResetMessage(R"({"message":5})") == "");
  CHECK(ParseResetMessage("not json") == "");
  CHECK(ParseResetMessage("[]") == "");
}

}  // namespace
}  // namespace notifications

namespace notifications {
namespace {

TEST_CASE("ParseAmqpNotification reads Nasqueron's json_encode body") {
  // As PHP's json_encode writes the Notifications Center's notification:
  // member order service, project, group, rawContent, type, text, link.
  Result<Notification> n = ParseAmqpNotification(
      R"({"service":"Jenkins","project":"Nasqueron","group":"ci","rawContent":)"
      R"({"build":{"url":"job\/x\/1\/"}},"type":"completed.success",)"
      R"("text":"Build #1 caf\u00e9 \ud83d\ude00","link":"https:\/\/ci.nasqueron.org\/job\/x\/1\/"})");
  REQUIRE(n.ok());
  CHECK(n->id.empty());
  CHECK(n->time.empty());
  CHECK(n->service == "Jenkins");
  CHECK(n->group == "ci");
  CHECK(n->type == "completed.success");
  CHECK(n->text == "Build #1 caf\xC3\xA9 \xF0\x9F\x98\x80");
  CHECK(n->link == "https://ci.nasqueron.org/job/x/1/");
  CHECK(n->raw_content == R"({"build":{"url":"job/x/1/"}})");
  CHECK(n->RoutingKey() == "nasqueron.ci.jenkins.completed.success");

  n = ParseAmqpNotification(
      R"({"service":"Notifications","project":"Nasqueron","group":"",)"
      R"("rawContent":null,"type":"native","text":null,"link":null})");
  REQUIRE(n.ok());
  CHECK_FALSE(n->text.has_value());
  CHECK_FALSE(n->link.has_value());
  CHECK_FALSE(n->raw_content.has_value());
}

TEST_CASE("ParseAmqpNotification refuses what is not a notification") {
  CHECK(ParseAmqpNotification("").status().message().find(
            "body is not valid JSON") == 0);
  CHECK(ParseAmqpNotification("[]").status().message() ==
        "body must be a JSON object");
  CHECK(ParseAmqpNotification(
            R"({"service":"GitHub","group":"ops","type":"push"})")
            .status()
            .message() == "missing required field \"project\"");
  CHECK(ParseAmqpNotification(
            R"({"service":"GitHub","project":"N","group":"ops","type":1})")
            .status()
            .message() == "\"type\" must be a string");
  CHECK_FALSE(
      ParseAmqpNotification(
          R"({"service":"GitHub","project":"N","group":"ops","type":"push"} x)")
          .ok());
}

}  // namespace
}  // namespace notifications

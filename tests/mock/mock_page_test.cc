// The mock's page request and answers, without a server.
#include "mock_page.h"

#include <doctest/doctest.h>

#include <map>
#include <string>

namespace notifications {
namespace {

using Params = std::multimap<std::string, std::string>;

// The message of a refused request, or "ok".
std::string Error(const std::string& target, const Params& params) {
  Result<MockPageRequest> r = ParsePageRequest(target, params, 100, 1000);
  return r.ok() ? "ok" : r.status().message();
}

TEST_CASE("mock page: a request's after, limit and wait, with defaults") {
  Result<MockPageRequest> none = ParsePageRequest("/n", {}, 100, 1000);
  REQUIRE(none.ok());
  CHECK_FALSE(none->after.has_value());
  CHECK(none->limit == 100);
  CHECK(none->wait == std::chrono::seconds(0));
  Result<MockPageRequest> all = ParsePageRequest(
      "/n?after=1-0000000002&limit=1000&wait=300",
      {{"after", "1-0000000002"}, {"limit", "1000"}, {"wait", "300"}}, 100,
      1000);
  REQUIRE(all.ok());
  CHECK(all->after == "1-0000000002");
  CHECK(all->limit == 1000);
  CHECK(all->wait == std::chrono::seconds(300));
  CHECK(Error("/n?wait=0", {{"wait", "0"}}) == "ok");
}

TEST_CASE("mock page: bad parameters are refused with the 400 message") {
  CHECK(Error("/n?limit=0", {{"limit", "0"}}) ==
        "limit must be an integer from 1 to 1000, got \"0\"");
  CHECK(Error("/n?limit=1001", {{"limit", "1001"}}) ==
        "limit must be an integer from 1 to 1000, got \"1001\"");
  CHECK(Error("/n?limit=+5", {{"limit", "+5"}}) ==
        "limit must be an integer from 1 to 1000, got \"+5\"");
  CHECK(Error("/n?after=a%20b", {{"after", "a b"}}) ==
        "after must be a notification id (1 to 128 characters among A-Z a-z "
        "0-9 . _ : -), got \"a b\"");
  CHECK(Error("/n?wait=301", {{"wait", "301"}}) ==
        "wait must be a whole number of seconds from 0 to 300, got \"301\"");
  CHECK(Error("/n?wait=00", {{"wait", "00"}}) ==
        "wait must be a whole number of seconds from 0 to 300, got \"00\"");
  // Repeats, including those the server's decoded parameters drop.
  CHECK(Error("/n?after=x&after=x", {{"after", "x"}}) ==
        "parameter after appears 2 times; give it at most once");
  CHECK(Error("/n?%6Cimit=1&limit=2", {{"limit", "1"}, {"limit", "2"}}) ==
        "parameter limit appears 2 times; give it at most once");
}

TEST_CASE("mock page: query parameters are counted after decoding") {
  CHECK(CountQueryParameter("/n", "after") == 0);
  CHECK(CountQueryParameter("/n?after=1&after=2&afterx=3", "after") == 2);
  CHECK(CountQueryParameter("/n?a%66ter&after", "after") == 2);
  CHECK(CountQueryParameter("/n?wa+it=1", "wa it") == 1);
  CHECK(CountQueryParameter("/n?%zz=1", "%zz") == 1);
}

TEST_CASE("mock page: answers and quoted peer values") {
  Notification n;
  n.id = "1-0000000001";
  n.time = "2026-11-28T12:00:00.000Z";
  n.project = "Nasqueron";
  n.group = "ops";
  n.service = "GitHub";
  n.type = "push";
  CHECK(GateAnswerToJson(n) ==
        R"({"id":"1-0000000001","time":"2026-11-28T12:00:00.000Z",)"
        R"("routingKey":"nasqueron.ops.github.push"})");
  CHECK(std::string(ErrorCodeFor(400)) == "bad_request");
  CHECK(std::string(ErrorCodeFor(413)) == "payload_too_large");
  CHECK(std::string(ErrorCodeFor(503)) == "internal");
  CHECK(std::string(ErrorCodeFor(418)) == "error");
  CHECK(Quote("ok value") == "\"ok value\"");
  CHECK(Quote("a\"b\x1b[31m\n\xC3\xA9") == "\"a?b?[31m???\"");
  CHECK(Quote(std::string(70, 'x')) == "\"" + std::string(64, 'x') + "...\"");
}

}  // namespace
}  // namespace notifications

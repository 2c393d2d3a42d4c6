#include "stream_request.h"

#include <doctest/doctest.h>

#include <map>
#include <string>

namespace notifications {
namespace {

using Params = std::multimap<std::string, std::string>;

std::string ErrorOf(const Params& params, const std::string& header = "",
                    size_t capacity = 1000) {
  Result<StreamRequest> r = ParseStreamRequest(params, header, capacity);
  return r.ok() ? "" : r.status().message();
}

Notification Make(const char* service) {
  Notification n;
  n.id = "1-1";
  n.project = "Nasqueron";
  n.group = "ops";
  n.service = service;
  n.type = "push";
  return n;
}

TEST_CASE(
    "stream request: no parameter is a fresh stream, no backlog, no filter") {
  Result<StreamRequest> r = ParseStreamRequest({}, "", 1000);
  REQUIRE(r.ok());
  CHECK(r->backlog == 0);
  CHECK_FALSE(r->last_event_id.has_value());
  CHECK(r->filter.MatchesAll());
}

TEST_CASE("stream request: backlog is a whole number clamped to the history") {
  CHECK(ParseStreamRequest({{"backlog", "50"}}, "", 1000)->backlog == 50);
  CHECK(ParseStreamRequest({{"backlog", "0"}}, "", 1000)->backlog == 0);
  CHECK(ParseStreamRequest({{"backlog", "007"}}, "", 1000)->backlog == 7);
  CHECK(ParseStreamRequest({{"backlog", "999999999"}}, "", 1000)->backlog ==
        1000);
  CHECK(ParseStreamRequest({{"backlog", "5"}}, "", 0)->backlog == 0);
  const std::string expected =
      "backlog must be a whole number, e.g. backlog=50";
  for (const char* bad :
       {"", "abc", "-1", "+1", " 1", "1 ", "1.5", "0x10", "1000000000", "٣"}) {
    CAPTURE(bad);
    CHECK(ErrorOf({{"backlog", bad}}) == expected);
  }
}

TEST_CASE("stream request: backlog and lastEventId may appear once") {
  const std::string expected = "backlog and lastEventId may appear once";
  CHECK(ErrorOf({{"backlog", "1"}, {"backlog", "2"}}) == expected);
  CHECK(ErrorOf({{"backlog", "1"}, {"backlog", "1"}}) == expected);
  CHECK(ErrorOf({{"lastEventId", "1"}, {"lastEventId", "2"}}) == expected);
  // Checked first, even when a value is also malformed.
  CHECK(
      ErrorOf({{"backlog", "x"}, {"lastEventId", "a"}, {"lastEventId", "b"}}) ==
      expected);
}

TEST_CASE("stream request: the Last-Event-ID header wins over lastEventId") {
  Result<StreamRequest> r =
      ParseStreamRequest({{"lastEventId", "1-0001"}}, "1-0002", 1000);
  REQUIRE(r.ok());
  CHECK(r->last_event_id == std::optional<std::string>("1-0002"));
  r = ParseStreamRequest({{"lastEventId", "1-0001"}}, "", 1000);
  REQUIRE(r.ok());
  CHECK(r->last_event_id == std::optional<std::string>("1-0001"));
  // The parameter is not even looked at when the header is given.
  CHECK(ParseStreamRequest({{"lastEventId", "bad id"}}, "1-0002", 1000).ok());
}

TEST_CASE("stream request: an empty id is a fresh connection") {
  Result<StreamRequest> r = ParseStreamRequest({{"lastEventId", ""}}, "", 1000);
  REQUIRE(r.ok());
  CHECK_FALSE(r->last_event_id.has_value());
}

TEST_CASE("stream request: an invalid resume id is an error") {
  const std::string expected =
      "Last-Event-ID must be 1-128 characters of [A-Za-z0-9._:-]";
  CHECK(ErrorOf({}, std::string(129, 'a')) == expected);
  CHECK(ErrorOf({}, std::string(128, 'a')).empty());
  CHECK(ErrorOf({{"lastEventId", "bad id"}}) == expected);
  CHECK(ErrorOf({{"lastEventId", std::string("a\0b", 3)}}) == expected);
  CHECK(ErrorOf({}, "a\nb") == expected);
  CHECK(ErrorOf({}, "é") == expected);
}

TEST_CASE("stream request: filters come from the same parameters") {
  Result<StreamRequest> r = ParseStreamRequest(
      {{"service", "GitHub"}, {"key", "nasqueron.#"}, {"access_token", "x"}},
      "", 1000);
  REQUIRE(r.ok());
  CHECK(r->filter.Matches(Make("github")));
  CHECK_FALSE(r->filter.Matches(Make("Jenkins")));
  CHECK(ErrorOf({{"key", "a.b*"}}).rfind("key: ", 0) == 0);
  CHECK(ErrorOf({{"key", ""}}) == "key: empty topic pattern");
  CHECK(ErrorOf({{"project", std::string(257, 'a')}}) ==
        "project: value longer than 256 bytes");
}

TEST_CASE(
    "stream request: rules are checked in order, the first failure wins") {
  CHECK(ErrorOf({{"backlog", "x"}, {"key", ""}}, "bad id") ==
        "backlog must be a whole number, e.g. backlog=50");
  CHECK(ErrorOf({{"key", ""}}, "bad id") ==
        "Last-Event-ID must be 1-128 characters of [A-Za-z0-9._:-]");
}

}  // namespace
}  // namespace notifications

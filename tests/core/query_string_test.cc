#include "query_string.h"

#include <doctest/doctest.h>

namespace notifications {
namespace {

using namespace std::string_literals;

TEST_CASE("query string: names and values, in order, repeats kept") {
  QueryParams p =
      ParseQueryString("backlog=5&service=GitHub&service=Jenkins&backlog=5");
  CHECK(p.size() == 4);
  CHECK(p.count("backlog") == 2);
  auto range = p.equal_range("service");
  REQUIRE(std::distance(range.first, range.second) == 2);
  CHECK(range.first->second == "GitHub");
  CHECK(std::next(range.first)->second == "Jenkins");
}

TEST_CASE(
    "query string: empty pieces are skipped, a name without '=' has an empty "
    "value") {
  QueryParams p = ParseQueryString("&&a&b=&=c&");
  CHECK(p == QueryParams{{"a", ""}, {"b", ""}, {"", "c"}});
  CHECK(ParseQueryString("").empty());
  CHECK(ParseQueryString("&").empty());
  // Only the first '=' separates.
  CHECK(ParseQueryString("k=a=b") == QueryParams{{"k", "a=b"}});
}

TEST_CASE(
    "query string: '+' is a space, %XX a byte, a stray '%' stays (WHATWG)") {
  CHECK(ParseQueryString("key=nasqueron.ops.%23") ==
        QueryParams{{"key", "nasqueron.ops.#"}});
  CHECK(ParseQueryString("t=a+b%2Bc") == QueryParams{{"t", "a b+c"}});
  CHECK(ParseQueryString("t=100%&u=%zz&v=%4") ==
        QueryParams{{"t", "100%"}, {"u", "%zz"}, {"v", "%4"}});
  CHECK(ParseQueryString("t=%00%ff%FE") == QueryParams{{"t", "\0\xff\xfe"s}});
  CHECK(ParseQueryString("%62acklog=1") == QueryParams{{"backlog", "1"}});
  CHECK(FormDecode("%2541") == "%41");  // Decoded once only.
}

TEST_CASE("query string: at most max_params parameters are read") {
  bool truncated = true;
  CHECK(ParseQueryString("a=1&b=2", 2, &truncated).size() == 2);
  CHECK_FALSE(truncated);
  CHECK(ParseQueryString("a=1&b=2&&c=3", 2, &truncated).size() == 2);
  CHECK(truncated);
  std::string many;
  for (int i = 0; i < 1000; ++i) many += "a&";
  CHECK(ParseQueryString(many, 256, &truncated).size() == 256);
  CHECK(truncated);
}

}  // namespace
}  // namespace notifications

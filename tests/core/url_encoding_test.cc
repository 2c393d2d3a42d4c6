#include "url_encoding.h"

#include <doctest/doctest.h>

#include <string>

namespace notifications {
namespace {

TEST_CASE("url encoding: unreserved bytes stay, every other byte is %XX") {
  CHECK(PercentEncode("") == "");
  CHECK(PercentEncode("AZaz09-._~") == "AZaz09-._~");
  CHECK(PercentEncode("nasqueron.ops.#") == "nasqueron.ops.%23");
  CHECK(PercentEncode("a b&c=d/e?f+g%") == "a%20b%26c%3Dd%2Fe%3Ff%2Bg%25");
  // UTF-8 bytes one by one, upper-case hex.
  CHECK(PercentEncode("\xC3\xA9") == "%C3%A9");
  CHECK(PercentEncode(std::string("\0\x7F\xFF", 3)) == "%00%7F%FF");
}

TEST_CASE("url encoding: query parameters are joined with '&'") {
  std::string query;
  AppendQueryParameter(query, "project", "Nasqueron");
  CHECK(query == "project=Nasqueron");
  AppendQueryParameter(query, "key", "*.ci.#");
  CHECK(query == "project=Nasqueron&key=%2A.ci.%23");
  AppendQueryParameter(query, "group", "");
  CHECK(query == "project=Nasqueron&key=%2A.ci.%23&group=");
}

}  // namespace
}  // namespace notifications

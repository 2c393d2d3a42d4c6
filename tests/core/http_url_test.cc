#include "http_url.h"

#include <doctest/doctest.h>

#include <string>

namespace notifications {
namespace {

std::string Error(std::string_view url) {
  Result<HttpUrl> r = ParseHttpUrl(url, "http://x/");
  return r.ok() ? "ok" : r.status().message();
}

TEST_CASE("http url: the parts of an http(s) URL") {
  Result<HttpUrl> u =
      ParseHttpUrl("HTTPS://bot:s3cr%40t@api.example:8443/delivery?x#y", "");
  REQUIRE(u.ok());
  CHECK(u->scheme == "https");
  CHECK(u->userinfo == "bot:s3cr%40t");
  CHECK(u->host == "api.example");
  CHECK(u->port == 8443);
  CHECK(u->path == "/delivery");
  CHECK(u->has_query);
  CHECK(u->has_fragment);
  Result<HttpUrl> v = ParseHttpUrl("http://[::1]/", "");
  REQUIRE(v.ok());
  CHECK(v->host == "[::1]");
  CHECK(v->port == 0);
  CHECK_FALSE(v->has_query);
  CHECK_FALSE(v->has_fragment);
  CHECK(ParseHttpUrl("http://h", "")->path == "");
}

TEST_CASE("http url: what is refused, and why") {
  CHECK(Error("ftp://h/") ==
        "it must start with http:// or https://, e.g. http://x/");
  CHECK(Error("h:80/x") ==
        "it must start with http:// or https://, e.g. http://x/");
  CHECK(Error("http://h/a b") ==
        "spaces, control characters and non-ASCII must be percent-encoded");
  CHECK(Error("http://h/\x1b") ==
        "spaces, control characters and non-ASCII must be percent-encoded");
  CHECK(Error("http:///x") == "no host");
  CHECK(Error("http://user@/x") == "no host");
  CHECK(Error("http://h:/x") == "empty port");
  CHECK(Error("http://h:0/") == "the port must be a number from 1 to 65535");
  CHECK(Error("http://h:65536/") ==
        "the port must be a number from 1 to 65535");
  CHECK(Error("http://h:99999999999999999999/") ==
        "the port must be a number from 1 to 65535");
  CHECK(Error("http://h:8a/") == "the port must be a number from 1 to 65535");
  CHECK(Error("http://[::1/") == "unclosed '[' in the host");
  CHECK(Error("http://[::1]x/") == "unexpected characters after the IPv6 host");
}

TEST_CASE("http url: credentials are redacted wherever a URL stands") {
  CHECK(RedactUserinfo("https://bot:s3cret@api.example/x") ==
        "https://api.example/x");
  CHECK(RedactUserinfo("http://a:b@c@h:81?q") == "http://h:81?q");
  CHECK(RedactUserinfo("poll http://u:p@h/d failed; retry http://u:p@h") ==
        "poll http://h/d failed; retry http://h");
  CHECK(RedactUserinfo("\"http://u:p@h\" and 'x'") == "\"http://h\" and 'x'");
  CHECK(RedactUserinfo("no url here, a@b") == "no url here, a@b");
  CHECK(RedactUserinfo("http://h/path@x") == "http://h/path@x");
  CHECK(RedactUserinfo("") == "");
  CHECK(RedactUserinfo("://@") == "://");
}

}  // namespace
}  // namespace notifications

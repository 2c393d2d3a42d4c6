#include "http_request.h"

#include <doctest/doctest.h>

#include <random>
#include <string>

namespace notifications {
namespace {

using namespace std::string_literals;

struct Parsed {
  HttpRequestParser::State state;
  size_t used = 0;
  HttpRequestHead head;
  int status = 0;
  std::string message;
};

// Feeds `bytes` in pieces of `piece` bytes (0 = whole).
Parsed Parse(const std::string& bytes, size_t piece = 0,
             HttpRequestLimits limits = {}) {
  HttpRequestParser p(limits);
  Parsed out;
  size_t step = piece == 0 ? bytes.size() : piece;
  for (size_t at = 0;
       at < bytes.size() && p.state() == HttpRequestParser::State::kNeedMore;
       at += step) {
    std::string_view chunk = std::string_view(bytes).substr(at, step);
    size_t used = p.Feed(chunk);
    out.used += used;
    if (used < chunk.size()) break;
  }
  out.state = p.state();
  out.status = p.error_status();
  out.message = p.error_message();
  if (p.state() == HttpRequestParser::State::kDone) out.head = p.head();
  return out;
}

int StatusOf(const std::string& bytes, HttpRequestLimits limits = {}) {
  Parsed p = Parse(bytes, 0, limits);
  if (p.state == HttpRequestParser::State::kDone) return 0;
  if (p.state == HttpRequestParser::State::kNeedMore) return -1;
  return p.status;
}

const char* kSimple =
    "GET /events?backlog=5&key=nasqueron.%23 HTTP/1.1\r\n"
    "Host: api.nasqueron.org\r\n"
    "Accept: text/event-stream\r\n"
    "Last-Event-ID:   1-0042 \t\r\n"
    "\r\n";

TEST_CASE("http request: a simple GET, fields lowercased and trimmed") {
  Parsed p = Parse(kSimple);
  REQUIRE(p.state == HttpRequestParser::State::kDone);
  CHECK(p.used == std::string(kSimple).size());
  CHECK(p.head.method == "GET");
  CHECK(p.head.target == "/events?backlog=5&key=nasqueron.%23");
  CHECK(p.head.path == "/events");
  CHECK(p.head.query == "backlog=5&key=nasqueron.%23");
  CHECK(p.head.minor_version == 1);
  CHECK(p.head.keep_alive);
  CHECK(p.head.body == HttpRequestHead::Body::kNone);
  REQUIRE(p.head.fields.size() == 3);
  CHECK(p.head.fields[0] == std::make_pair("host"s, "api.nasqueron.org"s));
  CHECK(*p.head.Field("last-event-id") == "1-0042");
  CHECK(p.head.Field("cookie") == nullptr);
  CHECK(p.head.FieldCount("accept") == 1);
}

TEST_CASE(
    "http request: the same head whole, byte by byte and in random pieces") {
  std::string bytes = kSimple;
  Parsed whole = Parse(bytes);
  for (int p : {1, 2, 3, 7, 13}) {
    size_t piece = static_cast<size_t>(p);
    CAPTURE(piece);
    Parsed got = Parse(bytes, piece);
    REQUIRE(got.state == HttpRequestParser::State::kDone);
    CHECK(got.used == bytes.size());
    CHECK(got.head.fields == whole.head.fields);
    CHECK(got.head.target == whole.head.target);
  }
}

TEST_CASE(
    "http request: bytes after the head are left for the body or the next "
    "request") {
  std::string two =
      "GET /status HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: "
      "x\r\n\r\n";
  HttpRequestParser p;
  size_t used = p.Feed(two);
  REQUIRE(p.state() == HttpRequestParser::State::kDone);
  CHECK(p.head().path == "/status");
  CHECK(two.substr(used).rfind("GET /healthz", 0) == 0);
  // Feeding more after kDone uses nothing.
  CHECK(p.Feed("more") == 0);
  p.Reset();
  CHECK(p.Feed(std::string_view(two).substr(used)) == two.size() - used);
  REQUIRE(p.state() == HttpRequestParser::State::kDone);
  CHECK(p.head().path == "/healthz");
}

TEST_CASE(
    "http request: lone LF line ends and leading empty lines are accepted") {
  Parsed p = Parse("\r\n\nGET / HTTP/1.1\nHost: x\n\n");
  REQUIRE(p.state == HttpRequestParser::State::kDone);
  CHECK(p.head.path == "/");
}

TEST_CASE("http request: incomplete heads need more") {
  CHECK(StatusOf("GET / HTTP/1.1\r\nHost: x\r\n") == -1);
  CHECK(StatusOf("GET / HTT") == -1);
  CHECK(StatusOf("") == -1);
}

TEST_CASE("http request: malformed request lines are 400") {
  for (const char* bad : {
           "garbage\r\n\r\n",
           "GET /\r\nHost: x\r\n\r\n",  // HTTP/0.9: no version.
           "GET  / HTTP/1.1\r\nHost: x\r\n\r\n",
           "GET / HTTP/1.1 \r\nHost: x\r\n\r\n",
           "GET / http/1.1\r\nHost: x\r\n\r\n",
           "GET / HTTP/1.10\r\nHost: x\r\n\r\n",
           "G(T / HTTP/1.1\r\nHost: x\r\n\r\n",
           "GET events HTTP/1.1\r\nHost: x\r\n\r\n",
           "GET /a b HTTP/1.1\r\nHost: x\r\n\r\n",
           "GET /caf\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n",
           "GET /a\x01 HTTP/1.1\r\nHost: x\r\n\r\n",
           "GET /#frag HTTP/1.1\r\nHost: x\r\n\r\n",
           "GET /%zz HTTP/1.1\r\nHost: x\r\n\r\n",
           "GET /%2 HTTP/1.1\r\nHost: x\r\n\r\n",
           "GET * HTTP/1.1\r\nHost: x\r\n\r\n",
           "GET ftp://x/ HTTP/1.1\r\nHost: x\r\n\r\n",
           "GET http:///a HTTP/1.1\r\nHost: x\r\n\r\n",
           "GET / HTTP/1.1\rHost: x\r\n\r\n",
       }) {
    CAPTURE(bad);
    CHECK(StatusOf(bad) == 400);
  }
}

TEST_CASE("http request: versions other than 1.0 and 1.1 are 505") {
  CHECK(StatusOf("GET / HTTP/2.0\r\nHost: x\r\n\r\n") == 505);
  CHECK(StatusOf("GET / HTTP/1.2\r\nHost: x\r\n\r\n") == 505);
  CHECK(StatusOf("GET / HTTP/0.9\r\nHost: x\r\n\r\n") == 505);
  CHECK(StatusOf("GET / HTTP/1.0\r\n\r\n") == 0);
}

TEST_CASE("http request: the path is percent-decoded, the query is not") {
  Parsed p =
      Parse("GET /a%20b/%2e%2e/%00x?q=%20+&r HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(p.state == HttpRequestParser::State::kDone);
  CHECK(p.head.path == "/a b/../\0x"s);
  CHECK(p.head.query == "q=%20+&r");
  p = Parse("GET /a+b HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(p.head.path == "/a+b");
  p = Parse("GET /only? HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(p.head.path == "/only");
  CHECK(p.head.query.empty());
}

TEST_CASE("http request: absolute-form and asterisk-form targets") {
  Parsed p = Parse(
      "GET http://api.nasqueron.org/notifications/events?backlog=1 HTTP/1.1\r\n"
      "Host: api.nasqueron.org\r\n\r\n");
  REQUIRE(p.state == HttpRequestParser::State::kDone);
  CHECK(p.head.path == "/notifications/events");
  CHECK(p.head.query == "backlog=1");
  p = Parse("GET HTTPS://h:8080 HTTP/1.1\r\nHost: h\r\n\r\n");
  REQUIRE(p.state == HttpRequestParser::State::kDone);
  CHECK(p.head.path == "/");
  p = Parse("GET http://h?x=1 HTTP/1.1\r\nHost: h\r\n\r\n");
  REQUIRE(p.state == HttpRequestParser::State::kDone);
  CHECK(p.head.path == "/");
  CHECK(p.head.query == "x=1");
  p = Parse("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n");
  REQUIRE(p.state == HttpRequestParser::State::kDone);
  CHECK(p.head.path == "*");
}

TEST_CASE("http request: malformed field lines are 400") {
  for (const char* bad : {
           "GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n",
           "GET / HTTP/1.1\r\nHost: x\r\nName : v\r\n\r\n",
           "GET / HTTP/1.1\r\nHost: x\r\n: v\r\n\r\n",
           "GET / HTTP/1.1\r\nHost: x\r\nA: b\r\n folded\r\n\r\n",
           "GET / HTTP/1.1\r\nHost: x\r\n\tA: b\r\n\r\n",
           "GET / HTTP/1.1\r\nHost: x\r\nA: b\x01"
           "c\r\n\r\n",
           "GET / HTTP/1.1\r\nHost: x\r\nA: b\x7f\r\n\r\n",
           "GET / HTTP/1.1\r\nHost: x\r\nA: b\rc\r\n\r\n",
           "GET / HTTP/1.1\r\nHost: x\r\nA\x80: b\r\n\r\n",
       }) {
    CAPTURE(bad);
    CHECK(StatusOf(bad) == 400);
  }
  std::string nul = "GET / HTTP/1.1\r\nHost: x\r\nA: b"s + '\0' + "c\r\n\r\n";
  CHECK(StatusOf(nul) == 400);
  // obs-text (bytes >= 0x80) is allowed in values.
  CHECK(StatusOf("GET / HTTP/1.1\r\nHost: x\r\nA: caf\xc3\xa9\r\n\r\n") == 0);
}

TEST_CASE("http request: Host is required once in HTTP/1.1, optional in 1.0") {
  CHECK(StatusOf("GET / HTTP/1.1\r\n\r\n") == 400);
  CHECK(StatusOf("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n") == 400);
  CHECK(StatusOf("GET / HTTP/1.0\r\n\r\n") == 0);
  CHECK(StatusOf("GET / HTTP/1.0\r\nHost: a\r\nhost: b\r\n\r\n") == 400);
}

TEST_CASE(
    "http request: the request line limit is a 414, counted with its line "
    "end") {
  HttpRequestLimits limits;
  limits.max_request_line = 64;
  std::string line = "GET /" + std::string(64 - 16, 'a') + " HTTP/1.1\r\n";
  REQUIRE(line.size() == 64);
  CHECK(StatusOf(line + "Host: x\r\n\r\n", limits) == 0);
  std::string longer = "GET /" + std::string(64 - 15, 'a') + " HTTP/1.1\r\n";
  CHECK(StatusOf(longer + "Host: x\r\n\r\n", limits) == 414);
  // Refused as soon as the limit passes, without the line's end.
  HttpRequestParser p(limits);
  p.Feed("GET /" + std::string(100, 'a'));
  CHECK(p.state() == HttpRequestParser::State::kError);
  CHECK(p.error_status() == 414);
  CHECK(p.error_message() == "request line longer than 64 bytes");
}

TEST_CASE(
    "http request: field line, field count and head size limits are 431") {
  HttpRequestLimits limits;
  limits.max_field_line = 32;
  limits.max_fields = 3;
  limits.max_head_bytes = 128;
  const std::string start = "GET / HTTP/1.1\r\nHost: x\r\n";
  CHECK(StatusOf(start + "A: " + std::string(27, 'b') + "\r\n\r\n", limits) ==
        0);
  CHECK(StatusOf(start + "A: " + std::string(28, 'b') + "\r\n\r\n", limits) ==
        431);
  CHECK(StatusOf(start + "A: 1\r\nB: 2\r\n\r\n", limits) == 0);
  CHECK(StatusOf(start + "A: 1\r\nB: 2\r\nC: 3\r\n\r\n", limits) == 431);
  limits.max_fields = 100;
  std::string many = start;
  while (many.size() < 130) many += "A: 1234567\r\n";
  CHECK(StatusOf(many + "\r\n", limits) == 431);
  // Empty lines before the request line count toward the head.
  CHECK(StatusOf(std::string(130, '\n'), limits) == 431);
}

TEST_CASE(
    "http request: a parser holds no more than its limits whatever it is fed") {
  HttpRequestParser p;
  std::string mb(1 << 20, 'a');
  size_t used = p.Feed("GET / HTTP/1.1\r\nHost: x\r\nX-Big: ");
  used += p.Feed(mb);
  CHECK(p.state() == HttpRequestParser::State::kError);
  CHECK(p.error_status() == 431);
  CHECK(p.head_bytes() <= HttpRequestLimits{}.max_head_bytes);
  // Header after header, each under the line limit: the head limit stops it.
  HttpRequestParser q;
  q.Feed("GET / HTTP/1.1\r\nHost: x\r\n");
  std::string field = "X-A: " + std::string(1000, 'a') + "\r\n";
  int fed = 0;
  while (q.state() == HttpRequestParser::State::kNeedMore && fed < 1000) {
    q.Feed(field);
    ++fed;
  }
  CHECK(q.error_status() == 431);
  CHECK(fed < 40);
}

TEST_CASE("http request: Content-Length and Transfer-Encoding rules") {
  const std::string start = "POST /x HTTP/1.1\r\nHost: x\r\n";
  Parsed p = Parse(start + "Content-Length: 12\r\n\r\n");
  REQUIRE(p.state == HttpRequestParser::State::kDone);
  CHECK(p.head.body == HttpRequestHead::Body::kLength);
  CHECK(p.head.content_length == 12);
  p = Parse(start + "Content-Length: 0\r\n\r\n");
  CHECK(p.head.body == HttpRequestHead::Body::kLength);
  CHECK(p.head.content_length == 0);
  p = Parse(start + "Transfer-Encoding: gzip, Chunked\r\n\r\n");
  REQUIRE(p.state == HttpRequestParser::State::kDone);
  CHECK(p.head.body == HttpRequestHead::Body::kChunked);
  for (const std::string& bad : {
           "Content-Length: 1\r\nContent-Length: 1\r\n"s,
           "Content-Length: 1, 1\r\n"s,
           "Content-Length: -1\r\n"s,
           "Content-Length: +1\r\n"s,
           "Content-Length: 0x10\r\n"s,
           "Content-Length: \r\n"s,
           "Content-Length: 1234567890123456789\r\n"s,
           "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n"s,
           "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n"s,
           "Transfer-Encoding: chunked, gzip\r\n"s,
           "Transfer-Encoding: identity\r\n"s,
           "Transfer-Encoding: \r\n"s,
           "Transfer-Encoding: chunked;q=1\r\n"s,
       }) {
    CAPTURE(bad);
    CHECK(StatusOf(start + bad + "\r\n") == 400);
  }
  CHECK(StatusOf("POST /x HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n") ==
        400);
}

TEST_CASE("http request: keep-alive by version and Connection tokens") {
  auto keep = [](const std::string& version, const std::string& fields) {
    Parsed p = Parse("GET / " + version + "\r\nHost: x\r\n" + fields + "\r\n");
    REQUIRE(p.state == HttpRequestParser::State::kDone);
    return p.head.keep_alive;
  };
  CHECK(keep("HTTP/1.1", ""));
  CHECK_FALSE(keep("HTTP/1.1", "Connection: close\r\n"));
  CHECK_FALSE(keep("HTTP/1.1", "Connection: Upgrade, CLOSE\r\n"));
  CHECK(keep("HTTP/1.1", "Connection: keep-alive\r\n"));
  CHECK_FALSE(keep("HTTP/1.0", ""));
  CHECK(keep("HTTP/1.0", "Connection: Keep-Alive\r\n"));
  CHECK_FALSE(keep("HTTP/1.0", "Connection: keep-alive, close\r\n"));
  Parsed p = Parse("GET / HTTP/1.0\r\n\r\n");
  CHECK(p.head.minor_version == 0);
}

TEST_CASE("http request: a failure stops reading; Reset() starts over") {
  HttpRequestParser p;
  p.Feed("BAD\r\n");
  CHECK(p.state() == HttpRequestParser::State::kError);
  CHECK(p.error_status() == 400);
  CHECK(p.Feed("GET / HTTP/1.1\r\n") == 0);
  p.Reset();
  p.Feed("GET / HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(p.state() == HttpRequestParser::State::kDone);
}

TEST_CASE("http request: PercentDecodeStrict") {
  CHECK(PercentDecodeStrict("/a%2Fb%2f").value() == "/a/b/");
  CHECK(PercentDecodeStrict("%41%4a%4A").value() == "AJJ");
  CHECK(PercentDecodeStrict("a+b").value() == "a+b");
  CHECK_FALSE(PercentDecodeStrict("%").ok());
  CHECK_FALSE(PercentDecodeStrict("%4").ok());
  CHECK_FALSE(PercentDecodeStrict("%4g").ok());
  CHECK_FALSE(PercentDecodeStrict("a%").ok());
}

}  // namespace
}  // namespace notifications

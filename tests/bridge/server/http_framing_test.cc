#include "http_framing.h"

#include <doctest/doctest.h>

namespace notifications {
namespace {

TEST_CASE("http framing: a response head byte for byte") {
  CHECK(EncodeResponseHead(200, {{"Content-Type", "text/event-stream"},
                                 {"Transfer-Encoding", "chunked"}}) ==
        "HTTP/1.1 200 OK\r\n"
        "Content-Type: text/event-stream\r\n"
        "Transfer-Encoding: chunked\r\n"
        "\r\n");
  CHECK(EncodeResponseHead(503, {}) ==
        "HTTP/1.1 503 Service Unavailable\r\n\r\n");
  CHECK(EncodeResponseHead(299, {}) == "HTTP/1.1 299 Unknown\r\n\r\n");
}

TEST_CASE("http framing: CR, LF and NUL never reach the head") {
  std::string head =
      EncodeResponseHead(200, {{"X-A\r\nInjected", "v\r\nSet-Cookie: a=b"},
                               {"X-B", std::string("x\0y", 3)}});
  CHECK(head ==
        "HTTP/1.1 200 OK\r\n"
        "X-AInjected: vSet-Cookie: a=b\r\n"
        "X-B: xy\r\n"
        "\r\n");
}

TEST_CASE("http framing: chunks carry their size in lowercase hex") {
  std::string out;
  AppendChunk("hello", &out);
  CHECK(out == "5\r\nhello\r\n");
  out.clear();
  AppendChunk(std::string(26, 'a'), &out);
  CHECK(out == "1a\r\n" + std::string(26, 'a') + "\r\n");
  out.clear();
  AppendChunk(std::string(4096, 'b'), &out);
  CHECK(out.compare(0, 6, "1000\r\n") == 0);
  CHECK(out.size() == 6 + 4096 + 2);
}

TEST_CASE(
    "http framing: chunks append; empty data adds nothing (it would end the "
    "body)") {
  std::string out = "head";
  AppendChunk("", &out);
  CHECK(out == "head");
  AppendChunk("a", &out);
  AppendChunk("bc", &out);
  CHECK(out == "head1\r\na\r\n2\r\nbc\r\n");
  out.append(kLastChunk);
  CHECK(out == "head1\r\na\r\n2\r\nbc\r\n0\r\n\r\n");
}

}  // namespace
}  // namespace notifications

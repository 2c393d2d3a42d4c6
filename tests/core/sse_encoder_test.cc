#include "sse_encoder.h"

#include <doctest/doctest.h>

#include <string>

namespace notifications {
namespace {

using namespace std::string_literals;

TEST_SUITE_BEGIN("sse_encoder");

TEST_CASE("EncodeSseEvent writes id, event, one data line and a blank line") {
  SseEvent e{"1795869554-0000000042", "notification", R"({"id":"x"})"};
  CHECK(EncodeSseEvent(e) ==
        "id: 1795869554-0000000042\n"
        "event: notification\n"
        "data: {\"id\":\"x\"}\n"
        "\n");
}

TEST_CASE("EncodeSseEvent omits the id line when id is nullopt") {
  SseEvent e{std::nullopt, "notification", "x"};
  CHECK(EncodeSseEvent(e) == "event: notification\ndata: x\n\n");
}

TEST_CASE("EncodeSseEvent writes an empty id as 'id: ' to reset the id") {
  SseEvent e{""s, "reset", "{}"};
  CHECK(EncodeSseEvent(e) == "id: \nevent: reset\ndata: {}\n\n");
}

TEST_CASE("EncodeSseEvent omits the event line when event is empty") {
  SseEvent e{std::nullopt, "", "hello"};
  CHECK(EncodeSseEvent(e) == "data: hello\n\n");
}

TEST_CASE("EncodeSseEvent writes empty data as one 'data: ' line") {
  SseEvent e{std::nullopt, "", ""};
  CHECK(EncodeSseEvent(e) == "data: \n\n");
}

TEST_CASE("EncodeSseEvent splits multi-line data on LF") {
  SseEvent e{std::nullopt, "", "a\nb\nc"};
  CHECK(EncodeSseEvent(e) == "data: a\ndata: b\ndata: c\n\n");
}

TEST_CASE("EncodeSseEvent splits data on CR and CRLF as on LF") {
  CHECK(EncodeSseEvent({std::nullopt, "", "a\rb"}) == "data: a\ndata: b\n\n");
  CHECK(EncodeSseEvent({std::nullopt, "", "a\r\nb"}) == "data: a\ndata: b\n\n");
  CHECK(EncodeSseEvent({std::nullopt, "", "a\n\rb"}) ==
        "data: a\ndata: \ndata: b\n\n");
  CHECK(EncodeSseEvent({std::nullopt, "", "a\n\nb"}) ==
        "data: a\ndata: \ndata: b\n\n");
}

TEST_CASE("EncodeSseEvent turns a trailing line end into a last empty line") {
  CHECK(EncodeSseEvent({std::nullopt, "", "a\r"}) == "data: a\ndata: \n\n");
  CHECK(EncodeSseEvent({std::nullopt, "", "a\n"}) == "data: a\ndata: \n\n");
  CHECK(EncodeSseEvent({std::nullopt, "", "a\r\n"}) == "data: a\ndata: \n\n");
  CHECK(EncodeSseEvent({std::nullopt, "", "\r"}) == "data: \ndata: \n\n");
}

TEST_CASE("EncodeSseEvent keeps NUL in data") {
  SseEvent e{std::nullopt, "", "a\0b"s};
  CHECK(EncodeSseEvent(e) == "data: a\0b\n\n"s);
}

TEST_CASE("EncodeSseEvent keeps non-ASCII data as UTF-8 bytes") {
  SseEvent e{std::nullopt, "", "caf\xC3\xA9 \xF0\x9F\x9A\x80"};
  CHECK(EncodeSseEvent(e) == "data: caf\xC3\xA9 \xF0\x9F\x9A\x80\n\n");
}

TEST_CASE("EncodeSseEvent strips CR, LF and NUL from id and event") {
  SseEvent e{"ab\ncd\r\0e"s, "no\r\ntif\0y"s, "x"};
  CHECK(EncodeSseEvent(e) == "id: abcde\nevent: notify\ndata: x\n\n");
}

TEST_CASE("EncodeSseEvent writes an event made only of stripped chars empty") {
  SseEvent e{std::nullopt, "\n", "x"};
  CHECK(EncodeSseEvent(e) == "event: \ndata: x\n\n");
}

TEST_CASE("EncodeSseComment writes a heartbeat comment and a blank line") {
  CHECK(EncodeSseComment("keep-alive") == ": keep-alive\n\n");
  CHECK(EncodeSseComment("server full, retry later") ==
        ": server full, retry later\n\n");
}

TEST_CASE("EncodeSseComment writes empty text as ':' and a blank line") {
  CHECK(EncodeSseComment("") == ":\n\n");
}

TEST_CASE("EncodeSseComment writes one comment line per line of text") {
  CHECK(EncodeSseComment("a\nb\r\nc\rd") == ": a\n: b\n: c\n: d\n\n");
  CHECK(EncodeSseComment("a\n\nb") == ": a\n:\n: b\n\n");
  CHECK(EncodeSseComment("a\n") == ": a\n:\n\n");
}

TEST_CASE("EncodeSseRetry writes the retry field without a blank line") {
  CHECK(EncodeSseRetry(3417) == "retry: 3417\n");
  CHECK(EncodeSseRetry(0) == "retry: 0\n");
  CHECK(EncodeSseRetry(60000) == "retry: 60000\n");
}

TEST_CASE("EncodeSseRetry writes negative delays as 0") {
  CHECK(EncodeSseRetry(-5) == "retry: 0\n");
}

TEST_CASE("EncodeSseRetry followed by a comment is the stream's opening") {
  CHECK(EncodeSseRetry(3417) + EncodeSseComment("connected") ==
        "retry: 3417\n: connected\n\n");
}

TEST_SUITE_END();

}  // namespace
}  // namespace notifications

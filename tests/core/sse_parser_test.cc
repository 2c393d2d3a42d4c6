#include "sse_parser.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "sse_encoder.h"

namespace notifications {
namespace {

using namespace std::string_literals;

// Events as one readable string: "[type|data|id]" each, with CR, LF and NUL
// shown as \r \n \0, so a failed CHECK prints something useful.
std::string Show(const std::vector<SseParser::Event>& events) {
  std::string out;
  auto add = [&out](const std::string& s) {
    for (char c : s) {
      if (c == '\n') {
        out += "\\n";
      } else if (c == '\r') {
        out += "\\r";
      } else if (c == '\0') {
        out += "\\0";
      } else {
        out += c;
      }
    }
  };
  for (const SseParser::Event& e : events) {
    out += '[';
    add(e.type);
    out += '|';
    add(e.data);
    out += '|';
    add(e.last_event_id);
    out += ']';
  }
  return out;
}

// Feeds `chunks` in order to `parser`; returns the events as Show() does.
std::string FeedChunks(SseParser& parser,
                       const std::vector<std::string_view>& chunks) {
  std::vector<SseParser::Event> events;
  for (std::string_view chunk : chunks) {
    parser.Feed(chunk,
                [&events](const SseParser::Event& e) { events.push_back(e); });
  }
  return Show(events);
}

std::string ParseAll(std::string_view stream) {
  SseParser parser;
  return FeedChunks(parser, {stream});
}

std::vector<SseParser::Event> ParseEvents(std::string_view stream) {
  SseParser parser;
  std::vector<SseParser::Event> events;
  parser.Feed(stream,
              [&events](const SseParser::Event& e) { events.push_back(e); });
  return events;
}

// A stream with every feature: BOM, each line end, comments, ids, retry,
// multi-line data, an unknown field, UTF-8, NUL, an id-only block.
const std::string kSample =
    "\xEF\xBB\xBF"
    ": hello\r\n"
    "retry: 2500\n"
    "id: 1\r"
    "event: notification\r\n"
    "data: caf\xC3\xA9\n"
    "data:line two\r"
    "\r\n"
    "foo: ignored\n"
    "data: \xF0\x9F\x9A\x80 a\0b\n"s
    "\n"
    "id: 2\n"
    "\r"
    "id\n"
    "data\n"
    "\n"
    ":\n"
    "data: last\r\r"
    "data: unfinished\n";

const std::string kSampleEvents =
    "[notification|caf\xC3\xA9\\nline two|1]"
    "[message|\xF0\x9F\x9A\x80 a\\0b|1]"
    "[message||]"
    "[message|last|]";

TEST_SUITE_BEGIN("sse_parser");

TEST_CASE("SseParser dispatches a simple event as type message") {
  CHECK(ParseAll("data: hello\n\n") == "[message|hello|]");
}

TEST_CASE("SseParser accepts LF, CRLF and CR line ends, mixed") {
  CHECK(ParseAll("data: a\n\n") == "[message|a|]");
  CHECK(ParseAll("data: a\r\n\r\n") == "[message|a|]");
  CHECK(ParseAll("data: a\r\r") == "[message|a|]");
  CHECK(ParseAll("data: a\r\ndata: b\rdata: c\n\r\n") ==
        "[message|a\\nb\\nc|]");
  // LF CR is two line ends, so a blank line: two events.
  CHECK(ParseAll("data: a\n\rdata: b\n\n") == "[message|a|][message|b|]");
}

TEST_CASE("SseParser joins data lines with LF without a trailing LF") {
  CHECK(ParseAll("data: a\ndata: b\ndata: \n\n") == "[message|a\\nb\\n|]");
}

TEST_CASE("SseParser gives the same events for every split of a stream") {
  const std::string whole = ParseAll(kSample);
  CHECK(whole == kSampleEvents);

  SUBCASE("byte by byte") {
    SseParser parser;
    std::vector<std::string_view> bytes;
    for (size_t i = 0; i < kSample.size(); ++i) {
      bytes.push_back(std::string_view(kSample).substr(i, 1));
    }
    CHECK(FeedChunks(parser, bytes) == whole);
  }
  SUBCASE("every 2-way split") {
    for (size_t i = 0; i <= kSample.size(); ++i) {
      SseParser parser;
      std::string_view s = kSample;
      INFO("split at " << i);
      CHECK(FeedChunks(parser, {s.substr(0, i), s.substr(i)}) == whole);
    }
  }
  SUBCASE("every 3-way split") {
    for (size_t i = 0; i <= kSample.size(); ++i) {
      for (size_t j = i; j <= kSample.size(); ++j) {
        SseParser parser;
        std::string_view s = kSample;
        std::string got = FeedChunks(
            parser, {s.substr(0, i), s.substr(i, j - i), s.substr(j)});
        if (got != whole) {
          INFO("split at " << i << " and " << j);
          CHECK(got == whole);
        }
      }
    }
  }
}

TEST_CASE("SseParser state after a stream: retry, last id, comments") {
  SseParser parser;
  FeedChunks(parser, {kSample});
  CHECK(parser.retry_ms() == 2500);
  CHECK(parser.last_event_id() == "");
  CHECK(parser.comments_seen() == 2);
  CHECK(parser.buffered_bytes() == std::string("unfinished\n").size());
}

TEST_CASE("SseParser strips one leading BOM, also when split") {
  CHECK(ParseAll("\xEF\xBB\xBF"
                 "data: x\n\n") == "[message|x|]");
  SseParser parser;
  CHECK(FeedChunks(parser, {"\xEF", "\xBB",
                            "\xBF"
                            "data: x\n\n"}) == "[message|x|]");
}

TEST_CASE("SseParser keeps a second BOM, which spoils the field name") {
  CHECK(ParseAll("\xEF\xBB\xBF\xEF\xBB\xBF"
                 "data: x\n\ndata: y\n\n") == "[message|y|]");
}

TEST_CASE("SseParser treats a partial BOM as ordinary bytes") {
  // EF BB then 'd': not a BOM; the bytes are invalid UTF-8 -> U+FFFD, and the
  // field name is no longer "data".
  CHECK(ParseAll("\xEF\xBB"
                 "data: x\n\ndata: y\n\n") == "[message|y|]");
  SseParser parser;
  CHECK(FeedChunks(parser, {"d", "ata: x\n\n"}) == "[message|x|]");
}

TEST_CASE("SseParser reads a field without colon as an empty value") {
  CHECK(ParseAll("data\n\n") == "[message||]");
  CHECK(ParseAll("data\ndata\n\n") == "[message|\\n|]");
  CHECK(ParseAll("event\ndata: x\n\n") == "[message|x|]");
}

TEST_CASE("SseParser removes only one space after the colon") {
  CHECK(ParseAll("data:x\n\n") == "[message|x|]");
  CHECK(ParseAll("data:  x\n\n") == "[message| x|]");
  CHECK(ParseAll("data: x:y\n\n") == "[message|x:y|]");
  CHECK(ParseAll("data:\tx\n\n") == "[message|\tx|]");
}

TEST_CASE("SseParser takes the event type and resets it after dispatch") {
  CHECK(ParseAll("event: a\ndata: 1\n\ndata: 2\n\n") == "[a|1|][message|2|]");
}

TEST_CASE("SseParser does not dispatch a block without data") {
  CHECK(ParseAll("event: a\n\ndata: 2\n\n") == "[message|2|]");
  CHECK(ParseAll("\n\n\n") == "");
}

TEST_CASE("SseParser ignores unknown fields and field names are exact") {
  CHECK(ParseAll("foo: bar\nData: x\ndata : y\ndata: z\n\n") == "[message|z|]");
}

TEST_CASE("SseParser counts comments and ignores them") {
  SseParser parser;
  CHECK(FeedChunks(parser, {": keep-alive\n\n:\n\n: a\ndata: x\n\n"}) ==
        "[message|x|]");
  CHECK(parser.comments_seen() == 3);
}

TEST_CASE("SseParser keeps the last id across events until changed") {
  CHECK(ParseAll("id: 7\ndata: a\n\ndata: b\n\nid\ndata: c\n\n") ==
        "[message|a|7][message|b|7][message|c|]");
}

TEST_CASE("SseParser updates the last id on a blank line without data") {
  SseParser parser;
  CHECK(FeedChunks(parser, {"id: 42\n\n"}) == "");
  CHECK(parser.last_event_id() == "42");
}

TEST_CASE("SseParser sets the last id only at dispatch time") {
  SseParser parser;
  FeedChunks(parser, {"id: 42\ndata: x\n"});
  CHECK(parser.last_event_id() == "");
  FeedChunks(parser, {"\n"});
  CHECK(parser.last_event_id() == "42");
}

TEST_CASE("SseParser ignores an id containing NUL") {
  SseParser parser;
  CHECK(FeedChunks(parser, {"id: 1\ndata: a\n\nid: 2\0x\ndata: b\n\n"s}) ==
        "[message|a|1][message|b|1]");
  CHECK(parser.last_event_id() == "1");
}

TEST_CASE("SseParser keeps NUL in data") {
  CHECK(ParseAll("data: a\0b\n\n"s) == "[message|a\\0b|]");
}

TEST_CASE("SseParser takes retry only when it is all ASCII digits") {
  auto retry = [](std::string_view stream) {
    SseParser parser;
    FeedChunks(parser, {stream});
    return parser.retry_ms();
  };
  CHECK(retry("retry: 1500\n") == 1500);
  CHECK(retry("retry:0\n") == 0);
  CHECK(retry("retry: 1500\nretry: 20\n") == 20);
  CHECK(retry("retry: 1500\nretry: 2x\n") == 1500);
  CHECK_FALSE(retry("retry: -1\n").has_value());
  CHECK_FALSE(retry("retry: 1.5\n").has_value());
  CHECK_FALSE(retry("retry: \n").has_value());
  CHECK_FALSE(retry("retry\n").has_value());
  CHECK_FALSE(retry("retry:  15\n").has_value());
  CHECK_FALSE(retry("retry: 99999999999999999999\n").has_value());
  CHECK(retry("retry: 9223372036854775807\n") == INT64_MAX);
  CHECK_FALSE(retry("retry: 1500").has_value());  // Line not ended.
}

TEST_CASE("SseParser does not dispatch an unfinished last event") {
  CHECK(ParseAll("data: a\n\ndata: b\n") == "[message|a|]");
  CHECK(ParseAll("data: a\n\ndata: b") == "[message|a|]");
  CHECK(ParseAll("data: a\n\ndata: b\r") == "[message|a|]");
}

TEST_CASE("SseParser reports buffered bytes and releases them at dispatch") {
  SseParser parser;
  FeedChunks(parser, {"event: ab\ndata: xyz\ndata: 12"});
  // "ab", "xyz\n" and the incomplete line "data: 12".
  CHECK(parser.buffered_bytes() == 2 + 4 + 8);
  FeedChunks(parser, {"\n\n"});
  CHECK(parser.buffered_bytes() == 0);
}

TEST_CASE("SseParser replaces invalid UTF-8 with U+FFFD") {
  CHECK(ParseAll("data: a\xFF"
                 "b\n\n") ==
        "[message|a\xEF\xBF\xBD"
        "b|]");
  // A sequence cut by the line end.
  CHECK(ParseAll("data: a\xE2\x82\n\n") == "[message|a\xEF\xBF\xBD|]");
  // A valid sequence split across Feed() calls is kept whole.
  SseParser parser;
  CHECK(FeedChunks(parser, {"data: \xE2", "\x82", "\xAC\n\n"}) ==
        "[message|\xE2\x82\xAC|]");
}

TEST_CASE("SseParser reads the encoder's events back") {
  std::string stream = EncodeSseRetry(3000) + EncodeSseComment("connected") +
                       EncodeSseEvent({"1-1", "notification", "{\"a\":1}"}) +
                       EncodeSseComment("keep-alive") +
                       EncodeSseEvent({""s, "reset", "{}"}) +
                       EncodeSseEvent({std::nullopt, "", "x"});
  SseParser parser;
  CHECK(FeedChunks(parser, {stream}) ==
        "[notification|{\"a\":1}|1-1][reset|{}|][message|x|]");
  CHECK(parser.retry_ms() == 3000);
  CHECK(parser.comments_seen() == 2);
}

// The spec turns CR and CRLF inside data into LF (data is split into lines
// and joined with LF), so the round trip is exact on LF-normalised data.
std::string NormaliseLineEnds(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\r') {
      out += '\n';
      if (i + 1 < s.size() && s[i + 1] == '\n') ++i;
    } else {
      out += s[i];
    }
  }
  return out;
}

TEST_CASE("EncodeSseEvent then SseParser gives back LF-normalised data") {
  const std::vector<std::string> samples = {
      "",
      "x",
      "\r\n",
      "\r",
      "\n",
      "\n\n",
      "\r\r",
      "\n\r",
      "a\rb\r\nc\nd",
      "trailing\n",
      "trailing\r",
      "\0"s,
      "a\0b\0"s,
      "caf\xC3\xA9 \xF0\x9F\x9A\x80 \xE2\x80\xA8",
      " leading space",
      ":colon",
      "data: looks like a field\n\nid: 9",
      R"({"id":"1-1","text":"a\nb"})",
      std::string(100000, 'z'),
  };
  for (const std::string& data : samples) {
    for (const char* event : {"", "notification"}) {
      SseEvent in{"id-1"s, event, data};
      std::vector<SseParser::Event> out = ParseEvents(EncodeSseEvent(in));
      INFO("data: " << Show({{"", data, ""}}));
      REQUIRE(out.size() == 1);
      CHECK(out[0].data == NormaliseLineEnds(data));
      CHECK(out[0].type == (*event ? event : "message"));
      CHECK(out[0].last_event_id == "id-1");
    }
  }
}

TEST_SUITE_END();

}  // namespace
}  // namespace notifications

// TailPrinter: events to output lines and notices.
#include "tail_printer.h"

#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>
#include <vector>

#include "env_guard.h"
#include "hostile_text.h"
#include "notification_parser.h"
#include "tail_sinks.h"

namespace notifications {
namespace {

using namespace std::chrono_literals;
using testing::CapturedSinks;
using testing::EnvGuard;

const std::time_t kReceived = 1795852800;  // 2026-11-28T08:00:00Z

SseParser::Event Event(std::string type, std::string data, std::string id) {
  return SseParser::Event{std::move(type), std::move(data), std::move(id)};
}

std::string Data(const std::string& id, const std::string& text) {
  return R"({"id":")" + id +
         R"(","time":"2026-11-28T12:00:00Z","service":"GitHub",)"
         R"("project":"Nasqueron","group":"ops","type":"push","text":")" +
         text + R"(","link":""})";
}

TEST_CASE(
    "tail: the printer prints notifications, notes resets, ignores the rest") {
  EnvGuard tz("TZ", "UTC");
  CapturedSinks c;
  TailPrinter printer(false, c.sinks());
  CHECK(printer.OnEvent(Event("notification", Data("1-1", "one"), "1-1"),
                        kReceived));
  CHECK(printer.OnEvent(Event("message", "hello", "1-1"), kReceived));
  CHECK(printer.OnEvent(Event("ping", "{}", "1-1"), kReceived));
  CHECK(printer.OnEvent(
      Event("reset", R"({"reason":"gap-too-large","message":"m"})", ""),
      kReceived));
  CHECK(printer.OnEvent(Event("notification", Data("1-2", "two"), "1-2"),
                        kReceived));
  CHECK(printer.OnEvent(Event("notification", "[1]", "1-3"), kReceived));
  CHECK(c.out() ==
        std::vector<std::string>{"[Nov 28 12:00:00] <Nasqueron/ops> one",
                                 "[Nov 28 12:00:00] <Nasqueron/ops> two"});
  CHECK(c.err() ==
        std::vector<std::string>{
            "stream reset: m", "skipped notification 1-3: not a JSON object"});
  CHECK(printer.printed() == 2);
}

TEST_CASE(
    "tail: --json prints the data exactly as received, one object per line") {
  CapturedSinks c;
  TailPrinter printer(true, c.sinks());
  std::string data =
      R"({"id":"1-1","text":"caf\u00e9 \"q\" é","link":null, "x" : [1]})";
  CHECK(printer.OnEvent(Event("notification", data, "1-1"), kReceived));
  CHECK(
      printer.OnEvent(Event("notification", "{\"a\":\n1}", "1-2"), kReceived));
  CHECK(printer.OnEvent(Event("notification", "not json", "1-3"), kReceived));
  CHECK(printer.OnEvent(Event("reset", R"({"message":"m"})", ""), kReceived));
  CHECK(c.out() == std::vector<std::string>{data, "{\"a\": 1}", "not json"});
  CHECK(c.err() == std::vector<std::string>{"stream reset: m"});
}

TEST_CASE(
    "tail: a notification already printed is never printed twice, until a "
    "reset") {
  CapturedSinks c;
  TailPrinter printer(true, c.sinks());
  for (const char* id : {"1-2", "1-3", "1-3", "1-1", "1-10"}) {
    CHECK(printer.OnEvent(Event("notification", id, id), kReceived));
  }
  CHECK(c.out() == std::vector<std::string>{"1-2", "1-3", "1-10"});
  CHECK(printer.skipped() == 2);
  CHECK(c.err() == std::vector<std::string>{
                       "skipped notification 1-3: already printed (last 1-3)",
                       "skipped notification 1-1: already printed (last 1-3)"});
  CHECK(printer.OnEvent(Event("reset", "{}", ""), kReceived));
  CHECK(printer.OnEvent(Event("notification", "0-5", "0-5"), kReceived));
  CHECK(c.out().back() == "0-5");
}

TEST_CASE("tail: the printer reports an output that cannot be written") {
  CapturedSinks c;
  c.FailOutput();
  TailPrinter printer(true, c.sinks());
  CHECK_FALSE(printer.OnEvent(Event("notification", "{}", "1-1"), kReceived));
}

}  // namespace
}  // namespace notifications

namespace notifications {
namespace {

using testing::HostileStrings;
using testing::IsTerminalSafe;

// `s` as a JSON string literal body, the way a hostile bridge would escape
// it (everything below 0x20 as \u00XX).
std::string JsonBody(const std::string& s) {
  std::string out;
  for (char c : s) {
    auto b = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (b < 0x20) {
      char text[8];
      std::snprintf(text, sizeof text, "\\u%04X", b);
      out += text;
    } else {
      out += c;
    }
  }
  return out;
}

// `s` in a JSON string with only '"' and '\\' escaped: its controls raw,
// which JSON forbids (a bridge breaking the rules).
std::string RawJsonBody(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

TEST_CASE(
    "tail: no control or bidi character from the network reaches the "
    "terminal, in any field, in text mode") {
  EnvGuard tz("TZ", "UTC");
  for (const std::string& hostile : HostileStrings()) {
    CAPTURE(hostile);
    const std::string h = JsonBody(hostile);
    CapturedSinks c;
    TailPrinter printer(false, c.sinks());
    const std::string id(64, '9');
    std::string data = R"({"id":"1-1","time":"2026-11-28T12:00:00Z",)"
                       R"("service":")" +
                       h + R"(","project":")" + h + R"(","group":")" + h +
                       R"(","type":")" + h + R"(","text":")" + h +
                       R"(","link":")" + h + R"("})";
    CHECK(printer.OnEvent(Event("notification", data, id), kReceived));
    // Raw, unescaped bytes in the data (a bridge breaking the JSON rules).
    CHECK(printer.OnEvent(Event("notification", hostile, id + "1"), kReceived));
    // A hostile id, below the last one printed: a notice names it.
    CHECK(printer.OnEvent(Event("notification", "{}", "1-" + hostile),
                          kReceived));
    CHECK(printer.OnEvent(Event("reset", R"({"message":")" + h + R"("})", ""),
                          kReceived));
    CHECK(printer.OnEvent(Event("reset", hostile, ""), kReceived));
    REQUIRE(c.out().size() == 1);
    for (const std::string& line : c.out()) CHECK(IsTerminalSafe(line));
    CHECK(c.err().size() == 4);
    for (const std::string& line : c.err()) CHECK(IsTerminalSafe(line));
  }
}

TEST_CASE(
    "tail: --json re-escapes control and bidi characters, and stays "
    "the same JSON") {
  for (const std::string& hostile : HostileStrings()) {
    CAPTURE(hostile);
    CapturedSinks c;
    TailPrinter printer(true, c.sinks());
    // As a bridge escapes them (C0 only), and raw.
    std::string escaped = R"({"id":"1-1","text":")" + JsonBody(hostile) +
                          R"(","link":")" + JsonBody(hostile) + R"("})";
    std::string raw =
        R"({"id":"1-2","text":")" + RawJsonBody(hostile) + R"("})";
    CHECK(printer.OnEvent(Event("notification", escaped, "1-1"), kReceived));
    CHECK(printer.OnEvent(Event("notification", raw, "1-2"), kReceived));
    REQUIRE(c.out().size() == 2);
    for (const std::string& line : c.out()) CHECK(IsTerminalSafe(line));
    Result<Notification> back = ParseStreamNotification(c.out()[0]);
    REQUIRE_MESSAGE(back.ok(), back.status().message());
    CHECK(back->text == hostile);
    CHECK(back->link == hostile);
    // The raw one becomes valid JSON with the same text.
    Result<Notification> raw_back = ParseStreamNotification(c.out()[1]);
    REQUIRE_MESSAGE(raw_back.ok(), raw_back.status().message());
    CHECK(raw_back->text == hostile);
  }
  CapturedSinks c;
  TailPrinter printer(true, c.sinks());
  CHECK(printer.OnEvent(
      Event("notification", "{\"text\":\"a\x1b[31mb\xE2\x80\xAE\"}", "1-1"),
      kReceived));
  CHECK(c.out() ==
        std::vector<std::string>{R"({"text":"a\u001B[31mb\u202E"})"});
}

}  // namespace
}  // namespace notifications

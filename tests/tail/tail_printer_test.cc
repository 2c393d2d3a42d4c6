// TailPrinter: events to output lines and notices.
#include "tail_printer.h"

#include <doctest/doctest.h>

#include <chrono>
#include <ctime>
#include <string>
#include <vector>

#include "env_guard.h"
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

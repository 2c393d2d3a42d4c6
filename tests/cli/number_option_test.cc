#include "number_option.h"

#include <doctest/doctest.h>

#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>
#include <vector>

namespace notifications {
namespace {

std::string DecimalError(const char* text, double min = 0.01,
                         double max = 3600) {
  Result<double> r = ParseDecimal(text, min, max, "seconds");
  return r.ok() ? "ok" : r.status().message();
}

TEST_CASE("numbers: decimals within range, nothing else") {
  CHECK(*ParseDecimal("5", 0, 10) == 5.0);
  CHECK(*ParseDecimal("0.25", 0, 10) == 0.25);
  CHECK(*ParseDecimal(".5", 0, 10) == 0.5);
  CHECK(*ParseDecimal("5.", 0, 10) == 5.0);
  CHECK(*ParseDecimal("+1e1", 0, 10) == 10.0);
  CHECK(*ParseDecimal("2.5E-1", 0, 10) == 0.25);
  CHECK(*ParseDecimal("-0", 0, 10) == 0.0);
  for (const char* bad :
       {"nan",   "NaN",    "inf",    "-inf",  "+inf",   "infinity",
        "1e400", "-1e400", "1e-400", "0x10",  "0x1p3",  "",
        " 5",    "5 ",     "5s",     "1,5",   "--5",    "e5",
        ".",     "1e",     "1e+",    "0.001", "3600.5", "-1"}) {
    CAPTURE(bad);
    CHECK(DecimalError(bad).rfind(
              "must be a number of seconds from 0.01 to 3600, got \"", 0) == 0);
  }
  CHECK(DecimalError("nan") ==
        "must be a number of seconds from 0.01 to 3600, got \"nan\"");
  CHECK(ParseDecimal("2", 0, 1).status().message() ==
        "must be a number from 0 to 1, got \"2\"");
  CHECK(DecimalError("\x1b[2J") ==
        "must be a number of seconds from 0.01 to 3600, got \"?[2J\"");
}

TEST_CASE("numbers: whole numbers within range, decimal, no overflow") {
  CHECK(*ParseWholeNumber("0", 0, 10) == 0);
  CHECK(*ParseWholeNumber("010", 0, 10) == 10);  // Not octal.
  CHECK(*ParseWholeNumber("+7", 0, 10) == 7);
  CHECK(*ParseWholeNumber("18446744073709551615", 0, UINT64_MAX) == UINT64_MAX);
  for (const char* bad :
       {"18446744073709551616", "99999999999999999999", "-1", "1.0", "1e3",
        "0x10", "", "+", " 1", "nan", "inf", "11"}) {
    CAPTURE(bad);
    Result<uint64_t> r = ParseWholeNumber(bad, 0, 10);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message() ==
          "must be a whole number from 0 to 10, got \"" + std::string(bad) +
              "\"");
  }
  CHECK(SecondsToMillis(0.0105) == std::chrono::milliseconds(11));
  CHECK(SecondsToMillis(3600) == std::chrono::milliseconds(3600000));
}

TEST_CASE("numbers: the checks on CLI11 options, whatever the source") {
  CLI::App app{"t", "nb-test"};
  double seconds = 1;
  size_t count = 3;
  int port = 0;
  app.add_option("--wait", seconds)->transform(SecondsIn(0.1, 60));
  app.add_option("--count", count)->transform(WholeNumberIn(1, 100));
  app.add_option("--port", port)->transform(WholeNumberIn(0, 65535));
  std::vector<const char*> argv = {"nb-test", "--wait", "2.5",  "--count",
                                   "010",     "--port", "08080"};
  app.parse(static_cast<int>(argv.size()), argv.data());
  CHECK(seconds == 2.5);
  CHECK(count == 10);
  CHECK(port == 8080);
  CHECK(app.help().find("SECONDS in [0.1 - 60]") != std::string::npos);
  CHECK(app.help().find("UINT in [1 - 100]") != std::string::npos);
  for (std::vector<const char*> bad :
       {std::vector<const char*>{"nb-test", "--wait", "nan"},
        {"nb-test", "--wait", "inf"},
        {"nb-test", "--count", "99999999999999999999"},
        {"nb-test", "--port", "65536"}}) {
    CLI::App again{"t", "nb-test"};
    again.add_option("--wait", seconds)->transform(SecondsIn(0.1, 60));
    again.add_option("--count", count)->transform(WholeNumberIn(1, 100));
    again.add_option("--port", port)->transform(WholeNumberIn(0, 65535));
    CAPTURE(bad[2]);
    CHECK_THROWS_AS(again.parse(static_cast<int>(bad.size()), bad.data()),
                    CLI::ValidationError);
  }
}

}  // namespace
}  // namespace notifications

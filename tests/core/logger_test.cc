#include "logger.h"

#include <doctest/doctest.h>

#include <vector>

namespace notifications {
namespace {

TEST_CASE("logger: text lines carry time and level, one line per event") {
  std::vector<std::string> lines;
  Logger logger(LogLevel::kInfo, [&](const std::string& l) { lines.push_back(l); });
  logger.Debug("hidden");
  logger.Warn("upstream down\nsecond line");
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].size() > 25);
  CHECK(lines[0][4] == '-');
  CHECK(lines[0].substr(24) == " warn upstream down second line");
}

TEST_CASE("logger: json lines for log shippers") {
  std::vector<std::string> lines;
  Logger logger(LogLevel::kDebug, [&](const std::string& l) { lines.push_back(l); },
                LogFormat::kJson);
  logger.Error("bad \"page\"\n");
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].rfind("{\"time\":\"20", 0) == 0);
  CHECK(lines[0].find("\",\"level\":\"error\",\"message\":\"bad \\\"page\\\"\\n\"}") !=
        std::string::npos);
}

TEST_CASE("logger: level names parse both ways") {
  LogLevel l;
  CHECK(ParseLogLevel("warning", &l));
  CHECK(l == LogLevel::kWarn);
  CHECK_FALSE(ParseLogLevel("loud", &l));
  CHECK(std::string(LogLevelName(LogLevel::kDebug)) == "debug");
}

}  // namespace
}  // namespace notifications

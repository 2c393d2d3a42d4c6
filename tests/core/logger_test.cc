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

TEST_CASE("logger: text lines escape every control character from a peer") {
  std::vector<std::string> lines;
  Logger logger(LogLevel::kInfo, [&](const std::string& l) { lines.push_back(l); });
  logger.Info("GET /\x1b]8;;http://evil\x07x\x1b\\ \x1b[2J\tDEL\x7f C1\xC2\x9b\r\nend");
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].substr(24) ==
        " info GET /\\x1b]8;;http://evil\\x07x\\x1b\\ \\x1b[2J\\x09DEL\\x7f "
        "C1\\u009b  end");
  // Invalid UTF-8 is never written raw either.
  logger.Info("bad \xFF byte");
  CHECK(lines[1].substr(24) == " info bad \xEF\xBF\xBD byte");
}

TEST_CASE("logger: json lines escape DEL and C1 too") {
  std::vector<std::string> lines;
  Logger logger(LogLevel::kInfo, [&](const std::string& l) { lines.push_back(l); },
                LogFormat::kJson);
  logger.Warn("a\x1b[31m\x7f\xC2\x9b\xE2\x80\xAE");
  REQUIRE(lines.size() == 1);
  CHECK(lines[0].find(R"("message":"a\u001B[31m\u007F\u009B)"
                      "\xE2\x80\xAE\"}") != std::string::npos);
}

TEST_CASE("logger: URL credentials never reach a line") {
  std::vector<std::string> lines;
  Logger text(LogLevel::kInfo, [&](const std::string& l) { lines.push_back(l); });
  Logger json(LogLevel::kInfo, [&](const std::string& l) { lines.push_back(l); },
              LogFormat::kJson);
  text.Warn("poll https://bot:s3cret@api.example/delivery/notifications failed");
  json.Warn("polling http://u:p@h:8081/delivery");
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].substr(24) ==
        " warn poll https://api.example/delivery/notifications failed");
  CHECK(lines[1].find("\"message\":\"polling http://h:8081/delivery\"}") !=
        std::string::npos);
  CHECK(lines[0].find("s3cret") == std::string::npos);
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

#include "logger.h"

#include <chrono>
#include <cstdio>

#include "clock.h"
#include "notification_json.h"

namespace notifications {

bool ParseLogLevel(const std::string& text, LogLevel* level) {
  if (text == "debug") *level = LogLevel::kDebug;
  else if (text == "info") *level = LogLevel::kInfo;
  else if (text == "warn" || text == "warning") *level = LogLevel::kWarn;
  else if (text == "error") *level = LogLevel::kError;
  else if (text == "off") *level = LogLevel::kOff;
  else return false;
  return true;
}

const char* LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarn: return "warn";
    case LogLevel::kError: return "error";
    case LogLevel::kOff: return "off";
  }
  return "?";
}

Logger::Logger(LogLevel level, LogFormat format)
    : Logger(level, [](const std::string& line) {
        // One fwrite per line: stderr is unbuffered, so this keeps lines
        // whole even with other writers.
        std::string with_newline = line + "\n";
        fwrite(with_newline.data(), 1, with_newline.size(), stderr);
      }, format) {}

Logger::Logger(LogLevel level, Sink sink, LogFormat format)
    : level_(level), format_(format), sink_(std::move(sink)) {}

void Logger::Log(LogLevel level, const std::string& message) {
  if (!Enabled(level) || level == LogLevel::kOff) return;
  int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  std::string line;
  if (format_ == LogFormat::kJson) {
    line = "{\"time\":\"" + FormatRfc3339(now) + "\",\"level\":\"" +
           LogLevelName(level) + "\",\"message\":" + JsonString(message) + "}";
  } else {
    // One event, one line: a message never breaks the line.
    line = FormatRfc3339(now) + ' ' + LogLevelName(level) + ' ';
    for (char c : message) line += (c == '\n' || c == '\r') ? ' ' : c;
  }
  std::lock_guard<std::mutex> lock(mu_);
  sink_(line);
}

}  // namespace notifications

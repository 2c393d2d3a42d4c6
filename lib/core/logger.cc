#include "logger.h"

#include <chrono>
#include <cstdio>

#include "clock.h"
#include "http_url.h"
#include "notification_json.h"
#include "utf8.h"

namespace notifications {
namespace {

std::string EscapeForText(char32_t cp) {
  if (cp == '\n' || cp == '\r') return " ";
  char text[16];
  if (cp < 0x80) {
    std::snprintf(text, sizeof text, "\\x%02x", static_cast<unsigned>(cp));
  } else {
    std::snprintf(text, sizeof text, "\\u%04x", static_cast<unsigned>(cp));
  }
  return text;
}

}  // namespace

bool ParseLogLevel(const std::string& text, LogLevel* level) {
  if (text == "debug")
    *level = LogLevel::kDebug;
  else if (text == "info")
    *level = LogLevel::kInfo;
  else if (text == "warn" || text == "warning")
    *level = LogLevel::kWarn;
  else if (text == "error")
    *level = LogLevel::kError;
  else if (text == "off")
    *level = LogLevel::kOff;
  else
    return false;
  return true;
}

const char* LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
    case LogLevel::kOff:
      return "off";
  }
  return "?";
}

Logger::Logger(LogLevel level, LogFormat format)
    : Logger(
          level,
          [](const std::string& line) {
            // One fwrite per line: stderr is unbuffered, so this keeps lines
            // whole even with other writers.
            std::string with_newline = line + "\n";
            fwrite(with_newline.data(), 1, with_newline.size(), stderr);
          },
          format) {}

Logger::Logger(LogLevel level, Sink sink, LogFormat format)
    : level_(level), format_(format), sink_(std::move(sink)) {}

void Logger::Log(LogLevel level, const std::string& message) {
  if (!Enabled(level) || level == LogLevel::kOff) return;
  int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  // Messages carry what peers sent (paths, headers, upstream errors) and
  // URLs: a URL's credentials are dropped, and no control character
  // reaches the sink raw, whatever the caller forgot.
  const std::string redacted = RedactUserinfo(message);
  std::string line;
  if (format_ == LogFormat::kJson) {
    // JsonString() escapes C0; DEL and C1 are escaped too.
    line = "{\"time\":\"" + FormatRfc3339(now) + "\",\"level\":\"" +
           LogLevelName(level) + "\",\"message\":" +
           ReplaceUnsafeCodePoints(JsonString(redacted), false, JsonEscapeOf) +
           "}";
  } else {
    // One event, one line: CR and LF become spaces, the other controls
    // \xHH (C0, DEL) or \u00HH (C1).
    line = FormatRfc3339(now) + ' ' + LogLevelName(level) + ' ' +
           ReplaceUnsafeCodePoints(redacted, false, EscapeForText);
  }
  std::lock_guard<std::mutex> lock(mu_);
  sink_(line);
}

}  // namespace notifications

// Logger: one line per event, to a sink (stderr by default), with a level.
//
// Thread-safe: lines from concurrent threads never interleave. No global
// instance: the one built in main is passed by reference.
#pragma once

#include <functional>
#include <mutex>
#include <string>

namespace notifications {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kOff = 4 };

// kText: "2026-11-28T12:00:00.000Z info message"
// kJson: {"time":"2026-11-28T12:00:00.000Z","level":"info","message":"..."}
//
// Whatever the message holds (it often quotes what a peer sent), a line
// carries no raw control character and no URL credentials:
//   - "scheme://user:password@host" loses "user:password@"
//     (RedactUserinfo());
//   - text: CR and LF become spaces (one event, one line), every other C0
//     control and DEL is written "\x1b", "\x7f", a C1 control "\u009b";
//     invalid UTF-8 becomes U+FFFD;
//   - json: JSON escapes, "\u001B", "\u007F", "\u009B".
enum class LogFormat { kText, kJson };

// Parses "debug", "info", "warn"/"warning", "error", "off". False if unknown.
bool ParseLogLevel(const std::string& text, LogLevel* level);
const char* LogLevelName(LogLevel level);

class Logger {
 public:
  // Receives each formatted line without its trailing newline.
  using Sink = std::function<void(const std::string& line)>;

  // Logs to stderr at `level` and above.
  explicit Logger(LogLevel level = LogLevel::kInfo,
                  LogFormat format = LogFormat::kText);
  Logger(LogLevel level, Sink sink, LogFormat format = LogFormat::kText);

  Logger(const Logger&) = delete;
  Logger& operator=(const Logger&) = delete;

  void Debug(const std::string& message) { Log(LogLevel::kDebug, message); }
  void Info(const std::string& message) { Log(LogLevel::kInfo, message); }
  void Warn(const std::string& message) { Log(LogLevel::kWarn, message); }
  void Error(const std::string& message) { Log(LogLevel::kError, message); }
  void Log(LogLevel level, const std::string& message);
  bool Enabled(LogLevel level) const { return level >= level_; }

 private:
  const LogLevel level_;
  const LogFormat format_;
  std::mutex mu_;
  Sink sink_;  // guarded by mu_
};

}  // namespace notifications

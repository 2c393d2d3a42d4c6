// LogLimiter: at most one log line per interval for one kind of event
// (refused streams, bad requests, cut streams...), so that a flood costs a
// line every few seconds instead of a line per event, and says how many it
// stood for. Messages are escaped (EscapeForLog) before they are logged.
//
//   first event            -> logged at once
//   events within interval -> counted, the last one kept
//   next event after it    -> logged with " (and N more like it since the
//                             previous line)"
//   Flush() after it       -> the last one kept, with the same suffix for
//                             the others
//
// Thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>

#include "clock.h"
#include "logger.h"

namespace notifications {

class LogLimiter {
 public:
  // `logger` and `clock` must outlive the limiter.
  LogLimiter(Logger& logger, Clock& clock, LogLevel level,
             std::chrono::milliseconds interval);
  LogLimiter(const LogLimiter&) = delete;
  LogLimiter& operator=(const LogLimiter&) = delete;

  // Logs `message` now, or counts it (see above).
  void Log(std::string message);
  // Logs the last counted message if the interval has passed. Call it from
  // time to time (the server loops do, on their tick).
  void Flush();
  bool Enabled() const { return logger_.Enabled(level_); }

 private:
  void EmitLocked(const std::string& message, size_t others);

  Logger& logger_;
  Clock& clock_;
  const LogLevel level_;
  const std::chrono::milliseconds interval_;
  std::mutex mu_;
  // guarded by mu_:
  bool logged_once_ = false;
  std::chrono::steady_clock::time_point next_;
  size_t pending_ = 0;
  std::string last_;
};

// `text` with every byte below 0x20, 0x7F and every byte that is not part
// of valid UTF-8 written as \xHH, and '\\' as "\\\\": a request path or a
// header from the network cannot forge log lines or terminal escapes.
std::string EscapeForLog(std::string_view text);

}  // namespace notifications

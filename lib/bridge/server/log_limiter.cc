#include "log_limiter.h"

namespace notifications {

LogLimiter::LogLimiter(Logger& logger, Clock& clock, LogLevel level,
                       std::chrono::milliseconds interval)
    : logger_(logger), clock_(clock), level_(level), interval_(interval) {}

void LogLimiter::EmitLocked(const std::string& message, size_t others) {
  std::string line = message;
  if (others > 0) {
    line += " (and " + std::to_string(others) +
            " more like it since the previous line)";
  }
  logger_.Log(level_, line);
}

void LogLimiter::Log(std::string message) {
  if (!logger_.Enabled(level_)) return;
  auto now = clock_.Now();
  std::lock_guard<std::mutex> lock(mu_);
  if (!logged_once_ || now >= next_) {
    EmitLocked(message, pending_);
    logged_once_ = true;
    pending_ = 0;
    last_.clear();
    next_ = now + interval_;
    return;
  }
  ++pending_;
  last_ = std::move(message);
}

void LogLimiter::Flush() {
  if (!logger_.Enabled(level_)) return;
  auto now = clock_.Now();
  std::lock_guard<std::mutex> lock(mu_);
  if (pending_ == 0 || now < next_) return;
  EmitLocked(last_, pending_ - 1);
  pending_ = 0;
  last_.clear();
  next_ = now + interval_;
}

std::string EscapeForLog(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(text.size());
  auto escape = [&out](unsigned char c) {
    out += "\\x";
    out += kHex[c >> 4];
    out += kHex[c & 0xf];
  };
  for (size_t i = 0; i < text.size();) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x20 || c == 0x7F) {
      escape(c);
      ++i;
    } else if (c == '\\') {
      out += "\\\\";
      ++i;
    } else if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      ++i;
    } else {
      // A well-formed UTF-8 sequence is kept; C1 controls (U+0080..U+009F)
      // and bidirectional overrides are not text a path needs.
      size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
      bool ok = n > 0 && i + n <= text.size();
      for (size_t k = 1; ok && k < n; ++k) {
        ok = (static_cast<unsigned char>(text[i + k]) & 0xC0) == 0x80;
      }
      if (ok && n == 2 && c == 0xC2 &&
          static_cast<unsigned char>(text[i + 1]) < 0xA0) {
        ok = false;  // C1 control.
      }
      if (ok && n == 3) {
        auto b1 = static_cast<unsigned char>(text[i + 1]);
        auto b2 = static_cast<unsigned char>(text[i + 2]);
        if ((c == 0xE0 && b1 < 0xA0) || (c == 0xED && b1 >= 0xA0)) ok = false;
        // U+202A..U+202E, U+2066..U+2069: bidirectional controls.
        if (c == 0xE2 && ((b1 == 0x80 && b2 >= 0xAA && b2 <= 0xAE) ||
                          (b1 == 0x81 && b2 >= 0xA6 && b2 <= 0xA9))) {
          ok = false;
        }
      }
      if (ok && n == 4) {
        auto b1 = static_cast<unsigned char>(text[i + 1]);
        if ((c == 0xF0 && b1 < 0x90) || c > 0xF4 || (c == 0xF4 && b1 >= 0x90)) {
          ok = false;
        }
      }
      if (ok) {
        out.append(text.substr(i, n));
        i += n;
      } else {
        escape(c);
        ++i;
      }
    }
  }
  return out;
}

}  // namespace notifications

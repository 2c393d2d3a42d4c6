#include "number_option.h"

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace notifications {
namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// True when `s` matches the `decimal` grammar of number_option.h.
bool IsDecimal(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
  size_t integer = 0, fraction = 0;
  while (i < s.size() && IsDigit(s[i])) ++i, ++integer;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && IsDigit(s[i])) ++i, ++fraction;
  }
  if (integer == 0 && fraction == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    size_t exponent = 0;
    while (i < s.size() && IsDigit(s[i])) ++i, ++exponent;
    if (exponent == 0) return false;
  }
  return i == s.size();
}

// `value` as the shortest text that reads back exactly ("0.01", "3600").
std::string Shortest(double value) {
  char text[32];
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    std::snprintf(text, sizeof text, "%.0f", value);
    return text;
  }
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(text, sizeof text, "%.*g", precision, value);
    if (std::strtod(text, nullptr) == value) break;
  }
  return text;
}

// `text` for a message: at most 40 bytes, controls shown as '?'.
std::string Shown(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size() && i < 40; ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    out += c < 0x20 || c == 0x7F ? '?' : text[i];
  }
  if (text.size() > 40) out += "...";
  return out;
}

std::string DecimalError(std::string_view text, double min, double max,
                         const std::string& unit) {
  return "must be a number" + (unit.empty() ? "" : " of " + unit) + " from " +
         Shortest(min) + " to " + Shortest(max) + ", got \"" + Shown(text) +
         "\"";
}

CLI::Validator DecimalIn(double min, double max, const std::string& unit,
                         const std::string& label) {
  return CLI::Validator(
      [min, max, unit](std::string& value) -> std::string {
        Result<double> parsed = ParseDecimal(value, min, max, unit);
        if (!parsed.ok()) return parsed.status().message();
        value = Shortest(*parsed);
        return "";
      },
      label + " in [" + Shortest(min) + " - " + Shortest(max) + "]");
}

}  // namespace

Result<double> ParseDecimal(std::string_view text, double min, double max,
                            const std::string& unit) {
  if (!IsDecimal(text)) {
    return Status::InvalidArgument(DecimalError(text, min, max, unit));
  }
  const std::string copy(text);
  errno = 0;
  char* end = nullptr;
  double value = std::strtod(copy.c_str(), &end);
  // ERANGE: beyond a double (1e400), or below its smallest (1e-400, read
  // as 0: an honest 0 would not have needed that many digits).
  if (errno == ERANGE || !std::isfinite(value) || value < min || value > max) {
    return Status::InvalidArgument(DecimalError(text, min, max, unit));
  }
  return value;
}

Result<uint64_t> ParseWholeNumber(std::string_view text, uint64_t min,
                                  uint64_t max) {
  auto error = [&] {
    return Status::InvalidArgument(
        "must be a whole number from " + std::to_string(min) + " to " +
        std::to_string(max) + ", got \"" + Shown(text) + "\"");
  };
  std::string_view digits = text;
  if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
  if (digits.empty()) return error();
  uint64_t value = 0;
  for (char c : digits) {
    if (!IsDigit(c)) return error();
    const auto digit = static_cast<uint64_t>(c - '0');
    if (value > (UINT64_MAX - digit) / 10) return error();  // Overflow.
    value = value * 10 + digit;
  }
  if (value < min || value > max) return error();
  return value;
}

CLI::Validator SecondsIn(double min, double max) {
  return DecimalIn(min, max, "seconds", "SECONDS");
}

CLI::Validator NumberIn(double min, double max) {
  return DecimalIn(min, max, "", "NUMBER");
}

CLI::Validator WholeNumberIn(uint64_t min, uint64_t max) {
  return CLI::Validator(
      [min, max](std::string& value) -> std::string {
        Result<uint64_t> parsed = ParseWholeNumber(value, min, max);
        if (!parsed.ok()) return parsed.status().message();
        // Canonical decimal: CLI11 would read "010" as octal.
        value = std::to_string(*parsed);
        return "";
      },
      "UINT in [" + std::to_string(min) + " - " + std::to_string(max) + "]");
}

std::chrono::milliseconds SecondsToMillis(double seconds) {
  return std::chrono::milliseconds(std::llround(seconds * 1000.0));
}

}  // namespace notifications

#include "tail_format.h"

#include <array>
#include <cctype>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http_url.h"
#include "notification_parser.h"
#include "query_string.h"
#include "url_encoding.h"
#include "utf8.h"

namespace notifications {
namespace {

// Appends TerminalText(s).
void AppendPrintable(std::string& out, std::string_view s) {
  out += TerminalText(s);
}

void AppendOptional(std::string& out, const std::optional<std::string>& s) {
  if (s) AppendPrintable(out, std::string_view(*s));
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly `n` digits of `s` at `pos` into `out`.
bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int value = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (!IsDigit(s[i])) return false;
    value = value * 10 + (s[i] - '0');
  }
  *out = value;
  return true;
}

bool IsLeapYear(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

int DaysInMonth(int y, int m) {
  static constexpr std::array<int, 12> kDays = {31, 28, 31, 30, 31, 30,
                                                31, 31, 30, 31, 30, 31};
  return m == 2 && IsLeapYear(y) ? 29 : kDays[static_cast<size_t>(m - 1)];
}

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's
// days_from_civil): timegm() is not standard, and mktime() is local time.
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2 ? 1 : 0;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

}  // namespace

std::string TerminalText(std::string_view text) {
  return ReplaceUnsafeCodePoints(text, /*bidi=*/true,
                                 [](char32_t) { return std::string(" "); });
}

std::string ResetNotice(std::string_view data) {
  std::string notice = "stream reset: ";
  std::string message = ParseResetMessage(data);
  AppendPrintable(notice, message.empty() ? SanitizeUtf8(data) : message);
  return notice;
}

std::optional<std::time_t> ParseRfc3339(std::string_view s) {
  // 2026-11-28T12:00:00[.fff](Z|+hh:mm|-hh:mm)
  int year, month, day, hour, minute, second;
  if (s.size() < 20 || !Digits(s, 0, 4, &year) || s[4] != '-' ||
      !Digits(s, 5, 2, &month) || s[7] != '-' || !Digits(s, 8, 2, &day) ||
      (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      !Digits(s, 11, 2, &hour) || s[13] != ':' || !Digits(s, 14, 2, &minute) ||
      s[16] != ':' || !Digits(s, 17, 2, &second)) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month) ||
      hour > 23 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  size_t pos = 19;
  if (s[pos] == '.') {
    size_t digits = 0;
    while (++pos < s.size() && IsDigit(s[pos])) ++digits;
    if (digits == 0) return std::nullopt;
  }
  if (pos >= s.size()) return std::nullopt;
  int offset_minutes = 0;
  if (s[pos] == 'Z' || s[pos] == 'z') {
    ++pos;
  } else if (s[pos] == '+' || s[pos] == '-') {
    int oh, om;
    if (!Digits(s, pos + 1, 2, &oh) || pos + 3 >= s.size() ||
        s[pos + 3] != ':' || !Digits(s, pos + 4, 2, &om) || oh > 23 ||
        om > 59) {
      return std::nullopt;
    }
    offset_minutes = (oh * 60 + om) * (s[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  int64_t seconds = DaysFromCivil(year, month, day) * 86400 + hour * 3600 +
                    minute * 60 + second - offset_minutes * 60;
  return static_cast<std::time_t>(seconds);
}

std::string FormatNotificationLine(const Notification& n,
                                   std::time_t received_at) {
  std::time_t when = ParseRfc3339(n.time).value_or(received_at);
  std::tm local{};
  char stamp[64] = "";
  if (localtime_r(&when, &local) == nullptr ||
      std::strftime(stamp, sizeof stamp, "%b %d %H:%M:%S", &local) == 0) {
    stamp[0] = '\0';  // Out of the platform's range: an empty time, not a lie.
  }
  std::string line;
  line.reserve(64 + (n.text ? n.text->size() : 0) +
               (n.link ? n.link->size() : 0));
  line += '[';
  line += stamp;
  line += "] <";
  AppendOptional(line, n.project);
  line += '/';
  AppendOptional(line, n.group);
  line += "> ";
  AppendOptional(line, n.text);
  if (n.link && !n.link->empty()) {
    line += " \xE2\x80\x94 ";  // U+2014 EM DASH
    AppendPrintable(line, *n.link);
  }
  return line;
}

namespace {

// Where the query of `url` starts (after '?') and ends (its fragment or
// the end), or npos when it has none.
std::pair<size_t, size_t> QueryRange(std::string_view url) {
  const size_t hash = url.find('#');
  const size_t end = hash == std::string_view::npos ? url.size() : hash;
  const size_t question = url.substr(0, end).find('?');
  if (question == std::string_view::npos) return {std::string_view::npos, 0};
  return {question + 1, end};
}

// As the bridge reads a parameter name: form-decoded ("access%5Ftoken" is
// access_token too).
bool IsAccessToken(std::string_view name) {
  return FormDecode(name) == "access_token";
}

// The parameters of `query` as written, name=value ("" between two '&').
std::vector<std::string_view> SplitQuery(std::string_view query) {
  std::vector<std::string_view> pairs;
  for (size_t at = 0; at <= query.size();) {
    size_t amp = query.find('&', at);
    if (amp == std::string_view::npos) amp = query.size();
    pairs.push_back(query.substr(at, amp - at));
    at = amp + 1;
  }
  return pairs;
}

bool HasAccessToken(std::string_view url) {
  auto [begin, end] = QueryRange(url);
  if (begin == std::string_view::npos) return false;
  for (std::string_view pair : SplitQuery(url.substr(begin, end - begin))) {
    if (IsAccessToken(pair.substr(0, pair.find('=')))) return true;
  }
  return false;
}

}  // namespace

std::string RedactStreamUrl(std::string_view url) {
  // The fragment is never sent: left out (it could hold anything).
  std::string text = RedactUserinfo(url.substr(0, url.find('#')));
  auto [begin, end] = QueryRange(text);
  if (begin == std::string::npos) return text;
  std::string out = text.substr(0, begin);
  const std::vector<std::string_view> pairs =
      SplitQuery(std::string_view(text).substr(begin, end - begin));
  for (size_t i = 0; i < pairs.size(); ++i) {
    if (i > 0) out += '&';
    const size_t eq = pairs[i].find('=');
    if (eq != std::string_view::npos && IsAccessToken(pairs[i].substr(0, eq))) {
      out += pairs[i].substr(0, eq);
      out += "=***";
    } else {
      out += pairs[i];
    }
  }
  return out + text.substr(end);
}

Result<std::string> BuildStreamUrl(const std::string& base,
                                   const StreamFilters& filters,
                                   const std::string& access_token) {
  Result<HttpUrl> parsed = ParseHttpUrl(base, "http://127.0.0.1:8080/events");
  if (!parsed.ok()) {
    return Status::InvalidArgument("invalid URL \"" + RedactStreamUrl(base) +
                                   "\": " + parsed.status().message());
  }
  if (!access_token.empty() && HasAccessToken(base)) {
    return Status::InvalidArgument(
        "the URL already has an access_token: give the stream token once, "
        "in the URL or with --token-file / NOTIFICATIONS_TAIL_TOKEN");
  }
  std::string url = base.substr(0, base.find('#'));

  std::string query;
  for (const std::string& v : filters.projects)
    AppendQueryParameter(query, "project", v);
  for (const std::string& v : filters.groups)
    AppendQueryParameter(query, "group", v);
  for (const std::string& v : filters.services)
    AppendQueryParameter(query, "service", v);
  for (const std::string& v : filters.types)
    AppendQueryParameter(query, "type", v);
  for (const std::string& v : filters.keys)
    AppendQueryParameter(query, "key", v);
  if (filters.backlog) {
    AppendQueryParameter(query, "backlog", std::to_string(*filters.backlog));
  }
  if (!access_token.empty()) {
    AppendQueryParameter(query, "access_token", access_token);
  }
  if (query.empty()) return url;
  if (url.find('?') == std::string::npos) {
    url += '?';
  } else if (url.back() != '?' && url.back() != '&') {
    url += '&';
  }
  return url + query;
}

}  // namespace notifications

#include "mock_page.h"

#include <algorithm>

#include "notification_json.h"
#include "url_encoding.h"

namespace notifications {
namespace {

bool IsPrintableAscii(char c) { return c >= 0x21 && c <= 0x7e; }

// A whole number of at most 9 digits within [min, max].
bool ParseCount(const std::string& text, size_t min, size_t max,
                size_t* value) {
  if (text.empty() || text.size() > 9) return false;
  size_t n = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + static_cast<size_t>(c - '0');
  }
  if (n < min || n > max) return false;
  *value = n;
  return true;
}

// The value of `name` in `params` (the first), or nullopt.
std::optional<std::string> Param(
    const std::multimap<std::string, std::string>& params, const char* name) {
  auto it = params.find(name);
  if (it == params.end()) return std::nullopt;
  return it->second;
}

}  // namespace

size_t CountQueryParameter(const std::string& target, const std::string& name) {
  size_t question = target.find('?');
  if (question == std::string::npos) return 0;
  size_t count = 0;
  size_t begin = question + 1;
  while (begin <= target.size()) {
    size_t end = std::min(target.find('&', begin), target.size());
    size_t equals = std::min(target.find('=', begin), end);
    std::string key;
    for (size_t i = begin; i < equals; ++i) {
      char c = target[i];
      if (c == '%' && i + 2 < equals && HexDigitValue(target[i + 1]) >= 0 &&
          HexDigitValue(target[i + 2]) >= 0) {
        key += static_cast<char>(HexDigitValue(target[i + 1]) * 16 +
                                 HexDigitValue(target[i + 2]));
        i += 2;
      } else {
        key += c == '+' ? ' ' : c;
      }
    }
    if (key == name) ++count;
    begin = end + 1;
  }
  return count;
}

Result<MockPageRequest> ParsePageRequest(
    const std::string& target,
    const std::multimap<std::string, std::string>& params, size_t default_limit,
    size_t max_limit) {
  for (const char* name : {"after", "limit", "wait"}) {
    size_t count =
        std::max(params.count(name), CountQueryParameter(target, name));
    if (count > 1) {
      return Status::InvalidArgument(std::string("parameter ") + name +
                                     " appears " + std::to_string(count) +
                                     " times; give it at most once");
    }
  }
  MockPageRequest request;
  request.limit = default_limit;
  if (std::optional<std::string> text = Param(params, "limit")) {
    if (!ParseCount(*text, 1, max_limit, &request.limit)) {
      return Status::InvalidArgument("limit must be an integer from 1 to " +
                                     std::to_string(max_limit) + ", got " +
                                     Quote(*text));
    }
  }
  if (std::optional<std::string> after = Param(params, "after")) {
    if (!IsValidId(*after)) {
      return Status::InvalidArgument(
          "after must be a notification id (1 to 128 characters among "
          "A-Z a-z 0-9 . _ : -), got " +
          Quote(*after));
    }
    request.after = std::move(after);
  }
  // Long-poll (docs/delivery-api.md): hold an empty answer up to `wait`.
  if (std::optional<std::string> text = Param(params, "wait")) {
    size_t seconds = 0;
    // "0" turns long-poll off; any other spelling of 0 ("00") is refused.
    if (*text != "0" && !ParseCount(*text, 1, kMockMaxWaitSeconds, &seconds)) {
      return Status::InvalidArgument(
          "wait must be a whole number of seconds from 0 to " +
          std::to_string(kMockMaxWaitSeconds) + ", got " + Quote(*text));
    }
    request.wait = std::chrono::seconds(seconds);
  }
  return request;
}

std::string GateAnswerToJson(const Notification& n) {
  return "{\"id\":" + JsonString(n.id) + ",\"time\":" + JsonString(n.time) +
         ",\"routingKey\":" + JsonString(n.RoutingKey()) + "}";
}

const char* ErrorCodeFor(int status) {
  switch (status) {
    case 400:
      return "bad_request";
    case 401:
      return "unauthorized";
    case 404:
      return "not_found";
    case 405:
      return "method_not_allowed";
    case 410:
      return "gone";
    case 413:
      return "payload_too_large";
    case 414:
      return "uri_too_long";
    default:
      return status >= 500 ? "internal" : "error";
  }
}

std::string Quote(const std::string& value) {
  constexpr size_t kMax = 64;
  std::string out = "\"";
  for (size_t i = 0; i < value.size() && i < kMax; ++i) {
    char c = value[i];
    out += (IsPrintableAscii(c) || c == ' ') && c != '"' ? c : '?';
  }
  if (value.size() > kMax) out += "...";
  out += '"';
  return out;
}

}  // namespace notifications

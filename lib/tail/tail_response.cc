#include "tail_response.h"

#include <algorithm>

#include "backoff.h"
#include "notification.h"
#include "notification_parser.h"

namespace notifications {
namespace {

using std::chrono::milliseconds;

std::string AsciiTrimLower(std::string_view s) {
  size_t b = s.find_first_not_of(" \t");
  size_t e = s.find_last_not_of(" \t");
  if (b == std::string_view::npos) return "";
  return AsciiLower(std::string(s.substr(b, e - b + 1)));
}

// True when the path of `url` (before '?' or '#') ends in "/events".
bool PathEndsInEvents(const std::string& url) {
  std::string path = url.substr(0, url.find_first_of("?#"));
  const std::string suffix = "/events";
  return path.size() >= suffix.size() &&
         path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

bool IsEventStream(std::string_view content_type) {
  return AsciiTrimLower(content_type.substr(0, content_type.find(';'))) ==
         "text/event-stream";
}

std::string DescribeRejectedStream(const std::string& url, long status,
                                   const std::string& content_type,
                                   std::string_view body) {
  if (status == 400 || status == 401) {
    std::string error = ParseErrorBody(body);
    if (!error.empty()) {
      return url + " answered HTTP " + std::to_string(status) + ": " + error;
    }
  }
  std::string message = url;
  if (status != 200) {
    message += " answered HTTP " + std::to_string(status);
  } else if (content_type.empty()) {
    message += " answered without a Content-Type";
  } else {
    std::string shown;
    for (char c : content_type) shown += (c < 0x20 || c == 0x7F) ? ' ' : c;
    message += " answered with Content-Type " + shown;
  }
  message +=
      ": not a notifications bridge stream (expected 200 "
      "text/event-stream)";
  if (!PathEndsInEvents(url)) {
    message +=
        " \xE2\x80\x94 is the path right? A bridge's stream is at /events";
  }
  return message;
}

milliseconds TailRetryDelay(milliseconds retry_ms, uint32_t failures,
                            milliseconds max_delay, double unit_random) {
  retry_ms = std::clamp(retry_ms, milliseconds(0), kMaxServerRetry);
  if (failures <= 1) return retry_ms;
  // Grow from the server's delay (at least 1 s, so that a retry: 0 does not
  // turn a dead server into a busy loop).
  BackoffPolicy policy{std::max(retry_ms, milliseconds(1000)),
                       std::max(max_delay, retry_ms)};
  return std::max(retry_ms, BackoffDelay(policy, failures, unit_random));
}

}  // namespace notifications

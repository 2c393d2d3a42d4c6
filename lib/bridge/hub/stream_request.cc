#include "stream_request.h"

#include <algorithm>
#include <utility>

namespace notifications {

Result<StreamRequest> ParseStreamRequest(
    const std::multimap<std::string, std::string>& params,
    const std::string& last_event_id_header, size_t history_capacity) {
  StreamRequest request;
  if (params.count("backlog") > 1 || params.count("lastEventId") > 1) {
    return Status::InvalidArgument("backlog and lastEventId may appear once");
  }
  auto backlog = params.find("backlog");
  if (backlog != params.end()) {
    const std::string& b = backlog->second;
    // At most 9 digits: the value fits any size_t without overflow checks.
    if (b.empty() || b.size() > 9 ||
        b.find_first_not_of("0123456789") != std::string::npos) {
      return Status::InvalidArgument(
          "backlog must be a whole number, e.g. backlog=50");
    }
    size_t n = 0;
    for (char c : b) n = n * 10 + static_cast<size_t>(c - '0');
    request.backlog = std::min(n, history_capacity);
  }
  // The header (a browser's own reconnect) wins over the parameter.
  std::string last = last_event_id_header;
  if (last.empty()) {
    auto param = params.find("lastEventId");
    if (param != params.end()) last = param->second;
  }
  if (!last.empty()) {
    if (!IsValidId(last)) {
      return Status::InvalidArgument(
          "Last-Event-ID must be 1-128 characters of [A-Za-z0-9._:-]");
    }
    request.last_event_id = std::move(last);
  }
  Result<Filter> filter = Filter::FromQuery(params);
  if (!filter.ok()) return filter.status();
  request.filter = std::move(filter).value();
  return request;
}

}  // namespace notifications

#include "delivery_page.h"

#include <algorithm>
#include <set>

#include "notification_json.h"

namespace notifications {
namespace {

// A decimal integer in [lo, hi], digits only (no sign, no space).
std::optional<int64_t> Integer(const std::string& text, int64_t lo,
                               int64_t hi) {
  if (text.empty() || text.size() > 9) return std::nullopt;
  int64_t v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  if (v < lo || v > hi) return std::nullopt;
  return v;
}

std::string Quoted(const std::string& s) { return JsonString(s); }

}  // namespace

Result<DeliveryQuery> ParseDeliveryQuery(
    const std::vector<std::pair<std::string, std::string>>& params) {
  DeliveryQuery q;
  std::set<std::string> seen;
  for (const auto& [name, value] : params) {
    if (name != "after" && name != "limit" && name != "wait") continue;
    if (!seen.insert(name).second) {
      return Status::InvalidArgument("parameter " + name + " is repeated");
    }
    if (name == "after") {
      if (!IsValidId(value)) {
        return Status::InvalidArgument(
            "after must be an id (1 to 128 bytes of [A-Za-z0-9._:-]), got " +
            Quoted(value));
      }
      q.after = value;
    } else if (name == "limit") {
      std::optional<int64_t> v = Integer(value, 1, 1000);
      if (!v) {
        return Status::InvalidArgument(
            "limit must be an integer from 1 to 1000, got " + Quoted(value));
      }
      q.limit = static_cast<size_t>(*v);
    } else {
      // "0" turns long-poll off; another spelling of 0 ("00") is refused,
      // as the mock does.
      std::optional<int64_t> v =
          value == "0" ? std::optional<int64_t>(0) : Integer(value, 1, 300);
      if (!v) {
        return Status::InvalidArgument(
            "wait must be an integer from 0 to 300, got " + Quoted(value));
      }
      q.wait = std::chrono::seconds(*v);
    }
  }
  return q;
}

DeliveryAnswer RenderDeliveryPage(const EventHub::Snapshot& snapshot,
                                  const DeliveryQuery& query,
                                  bool include_raw_content,
                                  size_t max_page_bytes) {
  DeliveryAnswer answer;
  const std::vector<HubEventPtr>& history = snapshot.history;
  size_t start = 0;
  if (query.after) {
    const std::string& after = *query.after;
    if (!snapshot.horizon_id.empty()) {
      int c = CompareIds(after, snapshot.horizon_id);
      if (c < 0 || (c == 0 && snapshot.horizon_inclusive)) {
        answer.status = 410;
        answer.body = ErrorToJson(
            "gone", "cursor " + after +
                        " is no longer retained; restart without after");
        return answer;
      }
    }
    start = static_cast<size_t>(
        std::upper_bound(history.begin(), history.end(), after,
                         [](const std::string& id, const HubEventPtr& e) {
                           return CompareIds(id, e->id) < 0;
                         }) -
        history.begin());
  }
  const size_t last = std::min(history.size(), start + query.limit);
  std::vector<Notification> items;
  size_t end = start, bytes = 0;
  for (; end < last; ++end) {
    Notification n = history[end]->notification;
    if (!include_raw_content) n.raw_content.reset();
    bytes += n.ByteSize();
    if (!items.empty() && bytes > max_page_bytes) break;
    items.push_back(std::move(n));
  }
  std::string cursor =
      items.empty() ? query.after.value_or("") : items.back().id;
  answer.body = PageToJson(items, cursor, end < history.size());
  answer.empty = items.empty() && query.wait.count() > 0;
  return answer;
}

}  // namespace notifications

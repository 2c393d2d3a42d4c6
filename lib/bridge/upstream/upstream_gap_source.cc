#include "upstream_gap_source.h"

namespace notifications {

UpstreamGapSource::UpstreamGapSource(DeliveryClient& client, Clock& clock,
                                     std::chrono::milliseconds cache_ttl,
                                     std::atomic<uint64_t>* request_counter)
    : client_(client),
      clock_(clock),
      cache_ttl_(cache_ttl),
      request_counter_(request_counter) {}

uint64_t UpstreamGapSource::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

Result<std::vector<Notification>> UpstreamGapSource::FetchAfter(
    const std::string& after_id, const std::string& stop_at, size_t max_items) {
  std::lock_guard<std::mutex> lock(mu_);
  const auto now = clock_.Now();
  const std::string key = after_id + " " + stop_at;
  for (auto it = cache_.begin(); it != cache_.end();) {
    it = now - it->second.at > cache_ttl_ ? cache_.erase(it) : std::next(it);
  }
  if (auto it = cache_.find(key); it != cache_.end()) return it->second.result;

  std::vector<Notification> items;
  std::optional<std::string> cursor = after_id;
  Status failure;
  while (true) {
    ++requests_;
    if (request_counter_)
      request_counter_->fetch_add(1, std::memory_order_relaxed);
    FetchResult fetched = client_.FetchPage(cursor);
    if (fetched.error == FetchError::kGone) {
      // Only the first page can be gone: later cursors are ids it just gave.
      failure = Status::Error(Status::Code::kGone,
                              "the delivery API does not know it");
      break;
    }
    if (fetched.error != FetchError::kNone) {
      failure = Status::Unavailable(std::string("delivery API ") +
                                    FetchErrorName(fetched.error) + ": " +
                                    fetched.message);
      break;
    }
    bool reached_stop = false;
    const std::string now_time = FormatRfc3339(clock_.WallMillis());
    for (Notification& n : fetched.page.notifications) {
      if (CompareIds(n.id, *cursor) <= 0) continue;  // Overlap: not new.
      if (n.time.empty()) n.time = now_time;
      bool stop = !stop_at.empty() && CompareIds(n.id, stop_at) >= 0;
      items.push_back(std::move(n));
      if (stop) {
        reached_stop = true;
        break;
      }
    }
    if (items.size() > max_items) {
      failure = Status::InvalidArgument(
          "more than " + std::to_string(max_items) + " notifications missed");
      break;
    }
    if (reached_stop || !fetched.page.more || items.empty() ||
        CompareIds(items.back().id, *cursor) <= 0) {
      break;
    }
    cursor = items.back().id;
  }
  Result<std::vector<Notification>> result =
      failure.ok() ? Result<std::vector<Notification>>(std::move(items))
                   : Result<std::vector<Notification>>(failure);
  // Failures are not cached (except gone): the next client may have luck.
  if (failure.ok() || failure.code() == Status::Code::kGone) {
    cache_.insert_or_assign(key, Cached{now, result});
  }
  return result;
}

}  // namespace notifications

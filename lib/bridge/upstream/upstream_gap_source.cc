#include "upstream_gap_source.h"

namespace notifications {

struct UpstreamGapSource::Client {
  Client(std::unique_ptr<HttpClient> h, const DeliveryOptions& options)
      : http(std::move(h)), delivery(*http, options) {}
  std::unique_ptr<HttpClient> http;
  DeliveryClient delivery;
};

UpstreamGapSource::UpstreamGapSource(
    std::function<std::unique_ptr<HttpClient>()> make_http,
    DeliveryOptions options, Clock& clock,
    std::atomic<uint64_t>* request_counter, size_t max_idle, size_t max_bytes)
    : make_http_(std::move(make_http)),
      options_(std::move(options)),
      clock_(clock),
      request_counter_(request_counter),
      max_idle_(max_idle),
      max_bytes_(max_bytes) {}

UpstreamGapSource::~UpstreamGapSource() = default;

std::unique_ptr<UpstreamGapSource::Client> UpstreamGapSource::Acquire() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      std::unique_ptr<Client> client = std::move(idle_.back());
      idle_.pop_back();
      return client;
    }
  }
  // Outside the lock: a new client may open files (curl's handles).
  return std::make_unique<Client>(make_http_(), options_);
}

void UpstreamGapSource::Release(std::unique_ptr<Client> client) {
  std::lock_guard<std::mutex> lock(mu_);
  // Past max_idle the client (and its connection) is dropped here.
  if (idle_.size() < max_idle_) idle_.push_back(std::move(client));
}

void UpstreamGapSource::Stop() { stop_token_.Cancel(); }

Result<std::vector<Notification>> UpstreamGapSource::FetchAfter(
    const std::string& after_id, const std::string& stop_at, size_t max_items) {
  if (stop_token_.IsCancelled()) {
    return Status::Unavailable("the bridge is stopping");
  }
  std::unique_ptr<Client> client = Acquire();
  std::vector<Notification> items;
  size_t bytes = 0;  // Their Notification::ByteSize().
  std::optional<std::string> cursor = after_id;
  Status failure;
  while (true) {
    requests_.fetch_add(1, std::memory_order_relaxed);
    if (request_counter_) {
      request_counter_->fetch_add(1, std::memory_order_relaxed);
    }
    FetchResult fetched =
        client->delivery.FetchPage(cursor, /*wait=*/false, &stop_token_);
    if (fetched.cancelled) {
      failure = Status::Unavailable("the bridge is stopping");
      break;
    }
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
      bytes += n.ByteSize();
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
    if (bytes > max_bytes_) {
      failure =
          Status::InvalidArgument("more than " + std::to_string(max_bytes_) +
                                  " bytes of notifications missed");
      break;
    }
    // The page's cursor covers skipped items too: paging goes on past them.
    std::string next = fetched.page.cursor;
    if (!items.empty() && CompareIds(items.back().id, next) > 0) {
      next = items.back().id;
    }
    if (reached_stop || !fetched.page.more || next.empty() ||
        CompareIds(next, *cursor) <= 0) {
      break;
    }
    if (!stop_at.empty() && CompareIds(next, stop_at) >= 0) break;
    cursor = next;
  }
  // A client whose transfer was cancelled is fine to reuse (it dropped the
  // connection); after Stop() nobody will.
  Release(std::move(client));
  if (!failure.ok()) return failure;
  return items;
}

}  // namespace notifications

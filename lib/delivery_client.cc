#include "delivery_client.h"

namespace notifications {

const char* FetchErrorName(FetchError error) {
  switch (error) {
    case FetchError::kNone: return "none";
    case FetchError::kConnect: return "connect";
    case FetchError::kTimeout: return "timeout";
    case FetchError::kTransport: return "transport";
    case FetchError::kTooLarge: return "too_large";
    case FetchError::kGone: return "gone";
    case FetchError::kUnauthorized: return "unauthorized";
    case FetchError::kHttpClient: return "http_4xx";
    case FetchError::kHttpServer: return "http_5xx";
    case FetchError::kNotJson: return "not_json";
    case FetchError::kMalformed: return "malformed";
  }
  return "unknown";
}

DeliveryClient::DeliveryClient(HttpClient& http, DeliveryOptions options)
    : http_(http), options_(std::move(options)) {
  while (!options_.base_url.empty() && options_.base_url.back() == '/') {
    options_.base_url.pop_back();
  }
}

std::string DeliveryClient::PageUrl(const std::optional<std::string>& after,
                                    bool wait) const {
  // Ids are [A-Za-z0-9._:-] by contract (checked before they become a
  // cursor), so they need no percent-encoding.
  std::string url = options_.base_url + "/notifications?limit=" +
                    std::to_string(options_.page_limit);
  if (after) url += "&after=" + *after;
  if (wait && options_.long_poll.count() > 0) {
    url += "&wait=" + std::to_string(options_.long_poll.count());
  }
  return url;
}

FetchResult DeliveryClient::FetchPage(const std::optional<std::string>& after,
                                      bool wait) {
  FetchResult result;
  HttpRequest request;
  request.url = PageUrl(after, wait);
  if (!options_.token.empty()) {
    request.headers["Authorization"] = "Bearer " + options_.token;
  }
  request.headers["Accept"] = "application/json";
  request.connect_timeout = options_.connect_timeout;
  request.total_timeout = options_.total_timeout;
  if (wait) request.total_timeout += options_.long_poll;
  request.max_body_bytes = options_.max_page_bytes;

  HttpResponse response = http_.Get(request);
  switch (response.error) {
    case HttpResponse::Error::kNone: break;
    case HttpResponse::Error::kConnect:
      result.error = FetchError::kConnect;
      break;
    case HttpResponse::Error::kTimeout:
      result.error = FetchError::kTimeout;
      break;
    case HttpResponse::Error::kTooLarge:
      result.error = FetchError::kTooLarge;
      break;
    case HttpResponse::Error::kTransport:
      result.error = FetchError::kTransport;
      break;
  }
  if (result.error != FetchError::kNone) {
    result.message = response.error_message;
    return result;
  }

  const int status = response.status;
  if (status != 200) {
    if (status == 410) {
      result.error = FetchError::kGone;
    } else if (status == 401 || status == 403) {
      result.error = FetchError::kUnauthorized;
    } else if (status >= 400 && status < 500) {
      result.error = FetchError::kHttpClient;
    } else {
      result.error = FetchError::kHttpServer;
    }
    std::string detail = ParseErrorBody(response.body);
    result.message = "HTTP " + std::to_string(status) +
                     (detail.empty() ? "" : " (" + detail + ")");
    return result;
  }
  // "application/json" or a "+json" type, parameters allowed.
  const std::string& type = response.content_type;
  std::string media = type.substr(0, type.find(';'));
  while (!media.empty() && media.back() == ' ') media.pop_back();
  bool json = media == "application/json" ||
              (media.size() > 5 && media.compare(media.size() - 5, 5, "+json") == 0);
  if (!json) {
    result.error = FetchError::kNotJson;
    result.message = "expected application/json, got Content-Type \"" +
                     type.substr(0, 100) + "\"";
    return result;
  }
  Result<Page> page = ParsePage(response.body, options_.page_limit);
  if (!page.ok()) {
    result.error = FetchError::kMalformed;
    result.message = page.status().message();
    return result;
  }
  result.page = std::move(page).value();
  return result;
}

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
    const std::string& after_id, const std::string& stop_at,
    size_t max_items) {
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
    if (request_counter_) request_counter_->fetch_add(1, std::memory_order_relaxed);
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

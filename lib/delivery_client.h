// DeliveryClient: fetches one page of the delivery API's
// `GET {base}/notifications` (docs/delivery-api.md) and classifies every way
// it can fail, so the poller can count, log and back off.
//
// Not thread-safe: it drives one HttpClient, which serves one caller at a
// time. UpstreamGapSource wraps one for concurrent stream threads.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "clock.h"
#include "http_client.h"
#include "notification_parser.h"
#include "stream_session.h"

namespace notifications {

struct DeliveryOptions {
  // Base URL without trailing slash, e.g. "http://127.0.0.1:8081/delivery".
  std::string base_url;
  // Bearer token; empty = none. Never logged.
  std::string token;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds total_timeout{30000};
  // A page body above this many bytes is an error (kTooLarge).
  size_t max_page_bytes = 16 * 1024 * 1024;
  // `limit` asked for each page (the contract allows 1..1000).
  size_t page_limit = 100;
  // Long-poll: ask the API to hold an empty answer up to this long
  // (`wait=` seconds, docs/delivery-api.md). 0 = plain polling. The
  // request's total timeout is extended by it.
  std::chrono::seconds long_poll{0};
};

enum class FetchError {
  kNone,
  kConnect,       // Refused, unreachable, DNS.
  kTimeout,       // connect or total timeout.
  kTransport,     // Reset, truncated body, other transport failure.
  kTooLarge,      // Body above max_page_bytes.
  kGone,          // 410: upstream forgot `after`.
  kUnauthorized,  // 401/403: token missing or wrong.
  kHttpClient,    // Other 4xx.
  kHttpServer,    // 5xx (and unexpected 1xx/3xx).
  kNotJson,       // 200 with a non-JSON Content-Type.
  kMalformed,     // JSON that does not parse or breaks the contract.
};

// Stable lowercase label for logs and metrics: "connect", "timeout", ...
const char* FetchErrorName(FetchError error);

struct FetchResult {
  FetchError error = FetchError::kNone;
  // One line for the log when error != kNone (no secrets, no body dumps).
  std::string message;
  Page page;  // Valid when error == kNone.
};

class DeliveryClient {
 public:
  // `http` must outlive this client.
  DeliveryClient(HttpClient& http, DeliveryOptions options);

  // Fetches the page after `after` (nullopt: from the oldest retained).
  // With `wait` true and options().long_poll set, asks the API to hold the
  // answer until something newer arrives (only the poller does; gap
  // fetches never wait).
  FetchResult FetchPage(const std::optional<std::string>& after, bool wait = false);

  // The URL FetchPage requests, for tests and logs.
  std::string PageUrl(const std::optional<std::string>& after,
                      bool wait = false) const;

  const DeliveryOptions& options() const { return options_; }

 private:
  HttpClient& http_;
  DeliveryOptions options_;
};

// GapSource over the delivery API, for streams resuming after an id the
// bridge's history no longer holds. Thread-safe: fetches are serialised,
// and a result is reused for `cache_ttl` by later requests for the same
// gap, so a reconnect storm of clients with the same Last-Event-ID costs one
// upstream fetch, not one per client.
class UpstreamGapSource final : public GapSource {
 public:
  // `client` and `clock` must outlive this object; `client` must not be used
  // by anyone else.
  // `request_counter`, when given, is incremented per upstream request.
  UpstreamGapSource(DeliveryClient& client, Clock& clock,
                    std::chrono::milliseconds cache_ttl =
                        std::chrono::milliseconds(2000),
                    std::atomic<uint64_t>* request_counter = nullptr);

  Result<std::vector<Notification>> FetchAfter(
      const std::string& after_id, const std::string& stop_at,
      size_t max_items) override;

  // Upstream requests made so far (for metrics and tests).
  uint64_t requests() const;

 private:
  struct Cached {
    std::chrono::steady_clock::time_point at;
    Result<std::vector<Notification>> result;
  };

  DeliveryClient& client_;
  Clock& clock_;
  const std::chrono::milliseconds cache_ttl_;
  std::atomic<uint64_t>* request_counter_;

  mutable std::mutex mu_;
  // guarded by mu_:
  std::map<std::string, Cached> cache_;  // key: after_id + " " + stop_at
  uint64_t requests_ = 0;
};

}  // namespace notifications

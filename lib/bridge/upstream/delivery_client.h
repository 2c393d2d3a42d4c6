// DeliveryClient: fetches one page of the delivery API's
// `GET {base}/notifications` (docs/delivery-api.md) and classifies every way
// it can fail, so the poller can count, log and back off.
//
// Not thread-safe: it drives one HttpClient, which serves one caller at a
// time. UpstreamGapSource (upstream_gap_source.h) wraps one for the
// streams that resume past the history.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>

#include "cancel_token.h"
#include "clock.h"
#include "http_client.h"
#include "notification_parser.h"
#include "upstream_health.h"

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
  // rawContent kept from pages (--raw-content) or dropped while parsing.
  bool keep_raw_content = true;
  // A notification above this many bytes (Notification::ByteSize(), after
  // rawContent was dropped when it is) is skipped (Page::skipped); 0 = none.
  size_t max_item_bytes = 0;
};

struct FetchResult {
  FetchError error = FetchError::kNone;
  // One line for the log when error != kNone (no secrets, no body dumps).
  std::string message;
  // The request was cancelled (the bridge is stopping): not an upstream
  // failure, not to be counted. error is then kTransport.
  bool cancelled = false;
  Page page;  // Valid when error == kNone.
};

class DeliveryClient {
 public:
  // `http` must outlive this client.
  DeliveryClient(HttpClient& http, DeliveryOptions options);

  // Fetches the page after `after` (nullopt: from the oldest retained).
  // With `wait` true and options().long_poll set, asks the API to hold the
  // answer until something newer arrives (only the poller does; gap
  // fetches never wait). `cancel`, when given, aborts the request from
  // another thread (FetchResult::cancelled); it must outlive the call.
  FetchResult FetchPage(const std::optional<std::string>& after,
                        bool wait = false, const CancelToken* cancel = nullptr);

  // The URL FetchPage requests, for tests and logs.
  std::string PageUrl(const std::optional<std::string>& after,
                      bool wait = false) const;

  const DeliveryOptions& options() const { return options_; }

 private:
  HttpClient& http_;
  DeliveryOptions options_;
};

}  // namespace notifications

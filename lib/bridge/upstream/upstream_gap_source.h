// UpstreamGapSource: the GapSource of the polling bridge, over the
// delivery API (`after=` pages).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cancel_token.h"
#include "clock.h"
#include "delivery_client.h"
#include "gap_source.h"
#include "http_client.h"

namespace notifications {

// GapSource over the delivery API, for streams resuming after an id the
// bridge's history no longer holds: pages `after=` from the id until the
// stop id (or upstream's newest).
//
// Thread-safe, and concurrent: each fetch runs on an HTTP client of its
// own, taken from a small pool (created on demand by `make_http`, at most
// `max_idle` kept between fetches), so fetches for distinct ranges proceed
// in parallel. It neither shares nor caches results and does not bound how
// many fetches run at once: put a SharedGapSource (hub) in front of it.
// A gap over `max_bytes` stops being fetched (gap-too-large): items are
// each at most the DeliveryOptions' max_item_bytes, rawContent dropped
// unless kept, as the poller reads them.
class UpstreamGapSource final : public GapSource {
 public:
  // `clock` must outlive this object. `options` are the delivery API's (the
  // poller's; long_poll is never used here). `request_counter`, when
  // given, is incremented per upstream request and must outlive this.
  UpstreamGapSource(std::function<std::unique_ptr<HttpClient>()> make_http,
                    DeliveryOptions options, Clock& clock,
                    std::atomic<uint64_t>* request_counter = nullptr,
                    size_t max_idle = 4,
                    size_t max_bytes = kDefaultMaxGapBytes);
  ~UpstreamGapSource() override;
  UpstreamGapSource(const UpstreamGapSource&) = delete;
  UpstreamGapSource& operator=(const UpstreamGapSource&) = delete;

  // GapSource's contract. Notifications upstream gives without a time are
  // stamped with the time of the fetch; Page::skipped items are left out
  // (the poller reports them). After Stop(): kUnavailable at once.
  Result<std::vector<Notification>> FetchAfter(const std::string& after_id,
                                               const std::string& stop_at,
                                               size_t max_items) override;

  // Cancels every fetch in flight (they return kUnavailable promptly) and
  // every later one. For shutdown.
  void Stop();

  // Upstream requests made so far (for metrics and tests).
  uint64_t requests() const {
    return requests_.load(std::memory_order_relaxed);
  }

 private:
  struct Client;
  std::unique_ptr<Client> Acquire();
  void Release(std::unique_ptr<Client> client);

  const std::function<std::unique_ptr<HttpClient>()> make_http_;
  const DeliveryOptions options_;
  Clock& clock_;
  std::atomic<uint64_t>* request_counter_;
  const size_t max_idle_;
  const size_t max_bytes_;  // Per gap (GapSource).
  std::atomic<uint64_t> requests_{0};
  CancelToken stop_token_;

  std::mutex mu_;
  // guarded by mu_:
  std::vector<std::unique_ptr<Client>> idle_;
};

}  // namespace notifications

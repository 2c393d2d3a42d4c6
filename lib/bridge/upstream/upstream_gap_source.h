// UpstreamGapSource: the GapSource of the polling bridge, over the
// delivery API (`after=` pages).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "clock.h"
#include "delivery_client.h"
#include "gap_source.h"

namespace notifications {

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
  UpstreamGapSource(
      DeliveryClient& client, Clock& clock,
      std::chrono::milliseconds cache_ttl = std::chrono::milliseconds(2000),
      std::atomic<uint64_t>* request_counter = nullptr);

  Result<std::vector<Notification>> FetchAfter(const std::string& after_id,
                                               const std::string& stop_at,
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

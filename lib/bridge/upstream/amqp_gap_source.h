// AmqpGapSource: the GapSource of a bridge consuming a stream queue
// (AmqpSource in stream mode). A stream keeps its messages, so the range a
// resuming client missed is read again from the stream itself: a separate,
// short-lived consumer starting at the client's id, until the offset where
// the bridge's history takes over (or, with an empty history, the live
// source's last offset).
//
//   after_id    a stream offset ("0", "17"...); anything else is kGone (an
//               id of another source or stream: the client gets a reset)
//   the range   more than max_items notifications, or more than
//               max_bytes of them: kInvalidArgument (gap-too-large), found
//               by reading at most that many;
//               already read live: empty (nothing missed)
//   retention   the stream no longer holds offset after_id: kGone (offsets
//               need not be contiguous, but while that message is retained,
//               everything after it is too)
//   failures    broker unreachable, refused, or not done within `timeout`:
//               kUnavailable (the stream ends, the client retries later)
//
// Bodies that are not notifications are skipped as the live source skips
// them (ReadAmqpMessage, the same limits), so ids agree; rawContent is kept
// only when streams carry it. `time` is the message's timestamp, else the time
// of this read.
//
// Thread-safe: fetches are serialised, and a result is reused for
// `cache_ttl` by later requests for the same range, so a reconnect storm of
// clients with the same Last-Event-ID reads the stream once (the results
// kept add up to at most max_bytes). Stop() cuts
// the fetch in progress short (kUnavailable) and fails later ones at once.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "amqp_client.h"
#include "amqp_message.h"
#include "clock.h"
#include "gap_source.h"

namespace notifications {

struct AmqpGapOptions {
  AmqpEndpoint endpoint;
  std::string queue;  // The stream queue.
  uint16_t prefetch = 256;
  AmqpMessageLimits limits;                 // As the live source's.
  size_t max_bytes = kDefaultMaxGapBytes;   // Per gap, and cached.
  std::chrono::milliseconds timeout{5000};  // Per fetch, connect included.
  std::chrono::milliseconds cache_ttl{2000};
};

class AmqpGapSource final : public GapSource {
 public:
  // `connector` and `clock` must outlive this object. `live_offset` gives
  // the live source's last consumed offset (AmqpSource::LastOffset()).
  // `request_counter`, when given, is incremented per stream read.
  AmqpGapSource(AmqpConnector& connector, Clock& clock, AmqpGapOptions options,
                std::function<std::optional<int64_t>()> live_offset,
                std::atomic<uint64_t>* request_counter = nullptr);

  Result<std::vector<Notification>> FetchAfter(const std::string& after_id,
                                               const std::string& stop_at,
                                               size_t max_items) override;

  void Stop();

 private:
  Result<std::vector<Notification>> Read(int64_t after, int64_t last,
                                         size_t max_items);
  // Keeps `result` for cache_ttl, within max_bytes in all (oldest out).
  void CacheLocked(std::pair<int64_t, int64_t> key,
                   std::chrono::steady_clock::time_point now,
                   const Result<std::vector<Notification>>& result);

  AmqpConnector& connector_;
  Clock& clock_;
  const AmqpGapOptions options_;
  const std::function<std::optional<int64_t>()> live_offset_;
  std::atomic<uint64_t>* request_counter_;

  std::mutex mu_;  // Serialises fetches.
  // guarded by mu_:
  struct Cached {
    std::chrono::steady_clock::time_point at;
    Result<std::vector<Notification>> result;
    size_t bytes = 0;
  };
  std::map<std::pair<int64_t, int64_t>, Cached> cache_;
  size_t cache_bytes_ = 0;

  std::mutex active_mu_;
  // guarded by active_mu_:
  AmqpConnection* active_ = nullptr;
  bool stopped_ = false;
};

}  // namespace notifications

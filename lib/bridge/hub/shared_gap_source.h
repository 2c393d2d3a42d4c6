// SharedGapSource: a GapSource in front of another (the delivery API's
// UpstreamGapSource today, a RabbitMQ stream tomorrow) that bounds the
// upstream work a burst of resuming streams can cause.
//
// A reconnect storm sends many streams with old Last-Event-IDs at once;
// each needs the notifications after its id that the history no longer
// holds. Without this, each distinct id costs its own fetch sequence (an
// old id up to a hundred pages), and against a hanging upstream they queue.
// Here:
//   - One fetch per range at a time, shared: callers asking for a range
//     that a running fetch will cover wait for it (a condition variable,
//     not a poll) and take their part of its result. A fetch from id Y
//     covers a caller resuming from X > Y when X turns out to be among its
//     notifications, and a caller with an earlier stop id.
//   - Results are kept `cache_ttl` (2 s) for callers that come later, and
//     at most `max_cache_bytes` of them.
//   - At most `max_concurrent` fetches run upstream at once; distinct
//     ranges proceed in parallel up to it, so one slow fetch never queues
//     the others. A caller that finds no slot within `max_wait` gets
//     kUnavailable (its stream ends, the browser retries after `retry:`).
// So N resumes from k distinct ids cost at most k fetch sequences while
// their results are fresh, and never more than `max_concurrent` at once.
//
// Thread-safe: FetchAfter() from any number of threads (the server's
// bounded pool); Stop() from any thread. The inner source must be safe to
// call concurrently, up to `max_concurrent` calls.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "clock.h"
#include "gap_source.h"
#include "metrics.h"

namespace notifications {

struct SharedGapOptions {
  size_t max_concurrent = 4;                  // Inner fetches at once.
  std::chrono::milliseconds cache_ttl{2000};  // Results reused this long.
  size_t max_cache_bytes = size_t{16} << 20;  // Notification::ByteSize sum.
  // Longest a caller waits for a free slot or for a fetch it shares, in
  // real time; then kUnavailable. Above the inner source's own timeout.
  std::chrono::milliseconds max_wait{60000};
};

class SharedGapSource final : public GapSource {
 public:
  // `inner` and `clock` (for cache ages) must outlive this object.
  // `metrics`, when given, gets gap_requests, gap_shared, gap_rejected and
  // gap_fetches_in_flight.
  SharedGapSource(GapSource& inner, Clock& clock, SharedGapOptions options = {},
                  Metrics* metrics = nullptr);
  SharedGapSource(const SharedGapSource&) = delete;
  SharedGapSource& operator=(const SharedGapSource&) = delete;

  // GapSource's contract. Besides the inner source's errors: kUnavailable
  // when no fetch slot freed up within max_wait ("too many gap fetches in
  // flight"), or after Stop().
  Result<std::vector<Notification>> FetchAfter(const std::string& after_id,
                                               const std::string& stop_at,
                                               size_t max_items) override;

  // Callers waiting (for a slot or a shared fetch) and later ones get
  // kUnavailable at once. Fetches already running upstream finish as the
  // inner source lets them (cancel it too to end them).
  void Stop();

  struct Stats {
    uint64_t requests = 0;  // FetchAfter() calls.
    uint64_t fetches = 0;   // Inner FetchAfter() calls.
    uint64_t shared = 0;    // Answered from another's fetch or the cache.
    uint64_t rejected = 0;  // No slot within max_wait.
  };
  Stats stats() const;

 private:
  // One inner fetch; immutable once `done` (read then without mu_, after
  // seeing `done` under it).
  struct Fetch {
    std::string after;
    std::string stop;
    size_t max_items = 0;
    bool done = false;
    Status status;
    std::vector<Notification> items;
    size_t bytes = 0;
    std::chrono::steady_clock::time_point done_at;
  };
  using FetchPtr = std::shared_ptr<Fetch>;

  // What done `fetch` answers to (after_id, stop_at, max_items), or nothing
  // when it does not cover that range.
  static std::optional<Result<std::vector<Notification>>> Derive(
      const Fetch& fetch, const std::string& after_id,
      const std::string& stop_at, size_t max_items);
  void PurgeLocked(std::chrono::steady_clock::time_point now);
  void CacheLocked(const FetchPtr& fetch);
  void Count(std::atomic<uint64_t> Metrics::*counter);

  GapSource& inner_;
  Clock& clock_;
  const SharedGapOptions options_;
  Metrics* metrics_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  // guarded by mu_:
  std::vector<FetchPtr> running_;
  std::deque<FetchPtr> cache_;  // Done, oldest first.
  size_t cache_bytes_ = 0;
  uint64_t generation_ = 0;  // Bumped when a fetch starts or ends.
  bool stopped_ = false;
  Stats stats_;
};

}  // namespace notifications

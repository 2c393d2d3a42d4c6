// Poller: the bridge's single upstream loop. One request at a time, whatever
// the number of streams: fetch the page after the cursor, drop what was
// already published, stamp and publish the rest, advance the cursor.
//
//   PollOnce()  one request, one step; for tests and for Run().
//   Run()       PollOnce() forever: at once while pages say `more`, every
//               `interval` otherwise, with exponential backoff and jitter
//               after failures; returns after Stop(). With long-poll
//               (DeliveryOptions::long_poll), the next request follows at
//               once after a request the API held; an API that ignores
//               `wait` is polled every `interval` as without it. Either
//               way there is exactly one upstream request in flight.
//
// Thread-safety: Run() and PollOnce() from one thread only; Stop() and
// State() from any thread.
//
// Invariants: the cursor is always the id of the last published
// notification, so it never moves past an item that was not published; an
// id is never published twice (overlapping pages are deduplicated by
// comparing ids with CompareIds()). On 410 the hub is reset and polling
// restarts from the oldest notification upstream retains.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "backoff.h"
#include "clock.h"
#include "delivery_client.h"
#include "event_hub.h"
#include "logger.h"
#include "metrics.h"

namespace notifications {

struct PollerOptions {
  std::chrono::milliseconds interval{5000};  // Between polls when idle.
  BackoffPolicy backoff;                     // After failures.
  uint64_t seed = 0;                         // For backoff jitter; 0 = random.
  // Called on the polling thread each time the cursor moves (after a page
  // was published, or with nullopt after a 410), e.g. to persist it.
  std::function<void(const std::optional<std::string>& cursor)> on_cursor;
};

class Poller {
 public:
  // Every reference must outlive the poller. `initial_cursor`: resume after
  // this id (e.g. from a state file); nullopt starts from the oldest.
  Poller(DeliveryClient& client, EventHub& hub, Metrics& metrics,
         Logger& logger, Clock& clock, PollerOptions options,
         std::optional<std::string> initial_cursor = std::nullopt);

  Poller(const Poller&) = delete;
  Poller& operator=(const Poller&) = delete;

  struct Outcome {
    FetchError error = FetchError::kNone;  // kNone on success.
    bool contract_violation = false;       // Rejected by the poller's checks.
    size_t published = 0;
    size_t duplicates = 0;
    bool more = false;  // Poll again at once.
    // Long-poll only: the API held the request (it supports `wait`), so the
    // next one may follow at once; false when it answered an empty page
    // right away, i.e. ignored `wait`: then plain polling applies.
    bool held = false;
  };
  Outcome PollOnce();

  void Run();
  // Makes Run() return promptly (it never sleeps past a Stop()).
  void Stop();

  UpstreamState State() const;

 private:
  // Waits `delay` or until Stop(); returns false when stopped.
  bool Sleep(std::chrono::milliseconds delay);
  void RecordFailure(const std::string& what);

  // The steps of PollOnce(), in order.
  // 410 with a cursor: reset the hub and restart from the oldest item.
  void RestartAfterGone(Outcome& outcome);
  // Any other failed fetch: count, log, record.
  void FailPoll(const FetchResult& fetched, Outcome& outcome);
  // The page's items above the cursor (stamped with the receive time when
  // they have none); the others are counted as duplicates.
  std::vector<Notification> DropPublished(Page& page, Outcome& outcome);
  // A page of duplicates only that says `more`: a contract violation.
  void RejectStuckPage(Outcome& outcome);
  // Publishes `fresh` and moves the cursor to its last item.
  void PublishFresh(std::vector<Notification> fresh);
  // Counts and logs a successful poll, marks upstream healthy.
  void RecordSuccess(const Outcome& outcome);

  DeliveryClient& client_;
  EventHub& hub_;
  Metrics& metrics_;
  Logger& logger_;
  Clock& clock_;
  const PollerOptions options_;
  std::mt19937_64 rng_;

  // Owned by the polling thread.
  std::optional<std::string> cursor_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  // guarded by mu_:
  bool stopped_ = false;
  UpstreamState state_;
};

}  // namespace notifications

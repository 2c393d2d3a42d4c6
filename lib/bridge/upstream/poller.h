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
// State() from any thread. Stop() also cancels the request in flight (a
// long-poll the API holds, a slow page), so Run() returns within
// milliseconds whatever upstream does.
//
// Invariants: the cursor is always the id of the last notification
// published or skipped (Page::skipped: counted, logged, shown in State()),
// so it never moves past an item that was neither; an id is never
// published twice (overlapping pages are deduplicated by comparing ids with
// CompareIds()). On 410 the hub is reset and polling restarts from the
// oldest notification upstream retains, but at most once per
// `min_reset_interval` while upstream keeps forgetting the cursors it has
// just served (a 410 loop): those 410s are failures with backoff, and
// State() says degraded. A page whose ids all fall below the cursor
// (upstream went back in time) is dropped and makes State() degraded too,
// until a page brings an id above the cursor.
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
#include "cancel_token.h"
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
  // A 410 for a cursor obtained since the last reset, before any request
  // with a cursor succeeded, resets the streams again only once this long
  // has passed since that reset.
  std::chrono::milliseconds min_reset_interval{60000};
  // Skipped notifications logged per page, one line each; the rest of a
  // page's are summed up in one more line.
  size_t max_skip_log_lines = 10;
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
    size_t skipped = 0;      // New items left out (Page::skipped).
    bool cancelled = false;  // Stop() aborted the request: nothing counted.
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
  // Sets or clears one cause of degradation (mu_ not held).
  enum class Cause { kGoneLoop, kBackwards };
  void SetDegraded(Cause cause, std::string reason);
  void ClearDegraded(Cause cause);
  void UpdateDegradedLocked();  // mu_ held.

  // The steps of PollOnce(), in order.
  // 410 with a cursor: a reset, unless upstream forgets the cursors it has
  // just served (a loop): then SuppressReset().
  void HandleGone(const FetchResult& fetched, Outcome& outcome);
  void SuppressReset(const FetchResult& fetched,
                     std::chrono::steady_clock::duration since_reset);
  // Resets the hub and restarts from the oldest item.
  void RestartAfterGone(Outcome& outcome);
  // Any other failed fetch: count, log, record.
  void FailPoll(const FetchResult& fetched, Outcome& outcome);
  // The page's items above the cursor (stamped with the receive time when
  // they have none); the others are counted as duplicates.
  std::vector<Notification> DropPublished(Page& page, Outcome& outcome);
  // The page's skipped items above the cursor.
  std::vector<const SkippedItem*> NewSkipped(const Page& page) const;
  // Degraded while the page's ids are all below the cursor; cleared when
  // the page brings something new (`has_new`).
  void CheckIdsBackwards(const Page& page, bool has_new);
  // A page of duplicates only that says `more`: a contract violation.
  void RejectStuckPage(Outcome& outcome);
  // Counts each skipped item and logs it (a bounded number of lines).
  void LogSkipped(const std::vector<const SkippedItem*>& skipped);
  // Moves the cursor to `newest` (published or skipped) and publishes
  // `fresh`; nothing when `newest` is empty.
  void PublishFresh(const std::optional<std::string>& newest,
                    std::vector<Notification> fresh);
  // Counts and logs a successful poll, marks upstream healthy, records the
  // skipped items for /healthz.
  void RecordSuccess(const Outcome& outcome,
                     const std::vector<const SkippedItem*>& skipped);

  DeliveryClient& client_;
  EventHub& hub_;
  Metrics& metrics_;
  Logger& logger_;
  Clock& clock_;
  const PollerOptions options_;
  std::mt19937_64 rng_;

  // Cancelled by Stop(): aborts the request in flight.
  CancelToken stop_token_;

  // Owned by the polling thread.
  std::optional<std::string> cursor_;
  // When the hub was last reset for a 410, and whether a request with a
  // cursor succeeded since (if not, another 410 is a loop).
  std::optional<std::chrono::steady_clock::time_point> last_reset_;
  bool cursor_served_since_reset_ = true;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  // guarded by mu_:
  bool stopped_ = false;
  UpstreamState state_;
  std::string gone_loop_reason_;  // "" = no 410 loop.
  std::string backwards_reason_;  // "" = ids not behind the cursor.
};

}  // namespace notifications

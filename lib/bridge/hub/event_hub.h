// EventHub: the bridge's fan-out point between the poller and the streams.
//
// The poller publishes batches of new notifications; each is encoded into
// its SSE frame exactly once and kept in a bounded history ring (for
// `backlog` and `Last-Event-ID` replay). The ring is bounded in count and
// in bytes (EventBytes(): the notification, its frame and the bookkeeping),
// whichever is reached first evicts the oldest: an upstream sending huge
// notifications cannot grow the bridge past --history-bytes. A client
// resuming from an evicted id gets the gap from upstream (GapSource).
// Streams are written by the server's event loops, which register a waker
// (called after each publication) and read what is newer than the last
// sequence number they have seen without blocking (ReadAfter).
//
// Thread-safe: every public method may be called from any thread.
//
// Sequence numbers (`seq`) are the hub's own, strictly increasing from 1 and
// never reused, even across Reset(). Upstream ids are what clients see.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "notification.h"

namespace notifications {

struct HubEvent {
  enum class Kind { kNotification, kReset };
  Kind kind = Kind::kNotification;
  uint64_t seq = 0;
  // Upstream id of the notification; for a reset, the position the stream
  // resumes from ("" = from the beginning).
  std::string id;
  // The notification (kNotification only), with `time` filled in.
  Notification notification;
  // The whole SSE frame, ready to write (kNotification only; resets are
  // encoded per stream).
  std::string frame;
  // For kReset: machine reason ("upstream-reset") and human message.
  std::string reason;
  std::string message;
};
using HubEventPtr = std::shared_ptr<const HubEvent>;

// Default bound of the history in bytes (--history-bytes).
constexpr size_t kDefaultHistoryBytes = size_t{64} << 20;

// What one notification event costs the history: its notification's text,
// its SSE frame, and the fixed overhead of the event and its shared
// pointer. An estimate within a few dozen bytes, exact in the text.
size_t EventBytes(const HubEvent& event);

// A notification's event, its frame encoded (with rawContent when
// `include_raw_content`); seq 0 (not in any hub). Pure, thread-safe.
std::shared_ptr<HubEvent> MakeNotificationEvent(Notification n,
                                                bool include_raw_content);

class EventHub {
 public:
  // `history_capacity`: notifications kept for replay (>= 1).
  // `include_raw_content`: whether frames carry rawContent.
  // `history_bytes`: most bytes (EventBytes()) the history holds; the
  // newest notification is kept even when it alone is larger (callers cap
  // single notifications below this: --max-item-bytes).
  EventHub(size_t history_capacity, bool include_raw_content,
           size_t history_bytes = kDefaultHistoryBytes);

  EventHub(const EventHub&) = delete;
  EventHub& operator=(const EventHub&) = delete;

  // Appends `batch` (already deduplicated, in upstream order, each with a
  // non-empty `time`) to the history and wakes every waiting stream once.
  void Publish(std::vector<Notification> batch);

  // Forgets the history (upstream forgot our cursor and we restart from its
  // oldest item) and publishes a reset marker that every live stream relays
  // as `event: reset`.
  void Reset(const std::string& reason, const std::string& message);

  // A consistent view for a new stream: the newest `max_events` retained
  // notifications (all by default), oldest first, the newest retained id
  // ("" when none) and the seq after which the stream's live part starts.
  struct Snapshot {
    std::vector<HubEventPtr> history;
    std::string newest_id;
    uint64_t last_seq = 0;
    // What the history can no longer answer for (the delivery API's 410,
    // delivery_page.h): a cursor below `horizon_id`, or equal to it when
    // `horizon_inclusive`, names notifications the hub dropped (evicted,
    // forgotten by Reset(), or before SetHorizon()) or never had (older
    // than the first one published, when the hub started without a resume
    // point: the source's oldest then). "" = nothing published yet.
    std::string horizon_id;
    bool horizon_inclusive = false;
  };
  Snapshot TakeSnapshot(size_t max_events = SIZE_MAX) const;

  enum class WaitStatus {
    kEvents,    // `out` holds events with seq > after_seq, in order.
    kTimeout,   // Nothing newer than after_seq yet.
    kLagged,    // Events after `after_seq` were already evicted: the stream
                // must end so its client resumes with Last-Event-ID.
    kShutdown,  // Shutdown() was called and nothing is newer.
  };
  // Appends to `out` at most `max_events` events with seq > `after_seq`,
  // without blocking: kEvents when it got at least one, kTimeout when
  // nothing is newer, kLagged as above. Events published before Shutdown()
  // are still returned: kShutdown only once nothing is newer.
  WaitStatus ReadAfter(uint64_t after_seq, size_t max_events,
                       std::vector<HubEventPtr>* out) const;

  // The seq of the newest event (0 before the first).
  uint64_t last_seq() const;

  // `waker` is called after every Publish(), Reset() and Shutdown(), on the
  // calling thread, outside the hub's lock. It must be quick and must not
  // call back into the hub (a server loop writes an eventfd). Returns an id
  // for RemoveWaker(), which waits for a call in progress to return.
  int AddWaker(std::function<void()> waker);
  void RemoveWaker(int id);

  // Wakes the wakers; ReadAfter() then says kShutdown once nothing is
  // newer, now and for every later call.
  void Shutdown();
  bool IsShutdown() const;

  // The source resumed after `cursor` (a state file, a stream offset): the
  // hub never had what precedes it, and a caller of the delivery API with an
  // older cursor is told so (410). Call before the first Publish().
  void SetHorizon(const std::string& cursor);

  // Id of the newest retained notification, "" when the history is empty.
  std::string NewestId() const;
  size_t HistorySize() const;
  // Bytes the history holds (sum of EventBytes()), <= history_bytes()
  // unless one notification alone is larger.
  size_t HistoryBytes() const;
  size_t history_capacity() const { return capacity_; }
  size_t history_bytes() const { return max_bytes_; }
  bool include_raw_content() const { return include_raw_content_; }

 private:
  void AppendLocked(HubEventPtr event);
  WaitStatus ReadLocked(uint64_t after_seq, size_t max_events,
                        std::vector<HubEventPtr>* out) const;
  void Wake();

  const size_t capacity_;
  const bool include_raw_content_;
  const size_t max_bytes_;

  mutable std::mutex mu_;
  // guarded by mu_:
  // Every event since the last reset, notifications and the latest reset
  // marker, bounded by capacity_ + 1.
  std::deque<HubEventPtr> ring_;
  size_t notifications_in_ring_ = 0;
  size_t bytes_in_ring_ = 0;  // EventBytes() of the notifications in ring_.
  uint64_t last_seq_ = 0;
  bool shutdown_ = false;
  std::string horizon_id_;  // See Snapshot.
  bool horizon_inclusive_ = false;

  // Held while calling wakers, so RemoveWaker() cannot return during a call.
  mutable std::mutex wakers_mu_;
  // guarded by wakers_mu_:
  std::vector<std::pair<int, std::function<void()>>> wakers_;
  int next_waker_id_ = 1;
};

}  // namespace notifications

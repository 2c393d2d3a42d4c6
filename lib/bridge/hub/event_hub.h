// EventHub: the bridge's fan-out point between the poller and the streams.
//
// The poller publishes batches of new notifications; each is encoded into
// its SSE frame exactly once and kept in a bounded history ring (for
// `backlog` and `Last-Event-ID` replay). Each stream waits for events newer
// than the last sequence number it has seen, with a timeout so it can send
// heartbeats and notice shutdown.
//
// Streams are written by event loops (StreamFanout) that register a waker
// and read without blocking (ReadAfter); a stream with a thread of its own
// can instead block in WaitForEvents (StreamSession::Next).
//
// Thread-safe: every public method may be called from any thread.
//
// Sequence numbers (`seq`) are the hub's own, strictly increasing from 1 and
// never reused, even across Reset(). Upstream ids are what clients see.
#pragma once

#include <chrono>
#include <condition_variable>
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

class EventHub {
 public:
  // `history_capacity`: notifications kept for replay (>= 1).
  // `include_raw_content`: whether frames carry rawContent.
  EventHub(size_t history_capacity, bool include_raw_content);

  EventHub(const EventHub&) = delete;
  EventHub& operator=(const EventHub&) = delete;

  // Appends `batch` (already deduplicated, in upstream order, each with a
  // non-empty `time`) to the history and wakes every waiting stream once.
  void Publish(std::vector<Notification> batch);

  // Forgets the history (upstream forgot our cursor and we restart from its
  // oldest item) and publishes a reset marker that every live stream relays
  // as `event: reset`.
  void Reset(const std::string& reason, const std::string& message);

  // A consistent view for a new stream: the retained notifications, oldest
  // first, and the seq after which the stream's live part starts.
  struct Snapshot {
    std::vector<HubEventPtr> history;
    uint64_t last_seq = 0;
    // What the history can no longer answer for (the delivery API's 410,
    // delivery_page.h): a cursor below `horizon_id`, or equal to it when
    // `horizon_inclusive`, names notifications the hub dropped (evicted,
    // forgotten by Reset(), or before SetHorizon()). "" = none.
    std::string horizon_id;
    bool horizon_inclusive = false;
  };
  Snapshot TakeSnapshot() const;

  enum class WaitStatus {
    kEvents,    // `out` holds events with seq > after_seq, in order.
    kTimeout,   // Nothing new within the timeout: time for a heartbeat.
    kLagged,    // Events after `after_seq` were already evicted: the stream
                // must end so its client resumes with Last-Event-ID.
    kShutdown,  // Shutdown() was called.
  };
  // Waits until an event with seq > `after_seq` exists, `timeout` elapses
  // or the hub shuts down. Appends at most `max_events` events to `out`.
  WaitStatus WaitForEvents(uint64_t after_seq, std::chrono::milliseconds timeout,
                           size_t max_events, std::vector<HubEventPtr>* out);

  // Non-blocking form of WaitForEvents: kEvents when `out` got at least one
  // event, kTimeout when nothing is newer than `after_seq`, kLagged as
  // there. Unlike WaitForEvents, events published before Shutdown() are
  // still returned: kShutdown only once nothing is newer.
  WaitStatus ReadAfter(uint64_t after_seq, size_t max_events,
                       std::vector<HubEventPtr>* out) const;

  // The seq of the newest event (0 before the first).
  uint64_t last_seq() const;

  // `waker` is called after every Publish(), Reset() and Shutdown(), on the
  // calling thread, outside the hub's lock. It must be quick and must not
  // call back into the hub (StreamFanout writes an eventfd). Returns an id
  // for RemoveWaker(), which waits for a call in progress to return.
  int AddWaker(std::function<void()> waker);
  void RemoveWaker(int id);

  // Wakes every waiter with kShutdown, now and for every later call.
  void Shutdown();
  bool IsShutdown() const;

  // The source resumed after `cursor` (a state file, a stream offset): the
  // hub never had what precedes it, and a caller of the delivery API with an
  // older cursor is told so (410). Call before the first Publish().
  void SetHorizon(const std::string& cursor);

  // Id of the newest retained notification, "" when the history is empty.
  std::string NewestId() const;
  size_t HistorySize() const;
  size_t history_capacity() const { return capacity_; }
  bool include_raw_content() const { return include_raw_content_; }

 private:
  void AppendLocked(HubEventPtr event);
  WaitStatus ReadLocked(uint64_t after_seq, size_t max_events,
                        std::vector<HubEventPtr>* out) const;
  void Wake();

  const size_t capacity_;
  const bool include_raw_content_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  // guarded by mu_:
  // Every event since the last reset, notifications and the latest reset
  // marker, bounded by capacity_ + 1.
  std::deque<HubEventPtr> ring_;
  size_t notifications_in_ring_ = 0;
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

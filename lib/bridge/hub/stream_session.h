// StreamSession: what one `GET /events` stream writes, from its first byte
// to its end, independent of the HTTP server (docs/events.md). It never
// blocks (but in FetchGap(), which the server runs on its blocking pool)
// and never copies a notification's frame: it appends pieces to an
// SseOutput (sse_output.h).
//
//   Begin()          takes a snapshot of the hub and decides how the stream
//                    opens: kReady, or kNeedGap when the resume id is older
//                    than the history and the gap must come from upstream
//   FetchGap()       the upstream fetch (blocks; any thread), then
//   ResumeWithGap()  its outcome, back on the session's thread
//   Produce(budget)  the opening, a piece at a time as the socket drains:
//                    "retry: N\n: connected\n\n", a reset, then the replay
//                    (the backlog, the notifications after a known id, or
//                    the gap then the history); true once it is all out
//   Advance(events)  then the frames for live hub events the caller read
//                    (EventHub::ReadAfter(seq(), ...))
//
// The replay is a list of pointers to events encoded once (by the hub, or
// once per gap fetch): a stream that has not written its backlog yet holds
// 16 bytes per notification, not the notification's frame.
//
// When the resume point is unknown to the bridge and upstream cannot be
// reached, the opening is the preamble and a comment, and ended() is true:
// the client retries later with the same id.
//
// Not thread-safe: one session belongs to one thread at a time (FetchGap()
// reads it, and may run on another thread while the owner leaves it alone).
// It shares the EventHub (thread-safe) and the GapSource with other sessions.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "event_hub.h"
#include "filter.h"
#include "gap_source.h"
#include "notification.h"
#include "shared_frames.h"
#include "sse_output.h"
#include "status.h"

namespace notifications {

struct StreamRequest {
  Filter filter;
  // From the Last-Event-ID header or the lastEventId query parameter.
  // Already validated with IsValidId().
  std::optional<std::string> last_event_id;
  // Notifications to replay on a fresh connection (clamped to the history).
  size_t backlog = 0;
};

struct StreamOptions {
  // `retry:` sent to the client: base plus a uniform jitter in [0, jitter].
  std::chrono::milliseconds retry{3000};
  std::chrono::milliseconds retry_jitter{2000};
  // Largest gap fetched from upstream on resume; a larger gap is a reset.
  size_t max_gap = 10000;
};

class StreamSession {
 public:
  // `gaps` may be null (no upstream fetch: unknown ids get a reset).
  StreamSession(EventHub& hub, GapSource* gaps, StreamRequest request,
                StreamOptions options, uint64_t seed);

  enum class Start { kReady, kNeedGap };
  Start Begin();
  // After kNeedGap: GapSource::FetchAfter() for this stream, its
  // notifications encoded as hub events, shared through `frames` with
  // other streams when given (blocks; any thread). Gone when the session
  // has no GapSource.
  Result<std::vector<HubEventPtr>> FetchGap(
      SharedFrames* frames = nullptr) const;
  // After kNeedGap, on the session's thread: the fetch's outcome
  // (FetchGap(), or kUnavailable when it was abandoned).
  void ResumeWithGap(Result<std::vector<HubEventPtr>> gap);

  // After kReady or ResumeWithGap(): appends the next pieces of the opening
  // to `out` until `out` holds `budget` bytes or more. True once the whole
  // opening has been appended (then Advance()).
  bool Produce(size_t budget, SseOutput* out);
  bool opening_done() const { return opening_done_; }

  // Appends to `out` the frames this stream writes for `events`:
  // consecutive hub events as EventHub::ReadAfter(seq(), ...) returns them
  // (events at or before seq() are skipped). Filtered-out and
  // already-written notifications add nothing; a reset marker adds
  // `event: reset`. After the opening. The frames are borrowed from
  // `events` (SseOutput::AppendBorrowed): it must outlive `out`'s use.
  void Advance(const std::vector<HubEventPtr>& events, SseOutput* out);

  // The seq of the last hub event this stream has considered.
  uint64_t seq() const { return seq_; }
  // True when the opening decided the stream ends after it.
  bool ended() const { return ended_; }
  // Notifications written so far (replay and live).
  uint64_t notifications_sent() const { return notifications_sent_; }
  // The `retry:` value chosen for this stream, in milliseconds.
  int64_t retry_ms() const { return retry_ms_; }

 private:
  // `borrow`: the frame is borrowed from `e` (it outlives `out`'s use).
  void AppendNotification(const HubEventPtr& e, SseOutput* out, bool borrow);
  std::string ResetFrame(const std::string& id, const std::string& reason,
                         const std::string& message);
  // The backlog from `history`: the n most recent matching, oldest first.
  void PickBacklog(const std::vector<HubEventPtr>& history);

  EventHub& hub_;
  GapSource* gaps_;
  StreamRequest request_;
  StreamOptions options_;
  int64_t retry_ms_ = 0;

  // Seq of the last hub event this stream has considered.
  uint64_t seq_ = 0;
  // Id of the last notification written (or the resume point): anything at
  // or below it is never written again, so overlaps between replay, gap and
  // live cannot duplicate. Empty = no floor.
  std::string floor_;
  uint64_t notifications_sent_ = 0;
  bool ended_ = false;

  // The opening.
  std::string head_;  // After the preamble: a reset, or a comment.
  bool preamble_done_ = false;
  std::vector<HubEventPtr> replay_;
  size_t replay_pos_ = 0;
  // True: replay_ is the backlog, already filtered; false: each goes
  // through the floor and the filter.
  bool replay_picked_ = false;
  // The floor once the replay is out (the newest id of the snapshot).
  std::string final_floor_;
  bool opening_done_ = false;
  // Between Begin() and ResumeWithGap(): the snapshot's notifications.
  std::vector<HubEventPtr> history_;
};

}  // namespace notifications

// StreamSession: what one `GET /events` stream writes, from its first byte
// to its end, independent of the HTTP server (docs/events.md).
//
//   Begin() + [FetchGap() + ResumeWithGap()] + TakeOpening()
//           -> "retry: N\n: connected\n\n" + reset/replay (backlog,
//              Last-Event-ID resume, gap fetched from upstream)
//   Advance() -> the frames for live hub events the caller already read
//              (EventHub::ReadAfter(seq(), ...)); never blocks. StreamFanout
//              drives sessions this way, one thread for every stream.
//   Next()  -> the blocking form for a thread of its own: waits up to the
//              heartbeat period for live events and returns their frames
//              (all of them in one string, for one write), or a heartbeat
//              comment, or the end.
//
// When the resume point is unknown to the bridge and upstream cannot be
// reached to fetch the gap, the opening is only the preamble and a comment,
// and ended() is true: the client retries later with the same id.
//
// Not thread-safe: one session belongs to one thread at a time. It shares
// the EventHub (thread-safe) and the GapSource with other sessions.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "event_hub.h"
#include "filter.h"
#include "gap_source.h"
#include "notification.h"
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
  // Comment sent when nothing else was for this long.
  std::chrono::milliseconds heartbeat{15000};
  // Most events taken from the hub per wake-up.
  size_t max_batch = 512;
  // Largest gap fetched from upstream on resume; a larger gap is a reset.
  size_t max_gap = 10000;
};

class StreamSession {
 public:
  // `gaps` may be null (no upstream fetch: unknown ids get a reset).
  StreamSession(EventHub& hub, GapSource* gaps, StreamRequest request,
                StreamOptions options, uint64_t seed);

  // How the stream opens, decided from a snapshot of the hub: kReady when
  // TakeOpening() can be called now, kNeedGap when the resume id is older
  // than the history and the gap must first be fetched from upstream
  // (FetchGap(), which blocks: the server runs it off its loops).
  enum class Start { kReady, kNeedGap };
  Start Begin();
  // After kNeedGap: GapSource::FetchAfter() for this stream (blocks; may
  // run on any thread, the session is not touched). Gone when the session
  // has no GapSource.
  Result<std::vector<Notification>> FetchGap() const;
  // After kNeedGap, on the session's thread: builds the opening from the
  // fetch's outcome (FetchGap(), or kUnavailable when it was abandoned).
  void ResumeWithGap(Result<std::vector<Notification>> gap);
  // After kReady or ResumeWithGap(): the bytes that open the stream
  // (`retry:`, the comment, then a reset and the replay). Once.
  std::string TakeOpening();
  // Begin(), FetchGap() when needed, TakeOpening(): the blocking form, for
  // tests and fuzzers.
  std::string Open();

  // Appends to `out` the frames this stream writes for `events`: consecutive
  // hub events as EventHub::ReadAfter(seq(), ...) returns them (events at or
  // before seq() are skipped). Filtered-out and already-written
  // notifications add nothing; a reset marker adds `event: reset`.
  void Advance(const std::vector<HubEventPtr>& events, std::string* out);

  // The seq of the last hub event this stream has considered.
  uint64_t seq() const { return seq_; }
  // True when the opening decided the stream ends after its opening bytes.
  bool ended() const { return ended_; }

  enum class Step {
    kData,       // `out` holds frames to write.
    kHeartbeat,  // `out` holds a heartbeat comment.
    kEnd,        // The stream must end now (shutdown or lagging behind).
  };
  Step Next(std::string* out);

  // Notifications written so far (replay and live).
  uint64_t notifications_sent() const { return notifications_sent_; }
  // The `retry:` value chosen for this stream, in milliseconds.
  int64_t retry_ms() const { return retry_ms_; }

 private:
  void AppendNotification(const HubEvent& e, std::string* out);
  void AppendReset(const std::string& id, const std::string& reason,
                   const std::string& message, std::string* out);
  void AppendBacklog(const std::vector<HubEventPtr>& history, size_t n,
                     std::string* out);

  void OpenFresh(std::string* out);

  EventHub& hub_;
  GapSource* gaps_;
  // Between Begin() and TakeOpening():
  std::vector<HubEventPtr> history_;  // The snapshot's notifications.
  std::string opening_;
  StreamRequest request_;
  StreamOptions options_;
  std::mt19937_64 rng_;
  int64_t retry_ms_ = 0;

  // Seq of the last hub event this stream has considered.
  uint64_t seq_ = 0;
  // Id of the last notification written (or the resume point): anything at
  // or below it is never written again, so overlaps between replay, gap and
  // live cannot duplicate. Empty = no floor.
  std::string floor_;
  uint64_t notifications_sent_ = 0;
  bool ended_ = false;  // The opening decided the stream ends at once.
  std::chrono::steady_clock::time_point last_write_;
};

}  // namespace notifications

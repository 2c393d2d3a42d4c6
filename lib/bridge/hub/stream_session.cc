#include "stream_session.h"

#include <algorithm>

#include "notification_json.h"
#include "sse_encoder.h"

namespace notifications {

StreamSession::StreamSession(EventHub& hub, GapSource* gaps,
                             StreamRequest request, StreamOptions options,
                             uint64_t seed)
    : hub_(hub), gaps_(gaps), request_(std::move(request)), options_(options) {
  // One draw is all a stream needs: splitmix64 of the seed, not a 2.5 KB
  // Mersenne Twister kept for the stream's life.
  uint64_t z = seed + 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  z ^= z >> 31;
  auto jitter = static_cast<uint64_t>(
      std::max<int64_t>(0, options_.retry_jitter.count()));
  retry_ms_ = options_.retry.count() + static_cast<int64_t>(z % (jitter + 1));
}

void StreamSession::AppendNotification(const HubEventPtr& e, SseOutput* out,
                                       bool borrow) {
  if (!floor_.empty() && CompareIds(e->id, floor_) <= 0) return;
  floor_ = e->id;
  if (!request_.filter.Matches(e->notification)) return;
  if (borrow) {
    out->AppendBorrowed(e);
  } else {
    out->AppendFrame(e);
  }
  ++notifications_sent_;
}

std::string StreamSession::ResetFrame(const std::string& id,
                                      const std::string& reason,
                                      const std::string& message) {
  std::string data = "{\"reason\":" + JsonString(reason) +
                     ",\"message\":" + JsonString(message) + "}";
  return EncodeSseEvent(SseEvent{id, "reset", data});
}

void StreamSession::PickBacklog(const std::vector<HubEventPtr>& history) {
  size_t n = std::min(request_.backlog, history.size());
  replay_.clear();
  for (auto it = history.rbegin(); it != history.rend() && replay_.size() < n;
       ++it) {
    if (request_.filter.Matches((*it)->notification)) replay_.push_back(*it);
  }
  std::reverse(replay_.begin(), replay_.end());
  replay_picked_ = true;
}

StreamSession::Start StreamSession::Begin() {
  // A fresh stream without backlog needs no copy of the history.
  const bool fresh = !request_.last_event_id;
  size_t wanted = fresh && request_.backlog == 0 ? 0 : SIZE_MAX;
  if (fresh && request_.filter.MatchesAll()) wanted = request_.backlog;
  EventHub::Snapshot snap = hub_.TakeSnapshot(wanted);
  seq_ = snap.last_seq;
  // The live part starts after the newest retained notification.
  final_floor_ = snap.newest_id;

  if (fresh) {
    PickBacklog(snap.history);
    return Start::kReady;
  }
  const std::string& last = *request_.last_event_id;
  const std::vector<HubEventPtr>& history = snap.history;
  // Known to us: replay what follows it.
  auto found =
      std::lower_bound(history.begin(), history.end(), last,
                       [](const HubEventPtr& e, const std::string& id) {
                         return CompareIds(e->id, id) < 0;
                       });
  if (found != history.end() && (*found)->id == last) {
    floor_ = last;
    replay_.assign(found + 1, history.end());
    return Start::kReady;
  }
  // Unknown to us (older than our history, or from before our restart):
  // the gap must come from upstream.
  history_ = std::move(snap.history);
  return Start::kNeedGap;
}

Result<std::vector<HubEventPtr>> StreamSession::FetchGap(
    SharedFrames* frames) const {
  if (!gaps_) {
    return Status::Error(Status::Code::kGone,
                         "no upstream to fetch the gap from");
  }
  const std::string oldest = history_.empty() ? "" : history_.front()->id;
  Result<std::vector<Notification>> gap =
      gaps_->FetchAfter(*request_.last_event_id, oldest, options_.max_gap);
  if (!gap.ok()) return gap.status();
  // Encoded here, once, off the server's loops.
  std::vector<HubEventPtr> events;
  events.reserve(gap.value().size());
  for (Notification& n : std::move(gap).value()) {
    // Stop where our own history takes over: its frames are already encoded.
    if (!oldest.empty() && CompareIds(n.id, oldest) >= 0) break;
    events.push_back(frames ? frames->Get(std::move(n))
                            : MakeNotificationEvent(
                                  std::move(n), hub_.include_raw_content()));
  }
  return events;
}

void StreamSession::ResumeWithGap(Result<std::vector<HubEventPtr>> gap) {
  const std::string& last = *request_.last_event_id;
  std::vector<HubEventPtr> history = std::move(history_);
  history_.clear();
  if (!gap.ok() && gap.status().code() == Status::Code::kUnavailable) {
    // Upstream cannot say now. Ending the stream makes the client come back
    // after `retry` with the same id: nothing is lost, nothing is reset.
    head_ = EncodeSseComment("cannot fetch the missed notifications now (" +
                             gap.status().message() + "); retry later");
    ended_ = true;
    return;
  }
  if (!gap.ok()) {
    // Neither knows the id, or the gap is too large to replay: a reset, then
    // what a fresh connection gets. Its id is where the replay starts from.
    std::string resume;
    size_t n = std::min(request_.backlog, history.size());
    if (n < history.size()) resume = history[history.size() - n - 1]->id;
    const char* reason = gap.status().code() == Status::Code::kGone
                             ? "unknown-last-event-id"
                             : "gap-too-large";
    head_ = ResetFrame(
        resume, reason,
        "cannot resume after " + last + ": " + gap.status().message());
    floor_ = resume;
    PickBacklog(history);
    return;
  }
  floor_ = last;
  replay_ = std::move(gap).value();
  replay_.insert(replay_.end(), history.begin(), history.end());
}

bool StreamSession::Produce(size_t budget, SseOutput* out) {
  if (opening_done_) return true;
  if (!preamble_done_) {
    preamble_done_ = true;
    std::string preamble = EncodeSseRetry(retry_ms_);
    preamble += EncodeSseComment("connected");
    preamble += head_;
    std::string().swap(head_);
    out->AppendBytes(std::move(preamble));
  }
  while (replay_pos_ < replay_.size() && out->bytes() < budget) {
    const HubEventPtr& e = replay_[replay_pos_++];
    if (replay_picked_) {
      out->AppendFrame(e);
      ++notifications_sent_;
    } else {
      AppendNotification(e, out, false);
    }
  }
  if (replay_pos_ < replay_.size()) return false;
  // Upstream may be ahead of our poller: the floor keeps whatever the gap
  // already gave from being written again when it arrives live.
  if (!final_floor_.empty() &&
      (floor_.empty() || CompareIds(final_floor_, floor_) > 0)) {
    floor_ = final_floor_;
  }
  std::vector<HubEventPtr>().swap(replay_);
  opening_done_ = true;
  return true;
}

void StreamSession::Advance(const std::vector<HubEventPtr>& events,
                            SseOutput* out) {
  for (const HubEventPtr& e : events) {
    if (e->seq <= seq_) continue;
    seq_ = e->seq;
    if (e->kind == HubEvent::Kind::kReset) {
      out->AppendBytes(ResetFrame(e->id, e->reason, e->message));
      floor_.clear();
    } else {
      AppendNotification(e, out, true);
    }
  }
}

}  // namespace notifications

#include "stream_session.h"

#include <algorithm>

#include "notification_json.h"
#include "sse_encoder.h"

namespace notifications {

StreamSession::StreamSession(EventHub& hub, GapSource* gaps,
                             StreamRequest request, StreamOptions options,
                             uint64_t seed)
    : hub_(hub),
      gaps_(gaps),
      request_(std::move(request)),
      options_(options),
      rng_(seed) {
  int64_t jitter = std::max<int64_t>(0, options_.retry_jitter.count());
  std::uniform_int_distribution<int64_t> dist(0, jitter);
  retry_ms_ = options_.retry.count() + dist(rng_);
}

void StreamSession::AppendNotification(const HubEvent& e, std::string* out) {
  if (!floor_.empty() && CompareIds(e.id, floor_) <= 0) return;
  floor_ = e.id;
  if (!request_.filter.Matches(e.notification)) return;
  out->append(e.frame);
  ++notifications_sent_;
}

void StreamSession::AppendReset(const std::string& id,
                                const std::string& reason,
                                const std::string& message, std::string* out) {
  std::string data = "{\"reason\":" + JsonString(reason) +
                     ",\"message\":" + JsonString(message) + "}";
  out->append(EncodeSseEvent(SseEvent{id, "reset", data}));
  floor_ = id;
}

void StreamSession::AppendBacklog(const std::vector<HubEventPtr>& history,
                                  size_t n, std::string* out) {
  if (n == 0) return;
  // The n most recent matching notifications, written oldest first.
  std::vector<const HubEvent*> picked;
  for (auto it = history.rbegin(); it != history.rend() && picked.size() < n;
       ++it) {
    if (request_.filter.Matches((*it)->notification))
      picked.push_back(it->get());
  }
  for (auto it = picked.rbegin(); it != picked.rend(); ++it) {
    out->append((*it)->frame);
    ++notifications_sent_;
  }
}

void StreamSession::OpenFresh(std::string* out) {
  size_t n = std::min(request_.backlog, history_.size());
  AppendBacklog(history_, n, out);
  floor_ = history_.empty() ? "" : history_.back()->id;
}

StreamSession::Start StreamSession::Begin() {
  last_write_ = std::chrono::steady_clock::now();
  opening_ = EncodeSseRetry(retry_ms_);
  opening_ += EncodeSseComment("connected");

  EventHub::Snapshot snap = hub_.TakeSnapshot();
  seq_ = snap.last_seq;
  history_ = std::move(snap.history);
  // The live part starts after the newest retained notification.
  std::string newest = history_.empty() ? "" : history_.back()->id;

  if (!request_.last_event_id) {
    OpenFresh(&opening_);
    std::vector<HubEventPtr>().swap(history_);
    return Start::kReady;
  }
  const std::string& last = *request_.last_event_id;

  // Known to us: replay what follows it.
  auto found =
      std::lower_bound(history_.begin(), history_.end(), last,
                       [](const HubEventPtr& e, const std::string& id) {
                         return CompareIds(e->id, id) < 0;
                       });
  if (found != history_.end() && (*found)->id == last) {
    floor_ = last;
    for (auto it = found + 1; it != history_.end(); ++it) {
      AppendNotification(**it, &opening_);
    }
    floor_ = newest;
    std::vector<HubEventPtr>().swap(history_);
    return Start::kReady;
  }
  // Unknown to us (older than our history, or from before our restart):
  // the gap must come from upstream.
  return Start::kNeedGap;
}

Result<std::vector<Notification>> StreamSession::FetchGap() const {
  if (!gaps_) {
    return Status::Error(Status::Code::kGone,
                         "no upstream to fetch the gap from");
  }
  const std::string oldest = history_.empty() ? "" : history_.front()->id;
  return gaps_->FetchAfter(*request_.last_event_id, oldest, options_.max_gap);
}

void StreamSession::ResumeWithGap(Result<std::vector<Notification>> gap) {
  const std::string& last = *request_.last_event_id;
  const std::string oldest = history_.empty() ? "" : history_.front()->id;
  const std::string newest = history_.empty() ? "" : history_.back()->id;
  std::string& out = opening_;
  if (!gap.ok() && gap.status().code() == Status::Code::kUnavailable) {
    // Upstream cannot say now. Ending the stream makes the client come back
    // after `retry` with the same id: nothing is lost, nothing is reset.
    out += EncodeSseComment("cannot fetch the missed notifications now (" +
                            gap.status().message() + "); retry later");
    ended_ = true;
    std::vector<HubEventPtr>().swap(history_);
    return;
  }
  if (!gap.ok()) {
    // Neither knows the id, or the gap is too large to replay: a reset, then
    // what a fresh connection gets. Its id is where the replay starts from.
    std::string resume;
    size_t n = std::min(request_.backlog, history_.size());
    if (n < history_.size()) resume = history_[history_.size() - n - 1]->id;
    const char* reason = gap.status().code() == Status::Code::kGone
                             ? "unknown-last-event-id"
                             : "gap-too-large";
    AppendReset(resume, reason,
                "cannot resume after " + last + ": " + gap.status().message(),
                &out);
    OpenFresh(&out);
    std::vector<HubEventPtr>().swap(history_);
    return;
  }
  floor_ = last;
  for (const Notification& n : gap.value()) {
    // Stop where our own history takes over: its frames are already encoded.
    if (!oldest.empty() && CompareIds(n.id, oldest) >= 0) break;
    if (CompareIds(n.id, floor_) <= 0) continue;
    floor_ = n.id;
    if (!request_.filter.Matches(n)) continue;
    out += EncodeSseEvent(
        SseEvent{n.id, "notification",
                 NotificationToJson(n, hub_.include_raw_content())});
    ++notifications_sent_;
  }
  for (const HubEventPtr& e : history_) AppendNotification(*e, &out);
  // Upstream may be ahead of our poller: the floor keeps whatever the gap
  // already gave from being written again when it arrives live.
  if (!newest.empty() && CompareIds(newest, floor_) > 0) floor_ = newest;
  std::vector<HubEventPtr>().swap(history_);
}

std::string StreamSession::TakeOpening() { return std::move(opening_); }

std::string StreamSession::Open() {
  if (Begin() == Start::kNeedGap) ResumeWithGap(FetchGap());
  return TakeOpening();
}

void StreamSession::Advance(const std::vector<HubEventPtr>& events,
                            std::string* out) {
  for (const HubEventPtr& e : events) {
    if (e->seq <= seq_) continue;
    seq_ = e->seq;
    if (e->kind == HubEvent::Kind::kReset) {
      AppendReset(e->id, e->reason, e->message, out);
      floor_.clear();
    } else {
      AppendNotification(*e, out);
    }
  }
}

StreamSession::Step StreamSession::Next(std::string* out) {
  using std::chrono::steady_clock;
  // The heartbeat is due `heartbeat` after the last byte written, not after
  // the last wake-up: a stream whose filter drops everything still needs it.
  auto since_write = std::chrono::duration_cast<std::chrono::milliseconds>(
      steady_clock::now() - last_write_);
  auto wait =
      std::max(std::chrono::milliseconds(0), options_.heartbeat - since_write);
  if (ended_) return Step::kEnd;
  std::vector<HubEventPtr> events;
  EventHub::WaitStatus status =
      hub_.WaitForEvents(seq_, wait, options_.max_batch, &events);
  switch (status) {
    case EventHub::WaitStatus::kShutdown:
    case EventHub::WaitStatus::kLagged:
      return Step::kEnd;
    case EventHub::WaitStatus::kTimeout:
      out->append(EncodeSseComment("keep-alive"));
      last_write_ = steady_clock::now();
      return Step::kHeartbeat;
    case EventHub::WaitStatus::kEvents:
      break;
  }
  Advance(events, out);
  if (!out->empty()) {
    last_write_ = steady_clock::now();
  } else if (steady_clock::now() - last_write_ >= options_.heartbeat) {
    out->append(EncodeSseComment("keep-alive"));
    last_write_ = steady_clock::now();
    return Step::kHeartbeat;
  }
  // An empty kData (everything filtered out) is fine: the caller writes
  // nothing and calls again.
  return Step::kData;
}

}  // namespace notifications

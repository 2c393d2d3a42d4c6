#include "event_hub.h"

#include <algorithm>

#include "notification_json.h"
#include "sse_encoder.h"

namespace notifications {

size_t EventBytes(const HubEvent& e) {
  // The event itself, the shared_ptr's control block and the ring's slot.
  constexpr size_t kOverhead = sizeof(HubEvent) + 64;
  return kOverhead + e.id.size() + e.frame.size() + e.reason.size() +
         e.message.size() + e.notification.ByteSize();
}

std::shared_ptr<HubEvent> MakeNotificationEvent(Notification n,
                                                bool include_raw_content) {
  auto e = std::make_shared<HubEvent>();
  e->kind = HubEvent::Kind::kNotification;
  e->id = n.id;
  e->frame = EncodeSseEvent(SseEvent{
      n.id, "notification", NotificationToJson(n, include_raw_content)});
  e->notification = std::move(n);
  return e;
}

EventHub::EventHub(size_t history_capacity, bool include_raw_content,
                   size_t history_bytes)
    : capacity_(std::max<size_t>(1, history_capacity)),
      include_raw_content_(include_raw_content),
      max_bytes_(history_bytes) {}

void EventHub::AppendLocked(HubEventPtr event) {
  if (event->kind == HubEvent::Kind::kNotification) {
    ++notifications_in_ring_;
    bytes_in_ring_ += EventBytes(*event);
    // The first notification of a hub started without a resume point is
    // the source's oldest: nothing before it can be answered for.
    if (horizon_id_.empty()) {
      horizon_id_ = event->id;
      horizon_inclusive_ = false;
    }
  }
  ring_.push_back(std::move(event));
  // Evict the oldest past either bound; the newest notification stays.
  while (notifications_in_ring_ > capacity_ ||
         (bytes_in_ring_ > max_bytes_ && notifications_in_ring_ > 1)) {
    const HubEvent& front = *ring_.front();
    if (front.kind == HubEvent::Kind::kNotification) {
      --notifications_in_ring_;
      bytes_in_ring_ -= EventBytes(front);
      horizon_id_ = ring_.front()->id;
      horizon_inclusive_ = false;
    }
    ring_.pop_front();
  }
}

void EventHub::Publish(std::vector<Notification> batch) {
  if (batch.empty()) return;
  // Encode outside the lock: it is the expensive part, and it is done once
  // per notification whatever the number of streams.
  std::vector<std::shared_ptr<HubEvent>> events;
  events.reserve(batch.size());
  for (Notification& n : batch) {
    events.push_back(MakeNotificationEvent(std::move(n), include_raw_content_));
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& e : events) {
      e->seq = ++last_seq_;
      AppendLocked(std::move(e));
    }
  }
  Wake();
}

void EventHub::Reset(const std::string& reason, const std::string& message) {
  auto e = std::make_shared<HubEvent>();
  e->kind = HubEvent::Kind::kReset;
  e->reason = reason;
  e->message = message;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Whatever came between the newest id and what follows the reset is
    // lost: a cursor up to it, included, cannot be answered.
    for (auto it = ring_.rbegin(); it != ring_.rend(); ++it) {
      if ((*it)->kind == HubEvent::Kind::kNotification) {
        horizon_id_ = (*it)->id;
        break;
      }
    }
    horizon_inclusive_ = !horizon_id_.empty();
    ring_.clear();
    notifications_in_ring_ = 0;
    bytes_in_ring_ = 0;
    e->seq = ++last_seq_;
    ring_.push_back(std::move(e));
  }
  Wake();
}

EventHub::Snapshot EventHub::TakeSnapshot(size_t max_events) const {
  Snapshot snapshot;
  std::lock_guard<std::mutex> lock(mu_);
  size_t take = std::min(max_events, notifications_in_ring_);
  snapshot.history.reserve(take);
  // From the newest back, then reversed: only what is asked is copied.
  for (auto it = ring_.rbegin(); it != ring_.rend(); ++it) {
    if ((*it)->kind != HubEvent::Kind::kNotification) continue;
    if (snapshot.newest_id.empty()) snapshot.newest_id = (*it)->id;
    if (snapshot.history.size() == take) break;
    snapshot.history.push_back(*it);
  }
  std::reverse(snapshot.history.begin(), snapshot.history.end());
  snapshot.last_seq = last_seq_;
  snapshot.horizon_id = horizon_id_;
  snapshot.horizon_inclusive = horizon_inclusive_;
  return snapshot;
}

EventHub::WaitStatus EventHub::ReadAfter(uint64_t after_seq, size_t max_events,
                                         std::vector<HubEventPtr>* out) const {
  std::lock_guard<std::mutex> lock(mu_);
  // Events published before a shutdown still go out, then the end.
  if (last_seq_ <= after_seq) {
    return shutdown_ ? WaitStatus::kShutdown : WaitStatus::kTimeout;
  }
  return ReadLocked(after_seq, max_events, out);
}

EventHub::WaitStatus EventHub::ReadLocked(uint64_t after_seq, size_t max_events,
                                          std::vector<HubEventPtr>* out) const {
  // The ring holds consecutive seqs; a reset marker at its front means
  // everything older was dropped on purpose and the marker tells the stream.
  const HubEvent& front = *ring_.front();
  if (front.seq > after_seq + 1 && front.kind != HubEvent::Kind::kReset) {
    return WaitStatus::kLagged;
  }
  size_t start = 0;
  if (after_seq >= front.seq)
    start = static_cast<size_t>(after_seq - front.seq + 1);
  size_t end = ring_.size();
  if (end - start > max_events) end = start + std::max<size_t>(1, max_events);
  for (size_t i = start; i < end; ++i) out->push_back(ring_[i]);
  return WaitStatus::kEvents;
}

uint64_t EventHub::last_seq() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_seq_;
}

int EventHub::AddWaker(std::function<void()> waker) {
  std::lock_guard<std::mutex> lock(wakers_mu_);
  int id = next_waker_id_++;
  wakers_.emplace_back(id, std::move(waker));
  return id;
}

void EventHub::RemoveWaker(int id) {
  std::lock_guard<std::mutex> lock(wakers_mu_);
  for (auto it = wakers_.begin(); it != wakers_.end(); ++it) {
    if (it->first == id) {
      wakers_.erase(it);
      return;
    }
  }
}

void EventHub::Wake() {
  std::lock_guard<std::mutex> lock(wakers_mu_);
  for (auto& entry : wakers_) entry.second();
}

void EventHub::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    shutdown_ = true;
  }
  Wake();
}

bool EventHub::IsShutdown() const {
  std::lock_guard<std::mutex> lock(mu_);
  return shutdown_;
}

void EventHub::SetHorizon(const std::string& cursor) {
  std::lock_guard<std::mutex> lock(mu_);
  horizon_id_ = cursor;
  horizon_inclusive_ = false;
}

std::string EventHub::NewestId() const {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = ring_.rbegin(); it != ring_.rend(); ++it) {
    if ((*it)->kind == HubEvent::Kind::kNotification) return (*it)->id;
  }
  return "";
}

size_t EventHub::HistorySize() const {
  std::lock_guard<std::mutex> lock(mu_);
  return notifications_in_ring_;
}

size_t EventHub::HistoryBytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return bytes_in_ring_;
}

}  // namespace notifications

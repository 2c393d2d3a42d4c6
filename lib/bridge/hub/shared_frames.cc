#include "shared_frames.h"

namespace notifications {

HubEventPtr SharedFrames::Get(Notification n) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = by_id_.find(n.id);
    if (it != by_id_.end()) {
      if (HubEventPtr alive = it->second.lock()) return alive;
    }
  }
  HubEventPtr made = MakeNotificationEvent(std::move(n), include_raw_content_);
  std::lock_guard<std::mutex> lock(mu_);
  auto [it, inserted] = by_id_.try_emplace(made->id, made);
  if (!inserted) {
    // Another thread made it meanwhile: share that one.
    if (HubEventPtr alive = it->second.lock()) return alive;
    it->second = made;
  }
  if (by_id_.size() >= purge_at_) {
    // Amortised: the table never holds more than twice the live ids.
    for (auto e = by_id_.begin(); e != by_id_.end();) {
      e = e->second.expired() ? by_id_.erase(e) : std::next(e);
    }
    purge_at_ = std::max<size_t>(64, 2 * by_id_.size());
  }
  return made;
}

size_t SharedFrames::live() const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = 0;
  for (const auto& e : by_id_) {
    if (!e.second.expired()) ++n;
  }
  return n;
}

}  // namespace notifications

#include "cancel_token.h"

namespace notifications {

void CancelToken::Cancel() {
  std::lock_guard<std::mutex> lock(mu_);
  if (cancelled_.exchange(true, std::memory_order_acq_rel)) return;
  for (auto& entry : callbacks_) entry.second();
}

int CancelToken::AddCallback(std::function<void()> callback) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (IsCancelled()) {
    callback();
    return 0;
  }
  int id = next_id_++;
  callbacks_.emplace_back(id, std::move(callback));
  return id;
}

void CancelToken::RemoveCallback(int id) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = callbacks_.begin(); it != callbacks_.end(); ++it) {
    if (it->first == id) {
      callbacks_.erase(it);
      return;
    }
  }
}

}  // namespace notifications

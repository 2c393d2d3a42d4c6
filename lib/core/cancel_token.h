// CancelToken: a one-way "stop now" signal that long operations (an
// upstream HTTP transfer, a long-poll held by the API) check and can be
// woken by, so SIGTERM does not wait for them.
//
// Thread-safe: Cancel() from any thread (e.g. Poller::Stop() on main's
// thread) while the operation runs on another. Once cancelled, a token
// stays cancelled. Not copyable: share it by reference or pointer.
//
//   CancelToken token;
//   int id = token.AddCallback([&] { curl_multi_wakeup(multi); });
//   ... transfer, checking token.IsCancelled() after each wake-up ...
//   token.RemoveCallback(id);
#pragma once

#include <atomic>
#include <functional>
#include <mutex>
#include <utility>
#include <vector>

namespace notifications {

class CancelToken {
 public:
  CancelToken() = default;
  CancelToken(const CancelToken&) = delete;
  CancelToken& operator=(const CancelToken&) = delete;

  // Cancels: every registered callback runs once, on this thread, outside
  // no lock of the caller's. Later calls do nothing.
  void Cancel();
  bool IsCancelled() const {
    return cancelled_.load(std::memory_order_acquire);
  }

  // Registers `callback` to run on Cancel(); when already cancelled it runs
  // at once, here. Callbacks must be quick and must not call back into the
  // token. Returns an id for RemoveCallback(), which waits for a callback
  // in progress to return (so the caller may then destroy what it uses).
  // Const: watching a token does not cancel it (HttpRequest holds a
  // pointer to const).
  int AddCallback(std::function<void()> callback) const;
  void RemoveCallback(int id) const;

 private:
  std::atomic<bool> cancelled_{false};
  // Held while callbacks run, so RemoveCallback() cannot return during one.
  mutable std::mutex mu_;
  // guarded by mu_:
  mutable std::vector<std::pair<int, std::function<void()>>> callbacks_;
  mutable int next_id_ = 1;
};

}  // namespace notifications

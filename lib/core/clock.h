// Clock: the bridge's only source of time, so tests can drive it by hand.
//
// Implementations must be thread-safe. SystemClock is the real one; tests
// use FakeClock (tests/support/fakes.h).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

namespace notifications {

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic time, for intervals and timeouts.
  virtual std::chrono::steady_clock::time_point Now() = 0;
  // Wall-clock time in milliseconds since the Unix epoch, for timestamps.
  virtual int64_t WallMillis() = 0;
  // Waits on `cv` (whose lock `lock` holds) until `pred()` is true or
  // `timeout` has elapsed on this clock. Returns pred(). Fakes return at
  // once when their time is advanced past the deadline.
  virtual bool WaitFor(std::condition_variable& cv,
                       std::unique_lock<std::mutex>& lock,
                       std::chrono::nanoseconds timeout,
                       const std::function<bool()>& pred) = 0;
};

class SystemClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point Now() override {
    return std::chrono::steady_clock::now();
  }
  int64_t WallMillis() override;
  bool WaitFor(std::condition_variable& cv, std::unique_lock<std::mutex>& lock,
               std::chrono::nanoseconds timeout,
               const std::function<bool()>& pred) override {
    return cv.wait_for(lock, timeout, pred);
  }
};

// Formats `millis` since the epoch as RFC 3339 UTC with millisecond
// precision: "2026-11-28T12:00:00.123Z".
std::string FormatRfc3339(int64_t millis);

}  // namespace notifications

// The mock delivery API's synthetic notifications: SyntheticNotification()
// makes the n-th one, MockGenerator appends them to a store at a rate
// (notifications-mock-api --generate RATE).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>

#include "clock.h"
#include "logger.h"
#include "notification.h"
#include "notification_store.h"

namespace notifications {

// The n-th notification of the synthetic generator (n from 0): it rotates
// over GitHub push/pull_request/status, Jenkins started/completed.success/
// completed.failure, Phabricator TASK/DREV (link ""), DockerHub push/
// buildFailure, over groups ops/ci/docker/devtools/orgz/"", with realistic
// text, link and a small rawContent. Deterministic; no id or time. Pure and
// thread-safe.
Notification SyntheticNotification(uint64_t n);

// Appends SyntheticNotification(0), (1)... to a store, `rate` per second
// (fractions allowed: 0.2 = one every 5 s), on its own thread, each logged
// at info. After a stall (a suspended laptop) it resumes the rate instead
// of catching up with a burst.
//
// Start() and Stop() from any thread; not copyable. The store, clock and
// logger must outlive it.
class MockGenerator {
 public:
  // `rate` > 0 and finite (ValidateMockApiOptions() checks it).
  MockGenerator(double rate, NotificationStore& store, Clock& clock,
                Logger& logger);
  // Stops (see Stop()).
  ~MockGenerator();
  MockGenerator(const MockGenerator&) = delete;
  MockGenerator& operator=(const MockGenerator&) = delete;

  // Starts the thread; the first notification comes one interval later.
  // Call it once.
  void Start();
  // Stops and joins the thread promptly (the wait for the next interval is
  // cut short). Idempotent.
  void Stop();

 private:
  void Loop();

  const double rate_;
  NotificationStore& store_;
  Clock& clock_;
  Logger& logger_;
  std::thread thread_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // guarded by mu_
};

}  // namespace notifications

#include "worker_pool.h"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

namespace notifications {
namespace {

using namespace std::chrono_literals;

TEST_CASE("worker pool: runs every task and never exceeds its thread cap") {
  WorkerPool pool(4, 256 * 1024, 5s);
  std::atomic<int> running{0}, max_running{0}, done{0};
  for (int i = 0; i < 40; ++i) {
    pool.Submit([&] {
      int now = ++running;
      int prev = max_running.load();
      while (now > prev && !max_running.compare_exchange_weak(prev, now)) {}
      std::this_thread::sleep_for(5ms);
      --running;
      ++done;
    });
  }
  pool.Shutdown();
  CHECK(done == 40);
  CHECK(max_running <= 4);
  CHECK(pool.peak_threads() <= 4);
  CHECK(pool.threads() == 0);
}

TEST_CASE("worker pool: long tasks beyond the cap wait instead of being lost") {
  WorkerPool pool(2, 0, 5s);
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::atomic<int> started{0};
  for (int i = 0; i < 3; ++i) {
    pool.Submit([&] {
      ++started;
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return release; });
    });
  }
  for (int i = 0; i < 200 && started < 2; ++i) std::this_thread::sleep_for(5ms);
  CHECK(started == 2);
  CHECK(pool.queued() == 1);
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  pool.Shutdown();
  CHECK(started == 3);
}

TEST_CASE("worker pool: idle threads retire") {
  WorkerPool pool(8, 0, 50ms);
  std::atomic<int> done{0};
  for (int i = 0; i < 8; ++i) pool.Submit([&] { ++done; });
  for (int i = 0; i < 200 && (done < 8 || pool.threads() > 0); ++i) {
    std::this_thread::sleep_for(10ms);
  }
  CHECK(done == 8);
  CHECK(pool.threads() == 0);
}

TEST_CASE("worker pool: a task submitted after shutdown still runs") {
  WorkerPool pool(1, 0, 1s);
  pool.Shutdown();
  bool ran = false;
  pool.Submit([&] { ran = true; });
  CHECK(ran);
}

}  // namespace
}  // namespace notifications

// WorkerPool: runs tasks on at most `max_threads` threads, created on
// demand and retired after `idle_timeout` without work, so an idle server
// holds few threads and a busy one never holds more than the cap.
//
// The bridge's server loops hand it what must not run on a loop: a gap
// fetched from upstream for a stream resuming from an old Last-Event-ID
// (several at once, so one slow fetch never queues up the others). The
// mock delivery API gives cpp-httplib this pool instead of Debian's fixed
// 8 threads with an unbounded queue, where a few slow long-polls would
// stall every other request.
//
// Tasks beyond the cap wait in a FIFO queue until a thread frees up (they
// are never dropped).
// Thread-safe. Not copyable. The destructor calls Shutdown().
#pragma once

#include <condition_variable>
#include <cstddef>
#include <chrono>
#include <deque>
#include <functional>
#include <mutex>

namespace notifications {

class WorkerPool {
 public:
  // `stack_bytes`: stack size of each thread (0 = the system default).
  WorkerPool(size_t max_threads, size_t stack_bytes,
             std::chrono::milliseconds idle_timeout);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Runs `task` on an idle thread, a new thread if below the cap, or later.
  // After Shutdown() the task runs on the caller's thread (never lost).
  void Submit(std::function<void()> task);

  // Stops accepting work, waits for queued and running tasks to finish and
  // for every thread to exit. Idempotent.
  void Shutdown();

  size_t threads() const;       // Alive now.
  size_t peak_threads() const;  // Most alive at once since construction.
  size_t queued() const;        // Waiting for a thread.

 private:
  static void* ThreadMain(void* self);
  void Work();
  bool SpawnLocked();

  const size_t max_threads_;
  const size_t stack_bytes_;
  const std::chrono::milliseconds idle_timeout_;

  mutable std::mutex mu_;
  std::condition_variable work_cv_;
  std::condition_variable exit_cv_;
  // guarded by mu_:
  std::deque<std::function<void()>> queue_;
  size_t threads_ = 0;
  size_t idle_ = 0;
  size_t peak_ = 0;
  bool shutdown_ = false;
};

}  // namespace notifications

#include "worker_pool.h"

#include <pthread.h>

#include <algorithm>

namespace notifications {

WorkerPool::WorkerPool(size_t max_threads, size_t stack_bytes,
                       std::chrono::milliseconds idle_timeout)
    : max_threads_(std::max<size_t>(1, max_threads)),
      stack_bytes_(stack_bytes),
      idle_timeout_(idle_timeout) {}

WorkerPool::~WorkerPool() { Shutdown(); }

void* WorkerPool::ThreadMain(void* self) {
  static_cast<WorkerPool*>(self)->Work();
  return nullptr;
}

bool WorkerPool::SpawnLocked() {
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  if (stack_bytes_ > 0) pthread_attr_setstacksize(&attr, stack_bytes_);
  // Detached: a retiring thread must not wait for anyone to join it;
  // Shutdown() waits on the thread count instead.
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_t thread;
  int rc = pthread_create(&thread, &attr, &WorkerPool::ThreadMain, this);
  pthread_attr_destroy(&attr);
  if (rc != 0) return false;
  ++threads_;
  peak_ = std::max(peak_, threads_);
  return true;
}

void WorkerPool::Submit(std::function<void()> task) {
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (!shutdown_) {
      queue_.push_back(std::move(task));
      // Wake an idle thread if there are more idle threads than waiting
      // tasks ahead of this one; otherwise grow, if allowed.
      if (idle_ >= queue_.size()) {
        lock.unlock();
        work_cv_.notify_one();
        return;
      }
      // When the system refuses a thread the task waits for a running one.
      if (threads_ < max_threads_) SpawnLocked();
      return;
    }
  }
  task();
}

void WorkerPool::Work() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    if (queue_.empty()) {
      if (shutdown_) break;
      ++idle_;
      bool got = work_cv_.wait_for(lock, idle_timeout_, [this] {
        return !queue_.empty() || shutdown_;
      });
      --idle_;
      if (!got) break;  // Idle too long: retire.
      continue;
    }
    std::function<void()> task = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    task();
    task = nullptr;  // Release captures before taking the lock again.
    lock.lock();
  }
  --threads_;
  if (threads_ == 0) exit_cv_.notify_all();
}

void WorkerPool::Shutdown() {
  std::unique_lock<std::mutex> lock(mu_);
  shutdown_ = true;
  work_cv_.notify_all();
  // Threads drain the queue before exiting.
  if (threads_ == 0 && !queue_.empty()) SpawnLocked();
  exit_cv_.wait(lock, [this] { return threads_ == 0; });
}

size_t WorkerPool::threads() const {
  std::lock_guard<std::mutex> lock(mu_);
  return threads_;
}

size_t WorkerPool::peak_threads() const {
  std::lock_guard<std::mutex> lock(mu_);
  return peak_;
}

size_t WorkerPool::queued() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

}  // namespace notifications

// Test doubles for the I/O interfaces: a scripted HttpClient that records
// every request, and a Clock whose time only moves when told.
#pragma once

#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "clock.h"
#include "http_client.h"

namespace notifications {

class FakeHttpClient final : public HttpClient {
 public:
  // Queues the next answer. With nothing queued, Get() answers a
  // connection error.
  void Push(HttpResponse response) {
    std::lock_guard<std::mutex> lock(mu_);
    answers_.push_back(std::move(response));
  }
  void PushJson(int status, std::string body) {
    HttpResponse r;
    r.status = status;
    r.content_type = "application/json";
    r.body = std::move(body);
    Push(std::move(r));
  }
  void PushError(HttpResponse::Error error, std::string message = "fake") {
    HttpResponse r;
    r.error = error;
    r.error_message = std::move(message);
    Push(std::move(r));
  }

  HttpResponse Get(const HttpRequest& request) override {
    std::lock_guard<std::mutex> lock(mu_);
    requests_.push_back(request);
    if (answers_.empty()) {
      HttpResponse r;
      r.error = HttpResponse::Error::kConnect;
      r.error_message = "no scripted answer";
      return r;
    }
    HttpResponse r = std::move(answers_.front());
    answers_.pop_front();
    return r;
  }

  std::vector<HttpRequest> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  mutable std::mutex mu_;
  std::deque<HttpResponse> answers_;
  std::vector<HttpRequest> requests_;
};

class FakeClock final : public Clock {
 public:
  std::chrono::steady_clock::time_point Now() override {
    std::lock_guard<std::mutex> lock(mu_);
    return now_;
  }
  int64_t WallMillis() override {
    std::lock_guard<std::mutex> lock(mu_);
    return wall_ms_;
  }
  // Never blocks: records the requested wait and advances time by it.
  bool WaitFor(std::condition_variable&, std::unique_lock<std::mutex>&,
               std::chrono::nanoseconds timeout,
               const std::function<bool()>& pred) override {
    if (pred()) return true;
    {
      std::lock_guard<std::mutex> lock(mu_);
      waits_.push_back(
          std::chrono::duration_cast<std::chrono::milliseconds>(timeout));
      now_ += timeout;
      wall_ms_ += std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count();
    }
    return pred();
  }
  void Advance(std::chrono::milliseconds d) {
    std::lock_guard<std::mutex> lock(mu_);
    now_ += d;
    wall_ms_ += d.count();
  }
  std::vector<std::chrono::milliseconds> waits() const {
    std::lock_guard<std::mutex> lock(mu_);
    return waits_;
  }

 private:
  mutable std::mutex mu_;
  std::chrono::steady_clock::time_point now_{};
  int64_t wall_ms_ = 1795869554000;  // 2026-11-28T...
  std::vector<std::chrono::milliseconds> waits_;
};

}  // namespace notifications

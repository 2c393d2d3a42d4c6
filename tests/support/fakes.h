// Test doubles for the I/O interfaces: a scripted HttpClient and a scripted
// HttpStream that record every request, and a Clock whose time only moves
// when told.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "clock.h"
#include "http_client.h"
#include "http_stream.h"

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

// Plays one scripted response per Get(), in order, and records the
// requests. Thread-safe (Cancel() comes from another thread).
class FakeHttpStream final : public HttpStream {
 public:
  struct Response {
    int status = 200;  // 0: no response at all (e.g. refused).
    std::string content_type = "text/event-stream";
    std::vector<std::string> chunks;  // The body, fed in these pieces.
    // How the transfer ends once the chunks are fed (kAborted is decided
    // by on_body, kCancelled by Cancel()).
    HttpStreamResult::End end = HttpStreamResult::End::kComplete;
    std::string error;  // With kFailed.
    // After the chunks, block until Cancel() (a stream left open).
    bool hold = false;
  };

  // Queues the next response. With nothing queued, Get() fails as a
  // refused connection would.
  void Push(Response response) {
    std::lock_guard<std::mutex> lock(mu_);
    responses_.push_back(std::move(response));
  }
  // A 200 text/event-stream whose body is `chunks`, then `end`.
  void PushStream(std::vector<std::string> chunks,
                  HttpStreamResult::End end = HttpStreamResult::End::kComplete,
                  std::string error = "") {
    Response r;
    r.chunks = std::move(chunks);
    r.end = end;
    r.error = std::move(error);
    Push(std::move(r));
  }

  HttpStreamResult Get(const HttpStreamRequest& request,
                       const HttpStreamCallbacks& callbacks) override {
    using End = HttpStreamResult::End;
    Response r;
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(request);
      if (cancelled_) return {End::kCancelled, ""};
      if (responses_.empty()) {
        return {End::kFailed,
                "Failed to connect: Couldn't connect to server (Connection "
                "refused)"};
      }
      r = std::move(responses_.front());
      responses_.pop_front();
    }
    if (r.status > 0 && callbacks.on_response) {
      callbacks.on_response(r.status, r.content_type);
    }
    for (const std::string& chunk : r.chunks) {
      if (cancelled()) return {End::kCancelled, ""};
      if (callbacks.on_body && !callbacks.on_body(chunk)) {
        return {End::kAborted, ""};
      }
    }
    if (r.hold) {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return cancelled_; });
    }
    if (cancelled()) return {End::kCancelled, ""};
    return {r.end, r.error};
  }

  void Cancel() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      cancelled_ = true;
    }
    cv_.notify_all();
  }

  std::vector<HttpStreamRequest> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  bool cancelled() const {
    std::lock_guard<std::mutex> lock(mu_);
    return cancelled_;
  }

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Response> responses_;
  std::vector<HttpStreamRequest> requests_;
  bool cancelled_ = false;
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
      wall_ms_ += std::chrono::duration_cast<std::chrono::milliseconds>(timeout)
                      .count();
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

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

// Scripted HttpClient. Answers what was pushed, in order, and behaves like
// CurlHttpClient where the request's own limits decide (tests/curl/ runs
// the same cases against both): a body above max_body_bytes is kTooLarge
// with curl's message and no body, an answer that `takes` longer than
// total_timeout is kTimeout, 3xx are returned as they are, a cancelled
// token is kCancelled. PushHang() blocks the call until the request's
// CancelToken is cancelled (or Release()), without sleeping.
class FakeHttpClient final : public HttpClient {
 public:
  // Queues the next answer. With nothing queued, Get() answers a
  // connection error.
  void Push(HttpResponse response,
            std::chrono::milliseconds takes = std::chrono::milliseconds(0)) {
    std::lock_guard<std::mutex> lock(mu_);
    answers_.push_back(Scripted{std::move(response), takes, false});
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
  // What libcurl reports when the peer resets the connection.
  void PushReset() {
    PushError(HttpResponse::Error::kTransport,
              "Recv failure: Connection reset by peer");
  }
  void PushRedirect(int status, std::string location) {
    HttpResponse r;
    r.status = status;
    r.content_type = "text/html";
    r.redirect_url = std::move(location);
    Push(std::move(r));
  }
  // The next call blocks until its request's token is cancelled (then
  // kCancelled) or Release() (then a connection error).
  void PushHang() {
    std::lock_guard<std::mutex> lock(mu_);
    answers_.push_back(Scripted{HttpResponse(), {}, true});
  }
  void Release() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      released_ = true;
    }
    cv_.notify_all();
  }
  // Blocks until `n` calls are hanging (PushHang) at once.
  void WaitForHanging(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return hanging_ >= n; });
  }

  HttpResponse Get(const HttpRequest& request) override {
    // Registered before taking mu_ (a token already cancelled runs the
    // callback here, and it takes mu_); removed after mu_ is released.
    struct Watch {
      const CancelToken* token;
      int id;
      ~Watch() {
        if (token) token->RemoveCallback(id);
      }
    } watch{request.cancel, 0};
    if (request.cancel) {
      watch.id = request.cancel->AddCallback([this] {
        std::lock_guard<std::mutex> l(mu_);
        cv_.notify_all();
      });
    }
    std::unique_lock<std::mutex> lock(mu_);
    requests_.push_back(request);
    HttpResponse r;
    if (request.cancel && request.cancel->IsCancelled()) {
      r.error = HttpResponse::Error::kCancelled;
      r.error_message = "cancelled before it started";
      return r;
    }
    if (answers_.empty()) {
      r.error = HttpResponse::Error::kConnect;
      r.error_message = "no scripted answer";
      return r;
    }
    Scripted next = std::move(answers_.front());
    answers_.pop_front();
    if (next.hang) {
      ++hanging_;
      cv_.notify_all();
      cv_.wait(lock, [&] {
        return released_ || (request.cancel && request.cancel->IsCancelled());
      });
      --hanging_;
      if (request.cancel && request.cancel->IsCancelled()) {
        r.error = HttpResponse::Error::kCancelled;
        r.error_message = "cancelled";
      } else {
        r.error = HttpResponse::Error::kConnect;
        r.error_message = "released";
      }
      return r;
    }
    r = std::move(next.response);
    if (next.takes > request.total_timeout) {
      HttpResponse timeout;
      timeout.error = HttpResponse::Error::kTimeout;
      timeout.error_message = "Operation timed out after " +
                              std::to_string(request.total_timeout.count()) +
                              " milliseconds with 0 bytes received";
      return timeout;
    }
    if (r.error == HttpResponse::Error::kNone &&
        r.body.size() > request.max_body_bytes) {
      HttpResponse large;
      large.error = HttpResponse::Error::kTooLarge;
      large.error_message = "response body larger than " +
                            std::to_string(request.max_body_bytes) + " bytes";
      return large;
    }
    return r;
  }

  std::vector<HttpRequest> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  struct Scripted {
    HttpResponse response;
    std::chrono::milliseconds takes{0};
    bool hang = false;
  };
  mutable std::mutex mu_;
  std::condition_variable cv_;
  // guarded by mu_:
  std::deque<Scripted> answers_;
  std::vector<HttpRequest> requests_;
  size_t hanging_ = 0;
  bool released_ = false;
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

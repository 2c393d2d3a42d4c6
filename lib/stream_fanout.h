// StreamFanout: writes every open event stream from one thread.
//
// A `GET /events` request is parsed and answered by cpp-httplib's worker
// thread up to the stream's opening bytes (head, `retry:`, replay); the
// socket is then handed here with its StreamSession. From then on one
// epoll loop does all the stream's writing:
//
//   - When the hub publishes (its waker writes an eventfd), the loop reads
//     the new events once and, for each stream, appends that stream's
//     frames (StreamSession::Advance: filter, dedupe floor, reset) and
//     writes them as one HTTP chunk: one send() per stream per batch, no
//     thread wake-up per stream.
//   - A stream whose client does not take its bytes keeps them in its own
//     buffer (EPOLLOUT resumes it). It is cut when the buffer passes
//     `max_pending_bytes` or makes no progress for `write_timeout`; its
//     client reconnects with Last-Event-ID and replays what it missed.
//   - Heartbeat comments go to streams with nothing written for `heartbeat`.
//   - A client that closes is noticed at once (EPOLLRDHUP) and forgotten.
//   - A stream behind the hub's history (lagged) and every stream once the
//     hub shuts down get the last chunk, so their clients reconnect.
//
// Each ended stream decrements Metrics::clients_connected (the HTTP side
// incremented it when it admitted the stream); events_sent and bytes_sent
// count what streams are given.
//
// Thread-safe: Adopt() and streams() from any thread; Start() and Stop()
// from the owner's thread. Not copyable.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "event_hub.h"
#include "logger.h"
#include "metrics.h"
#include "status.h"
#include "stream_session.h"

namespace notifications {

struct FanoutOptions {
  // Comment sent to a stream with nothing written for this long.
  std::chrono::milliseconds heartbeat{15000};
  // A stream whose waiting bytes make no progress for this long is cut.
  std::chrono::milliseconds write_timeout{5000};
  // Bytes a stream may hold for a slow client before it is cut (1 MiB).
  size_t max_pending_bytes = size_t{1} << 20;
  // Hub events read per step when a stream catches up on its own.
  size_t max_batch = 512;
};

class StreamFanout {
 public:
  // `hub`, `metrics` and `logger` must outlive the fanout.
  StreamFanout(EventHub& hub, Metrics& metrics, Logger& logger,
               FanoutOptions options);
  // Stop(0).
  ~StreamFanout();
  StreamFanout(const StreamFanout&) = delete;
  StreamFanout& operator=(const StreamFanout&) = delete;

  // Creates the epoll loop's thread. Fails when epoll or eventfd cannot be
  // created (out of file descriptors).
  Status Start();

  // Takes ownership of `fd`: a connected TCP socket whose HTTP response head
  // (chunked) and opening chunk are already written, and whose session has
  // seen everything up to session->seq(). The fanout writes the rest and
  // closes `fd` when the stream ends. Before Start() or after Stop(), the
  // stream is ended at once (last chunk, close).
  void Adopt(int fd, std::unique_ptr<StreamSession> session);

  // Ends every stream with the last chunk, gives their clients up to
  // `grace` to take the bytes, closes what remains and joins the thread.
  // Idempotent.
  void Stop(std::chrono::milliseconds grace);

  // Streams open now.
  size_t streams() const { return stream_count_.load(std::memory_order_relaxed); }

 private:
  struct Stream;
  using Clock = std::chrono::steady_clock;

  void Loop();
  void Wake();
  void TakeAdopted(Clock::time_point now);
  void Deliver(Clock::time_point now);
  void CatchUp(Stream& s, Clock::time_point now);
  // Writes `body` as one chunk (or queues it). False when the stream was
  // closed (it is then gone: `s` must not be used again).
  bool Send(Stream& s, const std::string& body, uint64_t events,
            Clock::time_point now);
  void End(Stream& s, Clock::time_point now);
  void EndAll(Clock::time_point now);
  void Periodic(Clock::time_point now);
  bool Flush(Stream& s, Clock::time_point now);
  bool DrainInput(Stream& s);
  void Watch(Stream& s, bool want_out);
  void Close(int fd);
  void CloseAdoptedFd(int fd);

  EventHub& hub_;
  Metrics& metrics_;
  Logger& logger_;
  const FanoutOptions options_;
  const std::chrono::milliseconds tick_;

  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  int waker_id_ = 0;
  std::thread thread_;
  std::atomic<size_t> stream_count_{0};

  std::mutex mu_;
  // guarded by mu_:
  std::vector<std::pair<int, std::unique_ptr<StreamSession>>> adopted_;
  bool running_ = false;  // Start() done, Stop() not yet called.
  bool stop_requested_ = false;
  Clock::time_point stop_deadline_;

  // Owned by the loop's thread (see stream_fanout.cc).
  struct LoopState;
  std::unique_ptr<LoopState> loop_;
};

}  // namespace notifications

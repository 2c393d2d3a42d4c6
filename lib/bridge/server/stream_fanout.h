// StreamFanout: writes every open event stream from a few threads.
//
// A `GET /events` request is parsed and answered by cpp-httplib's worker
// thread up to the stream's opening bytes (head, `retry:`, replay); the
// socket is then handed here with its StreamSession. From then on an epoll
// loop does all the stream's writing; `threads` loops share the streams
// (round-robin), each a thread that serves its streams in turn:
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
  // Event loops (threads). One delivers to ~100,000 streams per second of
  // CPU; more spread a big fan-out over cores. 0 = one per core, up to 8.
  size_t threads = 1;
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

  // Creates the loops' threads. Fails when epoll or eventfd cannot be
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
  size_t streams() const;
  // Event loops running (after Start()).
  size_t threads() const { return loops_.size(); }

 private:
  class Loop;  // One epoll thread and its streams (stream_fanout.cc).

  const FanoutOptions options_;
  std::vector<std::unique_ptr<Loop>> loops_;
  std::atomic<size_t> next_loop_{0};
};

}  // namespace notifications

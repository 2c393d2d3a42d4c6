// ServerLoop: one thread on epoll that does all of the HTTP server's work
// for its connections, from accept() to close(): no thread per connection,
// no thread per handshake. BridgeServer runs a few of them
// (--stream-threads) on one listening socket.
//
// A connection goes through these phases:
//
//   handshake   reading a request head, idle between keep-alive requests,
//               writing an ordinary answer, or lingering after a last one
//               (half-closed, reading what the client still sends). Bounded
//               in number (max_handshakes: at the cap, a new connection
//               closes the oldest) and in time (head_timeout from the
//               opening or the previous answer to a complete head: 408;
//               write_timeout without progress on an answer; linger).
//   blocked     its answer waits for work on the blocking pool (a gap fetch
//               upstream); only a close by the client is watched.
//   parked      its answer waits for the hub or a timeout (long-polls).
//   stream      an SSE stream this loop writes until it ends.
//
// Requests are parsed by HttpRequestParser with the server's limits (400,
// 414, 431, 505: answered, then the connection closes). A body (no route
// takes one) up to max_discarded_body is read and dropped, anything else
// (larger, chunked, or framing it cannot trust) closes the connection after
// the answer: a body is never parsed as the next request. Pipelined
// requests are answered in order, one at a time (the next is read once the
// previous answer is written).
//
// Streams, as StreamFanout did before: when the hub publishes (its waker
// writes this loop's eventfd) the loop reads the new events once and writes
// each stream its frames as one HTTP chunk (one send per stream per batch);
// a stream whose client does not take its bytes keeps them queued
// (EPOLLOUT resumes it) and is cut past max_pending_bytes or after
// write_timeout without progress; heartbeats go to quiet streams; a client
// that closes is noticed at once (EPOLLRDHUP); a stream behind the hub's
// history, and every stream once the hub shuts down or the loop stops, gets
// the last chunk. HTTP/1.0 streams are close-delimited (no chunks).
//
// Each ended stream gives back its --max-clients slot
// (Metrics::clients_connected); events_sent and bytes_sent count what
// streams are given.
//
// Time comes from a Clock (deadlines, heartbeats); epoll waits at most a
// tick (a quarter of the shortest period, 20 ms to 1 s). Tests with a fake
// clock advance it and call Wake().
//
// Thread-safe: Adopt(), Wake(), Post(), RequestStop(), streams() and
// handshakes() from any thread; Start() and Join() from the owner's.
// Not copyable.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "clock.h"
#include "event_hub.h"
#include "http_exchange.h"
#include "http_request.h"
#include "log_limiter.h"
#include "logger.h"
#include "metrics.h"
#include "server_metrics.h"
#include "sse_output.h"
#include "status.h"
#include "stream_session.h"
#include "worker_pool.h"

namespace notifications {

struct LoopOptions {
  // Comment sent to a stream with nothing written for this long.
  std::chrono::milliseconds heartbeat{15000};
  // A connection whose waiting bytes make no progress for this long is cut.
  std::chrono::milliseconds write_timeout{5000};
  // From a connection's opening (or its previous answer) to a complete head.
  std::chrono::milliseconds head_timeout{10000};
  // How long a connection that was answered for the last time may still
  // send (read and dropped) before it is closed.
  std::chrono::milliseconds linger{1000};
  // This loop's share of the server's caps.
  size_t max_handshakes = 1024;
  size_t max_parked = 1000;
  // Bytes a stream may hold for a slow client before it is cut (1 MiB).
  size_t max_pending_bytes = size_t{1} << 20;
  // SO_SNDBUF of stream sockets; 0 = the kernel's (autotuned) default.
  size_t stream_send_buffer = 128 * 1024;
  // Hub events read per step when a stream catches up on its own.
  size_t max_batch = 512;
  size_t max_discarded_body = 64 * 1024;
  HttpRequestLimits limits;
};

// The rate-limited log lines the loops share (log_limiter.h).
struct ServerLogs {
  ServerLogs(Logger& logger, Clock& clock, std::chrono::milliseconds interval)
      : refused_streams(logger, clock, LogLevel::kWarn, interval),
        bad_requests(logger, clock, LogLevel::kInfo, interval),
        cut_streams(logger, clock, LogLevel::kWarn, interval),
        evictions(logger, clock, LogLevel::kWarn, interval),
        accept_errors(logger, clock, LogLevel::kError, interval) {}
  void Flush() {
    refused_streams.Flush();
    bad_requests.Flush();
    cut_streams.Flush();
    evictions.Flush();
    accept_errors.Flush();
  }
  LogLimiter refused_streams;  // --max-clients reached.
  LogLimiter bad_requests;     // 400, 408, 414, 431, 505.
  LogLimiter cut_streams;      // Slow or stalled clients.
  LogLimiter evictions;        // Handshakes closed at --max-handshakes.
  LogLimiter accept_errors;    // Out of file descriptors.
};

class ServerLoop {
 public:
  // Everything must outlive the loop.
  ServerLoop(EventHub& hub, Metrics& metrics, ServerMetrics& server_metrics,
             Logger& logger, ServerLogs& logs, Clock& clock,
             HttpHandler& handler, WorkerPool& blocking, LoopOptions options);
  // RequestStop(now) and Join().
  ~ServerLoop();
  ServerLoop(const ServerLoop&) = delete;
  ServerLoop& operator=(const ServerLoop&) = delete;

  // Creates the epoll set and the thread. `listen_fd`: a non-blocking
  // listening socket the loops share (not owned), or -1 for a loop that
  // only writes the streams Adopt() hands it. Fails when epoll or eventfd
  // cannot be created (out of file descriptors).
  Status Start(int listen_fd);

  // Takes ownership of `fd`: a connected socket whose chunked response head
  // and opening chunk are already written, and whose session has seen
  // everything up to session->seq(); the caller already counted it in
  // clients_connected. Before Start() or after a stop, it is ended at once.
  void Adopt(int fd, std::unique_ptr<StreamSession> session);

  // Runs `task` on the loop's thread soon; dropped (destroyed on the
  // calling thread) once the loop has stopped.
  void Post(std::function<void()> task);
  // Makes the loop look at its timers now.
  void Wake();

  // Stops accepting; ends every stream with its last chunk; answers parked
  // and blocked requests; closes idle connections; lets the rest finish
  // until `deadline` (on the loop's clock), then closes everything and the
  // thread exits. Idempotent.
  void RequestStop(std::chrono::steady_clock::time_point deadline);
  void Join();

  size_t streams() const {
    return stream_count_.load(std::memory_order_acquire);
  }
  size_t handshakes() const {
    return handshake_count_.load(std::memory_order_acquire);
  }

 private:
  struct Conn;
  class Exchange;
  struct State;
  using TimePoint = std::chrono::steady_clock::time_point;

  void Run();
  void OnWake(TimePoint now);
  void Accept(TimePoint now);
  void OnEvent(Conn* c, uint32_t events, TimePoint now);
  void OnReadable(Conn* c, TimePoint now);
  void Consume(Conn* c, TimePoint now);
  void OnRequest(Conn* c, TimePoint now);
  void Refuse(Conn* c, int status, std::string message, TimePoint now);
  void Respond(Conn* c, HttpReply response, TimePoint now);
  void AfterAnswer(Conn* c, TimePoint now);
  void Linger(Conn* c, TimePoint now);
  void OnWritable(Conn* c, TimePoint now);
  void StartStream(Conn* c, HeaderFields fields,
                   std::unique_ptr<StreamSession> session, TimePoint now);
  void Block(Conn* c, std::function<HttpExchange::Continuation()> work,
             HttpExchange::Continuation on_cancel);
  void Unblock(uint64_t id, HttpExchange::Continuation next);
  bool Park(Conn* c, std::chrono::milliseconds timeout,
            std::function<bool(HttpExchange&, HttpExchange::Wake)> on_wake,
            TimePoint now);
  void WakeParked(Conn* c, HttpExchange::Wake why, TimePoint now);
  void Handle(Conn* c, const std::function<void(HttpExchange&)>& fn,
              TimePoint now);

  void Deliver(TimePoint now);
  // Writes `output` as one chunk straight to the socket of a stream with
  // nothing waiting; queues what the socket does not take.
  void WriteDirect(Conn* c, SseOutput* output, uint64_t events, TimePoint now);
  // Appends `output` to the stream's queue as one chunk, sharing the
  // frames; cuts the stream (false) when its unsent bytes pass the bound.
  bool Enqueue(Conn* c, SseOutput* output, uint64_t events, TimePoint now);
  // Refills the stream's queue up to the low-water mark from its opening,
  // then from the hub. True when it stopped at the mark (more to come).
  bool Fill(Conn* c, TimePoint now);
  // Fill() and write, until the socket is full or nothing is left.
  void Pump(Conn* c, TimePoint now);
  // Brings ServerMetrics::unsent up to date with the stream's queue.
  void Account(Conn* c);
  void End(Conn* c, TimePoint now);
  void EndAll(TimePoint now);
  void BeginStop(TimePoint now);
  void Periodic(TimePoint now);
  bool DrainStreamInput(Conn* c);

  Conn* NewConn(int fd, TimePoint now);
  void Watch(Conn* c, uint32_t events);
  void ListHandshake(Conn* c, TimePoint now);
  void UnlistHandshake(Conn* c);
  void EvictOldest(TimePoint now);
  void Close(Conn* c);
  void PauseAccept(TimePoint now, int err);
  std::string Peer(const Conn* c) const;
  std::chrono::milliseconds Tick() const;

  EventHub& hub_;
  Metrics& metrics_;
  ServerMetrics& server_metrics_;
  Logger& logger_;
  ServerLogs& logs_;
  Clock& clock_;
  HttpHandler& handler_;
  WorkerPool& blocking_;
  const LoopOptions options_;

  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  int listen_fd_ = -1;
  int waker_id_ = 0;
  std::thread thread_;
  std::atomic<size_t> stream_count_{0};
  std::atomic<size_t> handshake_count_{0};
  // False once the loop stops: blocking work queued for it is skipped.
  std::shared_ptr<std::atomic<bool>> accepting_posts_ =
      std::make_shared<std::atomic<bool>>(false);

  std::mutex mu_;
  // guarded by mu_:
  std::vector<std::pair<int, std::unique_ptr<StreamSession>>> adopted_;
  std::vector<std::function<void()>> posted_;
  bool running_ = false;       // Start() done, RequestStop() not yet called.
  bool taking_posts_ = false;  // The thread runs (until it exits).
  bool stop_requested_ = false;
  TimePoint stop_deadline_;

  // Owned by the loop's thread.
  std::unique_ptr<State> st_;
};

}  // namespace notifications

// MockHttpServer: the mock delivery API's httplib::Server, made to stay
// usable under pressure (Debian's cpp-httplib 0.11 defaults do not):
//
//   - each connection runs on a thread of an on-demand WorkerPool (up to
//     `max_connections`, retired when idle) instead of httplib's fixed
//     pool, so slow clients and held long-polls never make the others wait
//     below that cap;
//   - a request head (request line and headers) must be complete within
//     `head_timeout` of its first byte, however steadily a client drips
//     it: httplib's read timeout is per read, which a byte a second never
//     trips. The clock stops once the head is read (a long-poll's handler
//     may then hold the answer for minutes);
//   - the listen backlog is SOMAXCONN (httplib's is 5);
//   - the port is exclusive (SO_REUSEADDR only, never SO_REUSEPORT), and
//     answers go out with TCP_NODELAY.
//
// The per-connection loop is httplib's private virtual
// process_and_close_socket(), replaced (C++ lets a subclass override it):
// the same keep-alive rules over a Stream of ours that knows the deadline.
//
// Thread-safe as httplib::Server is. Not copyable. Includes httplib: for
// the mock's .cc files only.
#pragma once

#include <httplib.h>

#include <chrono>
#include <cstddef>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "worker_pool.h"

namespace notifications {

class MockHttpServer final : public httplib::Server {
 public:
  MockHttpServer(size_t max_connections,
                 std::chrono::milliseconds head_timeout);
  // Stops and waits for the connections in flight.
  ~MockHttpServer() override;

  // After bind: raises the listen backlog to SOMAXCONN.
  void DeepenBacklog();
  // After stop() and the end of listen_after_bind(): waits for the
  // connections in flight to end (their reads give up within 200 ms once
  // the server stops).
  void Drain();

 private:
  class Connection;

  bool process_and_close_socket(socket_t sock) override;
  // The connection served by the calling thread (handlers run on it).
  Connection* Current();

  const std::chrono::milliseconds head_timeout_;
  WorkerPool pool_;

  std::mutex mu_;
  // guarded by mu_:
  std::unordered_map<std::thread::id, Connection*> current_;
};

}  // namespace notifications

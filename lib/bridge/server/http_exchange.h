// HttpExchange: one request on one connection, as a route handler sees it,
// and HttpReply, what it answers. The server loops (server_loop.h)
// implement HttpExchange; route tests use a fake.
//
// A handler runs on the connection's loop thread and must not block: it
// answers at once (Respond, StartStream), or later:
//
//   - RunBlocking(work, on_cancel): `work` runs on the server's small pool
//     of threads (a gap fetch from upstream); the continuation it returns
//     runs back on the loop with this exchange, unless the client left
//     meanwhile (then it is dropped) or the server stopped first (then
//     `on_cancel` runs instead, and must answer).
//   - Park(timeout, on_wake): the connection waits (it reads nothing more)
//     and `on_wake` runs on the loop each time the hub publishes (kPublished),
//     once the timeout passes (kTimeout) and when the server stops
//     (kShutdown); it returns true once it has answered. After kTimeout or
//     kShutdown it must answer; if it does not, the server answers 503.
//     For long-polls: GET /delivery/notifications?wait= (see http_server.h).
//
// Exactly one answer per request: a handler that returns without one of
// Respond/StartStream/RunBlocking/Park gets a 500 written for it.
//
// Not thread-safe: only the loop thread that called the handler may use it,
// and only until it has answered.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "http_framing.h"
#include "http_request.h"
#include "stream_session.h"

namespace notifications {

struct HttpReply {
  int status = 200;
  // Every field but Content-Length and Connection, which the server writes.
  HeaderFields fields;
  // Null: no body. Shared: a cached file is written without a copy. A HEAD
  // request gets the same head (Content-Length included) without the body.
  std::shared_ptr<const std::string> body;
  // Close the connection once this answer is written.
  bool close = false;
  // The head of what GET would stream (HEAD of /events): no Content-Length
  // (its length is not known), the framing GET would use (chunked in
  // HTTP/1.1) and the connection closed after it, as after a stream.
  bool stream_head = false;

  // `status`, Content-Type `content_type`, `body`.
  static HttpReply Text(int status, std::string content_type, std::string body);
};

class HttpExchange {
 public:
  enum class Wake { kPublished, kTimeout, kShutdown };
  using Continuation = std::function<void(HttpExchange&)>;

  virtual ~HttpExchange() = default;

  virtual const HttpRequestHead& request() const = 0;
  // The peer's address, "" when unknown (for logs).
  virtual std::string peer() const = 0;

  virtual void Respond(HttpReply response) = 0;

  // Starts an SSE stream: a 200 with `fields` plus Content-Type
  // text/event-stream, chunked (close-delimited for HTTP/1.0) and
  // Connection: close; then the session's opening (TakeOpening()) and live
  // events until the session or the server ends it.
  virtual void StartStream(HeaderFields fields,
                           std::unique_ptr<StreamSession> session) = 0;

  // Marks the connection as holding one of the --max-clients slots
  // (Metrics::clients_connected, already incremented by the caller): the
  // server gives it back when the connection ends, however it ends.
  virtual void HoldClientSlot() = 0;

  virtual void RunBlocking(std::function<Continuation()> work,
                           Continuation on_cancel) = 0;

  // False (and nothing parked) when too many requests are parked already;
  // the handler then answers by itself.
  virtual bool Park(std::chrono::milliseconds timeout,
                    std::function<bool(HttpExchange&, Wake)> on_wake) = 0;
};

// What the server loops call for each request (BridgeRoutes, routes.h).
// Must be thread-safe: every loop calls it, each from its own thread.
class HttpHandler {
 public:
  virtual ~HttpHandler() = default;
  virtual void Handle(HttpExchange& exchange) = 0;
};

}  // namespace notifications

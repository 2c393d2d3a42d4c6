// ServerOptions: every setting of the bridge's HTTP server (BridgeServer),
// with its default and unit. Plain values.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace notifications {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;         // 0 = any free port; see BridgeServer::port().
  std::string public_dir;  // "" = no page.
  // Every route lives under this prefix ("/notifications": the stream is
  // /notifications/events), for a proxy that does not strip it. "" = /.
  std::string base_path;
  size_t max_clients = 1000;               // Open streams (--max-clients).
  std::vector<std::string> allow_origins;  // Exact CORS origins.
  std::chrono::milliseconds heartbeat{15000};
  std::chrono::milliseconds retry{3000};  // Jitter: up to 2/3 of it more.
  // `retry:` told to streams turned away at max_clients: in [busy_retry,
  // 2 * busy_retry], so the crowd comes back spread out.
  std::chrono::milliseconds busy_retry{30000};
  // A connection whose client takes no bytes for this long is cut.
  std::chrono::milliseconds write_timeout{5000};
  // Server loops (threads): each accepts, reads requests, answers them and
  // writes its streams. 0 = one per core, up to 8.
  size_t stream_threads = 0;
  // When not empty, /events requires this token: as the `access_token`
  // query parameter or the `notifications_stream_token` cookie (an
  // EventSource cannot send headers). Missing or wrong: 401, no stream.
  std::string stream_token;

  // --head-timeout: a connection has this long, from its opening or the end
  // of its previous answer, to send a complete request head (idle
  // keep-alive connections close at the same deadline). Past it: 408 (or a
  // plain close when nothing was sent) and the connection closes.
  std::chrono::milliseconds head_timeout{10000};
  // --max-handshakes: connections that are not streams (reading a head,
  // idle between requests, answering one) held at once, over all loops.
  // At the cap, each new connection closes the oldest of them.
  size_t max_handshakes = 1024;
  // Request head limits (414, 431): see HttpRequestLimits.
  size_t max_request_line = 8 * 1024;
  size_t max_header_line = 8 * 1024;
  size_t max_headers = 100;
  size_t max_head_bytes = 32 * 1024;
  // A request body (our routes take none) up to this size is read and
  // dropped so the connection can serve the next request; a larger one, or
  // a chunked one, closes the connection after the answer.
  size_t max_discarded_body = 64 * 1024;
  // Bytes a stream may hold unsent for its client before it is cut (1 MiB).
  size_t max_pending_bytes = size_t{1} << 20;
  // SO_SNDBUF of a stream's socket (the kernel doubles it): what the kernel
  // may hold for a client that does not read, beside max_pending_bytes.
  // Without it Linux grows a stalled socket's buffer to tcp_wmem's maximum
  // (4 MiB by default). 0 = leave it to the kernel.
  size_t stream_send_buffer = 128 * 1024;
  // Threads that run blocking work for the loops (gap fetches from
  // upstream), created on demand.
  size_t blocking_threads = 8;
  // Requests parked at once (long-polls), over all loops; 0 = max_clients.
  size_t max_parked = 0;
  // Interval of the rate-limited log lines (refused streams, bad
  // requests, cut streams): at most one line per kind per interval.
  std::chrono::milliseconds log_interval{10000};
};

// Name of the cookie that can carry the stream token.
inline constexpr const char* kStreamTokenCookie = "notifications_stream_token";

}  // namespace notifications

#include "http_server.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>
#include <vector>

#include "log_limiter.h"
#include "server_loop.h"
#include "server_metrics.h"
#include "static_files.h"
#include "worker_pool.h"

namespace notifications {

namespace {

size_t LoopCount(const ServerOptions& o) {
  if (o.stream_threads > 0) return o.stream_threads;
  return std::clamp<size_t>(std::thread::hardware_concurrency(), 1, 8);
}

LoopOptions MakeLoopOptions(const ServerOptions& o) {
  LoopOptions l;
  l.heartbeat = o.heartbeat;
  l.write_timeout = o.write_timeout;
  l.head_timeout = o.head_timeout;
  // Server-wide caps, checked against the counts of all loops.
  l.max_handshakes = o.max_handshakes;
  l.max_parked = o.max_parked == 0 ? o.max_clients : o.max_parked;
  l.max_pending_bytes = o.max_pending_bytes;
  l.stream_send_buffer = o.stream_send_buffer;
  l.max_discarded_body = o.max_discarded_body;
  l.limits.max_request_line = o.max_request_line;
  l.limits.max_field_line = o.max_header_line;
  l.limits.max_fields = o.max_headers;
  l.limits.max_head_bytes = o.max_head_bytes;
  return l;
}

// A listening TCP socket on host:port (port 0: any), non-blocking, backlog
// SOMAXCONN, SO_REUSEADDR (a restart binds at once) but not SO_REUSEPORT.
Result<int> Listen(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  std::string service = std::to_string(port);
  int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(),
                         &hints, &found);
  if (rc != 0) return Status::Unavailable(gai_strerror(rc));
  int err = 0;
  int fd = -1;
  for (addrinfo* a = found; a && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                  a->ai_protocol);
    if (fd < 0) {
      err = errno;
      continue;
    }
    int yes = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    // A connection reaches accept() once its request has arrived: one
    // wake-up of a loop per connection instead of two (measured in
    // docs/performance.md), and connections that send nothing stay in the
    // kernel for that second.
    int defer_s = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT, &defer_s, sizeof defer_s);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) != 0 ||
        ::listen(fd, SOMAXCONN) != 0) {
      err = errno;
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(found);
  if (fd < 0)
    return Status::Unavailable(std::strerror(err ? err : EADDRNOTAVAIL));
  return fd;
}

int BoundPort(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    return 0;
  if (addr.ss_family == AF_INET) {
    return ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  }
  if (addr.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port);
  }
  return 0;
}

}  // namespace

struct BridgeServer::Impl {
  Impl(ServerOptions o, EventHub& h, GapSource* g, Metrics& m, Logger& l,
       Clock* c, std::function<UpstreamState()> u)
      : options(std::move(o)),
        hub(h),
        metrics(m),
        logger(l),
        clock(c ? *c : system_clock),
        files(options.public_dir),
        logs(l, clock, options.log_interval),
        // Gap fetches wait on upstream: a few threads so that one slow
        // fetch never queues up the others; 256 KiB stacks.
        pool(std::max<size_t>(1, options.blocking_threads), 256 * 1024,
             std::chrono::seconds(30)),
        routes(
            options, h, g, m, files, std::move(u),
            [this] {
              return RenderServerMetrics(
                  server_metrics.Snapshot(pool.threads()));
            },
            logs.refused_streams) {
    size_t n = LoopCount(options);
    LoopOptions lo = MakeLoopOptions(options);
    for (size_t i = 0; i < n; ++i) {
      loops.push_back(std::make_unique<ServerLoop>(
          hub, metrics, server_metrics, logger, logs, clock, routes, pool, lo));
    }
  }

  const ServerOptions options;
  EventHub& hub;
  Metrics& metrics;
  Logger& logger;
  SystemClock system_clock;
  Clock& clock;
  StaticFiles files;
  ServerMetrics server_metrics;
  ServerLogs logs;
  // Destroyed after the loops (declared before them): blocking work posts
  // its results to a loop, and the pool is joined first.
  WorkerPool pool;
  BridgeRoutes routes;
  std::vector<std::unique_ptr<ServerLoop>> loops;
  int listen_fd = -1;
  int port = 0;
  bool started = false;
  bool stopped = false;
};

BridgeServer::BridgeServer(ServerOptions options, EventHub& hub,
                           GapSource* gaps, Metrics& metrics, Logger& logger,
                           Clock& clock,
                           std::function<UpstreamState()> upstream_state)
    : impl_(std::make_unique<Impl>(std::move(options), hub, gaps, metrics,
                                   logger, &clock, std::move(upstream_state))) {
}

BridgeServer::BridgeServer(ServerOptions options, EventHub& hub,
                           GapSource* gaps, Metrics& metrics, Logger& logger,
                           std::function<UpstreamState()> upstream_state)
    : impl_(std::make_unique<Impl>(std::move(options), hub, gaps, metrics,
                                   logger, nullptr,
                                   std::move(upstream_state))) {}

BridgeServer::~BridgeServer() {
  Stop();
  Impl& d = *impl_;
  // Work still on the pool (a gap fetch) finishes here; its result finds
  // its loop stopped and is dropped.
  d.pool.Shutdown();
  d.loops.clear();
  if (d.listen_fd >= 0) ::close(d.listen_fd);
}

void BridgeServer::AddRoute(std::string path,
                            std::function<void(HttpExchange&)> handler) {
  impl_->routes.Add(std::move(path), std::move(handler));
}

Status BridgeServer::Start() {
  Impl& d = *impl_;
  Result<int> fd = Listen(d.options.host, d.options.port);
  if (!fd.ok()) {
    return Status::Unavailable(
        "cannot listen on " + d.options.host + ":" +
        std::to_string(d.options.port) + ": " + fd.status().message() +
        " (is another process using it? choose another --listen)");
  }
  d.listen_fd = fd.value();
  d.port = BoundPort(d.listen_fd);
  for (auto& loop : d.loops) {
    Status s = loop->Start(d.listen_fd);
    if (!s.ok()) {
      Stop(std::chrono::milliseconds(0));
      return s;
    }
  }
  d.started = true;
  return Status::Ok();
}

int BridgeServer::port() const { return impl_->port; }

void BridgeServer::Stop(std::chrono::milliseconds grace) {
  Impl& d = *impl_;
  if (d.stopped) return;
  d.stopped = true;
  auto deadline = d.clock.Now() + grace;
  for (auto& loop : d.loops) loop->RequestStop(deadline);
  for (auto& loop : d.loops) loop->Join();
  if (d.listen_fd >= 0) {
    ::close(d.listen_fd);
    d.listen_fd = -1;
  }
}

size_t BridgeServer::threads() const { return impl_->pool.threads(); }
size_t BridgeServer::peak_threads() const { return impl_->pool.peak_threads(); }

size_t BridgeServer::streams() const {
  size_t n = 0;
  for (const auto& loop : impl_->loops) n += loop->streams();
  return n;
}

size_t BridgeServer::handshakes() const {
  size_t n = 0;
  for (const auto& loop : impl_->loops) n += loop->handshakes();
  return n;
}

}  // namespace notifications

#include "http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <httplib.h>
#include <random>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "clock.h"
#include "filter.h"
#include "http_framing.h"
#include "notification_json.h"
#include "sse_encoder.h"
#include "static_files.h"
#include "stream_fanout.h"
#include "stream_request.h"
#include "worker_pool.h"

namespace notifications {

namespace {

// Hands httplib's connections to our WorkerPool. httplib owns and deletes
// this adapter; the pool itself belongs to BridgeServer and outlives it.
class PoolTaskQueue final : public httplib::TaskQueue {
 public:
  explicit PoolTaskQueue(WorkerPool& pool) : pool_(pool) {}
  void enqueue(std::function<void()> fn) override { pool_.Submit(std::move(fn)); }
  // BridgeServer::Stop() drains the pool after the listener has exited.
  void shutdown() override {}

 private:
  WorkerPool& pool_;
};

// One accepted connection as httplib sees it (its Stream), in place of
// httplib's own SocketStream, so that the bridge knows the socket: an event
// stream's socket leaves httplib for the StreamFanout once the stream's
// opening bytes are written. Reads are buffered (httplib reads request
// lines a byte at a time); every wait is bounded by its timeout.
class Connection final : public httplib::Stream {
 public:
  Connection(int fd, std::chrono::milliseconds read_timeout,
             std::chrono::milliseconds write_timeout)
      : fd_(fd), read_timeout_(read_timeout), write_timeout_(write_timeout) {}

  bool is_readable() const override {
    return begin_ < end_ || Poll(POLLIN, read_timeout_);
  }
  bool is_writable() const override {
    return hijacked_ || Poll(POLLOUT, write_timeout_);
  }

  ssize_t read(char* ptr, size_t size) override {
    if (begin_ == end_) {
      if (!Poll(POLLIN, read_timeout_)) return -1;
      ssize_t n = ::recv(fd_, buffer_, sizeof buffer_, 0);
      if (n <= 0) return n;
      begin_ = 0;
      end_ = static_cast<size_t>(n);
    }
    size_t n = std::min(size, end_ - begin_);
    std::memcpy(ptr, buffer_ + begin_, n);
    begin_ += n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, size_t size) override {
    // Once the handler has answered by itself, httplib's own response for
    // the request is dropped.
    if (hijacked_) return static_cast<ssize_t>(size);
    if (!Poll(POLLOUT, write_timeout_)) return -1;
    return ::send(fd_, ptr, size, MSG_NOSIGNAL);
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    Address(::getpeername, ip, port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    Address(::getsockname, ip, port);
  }
  socket_t socket() const override { return fd_; }

  // Waits up to `timeout` for the next request's first byte, giving up
  // early once `stopping` says the server is going down.
  template <typename Stopping>
  bool WaitForRequest(std::chrono::milliseconds timeout, Stopping stopping) const {
    if (begin_ < end_) return true;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!stopping()) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      if (Poll(POLLIN, std::min(left, std::chrono::milliseconds(200)))) return true;
    }
    return false;
  }

  // Writes all of `bytes` on the socket, outside httplib, and makes
  // httplib's own writes for this request no-ops. False when the client is
  // gone or takes nothing for the write timeout.
  bool Answer(std::string_view bytes) {
    hijacked_ = true;
    while (!bytes.empty()) {
      if (!Poll(POLLOUT, write_timeout_)) return false;
      ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }
  bool hijacked() const { return hijacked_; }

  // Gives the socket away: the connection's loop will not close it.
  int Release() {
    released_ = true;
    return fd_;
  }
  bool released() const { return released_; }

 private:
  bool Poll(short events, std::chrono::milliseconds timeout) const {
    pollfd p{fd_, events, 0};
    int timeout_ms = static_cast<int>(timeout.count());
    while (true) {
      int n = ::poll(&p, 1, timeout_ms);
      if (n < 0 && errno == EINTR) continue;
      return n > 0 && (p.revents & (events | POLLHUP)) != 0;
    }
  }

  template <typename Fn>
  void Address(Fn get, std::string& ip, int& port) const {
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    ip.clear();
    port = 0;
    if (get(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return;
    char text[INET6_ADDRSTRLEN] = "";
    if (addr.ss_family == AF_INET) {
      auto* a = reinterpret_cast<sockaddr_in*>(&addr);
      ::inet_ntop(AF_INET, &a->sin_addr, text, sizeof text);
      port = ntohs(a->sin_port);
    } else if (addr.ss_family == AF_INET6) {
      auto* a = reinterpret_cast<sockaddr_in6*>(&addr);
      ::inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text);
      port = ntohs(a->sin6_port);
    }
    ip = text;
  }

  const int fd_;
  const std::chrono::milliseconds read_timeout_;
  const std::chrono::milliseconds write_timeout_;
  char buffer_[4096];
  size_t begin_ = 0;
  size_t end_ = 0;
  bool hijacked_ = false;
  bool released_ = false;
};

// httplib's Server with its per-connection loop replaced (it is a private
// virtual, which C++ lets a subclass override): the same keep-alive rules
// on our Connection, waiting for the next request in poll() rather than in
// httplib's 1 ms sleep loop, and leaving open the sockets a handler took.
class StreamServer final : public httplib::Server {
 public:
  // The connection whose request runs on the calling thread (handlers run
  // on the connection's thread), or null.
  Connection* Current() {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = current_.find(std::this_thread::get_id());
    return it == current_.end() ? nullptr : it->second;
  }

 private:
  bool process_and_close_socket(socket_t sock) override {
    int yes = 1;
    ::setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
    using std::chrono::milliseconds;
    Connection conn(
        sock, milliseconds(read_timeout_sec_ * 1000 + read_timeout_usec_ / 1000),
        milliseconds(write_timeout_sec_ * 1000 + write_timeout_usec_ / 1000));
    auto stopping = [this] { return svr_sock_ == INVALID_SOCKET; };
    bool ok = true;
    for (size_t left = keep_alive_max_count_;
         left > 0 &&
         conn.WaitForRequest(milliseconds(keep_alive_timeout_sec_ * 1000), stopping);
         --left) {
      bool closed = false;
      {
        std::lock_guard<std::mutex> lock(mu_);
        current_[std::this_thread::get_id()] = &conn;
      }
      ok = process_request(conn, left == 1, closed, nullptr);
      {
        std::lock_guard<std::mutex> lock(mu_);
        current_.erase(std::this_thread::get_id());
      }
      if (conn.released()) return ok;
      if (!ok || closed || conn.hijacked()) break;
    }
    ::shutdown(sock, SHUT_RDWR);
    ::close(sock);
    return ok;
  }

  std::mutex mu_;
  // guarded by mu_:
  std::unordered_map<std::thread::id, Connection*> current_;
};

// The stream loops' settings from the server's; the rest keep their
// defaults (stream_fanout.h).
FanoutOptions MakeFanoutOptions(const ServerOptions& options) {
  FanoutOptions o;
  o.heartbeat = options.heartbeat;
  o.write_timeout = options.write_timeout;
  o.threads = options.stream_threads;
  return o;
}

constexpr const char* kPageCsp =
    "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self' http: https:; "
    "base-uri 'none'; form-action 'none'; object-src 'none'; "
    "frame-ancestors 'self'";

void JsonError(httplib::Response& res, int status, const std::string& code,
               const std::string& message) {
  res.status = status;
  res.set_content(ErrorToJson(code, message) + "\n", "application/json");
}

std::string OptionalTime(int64_t ms) {
  return ms == 0 ? "null" : JsonString(FormatRfc3339(ms));
}

}  // namespace

bool TokensEqual(const std::string& request_token, const std::string& expected) {
  if (request_token.size() != expected.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < expected.size(); ++i) {
    diff = static_cast<unsigned char>(
        diff | (static_cast<unsigned char>(request_token[i]) ^
                static_cast<unsigned char>(expected[i])));
  }
  return diff == 0;
}

std::string CookieValue(const std::string& cookie_header, const std::string& name) {
  size_t pos = 0;
  while (pos < cookie_header.size()) {
    size_t end = cookie_header.find(';', pos);
    if (end == std::string::npos) end = cookie_header.size();
    std::string pair = cookie_header.substr(pos, end - pos);
    size_t b = pair.find_first_not_of(' ');
    if (b != std::string::npos) pair.erase(0, b);
    size_t eq = pair.find('=');
    if (eq != std::string::npos && pair.compare(0, eq, name) == 0 &&
        eq == name.size()) {
      return pair.substr(eq + 1);
    }
    pos = end + 1;
  }
  return "";
}

std::string RenderHealthz(const UpstreamState& upstream, int64_t clients,
                          size_t history, size_t history_capacity) {
  std::string out = "{\"status\":";
  out += upstream.upstream_ok ? "\"ok\"" : "\"degraded\"";
  out += ",\"upstream\":{\"ok\":";
  out += upstream.upstream_ok ? "true" : "false";
  out += ",\"lastSuccess\":" + OptionalTime(upstream.last_success_ms);
  out += ",\"lastError\":" +
         (upstream.last_error.empty() ? std::string("null")
                                      : JsonString(upstream.last_error));
  out += ",\"lastErrorTime\":" + OptionalTime(upstream.last_error_ms);
  out += ",\"consecutiveFailures\":" +
         std::to_string(upstream.consecutive_failures);
  out += ",\"source\":" + JsonString(upstream.source);
  if (upstream.source == "amqp") {
    auto number = [](const std::optional<int64_t>& v) {
      return v ? std::to_string(*v) : std::string("null");
    };
    out += ",\"connection\":" + JsonString(upstream.connection) +
           ",\"offset\":" + number(upstream.offset) +
           ",\"lag\":" + number(upstream.lag);
  }
  out += "},\"cursor\":" +
         (upstream.cursor.empty() ? std::string("null")
                                  : JsonString(upstream.cursor));
  out += ",\"clients\":" + std::to_string(clients);
  out += ",\"history\":{\"size\":" + std::to_string(history) +
         ",\"capacity\":" + std::to_string(history_capacity) + "}}";
  return out;
}

struct BridgeServer::Impl {
  Impl(ServerOptions o, EventHub& h, GapSource* g, Metrics& m, Logger& l,
       std::function<UpstreamState()> u)
      : options(std::move(o)),
        hub(h),
        gaps(g),
        metrics(m),
        logger(l),
        upstream_state(std::move(u)),
        files(options.public_dir),
        // A stream holds a thread only until its opening bytes are written
        // (a gap fetch may block there); the cap only bounds a storm of
        // handshakes. Threads are created on demand, 256 KiB stacks.
        pool(options.max_clients + options.extra_threads, 256 * 1024,
             std::chrono::seconds(30)),
        fanout(h, m, l, MakeFanoutOptions(options)),
        rng(std::random_device{}()) {}

  void Route(const httplib::Request& req, httplib::Response& res);
  void HandleEvents(const httplib::Request& req, httplib::Response& res);
  void HandleStatic(const std::string& path, const httplib::Request& req,
                    httplib::Response& res);
  void AddCors(const httplib::Request& req, httplib::Response& res);
  uint64_t NextSeed() {
    std::lock_guard<std::mutex> lock(rng_mu);
    return rng();
  }

  const ServerOptions options;
  EventHub& hub;
  GapSource* gaps;
  Metrics& metrics;
  Logger& logger;
  std::function<UpstreamState()> upstream_state;
  StaticFiles files;
  WorkerPool pool;
  StreamFanout fanout;
  StreamServer server;
  std::thread listener;
  int port = 0;
  std::atomic<int> listen_fd{-1};
  std::atomic<bool> binding{false};
  bool started = false;
  bool stopped = false;
  std::mutex rng_mu;
  std::mt19937_64 rng;  // guarded by rng_mu
};

void BridgeServer::Impl::AddCors(const httplib::Request& req,
                                 httplib::Response& res) {
  if (options.allow_origins.empty()) return;
  // The answer depends on Origin: caches must key on it.
  res.set_header("Vary", "Origin");
  std::string origin = req.get_header_value("Origin");
  if (origin.empty()) return;
  for (const std::string& allowed : options.allow_origins) {
    if (origin == allowed) {
      res.set_header("Access-Control-Allow-Origin", origin);
      return;
    }
  }
}

void BridgeServer::Impl::Route(const httplib::Request& req,
                               httplib::Response& res) {
  res.set_header("X-Content-Type-Options", "nosniff");
  AddCors(req, res);
  const std::string& method = req.method;
  if (method == "OPTIONS") {
    res.status = 204;
    res.set_header("Allow", "GET, HEAD, OPTIONS");
    if (res.has_header("Access-Control-Allow-Origin")) {
      res.set_header("Access-Control-Allow-Methods", "GET, HEAD, OPTIONS");
      res.set_header("Access-Control-Allow-Headers", "Last-Event-ID, Cache-Control");
      res.set_header("Access-Control-Max-Age", "600");
    }
    return;
  }
  if (method != "GET" && method != "HEAD") {
    res.set_header("Allow", "GET, HEAD, OPTIONS");
    JsonError(res, 405, "method_not_allowed",
              method + " is not supported here; use GET");
    return;
  }
  std::string path = req.path;
  if (!options.base_path.empty()) {
    const std::string& base = options.base_path;
    if (path == base) {
      // The page's relative URLs (style.css, events) need the slash.
      res.status = 301;
      res.set_header("Location", base + "/");
      return;
    }
    if (path.compare(0, base.size() + 1, base + "/") != 0) {
      return JsonError(res, 404, "not_found", "everything is under " + base + "/");
    }
    path.erase(0, base.size());
  }
  if (path == "/events") {
    if (!options.stream_token.empty()) {
      std::string presented = req.get_param_value("access_token");
      if (presented.empty()) {
        presented = CookieValue(req.get_header_value("Cookie"), kStreamTokenCookie);
      }
      if (!TokensEqual(presented, options.stream_token)) {
        res.set_header("WWW-Authenticate", "Bearer realm=\"notifications\"");
        return JsonError(res, 401, "unauthorized",
                         presented.empty()
                             ? "this stream needs a token: access_token=... or "
                               "the notifications_stream_token cookie"
                             : "wrong stream token");
      }
    }
    return HandleEvents(req, res);
  }
  if (path == "/status") {
    res.set_header("Cache-Control", "no-store");
    res.set_content("ALIVE", "text/plain");
    return;
  }
  if (path == "/healthz") {
    UpstreamState state = upstream_state ? upstream_state() : UpstreamState{};
    res.status = state.upstream_ok ? 200 : 503;
    res.set_header("Cache-Control", "no-store");
    res.set_content(
        RenderHealthz(state, metrics.clients_connected.load(),
                      hub.HistorySize(), hub.history_capacity()) + "\n",
        "application/json");
    return;
  }
  if (path == "/metrics") {
    std::string body = RenderPrometheus(metrics.Snapshot());
    body += "# HELP notifications_bridge_worker_threads Threads serving "
            "connections.\n# TYPE notifications_bridge_worker_threads gauge\n"
            "notifications_bridge_worker_threads " +
            std::to_string(pool.threads()) + "\n";
    res.set_header("Cache-Control", "no-store");
    res.set_content(body, "text/plain; version=0.0.4; charset=utf-8");
    return;
  }
  HandleStatic(path, req, res);
}

void BridgeServer::Impl::HandleStatic(const std::string& path,
                                      const httplib::Request& req,
                                      httplib::Response& res) {
  Result<StaticFile> file = files.Load(path);
  if (!file.ok()) {
    JsonError(res, 404, "not_found", "no such page");
    return;
  }
  res.set_header("Content-Security-Policy", kPageCsp);
  res.set_header("Referrer-Policy", "no-referrer");
  res.set_header("Cache-Control", "no-cache");
  res.set_header("ETag", file->etag);
  if (req.get_header_value("If-None-Match") == file->etag) {
    res.status = 304;
    return;
  }
  res.set_content(file->body, file->content_type.c_str());
}

void BridgeServer::Impl::HandleEvents(const httplib::Request& req,
                                      httplib::Response& res) {
  Result<StreamRequest> parsed =
      ParseStreamRequest(req.params, req.get_header_value("Last-Event-ID"),
                         hub.history_capacity());
  if (!parsed.ok()) {
    return JsonError(res, 400, "bad_request", parsed.status().message());
  }
  StreamRequest request = std::move(parsed).value();

  res.set_header("Cache-Control", "no-store");
  res.set_header("X-Accel-Buffering", "no");
  if (req.method == "HEAD") {
    res.set_header("Content-Type", "text/event-stream");
    return;
  }

  // Admission: above the cap, a 200 that ends at once with a long retry, so
  // browsers come back later instead of giving up (any non-200 would stop
  // their EventSource for good).
  int64_t clients = metrics.clients_connected.fetch_add(1) + 1;
  if (clients > static_cast<int64_t>(options.max_clients)) {
    metrics.clients_connected.fetch_sub(1);
    metrics.streams_rejected.fetch_add(1, std::memory_order_relaxed);
    const int64_t busy = options.busy_retry.count();
    std::uniform_int_distribution<int64_t> jitter(busy, 2 * busy);
    int64_t retry = 0;
    {
      std::lock_guard<std::mutex> lock(rng_mu);
      retry = jitter(rng);
    }
    res.set_content(EncodeSseRetry(retry) +
                        EncodeSseComment("server full, retry later"),
                    "text/event-stream");
    logger.Warn("stream refused: " + std::to_string(options.max_clients) +
                " clients already connected (--max-clients)");
    return;
  }
  metrics.streams_opened.fetch_add(1, std::memory_order_relaxed);

  StreamOptions stream_options;
  stream_options.heartbeat = options.heartbeat;
  stream_options.retry = options.retry;
  stream_options.retry_jitter = options.retry * 2 / 3;
  Connection* conn = server.Current();
  if (conn == nullptr) {  // Not on a connection's thread: cannot happen.
    metrics.clients_connected.fetch_sub(1);
    return JsonError(res, 500, "internal", "stream without a connection");
  }
  std::unique_ptr<StreamSession> session;
  std::string bytes;
  try {
    session = std::make_unique<StreamSession>(hub, gaps, std::move(request),
                                              stream_options, NextSeed());
    std::string opening = session->Open();  // May block on a gap fetch.
    HeaderFields fields(res.headers.begin(), res.headers.end());
    fields.emplace_back("Content-Type", "text/event-stream");
    fields.emplace_back("Transfer-Encoding", "chunked");
    fields.emplace_back("Connection", "close");
    bytes = EncodeResponseHead(200, fields);
    AppendChunk(opening, &bytes);
    if (session->ended()) bytes.append(kLastChunk);
    metrics.bytes_sent.fetch_add(opening.size(), std::memory_order_relaxed);
    metrics.events_sent.fetch_add(session->notifications_sent(),
                                  std::memory_order_relaxed);
  } catch (const std::exception& e) {
    metrics.clients_connected.fetch_sub(1);
    return JsonError(res, 500, "internal", e.what());
  }
  res.status = 200;  // For the access log: the answer is written below.
  if (!conn->Answer(bytes) || session->ended()) {
    metrics.clients_connected.fetch_sub(1);
    return;
  }
  // From here on the stream is the fanout's: one of its loops writes it.
  fanout.Adopt(conn->Release(), std::move(session));
}

BridgeServer::BridgeServer(ServerOptions options, EventHub& hub,
                           GapSource* gaps, Metrics& metrics, Logger& logger,
                           std::function<UpstreamState()> upstream_state)
    : impl_(std::make_unique<Impl>(std::move(options), hub, gaps, metrics,
                                   logger, std::move(upstream_state))) {}

BridgeServer::~BridgeServer() { Stop(); }

Status BridgeServer::Start() {
  Impl& d = *impl_;
  httplib::Server& s = d.server;
  Status fanout = d.fanout.Start();
  if (!fanout.ok()) return fanout;
  s.new_task_queue = [&d] { return new PoolTaskQueue(d.pool); };
  // Replaces httplib's default options (which set SO_REUSEPORT) and learns
  // the listening socket, to raise its backlog below.
  s.set_socket_options([&d](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    if (d.binding.load()) d.listen_fd.store(sock);
  });
  s.set_tcp_nodelay(true);
  s.set_keep_alive_timeout(2);
  s.set_keep_alive_max_count(100);
  s.set_read_timeout(5, 0);
  auto wt = d.options.write_timeout;
  s.set_write_timeout(static_cast<time_t>(wt.count() / 1000),
                      static_cast<time_t>((wt.count() % 1000) * 1000));
  s.set_payload_max_length(64 * 1024);
  s.set_pre_routing_handler(
      [&d](const httplib::Request& req, httplib::Response& res) {
        d.Route(req, res);
        return httplib::Server::HandlerResponse::Handled;
      });
  s.set_logger([&d](const httplib::Request& req, const httplib::Response& res) {
    if (d.logger.Enabled(LogLevel::kDebug)) {
      d.logger.Debug("http " + req.method + " " + req.path + " " +
                     std::to_string(res.status) + " from " + req.remote_addr);
    }
  });

  d.binding = true;
  errno = 0;
  bool ok;
  if (d.options.port == 0) {
    d.port = s.bind_to_any_port(d.options.host);
    ok = d.port > 0;
  } else {
    ok = s.bind_to_port(d.options.host, d.options.port);
    d.port = d.options.port;
  }
  int bind_errno = errno;
  d.binding = false;
  if (!ok) {
    return Status::Unavailable(
        "cannot listen on " + d.options.host + ":" +
        std::to_string(d.options.port) + ": " +
        (bind_errno ? std::strerror(bind_errno) : "bind failed") +
        " (is another process using it? choose another --listen)");
  }
  // Debian's build listens with a backlog of 5: a reconnect storm would
  // stall. listen() again on a listening socket just updates the backlog.
  if (d.listen_fd.load() >= 0) ::listen(d.listen_fd.load(), SOMAXCONN);
  d.started = true;
  d.listener = std::thread([&d] { d.server.listen_after_bind(); });
  // httplib's stop() does nothing until its loop runs: wait for it, so a
  // Stop() right after Start() cannot leave the listener blocked in accept.
  for (int i = 0; i < 5000 && !d.server.is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return Status::Ok();
}

int BridgeServer::port() const { return impl_->port; }

void BridgeServer::Stop() {
  Impl& d = *impl_;
  if (!d.started || d.stopped) return;
  d.stopped = true;
  // Streams end with their last chunk once the hub is shut down: give them
  // a bounded time to be written (a client that stopped reading is cut).
  auto drain_until = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (d.metrics.clients_connected.load() > 0 && d.hub.IsShutdown() &&
         std::chrono::steady_clock::now() < drain_until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  d.fanout.Stop(std::chrono::duration_cast<std::chrono::milliseconds>(
      std::max(drain_until - std::chrono::steady_clock::now(),
               std::chrono::steady_clock::duration::zero())));
  d.server.stop();
  if (d.listener.joinable()) d.listener.join();
  // Connections still running (streams end once the hub is shut down,
  // keep-alive connections within their timeout) finish here.
  d.pool.Shutdown();
}

size_t BridgeServer::threads() const { return impl_->pool.threads(); }
size_t BridgeServer::peak_threads() const { return impl_->pool.peak_threads(); }

}  // namespace notifications

#include "http_server.h"

#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <httplib.h>
#include <random>
#include <thread>

#include "clock.h"
#include "filter.h"
#include "notification_json.h"
#include "sse_encoder.h"
#include "static_files.h"
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

std::string RenderHealthz(const PollerState& upstream, int64_t clients,
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
       std::function<PollerState()> u)
      : options(std::move(o)),
        hub(h),
        gaps(g),
        metrics(m),
        logger(l),
        upstream_state(std::move(u)),
        files(options.public_dir),
        // Each stream holds one thread; 256 KiB stacks keep 10k of them
        // cheap in address space (they touch only a few pages).
        pool(options.max_clients + options.extra_threads, 256 * 1024,
             std::chrono::seconds(30)),
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
  std::function<PollerState()> upstream_state;
  StaticFiles files;
  WorkerPool pool;
  httplib::Server server;
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
    PollerState state = upstream_state ? upstream_state() : PollerState{};
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
  auto session = std::make_shared<StreamSession>(hub, gaps, std::move(request),
                                                 stream_options, NextSeed());
  auto opened = std::make_shared<bool>(false);
  Metrics* m = &metrics;
  res.set_chunked_content_provider(
      "text/event-stream",
      [session, opened, m](size_t, httplib::DataSink& sink) -> bool {
        // An exception escaping a provider would terminate the process.
        try {
          std::string out;
          uint64_t sent_before = session->notifications_sent();
          if (!*opened) {
            *opened = true;
            out = session->Open();
          } else if (session->Next(&out) == StreamSession::Step::kEnd) {
            if (!out.empty() && !sink.write(out.data(), out.size())) return false;
            sink.done();  // Proper final chunk: clients reconnect.
            return true;
          }
          if (!out.empty()) {
            if (!sink.write(out.data(), out.size())) return false;
            m->bytes_sent.fetch_add(out.size(), std::memory_order_relaxed);
            m->events_sent.fetch_add(session->notifications_sent() - sent_before,
                                     std::memory_order_relaxed);
          }
          return true;
        } catch (...) {
          return false;
        }
      },
      [m](bool) { m->clients_connected.fetch_sub(1); });
}

BridgeServer::BridgeServer(ServerOptions options, EventHub& hub,
                           GapSource* gaps, Metrics& metrics, Logger& logger,
                           std::function<PollerState()> upstream_state)
    : impl_(std::make_unique<Impl>(std::move(options), hub, gaps, metrics,
                                   logger, std::move(upstream_state))) {}

BridgeServer::~BridgeServer() { Stop(); }

Status BridgeServer::Start() {
  Impl& d = *impl_;
  httplib::Server& s = d.server;
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
  // httplib's chunked writer stops without the final chunk once the server
  // is stopping: let streams (woken by EventHub::Shutdown) write their end
  // first, for a bounded time (a client that stopped reading may hold its
  // stream up to the write timeout; it is then cut).
  auto drain_until = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (d.metrics.clients_connected.load() > 0 && d.hub.IsShutdown() &&
         std::chrono::steady_clock::now() < drain_until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  d.server.stop();
  if (d.listener.joinable()) d.listener.join();
  // Connections still running (streams end once the hub is shut down,
  // keep-alive connections within their timeout) finish here.
  d.pool.Shutdown();
}

size_t BridgeServer::threads() const { return impl_->pool.threads(); }
size_t BridgeServer::peak_threads() const { return impl_->pool.peak_threads(); }

}  // namespace notifications

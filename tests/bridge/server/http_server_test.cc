// BridgeServer in-process on 127.0.0.1:0, exercised with a real HTTP client.
#include "http_server.h"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <mutex>

#include "log_limiter.h"
#include "test_support.h"

namespace notifications {
namespace {

using namespace std::chrono_literals;
using testing::HttpRequestTo;
using testing::HttpResult;
using testing::SseClient;

Notification Make(const std::string& id,
                  const std::string& service = "GitHub") {
  return testing::SampleNotification(id, service);
}

struct Rig {
  explicit Rig(ServerOptions o = {}) {
    o.host = "127.0.0.1";
    o.port = 0;
    if (o.public_dir.empty()) o.public_dir = NB_SOURCE_DIR "/public";
    server = std::make_unique<BridgeServer>(o, hub, nullptr, metrics, logger,
                                            [this] { return state; });
    Status s = server->Start();
    REQUIRE(s.ok());
  }
  ~Rig() {
    hub.Shutdown();
    server->Stop();
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(server->port()) + path;
  }
  EventHub hub{100, false};
  Metrics metrics;
  Logger logger{LogLevel::kOff};
  UpstreamState state;
  std::unique_ptr<BridgeServer> server;
};

TEST_CASE("http server: /status answers ALIVE") {
  Rig rig;
  HttpResult r = HttpRequestTo(rig.url("/status"));
  CHECK(r.status == 200);
  CHECK(r.body == "ALIVE");
}

TEST_CASE("http server: /healthz reports upstream state, 503 when failing") {
  Rig rig;
  rig.state.upstream_ok = false;
  rig.state.last_error = "connect: refused";
  HttpResult r = HttpRequestTo(rig.url("/healthz"));
  CHECK(r.status == 503);
  CHECK(r.body.find("\"status\":\"degraded\"") != std::string::npos);
  CHECK(r.body.find("\"lastError\":\"connect: refused\"") != std::string::npos);
  rig.state.upstream_ok = true;
  rig.state.cursor = "42";
  rig.state.last_success_ms = 1795869554000;
  r = HttpRequestTo(rig.url("/healthz"));
  CHECK(r.status == 200);
  CHECK(r.headers["content-type"] == "application/json");
  CHECK(r.body.find("\"cursor\":\"42\"") != std::string::npos);
  CHECK(r.body.find("\"lastSuccess\":\"2026-11-28T") != std::string::npos);
}

TEST_CASE("http server: healthz JSON byte for byte") {
  UpstreamState s;
  s.upstream_ok = true;
  s.last_success_ms = 1795869554123;
  s.cursor = "9";
  CHECK(
      RenderHealthz(s, 3, 10, 1000) ==
      "{\"status\":\"ok\",\"upstream\":{\"ok\":true,\"lastSuccess\":"
      "\"2026-11-28T12:39:14.123Z\",\"lastError\":null,\"lastErrorTime\":null,"
      "\"consecutiveFailures\":0,\"source\":\"polling\",\"degraded\":false,"
      "\"degradedReason\":null,"
      "\"degradedSince\":null,\"skipped\":{\"count\":0,\"lastId\":null,"
      "\"lastReason\":null,\"lastTime\":null}},\"cursor\":\"9\","
      "\"clients\":3,\"history\":{\"size\":10,\"capacity\":1000}}");
  // Requests succeed but upstream misbehaves: degraded, with the reason,
  // and the skipped notifications.
  s.degraded = true;
  s.degraded_reason = "ids went back";
  s.degraded_since_ms = 1795869554123;
  s.skipped = 2;
  s.last_skipped_id = "8";
  s.last_skipped_reason = "a lone surrogate escape \\ud800 at offset 40";
  s.last_skipped_ms = 1795869554123;
  std::string degraded = RenderHealthz(s, 3, 10, 1000);
  CHECK(degraded.rfind("{\"status\":\"degraded\",\"upstream\":{\"ok\":true,",
                       0) == 0);
  CHECK(degraded.find(
            "\"degraded\":true,\"degradedReason\":\"ids went back\","
            "\"degradedSince\":\"2026-11-28T12:39:14.123Z\",\"skipped\":"
            "{\"count\":2,\"lastId\":\"8\",\"lastReason\":\"a lone "
            "surrogate escape \\\\ud800 at offset 40\",\"lastTime\":"
            "\"2026-11-28T12:39:14.123Z\"}}") != std::string::npos);
}

TEST_CASE("http server: healthz of the AMQP source, byte for byte") {
  UpstreamState s;
  s.source = "amqp";
  s.connection = "disconnected";
  s.last_error = "auth: connecting: 403 ACCESS_REFUSED";
  s.last_error_ms = 1795869554123;
  s.consecutive_failures = 2;
  s.cursor = "41";
  s.offset = 41;
  CHECK(
      RenderHealthz(s, 0, 0, 1000) ==
      "{\"status\":\"degraded\",\"upstream\":{\"ok\":false,\"lastSuccess\":"
      "null,\"lastError\":\"auth: connecting: 403 ACCESS_REFUSED\","
      "\"lastErrorTime\":\"2026-11-28T12:39:14.123Z\","
      "\"consecutiveFailures\":2,"
      "\"source\":\"amqp\",\"connection\":\"disconnected\",\"offset\":41,"
      "\"lag\":null,\"degraded\":false,\"degradedReason\":null,"
      "\"degradedSince\":null,\"skipped\":{\"count\":0,\"lastId\":null,"
      "\"lastReason\":null,\"lastTime\":null}},\"cursor\":\"41\",\"clients\":0,"
      "\"history\":{\"size\":0,\"capacity\":1000}}");
}

TEST_CASE("http server: /metrics in Prometheus text format") {
  Rig rig;
  HttpResult r = HttpRequestTo(rig.url("/metrics"));
  CHECK(r.status == 200);
  CHECK(r.headers["content-type"].rfind("text/plain; version=0.0.4", 0) == 0);
  CHECK(r.body.find("notifications_bridge_clients_connected 0\n") !=
        std::string::npos);
  CHECK(r.body.find("notifications_bridge_worker_threads ") !=
        std::string::npos);
}

TEST_CASE("http server: stream headers and event format") {
  Rig rig;
  rig.hub.Publish({Make("1"), Make("2")});
  SseClient client(rig.url("/events?backlog=1"));
  auto events = client.WaitFor(1, 5s);
  REQUIRE(events.size() == 1);
  CHECK(events[0].last_event_id == "2");
  CHECK(client.header("content-type") == "text/event-stream");
  CHECK(client.header("cache-control") == "no-store");
  CHECK(client.header("x-accel-buffering") == "no");
  CHECK(client.header("content-encoding").empty());
  CHECK(client.header("connection").find("keep-alive") == std::string::npos);
  CHECK(client.raw().rfind("retry: ", 0) == 0);
  rig.hub.Publish({Make("3")});
  events = client.WaitFor(2, 5s);
  REQUIRE(events.size() == 2);
  CHECK(events[1].data.find("\"text\":\"text 3\"") != std::string::npos);
}

TEST_CASE("http server: browsers asking for gzip still get a plain stream") {
  Rig rig;
  rig.hub.Publish({Make("1")});
  SseClient client(rig.url("/events?backlog=1"),
                   {{"Accept-Encoding", "gzip, deflate, br"}});
  CHECK(client.WaitFor(1, 5s).size() == 1);
  CHECK(client.header("content-encoding").empty());
}

TEST_CASE("http server: bad stream parameters answer 400 with JSON") {
  Rig rig;
  for (const char* q : {"/events?backlog=abc", "/events?backlog=-1",
                        "/events?backlog=1&backlog=2", "/events?key=a.b*",
                        "/events?lastEventId=bad%20id"}) {
    CAPTURE(q);
    HttpResult r = HttpRequestTo(rig.url(q));
    CHECK(r.status == 400);
    CHECK(r.body.find("\"error\":\"bad_request\"") != std::string::npos);
  }
  HttpResult r = HttpRequestTo(rig.url("/events"), "GET",
                               {{"Last-Event-ID", std::string(200, 'a')}});
  CHECK(r.status == 400);
}

TEST_CASE("http server: many streams at once are all served") {
  ServerOptions o;
  o.max_clients = 60;
  Rig rig(o);
  std::vector<std::unique_ptr<SseClient>> clients;
  for (int i = 0; i < 30; ++i) {
    clients.push_back(std::make_unique<SseClient>(rig.url("/events")));
  }
  for (int i = 0; i < 200 && rig.metrics.clients_connected < 30; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  CHECK(rig.metrics.clients_connected == 30);
  rig.hub.Publish({Make("1"), Make("2")});
  for (auto& c : clients) CHECK(c->WaitFor(2, 5s).size() == 2);
  // Short requests still get through while 30 streams hold their threads.
  CHECK(HttpRequestTo(rig.url("/status")).status == 200);
  clients.clear();
}

TEST_CASE("http server: above --max-clients, 200 + long retry + end") {
  ServerOptions o;
  o.max_clients = 2;
  Rig rig(o);
  SseClient a(rig.url("/events")), b(rig.url("/events"));
  for (int i = 0; i < 200 && rig.metrics.clients_connected < 2; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  SseClient c(rig.url("/events"));
  REQUIRE(c.WaitForEnd(5s));
  CHECK(c.status() == 200);
  REQUIRE(c.retry_ms());
  CHECK(*c.retry_ms() >= 30000);
  CHECK(c.raw().find(": server full, retry later") != std::string::npos);
  CHECK(rig.metrics.streams_rejected == 1);
  CHECK(rig.metrics.clients_connected == 2);
}

TEST_CASE("http server: a stream ends cleanly when the hub shuts down") {
  Rig rig;
  SseClient client(rig.url("/events"));
  for (int i = 0; i < 200 && rig.metrics.clients_connected < 1; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  auto start = std::chrono::steady_clock::now();
  rig.hub.Shutdown();
  CHECK(client.WaitForEnd(5s));
  CHECK(std::chrono::steady_clock::now() - start < 2s);
  CHECK(client.status() == 200);
}

// A raw TCP connection to the rig, for what curl hides (framing, reuse).
class RawConnection {
 public:
  explicit RawConnection(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) ==
            0);
  }
  ~RawConnection() { ::close(fd_); }
  void Send(const std::string& bytes) {
    REQUIRE(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
            static_cast<ssize_t>(bytes.size()));
  }
  // Reads until `needle` has arrived (true), the peer closes or 5 s pass.
  bool ReadUntil(const std::string& needle) {
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (received.find(needle) == std::string::npos) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char buf[4096];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return received.find(needle) != std::string::npos;
      received.append(buf, static_cast<size_t>(n));
    }
    return true;
  }
  std::string received;

 private:
  int fd_ = -1;
};

TEST_CASE(
    "http server: an event stream is chunked, says close, and may follow other "
    "requests on its connection") {
  Rig rig;
  RawConnection conn(rig.server->port());
  // A keep-alive request first: the connection must serve it and stay open.
  conn.Send("GET /status HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(conn.ReadUntil("ALIVE"));
  conn.received.clear();
  conn.Send(
      "GET /events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n");
  REQUIRE(conn.ReadUntil(": connected\n\n\r\n"));
  const std::string& r = conn.received;
  CHECK(r.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  size_t head_end = r.find("\r\n\r\n");
  REQUIRE(head_end != std::string::npos);
  std::string head = r.substr(0, head_end + 2);
  CHECK(head.find("\r\nContent-Type: text/event-stream\r\n") !=
        std::string::npos);
  CHECK(head.find("\r\nTransfer-Encoding: chunked\r\n") != std::string::npos);
  CHECK(head.find("\r\nConnection: close\r\n") != std::string::npos);
  CHECK(head.find("\r\nCache-Control: no-store\r\n") != std::string::npos);
  CHECK(head.find("Content-Length") == std::string::npos);
  // The opening chunk: its size in hex, then "retry: N\n: connected\n\n".
  std::string body = r.substr(head_end + 4);
  size_t eol = body.find("\r\n");
  size_t size = std::stoul(body.substr(0, eol), nullptr, 16);
  CHECK(body.substr(eol + 2, size).rfind("retry: ", 0) == 0);
  CHECK(body.size() == eol + 2 + size + 2);
  // Live events come as further chunks on the same socket; the end is the
  // last chunk.
  conn.received.clear();
  rig.hub.Publish({Make("1")});
  REQUIRE(conn.ReadUntil("\n\n\r\n"));
  CHECK(conn.received.find("id: 1\nevent: notification\n") !=
        std::string::npos);
  conn.received.clear();
  rig.hub.Shutdown();
  CHECK(conn.ReadUntil("0\r\n\r\n"));
}

TEST_CASE("http server: streams do not keep a thread each") {
  ServerOptions o;
  o.max_clients = 100;
  Rig rig(o);
  std::vector<std::unique_ptr<SseClient>> clients;
  for (int i = 0; i < 40; ++i) {
    clients.push_back(std::make_unique<SseClient>(rig.url("/events")));
    for (int j = 0; j < 200 && rig.metrics.clients_connected < i + 1; ++j) {
      std::this_thread::sleep_for(5ms);
    }
  }
  REQUIRE(rig.metrics.clients_connected == 40);
  rig.hub.Publish({Make("1")});
  for (auto& c : clients) CHECK(c->WaitFor(1, 5s).size() == 1);
  // One stream opened at a time: the threads that answered them are reused
  // (the old design held one per stream: 40 here).
  CAPTURE(rig.server->peak_threads());
  CHECK(rig.server->peak_threads() <= 8);
  CHECK(HttpRequestTo(rig.url("/status")).status == 200);
}

TEST_CASE("http server: serves the page with CSP and nosniff") {
  Rig rig;
  HttpResult r = HttpRequestTo(rig.url("/"));
  CHECK(r.status == 200);
  CHECK(r.headers["content-type"] == "text/html; charset=utf-8");
  CHECK(r.headers["content-security-policy"].find("script-src 'self'") !=
        std::string::npos);
  CHECK(r.headers["x-content-type-options"] == "nosniff");
  std::string etag = r.headers["etag"];
  REQUIRE(!etag.empty());
  CHECK(HttpRequestTo(rig.url("/"), "GET", {{"If-None-Match", etag}}).status ==
        304);
  CHECK(HttpRequestTo(rig.url("/missing.js")).status == 404);
}

TEST_CASE("http server: no path traversal, plain or encoded") {
  Rig rig;
  for (const char* p : {"/../CMakeLists.txt", "/%2e%2e/CMakeLists.txt",
                        "/..%2fCMakeLists.txt", "/%2E%2E%2FCMakeLists.txt",
                        "/js/../../CMakeLists.txt", "/.%2e/CMakeLists.txt"}) {
    CAPTURE(p);
    HttpResult r = HttpRequestTo(rig.url(p));
    CHECK(r.status != 200);
    CHECK(r.body.find("cmake_minimum_required") == std::string::npos);
  }
}

TEST_CASE("http server: methods other than GET/HEAD/OPTIONS get 405") {
  Rig rig;
  for (const char* m : {"POST", "PUT", "DELETE", "PATCH"}) {
    HttpResult r = HttpRequestTo(rig.url("/events"), m);
    CHECK(r.status == 405);
    CHECK(r.headers["allow"] == "GET, HEAD, OPTIONS");
  }
  CHECK(HttpRequestTo(rig.url("/status"), "HEAD").status == 200);
}

TEST_CASE("http server: CORS echoes only allowed origins, with Vary") {
  ServerOptions o;
  o.allow_origins = {"https://infra.nasqueron.org"};
  Rig rig(o);
  HttpResult r = HttpRequestTo(rig.url("/status"), "GET",
                               {{"Origin", "https://infra.nasqueron.org"}});
  CHECK(r.headers["access-control-allow-origin"] ==
        "https://infra.nasqueron.org");
  CHECK(r.headers["vary"] == "Origin");
  r = HttpRequestTo(rig.url("/status"), "GET",
                    {{"Origin", "https://evil.example"}});
  CHECK(r.headers.count("access-control-allow-origin") == 0);
  r = HttpRequestTo(rig.url("/events"), "OPTIONS",
                    {{"Origin", "https://infra.nasqueron.org"},
                     {"Access-Control-Request-Method", "GET"},
                     {"Access-Control-Request-Headers", "last-event-id"}});
  CHECK(r.status == 204);
  CHECK(r.headers["access-control-allow-headers"].find("Last-Event-ID") !=
        std::string::npos);
  CHECK(r.headers["access-control-allow-credentials"].empty());
}

TEST_CASE("http server: no CORS header at all without --allow-origin") {
  Rig rig;
  HttpResult r = HttpRequestTo(rig.url("/status"), "GET",
                               {{"Origin", "https://x.example"}});
  CHECK(r.headers.count("access-control-allow-origin") == 0);
}

TEST_CASE("http server: a second server on the same port fails clearly") {
  Rig rig;
  EventHub hub(10, false);
  Metrics metrics;
  Logger logger(LogLevel::kOff);
  ServerOptions o;
  o.port = rig.server->port();
  BridgeServer second(o, hub, nullptr, metrics, logger, nullptr);
  Status s = second.Start();
  CHECK_FALSE(s.ok());
  CHECK(s.message().find(std::to_string(o.port)) != std::string::npos);
}

}  // namespace
}  // namespace notifications

namespace notifications {
namespace {

TEST_CASE("http server: --base-path serves every route under the prefix") {
  ServerOptions o;
  o.base_path = "/notifications";
  Rig rig(o);
  CHECK(HttpRequestTo(rig.url("/notifications/status")).body == "ALIVE");
  CHECK(HttpRequestTo(rig.url("/notifications/")).status == 200);
  HttpResult r = HttpRequestTo(rig.url("/notifications"));
  CHECK(r.status == 301);
  CHECK(r.headers["location"] == "/notifications/");
  CHECK(HttpRequestTo(rig.url("/status")).status == 404);
  CHECK(HttpRequestTo(rig.url("/notificationsX/status")).status == 404);
  rig.hub.Publish({Make("1")});
  testing::SseClient client(rig.url("/notifications/events?backlog=1"));
  CHECK(client.WaitFor(1, 5s).size() == 1);
}

TEST_CASE("http server: cookie and token helpers") {
  CHECK(CookieValue("a=1; notifications_stream_token=xyz; b=2",
                    "notifications_stream_token") == "xyz");
  CHECK(CookieValue("notifications_stream_token_x=1",
                    "notifications_stream_token")
            .empty());
  CHECK(CookieValue("", "a").empty());
  CHECK(TokensEqual("abc", "abc"));
  CHECK_FALSE(TokensEqual("abd", "abc"));
  CHECK_FALSE(TokensEqual("ab", "abc"));
}

}  // namespace
}  // namespace notifications

// --- The server's own HTTP/1.1: framing, limits, slow and hostile clients ---

namespace notifications {
namespace {

// A raw connection that can also tell whether the server closed it.
class Raw {
 public:
  explicit Raw(int port, int rcvbuf = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (rcvbuf > 0)
      ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) ==
            0);
  }
  ~Raw() { ::close(fd_); }
  // False when the server reset the connection.
  bool Send(const std::string& bytes) {
    size_t off = 0;
    while (off < bytes.size()) {
      ssize_t n =
          ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<size_t>(n);
    }
    return true;
  }
  // Reads until `needle` has arrived, the peer closes or `timeout` passes.
  bool ReadUntil(const std::string& needle,
                 std::chrono::milliseconds timeout = 5s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (received.find(needle) == std::string::npos && !closed) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      char buf[65536];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        closed = true;
        break;
      }
      received.append(buf, static_cast<size_t>(n));
    }
    return received.find(needle) != std::string::npos;
  }
  // Reads until the server closes (true) or `timeout`.
  bool WaitClosed(std::chrono::milliseconds timeout = 5s) {
    ReadUntil(std::string(1, '\0') + "never", timeout);
    return closed;
  }
  size_t Count(const std::string& needle) const {
    size_t n = 0;
    for (size_t at = received.find(needle); at != std::string::npos;
         at = received.find(needle, at + 1)) {
      ++n;
    }
    return n;
  }
  int fd() const { return fd_; }
  std::string received;
  bool closed = false;

 private:
  int fd_ = -1;
};

std::string Req(const std::string& target, const std::string& extra = "",
                const std::string& method = "GET") {
  return method + " " + target + " HTTP/1.1\r\nHost: x\r\n" + extra + "\r\n";
}

TEST_CASE(
    "http server: pipelined requests are answered in order on one connection") {
  Rig rig;
  Raw c(rig.server->port());
  c.Send(Req("/status") + Req("/nope") + Req("/healthz") +
         Req("/status", "", "HEAD"));
  for (int i = 0; i < 50 && c.Count("HTTP/1.1 ") < 4; ++i)
    c.ReadUntil("\x01", 100ms);
  c.ReadUntil("\x01", 100ms);
  size_t a = c.received.find("ALIVE");
  size_t b = c.received.find("404 Not Found");
  size_t h = c.received.find("{\"status\":");
  REQUIRE(a != std::string::npos);
  REQUIRE(b != std::string::npos);
  REQUIRE(h != std::string::npos);
  CHECK(a < b);
  CHECK(b < h);
  CHECK(c.Count("HTTP/1.1 ") == 4);
  CHECK(c.Count("ALIVE") == 1);  // HEAD: no body.
  CHECK_FALSE(c.closed);
}

TEST_CASE(
    "http server: HEAD /events gives the head GET would stream: no length, "
    "chunked, closed") {
  Rig rig;
  Raw c(rig.server->port());
  c.Send(Req("/events", "", "HEAD"));
  for (int i = 0; i < 50 && !c.closed; ++i) c.ReadUntil("\x01", 100ms);
  // Before: Content-Length: 0 on a keep-alive connection, where GET of the
  // same target streams chunked and closes (RFC 9110, 8.6).
  CHECK(c.received.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(c.received.find("Content-Type: text/event-stream\r\n") !=
        std::string::npos);
  CHECK(c.received.find("Transfer-Encoding: chunked\r\n") != std::string::npos);
  CHECK(c.received.find("Content-Length") == std::string::npos);
  CHECK(c.received.find("Connection: close\r\n") != std::string::npos);
  CHECK(c.received.substr(c.received.size() - 4) == "\r\n\r\n");
  CHECK(c.closed);
}

TEST_CASE(
    "http server: a small request body is dropped, never read as the next "
    "request") {
  Rig rig;
  Raw c(rig.server->port());
  std::string smuggled = Req("/metrics");
  c.Send(Req("/status",
             "Content-Length: " + std::to_string(smuggled.size()) + "\r\n") +
         smuggled + Req("/healthz"));
  REQUIRE(c.ReadUntil("\"history\"", 5s));
  CHECK(c.Count("HTTP/1.1 ") == 2);
  CHECK(c.received.find("notifications_bridge_") == std::string::npos);
  // The same with a refused POST.
  Raw d(rig.server->port());
  d.Send(Req("/events",
             "Content-Length: " + std::to_string(smuggled.size()) + "\r\n",
             "POST") +
         smuggled + Req("/status"));
  REQUIRE(d.ReadUntil("ALIVE", 5s));
  CHECK(d.received.rfind("HTTP/1.1 405 ", 0) == 0);
  CHECK(d.Count("HTTP/1.1 ") == 2);
  CHECK(d.received.find("notifications_bridge_") == std::string::npos);
}

TEST_CASE(
    "http server: Content-Length with Transfer-Encoding is a 400 and the "
    "connection closes") {
  Rig rig;
  for (const std::string& framing :
       {std::string("Content-Length: 4\r\nTransfer-Encoding: chunked\r\n"),
        std::string("Transfer-Encoding: chunked\r\nContent-Length: 4\r\n"),
        std::string("Content-Length: 4\r\nContent-Length: 4\r\n"),
        std::string("Content-Length: 4, 4\r\n")}) {
    CAPTURE(framing);
    Raw c(rig.server->port());
    c.Send(Req("/status", framing, "POST") + "0\r\n\r\n" + Req("/metrics"));
    CHECK(c.WaitClosed());
    CHECK(c.received.rfind("HTTP/1.1 400 Bad Request\r\n", 0) == 0);
    CHECK(c.received.find("Connection: close\r\n") != std::string::npos);
    CHECK(c.Count("HTTP/1.1 ") == 1);
  }
}

TEST_CASE(
    "http server: a chunked or large body is never parsed: answer, then "
    "close") {
  Rig rig;
  Raw chunked(rig.server->port());
  std::string inner = Req("/metrics");
  chunked.Send(Req("/status", "Transfer-Encoding: chunked\r\n") +
               "5\r\nhello\r\n0\r\n\r\n" + inner);
  CHECK(chunked.WaitClosed());
  CHECK(chunked.received.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(chunked.received.find("Connection: close\r\n") != std::string::npos);
  CHECK(chunked.Count("HTTP/1.1 ") == 1);
  Raw large(rig.server->port());
  large.Send(Req("/status", "Content-Length: 1000000\r\n") + inner);
  CHECK(large.WaitClosed());
  CHECK(large.Count("HTTP/1.1 ") == 1);
  CHECK(large.received.find("notifications_bridge_") == std::string::npos);
}

TEST_CASE("http server: HTTP/1.0 gets a close-delimited stream it can read") {
  Rig rig;
  rig.hub.Publish({Make("1")});
  Raw c(rig.server->port());
  c.Send("GET /events?backlog=1 HTTP/1.0\r\n\r\n");
  REQUIRE(c.ReadUntil("id: 1\n", 5s));
  size_t head_end = c.received.find("\r\n\r\n");
  REQUIRE(head_end != std::string::npos);
  std::string head = c.received.substr(0, head_end + 2);
  CHECK(head.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(head.find("Transfer-Encoding") == std::string::npos);
  CHECK(head.find("Content-Length") == std::string::npos);
  CHECK(head.find("\r\nConnection: close\r\n") != std::string::npos);
  // The body is the SSE bytes themselves, no chunk sizes.
  CHECK(c.received.substr(head_end + 4).rfind("retry: ", 0) == 0);
  rig.hub.Publish({Make("2")});
  REQUIRE(c.ReadUntil("id: 2\n", 5s));
  CHECK(c.received.find("\r\n", head_end + 4) == std::string::npos);
  rig.hub.Shutdown();
  CHECK(c.WaitClosed());
  // And 1.0 keep-alive for ordinary routes when asked for.
  Raw k(rig.server->port());
  k.Send("GET /status HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
  REQUIRE(k.ReadUntil("ALIVE"));
  CHECK(k.received.find("\r\nConnection: keep-alive\r\n") != std::string::npos);
  k.Send("GET /status HTTP/1.0\r\n\r\n");
  CHECK(k.WaitClosed());
  CHECK(k.Count("ALIVE") == 2);
}

TEST_CASE(
    "http server: request heads past their limits are refused and closed") {
  ServerOptions o;
  o.max_headers = 10;
  Rig rig(o);
  struct Case {
    std::string request;
    std::string status;
  };
  std::vector<Case> cases = {
      {Req("/events?" + std::string(9000, 'a')), "414"},
      {Req("/status", "X-Big: " + std::string(9000, 'a') + "\r\n"), "431"},
      {Req("/status",
           [] {
             std::string f;
             for (int i = 0; i < 11; ++i)
               f += "X-" + std::to_string(i) + ": 1\r\n";
             return f;
           }()),
       "431"},
      {"GET /status HTTP/2.0\r\nHost: x\r\n\r\n", "505"},
      {"GET /status HTTP/1.1\r\n\r\n", "400"},
      {"GET /status HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", "400"},
      {"GET /st atus HTTP/1.1\r\nHost: x\r\n\r\n", "400"},
  };
  for (const Case& k : cases) {
    CAPTURE(k.request.substr(0, 60));
    Raw c(rig.server->port());
    c.Send(k.request);
    CHECK(c.WaitClosed());
    CHECK(c.received.rfind("HTTP/1.1 " + k.status + " ", 0) == 0);
    CHECK(c.received.find("Connection: close\r\n") != std::string::npos);
    CHECK(c.received.find("application/json") != std::string::npos);
  }
  CHECK(HttpRequestTo(rig.url("/status")).body == "ALIVE");
}

TEST_CASE(
    "http server: a client streaming hundreds of MB of headers is cut after "
    "the head limit") {
  Rig rig;
  Raw c(rig.server->port());
  REQUIRE(c.Send("GET /status HTTP/1.1\r\nHost: x\r\n"));
  std::string line = "X-Flood: " + std::string(1000, 'a') + "\r\n";
  std::string block;
  while (block.size() < 1 << 20) block += line;
  size_t sent = 0;
  bool refused = false;
  for (int i = 0; i < 300 && !refused; ++i) {  // Up to 300 MB.
    refused = !c.Send(block);
    if (!refused) sent += block.size();
  }
  CHECK(refused);
  // The server stops reading once it has answered: what the kernels buffer
  // (a few MB on loopback) is all that goes through.
  CHECK(sent < 64u << 20);
  CHECK(c.WaitClosed());
  CHECK(c.received.rfind("HTTP/1.1 431 ", 0) == 0);
}

TEST_CASE(
    "http server: a request head has a deadline as a whole, not per byte") {
  ServerOptions o;
  o.head_timeout = 400ms;
  Rig rig(o);
  Raw slow(rig.server->port());
  auto start = std::chrono::steady_clock::now();
  // One byte every 100 ms: each arrives well within any per-byte timeout.
  std::string head = Req("/status");
  bool cut = false;
  for (char ch : head) {
    if (!slow.Send(std::string(1, ch))) {
      cut = true;
      break;
    }
    std::this_thread::sleep_for(100ms);
    pollfd p{slow.fd(), POLLIN, 0};
    if (::poll(&p, 1, 0) > 0) break;
  }
  CHECK(slow.WaitClosed(3s));
  auto took = std::chrono::steady_clock::now() - start;
  CHECK(slow.received.rfind("HTTP/1.1 408 Request Timeout\r\n", 0) == 0);
  CHECK(took < 2s);
  (void)cut;
  // An idle connection (nothing sent) is closed silently at the deadline
  // (once the kernel hands it over: TCP_DEFER_ACCEPT keeps a connection
  // that sends nothing for about a second first).
  Raw idle(rig.server->port());
  CHECK(idle.WaitClosed(8s));
  CHECK(idle.received.empty());
}

TEST_CASE(
    "http server: a slowloris flood cannot lock out /status, /healthz and "
    "/metrics") {
  ServerOptions o;
  o.max_handshakes = 20;
  o.max_clients = 5;
  o.stream_threads = 2;
  Rig rig(o);
  // The streams are all taken...
  std::vector<std::unique_ptr<SseClient>> streams;
  for (int i = 0; i < 5; ++i) {
    streams.push_back(std::make_unique<SseClient>(rig.url("/events")));
  }
  for (int i = 0; i < 300 && rig.metrics.clients_connected < 5; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  REQUIRE(rig.metrics.clients_connected == 5);
  // ...and 100 connections sit in their handshake, each with half a head.
  std::vector<std::unique_ptr<Raw>> slow;
  for (int i = 0; i < 100; ++i) {
    slow.push_back(std::make_unique<Raw>(rig.server->port()));
    slow.back()->Send("GET /status HTTP/1.1\r\nHost: x\r\nX-Slow: ");
  }
  std::this_thread::sleep_for(100ms);
  // The cap is the server's; a loop with none of its own to evict admits
  // the newcomer: at most one more per loop.
  CHECK(rig.server->handshakes() <= 20 + 1);
  for (const char* path : {"/status", "/healthz", "/metrics"}) {
    auto start = std::chrono::steady_clock::now();
    HttpResult r = HttpRequestTo(rig.url(path));
    CHECK(r.status != 0);
    CHECK(std::chrono::steady_clock::now() - start < 1s);
  }
  // The oldest were closed to make room, with a 408.
  size_t closed = 0;
  for (auto& s : slow) {
    if (s->WaitClosed(10ms)) ++closed;
  }
  CHECK(closed >= 80);
  CHECK(slow.front()->received.rfind("HTTP/1.1 408 ", 0) == 0);
  for (auto& s : streams) CHECK(s->status() == 200);
}

TEST_CASE(
    "http server: Stop ends every stream with its last chunk within the grace, "
    "whatever is stuck") {
  ServerOptions o;
  o.max_clients = 200;
  Rig rig(o);
  std::vector<std::unique_ptr<Raw>> streams;
  for (int i = 0; i < 100; ++i) {
    // Half of them never read (a tiny receive buffer, filled below).
    streams.push_back(
        std::make_unique<Raw>(rig.server->port(), i % 2 ? 2048 : 0));
    streams.back()->Send(Req("/events"));
  }
  for (int i = 0; i < 500 && rig.metrics.clients_connected < 100; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  REQUIRE(rig.metrics.clients_connected == 100);
  for (int i = 0; i < 20; ++i) {
    Notification n = Make(std::to_string(i + 1));
    n.text = std::string(20000, 'x');
    rig.hub.Publish({n});
  }
  for (size_t i = 0; i < streams.size(); i += 2) {
    REQUIRE(streams[i]->ReadUntil("id: 20\n", 10s));
  }
  auto start = std::chrono::steady_clock::now();
  rig.server->Stop(std::chrono::milliseconds(500));
  auto took = std::chrono::steady_clock::now() - start;
  CHECK(took < 2s);
  CHECK(rig.server->streams() == 0);
  for (size_t i = 0; i < streams.size(); i += 2) {
    CHECK(streams[i]->ReadUntil("\r\n0\r\n\r\n", 2s));
  }
  CHECK(rig.metrics.clients_connected == 0);
}

TEST_CASE("http server: paths in the access log carry no control characters") {
  ServerOptions o;
  Rig rig(o);
  std::vector<std::string> lines;
  std::mutex mu;
  Logger logger(LogLevel::kDebug, [&](const std::string& l) {
    std::lock_guard<std::mutex> lock(mu);
    lines.push_back(l);
  });
  EventHub hub(10, false);
  Metrics metrics;
  o.host = "127.0.0.1";
  o.port = 0;
  BridgeServer server(o, hub, nullptr, metrics, logger, nullptr);
  REQUIRE(server.Start().ok());
  Raw c(server.port());
  c.Send("GET /a%0d%0afake%1b[31m HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(c.ReadUntil("\r\n\r\n"));
  c.Send("GET /\x01 HTTP/1.1\r\nHost: x\r\n\r\n");
  c.WaitClosed();
  server.Stop();
  std::lock_guard<std::mutex> lock(mu);
  bool seen = false;
  for (const std::string& l : lines) {
    for (char ch : l) CHECK(static_cast<unsigned char>(ch) >= 0x20);
    seen = seen || l.find("/a%0d%0afake%1b[31m 404") != std::string::npos;
  }
  CHECK(seen);
}

TEST_CASE("http server: EscapeForLog") {
  CHECK(EscapeForLog("/events?x=1") == "/events?x=1");
  CHECK(EscapeForLog("a\r\nb\x1b[0m\\") == "a\\x0d\\x0ab\\x1b[0m\\\\");
  CHECK(EscapeForLog("caf\xc3\xa9") == "caf\xc3\xa9");
  CHECK(EscapeForLog("\xff\xc3") == "\\xff\\xc3");
  CHECK(EscapeForLog("\xc2\x85") == "\\xc2\\x85");  // C1 (NEL).
  CHECK(EscapeForLog("\xe2\x80\xae"
                     "x") == "\\xe2\\x80\\xaex");  // RLO.
}

}  // namespace
}  // namespace notifications

namespace notifications {
namespace {

// A GapSource whose fetches wait until released (or 10 s).
class SlowGaps final : public GapSource {
 public:
  Result<std::vector<Notification>> FetchAfter(const std::string& after,
                                               const std::string&,
                                               size_t) override {
    std::unique_lock<std::mutex> lock(mu_);
    ++in_flight_;
    max_in_flight_ = std::max(max_in_flight_, in_flight_);
    cv_.notify_all();
    cv_.wait_for(lock, 10s, [this] { return released_; });
    --in_flight_;
    return std::vector<Notification>{testing::SampleNotification(after + "1")};
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu_);
    released_ = true;
    cv_.notify_all();
  }
  bool WaitInFlight(int n) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, 5s, [&] { return in_flight_ >= n; });
  }
  int max_in_flight() {
    std::lock_guard<std::mutex> lock(mu_);
    return max_in_flight_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int in_flight_ = 0;
  int max_in_flight_ = 0;
  bool released_ = false;
};

struct GapRig {
  explicit GapRig(ServerOptions o = {}) {
    o.host = "127.0.0.1";
    o.port = 0;
    o.public_dir = NB_SOURCE_DIR "/public";
    server = std::make_unique<BridgeServer>(o, hub, &gaps, metrics, logger,
                                            [] { return UpstreamState{}; });
    REQUIRE(server->Start().ok());
    hub.Publish({testing::SampleNotification("100")});
  }
  ~GapRig() {
    gaps.Release();
    server->Stop();
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(server->port()) + path;
  }
  EventHub hub{10, false};
  SlowGaps gaps;
  Metrics metrics;
  Logger logger{LogLevel::kOff};
  std::unique_ptr<BridgeServer> server;
};

TEST_CASE(
    "http server: gap fetches run off the loops, several at once, and never "
    "hold up other requests") {
  ServerOptions o;
  o.stream_threads = 1;  // One loop: a fetch on it would stop everything.
  GapRig rig(o);
  SseClient a(rig.url("/events"), {{"Last-Event-ID", "1"}});
  SseClient b(rig.url("/events"), {{"Last-Event-ID", "2"}});
  REQUIRE(rig.gaps.WaitInFlight(2));
  auto start = std::chrono::steady_clock::now();
  CHECK(HttpRequestTo(rig.url("/status")).body == "ALIVE");
  CHECK(std::chrono::steady_clock::now() - start < 1s);
  rig.gaps.Release();
  CHECK(testing::Ids(a.WaitFor(2, 5s)) ==
        std::vector<std::string>{"11", "100"});
  CHECK(testing::Ids(b.WaitFor(2, 5s)) ==
        std::vector<std::string>{"21", "100"});
  CHECK(rig.gaps.max_in_flight() == 2);
}

TEST_CASE(
    "http server: Stop with a gap fetch in flight ends that stream at once, "
    "without a reset") {
  GapRig rig;
  Raw c(rig.server->port());
  c.Send(Req("/events", "Last-Event-ID: 5\r\n"));
  REQUIRE(rig.gaps.WaitInFlight(1));
  auto start = std::chrono::steady_clock::now();
  rig.server->Stop(std::chrono::milliseconds(1500));
  CHECK(std::chrono::steady_clock::now() - start < 1s);
  CHECK(c.ReadUntil("\r\n0\r\n\r\n", 2s));
  CHECK(c.received.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(c.received.find("retry: ") != std::string::npos);
  CHECK(c.received.find("event: reset") == std::string::npos);
  CHECK(rig.metrics.clients_connected == 0);
}

TEST_CASE(
    "http server: a route can park a request until the hub publishes or a "
    "timeout") {
  // Built like the delivery API's long-poll will be (http_server.h).
  ServerOptions o;
  o.host = "127.0.0.1";
  o.port = 0;
  EventHub hub2(10, false);
  Metrics metrics;
  Logger logger(LogLevel::kOff);
  BridgeServer s(o, hub2, nullptr, metrics, logger, nullptr);
  s.AddRoute("/wait", [&hub2](HttpExchange& ex) {
    uint64_t seen = hub2.last_seq();
    bool parked = ex.Park(
        300ms, [&hub2, seen](HttpExchange& later, HttpExchange::Wake why) {
          if (why == HttpExchange::Wake::kPublished && hub2.last_seq() == seen)
            return false;
          later.Respond(HttpReply::Text(
              200, "text/plain",
              why == HttpExchange::Wake::kPublished ? "published"
              : why == HttpExchange::Wake::kTimeout ? "timeout"
                                                    : "shutdown"));
          return true;
        });
    CHECK(parked);
  });
  REQUIRE(s.Start().ok());
  std::string base = "http://127.0.0.1:" + std::to_string(s.port());
  std::thread publisher([&hub2] {
    std::this_thread::sleep_for(100ms);
    hub2.Publish({testing::SampleNotification("1")});
  });
  auto start = std::chrono::steady_clock::now();
  CHECK(HttpRequestTo(base + "/wait").body == "published");
  CHECK(std::chrono::steady_clock::now() - start < 280ms);
  publisher.join();
  start = std::chrono::steady_clock::now();
  CHECK(HttpRequestTo(base + "/wait").body == "timeout");
  CHECK(std::chrono::steady_clock::now() - start >= 280ms);
  // Several requests on one keep-alive connection, parked one after another.
  Raw c(s.port());
  c.Send(Req("/wait") + Req("/status"));
  REQUIRE(c.ReadUntil("ALIVE", 3s));
  CHECK(c.received.find("timeout") < c.received.find("ALIVE"));
  s.Stop();
}

}  // namespace
}  // namespace notifications

namespace notifications {
namespace {

long MetricValue(const std::string& body, const std::string& name) {
  size_t at = body.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::atol(body.c_str() + at + name.size() + 2);
}

TEST_CASE(
    "http server: a stalled stream holds a bounded share of its backlog, not a "
    "copy of it") {
  ServerOptions o;
  o.write_timeout = 60s;  // Only the memory bound is looked at here.
  EventHub hub(1000, false);
  Metrics metrics;
  Logger logger(LogLevel::kOff);
  o.host = "127.0.0.1";
  o.port = 0;
  BridgeServer server(o, hub, nullptr, metrics, logger, nullptr);
  REQUIRE(server.Start().ok());
  std::vector<Notification> batch;
  for (int i = 1; i <= 1000; ++i) {
    Notification n = Make(std::to_string(i));
    n.text = std::string(2000, 'x');
    batch.push_back(n);
  }
  hub.Publish(batch);  // 2 MB of frames, once.
  const int kStalled = 20;
  std::vector<std::unique_ptr<Raw>> stalled;
  for (int i = 0; i < kStalled; ++i) {
    stalled.push_back(std::make_unique<Raw>(server.port(), 2048));
    stalled.back()->Send(Req("/events?backlog=1000"));
  }
  std::string url =
      "http://127.0.0.1:" + std::to_string(server.port()) + "/metrics";
  long unsent = 0;
  for (int i = 0; i < 100; ++i) {
    std::string body = HttpRequestTo(url).body;
    unsent = MetricValue(body, "notifications_bridge_stream_unsent_bytes");
    if (MetricValue(body, "notifications_bridge_clients_connected") ==
            kStalled &&
        unsent > 0) {
      break;
    }
    std::this_thread::sleep_for(20ms);
  }
  std::this_thread::sleep_for(200ms);
  unsent = MetricValue(HttpRequestTo(url).body,
                       "notifications_bridge_stream_unsent_bytes");
  // Each holds about 64 KiB queued (and pointers to the rest), where a copy
  // of its backlog would be 2 MB: 40 MB for the 20.
  CHECK(unsent > 0);
  CHECK(unsent < kStalled * 100 * 1024);
  // A live batch past the bound cuts them (1 MiB unsent).
  std::vector<Notification> big;
  for (int i = 1001; i <= 1600; ++i) {
    Notification n = Make(std::to_string(i));
    n.text = std::string(2000, 'y');
    big.push_back(n);
  }
  // They are behind (their opening is not out): live batches wait in the
  // hub for them, and the write timeout (60 s here) would cut them. The
  // bound applies to what is queued whatever put it there.
  hub.Publish(big);
  std::this_thread::sleep_for(200ms);
  unsent = MetricValue(HttpRequestTo(url).body,
                       "notifications_bridge_stream_unsent_bytes");
  CHECK(unsent < kStalled * 100 * 1024);
  server.Stop(std::chrono::milliseconds(100));
}

}  // namespace
}  // namespace notifications

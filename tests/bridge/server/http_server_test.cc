// BridgeServer in-process on 127.0.0.1:0, exercised with a real HTTP client.
#include "http_server.h"

#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>

#include "test_support.h"

namespace notifications {
namespace {

using namespace std::chrono_literals;
using testing::HttpRequestTo;
using testing::HttpResult;
using testing::SseClient;

Notification Make(const std::string& id, const std::string& service = "GitHub") {
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
      "\"consecutiveFailures\":0,\"source\":\"polling\"},\"cursor\":\"9\","
      "\"clients\":3,\"history\":{\"size\":10,\"capacity\":1000}}");
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
  CHECK(RenderHealthz(s, 0, 0, 1000) ==
        "{\"status\":\"degraded\",\"upstream\":{\"ok\":false,\"lastSuccess\":"
        "null,\"lastError\":\"auth: connecting: 403 ACCESS_REFUSED\","
        "\"lastErrorTime\":\"2026-11-28T12:39:14.123Z\","
        "\"consecutiveFailures\":2,"
        "\"source\":\"amqp\",\"connection\":\"disconnected\",\"offset\":41,"
        "\"lag\":null},\"cursor\":\"41\",\"clients\":0,"
        "\"history\":{\"size\":0,\"capacity\":1000}}");
}

TEST_CASE("http server: /metrics in Prometheus text format") {
  Rig rig;
  HttpResult r = HttpRequestTo(rig.url("/metrics"));
  CHECK(r.status == 200);
  CHECK(r.headers["content-type"].rfind("text/plain; version=0.0.4", 0) == 0);
  CHECK(r.body.find("notifications_bridge_clients_connected 0\n") != std::string::npos);
  CHECK(r.body.find("notifications_bridge_worker_threads ") != std::string::npos);
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
    REQUIRE(::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
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

TEST_CASE("http server: an event stream is chunked, says close, and may follow other requests on its connection") {
  Rig rig;
  RawConnection conn(rig.server->port());
  // A keep-alive request first: the connection must serve it and stay open.
  conn.Send("GET /status HTTP/1.1\r\nHost: x\r\n\r\n");
  REQUIRE(conn.ReadUntil("ALIVE"));
  conn.received.clear();
  conn.Send("GET /events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n");
  REQUIRE(conn.ReadUntil(": connected\n\n\r\n"));
  const std::string& r = conn.received;
  CHECK(r.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  size_t head_end = r.find("\r\n\r\n");
  REQUIRE(head_end != std::string::npos);
  std::string head = r.substr(0, head_end + 2);
  CHECK(head.find("\r\nContent-Type: text/event-stream\r\n") != std::string::npos);
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
  CHECK(conn.received.find("id: 1\nevent: notification\n") != std::string::npos);
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
  CHECK(r.headers["content-security-policy"].find("script-src 'self'") != std::string::npos);
  CHECK(r.headers["x-content-type-options"] == "nosniff");
  std::string etag = r.headers["etag"];
  REQUIRE(!etag.empty());
  CHECK(HttpRequestTo(rig.url("/"), "GET", {{"If-None-Match", etag}}).status == 304);
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
  CHECK(r.headers["access-control-allow-origin"] == "https://infra.nasqueron.org");
  CHECK(r.headers["vary"] == "Origin");
  r = HttpRequestTo(rig.url("/status"), "GET", {{"Origin", "https://evil.example"}});
  CHECK(r.headers.count("access-control-allow-origin") == 0);
  r = HttpRequestTo(rig.url("/events"), "OPTIONS",
                    {{"Origin", "https://infra.nasqueron.org"},
                     {"Access-Control-Request-Method", "GET"},
                     {"Access-Control-Request-Headers", "last-event-id"}});
  CHECK(r.status == 204);
  CHECK(r.headers["access-control-allow-headers"].find("Last-Event-ID") != std::string::npos);
  CHECK(r.headers["access-control-allow-credentials"].empty());
}

TEST_CASE("http server: no CORS header at all without --allow-origin") {
  Rig rig;
  HttpResult r = HttpRequestTo(rig.url("/status"), "GET", {{"Origin", "https://x.example"}});
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
  CHECK(CookieValue("notifications_stream_token_x=1", "notifications_stream_token").empty());
  CHECK(CookieValue("", "a").empty());
  CHECK(TokensEqual("abc", "abc"));
  CHECK_FALSE(TokensEqual("abd", "abc"));
  CHECK_FALSE(TokensEqual("ab", "abc"));
}

}  // namespace
}  // namespace notifications

// CurlHttpClient against a real loopback HTTP server written with raw
// sockets, so each way an upstream can misbehave is exactly what the test
// says; and FakeHttpClient scripted with the same cases, to keep the fake
// honest (the poller and gap tests trust it).
#include "curl_http_client.h"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "fakes.h"

namespace notifications {
namespace {

using namespace std::chrono_literals;

// One-connection-at-a-time HTTP server on 127.0.0.1:0. For each accepted
// connection it reads the request head, counts it, then runs `respond` on
// the socket (which it closes afterwards unless `respond` did).
class LoopbackServer {
 public:
  explicit LoopbackServer(std::function<void(int fd)> respond)
      : respond_(std::move(respond)) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr),
                   sizeof addr) == 0);
    REQUIRE(::listen(listen_fd_, 16) == 0);
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~LoopbackServer() {
    stop_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    thread_.join();
    ::close(listen_fd_);
  }

  std::string url(const std::string& path = "/delivery/notifications") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  // Blocks until `n` requests have been read.
  void WaitForRequests(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return requests_ >= n; });
  }
  size_t requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  void Serve() {
    while (!stop_) {
      int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) return;
      std::string head;
      char buf[4096];
      while (head.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        head.append(buf, static_cast<size_t>(n));
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        ++requests_;
      }
      cv_.notify_all();
      respond_(fd);
      ::close(fd);
    }
  }

  std::function<void(int)> respond_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  size_t requests_ = 0;  // guarded by mu_
};

void Send(int fd, const std::string& bytes) {
  size_t off = 0;
  while (off < bytes.size()) {
    ssize_t n =
        ::send(fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
    if (n <= 0) return;
    off += static_cast<size_t>(n);
  }
}

// Holds the connection until the client goes away (or 30 s, a safety net:
// every test that holds ends its client well before).
void HoldUntilClosed(int fd) {
  pollfd p{fd, POLLIN | POLLRDHUP, 0};
  char buf[256];
  for (int i = 0; i < 300; ++i) {
    if (::poll(&p, 1, 100) > 0) {
      if (::recv(fd, buf, sizeof buf, 0) <= 0) return;
    }
  }
}

// Closes with RST instead of FIN.
void Reset(int fd) {
  linger l{1, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
}

HttpRequest Request(const std::string& url) {
  HttpRequest r;
  r.url = url;
  r.connect_timeout = 2000ms;
  r.total_timeout = 20000ms;
  return r;
}

TEST_CASE(
    "curl client: a 200 gives the status, the lowercased type and the body") {
  LoopbackServer server([](int fd) {
    Send(fd,
         "HTTP/1.1 200 OK\r\nContent-Type: Application/JSON; Charset=UTF-8\r\n"
         "Content-Length: 2\r\nConnection: close\r\n\r\n{}");
  });
  CurlHttpClient client;
  HttpResponse r = client.Get(Request(server.url()));
  CHECK(r.error == HttpResponse::Error::kNone);
  CHECK(r.status == 200);
  CHECK(r.content_type == "application/json; charset=utf-8");
  CHECK(r.body == "{}");
}

TEST_CASE("curl client: an answer slower than total_timeout is kTimeout") {
  LoopbackServer server(HoldUntilClosed);
  CurlHttpClient client;
  HttpRequest req = Request(server.url());
  req.total_timeout = 300ms;
  HttpResponse r = client.Get(req);
  CHECK(r.error == HttpResponse::Error::kTimeout);
  CHECK(r.error_message.rfind("Operation timed out after", 0) == 0);
  CHECK(r.body.empty());

  FakeHttpClient fake;
  fake.PushJson(200, "{}");
  // The fake's answer "takes" longer than the request allows.
  fake.Push(HttpResponse(), 301ms);
  CHECK(fake.Get(req).error == HttpResponse::Error::kNone);
  HttpResponse f = fake.Get(req);
  CHECK(f.error == r.error);
  CHECK(f.error_message.rfind("Operation timed out after", 0) == 0);
}

TEST_CASE(
    "curl client: a Content-Length above the limit is refused before the "
    "body") {
  // Headers only: the body never comes. A client that waited for it would
  // time out instead of failing on the announced length.
  LoopbackServer server([](int fd) {
    Send(fd,
         "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
         "Content-Length: 100000\r\n\r\n");
    HoldUntilClosed(fd);
  });
  CurlHttpClient client;
  HttpRequest req = Request(server.url());
  req.max_body_bytes = 1000;
  HttpResponse r = client.Get(req);
  CHECK(r.error == HttpResponse::Error::kTooLarge);
  CHECK(r.error_message == "response body larger than 1000 bytes");
  CHECK(r.body.empty());

  FakeHttpClient fake;
  fake.PushJson(200, std::string(100000, 'x'));
  HttpResponse f = fake.Get(req);
  CHECK(f.error == r.error);
  CHECK(f.error_message == r.error_message);
  CHECK(f.body.empty());
}

TEST_CASE("curl client: a body without Content-Length is cut at the limit") {
  const std::string chunk(512, 'x');
  SUBCASE("chunked") {
    LoopbackServer server([&](int fd) {
      Send(fd,
           "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
           "Transfer-Encoding: chunked\r\n\r\n");
      // 8 KiB announced in chunks; the client must stop after ~1000 bytes,
      // so the rest may well meet a closed socket.
      for (int i = 0; i < 16; ++i) Send(fd, "200\r\n" + chunk + "\r\n");
      Send(fd, "0\r\n\r\n");
      HoldUntilClosed(fd);
    });
    CurlHttpClient client;
    HttpRequest req = Request(server.url());
    req.max_body_bytes = 1000;
    HttpResponse r = client.Get(req);
    CHECK(r.error == HttpResponse::Error::kTooLarge);
    CHECK(r.error_message == "response body larger than 1000 bytes");
    CHECK(r.body.empty());
  }
  SUBCASE("delimited by the end of the connection") {
    LoopbackServer server([&](int fd) {
      Send(fd, "HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n");
      for (int i = 0; i < 16; ++i) Send(fd, chunk);
    });
    CurlHttpClient client;
    HttpRequest req = Request(server.url());
    req.max_body_bytes = 1000;
    HttpResponse r = client.Get(req);
    CHECK(r.error == HttpResponse::Error::kTooLarge);
    CHECK(r.body.empty());
  }
}

TEST_CASE(
    "curl client: a connection reset is kTransport, before or during the "
    "body") {
  SUBCASE("before any answer") {
    LoopbackServer server(Reset);
    CurlHttpClient client;
    HttpResponse r = client.Get(Request(server.url()));
    CHECK(r.error == HttpResponse::Error::kTransport);
    CHECK_FALSE(r.error_message.empty());
    CHECK(r.body.empty());
  }
  SUBCASE("in the middle of the body") {
    LoopbackServer server([](int fd) {
      Send(fd,
           "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
           "Content-Length: 1000\r\n\r\n{\"notifications\":[");
      Reset(fd);
    });
    CurlHttpClient client;
    HttpResponse r = client.Get(Request(server.url()));
    CHECK(r.error == HttpResponse::Error::kTransport);
    CHECK(r.body.empty());
  }
  FakeHttpClient fake;
  fake.PushReset();
  HttpResponse f = fake.Get(Request("http://api.test/"));
  CHECK(f.error == HttpResponse::Error::kTransport);
  CHECK(f.error_message.find("reset") != std::string::npos);
}

TEST_CASE(
    "curl client: a 3xx is returned as it is, with its target, never "
    "followed") {
  LoopbackServer server([](int fd) {
    Send(fd,
         "HTTP/1.1 301 Moved Permanently\r\nLocation: /v2/notifications\r\n"
         "Content-Type: text/html\r\nContent-Length: 5\r\n"
         "Connection: close\r\n\r\nmoved");
  });
  CurlHttpClient client;
  HttpResponse r = client.Get(Request(server.url()));
  CHECK(r.error == HttpResponse::Error::kNone);
  CHECK(r.status == 301);
  CHECK(r.redirect_url == server.url("/v2/notifications"));
  CHECK(server.requests() == 1);

  FakeHttpClient fake;
  fake.PushRedirect(301, server.url("/v2/notifications"));
  HttpResponse f = fake.Get(Request(server.url()));
  CHECK(f.error == r.error);
  CHECK(f.status == r.status);
  CHECK(f.redirect_url == r.redirect_url);
}

TEST_CASE("curl client: cancelling the token drops a held request at once") {
  LoopbackServer server(HoldUntilClosed);
  CurlHttpClient client;
  CancelToken token;
  HttpRequest req = Request(server.url());
  req.total_timeout = 60000ms;  // A long-poll the API holds.
  req.cancel = &token;
  std::thread canceller([&] {
    server.WaitForRequests(1);
    token.Cancel();
  });
  HttpResponse r = client.Get(req);
  canceller.join();
  CHECK(r.error == HttpResponse::Error::kCancelled);
  // A cancelled token never even connects.
  HttpResponse again = client.Get(req);
  CHECK(again.error == HttpResponse::Error::kCancelled);
  CHECK(server.requests() == 1);

  FakeHttpClient fake;
  CancelToken fake_token;
  fake.PushHang();
  req.cancel = &fake_token;
  std::thread fake_canceller([&] {
    fake.WaitForHanging(1);
    fake_token.Cancel();
  });
  CHECK(fake.Get(req).error == HttpResponse::Error::kCancelled);
  fake_canceller.join();
  CHECK(fake.Get(req).error == HttpResponse::Error::kCancelled);
}

TEST_CASE(
    "curl client: the connection is reused, and a client works after a "
    "cancel") {
  std::atomic<int> connections{0};
  LoopbackServer server([&](int fd) {
    ++connections;
    Send(fd,
         "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
         "Content-Length: 2\r\n\r\n{}");
    // Keep-alive: answer the next requests on the same connection.
    char buf[4096];
    std::string pending;
    while (true) {
      ssize_t n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return;
      pending.append(buf, static_cast<size_t>(n));
      size_t end;
      while ((end = pending.find("\r\n\r\n")) != std::string::npos) {
        pending.erase(0, end + 4);
        Send(fd,
             "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
             "Content-Length: 2\r\n\r\n{}");
      }
    }
  });
  CurlHttpClient client;
  for (int i = 0; i < 3; ++i) {
    HttpResponse r = client.Get(Request(server.url()));
    CHECK(r.status == 200);
  }
  CHECK(connections == 1);
}

TEST_CASE(
    "curl client: running out of file descriptors is said so, not a connect "
    "error") {
  // Nothing listens there: without the shortage this is a refused connect.
  int port = 0;
  {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
    ::close(fd);
  }
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/";
  CurlHttpClient client;
  CHECK(client.Get(Request(url)).error == HttpResponse::Error::kConnect);

  // Fill the table up to a lowered soft limit, then ask again.
  rlimit saved{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved) == 0);
  std::vector<int> filler;
  int probe = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  REQUIRE(probe >= 0);
  rlimit low = saved;
  low.rlim_cur = static_cast<rlim_t>(probe) + 16;
  ::close(probe);
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &low) == 0);
  while (true) {
    int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (fd < 0) break;
    filler.push_back(fd);
  }
  HttpResponse r = client.Get(Request(url));
  for (int fd : filler) ::close(fd);
  REQUIRE(::setrlimit(RLIMIT_NOFILE, &saved) == 0);
  CHECK(r.error == HttpResponse::Error::kNoFileDescriptors);
  CHECK(r.error_message.find("out of file descriptors") != std::string::npos);
  CHECK(r.error_message.find("EMFILE") != std::string::npos);
  // And the client recovers once descriptors are back.
  CHECK(client.Get(Request(url)).error == HttpResponse::Error::kConnect);
}

}  // namespace
}  // namespace notifications

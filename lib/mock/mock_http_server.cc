#include "mock_http_server.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <string>

#include "socket_address.h"

namespace notifications {
namespace {

using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

// Longest single wait: a stopping server is noticed within this.
constexpr milliseconds kSlice{200};
constexpr std::chrono::seconds kIdleWorker{10};
constexpr size_t kWorkerStackBytes = 256 * 1024;

// Hands httplib's connections to the WorkerPool. httplib owns and deletes
// this adapter; the pool belongs to the server and outlives it.
class PoolTaskQueue final : public httplib::TaskQueue {
 public:
  explicit PoolTaskQueue(WorkerPool& pool) : pool_(pool) {}
  void enqueue(std::function<void()> fn) override {
    pool_.Submit(std::move(fn));
  }
  // MockHttpServer::Drain() drains the pool after the listener has exited.
  void shutdown() override {}

 private:
  WorkerPool& pool_;
};

// Debian's httplib sets SO_REUSEPORT, which lets a second server bind the
// same port silently and split the traffic; SO_REUSEADDR alone still allows
// a quick restart over TIME_WAIT sockets but makes a taken port an error.
void ExclusivePortSocketOptions(socket_t sock) {
  int yes = 1;
  setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
}

}  // namespace

// One accepted connection as httplib sees it (its Stream). Reads are
// buffered (httplib reads request lines a byte at a time); every wait is
// bounded by its timeout and, while a request head is being read, by the
// head deadline; once the server stops, a wait that makes no progress for
// a slice is given up.
class MockHttpServer::Connection final : public httplib::Stream {
 public:
  Connection(int fd, milliseconds read_timeout, milliseconds write_timeout,
             std::function<bool()> stopping)
      : fd_(fd),
        read_timeout_(read_timeout),
        write_timeout_(write_timeout),
        stopping_(std::move(stopping)) {}

  bool is_readable() const override {
    return begin_ < end_ || Wait(POLLIN, read_timeout_);
  }
  bool is_writable() const override { return Wait(POLLOUT, write_timeout_); }

  ssize_t read(char* ptr, size_t size) override {
    if (begin_ == end_) {
      if (!Wait(POLLIN, read_timeout_)) return -1;
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
    if (!Wait(POLLOUT, write_timeout_)) return -1;
    return ::send(fd_, ptr, size, MSG_NOSIGNAL);
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    SocketAddress(fd_, /*peer=*/true, ip, port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    SocketAddress(fd_, /*peer=*/false, ip, port);
  }
  socket_t socket() const override { return fd_; }

  // Waits up to `timeout` for the next request's first byte.
  bool WaitForRequest(milliseconds timeout) const {
    return begin_ < end_ || Wait(POLLIN, timeout);
  }
  // The request head is due within `timeout` from now.
  void StartHead(milliseconds timeout) {
    head_deadline_ = SteadyClock::now() + timeout;
    in_head_ = true;
  }
  // The request head is read: no deadline until StartHead().
  void HeadDone() { in_head_ = false; }

 private:
  // poll() for `events` up to `timeout` (and the head deadline), in slices
  // so that a stopping server is noticed.
  bool Wait(short events, milliseconds timeout) const {
    auto deadline = SteadyClock::now() + timeout;
    if (in_head_ && (events & POLLIN) && head_deadline_ < deadline) {
      deadline = head_deadline_;
    }
    while (true) {
      auto left = std::chrono::duration_cast<milliseconds>(deadline -
                                                           SteadyClock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, events, 0};
      int n = ::poll(&p, 1, static_cast<int>(std::min(left, kSlice).count()));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return false;
      if (n > 0) return (p.revents & (events | POLLHUP | POLLERR)) != 0;
      // A whole slice without progress: an answer that still goes out is
      // finished, a wait is given up when the server stops.
      if (stopping_()) return false;
    }
  }

  const int fd_;
  const milliseconds read_timeout_;
  const milliseconds write_timeout_;
  const std::function<bool()> stopping_;
  char buffer_[4096];
  size_t begin_ = 0;
  size_t end_ = 0;
  bool in_head_ = false;
  SteadyClock::time_point head_deadline_;
};

MockHttpServer::MockHttpServer(size_t max_connections,
                               milliseconds head_timeout)
    : head_timeout_(head_timeout),
      pool_(max_connections, kWorkerStackBytes, kIdleWorker) {
  new_task_queue = [this] { return new PoolTaskQueue(pool_); };
  set_socket_options(ExclusivePortSocketOptions);
  // The head is read when routing starts.
  set_pre_routing_handler([this](const httplib::Request&, httplib::Response&) {
    if (Connection* connection = Current()) connection->HeadDone();
    return HandlerResponse::Unhandled;
  });
}

MockHttpServer::~MockHttpServer() {
  stop();
  Drain();
}

void MockHttpServer::DeepenBacklog() {
  socket_t sock = svr_sock_;
  if (sock != INVALID_SOCKET) ::listen(sock, SOMAXCONN);
}

void MockHttpServer::Drain() { pool_.Shutdown(); }

MockHttpServer::Connection* MockHttpServer::Current() {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = current_.find(std::this_thread::get_id());
  return it == current_.end() ? nullptr : it->second;
}

bool MockHttpServer::process_and_close_socket(socket_t sock) {
  // Without it, an answer on a reused (keep-alive) connection waits for the
  // client's delayed ACK: ~40 ms added to every poll.
  int yes = 1;
  ::setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
  Connection conn(
      sock, milliseconds(read_timeout_sec_ * 1000 + read_timeout_usec_ / 1000),
      milliseconds(write_timeout_sec_ * 1000 + write_timeout_usec_ / 1000),
      [this] { return svr_sock_ == INVALID_SOCKET; });
  {
    std::lock_guard<std::mutex> lock(mu_);
    current_[std::this_thread::get_id()] = &conn;
  }
  bool ok = true;
  for (size_t left = keep_alive_max_count_;
       left > 0 &&
       conn.WaitForRequest(milliseconds(keep_alive_timeout_sec_ * 1000));
       --left) {
    conn.StartHead(head_timeout_);
    bool closed = false;
    ok = process_request(conn, left == 1, closed, nullptr);
    if (!ok || closed) break;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    current_.erase(std::this_thread::get_id());
  }
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
  return ok;
}

}  // namespace notifications

#include "server_loop.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <unordered_map>
#include <utility>

#include "http_framing.h"
#include "notification_json.h"
#include "output_queue.h"
#include "sse_encoder.h"

namespace notifications {

struct ServerLoop::Conn {
  enum class Phase : uint8_t {
    kWaiting,     // For a request head (or idle between requests).
    kHandling,    // A handler is running for its request.
    kResponding,  // Writing an answer the socket did not take at once.
    kLingering,   // Answered for the last time; draining, then closed.
    kBlocked,     // Its answer waits for the blocking pool.
    kParked,      // Its answer waits for the hub or a timeout.
    kStream,
  };
  int fd = -1;
  uint64_t id = 0;
  Phase phase = Phase::kWaiting;
  bool closed = false;
  bool holds_slot = false;  // One of --max-clients (clients_connected).
  bool keep_alive = true;   // After the answer being written.
  bool chunked = true;      // Stream framing (false: HTTP/1.0).
  bool ending = false;      // Stream: last chunk queued, close once written.
  bool listed = false;      // In the handshake list.
  uint32_t events = 0;      // What epoll watches now.
  size_t slot = 0;          // In State::all.
  size_t index = 0;         // In State::streams (streams only).

  std::unique_ptr<HttpRequestParser> parser;
  std::string input;  // Read, not yet parsed (pipelined requests).
  size_t input_off = 0;
  uint64_t discard = 0;  // Body bytes to drop before the next head.
  size_t drained = 0;    // Bytes dropped while lingering.
  size_t accounted = 0;  // out.bytes() as counted in ServerMetrics::unsent.
  std::unique_ptr<HttpRequestHead> request;  // While it is being answered.
  int status = 0;

  OutputQueue out;
  std::unique_ptr<StreamSession> session;
  TimePoint since;          // Entered its handshake phase.
  TimePoint last_write;     // Streams: for heartbeats.
  TimePoint last_progress;  // For the write timeout.
  // Bytes the kernel still held for the client at the last timer check
  // (SIOCOUTQ), -1 unknown: a drop means the client took bytes even if the
  // socket never became writable again (a slow but steady reader).
  int kernel_unsent = -1;

  Conn* prev = nullptr;  // Handshake list, oldest first.
  Conn* next = nullptr;

  std::function<bool(HttpExchange&, HttpExchange::Wake)> on_wake;
  TimePoint park_deadline;
  HttpExchange::Continuation on_cancel;
};

struct ServerLoop::State {
  std::vector<std::unique_ptr<Conn>> all;  // Conn::index is its place here.
  std::vector<std::unique_ptr<Conn>> graveyard;  // Freed after each round.
  std::vector<Conn*> streams;
  std::vector<Conn*> parked;
  std::unordered_map<uint64_t, Conn*> blocked;
  Conn* oldest = nullptr;  // Handshake list.
  Conn* newest = nullptr;
  uint64_t next_id = 1;
  // Seq up to which every stream in step has been given its events.
  uint64_t seq = 0;
  bool hub_ended = false;  // The hub shut down: streams end.
  bool stopping = false;
  bool listening = false;
  TimePoint accept_resume;
  TimePoint next_tick;
  std::vector<HubEventPtr> events;
  std::vector<HubEventPtr> catch_up;
  SseOutput output;  // Scratch: what one stream writes next.
  std::vector<char> scratch = std::vector<char>(64 * 1024);
  const std::shared_ptr<const std::string> keep_alive =
      std::make_shared<const std::string>(EncodeSseComment("keep-alive"));
  const std::shared_ptr<const std::string> last_chunk =
      std::make_shared<const std::string>(kLastChunk);
  const std::shared_ptr<const std::string> chunk_end =
      std::make_shared<const std::string>(kChunkEnd);
  // Tags for epoll_event.data.ptr that are not connections.
  char wake_tag = 0;
  char listen_tag = 0;
};

// The handler's view of one request (http_exchange.h).
class ServerLoop::Exchange final : public HttpExchange {
 public:
  Exchange(ServerLoop& loop, Conn* c, TimePoint now)
      : loop_(loop), c_(c), now_(now) {}

  bool answered() const { return answered_; }

  const HttpRequestHead& request() const override { return *c_->request; }
  std::string peer() const override { return loop_.Peer(c_); }
  void Respond(HttpReply response) override {
    if (Answer()) loop_.Respond(c_, std::move(response), now_);
  }
  void StartStream(HeaderFields fields,
                   std::unique_ptr<StreamSession> session) override {
    if (Answer())
      loop_.StartStream(c_, std::move(fields), std::move(session), now_);
  }
  void HoldClientSlot() override { c_->holds_slot = true; }
  void RunBlocking(std::function<Continuation()> work,
                   Continuation on_cancel) override {
    if (Answer()) loop_.Block(c_, std::move(work), std::move(on_cancel));
  }
  bool Park(std::chrono::milliseconds timeout,
            std::function<bool(HttpExchange&, Wake)> on_wake) override {
    if (answered_) return false;
    if (!loop_.Park(c_, timeout, std::move(on_wake), now_)) return false;
    answered_ = true;
    return true;
  }

 private:
  bool Answer() {
    if (answered_ || c_->closed) return false;
    answered_ = true;
    return true;
  }

  ServerLoop& loop_;
  Conn* c_;
  TimePoint now_;
  bool answered_ = false;
};

namespace {

// Bytes queued in the kernel for the peer of `fd` (sent but not yet
// acknowledged, or not sent), -1 if unknown.
int KernelUnsent(int fd) {
  int queued = 0;
  return ::ioctl(fd, SIOCOUTQ, &queued) == 0 ? queued : -1;
}

// True when the client of `fd` took bytes since `*seen` was recorded (the
// kernel holds fewer for it); records the current count in `*seen`.
bool KernelQueueDrained(int fd, int* seen) {
  const int now = KernelUnsent(fd);
  const bool drained = now >= 0 && *seen >= 0 && now < *seen;
  *seen = now;
  return drained;
}

std::chrono::milliseconds Quarter(std::chrono::milliseconds period) {
  return std::clamp(period / 4, std::chrono::milliseconds(20),
                    std::chrono::milliseconds(1000));
}

constexpr uint32_t kReadEvents = EPOLLIN | EPOLLRDHUP;

// A stream's queue is refilled (opening, catch-up) up to this many bytes:
// what a slow client makes the bridge hold beyond its live batches.
constexpr size_t kLowWater = 64 * 1024;

// Refills per Pump() call before the stream yields to the others.
constexpr int kPumpRounds = 16;

// Pieces a batch may have to be written straight from it (header, frames,
// CRLF); a larger batch goes through the queue.
constexpr size_t kMaxDirectIov = 64;

// What a connection answered for the last time may still send (read and
// dropped, so that our answer is not lost to a reset) before it is cut.
constexpr size_t kMaxLingerBytes = 256 * 1024;

// The target as logged: its path only (the query may hold the stream
// token), escaped.
std::string LoggedTarget(const HttpRequestHead& req) {
  std::string_view target = req.target;
  size_t q = target.find('?');
  std::string out = EscapeForLog(target.substr(0, q));
  if (q != std::string_view::npos) out += "?...";
  return out;
}

const char* ErrorCode(int status) {
  switch (status) {
    case 408:
      return "request_timeout";
    case 413:
      return "content_too_large";
    case 414:
      return "uri_too_long";
    case 431:
      return "header_too_large";
    case 505:
      return "version_not_supported";
    default:
      return "bad_request";
  }
}

}  // namespace

ServerLoop::ServerLoop(EventHub& hub, Metrics& metrics,
                       ServerMetrics& server_metrics, Logger& logger,
                       ServerLogs& logs, Clock& clock, HttpHandler& handler,
                       WorkerPool& blocking, LoopOptions options)
    : hub_(hub),
      metrics_(metrics),
      server_metrics_(server_metrics),
      logger_(logger),
      logs_(logs),
      clock_(clock),
      handler_(handler),
      blocking_(blocking),
      options_(options),
      st_(std::make_unique<State>()) {}

ServerLoop::~ServerLoop() {
  RequestStop(clock_.Now());
  Join();
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

std::chrono::milliseconds ServerLoop::Tick() const {
  return std::min({Quarter(options_.heartbeat), Quarter(options_.head_timeout),
                   Quarter(options_.write_timeout)});
}

Status ServerLoop::Start(int listen_fd) {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd_ < 0 || wake_fd_ < 0) {
    return Status::Unavailable(std::string("cannot create a server loop: ") +
                               std::strerror(errno) +
                               " (raise the open files limit)");
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.ptr = &st_->wake_tag;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
  listen_fd_ = listen_fd;
  if (listen_fd_ >= 0) {
    // Each loop watches the listening socket; EPOLLEXCLUSIVE wakes one of
    // them per connection instead of all (no SO_REUSEPORT needed).
    ev.events = EPOLLIN | EPOLLEXCLUSIVE;
    ev.data.ptr = &st_->listen_tag;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &ev) != 0) {
      return Status::Unavailable(
          std::string("cannot watch the listening socket: ") +
          std::strerror(errno));
    }
    st_->listening = true;
  }
  st_->seq = hub_.last_seq();
  waker_id_ = hub_.AddWaker([this] { Wake(); });
  {
    std::lock_guard<std::mutex> lock(mu_);
    running_ = true;
    taking_posts_ = true;
  }
  accepting_posts_->store(true);
  thread_ = std::thread([this] { Run(); });
  return Status::Ok();
}

void ServerLoop::Wake() {
  uint64_t one = 1;
  // A full counter (never in practice) still leaves the fd readable.
  ssize_t ignored = ::write(wake_fd_, &one, sizeof one);
  (void)ignored;
}

void ServerLoop::Adopt(int fd, std::unique_ptr<StreamSession> session) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (running_) {
      adopted_.emplace_back(fd, std::move(session));
      Wake();
      return;
    }
  }
  metrics_.clients_connected.fetch_sub(1);
  ssize_t ignored = ::send(fd, kLastChunk.data(), kLastChunk.size(),
                           MSG_NOSIGNAL | MSG_DONTWAIT);
  (void)ignored;
  ::close(fd);
}

void ServerLoop::Post(std::function<void()> task) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (taking_posts_) {
      posted_.push_back(std::move(task));
      Wake();
      return;
    }
  }
  // Stopped: `task` is destroyed here, outside the lock.
}

void ServerLoop::RequestStop(TimePoint deadline) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!running_) return;
    running_ = false;
    stop_requested_ = true;
    stop_deadline_ = deadline;
  }
  Wake();
}

void ServerLoop::Join() {
  if (!thread_.joinable()) return;
  thread_.join();
  accepting_posts_->store(false);
  hub_.RemoveWaker(waker_id_);
  std::vector<std::pair<int, std::unique_ptr<StreamSession>>> late;
  std::vector<std::function<void()>> posted;
  {
    std::lock_guard<std::mutex> lock(mu_);
    late.swap(adopted_);
    posted.swap(posted_);
  }
  for (auto& entry : late) {
    metrics_.clients_connected.fetch_sub(1);
    ::close(entry.first);
  }
}

void ServerLoop::Run() {
  State& st = *st_;
  std::vector<epoll_event> ready(1024);
  st.next_tick = clock_.Now() + Tick();
  while (true) {
    auto until_tick = std::chrono::duration_cast<std::chrono::milliseconds>(
        st.next_tick - clock_.Now());
    int timeout = static_cast<int>(
        std::clamp<int64_t>(until_tick.count() + 1, 0, Tick().count() + 1));
    int n = ::epoll_wait(epoll_fd_, ready.data(),
                         static_cast<int>(ready.size()), timeout);
    if (n < 0 && errno != EINTR) {
      logger_.Error(std::string("server loop: epoll_wait: ") +
                    std::strerror(errno));
      n = 0;
    }
    TimePoint now = clock_.Now();
    bool woken = false;
    for (int i = 0; i < n; ++i) {
      const epoll_event& e = ready[static_cast<size_t>(i)];
      if (e.data.ptr == &st.wake_tag) {
        uint64_t count;
        ssize_t ignored = ::read(wake_fd_, &count, sizeof count);
        (void)ignored;
        woken = true;
      } else if (e.data.ptr == &st.listen_tag) {
        Accept(now);
      } else {
        OnEvent(static_cast<Conn*>(e.data.ptr), e.events, now);
      }
    }
    bool stop;
    TimePoint deadline;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop = stop_requested_;
      deadline = stop_deadline_;
    }
    if (stop && !st.stopping) BeginStop(now);
    if (woken) OnWake(now);
    if (now >= st.next_tick) {
      st.next_tick = now + Tick();
      Periodic(now);
      for (Conn* c : st.parked)
        st.next_tick = std::min(st.next_tick, c->park_deadline);
    }
    st.graveyard.clear();
    if (st.stopping && (st.all.empty() || now >= deadline)) break;
    if (st.stopping) st.next_tick = std::min(st.next_tick, deadline);
  }
  accepting_posts_->store(false);
  std::vector<std::function<void()>> dropped;
  {
    std::lock_guard<std::mutex> lock(mu_);
    taking_posts_ = false;
    dropped.swap(posted_);
  }
  dropped.clear();
  while (!st.all.empty()) Close(st.all.back().get());
  st.graveyard.clear();
}

void ServerLoop::OnWake(TimePoint now) {
  State& st = *st_;
  std::vector<std::pair<int, std::unique_ptr<StreamSession>>> adopted;
  std::vector<std::function<void()>> posted;
  {
    std::lock_guard<std::mutex> lock(mu_);
    adopted.swap(adopted_);
    posted.swap(posted_);
  }
  for (auto& [fd, session] : adopted) {
    int flags = ::fcntl(fd, F_GETFL);
    ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    Conn* c = NewConn(fd, now);
    if (!c) {
      metrics_.clients_connected.fetch_sub(1);
      ::close(fd);
      continue;
    }
    UnlistHandshake(c);
    c->holds_slot = true;
    c->phase = Conn::Phase::kStream;
    c->session = std::move(session);
    c->last_write = now;
    c->last_progress = now;
    c->index = st.streams.size();
    st.streams.push_back(c);
    stream_count_.fetch_add(1, std::memory_order_relaxed);
    if (st.hub_ended || st.stopping) {
      End(c, now);
    } else {
      Pump(c, now);  // Events published since the session's snapshot.
    }
  }
  for (auto& task : posted) task();
  posted.clear();
  if (!st.hub_ended && !st.stopping) {
    // What was published before a shutdown goes out before the end.
    Deliver(now);
    if (hub_.IsShutdown()) {
      st.hub_ended = true;
      EndAll(now);
    }
  }
}

// --- Connections -----------------------------------------------------------

ServerLoop::Conn* ServerLoop::NewConn(int fd, TimePoint now) {
  State& st = *st_;
  auto conn = std::make_unique<Conn>();
  Conn* c = conn.get();
  c->fd = fd;
  c->id = st.next_id++;
  c->events = kReadEvents;
  epoll_event ev{};
  ev.events = kReadEvents;
  ev.data.ptr = c;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    logger_.Error(std::string("server loop: cannot watch a connection: ") +
                  std::strerror(errno));
    return nullptr;
  }
  c->slot = st.all.size();
  st.all.push_back(std::move(conn));
  ListHandshake(c, now);
  return c;
}

void ServerLoop::Watch(Conn* c, uint32_t events) {
  if (c->events == events) return;
  c->events = events;
  epoll_event ev{};
  ev.events = events;
  ev.data.ptr = c;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, c->fd, &ev);
}

void ServerLoop::ListHandshake(Conn* c, TimePoint now) {
  State& st = *st_;
  if (c->listed) UnlistHandshake(c);
  c->since = now;
  c->last_progress = now;
  c->listed = true;
  c->prev = st.newest;
  c->next = nullptr;
  if (st.newest) st.newest->next = c;
  st.newest = c;
  if (!st.oldest) st.oldest = c;
  handshake_count_.fetch_add(1, std::memory_order_relaxed);
  server_metrics_.handshakes.fetch_add(1, std::memory_order_relaxed);
}

void ServerLoop::UnlistHandshake(Conn* c) {
  if (!c->listed) return;
  State& st = *st_;
  if (c->prev)
    c->prev->next = c->next;
  else
    st.oldest = c->next;
  if (c->next)
    c->next->prev = c->prev;
  else
    st.newest = c->prev;
  c->prev = c->next = nullptr;
  c->listed = false;
  handshake_count_.fetch_sub(1, std::memory_order_relaxed);
  server_metrics_.handshakes.fetch_sub(1, std::memory_order_relaxed);
}

void ServerLoop::EvictOldest(TimePoint now) {
  Conn* c = st_->oldest;
  if (!c) return;
  server_metrics_.handshakes_evicted.fetch_add(1, std::memory_order_relaxed);
  logs_.evictions.Log(
      "connection closed to make room: " +
      std::to_string(options_.max_handshakes) +
      " connections already in their handshake (--max-handshakes); the "
      "oldest goes first");
  if (c->phase == Conn::Phase::kWaiting &&
      ((c->parser && c->parser->head_bytes() > 0) ||
       c->input_off < c->input.size())) {
    // Halfway through a head: say why before closing.
    std::string head = EncodeResponseHead(
        408, {{"Content-Type", "application/json"}, {"Connection", "close"}});
    std::string body = ErrorToJson("request_timeout",
                                   "too many connections in their handshake; "
                                   "send the request at once") +
                       "\n";
    head.insert(head.size() - 2,
                "Content-Length: " + std::to_string(body.size()) + "\r\n");
    std::string all = head + body;
    ssize_t ignored =
        ::send(c->fd, all.data(), all.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    (void)ignored;
  }
  (void)now;
  Close(c);
}

void ServerLoop::Close(Conn* c) {
  if (c->closed) return;
  State& st = *st_;
  c->closed = true;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, c->fd, nullptr);
  // Counted before the close: a client that sees its stream end, or a
  // caller that sees streams() drop, also sees the gauge updated.
  if (c->holds_slot) metrics_.clients_connected.fetch_sub(1);
  Account(c);  // Closed: its queue no longer counts.
  UnlistHandshake(c);
  if (c->phase == Conn::Phase::kStream) {
    Conn* last = st.streams.back();
    st.streams[c->index] = last;
    last->index = c->index;
    st.streams.pop_back();
    stream_count_.fetch_sub(1, std::memory_order_release);
  } else if (c->phase == Conn::Phase::kParked) {
    st.parked.erase(std::find(st.parked.begin(), st.parked.end(), c));
    server_metrics_.parked.fetch_sub(1, std::memory_order_relaxed);
    server_metrics_.waiting.fetch_sub(1, std::memory_order_relaxed);
  } else if (c->phase == Conn::Phase::kBlocked) {
    st.blocked.erase(c->id);
    server_metrics_.waiting.fetch_sub(1, std::memory_order_relaxed);
  }
  ::close(c->fd);
  // Freed at the end of the round: pointers to it may still be in use.
  size_t slot = c->slot;
  std::unique_ptr<Conn> owned = std::move(st.all[slot]);
  if (slot + 1 != st.all.size()) {
    st.all[slot] = std::move(st.all.back());
    st.all[slot]->slot = slot;
  }
  st.all.pop_back();
  st.graveyard.push_back(std::move(owned));
}

std::string ServerLoop::Peer(const Conn* c) const {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getpeername(c->fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return "";
  }
  char text[INET6_ADDRSTRLEN] = "";
  if (addr.ss_family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&addr);
    ::inet_ntop(AF_INET, &a->sin_addr, text, sizeof text);
  } else if (addr.ss_family == AF_INET6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&addr);
    ::inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text);
  }
  return text;
}

// --- Accepting ---------------------------------------------------------------

void ServerLoop::PauseAccept(TimePoint now, int err) {
  State& st = *st_;
  if (err == EMFILE || err == ENFILE) {
    server_metrics_.fd_exhausted.fetch_add(1, std::memory_order_relaxed);
  }
  logs_.accept_errors.Log(
      std::string("cannot accept connections: ") + std::strerror(err) +
      (err == EMFILE || err == ENFILE
           ? " (out of file descriptors: raise the open files limit, or lower "
             "--max-clients/--max-handshakes)"
           : "") +
      "; accepting again in 100 ms");
  // The listening socket stays readable while connections wait: stop
  // watching it for a while instead of spinning on accept().
  if (st.listening) {
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
    st.listening = false;
  }
  st.accept_resume = now + std::chrono::milliseconds(100);
}

void ServerLoop::Accept(TimePoint now) {
  State& st = *st_;
  // A bounded number per wake-up: the streams and requests of this loop
  // must not wait behind a connection storm.
  for (int i = 0; i < 64 && st.listening && !st.stopping; ++i) {
    int fd =
        ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      int err = errno;
      if (err == EAGAIN || err == EWOULDBLOCK) return;
      if (err == EINTR || err == ECONNABORTED || err == EPROTO) continue;
      if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
        PauseAccept(now, err);
        return;
      }
      logs_.accept_errors.Log(std::string("accept: ") + std::strerror(err));
      return;
    }
    int yes = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof yes);
    // The cap is the server's, over all loops; the oldest of this loop's
    // own handshakes makes room (none here: admitted, this loop has one).
    if (server_metrics_.handshakes.load(std::memory_order_relaxed) >=
        static_cast<int64_t>(options_.max_handshakes)) {
      EvictOldest(now);
    }
    Conn* c = NewConn(fd, now);
    if (!c) {
      ::close(fd);
      continue;
    }
    // The request usually arrived with the connection: read it now rather
    // than after another round of epoll.
    OnReadable(c, now);
  }
}

// --- Requests ----------------------------------------------------------------

void ServerLoop::OnEvent(Conn* c, uint32_t events, TimePoint now) {
  if (c->closed) return;
  switch (c->phase) {
    case Conn::Phase::kStream:
      if ((events & (EPOLLERR | EPOLLHUP)) ||
          ((events & (EPOLLIN | EPOLLRDHUP)) && !DrainStreamInput(c))) {
        Close(c);
        return;
      }
      if (events & EPOLLOUT) Pump(c, now);
      return;
    case Conn::Phase::kBlocked:
    case Conn::Phase::kParked:
      // Only a close by the client is watched.
      if (events & (EPOLLERR | EPOLLHUP | EPOLLRDHUP)) Close(c);
      return;
    case Conn::Phase::kResponding:
      if (events & (EPOLLERR | EPOLLHUP)) {
        Close(c);
        return;
      }
      if (events & EPOLLOUT) OnWritable(c, now);
      return;
    case Conn::Phase::kWaiting:
    case Conn::Phase::kLingering:
      if (events & EPOLLERR) {
        Close(c);
        return;
      }
      OnReadable(c, now);
      return;
    case Conn::Phase::kHandling:
      return;
  }
}

void ServerLoop::OnReadable(Conn* c, TimePoint now) {
  State& st = *st_;
  // A few reads per event: a client that keeps sending cannot hold the loop.
  for (int i = 0; i < 4 && !c->closed; ++i) {
    if (c->phase != Conn::Phase::kWaiting &&
        c->phase != Conn::Phase::kLingering) {
      return;
    }
    ssize_t n = ::recv(c->fd, st.scratch.data(), st.scratch.size(), 0);
    if (n == 0) {
      Close(c);
      return;
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) Close(c);
      return;
    }
    if (c->phase == Conn::Phase::kLingering) {
      // Dropped, up to a bound: a client that keeps sending is cut.
      c->drained += static_cast<size_t>(n);
      if (c->drained > kMaxLingerBytes) {
        Close(c);
        return;
      }
      continue;
    }
    c->input.append(st.scratch.data(), static_cast<size_t>(n));
    Consume(c, now);
    if (static_cast<size_t>(n) < st.scratch.size()) return;
  }
}

void ServerLoop::Consume(Conn* c, TimePoint now) {
  while (!c->closed && c->phase == Conn::Phase::kWaiting &&
         c->input_off < c->input.size()) {
    std::string_view data = std::string_view(c->input).substr(c->input_off);
    if (c->discard > 0) {
      size_t take =
          static_cast<size_t>(std::min<uint64_t>(c->discard, data.size()));
      c->discard -= take;
      c->input_off += take;
      continue;
    }
    if (!c->parser)
      c->parser = std::make_unique<HttpRequestParser>(options_.limits);
    c->input_off += c->parser->Feed(data);
    switch (c->parser->state()) {
      case HttpRequestParser::State::kNeedMore:
        break;
      case HttpRequestParser::State::kError:
        Refuse(c, c->parser->error_status(), c->parser->error_message(), now);
        break;
      case HttpRequestParser::State::kDone:
        OnRequest(c, now);
        break;
    }
  }
  if (c->closed) return;
  if (c->input_off >= c->input.size()) {
    c->input.clear();
    c->input_off = 0;
    if (c->input.capacity() > 4096) std::string().swap(c->input);
  }
}

void ServerLoop::Refuse(Conn* c, int status, std::string message,
                        TimePoint now) {
  // `message` is a copy: it may come from the parser reset below.
  server_metrics_.CountRefused(status);
  if (logs_.bad_requests.Enabled()) {
    logs_.bad_requests.Log("request refused (" + std::to_string(status) +
                           ") from " + Peer(c) + ": " + message);
  }
  c->keep_alive = false;
  c->parser.reset();
  c->phase = Conn::Phase::kHandling;
  HttpReply r = HttpReply::Text(status, "application/json",
                                ErrorToJson(ErrorCode(status), message) + "\n");
  r.close = true;
  Respond(c, std::move(r), now);
}

void ServerLoop::OnRequest(Conn* c, TimePoint now) {
  server_metrics_.requests.fetch_add(1, std::memory_order_relaxed);
  c->request = std::make_unique<HttpRequestHead>(c->parser->TakeHead());
  c->parser->Reset();
  HttpRequestHead& req = *c->request;
  c->keep_alive = req.keep_alive;
  if (req.body == HttpRequestHead::Body::kChunked) {
    // No route takes a body, and a chunked one is not worth decoding to
    // drop it: the connection ends after the answer.
    c->keep_alive = false;
  } else if (req.body == HttpRequestHead::Body::kLength &&
             req.content_length > 0) {
    if (req.content_length <= options_.max_discarded_body) {
      c->discard = req.content_length;
    } else {
      c->keep_alive = false;
    }
  }
  c->phase = Conn::Phase::kHandling;
  Handle(
      c, [this](HttpExchange& ex) { handler_.Handle(ex); }, now);
}

void ServerLoop::Handle(Conn* c, const std::function<void(HttpExchange&)>& fn,
                        TimePoint now) {
  Exchange ex(*this, c, now);
  fn(ex);
  if (!ex.answered() && !c->closed) {
    logger_.Error("server loop: a route returned without answering");
    Respond(c,
            HttpReply::Text(500, "application/json",
                            ErrorToJson("internal", "no answer") + "\n"),
            now);
  }
}

void ServerLoop::Respond(Conn* c, HttpReply response, TimePoint now) {
  State& st = *st_;
  const HttpRequestHead* req = c->request.get();
  bool close =
      response.close || response.stream_head || !c->keep_alive || st.stopping;
  HeaderFields& fields = response.fields;
  size_t length = response.body ? response.body->size() : 0;
  if (response.stream_head) {
    if (!req || req->minor_version > 0) {
      fields.emplace_back("Transfer-Encoding", "chunked");
    }
  } else if (response.status != 204 && response.status != 304) {
    fields.emplace_back("Content-Length", std::to_string(length));
  }
  if (close) {
    fields.emplace_back("Connection", "close");
  } else if (req && req->minor_version == 0) {
    fields.emplace_back("Connection", "keep-alive");
  }
  c->keep_alive = !close;
  c->status = response.status;
  if (logger_.Enabled(LogLevel::kDebug) && req) {
    logger_.Debug("http " + req->method + " " + LoggedTarget(*req) + " " +
                  std::to_string(response.status) + " from " + Peer(c));
  }
  c->out.AppendOwned(EncodeResponseHead(response.status, fields));
  bool head_only = req && req->method == "HEAD";
  if (!head_only && response.body)
    c->out.AppendShared(std::move(response.body));
  c->request.reset();
  c->phase = Conn::Phase::kResponding;
  c->last_progress = now;
  switch (c->out.WriteTo(c->fd)) {
    case OutputQueue::Write::kDone:
      AfterAnswer(c, now);
      return;
    case OutputQueue::Write::kBlocked:
      if (!c->listed) ListHandshake(c, now);
      Watch(c, EPOLLOUT);
      return;
    case OutputQueue::Write::kClosed:
      Close(c);
      return;
  }
}

void ServerLoop::OnWritable(Conn* c, TimePoint now) {
  size_t written = 0;
  switch (c->out.WriteTo(c->fd, &written)) {
    case OutputQueue::Write::kDone:
      c->out.Shrink();
      AfterAnswer(c, now);
      Consume(c, now);
      return;
    case OutputQueue::Write::kBlocked:
      if (written > 0) c->last_progress = now;
      return;
    case OutputQueue::Write::kClosed:
      Close(c);
      return;
  }
}

void ServerLoop::AfterAnswer(Conn* c, TimePoint now) {
  if (!c->keep_alive) {
    Linger(c, now);
    return;
  }
  c->phase = Conn::Phase::kWaiting;
  ListHandshake(c, now);  // To the back: its head deadline starts now.
  Watch(c, kReadEvents);
}

void ServerLoop::Linger(Conn* c, TimePoint now) {
  // Closing with unread bytes would send a reset that can destroy the
  // answer before the client reads it: half-close, drop what still comes
  // for a moment, then close.
  ::shutdown(c->fd, SHUT_WR);
  c->phase = Conn::Phase::kLingering;
  c->input.clear();
  c->input_off = 0;
  c->parser.reset();
  if (st_->stopping) {
    Close(c);
    return;
  }
  ListHandshake(c, now);
  Watch(c, kReadEvents);
}

// --- Later answers -----------------------------------------------------------

void ServerLoop::Block(Conn* c,
                       std::function<HttpExchange::Continuation()> work,
                       HttpExchange::Continuation on_cancel) {
  State& st = *st_;
  UnlistHandshake(c);
  c->phase = Conn::Phase::kBlocked;
  c->on_cancel = std::move(on_cancel);
  st.blocked[c->id] = c;
  server_metrics_.waiting.fetch_add(1, std::memory_order_relaxed);
  Watch(c, EPOLLRDHUP);
  uint64_t id = c->id;
  std::shared_ptr<std::atomic<bool>> open = accepting_posts_;
  blocking_.Submit([this, id, open, work = std::move(work)] {
    // Queued work for a loop that stopped meanwhile is skipped.
    if (!open->load()) return;
    HttpExchange::Continuation next = work();
    if (!open->load()) return;
    Post([this, id, next = std::move(next)]() mutable {
      Unblock(id, std::move(next));
    });
  });
}

void ServerLoop::Unblock(uint64_t id, HttpExchange::Continuation next) {
  State& st = *st_;
  auto it = st.blocked.find(id);
  if (it == st.blocked.end()) return;  // The client left meanwhile.
  Conn* c = it->second;
  st.blocked.erase(it);
  server_metrics_.waiting.fetch_sub(1, std::memory_order_relaxed);
  c->on_cancel = nullptr;
  c->phase = Conn::Phase::kHandling;
  Watch(c, kReadEvents);
  TimePoint now = clock_.Now();
  Handle(c, next, now);
  Consume(c, now);  // Requests pipelined behind it.
}

bool ServerLoop::Park(
    Conn* c, std::chrono::milliseconds timeout,
    std::function<bool(HttpExchange&, HttpExchange::Wake)> on_wake,
    TimePoint now) {
  State& st = *st_;
  // The cap is the server's, over all loops (connections are not spread
  // evenly between them).
  if (server_metrics_.parked.load(std::memory_order_relaxed) >=
          static_cast<int64_t>(options_.max_parked) ||
      st.stopping) {
    return false;
  }
  UnlistHandshake(c);
  c->phase = Conn::Phase::kParked;
  c->on_wake = std::move(on_wake);
  c->park_deadline = now + timeout;
  st.next_tick = std::min(st.next_tick, c->park_deadline);
  st.parked.push_back(c);
  server_metrics_.parked.fetch_add(1, std::memory_order_relaxed);
  server_metrics_.waiting.fetch_add(1, std::memory_order_relaxed);
  Watch(c, EPOLLRDHUP);
  return true;
}

void ServerLoop::WakeParked(Conn* c, HttpExchange::Wake why, TimePoint now) {
  State& st = *st_;
  if (c->closed || c->phase != Conn::Phase::kParked) return;
  st.parked.erase(std::find(st.parked.begin(), st.parked.end(), c));
  server_metrics_.parked.fetch_sub(1, std::memory_order_relaxed);
  server_metrics_.waiting.fetch_sub(1, std::memory_order_relaxed);
  c->phase = Conn::Phase::kHandling;
  auto fn = std::move(c->on_wake);
  Exchange ex(*this, c, now);
  fn(ex, why);
  if (c->closed) return;
  if (ex.answered()) {
    Consume(c, now);  // Requests pipelined behind it.
    return;
  }
  if (why == HttpExchange::Wake::kPublished) {
    // Not for this one: back to waiting, same deadline.
    c->phase = Conn::Phase::kParked;
    c->on_wake = std::move(fn);
    st.parked.push_back(c);
    server_metrics_.parked.fetch_add(1, std::memory_order_relaxed);
    server_metrics_.waiting.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  Respond(
      c,
      HttpReply::Text(503, "application/json",
                      ErrorToJson("unavailable", "no answer in time") + "\n"),
      now);
}

// --- Streams -----------------------------------------------------------------

void ServerLoop::StartStream(Conn* c, HeaderFields fields,
                             std::unique_ptr<StreamSession> session,
                             TimePoint now) {
  State& st = *st_;
  const bool http10 = c->request && c->request->minor_version == 0;
  c->chunked = !http10;
  fields.emplace_back("Content-Type", "text/event-stream");
  if (c->chunked) fields.emplace_back("Transfer-Encoding", "chunked");
  fields.emplace_back("Connection", "close");
  if (logger_.Enabled(LogLevel::kDebug) && c->request) {
    logger_.Debug("http " + c->request->method + " " +
                  LoggedTarget(*c->request) + " 200 (stream) from " + Peer(c));
  }
  c->status = 200;
  c->request.reset();
  c->parser.reset();
  std::string().swap(c->input);
  c->input_off = 0;
  UnlistHandshake(c);
  c->phase = Conn::Phase::kStream;
  c->session = std::move(session);
  c->index = st.streams.size();
  st.streams.push_back(c);
  stream_count_.fetch_add(1, std::memory_order_relaxed);
  c->last_write = now;
  c->last_progress = now;
  Watch(c, kReadEvents);
  if (options_.stream_send_buffer > 0) {
    // Bounds what the kernel keeps for a client that stops reading.
    int size = static_cast<int>(options_.stream_send_buffer);
    ::setsockopt(c->fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  }

  c->out.AppendOwned(EncodeResponseHead(200, fields));
  if (c->session->ended() || st.hub_ended || st.stopping) {
    // The opening (preamble, comment), then the end.
    st.output.Clear();
    uint64_t before = c->session->notifications_sent();
    c->session->Produce(kLowWater, &st.output);
    Enqueue(c, &st.output, c->session->notifications_sent() - before, now);
    End(c, now);
    return;
  }
  // The head, the opening and what was published since the snapshot, as
  // the socket takes them.
  Pump(c, now);
}

void ServerLoop::Deliver(TimePoint now) {
  State& st = *st_;
  st.events.clear();
  EventHub::WaitStatus status =
      hub_.ReadAfter(st.seq, std::numeric_limits<size_t>::max(), &st.events);
  if (status == EventHub::WaitStatus::kTimeout) return;
  const uint64_t from = st.seq;
  // Backwards: a stream closed on the way is swapped with one already done.
  for (size_t i = st.streams.size(); i-- > 0;) {
    if (i >= st.streams.size()) continue;
    Conn* c = st.streams[i];
    if (c->ending) continue;
    if (status == EventHub::WaitStatus::kEvents && c->session->opening_done() &&
        c->session->seq() == from) {
      // The common case: one read of the hub serves every stream, and each
      // gets the batch's frames as one chunk, shared, even when its client
      // is slow (then the bound below decides).
      st.output.Clear();
      uint64_t before = c->session->notifications_sent();
      c->session->Advance(st.events, &st.output);
      uint64_t events = c->session->notifications_sent() - before;
      if (c->out.empty() && !(c->events & EPOLLOUT)) {
        // Nothing waiting: straight from the batch to the socket, one
        // sendmsg, no copy and no reference taken unless it falls short.
        WriteDirect(c, &st.output, events, now);
        continue;
      }
      if (!Enqueue(c, &st.output, events, now)) continue;
      if (!(c->events & EPOLLOUT)) Pump(c, now);
    } else if (!(c->events & EPOLLOUT)) {
      // Behind (opening, catch-up): it reads the hub itself, as far as its
      // socket takes.
      Pump(c, now);
    }
  }
  if (!st.events.empty()) {
    st.seq = st.events.back()->seq;
  } else {
    st.seq = hub_.last_seq();
  }
  if (!st.parked.empty()) {
    std::vector<Conn*> parked = st.parked;
    for (Conn* c : parked) WakeParked(c, HttpExchange::Wake::kPublished, now);
  }
}

void ServerLoop::WriteDirect(Conn* c, SseOutput* output, uint64_t events,
                             TimePoint now) {
  if (output->empty()) return;
  std::vector<SseOutput::Piece>& pieces = output->pieces();
  if (pieces.size() + 2 > kMaxDirectIov) {
    if (Enqueue(c, output, events, now)) Pump(c, now);
    return;
  }
  const size_t bytes = output->bytes();
  metrics_.events_sent.fetch_add(events, std::memory_order_relaxed);
  metrics_.bytes_sent.fetch_add(bytes, std::memory_order_relaxed);
  c->last_write = now;
  std::string header = c->chunked ? ChunkHeader(bytes) : std::string();
  iovec iov[kMaxDirectIov];
  size_t n = 0;
  auto add = [&iov, &n](std::string_view v) {
    iov[n].iov_base = const_cast<char*>(v.data());
    iov[n].iov_len = v.size();
    ++n;
  };
  if (c->chunked) add(header);
  for (const SseOutput::Piece& piece : pieces) add(piece.view());
  if (c->chunked) add(kChunkEnd);
  msghdr msg{};
  msg.msg_iov = iov;
  msg.msg_iovlen = n;
  ssize_t sent;
  do {
    sent = ::sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
  } while (sent < 0 && errno == EINTR);
  if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
    output->Clear();
    Close(c);
    return;
  }
  size_t done = sent > 0 ? static_cast<size_t>(sent) : 0;
  if (done > 0) c->last_progress = now;
  size_t total = bytes + (c->chunked ? header.size() + kChunkEnd.size() : 0);
  if (done == total) {
    output->Clear();
    return;
  }
  // The socket is full: what it did not take waits in the queue (shared
  // frames referenced now), and EPOLLOUT resumes the stream.
  size_t skip = done;
  auto keep = [&](std::string_view v, const HubEventPtr& owner,
                  std::string* own) {
    if (skip >= v.size()) {
      skip -= v.size();
      return;
    }
    if (skip > 0 || !owner) {
      c->out.AppendOwned(std::string(v.substr(skip)));
    } else if (own) {
      c->out.AppendOwned(std::move(*own));
    } else {
      c->out.AppendShared(
          std::shared_ptr<const std::string>(owner, &owner->frame));
    }
    skip = 0;
  };
  if (c->chunked) keep(header, nullptr, nullptr);
  for (SseOutput::Piece& piece : pieces) {
    HubEventPtr owner = piece.owner();
    keep(piece.view(), owner, owner ? nullptr : &piece.bytes);
  }
  if (c->chunked) keep(kChunkEnd, nullptr, nullptr);
  output->Clear();
  Account(c);
  Watch(c, kReadEvents | EPOLLOUT);
}

bool ServerLoop::Enqueue(Conn* c, SseOutput* output, uint64_t events,
                         TimePoint now) {
  if (output->empty()) return true;
  State& st = *st_;
  const size_t bytes = output->bytes();
  metrics_.events_sent.fetch_add(events, std::memory_order_relaxed);
  metrics_.bytes_sent.fetch_add(bytes, std::memory_order_relaxed);
  const bool had_unsent = !c->out.empty();
  if (c->chunked) c->out.AppendOwned(ChunkHeader(bytes));
  for (SseOutput::Piece& piece : output->pieces()) {
    if (HubEventPtr event = piece.owner()) {
      // Aliasing: the queue keeps the event alive and points at its frame.
      c->out.AppendShared(
          std::shared_ptr<const std::string>(event, &event->frame));
    } else {
      c->out.AppendOwned(std::move(piece.bytes));
    }
  }
  if (c->chunked) c->out.AppendShared(st.chunk_end);
  output->Clear();
  c->last_write = now;
  Account(c);
  if (had_unsent && c->out.bytes() > options_.max_pending_bytes) {
    // The bound holds whatever put the bytes there (replay, catch-up, live
    // batches): the client resumes with Last-Event-ID.
    server_metrics_.streams_cut_slow.fetch_add(1, std::memory_order_relaxed);
    logs_.cut_streams.Log("stream cut: its client is " +
                          std::to_string(c->out.bytes()) +
                          " bytes behind; it will resume with Last-Event-ID");
    Close(c);
    return false;
  }
  return true;
}

void ServerLoop::Account(Conn* c) {
  size_t now_unsent = c->closed ? 0 : c->out.bytes();
  if (now_unsent == c->accounted) return;
  server_metrics_.unsent.fetch_add(
      static_cast<int64_t>(now_unsent) - static_cast<int64_t>(c->accounted),
      std::memory_order_relaxed);
  c->accounted = now_unsent;
}

bool ServerLoop::Fill(Conn* c, TimePoint now) {
  State& st = *st_;
  StreamSession& s = *c->session;
  while (!c->closed && !c->ending && c->out.bytes() < kLowWater) {
    st.output.Clear();
    uint64_t before = s.notifications_sent();
    if (!s.opening_done()) {
      s.Produce(kLowWater - c->out.bytes(), &st.output);
      if (!Enqueue(c, &st.output, s.notifications_sent() - before, now))
        return false;
      continue;
    }
    st.catch_up.clear();
    EventHub::WaitStatus status =
        hub_.ReadAfter(s.seq(), options_.max_batch, &st.catch_up);
    if (status == EventHub::WaitStatus::kTimeout) return false;  // In step.
    if (status != EventHub::WaitStatus::kEvents) {
      // Lagged behind the history, or shutting down: the last chunk after
      // what is queued; the client resumes with Last-Event-ID.
      End(c, now);
      return false;
    }
    s.Advance(st.catch_up, &st.output);
    if (!Enqueue(c, &st.output, s.notifications_sent() - before, now))
      return false;
  }
  return !c->closed && !c->ending;
}

void ServerLoop::Pump(Conn* c, TimePoint now) {
  for (int round = 0; round < kPumpRounds; ++round) {
    bool more = c->ending ? false : Fill(c, now);
    if (c->closed) return;
    size_t written = 0;
    OutputQueue::Write result = c->out.WriteTo(c->fd, &written);
    if (written > 0) c->last_progress = now;
    Account(c);
    switch (result) {
      case OutputQueue::Write::kClosed:
        Close(c);
        return;
      case OutputQueue::Write::kBlocked:
        Watch(c, kReadEvents | EPOLLOUT);
        return;
      case OutputQueue::Write::kDone:
        break;
    }
    if (c->ending) {
      Close(c);  // Everything, the last chunk included, is out.
      return;
    }
    if (!more) {
      // A client that caught up after a burst does not keep its memory.
      c->out.Shrink();
      Watch(c, kReadEvents);
      return;
    }
  }
  // More to write than a fair share of this round: EPOLLOUT comes back.
  Watch(c, kReadEvents | EPOLLOUT);
}

bool ServerLoop::DrainStreamInput(Conn* c) {
  // Stream clients send nothing after their request: anything is read and
  // dropped; end of file or an error means the client is gone.
  char buf[4096];
  for (int i = 0; i < 16; ++i) {
    ssize_t n = ::recv(c->fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) continue;
    if (n == 0) return false;
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
  }
  return true;
}

void ServerLoop::End(Conn* c, TimePoint now) {
  if (c->ending) return;
  c->ending = true;
  if (c->chunked) c->out.AppendShared(st_->last_chunk);
  if (c->events & EPOLLOUT) return;  // Written when the socket takes it.
  Pump(c, now);
}

void ServerLoop::EndAll(TimePoint now) {
  State& st = *st_;
  for (size_t i = st.streams.size(); i-- > 0;) {
    if (i >= st.streams.size()) continue;
    Conn* c = st.streams[i];
    if (!c->ending) End(c, now);
  }
}

void ServerLoop::BeginStop(TimePoint now) {
  State& st = *st_;
  st.stopping = true;
  if (st.listening) {
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
    st.listening = false;
  }
  EndAll(now);
  // Requests waiting for the pool or the hub are answered now.
  std::vector<Conn*> blocked;
  for (auto& entry : st.blocked) blocked.push_back(entry.second);
  for (Conn* c : blocked) {
    st.blocked.erase(c->id);
    server_metrics_.waiting.fetch_sub(1, std::memory_order_relaxed);
    c->phase = Conn::Phase::kHandling;
    HttpExchange::Continuation cancel = std::move(c->on_cancel);
    if (cancel) {
      Handle(c, cancel, now);
    } else {
      Close(c);
    }
  }
  std::vector<Conn*> parked = st.parked;
  for (Conn* c : parked) WakeParked(c, HttpExchange::Wake::kShutdown, now);
  // Connections between requests close now; answers being written finish
  // (or not) by the deadline.
  for (Conn* c = st.oldest; c;) {
    Conn* next = c->next;
    if (c->phase != Conn::Phase::kResponding) Close(c);
    c = next;
  }
}

void ServerLoop::Periodic(TimePoint now) {
  State& st = *st_;
  logs_.Flush();
  if (!st.listening && !st.stopping && listen_fd_ >= 0 &&
      now >= st.accept_resume) {
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLEXCLUSIVE;
    ev.data.ptr = &st.listen_tag;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &ev) == 0) {
      st.listening = true;
    }
  }
  // Handshakes: head deadlines, stalled answers, lingering closes.
  for (Conn* c = st.oldest; c;) {
    Conn* next = c->next;
    switch (c->phase) {
      case Conn::Phase::kWaiting:
        if (now - c->since >= options_.head_timeout) {
          bool started = (c->parser && c->parser->head_bytes() > 0) ||
                         c->input_off < c->input.size() || c->discard > 0;
          if (started) {
            Refuse(c, 408,
                   "no complete request head within " +
                       std::to_string(options_.head_timeout.count()) + " ms",
                   now);
          } else {
            Close(c);  // Idle keep-alive connection: nothing to say.
          }
        }
        break;
      case Conn::Phase::kResponding:
        if (KernelQueueDrained(c->fd, &c->kernel_unsent)) {
          c->last_progress = now;
        }
        if (now - c->last_progress >= options_.write_timeout) Close(c);
        break;
      case Conn::Phase::kLingering:
        if (now - c->since >=
            std::min(options_.linger, options_.head_timeout)) {
          Close(c);
        }
        break;
      default:
        break;
    }
    c = next;
  }
  if (!st.parked.empty()) {
    std::vector<Conn*> parked = st.parked;
    for (Conn* c : parked) {
      if (now >= c->park_deadline)
        WakeParked(c, HttpExchange::Wake::kTimeout, now);
    }
  }
  // Streams: write timeouts and heartbeats.
  std::vector<Conn*> cut;
  std::vector<Conn*> quiet;
  for (Conn* c : st.streams) {
    if (!c->out.empty() || (c->events & EPOLLOUT)) {
      // Writability is only reported once a third of the send buffer is
      // free: a client reading slowly but steadily shows its progress in
      // the kernel's queue first.
      if (KernelQueueDrained(c->fd, &c->kernel_unsent)) c->last_progress = now;
      if (now - c->last_progress >= options_.write_timeout) cut.push_back(c);
    } else if (!c->ending && now - c->last_write >= options_.heartbeat) {
      quiet.push_back(c);
    }
  }
  for (Conn* c : cut) {
    server_metrics_.streams_cut_stalled.fetch_add(1, std::memory_order_relaxed);
    logs_.cut_streams.Log("stream cut: its client took no bytes for " +
                          std::to_string(options_.write_timeout.count()) +
                          " ms");
    Close(c);
  }
  for (Conn* c : quiet) {
    // A heartbeat is not an event: it counts in bytes only.
    if (c->closed) continue;
    metrics_.bytes_sent.fetch_add(st.keep_alive->size(),
                                  std::memory_order_relaxed);
    if (c->chunked) c->out.AppendOwned(ChunkHeader(st.keep_alive->size()));
    c->out.AppendShared(st.keep_alive);
    if (c->chunked) c->out.AppendShared(st.chunk_end);
    c->last_write = now;
    Pump(c, now);
  }
}

}  // namespace notifications

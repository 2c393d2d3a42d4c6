#include "stream_fanout.h"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>

#include "http_framing.h"
#include "sse_encoder.h"

namespace notifications {

// One event loop: a thread, its epoll set and the streams it owns.
class StreamFanout::Loop {
 public:
  Loop(EventHub& hub, Metrics& metrics, Logger& logger,
       const FanoutOptions& options);
  ~Loop();
  Loop(const Loop&) = delete;
  Loop& operator=(const Loop&) = delete;

  Status Start();
  void Adopt(int fd, std::unique_ptr<StreamSession> session);
  // Stop in two steps, so that every loop ends its streams at once.
  void RequestStop(std::chrono::steady_clock::time_point deadline);
  void Join();
  size_t streams() const {
    return stream_count_.load(std::memory_order_acquire);
  }

 private:
  struct Stream;
  struct LoopState;
  using Clock = std::chrono::steady_clock;

  void Run();
  void Wake();
  void TakeAdopted(Clock::time_point now);
  void Deliver(Clock::time_point now);
  void CatchUp(Stream& s, Clock::time_point now);
  // Writes `body` as one chunk (or queues it). False when the stream was
  // closed (it is then gone: `s` must not be used again).
  bool Send(Stream& s, const std::string& body, uint64_t events,
            Clock::time_point now);
  void End(Stream& s, Clock::time_point now);
  void EndAll(Clock::time_point now);
  void Periodic(Clock::time_point now);
  bool Flush(Stream& s, Clock::time_point now);
  bool DrainInput(Stream& s);
  void Watch(Stream& s, bool want_out);
  void Close(int fd);
  void CloseAdoptedFd(int fd);

  EventHub& hub_;
  Metrics& metrics_;
  Logger& logger_;
  const FanoutOptions options_;
  const std::chrono::milliseconds tick_;

  int epoll_fd_ = -1;
  int wake_fd_ = -1;
  int waker_id_ = 0;
  std::thread thread_;
  std::atomic<size_t> stream_count_{0};

  std::mutex mu_;
  // guarded by mu_:
  std::vector<std::pair<int, std::unique_ptr<StreamSession>>> adopted_;
  bool running_ = false;  // Start() done, RequestStop() not yet called.
  bool stop_requested_ = false;
  Clock::time_point stop_deadline_;

  // Owned by the loop's thread.
  std::unique_ptr<LoopState> loop_;
};

struct StreamFanout::Loop::Stream {
  int fd = -1;
  std::unique_ptr<StreamSession> session;
  // Bytes the client has not taken yet, from pending_off on.
  std::string pending;
  size_t pending_off = 0;
  bool watching_out = false;
  // The last chunk is queued: close once `pending` is written.
  bool ending = false;
  Clock::time_point last_write;     // For heartbeats.
  Clock::time_point last_progress;  // For the write timeout.

  size_t waiting() const { return pending.size() - pending_off; }
};

struct StreamFanout::Loop::LoopState {
  std::unordered_map<int, std::unique_ptr<Stream>> streams;
  // Seq up to which every stream not behind has been given its events.
  uint64_t seq = 0;
  bool ending = false;  // The hub shut down or Stop() was called.
  Clock::time_point next_tick;
  // Scratch buffers reused across streams, to keep allocation out of the
  // per-stream path.
  std::string body;
  std::string frame;
  std::vector<HubEventPtr> events;
  const std::string keep_alive = EncodeSseComment("keep-alive");

  // The open streams' sockets, for walks that may close (erase) streams.
  std::vector<int> Fds() const {
    std::vector<int> fds;
    fds.reserve(streams.size());
    for (const auto& entry : streams) fds.push_back(entry.first);
    return fds;
  }
};

namespace {

std::chrono::milliseconds TickFor(std::chrono::milliseconds heartbeat) {
  // Heartbeats and write timeouts are checked this often: late by at most
  // a quarter of the period, at a few wake-ups per second when idle.
  return std::clamp(heartbeat / 4, std::chrono::milliseconds(20),
                    std::chrono::milliseconds(1000));
}

}  // namespace

StreamFanout::Loop::Loop(EventHub& hub, Metrics& metrics, Logger& logger,
                         const FanoutOptions& options)
    : hub_(hub),
      metrics_(metrics),
      logger_(logger),
      options_(options),
      tick_(TickFor(options.heartbeat)),
      loop_(std::make_unique<LoopState>()) {}

StreamFanout::Loop::~Loop() {
  RequestStop(Clock::now());
  Join();
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

Status StreamFanout::Loop::Start() {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd_ < 0 || wake_fd_ < 0) {
    return Status::Unavailable(std::string("cannot create the stream loop: ") +
                               std::strerror(errno) +
                               " (raise the open files limit)");
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = wake_fd_;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
  loop_->seq = hub_.last_seq();
  waker_id_ = hub_.AddWaker([this] { Wake(); });
  {
    std::lock_guard<std::mutex> lock(mu_);
    running_ = true;
  }
  thread_ = std::thread([this] { Run(); });
  return Status::Ok();
}

void StreamFanout::Loop::Wake() {
  uint64_t one = 1;
  // A full counter (never in practice) still leaves the fd readable.
  ssize_t ignored = ::write(wake_fd_, &one, sizeof one);
  (void)ignored;
}

void StreamFanout::Loop::Adopt(int fd, std::unique_ptr<StreamSession> session) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (running_) {
      adopted_.emplace_back(fd, std::move(session));
      Wake();
      return;
    }
  }
  CloseAdoptedFd(fd);
}

void StreamFanout::Loop::CloseAdoptedFd(int fd) {
  metrics_.clients_connected.fetch_sub(1);
  ssize_t ignored = ::send(fd, kLastChunk.data(), kLastChunk.size(),
                           MSG_NOSIGNAL | MSG_DONTWAIT);
  (void)ignored;
  ::close(fd);
}

void StreamFanout::Loop::RequestStop(Clock::time_point deadline) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!running_) return;
    running_ = false;
    stop_requested_ = true;
    stop_deadline_ = deadline;
  }
  Wake();
}

void StreamFanout::Loop::Join() {
  if (!thread_.joinable()) return;
  thread_.join();
  hub_.RemoveWaker(waker_id_);
  // Streams handed over while the loop was exiting.
  std::vector<std::pair<int, std::unique_ptr<StreamSession>>> late;
  {
    std::lock_guard<std::mutex> lock(mu_);
    late.swap(adopted_);
  }
  for (auto& entry : late) CloseAdoptedFd(entry.first);
}

void StreamFanout::Loop::Run() {
  LoopState& st = *loop_;
  std::vector<epoll_event> ready(1024);
  st.next_tick = Clock::now() + tick_;
  while (true) {
    auto until_tick = std::chrono::duration_cast<std::chrono::milliseconds>(
        st.next_tick - Clock::now());
    int timeout =
        static_cast<int>(std::max<int64_t>(0, until_tick.count()) + 1);
    int n = ::epoll_wait(epoll_fd_, ready.data(),
                         static_cast<int>(ready.size()), timeout);
    if (n < 0 && errno != EINTR) {
      logger_.Error(std::string("stream loop: epoll_wait: ") +
                    std::strerror(errno));
      n = 0;
    }
    Clock::time_point now = Clock::now();
    bool woken = false;
    for (int i = 0; i < n; ++i) {
      int fd = ready[static_cast<size_t>(i)].data.fd;
      uint32_t events = ready[static_cast<size_t>(i)].events;
      if (fd == wake_fd_) {
        uint64_t count;
        ssize_t ignored = ::read(wake_fd_, &count, sizeof count);
        (void)ignored;
        woken = true;
        continue;
      }
      auto it = st.streams.find(fd);
      if (it == st.streams.end()) continue;
      Stream& s = *it->second;
      if ((events & (EPOLLERR | EPOLLHUP)) ||
          ((events & (EPOLLIN | EPOLLRDHUP)) && !DrainInput(s)) ||
          ((events & EPOLLOUT) && !Flush(s, now))) {
        Close(fd);
      }
    }
    bool stop;
    Clock::time_point deadline;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop = stop_requested_;
      deadline = stop_deadline_;
    }
    if (woken) {
      TakeAdopted(now);
      if (!st.ending) {
        // What was published before a shutdown goes out before the end.
        Deliver(now);
        if (stop || hub_.IsShutdown()) EndAll(now);
      }
    }
    if (now >= st.next_tick) {
      Periodic(now);
      st.next_tick = now + tick_;
    }
    if (stop && (st.streams.empty() || now >= deadline)) break;
    if (stop) st.next_tick = std::min(st.next_tick, deadline);
  }
  for (int fd : st.Fds()) Close(fd);
}

void StreamFanout::Loop::TakeAdopted(Clock::time_point now) {
  std::vector<std::pair<int, std::unique_ptr<StreamSession>>> adopted;
  {
    std::lock_guard<std::mutex> lock(mu_);
    adopted.swap(adopted_);
  }
  LoopState& st = *loop_;
  for (auto& [fd, session] : adopted) {
    int flags = ::fcntl(fd, F_GETFL);
    ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    auto stream = std::make_unique<Stream>();
    stream->fd = fd;
    stream->session = std::move(session);
    stream->last_write = now;
    stream->last_progress = now;
    Stream& s = *stream;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.fd = fd;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
      logger_.Error(std::string("stream loop: cannot watch a stream: ") +
                    std::strerror(errno));
      CloseAdoptedFd(fd);
      continue;
    }
    st.streams.emplace(fd, std::move(stream));
    stream_count_.fetch_add(1, std::memory_order_relaxed);
    if (st.ending) {
      End(s, now);
    } else {
      // Events published since the session's snapshot.
      CatchUp(s, now);
    }
  }
}

void StreamFanout::Loop::Deliver(Clock::time_point now) {
  LoopState& st = *loop_;
  st.events.clear();
  EventHub::WaitStatus status =
      hub_.ReadAfter(st.seq, std::numeric_limits<size_t>::max(), &st.events);
  if (status == EventHub::WaitStatus::kTimeout) return;
  const uint64_t from = st.seq;
  for (int fd : st.Fds()) {
    auto it = st.streams.find(fd);
    if (it == st.streams.end()) continue;
    Stream& s = *it->second;
    if (s.ending) continue;
    if (status == EventHub::WaitStatus::kEvents && s.session->seq() == from) {
      // The common case: one read of the hub serves every stream.
      st.body.clear();
      uint64_t before = s.session->notifications_sent();
      s.session->Advance(st.events, &st.body);
      Send(s, st.body, s.session->notifications_sent() - before, now);
    } else {
      CatchUp(s, now);
    }
  }
  if (!st.events.empty())
    st.seq = st.events.back()->seq;
  else
    st.seq = hub_.last_seq();
}

void StreamFanout::Loop::CatchUp(Stream& s, Clock::time_point now) {
  std::string body;
  uint64_t before = s.session->notifications_sent();
  std::vector<HubEventPtr> events;
  while (body.size() < options_.max_pending_bytes) {
    events.clear();
    EventHub::WaitStatus status =
        hub_.ReadAfter(s.session->seq(), options_.max_batch, &events);
    if (status == EventHub::WaitStatus::kTimeout) break;
    if (status != EventHub::WaitStatus::kEvents) {
      // Lagged behind the history, or shutting down: write what we have,
      // then the last chunk; the client resumes with Last-Event-ID.
      if (Send(s, body, s.session->notifications_sent() - before, now)) {
        End(s, now);
      }
      return;
    }
    s.session->Advance(events, &body);
  }
  Send(s, body, s.session->notifications_sent() - before, now);
}

bool StreamFanout::Loop::Send(Stream& s, const std::string& body,
                              uint64_t events, Clock::time_point now) {
  if (body.empty()) return true;
  metrics_.events_sent.fetch_add(events, std::memory_order_relaxed);
  metrics_.bytes_sent.fetch_add(body.size(), std::memory_order_relaxed);
  s.last_write = now;
  if (s.waiting() > 0) {
    AppendChunk(body, &s.pending);
    if (s.waiting() > options_.max_pending_bytes) {
      logger_.Warn("stream cut: its client is " + std::to_string(s.waiting()) +
                   " bytes behind; it will resume with Last-Event-ID");
      Close(s.fd);
      return false;
    }
    return true;
  }
  std::string& frame = loop_->frame;
  frame.clear();
  AppendChunk(body, &frame);
  ssize_t n =
      ::send(s.fd, frame.data(), frame.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  if (n == static_cast<ssize_t>(frame.size())) return true;
  if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
    Close(s.fd);
    return false;
  }
  size_t sent = n > 0 ? static_cast<size_t>(n) : 0;
  s.pending.assign(frame, sent, std::string::npos);
  s.pending_off = 0;
  s.last_progress = now;
  Watch(s, true);
  return true;
}

bool StreamFanout::Loop::Flush(Stream& s, Clock::time_point now) {
  while (s.waiting() > 0) {
    ssize_t n = ::send(s.fd, s.pending.data() + s.pending_off, s.waiting(),
                       MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
      if (errno == EINTR) continue;
      return false;
    }
    s.pending_off += static_cast<size_t>(n);
    s.last_progress = now;
  }
  // A client that caught up after a burst does not keep the burst's buffer.
  if (s.pending.capacity() > 64 * 1024) {
    std::string().swap(s.pending);
  } else {
    s.pending.clear();
  }
  s.pending_off = 0;
  if (s.ending) return false;  // Everything, the last chunk included, is out.
  Watch(s, false);
  return true;
}

bool StreamFanout::Loop::DrainInput(Stream& s) {
  // Stream clients send nothing after their request: anything is read and
  // dropped; end of file or an error means the client is gone.
  char buf[4096];
  for (int i = 0; i < 16; ++i) {
    ssize_t n = ::recv(s.fd, buf, sizeof buf, MSG_DONTWAIT);
    if (n > 0) continue;
    if (n == 0) return false;
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
  }
  return true;
}

void StreamFanout::Loop::Watch(Stream& s, bool want_out) {
  if (s.watching_out == want_out) return;
  s.watching_out = want_out;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP | (want_out ? EPOLLOUT : 0u);
  ev.data.fd = s.fd;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, s.fd, &ev);
}

void StreamFanout::Loop::End(Stream& s, Clock::time_point now) {
  s.ending = true;
  s.pending.append(kLastChunk);
  if (!Flush(s, now) || s.waiting() == 0) {
    Close(s.fd);
    return;
  }
  Watch(s, true);
}

void StreamFanout::Loop::EndAll(Clock::time_point now) {
  LoopState& st = *loop_;
  st.ending = true;
  for (int fd : st.Fds()) {
    auto it = st.streams.find(fd);
    if (it != st.streams.end() && !it->second->ending) End(*it->second, now);
  }
}

void StreamFanout::Loop::Periodic(Clock::time_point now) {
  LoopState& st = *loop_;
  std::vector<int> cut;
  std::vector<Stream*> quiet;
  for (auto& entry : st.streams) {
    Stream& s = *entry.second;
    if (s.waiting() > 0) {
      if (now - s.last_progress >= options_.write_timeout) cut.push_back(s.fd);
    } else if (!s.ending && now - s.last_write >= options_.heartbeat) {
      quiet.push_back(&s);
    }
  }
  for (int fd : cut) {
    logger_.Warn("stream cut: its client took no bytes for " +
                 std::to_string(options_.write_timeout.count()) + " ms");
    Close(fd);
  }
  for (Stream* s : quiet) {
    // A heartbeat is not an event: it counts in bytes only.
    Send(*s, st.keep_alive, 0, now);
  }
}

void StreamFanout::Loop::Close(int fd) {
  LoopState& st = *loop_;
  auto it = st.streams.find(fd);
  if (it == st.streams.end()) return;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  st.streams.erase(it);
  // Counted before the close: a client that sees its stream end, or a
  // caller that sees streams() drop, also sees the gauge updated.
  metrics_.clients_connected.fetch_sub(1);
  stream_count_.fetch_sub(1, std::memory_order_release);
  ::close(fd);
}

StreamFanout::StreamFanout(EventHub& hub, Metrics& metrics, Logger& logger,
                           FanoutOptions options)
    : options_(options) {
  size_t n = options.threads;
  if (n == 0) n = std::clamp<size_t>(std::thread::hardware_concurrency(), 1, 8);
  for (size_t i = 0; i < n; ++i) {
    loops_.push_back(std::make_unique<Loop>(hub, metrics, logger, options_));
  }
}

StreamFanout::~StreamFanout() { Stop(std::chrono::milliseconds(0)); }

Status StreamFanout::Start() {
  for (auto& loop : loops_) {
    Status s = loop->Start();
    if (!s.ok()) return s;
  }
  return Status::Ok();
}

void StreamFanout::Adopt(int fd, std::unique_ptr<StreamSession> session) {
  size_t i = next_loop_.fetch_add(1, std::memory_order_relaxed) % loops_.size();
  loops_[i]->Adopt(fd, std::move(session));
}

void StreamFanout::Stop(std::chrono::milliseconds grace) {
  auto deadline = std::chrono::steady_clock::now() + grace;
  for (auto& loop : loops_) loop->RequestStop(deadline);
  for (auto& loop : loops_) loop->Join();
}

size_t StreamFanout::streams() const {
  size_t n = 0;
  for (const auto& loop : loops_) n += loop->streams();
  return n;
}

}  // namespace notifications

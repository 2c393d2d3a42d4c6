#include "server_loop.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <thread>

#include "fakes.h"
#include "http_framing.h"
#include "sse_parser.h"
#include "stream_request.h"
#include "test_support.h"

namespace notifications {
namespace {

using namespace std::chrono_literals;

Notification Make(const std::string& id, const std::string& service = "GitHub",
                  size_t text_bytes = 8) {
  Notification n = testing::SampleNotification(id, service);
  n.text = std::string(text_bytes, 'x');
  return n;
}

// Opens `s` as the server would have before handing its socket over: its
// opening is taken as written.
void OpenNow(StreamSession& s) {
  REQUIRE(s.Begin() == StreamSession::Start::kReady);
  SseOutput out;
  REQUIRE(s.Produce(SIZE_MAX, &out));
}

// The browser's end of one stream: a socketpair whose other end the fanout
// owns. Reads what arrives and decodes the chunked body.
class Client {
 public:
  Client() {
    int fds[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
    server_fd = fds[0];
    fd_ = fds[1];
  }
  ~Client() { CloseNow(); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  void CloseNow() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  // Reads until `done()` holds, the peer closes or `timeout` passes.
  template <typename Done>
  void ReadUntil(Done done, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!done() && !eof_) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char buf[65536];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) {
        eof_ = true;
        return;
      }
      raw_.append(buf, static_cast<size_t>(n));
      Decode();
    }
  }
  std::vector<SseParser::Event> WaitEvents(
      size_t n, std::chrono::milliseconds timeout = 5s) {
    ReadUntil([&] { return Notifications().size() >= n; }, timeout);
    return Notifications();
  }
  bool WaitEnd(std::chrono::milliseconds timeout = 5s) {
    ReadUntil([] { return false; }, timeout);
    return eof_;
  }

  std::vector<SseParser::Event> Notifications() const {
    std::vector<SseParser::Event> out;
    for (const auto& e : events_) {
      if (e.type == "notification") out.push_back(e);
    }
    return out;
  }
  const std::vector<SseParser::Event>& events() const { return events_; }
  const std::vector<std::string>& chunks() const { return chunks_; }
  bool last_chunk() const { return last_chunk_; }
  bool eof() const { return eof_; }
  size_t comments() const { return comments_; }

  int server_fd = -1;  // Handed to the fanout.

 private:
  void Decode() {
    while (!last_chunk_) {
      size_t eol = raw_.find("\r\n", pos_);
      if (eol == std::string::npos) return;
      size_t size = std::stoul(raw_.substr(pos_, eol - pos_), nullptr, 16);
      if (raw_.size() < eol + 2 + size + 2) return;
      REQUIRE(raw_.compare(eol + 2 + size, 2, "\r\n") == 0);
      pos_ = eol + 2 + size + 2;
      if (size == 0) {
        last_chunk_ = true;
        return;
      }
      std::string data = raw_.substr(eol + 2, size);
      chunks_.push_back(data);
      if (data.rfind(":", 0) == 0) ++comments_;
      parser_.Feed(data,
                   [this](const SseParser::Event& e) { events_.push_back(e); });
    }
  }

  int fd_ = -1;
  std::string raw_;
  size_t pos_ = 0;
  std::vector<std::string> chunks_;
  bool last_chunk_ = false;
  bool eof_ = false;
  size_t comments_ = 0;
  SseParser parser_;
  std::vector<SseParser::Event> events_;
};

// Answers every request 404 (these tests hand streams over directly).
class NotFound final : public HttpHandler {
 public:
  void Handle(HttpExchange& ex) override {
    ex.Respond(HttpReply::Text(404, "text/plain", "no"));
  }
};

// Several loops, as BridgeServer runs them, each handed streams in turn.
class Loops {
 public:
  Loops(EventHub& hub, Metrics& metrics, Logger& logger, Clock& clock,
        LoopOptions o, size_t n)
      : clock_(clock),
        logs_(logger, clock, std::chrono::milliseconds(10000)),
        pool_(1, 0, 1s) {
    for (size_t i = 0; i < n; ++i) {
      loops_.push_back(
          std::make_unique<ServerLoop>(hub, metrics, server_metrics_, logger,
                                       logs_, clock, handler_, pool_, o));
    }
  }
  Status Start() {
    for (auto& l : loops_) {
      Status s = l->Start(-1);
      if (!s.ok()) return s;
    }
    return Status::Ok();
  }
  void Adopt(int fd, std::unique_ptr<StreamSession> session) {
    loops_[next_++ % loops_.size()]->Adopt(fd, std::move(session));
  }
  void Wake() {
    for (auto& l : loops_) l->Wake();
  }
  void Stop(std::chrono::milliseconds grace) {
    auto deadline = clock_.Now() + grace;
    for (auto& l : loops_) l->RequestStop(deadline);
    for (auto& l : loops_) l->Join();
  }
  size_t streams() const {
    size_t n = 0;
    for (const auto& l : loops_) n += l->streams();
    return n;
  }
  size_t threads() const { return loops_.size(); }
  ServerMetrics& server_metrics() { return server_metrics_; }

 private:
  Clock& clock_;
  ServerMetrics server_metrics_;
  NotFound handler_;
  ServerLogs logs_;
  WorkerPool pool_;
  std::vector<std::unique_ptr<ServerLoop>> loops_;
  size_t next_ = 0;
};

struct Rig {
  // `fake`: the loops' time is `fake_clock`, moved by hand (Advance()).
  explicit Rig(LoopOptions o = {}, size_t history = 100, size_t loops = 1,
               bool fake = false)
      : hub(history, false) {
    Clock& clock = fake ? static_cast<Clock&>(fake_clock)
                        : static_cast<Clock&>(system_clock);
    fanout = std::make_unique<Loops>(hub, metrics, logger, clock, o, loops);
    REQUIRE(fanout->Start().ok());
  }
  ~Rig() {
    hub.Shutdown();
    fanout->Stop(1s);
  }
  // An opened session, as the HTTP side hands it over.
  std::unique_ptr<StreamSession> Session(
      std::multimap<std::string, std::string> params = {}) {
    Result<StreamRequest> request = ParseStreamRequest(params, "", 100);
    REQUIRE(request.ok());
    auto s = std::make_unique<StreamSession>(
        hub, nullptr, std::move(request).value(), StreamOptions{}, 1);
    OpenNow(*s);
    return s;
  }
  void Adopt(Client& c, std::multimap<std::string, std::string> params = {}) {
    metrics.clients_connected.fetch_add(1);
    fanout->Adopt(c.server_fd, Session(std::move(params)));
  }
  bool WaitStreams(size_t n, std::chrono::milliseconds timeout = 5s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (fanout->streams() != n) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(2ms);
    }
    return true;
  }

  // Moves the fake clock and makes the loops look at their timers.
  void Advance(std::chrono::milliseconds d) {
    fake_clock.Advance(d);
    fanout->Wake();
  }

  EventHub hub;
  Metrics metrics;
  Logger logger{LogLevel::kOff};
  SystemClock system_clock;
  FakeClock fake_clock;
  std::unique_ptr<Loops> fanout;
};

TEST_CASE(
    "server loop: each published batch reaches every stream as one chunk") {
  Rig rig;
  Client a, b, c;
  for (Client* x : {&a, &b, &c}) rig.Adopt(*x);
  REQUIRE(rig.WaitStreams(3));
  rig.hub.Publish({Make("1"), Make("2")});
  for (Client* x : {&a, &b, &c}) REQUIRE(x->WaitEvents(2).size() == 2);
  rig.hub.Publish({Make("3")});
  for (Client* x : {&a, &b, &c}) {
    auto events = x->WaitEvents(3);
    REQUIRE(events.size() == 3);
    CHECK(events[0].last_event_id == "1");
    CHECK(events[2].last_event_id == "3");
    // One chunk per batch, each holding its batch's frames.
    REQUIRE(x->chunks().size() == 2);
    CHECK(x->chunks()[0] == rig.hub.TakeSnapshot().history[0]->frame +
                                rig.hub.TakeSnapshot().history[1]->frame);
  }
  CHECK(rig.metrics.events_sent.load() == 9);
  CHECK(rig.metrics.clients_connected.load() == 3);
}

TEST_CASE(
    "server loop: several loops share the streams and each gets every batch "
    "once") {
  Rig rig({}, 100, 3);
  CHECK(rig.fanout->threads() == 3);
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < 7; ++i) {
    clients.push_back(std::make_unique<Client>());
    rig.Adopt(*clients.back());
  }
  REQUIRE(rig.WaitStreams(7));
  rig.hub.Publish({Make("1"), Make("2")});
  for (auto& c : clients) REQUIRE(c->WaitEvents(2).size() == 2);
  rig.hub.Publish({Make("3")});
  for (auto& c : clients) {
    auto events = c->WaitEvents(3);
    REQUIRE(events.size() == 3);
    CHECK(testing::Ids(events) == std::vector<std::string>{"1", "2", "3"});
    CHECK(c->chunks().size() == 2);
  }
  CHECK(rig.metrics.events_sent.load() == 21);
  clients[0]->CloseNow();
  CHECK(rig.WaitStreams(6));
  rig.hub.Shutdown();
  for (size_t i = 1; i < clients.size(); ++i) CHECK(clients[i]->WaitEnd());
  CHECK(rig.WaitStreams(0));
  CHECK(rig.metrics.clients_connected.load() == 0);
}

TEST_CASE("server loop: events published between Open and Adopt are not lost") {
  Rig rig;
  Client a;
  auto session = rig.Session();
  rig.hub.Publish({Make("1")});
  rig.metrics.clients_connected.fetch_add(1);
  rig.fanout->Adopt(a.server_fd, std::move(session));
  auto events = a.WaitEvents(1);
  REQUIRE(events.size() == 1);
  CHECK(events[0].last_event_id == "1");
}

TEST_CASE("server loop: a filtered stream gets only its notifications") {
  Rig rig;
  Client all, jenkins;
  rig.Adopt(all);
  rig.Adopt(jenkins, {{"service", "Jenkins"}});
  REQUIRE(rig.WaitStreams(2));
  rig.hub.Publish(
      {Make("1", "GitHub"), Make("2", "Jenkins"), Make("3", "GitHub")});
  rig.hub.Publish({Make("4", "Jenkins")});
  CHECK(all.WaitEvents(4).size() == 4);
  auto events = jenkins.WaitEvents(2);
  REQUIRE(events.size() == 2);
  CHECK(events[0].last_event_id == "2");
  CHECK(events[1].last_event_id == "4");
  CHECK(rig.metrics.events_sent.load() == 6);
}

TEST_CASE("server loop: a client that closes is forgotten at once") {
  Rig rig;
  Client a, b;
  rig.Adopt(a);
  rig.Adopt(b);
  REQUIRE(rig.WaitStreams(2));
  a.CloseNow();
  CHECK(rig.WaitStreams(1, 2s));
  CHECK(rig.metrics.clients_connected.load() == 1);
  rig.hub.Publish({Make("1")});
  CHECK(b.WaitEvents(1).size() == 1);
}

TEST_CASE(
    "server loop: a quiet stream gets a heartbeat comment when it is due, not "
    "before") {
  Rig rig({}, 100, 1, true);  // --heartbeat 15 s, on a fake clock.
  Client a;
  rig.Adopt(a);
  REQUIRE(rig.WaitStreams(1));
  rig.Advance(14s);
  a.ReadUntil([&] { return a.comments() >= 1; }, 200ms);
  CHECK(a.comments() == 0);
  rig.Advance(1s);
  a.ReadUntil([&] { return a.comments() >= 1; }, 5s);
  CHECK(a.comments() == 1);
  CHECK(a.chunks().back() == ": keep-alive\n\n");
  rig.Advance(15s);
  a.ReadUntil([&] { return a.comments() >= 2; }, 5s);
  CHECK(a.comments() == 2);
  CHECK(a.Notifications().empty());
}

TEST_CASE(
    "server loop: a flood of filtered-out events does not starve the "
    "heartbeat") {
  Rig rig({}, 100, 1, true);
  Client jenkins;
  rig.Adopt(jenkins, {{"service", "Jenkins"}});
  REQUIRE(rig.WaitStreams(1));
  for (int i = 1; i <= 3; ++i) {
    rig.hub.Publish({Make(std::to_string(i), "GitHub")});
    rig.Advance(5s);
  }
  jenkins.ReadUntil([&] { return jenkins.comments() >= 1; }, 5s);
  CHECK(jenkins.comments() == 1);
  CHECK(jenkins.Notifications().empty());
}

TEST_CASE(
    "server loop: a client that stops reading is cut, the others get "
    "everything") {
  LoopOptions o;
  o.max_pending_bytes = 64 * 1024;
  o.write_timeout = 60s;  // Only the size limit acts here.
  Rig rig(o, 1000);
  Client slow, healthy;
  int small = 4096;
  REQUIRE(::setsockopt(slow.server_fd, SOL_SOCKET, SO_SNDBUF, &small,
                       sizeof small) == 0);
  rig.Adopt(slow);
  rig.Adopt(healthy);
  REQUIRE(rig.WaitStreams(2));
  for (int i = 1; i <= 200; ++i) {
    rig.hub.Publish({Make(std::to_string(i), "GitHub", 1000)});
    // The healthy client reads as it goes; the slow one never does.
    healthy.ReadUntil(
        [&] {
          return healthy.Notifications().size() >= static_cast<size_t>(i);
        },
        5s);
  }
  CHECK(healthy.Notifications().size() == 200);
  CHECK(rig.WaitStreams(1));
  CHECK(rig.metrics.clients_connected.load() == 1);
  // What the slow client got before the cut is a prefix, in order.
  slow.WaitEnd();
  auto got = slow.Notifications();
  CHECK(got.size() < 200);
  for (size_t i = 0; i < got.size(); ++i)
    CHECK(got[i].last_event_id == std::to_string(i + 1));
}

TEST_CASE(
    "server loop: a client that takes nothing for the write timeout is cut") {
  Rig rig({}, 1000, 1, true);  // --write-timeout 5 s, on a fake clock.
  Client stalled;
  int small = 4096;
  REQUIRE(::setsockopt(stalled.server_fd, SOL_SOCKET, SO_SNDBUF, &small,
                       sizeof small) == 0);
  rig.Adopt(stalled);
  REQUIRE(rig.WaitStreams(1));
  for (int i = 1; i <= 40; ++i) {
    rig.hub.Publish({Make(std::to_string(i), "GitHub", 1000)});
  }
  // The stall starts once the loop has queued what the socket refused.
  // (Waited for, not timed: a sanitizer build on a busy box is slow.)
  for (int i = 0; i < 5000 && rig.fanout->server_metrics().unsent.load() == 0;
       ++i) {
    std::this_thread::sleep_for(2ms);
  }
  REQUIRE(rig.fanout->server_metrics().unsent.load() > 0);
  rig.Advance(4900ms);
  std::this_thread::sleep_for(100ms);
  CHECK(rig.fanout->streams() == 1);
  // Timers are looked at every tick (1 s here): the cut comes within one.
  rig.Advance(1100ms);
  CHECK(rig.WaitStreams(0, 5s));
  CHECK(rig.metrics.clients_connected.load() == 0);
  CHECK(rig.fanout->server_metrics().streams_cut_stalled == 1);
}

TEST_CASE("server loop: hub shutdown ends every stream with the last chunk") {
  Rig rig;
  Client a, b;
  rig.Adopt(a);
  rig.Adopt(b);
  REQUIRE(rig.WaitStreams(2));
  rig.hub.Publish({Make("1")});
  rig.hub.Shutdown();
  for (Client* x : {&a, &b}) {
    CHECK(x->WaitEnd());
    CHECK(x->last_chunk());
    CHECK(x->Notifications().size() == 1);
  }
  CHECK(rig.WaitStreams(0));
  CHECK(rig.metrics.clients_connected.load() == 0);
}

TEST_CASE(
    "server loop: a stream behind the history ends so its client resumes") {
  Rig rig({}, 2);
  Client a;
  auto session = rig.Session();  // Seq 0.
  for (int i = 1; i <= 5; ++i) rig.hub.Publish({Make(std::to_string(i))});
  rig.metrics.clients_connected.fetch_add(1);
  rig.fanout->Adopt(a.server_fd, std::move(session));
  CHECK(a.WaitEnd());
  CHECK(a.last_chunk());
  CHECK(a.Notifications().empty());
  CHECK(rig.metrics.clients_connected.load() == 0);
}

TEST_CASE("server loop: an upstream reset reaches streams as event: reset") {
  Rig rig;
  Client a;
  rig.Adopt(a);
  REQUIRE(rig.WaitStreams(1));
  rig.hub.Publish({Make("5")});
  REQUIRE(a.WaitEvents(1).size() == 1);
  rig.hub.Reset("upstream-reset", "the API forgot our cursor");
  rig.hub.Publish({Make("1")});
  a.ReadUntil([&] { return a.events().size() >= 3; }, 5s);
  REQUIRE(a.events().size() == 3);
  CHECK(a.events()[1].type == "reset");
  CHECK(a.events()[1].data.find("upstream-reset") != std::string::npos);
  // After the reset, lower ids are new again.
  CHECK(a.events()[2].last_event_id == "1");
}

TEST_CASE(
    "server loop: streams handed over before Start or after Stop end at once") {
  EventHub hub(10, false);
  Metrics metrics;
  Logger logger{LogLevel::kOff};
  SystemClock clock;
  Loops fanout(hub, metrics, logger, clock, {}, 1);
  auto session = [&] {
    Result<StreamRequest> r = ParseStreamRequest({}, "", 10);
    auto s = std::make_unique<StreamSession>(hub, nullptr, std::move(r).value(),
                                             StreamOptions{}, 1);
    OpenNow(*s);
    return s;
  };
  Client early;
  metrics.clients_connected.fetch_add(1);
  fanout.Adopt(early.server_fd, session());
  CHECK(early.WaitEnd());
  CHECK(early.last_chunk());

  REQUIRE(fanout.Start().ok());
  fanout.Stop(0ms);
  Client late;
  metrics.clients_connected.fetch_add(1);
  fanout.Adopt(late.server_fd, session());
  CHECK(late.WaitEnd());
  CHECK(late.last_chunk());
  CHECK(metrics.clients_connected.load() == 0);
}

TEST_CASE("server loop: Stop ends live streams even while the hub runs") {
  Rig rig;
  Client a;
  rig.Adopt(a);
  REQUIRE(rig.WaitStreams(1));
  rig.fanout->Stop(1s);
  CHECK(a.WaitEnd());
  CHECK(a.last_chunk());
  CHECK(rig.fanout->streams() == 0);
}

}  // namespace
}  // namespace notifications

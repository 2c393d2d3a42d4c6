// nb-sse-load: opens N Server-Sent Events streams to one URL and measures
// what a fan-out server does with them (bench/README.md).
//
// One epoll thread holds every stream (no thread per connection); an
// optional second thread publishes the events (--publish-url), so that the
// send timestamp is taken right before the request is written. Each stream
// is plain HTTP/1.1 (chunked or identity body) parsed by SseParser, the same
// EventSource-conformant parser the tests use.
//
// Phases:
//   1. connect: --connections streams opened at --rate per second; ends when
//      every stream is streaming or failed (or after --connect-timeout).
//      Prints "READY held=N" on stdout (a driver publishing by itself waits
//      for it), samples the server's /proc.
//   2. measure: up to --duration seconds, or until every open stream got
//      --expect events (when > 0). Each event's data is searched for
//      "t=<unix ns>" (the send time); latency = receive time - t.
//   3. report: /proc sampled again, every stream closed (SO_LINGER 0: no
//      TIME_WAIT, so back-to-back runs do not run out of local ports), a
//      table and one "RESULT key=value ..." line on stdout.
//
// Exit status: 0 after a run (whatever it measured), 2 on a setup error
// (bad flag, unreachable host name, too few file descriptors).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "load_common.h"
#include "sse_parser.h"

namespace notifications {
namespace bench {
namespace {

using notifications::SseParser;

// --- Command line
// -------------------------------------------------------------

struct Options {
  Url url;
  size_t connections = 100;
  double rate = 1000;      // Connections opened per second; 0 = all at once.
  double duration_s = 30;  // Longest measurement phase, seconds.
  double connect_timeout_s = -1;  // -1: 30 s + connections / rate.
  size_t expect = 0;  // Events each stream should get; 0 = run --duration.
  std::vector<pid_t> server_pids;
  std::string label = "run";
  // Publisher (optional): POST --publish-count bodies, one per
  // --publish-interval seconds, from the start of the measurement.
  std::optional<Url> publish_url;
  size_t publish_count = 0;
  double publish_interval_s = 1;
  std::string publish_body = "t={t} {pad}";  // {t}: unix ns; {pad}: 'x' * N.
  size_t publish_pad = 0;
  std::string publish_content_type = "application/json";
  bool quiet = false;
};

constexpr char kUsage[] =
    R"(Usage: nb-sse-load --url http://HOST:PORT/PATH [options]

Opens N Server-Sent Events streams at a controlled rate (one epoll thread),
measures connection times, events per stream, delivery latency (from a
"t=<unix ns>" found in each event's data), fan-out spread, and the server's
CPU, RSS, threads and fds from /proc/<pid>. Prints a table and one
"RESULT key=value ..." line.

Options:
  --url URL                 stream URL, plain http://host:port/path (required)
  -n, --connections N       streams to open (default 100)
  --rate R                  streams opened per second, 0 = all at once (default 1000)
  --duration S              longest measurement phase in seconds, after every
                            stream is up (default 30)
  --connect-timeout S       longest connect phase (default 30 + N / rate)
  --expect E                events each stream should get; the run ends as soon
                            as every open stream has them (default 0: run --duration)
  --server-pid PID[,PID..]  server process(es) to sample from /proc (repeatable;
                            figures are summed, e.g. nginx master + workers)
  --label NAME              name in the RESULT line (default run)
  --publish-url URL         also publish: POST to this URL from a second thread,
                            the send time taken just before the request is written
  --publish-count E         bodies to POST (default 0)
  --publish-interval S      seconds between POSTs (default 1)
  --publish-body TEMPLATE   body; {t} becomes the unix time in ns, {pad} --publish-pad
                            'x' characters (default "t={t} {pad}")
  --publish-pad N           length of {pad} (default 0)
  --publish-content-type T  (default application/json)
  -q, --quiet               only the READY and RESULT lines
  -h, --help

Stdout: "READY held=N" once the connect phase is over, then the table, then
the RESULT line. Exit 0 after a run, 2 on a setup error.
)";

// Returns 0 to run, 1 for --help (printed), 2 on an error (printed).
int ParseOptions(int argc, char** argv, Options* o) {
  bool have_url = false;
  OptionReader args("nb-sse-load", argc, argv);
  while (args.Next()) {
    const std::string& arg = args.name();
    auto bad = [&](const std::string& why) { return args.Bad(why); };
    std::string v;
    std::string error;
    if (arg == "-h" || arg == "--help") {
      std::fputs(kUsage, stdout);
      return 1;
    } else if (arg == "-q" || arg == "--quiet") {
      o->quiet = true;
    } else if (!args.Value(&v)) {
      return args.MissingValue();
    } else if (arg == "--url") {
      auto url = ParseUrl(v, &error);
      if (!url) return bad(error);
      o->url = *url;
      have_url = true;
    } else if (arg == "-n" || arg == "--connections") {
      if (!ParseSize(v, &o->connections)) return bad("not a count: " + v);
    } else if (arg == "--rate") {
      if (!ParseDouble(v, &o->rate)) return bad("not a rate: " + v);
    } else if (arg == "--duration") {
      if (!ParseDouble(v, &o->duration_s)) return bad("not seconds: " + v);
    } else if (arg == "--connect-timeout") {
      if (!ParseDouble(v, &o->connect_timeout_s))
        return bad("not seconds: " + v);
    } else if (arg == "--expect") {
      if (!ParseSize(v, &o->expect)) return bad("not a count: " + v);
    } else if (arg == "--server-pid") {
      std::stringstream list(v);
      std::string item;
      while (std::getline(list, item, ',')) {
        size_t pid = 0;
        if (!ParseSize(item, &pid) || pid == 0)
          return bad("not a pid: " + item);
        o->server_pids.push_back(static_cast<pid_t>(pid));
      }
    } else if (arg == "--label") {
      o->label = v;
    } else if (arg == "--publish-url") {
      auto url = ParseUrl(v, &error);
      if (!url) return bad(error);
      o->publish_url = *url;
    } else if (arg == "--publish-count") {
      if (!ParseSize(v, &o->publish_count)) return bad("not a count: " + v);
    } else if (arg == "--publish-interval") {
      if (!ParseDouble(v, &o->publish_interval_s))
        return bad("not seconds: " + v);
    } else if (arg == "--publish-body") {
      o->publish_body = v;
    } else if (arg == "--publish-pad") {
      if (!ParseSize(v, &o->publish_pad)) return bad("not a count: " + v);
    } else if (arg == "--publish-content-type") {
      o->publish_content_type = v;
    } else {
      return bad("unknown option");
    }
  }
  if (!have_url) {
    std::fprintf(stderr, "nb-sse-load: --url is required (see --help)\n");
    return 2;
  }
  if (o->connect_timeout_s < 0) {
    o->connect_timeout_s =
        30 + (o->rate > 0 ? static_cast<double>(o->connections) / o->rate : 0);
  }
  return 0;
}

// "t=<digits>" not preceded by a letter or digit: the send time in unix ns.
std::optional<int64_t> FindStamp(std::string_view data) {
  for (size_t at = data.find("t="); at != std::string_view::npos;
       at = data.find("t=", at + 1)) {
    if (at > 0 && std::isalnum(static_cast<unsigned char>(data[at - 1])))
      continue;
    int64_t value = 0;
    size_t digits = 0;
    for (size_t i = at + 2; i < data.size() && digits < 19; ++i, ++digits) {
      char c = data[i];
      if (c < '0' || c > '9') break;
      value = value * 10 + (c - '0');
    }
    if (digits >= 10) return value;
  }
  return std::nullopt;
}

// --- Publisher (second thread)
// --------------------------------------------------

struct PublishResult {
  size_t sent = 0;  // Answered 2xx.
  size_t failed = 0;
};

// POSTs one body, blocking; returns the HTTP status or -1. `stamp_ns` gets
// the CLOCK_REALTIME instant put in the body, taken just before the write.
int PostOnce(const Options& o, size_t index, int64_t* stamp_ns) {
  return BlockingExchange(*o.publish_url, [&] {
    *stamp_ns = RealNs();
    return PostRequest(
        *o.publish_url, o.publish_content_type,
        FillBodyTemplate(o.publish_body, *stamp_ns, o.publish_pad, index));
  });
}

// Not thread-safe itself: Run() on one thread, done() read by another.
class Publisher {
 public:
  explicit Publisher(const Options& o) : options_(o) {}
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  void Run(int64_t start_mono_ns) {
    for (size_t i = 0; i < options_.publish_count && !stop_.load(); ++i) {
      const int64_t due =
          start_mono_ns +
          static_cast<int64_t>(static_cast<double>(i) *
                               options_.publish_interval_s * 1e9);
      while (!stop_.load()) {
        int64_t left = due - MonoNs();
        if (left <= 0) break;
        std::this_thread::sleep_for(
            std::chrono::nanoseconds(std::min<int64_t>(left, 50000000)));
      }
      int64_t stamp = 0;
      int status = PostOnce(options_, i, &stamp);
      if (status >= 200 && status < 300) {
        ++result_.sent;
      } else {
        ++result_.failed;
        std::fprintf(stderr, "nb-sse-load: publish %zu failed (status %d)\n", i,
                     status);
      }
    }
    done_.store(true);
  }
  void Stop() { stop_.store(true); }
  bool done() const { return done_.load(); }
  // Valid once done() (or after joining the thread).
  const PublishResult& result() const { return result_; }

 private:
  const Options& options_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> done_{false};
  PublishResult result_;
};

// --- Streams
// --------------------------------------------------------------------

enum class State { kIdle, kConnecting, kHeaders, kStreaming, kFailed, kClosed };

struct Stream {
  int fd = -1;
  State state = State::kIdle;
  int64_t started_ns = 0;  // Monotonic, at connect().
  size_t sent = 0;         // Request bytes written.
  ResponseReader response;
  SseParser parser;
  size_t events = 0;
};

struct EventSpread {
  int64_t first_mono = 0;
  int64_t last_mono = 0;
  size_t receipts = 0;
};

class LoadClient {
 public:
  explicit LoadClient(const Options& o) : o_(o), streams_(o.connections) {
    request_ = "GET " + o.url.path + " HTTP/1.1\r\nHost: " + o.url.host + ":" +
               std::to_string(o.url.port) +
               "\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n"
               "User-Agent: nb-sse-load\r\n\r\n";
  }
  LoadClient(const LoadClient&) = delete;
  LoadClient& operator=(const LoadClient&) = delete;
  ~LoadClient() {
    for (Stream& s : streams_) CloseFd(&s);
    if (epoll_ >= 0) close(epoll_);
  }

  // Returns the exit code.
  int Run() {
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_ < 0) {
      std::perror("nb-sse-load: epoll_create1");
      return 2;
    }
    load_ = LoadAverage();
    before_ = SampleProc(o_.server_pids);
    const int64_t begin = MonoNs();
    ConnectPhase(begin);
    ready_ = SampleProc(o_.server_pids);
    std::printf("READY held=%zu\n", Count(State::kStreaming));
    std::fflush(stdout);

    Publisher publisher(o_);
    std::thread publish_thread;
    measure_start_ = MonoNs();
    client_cpu_start_ = NowNs(CLOCK_PROCESS_CPUTIME_ID);
    machine_busy_start_ = MachineBusySeconds();
    if (o_.publish_url && o_.publish_count > 0) {
      publish_thread = std::thread([&] { publisher.Run(measure_start_); });
    }
    MeasurePhase(publisher);
    measure_end_ = MonoNs();
    client_cpu_end_ = NowNs(CLOCK_PROCESS_CPUTIME_ID);
    machine_busy_end_ = MachineBusySeconds();
    end_ = SampleProc(o_.server_pids);
    held_ = Count(State::kStreaming);
    if (publish_thread.joinable()) {
      publisher.Stop();
      publish_thread.join();
    }
    for (Stream& s : streams_) CloseFd(&s);
    Report(publisher.result());
    return 0;
  }

 private:
  size_t Count(State state) const {
    return static_cast<size_t>(
        std::count_if(streams_.begin(), streams_.end(),
                      [state](const Stream& s) { return s.state == state; }));
  }

  void ConnectPhase(int64_t begin) {
    const int64_t deadline =
        begin + static_cast<int64_t>(o_.connect_timeout_s * 1e9);
    size_t opened = 0;
    while (true) {
      const int64_t now = MonoNs();
      size_t due = o_.connections;
      if (o_.rate > 0) {
        double elapsed = static_cast<double>(now - begin) / 1e9;
        due = std::min(o_.connections,
                       static_cast<size_t>(elapsed * o_.rate) + 1);
      }
      for (; opened < due; ++opened) Open(opened);
      if (opened == o_.connections && pending_ == 0) break;
      if (now >= deadline) {
        // Streams still connecting count as failed, and stay out of the run.
        for (Stream& s : streams_) {
          if (s.state == State::kConnecting || s.state == State::kHeaders) {
            Fail(&s, &timed_out_);
          }
        }
        break;
      }
      Poll(opened < o_.connections ? 1 : 20);
    }
  }

  void MeasurePhase(const Publisher& publisher) {
    const int64_t deadline =
        measure_start_ + static_cast<int64_t>(o_.duration_s * 1e9);
    while (MonoNs() < deadline) {
      Poll(20);
      if (o_.expect > 0 && complete_ >= Count(State::kStreaming) &&
          (!o_.publish_url || publisher.done() || o_.publish_count == 0)) {
        bool all =
            std::all_of(streams_.begin(), streams_.end(), [&](const Stream& s) {
              return s.state != State::kStreaming || s.events >= o_.expect;
            });
        if (all) break;
      }
    }
  }

  void Open(size_t index) {
    Stream& s = streams_[index];
    s.started_ns = MonoNs();
    s.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s.fd < 0) {
      Fail(&s, &errors_socket_);
      return;
    }
    int one = 1;
    setsockopt(s.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    ++pending_;
    int rc = connect(s.fd, reinterpret_cast<const sockaddr*>(&o_.url.addr),
                     sizeof(o_.url.addr));
    if (rc != 0 && errno != EINPROGRESS) {
      Fail(&s, &errors_connect_);
      return;
    }
    s.state = State::kConnecting;
    epoll_event ev{};
    ev.events = EPOLLOUT | EPOLLIN | EPOLLRDHUP;
    ev.data.u64 = index;
    if (epoll_ctl(epoll_, EPOLL_CTL_ADD, s.fd, &ev) != 0) {
      Fail(&s, &errors_socket_);
    }
  }

  void Poll(int timeout_ms) {
    epoll_event events[512];
    int n = epoll_wait(epoll_, events, 512, timeout_ms);
    for (int i = 0; i < n; ++i) {
      Stream& s = streams_[events[i].data.u64];
      if (s.state == State::kConnecting) OnConnecting(&s, events[i].data.u64);
      if (s.state == State::kHeaders || s.state == State::kStreaming) {
        if (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)) {
          OnReadable(&s);
        }
      }
    }
  }

  void OnConnecting(Stream* s, uint64_t index) {
    if (s->sent == 0) {
      int err = 0;
      socklen_t len = sizeof(err);
      getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        Fail(s, &errors_connect_);
        return;
      }
      connect_ms_.push_back(static_cast<double>(MonoNs() - s->started_ns) /
                            1e6);
    }
    ssize_t n = send(s->fd, request_.data() + s->sent,
                     request_.size() - s->sent, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN) {
      Fail(s, &errors_connect_);
      return;
    }
    if (n > 0) s->sent += static_cast<size_t>(n);
    if (s->sent < request_.size()) return;  // Wait for EPOLLOUT again.
    s->state = State::kHeaders;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.u64 = index;
    epoll_ctl(epoll_, EPOLL_CTL_MOD, s->fd, &ev);
  }

  void OnReadable(Stream* s) {
    while (s->state == State::kHeaders || s->state == State::kStreaming) {
      ssize_t n = recv(s->fd, buffer_, sizeof(buffer_), 0);
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        Ended(s);
        return;
      }
      // Level-triggered epoll: after a short read, let epoll say when more
      // arrives instead of paying a recv() that answers EAGAIN.
      const bool drained = static_cast<size_t>(n) < sizeof(buffer_);
      const int64_t real = RealNs();
      const int64_t mono = MonoNs();
      std::string_view bytes(buffer_, static_cast<size_t>(n));
      const ResponseReader::Outcome outcome = s->response.Feed(
          bytes,
          [&](const ResponseHead& head) {
            if (!AcceptHead(head)) return false;
            headers_ms_.push_back(static_cast<double>(mono - s->started_ns) /
                                  1e6);
            s->state = State::kStreaming;
            --pending_;
            return true;
          },
          [&](std::string_view data) { Feed(s, data, real, mono); });
      switch (outcome) {
        case ResponseReader::Outcome::kMore:
          break;
        case ResponseReader::Outcome::kRejected:
          Fail(s, &errors_status_);
          return;
        case ResponseReader::Outcome::kFramingError:
          ++errors_framing_;
          Ended(s);
          return;
        case ResponseReader::Outcome::kEnd:
          Ended(s);
          return;
      }
      if (drained) return;
    }
  }

  // Status 200 and text/event-stream, or false.
  bool AcceptHead(const ResponseHead& head) {
    if (head.status != 200) {
      if (bad_status_example_.empty()) bad_status_example_ = head.status_line;
      return false;
    }
    if (!head.event_stream && bad_status_example_.empty()) {
      bad_status_example_ = "200 without Content-Type text/event-stream";
    }
    return head.event_stream;
  }

  void Feed(Stream* s, std::string_view bytes, int64_t real, int64_t mono) {
    // Two pointers of captures: std::function keeps the lambda inline
    // instead of allocating for each read.
    struct Context {
      Stream* stream;
      int64_t real_ns;
      int64_t mono_ns;
    } context{s, real, mono};
    s->parser.Feed(bytes, [this, &context](const SseParser::Event& event) {
      OnEvent(context.stream, context.real_ns, context.mono_ns, event);
    });
  }

  void OnEvent(Stream* s, int64_t real, int64_t mono,
               const SseParser::Event& event) {
    ++s->events;
    ++deliveries_;
    data_bytes_ += event.data.size();
    if (s->events == o_.expect) ++complete_;
    std::optional<int64_t> stamp = FindStamp(event.data);
    if (!stamp) {
      ++untimed_;
      return;
    }
    latency_ms_.push_back(static_cast<double>(real - *stamp) / 1e6);
    EventSpread& spread = spreads_[*stamp];
    if (spread.receipts == 0) spread.first_mono = mono;
    spread.last_mono = mono;
    ++spread.receipts;
  }

  void Ended(Stream* s) {
    if (s->state == State::kStreaming) {
      ++closed_by_server_;
      s->state = State::kClosed;
      CloseFd(s);
    } else {
      Fail(s, &errors_connect_);
    }
  }

  void Fail(Stream* s, size_t* counter) {
    ++*counter;
    if (s->state == State::kConnecting || s->state == State::kHeaders ||
        (s->state == State::kIdle && s->fd >= 0)) {
      --pending_;
    }
    s->state = State::kFailed;
    CloseFd(s);
  }

  // Abortive close (RST): no TIME_WAIT left on this side, so back-to-back
  // runs of 10,000 streams do not exhaust the local port range.
  static void CloseFd(Stream* s) { CloseWithReset(&s->fd); }

  void Report(const PublishResult& published) {
    const double measured_s =
        static_cast<double>(measure_end_ - measure_start_) / 1e9;
    std::vector<size_t> got;
    size_t complete = 0;
    for (const Stream& s : streams_) {
      if (s.state == State::kStreaming || s.state == State::kClosed) {
        got.push_back(s.events);
        if (o_.expect > 0 && s.events >= o_.expect) ++complete;
      }
    }
    std::sort(got.begin(), got.end());
    const size_t got_min = got.empty() ? 0 : got.front();
    const size_t got_max = got.empty() ? 0 : got.back();
    double got_avg = 0;
    for (size_t g : got) got_avg += static_cast<double>(g);
    if (!got.empty()) got_avg /= static_cast<double>(got.size());

    std::vector<double> spread_ms;
    for (const auto& [stamp, spread] : spreads_) {
      spread_ms.push_back(
          static_cast<double>(spread.last_mono - spread.first_mono) / 1e6);
    }
    const size_t distinct = spreads_.size();
    const double c50 = Percentile(&connect_ms_, 0.5),
                 c99 = Percentile(&connect_ms_, 0.99);
    const double h50 = Percentile(&headers_ms_, 0.5),
                 h99 = Percentile(&headers_ms_, 0.99);
    const double l50 = Percentile(&latency_ms_, 0.5),
                 l90 = Percentile(&latency_ms_, 0.9);
    const double l99 = Percentile(&latency_ms_, 0.99),
                 lmax = Percentile(&latency_ms_, 1);
    const double s50 = Percentile(&spread_ms, 0.5),
                 s99 = Percentile(&spread_ms, 0.99);
    const double smax = Percentile(&spread_ms, 1);
    const double event_bytes = deliveries_ > 0
                                   ? static_cast<double>(data_bytes_) /
                                         static_cast<double>(deliveries_)
                                   : 0;

    const bool proc = before_.ok && end_.ok;
    const double cpu_s = proc ? end_.cpu_s - ready_.cpu_s : 0;
    const double cpu_connect_s = proc ? ready_.cpu_s - before_.cpu_s : 0;
    // The user / system split, from /proc's ticks (10 ms: measure enough
    // deliveries for it to mean something).
    const double user_s = proc ? end_.user_s - ready_.user_s : 0;
    const double sys_s = proc ? end_.sys_s - ready_.sys_s : 0;
    const double per =
        deliveries_ > 0 ? 1e6 / static_cast<double>(deliveries_) : 0;
    const double connect_us_per_stream =
        held_ > 0 ? cpu_connect_s * 1e6 / static_cast<double>(held_) : 0;
    const double cpu_pct = measured_s > 0 ? 100 * cpu_s / measured_s : 0;
    const double cpu_us_per_delivery =
        deliveries_ > 0 ? cpu_s * 1e6 / static_cast<double>(deliveries_) : 0;
    const double rss_per_conn_kb =
        held_ > 0 ? static_cast<double>(end_.rss_kb - before_.rss_kb) /
                        static_cast<double>(held_)
                  : 0;
    const double client_cpu_s =
        static_cast<double>(client_cpu_end_ - client_cpu_start_) / 1e9;
    const double client_us_per_delivery =
        deliveries_ > 0 ? client_cpu_s * 1e6 / static_cast<double>(deliveries_)
                        : 0;
    // What else kept the machine busy meanwhile (other processes; the part
    // of loopback softirq time charged to no one): the noise under the
    // figures, in % of one core.
    const double others_cpu_s = std::max(
        0.0, (machine_busy_end_ - machine_busy_start_) - cpu_s - client_cpu_s);
    const double others_cpu_pct =
        measured_s > 0 ? 100 * others_cpu_s / measured_s : 0;
    const size_t failed =
        errors_socket_ + errors_connect_ + errors_status_ + timed_out_;

    if (!o_.quiet) {
      std::printf("nb-sse-load %s: http://%s:%u%s\n", o_.label.c_str(),
                  o_.url.host.c_str(), o_.url.port, o_.url.path.c_str());
      std::printf(
          "  %-16s requested %zu, held %zu at the end; failed %zu (socket %zu, "
          "connect/reset %zu, "
          "bad answer %zu, timed out %zu); closed by server %zu, framing "
          "errors %zu\n",
          "connections", o_.connections, held_, failed, errors_socket_,
          errors_connect_, errors_status_, timed_out_, closed_by_server_,
          errors_framing_);
      if (!bad_status_example_.empty()) {
        std::printf("  %-16s e.g. \"%s\"\n", "bad answer",
                    bad_status_example_.c_str());
      }
      std::printf("  %-16s p50 %.2f ms, p99 %.2f ms (TCP connect)\n", "connect",
                  c50, c99);
      std::printf(
          "  %-16s p50 %.2f ms, p99 %.2f ms (connect to end of response "
          "headers)\n",
          "headers", h50, h99);
      std::printf(
          "  %-16s expected %zu, got min %zu / avg %.2f / max %zu; %zu of %zu "
          "streams complete\n",
          "events/stream", o_.expect, got_min, got_avg, got_max, complete,
          got.size());
      std::printf(
          "  %-16s %zu in %.2f s (%zu without t=), %zu distinct events, %.0f B "
          "of data each\n",
          "deliveries", deliveries_, measured_s, untimed_, distinct,
          event_bytes);
      if (o_.publish_url) {
        std::printf("  %-16s %zu posted, %zu failed\n", "published",
                    published.sent, published.failed);
      }
      std::printf(
          "  %-16s p50 %.2f, p90 %.2f, p99 %.2f, max %.2f ms (receive time - "
          "t= in the data)\n",
          "latency", l50, l90, l99, lmax);
      std::printf(
          "  %-16s p50 %.2f, p99 %.2f, max %.2f ms over %zu events (last - "
          "first receipt)\n",
          "fan-out spread", s50, s99, smax, distinct);
      if (proc) {
        std::printf(
            "  %-16s %.3f s CPU while measuring (%.1f %% of a core) = %.2f us "
            "per delivery; "
            "%.3f s while connecting\n",
            "server cpu", cpu_s, cpu_pct, cpu_us_per_delivery, cpu_connect_s);
        std::printf(
            "  %-16s user %.2f + system %.2f us per delivery (ticks); "
            "connecting: %.1f us per stream\n",
            "", user_s * per, sys_s * per, connect_us_per_stream);
        std::printf(
            "  %-16s %lld KB before, %lld KB held, HWM %lld KB = %.1f KB per "
            "connection\n",
            "server rss", static_cast<long long>(before_.rss_kb),
            static_cast<long long>(end_.rss_kb),
            static_cast<long long>(end_.hwm_kb), rss_per_conn_kb);
        std::printf("  %-16s threads %lld -> %lld, fds %lld -> %lld\n",
                    "server", static_cast<long long>(before_.threads),
                    static_cast<long long>(end_.threads),
                    static_cast<long long>(before_.fds),
                    static_cast<long long>(end_.fds));
      }
      std::printf(
          "  %-16s %.3f s CPU while measuring = %.2f us per delivery (this "
          "load client: "
          "on a shared box it is part of the fan-out spread)\n",
          "client cpu", client_cpu_s, client_us_per_delivery);
      std::printf(
          "  %-16s %.1f %% of a core busy with other work while measuring "
          "(machine - server - this client); load average %.2f at start\n",
          "machine", others_cpu_pct, load_);
      if (!proc && !o_.server_pids.empty()) {
        std::printf("  %-16s could not read /proc of every --server-pid\n",
                    "server");
      }
    }
    std::printf(
        "RESULT label=%s n=%zu held=%zu failed=%zu closed=%zu "
        "connect_p50_ms=%.3f "
        "connect_p99_ms=%.3f headers_p50_ms=%.3f headers_p99_ms=%.3f "
        "expect=%zu "
        "got_min=%zu got_avg=%.3f got_max=%zu complete=%zu deliveries=%zu "
        "untimed=%zu "
        "events=%zu event_bytes=%.0f lat_p50_ms=%.3f lat_p90_ms=%.3f "
        "lat_p99_ms=%.3f "
        "lat_max_ms=%.3f spread_p50_ms=%.3f spread_p99_ms=%.3f "
        "spread_max_ms=%.3f "
        "published=%zu publish_failed=%zu measured_s=%.3f proc=%d cpu_s=%.4f "
        "cpu_pct=%.3f cpu_us_per_delivery=%.3f cpu_connect_s=%.4f "
        "rss_before_kb=%lld "
        "rss_kb=%lld hwm_kb=%lld rss_per_conn_kb=%.3f threads=%lld fds=%lld "
        "load=%.2f "
        "client_cpu_s=%.4f client_us_per_delivery=%.3f others_cpu_pct=%.1f "
        "cpu_user_us_per_delivery=%.3f cpu_sys_us_per_delivery=%.3f "
        "connect_us_per_stream=%.2f\n",
        o_.label.c_str(), o_.connections, held_, failed, closed_by_server_, c50,
        c99, h50, h99, o_.expect, got_min, got_avg, got_max, complete,
        deliveries_, untimed_, distinct, event_bytes, l50, l90, l99, lmax, s50,
        s99, smax, published.sent, published.failed, measured_s, proc ? 1 : 0,
        cpu_s, cpu_pct, cpu_us_per_delivery, cpu_connect_s,
        static_cast<long long>(before_.rss_kb),
        static_cast<long long>(end_.rss_kb),
        static_cast<long long>(end_.hwm_kb), rss_per_conn_kb,
        static_cast<long long>(end_.threads), static_cast<long long>(end_.fds),
        load_, client_cpu_s, client_us_per_delivery, others_cpu_pct,
        user_s * per, sys_s * per, connect_us_per_stream);
    std::fflush(stdout);
  }

  const Options& o_;
  std::vector<Stream> streams_;
  std::string request_;
  int epoll_ = -1;
  char buffer_[65536];
  size_t pending_ = 0;  // Opened, neither streaming nor failed yet.
  size_t timed_out_ = 0;
  size_t held_ = 0;
  size_t complete_ = 0;
  size_t errors_socket_ = 0, errors_connect_ = 0, errors_status_ = 0;
  size_t errors_framing_ = 0, closed_by_server_ = 0;
  std::string bad_status_example_;
  size_t deliveries_ = 0, untimed_ = 0;
  uint64_t data_bytes_ = 0;
  std::vector<double> connect_ms_, headers_ms_, latency_ms_;
  std::unordered_map<int64_t, EventSpread> spreads_;
  int64_t measure_start_ = 0, measure_end_ = 0;
  int64_t client_cpu_start_ = 0, client_cpu_end_ = 0;     // This process, ns.
  double machine_busy_start_ = 0, machine_busy_end_ = 0;  // Seconds.
  ProcSample before_, ready_, end_;
  double load_ = 0;
};

}  // namespace
}  // namespace bench
}  // namespace notifications

int main(int argc, char** argv) {
  notifications::bench::Options options;
  int parsed = notifications::bench::ParseOptions(argc, argv, &options);
  if (parsed == 1) return 0;
  if (parsed != 0) return 2;
  if (!notifications::bench::RaiseFileLimit(
          static_cast<rlim_t>(options.connections) + 64, "nb-sse-load")) {
    return 2;
  }
  auto client = std::make_unique<notifications::bench::LoadClient>(options);
  return client->Run();
}

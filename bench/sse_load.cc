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
#include <dirent.h>
#include <fcntl.h>
#include <netdb.h>
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
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sse_parser.h"

namespace {

using notifications::SseParser;

int64_t NowNs(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 +
         static_cast<int64_t>(ts.tv_nsec);
}
int64_t MonoNs() { return NowNs(CLOCK_MONOTONIC); }
int64_t RealNs() { return NowNs(CLOCK_REALTIME); }

// --- Command line
// -------------------------------------------------------------

struct Url {
  std::string host;
  uint16_t port = 80;
  std::string path = "/";
  sockaddr_in addr{};
};

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

std::optional<Url> ParseUrl(const std::string& text, std::string* error) {
  constexpr std::string_view kScheme = "http://";
  if (text.compare(0, kScheme.size(), kScheme) != 0) {
    *error = "only http://host:port/path URLs are supported: " + text;
    return std::nullopt;
  }
  std::string rest = text.substr(kScheme.size());
  Url url;
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  url.path = slash == std::string::npos ? "/" : rest.substr(slash);
  size_t colon = authority.rfind(':');
  url.host = authority.substr(0, colon);
  if (colon != std::string::npos) {
    std::string port = authority.substr(colon + 1);
    char* end = nullptr;
    long value = std::strtol(port.c_str(), &end, 10);
    if (port.empty() || *end != '\0' || value < 1 || value > 65535) {
      *error = "bad port in " + text;
      return std::nullopt;
    }
    url.port = static_cast<uint16_t>(value);
  }
  addrinfo hints{};
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  int rc = getaddrinfo(url.host.c_str(), nullptr, &hints, &found);
  if (rc != 0 || found == nullptr) {
    *error = "cannot resolve " + url.host + " (IPv4): " + gai_strerror(rc);
    return std::nullopt;
  }
  std::memcpy(&url.addr, found->ai_addr, sizeof(url.addr));
  url.addr.sin_port = htons(url.port);
  freeaddrinfo(found);
  return url;
}

bool ParseSize(const std::string& s, size_t* out) {
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || errno != 0 || s[0] == '-') return false;
  *out = static_cast<size_t>(v);
  return true;
}

bool ParseDouble(const std::string& s, double* out) {
  char* end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || !std::isfinite(v) || v < 0) return false;
  *out = v;
  return true;
}

// Returns 0 to run, 1 for --help (printed), 2 on an error (printed).
int ParseOptions(int argc, char** argv, Options* o) {
  bool have_url = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    bool inline_value = false;
    if (arg.rfind("--", 0) == 0) {
      size_t eq = arg.find('=');
      if (eq != std::string::npos) {
        value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
        inline_value = true;
      }
    }
    auto next = [&](std::string* v) {
      if (inline_value) {
        *v = value;
        return true;
      }
      if (i + 1 >= argc) return false;
      *v = argv[++i];
      return true;
    };
    auto bad = [&](const std::string& why) {
      std::fprintf(stderr, "nb-sse-load: %s: %s (see --help)\n", arg.c_str(),
                   why.c_str());
      return 2;
    };
    std::string v;
    std::string error;
    if (arg == "-h" || arg == "--help") {
      std::fputs(kUsage, stdout);
      return 1;
    } else if (arg == "-q" || arg == "--quiet") {
      o->quiet = true;
    } else if (!next(&v)) {
      return bad(arg.rfind("-", 0) == 0 ? "needs a value" : "unknown argument");
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

// --- The server's /proc
// ---------------------------------------------------------

struct ProcSample {
  bool ok = false;     // Every pid could be read.
  double cpu_s = 0;    // utime + stime, summed.
  double user_s = 0;   // utime alone, in clock ticks (10 ms resolution).
  double sys_s = 0;    // stime alone, likewise.
  int64_t rss_kb = 0;  // VmRSS
  int64_t hwm_kb = 0;  // VmHWM
  int64_t threads = 0;
  int64_t fds = 0;
};

ProcSample SampleProc(const std::vector<pid_t>& pids) {
  ProcSample s;
  s.ok = !pids.empty();
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  for (pid_t pid : pids) {
    const std::string dir = "/proc/" + std::to_string(pid);
    std::ifstream stat(dir + "/stat");
    std::string line;
    if (!std::getline(stat, line)) {
      s.ok = false;
      continue;
    }
    // Fields after the ")" closing comm: state is field 3, utime 14, stime 15.
    size_t close = line.rfind(')');
    std::istringstream fields(line.substr(close + 2));
    std::string field;
    unsigned long long utime = 0;
    unsigned long long stime = 0;
    for (int n = 3; n <= 15 && fields >> field; ++n) {
      if (n == 14) utime = std::strtoull(field.c_str(), nullptr, 10);
      if (n == 15) stime = std::strtoull(field.c_str(), nullptr, 10);
    }
    s.user_s += static_cast<double>(utime) / ticks;
    s.sys_s += static_cast<double>(stime) / ticks;
    // The process's CPU-time clock counts in ns (every thread, live or
    // exited); /proc's utime + stime only in clock ticks (10 ms).
    clockid_t clock = 0;
    timespec ts{};
    if (clock_getcpuclockid(pid, &clock) == 0 &&
        clock_gettime(clock, &ts) == 0) {
      s.cpu_s += static_cast<double>(ts.tv_sec) +
                 static_cast<double>(ts.tv_nsec) / 1e9;
    } else {
      s.cpu_s += static_cast<double>(utime + stime) / ticks;
    }
    std::ifstream status(dir + "/status");
    while (std::getline(status, line)) {
      auto value = [&](std::string_view key) -> std::optional<int64_t> {
        if (line.compare(0, key.size(), key) != 0) return std::nullopt;
        return std::strtoll(line.c_str() + key.size(), nullptr, 10);
      };
      if (auto v = value("VmRSS:")) s.rss_kb += *v;
      if (auto v = value("VmHWM:")) s.hwm_kb += *v;
      if (auto v = value("Threads:")) s.threads += *v;
    }
    if (DIR* fd_dir = opendir((dir + "/fd").c_str())) {
      while (dirent* entry = readdir(fd_dir)) {
        if (entry->d_name[0] != '.') ++s.fds;
      }
      closedir(fd_dir);
    } else {
      s.ok = false;
    }
  }
  return s;
}

// CPU seconds the whole machine spent busy (every core: user, nice, system,
// irq, softirq, steal), from the first line of /proc/stat.
double MachineBusySeconds() {
  std::ifstream f("/proc/stat");
  std::string cpu;
  unsigned long long user = 0, nice = 0, system = 0, idle = 0, iowait = 0,
                     irq = 0, softirq = 0, steal = 0;
  f >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >>
      steal;
  return static_cast<double>(user + nice + system + irq + softirq + steal) /
         static_cast<double>(sysconf(_SC_CLK_TCK));
}

double LoadAverage() {
  std::ifstream f("/proc/loadavg");
  double load = 0;
  f >> load;
  return load;
}

// --- Statistics
// --------------------------------------------------------------------

// Nearest-rank percentile of `v` (sorted in place), q in [0, 1]; 0 if empty.
double Percentile(std::vector<double>* v, double q) {
  if (v->empty()) return 0;
  std::sort(v->begin(), v->end());
  size_t rank =
      static_cast<size_t>(std::ceil(q * static_cast<double>(v->size())));
  rank = std::clamp<size_t>(rank, 1, v->size());
  return (*v)[rank - 1];
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
  const Url& url = *o.publish_url;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  if (connect(fd, reinterpret_cast<const sockaddr*>(&url.addr),
              sizeof(url.addr)) != 0) {
    close(fd);
    return -1;
  }
  *stamp_ns = RealNs();
  std::string body = o.publish_body;
  auto replace = [&body](std::string_view key, const std::string& with) {
    for (size_t at = body.find(key); at != std::string::npos;
         at = body.find(key, at + with.size())) {
      body.replace(at, key.size(), with);
    }
  };
  replace("{t}", std::to_string(*stamp_ns));
  replace("{pad}", std::string(o.publish_pad, 'x'));
  replace("{i}", std::to_string(index));
  std::string request = "POST " + url.path + " HTTP/1.1\r\nHost: " + url.host +
                        ":" + std::to_string(url.port) +
                        "\r\nContent-Type: " + o.publish_content_type +
                        "\r\nContent-Length: " + std::to_string(body.size()) +
                        "\r\nConnection: close\r\n\r\n" + body;
  size_t off = 0;
  while (off < request.size()) {
    ssize_t n =
        send(fd, request.data() + off, request.size() - off, MSG_NOSIGNAL);
    if (n <= 0) {
      close(fd);
      return -1;
    }
    off += static_cast<size_t>(n);
  }
  char buf[4096];
  std::string head;
  while (head.find("\r\n") == std::string::npos && head.size() < 4096) {
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    head.append(buf, static_cast<size_t>(n));
  }
  // Drain the rest so the server is not answered with a RST mid-write.
  while (recv(fd, buf, sizeof(buf), 0) > 0) {
  }
  close(fd);
  if (head.compare(0, 9, "HTTP/1.1 ") != 0 &&
      head.compare(0, 9, "HTTP/1.0 ") != 0) {
    return -1;
  }
  return std::atoi(head.c_str() + 9);
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
enum class Chunk { kSize, kData, kDataEnd, kTrailer, kDone };

struct Stream {
  int fd = -1;
  State state = State::kIdle;
  int64_t started_ns = 0;  // Monotonic, at connect().
  size_t sent = 0;         // Request bytes written.
  std::string head;        // Response bytes until the end of the headers.
  bool chunked = false;
  std::optional<uint64_t> identity_left;  // Content-Length bytes to read.
  Chunk chunk = Chunk::kSize;
  uint64_t chunk_left = 0;
  std::string chunk_line;
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
      if (s->state == State::kHeaders) {
        s->head.append(bytes);
        size_t end = s->head.find("\r\n\r\n");
        if (end == std::string::npos) {
          if (s->head.size() > 65536) Fail(s, &errors_status_);
          continue;
        }
        std::string rest = s->head.substr(end + 4);
        if (!ParseHead(s, std::string_view(s->head).substr(0, end))) {
          Fail(s, &errors_status_);
          return;
        }
        headers_ms_.push_back(static_cast<double>(mono - s->started_ns) / 1e6);
        s->state = State::kStreaming;
        --pending_;
        s->head.clear();
        s->head.shrink_to_fit();
        Body(s, rest, real, mono);
      } else {
        Body(s, bytes, real, mono);
      }
      if (drained) return;
    }
  }

  // Status 200 and text/event-stream, or false.
  bool ParseHead(Stream* s, std::string_view head) {
    if (head.size() < 12 ||
        (head.substr(0, 9) != "HTTP/1.1 " &&
         head.substr(0, 9) != "HTTP/1.0 ") ||
        head.substr(9, 3) != "200") {
      if (bad_status_example_.empty()) {
        bad_status_example_ = std::string(head.substr(0, head.find('\r')));
      }
      return false;
    }
    bool event_stream = false;
    size_t at = head.find("\r\n");
    while (at != std::string_view::npos) {
      size_t next = head.find("\r\n", at + 2);
      std::string line(head.substr(at + 2, next == std::string_view::npos
                                               ? std::string_view::npos
                                               : next - at - 2));
      std::string lower = line;
      std::transform(
          lower.begin(), lower.end(), lower.begin(),
          [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      auto value = [&](std::string_view name) -> std::optional<std::string> {
        if (lower.compare(0, name.size(), name) != 0) return std::nullopt;
        size_t start = lower.find_first_not_of(" \t", name.size());
        return start == std::string::npos ? std::string() : lower.substr(start);
      };
      if (auto v = value("transfer-encoding:")) {
        s->chunked = v->find("chunked") != std::string::npos;
      } else if (auto v2 = value("content-length:")) {
        s->identity_left = std::strtoull(v2->c_str(), nullptr, 10);
      } else if (auto v3 = value("content-type:")) {
        event_stream = v3->compare(0, 17, "text/event-stream") == 0;
      }
      at = next;
    }
    if (!event_stream && bad_status_example_.empty()) {
      bad_status_example_ = "200 without Content-Type text/event-stream";
    }
    return event_stream;
  }

  void Body(Stream* s, std::string_view bytes, int64_t real, int64_t mono) {
    if (!s->chunked) {
      if (s->identity_left) {
        size_t take = static_cast<size_t>(
            std::min<uint64_t>(*s->identity_left, bytes.size()));
        *s->identity_left -= take;
        Feed(s, bytes.substr(0, take), real, mono);
        if (*s->identity_left == 0) Ended(s);
      } else {
        Feed(s, bytes, real, mono);
      }
      return;
    }
    while (!bytes.empty() && s->state == State::kStreaming) {
      switch (s->chunk) {
        case Chunk::kSize:
        case Chunk::kDataEnd:
        case Chunk::kTrailer: {
          size_t lf = bytes.find('\n');
          size_t take = lf == std::string_view::npos ? bytes.size() : lf + 1;
          s->chunk_line.append(bytes.substr(0, take));
          bytes.remove_prefix(take);
          if (s->chunk_line.size() > 4096) {
            ++errors_framing_;
            Ended(s);
            return;
          }
          if (lf == std::string_view::npos) break;
          std::string line = s->chunk_line;
          s->chunk_line.clear();
          while (!line.empty() &&
                 (line.back() == '\n' || line.back() == '\r')) {
            line.pop_back();
          }
          if (s->chunk == Chunk::kDataEnd) {
            s->chunk = Chunk::kSize;
          } else if (s->chunk == Chunk::kTrailer) {
            if (line.empty()) {
              s->chunk = Chunk::kDone;
              Ended(s);
              return;
            }
          } else {
            char* end = nullptr;
            s->chunk_left = std::strtoull(line.c_str(), &end, 16);
            if (end == line.c_str()) {
              ++errors_framing_;
              Ended(s);
              return;
            }
            s->chunk = s->chunk_left == 0 ? Chunk::kTrailer : Chunk::kData;
          }
          break;
        }
        case Chunk::kData: {
          size_t take = static_cast<size_t>(
              std::min<uint64_t>(s->chunk_left, bytes.size()));
          Feed(s, bytes.substr(0, take), real, mono);
          bytes.remove_prefix(take);
          s->chunk_left -= take;
          if (s->chunk_left == 0) s->chunk = Chunk::kDataEnd;
          break;
        }
        case Chunk::kDone:
          return;
      }
    }
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
  static void CloseFd(Stream* s) {
    if (s->fd < 0) return;
    linger lg{1, 0};
    setsockopt(s->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    close(s->fd);
    s->fd = -1;
  }

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
    const double per = deliveries_ > 0 ? 1e6 / static_cast<double>(deliveries_) : 0;
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

// Raises the soft RLIMIT_NOFILE to what `needed` requires (up to the hard
// limit). False when the hard limit is too low.
bool RaiseFileLimit(rlim_t needed) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return false;
  if (limit.rlim_cur >= needed) return true;
  rlimit raised = limit;
  raised.rlim_cur = std::min(limit.rlim_max, std::max(needed, limit.rlim_cur));
  if (limit.rlim_max < needed) {
    // Root may raise the hard limit too.
    raised.rlim_max = needed;
    raised.rlim_cur = needed;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) return true;
    std::fprintf(
        stderr,
        "nb-sse-load: %llu descriptors needed, hard limit %llu: raise it "
        "(ulimit -Hn, /etc/security/limits.conf)\n",
        static_cast<unsigned long long>(needed),
        static_cast<unsigned long long>(limit.rlim_max));
    return false;
  }
  return setrlimit(RLIMIT_NOFILE, &raised) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  int parsed = ParseOptions(argc, argv, &options);
  if (parsed == 1) return 0;
  if (parsed != 0) return 2;
  if (!RaiseFileLimit(static_cast<rlim_t>(options.connections) + 64)) return 2;
  auto client = std::make_unique<LoadClient>(options);
  return client->Run();
}

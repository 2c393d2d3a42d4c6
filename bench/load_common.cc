#include "load_common.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace notifications {
namespace bench {

int64_t NowNs(clockid_t clock) {
  timespec ts{};
  clock_gettime(clock, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 +
         static_cast<int64_t>(ts.tv_nsec);
}
int64_t MonoNs() { return NowNs(CLOCK_MONOTONIC); }
int64_t RealNs() { return NowNs(CLOCK_REALTIME); }

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

bool OptionReader::Next() {
  if (++at_ >= argc_) return false;
  name_ = argv_[at_];
  inline_value_.reset();
  if (name_.rfind("--", 0) == 0) {
    size_t eq = name_.find('=');
    if (eq != std::string::npos) {
      inline_value_ = name_.substr(eq + 1);
      name_ = name_.substr(0, eq);
    }
  }
  return true;
}

bool OptionReader::Value(std::string* value) {
  if (inline_value_) {
    *value = *inline_value_;
    return true;
  }
  if (at_ + 1 >= argc_) return false;
  *value = argv_[++at_];
  return true;
}

int OptionReader::Bad(const std::string& why) const {
  std::fprintf(stderr, "%s: %s: %s (see --help)\n", program_, name_.c_str(),
               why.c_str());
  return 2;
}

int OptionReader::MissingValue() const {
  return Bad(name_.rfind("-", 0) == 0 ? "needs a value" : "unknown argument");
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

bool RaiseFileLimit(rlim_t needed, const char* program) {
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
    std::fprintf(stderr,
                 "%s: %llu descriptors needed, hard limit %llu: raise it "
                 "(ulimit -Hn, /etc/security/limits.conf)\n",
                 program, static_cast<unsigned long long>(needed),
                 static_cast<unsigned long long>(limit.rlim_max));
    return false;
  }
  return setrlimit(RLIMIT_NOFILE, &raised) == 0;
}

void CloseWithReset(int* fd) {
  if (*fd < 0) return;
  linger lg{1, 0};
  setsockopt(*fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
  close(*fd);
  *fd = -1;
}

ResponseHead ParseResponseHead(std::string_view head) {
  ResponseHead h;
  h.status_line = std::string(head.substr(0, head.find('\r')));
  if (head.size() >= 12 &&
      (head.substr(0, 9) == "HTTP/1.1 " || head.substr(0, 9) == "HTTP/1.0 ")) {
    int status = 0;
    for (size_t i = 9; i < 12; ++i) {
      const char c = head[i];
      if (c < '0' || c > '9') {
        status = 0;
        break;
      }
      status = status * 10 + (c - '0');
    }
    h.status = status;
  }
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
      h.chunked = v->find("chunked") != std::string::npos;
    } else if (auto v2 = value("content-length:")) {
      h.content_length = std::strtoull(v2->c_str(), nullptr, 10);
    } else if (auto v3 = value("content-type:")) {
      h.event_stream = v3->compare(0, 17, "text/event-stream") == 0;
    }
    at = next;
  }
  return h;
}

ResponseReader::Outcome ResponseReader::Step(std::string_view* bytes,
                                             std::string_view* data) {
  if (!chunked_) {
    if (identity_left_) {
      size_t take = static_cast<size_t>(
          std::min<uint64_t>(*identity_left_, bytes->size()));
      *identity_left_ -= take;
      *data = bytes->substr(0, take);
      *bytes = std::string_view();
      return *identity_left_ == 0 ? Outcome::kEnd : Outcome::kMore;
    }
    *data = *bytes;
    *bytes = std::string_view();
    return Outcome::kMore;
  }
  if (bytes->empty()) return Outcome::kMore;
  switch (chunk_) {
    case Chunk::kSize:
    case Chunk::kDataEnd:
    case Chunk::kTrailer: {
      size_t lf = bytes->find('\n');
      size_t take = lf == std::string_view::npos ? bytes->size() : lf + 1;
      chunk_line_.append(bytes->substr(0, take));
      bytes->remove_prefix(take);
      if (chunk_line_.size() > 4096) return Outcome::kFramingError;
      if (lf == std::string_view::npos) return Outcome::kMore;
      std::string line = chunk_line_;
      chunk_line_.clear();
      while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) {
        line.pop_back();
      }
      if (chunk_ == Chunk::kDataEnd) {
        chunk_ = Chunk::kSize;
      } else if (chunk_ == Chunk::kTrailer) {
        if (line.empty()) {
          chunk_ = Chunk::kDone;
          return Outcome::kEnd;
        }
      } else {
        char* end = nullptr;
        chunk_left_ = std::strtoull(line.c_str(), &end, 16);
        if (end == line.c_str()) return Outcome::kFramingError;
        chunk_ = chunk_left_ == 0 ? Chunk::kTrailer : Chunk::kData;
      }
      return Outcome::kMore;
    }
    case Chunk::kData: {
      size_t take =
          static_cast<size_t>(std::min<uint64_t>(chunk_left_, bytes->size()));
      *data = bytes->substr(0, take);
      bytes->remove_prefix(take);
      chunk_left_ -= take;
      if (chunk_left_ == 0) chunk_ = Chunk::kDataEnd;
      return Outcome::kMore;
    }
    case Chunk::kDone:
      break;
  }
  return Outcome::kEnd;
}

int BlockingExchange(const Url& url,
                     const std::function<std::string()>& make_request,
                     std::string* response, int timeout_s) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  timeval tv{timeout_s, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  if (connect(fd, reinterpret_cast<const sockaddr*>(&url.addr),
              sizeof(url.addr)) != 0) {
    close(fd);
    return -1;
  }
  const std::string request = make_request();
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
  // Read to the end, so the server is not answered with a RST mid-write.
  char buf[4096];
  std::string got;
  while (true) {
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  const int status =
      ParseResponseHead(std::string_view(got).substr(0, got.find("\r\n\r\n")))
          .status;
  if (response != nullptr) *response = std::move(got);
  return status > 0 ? status : -1;
}

std::string FillBodyTemplate(std::string tmpl, int64_t stamp_ns, size_t pad,
                             size_t index) {
  auto replace = [&tmpl](std::string_view key, const std::string& with) {
    for (size_t at = tmpl.find(key); at != std::string::npos;
         at = tmpl.find(key, at + with.size())) {
      tmpl.replace(at, key.size(), with);
    }
  };
  replace("{t}", std::to_string(stamp_ns));
  replace("{pad}", std::string(pad, 'x'));
  replace("{i}", std::to_string(index));
  return tmpl;
}

std::string PostRequest(const Url& url, const std::string& content_type,
                        const std::string& body) {
  return "POST " + url.path + " HTTP/1.1\r\nHost: " + url.host + ":" +
         std::to_string(url.port) + "\r\nContent-Type: " + content_type +
         "\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + body;
}

namespace {

// utime and stime of `pid` from /proc/<pid>/stat, in clock ticks (10 ms);
// false when the process is gone.
bool ReadStatTicks(pid_t pid, unsigned long long* utime,
                   unsigned long long* stime) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return false;
  // Fields after the ")" closing comm: state is field 3, utime 14, stime 15.
  size_t close = line.rfind(')');
  if (close == std::string::npos || close + 2 > line.size()) return false;
  std::istringstream fields(line.substr(close + 2));
  std::string field;
  *utime = 0;
  *stime = 0;
  for (int n = 3; n <= 15 && fields >> field; ++n) {
    if (n == 14) *utime = std::strtoull(field.c_str(), nullptr, 10);
    if (n == 15) *stime = std::strtoull(field.c_str(), nullptr, 10);
  }
  return true;
}

}  // namespace

double ProcessCpuSeconds(pid_t pid) {
  // The process's CPU-time clock counts in ns (every thread, live or
  // exited); /proc's utime + stime only in clock ticks (10 ms).
  clockid_t clock = 0;
  timespec ts{};
  if (clock_getcpuclockid(pid, &clock) == 0 && clock_gettime(clock, &ts) == 0) {
    return static_cast<double>(ts.tv_sec) +
           static_cast<double>(ts.tv_nsec) / 1e9;
  }
  unsigned long long utime = 0;
  unsigned long long stime = 0;
  if (!ReadStatTicks(pid, &utime, &stime)) return -1;
  return static_cast<double>(utime + stime) /
         static_cast<double>(sysconf(_SC_CLK_TCK));
}

ProcSample SampleProc(const std::vector<pid_t>& pids) {
  ProcSample s;
  s.ok = !pids.empty();
  for (pid_t pid : pids) {
    const std::string dir = "/proc/" + std::to_string(pid);
    const double cpu = ProcessCpuSeconds(pid);
    if (cpu < 0) {
      s.ok = false;
      continue;
    }
    s.cpu_s += cpu;
    unsigned long long utime = 0;
    unsigned long long stime = 0;
    if (ReadStatTicks(pid, &utime, &stime)) {
      const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
      s.user_s += static_cast<double>(utime) / ticks;
      s.sys_s += static_cast<double>(stime) / ticks;
    }
    std::string line;
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

double Percentile(std::vector<double>* v, double q) {
  if (v->empty()) return 0;
  std::sort(v->begin(), v->end());
  size_t rank =
      static_cast<size_t>(std::ceil(q * static_cast<double>(v->size())));
  rank = std::clamp<size_t>(rank, 1, v->size());
  return (*v)[rank - 1];
}

}  // namespace bench
}  // namespace notifications

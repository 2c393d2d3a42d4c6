// What the load clients of bench/ share (nb-sse-load, nb-storm): clocks,
// plain-HTTP URLs, number flags, reading an HTTP/1.1 response from a raw
// socket's bytes (head, then a chunked or identity body), a blocking
// request for publishers and metrics, the server's /proc figures and
// percentiles. Benchmark code, not part of the bridge: nothing in lib/
// includes it.
//
// Thread-safety: free functions are thread-safe; a ResponseReader is not
// (one per connection, fed from one thread).
#pragma once

#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <time.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace notifications {
namespace bench {

// --- Clocks

int64_t NowNs(clockid_t clock);  // Nanoseconds on `clock`.
int64_t MonoNs();                // CLOCK_MONOTONIC, ns.
int64_t RealNs();                // CLOCK_REALTIME (unix time), ns.

// --- Command-line values

// A plain http://host:port/path URL, resolved once (IPv4).
struct Url {
  std::string host;
  uint16_t port = 80;
  std::string path = "/";
  sockaddr_in addr{};
};

// Parses and resolves `text`; nullopt with `*error` set when it is not
// http://host[:port][/path] or the host does not resolve to IPv4.
std::optional<Url> ParseUrl(const std::string& text, std::string* error);

// Reads a command line the way the load clients take it: "--name value",
// "--name=value", "-n value", and flags that take no value. Not
// thread-safe. Typical use:
//   OptionReader args("nb-x", argc, argv);
//   while (args.Next()) {
//     if (args.name() == "-q") { ... continue; }
//     std::string v;
//     if (!args.Value(&v)) return args.MissingValue();
//     ...
//   }
class OptionReader {
 public:
  // `argv` must outlive the reader; `program` names it in messages.
  OptionReader(const char* program, int argc, char** argv)
      : program_(program), argc_(argc), argv_(argv) {}

  // Moves to the next argument; false after the last one.
  bool Next();
  // The current argument: "--name" (without any "=value"), "-n", or a word
  // that is no option at all.
  const std::string& name() const { return name_; }
  // The current option's value: what followed '=', or else the next
  // argument, which is then consumed. False when there is none.
  bool Value(std::string* value);
  // Prints "PROGRAM: NAME: WHY (see --help)" on stderr; returns 2.
  int Bad(const std::string& why) const;
  // Bad("needs a value") for an option, Bad("unknown argument") for a
  // stray word.
  int MissingValue() const;

 private:
  const char* program_;
  int argc_;
  char** argv_;
  int at_ = 0;
  std::string name_;
  std::optional<std::string> inline_value_;
};

// A non-negative decimal count; false when `s` is anything else.
bool ParseSize(const std::string& s, size_t* out);
// A finite number >= 0; false otherwise.
bool ParseDouble(const std::string& s, double* out);

// Raises the soft RLIMIT_NOFILE to `needed` (and the hard one, as root).
// False, with a message on stderr naming `program`, when it cannot.
bool RaiseFileLimit(rlim_t needed, const char* program);

// Closes `*fd` (when >= 0) with a RST instead of a FIN (SO_LINGER 0) and
// sets it to -1: no TIME_WAIT is left on this side, so runs of 10,000
// streams back to back do not exhaust the local port range.
void CloseWithReset(int* fd);

// --- HTTP/1.1 responses

// The parts of a response head that a streaming client needs.
struct ResponseHead {
  int status = 0;             // 0 when the status line is not "HTTP/1.x NNN".
  std::string status_line;    // The first line, without its CRLF.
  bool event_stream = false;  // Content-Type starts with text/event-stream.
  bool chunked = false;       // Transfer-Encoding names chunked.
  std::optional<uint64_t> content_length;
};

// Parses a response head: the status line and header lines joined by CRLF,
// without the blank line that ends them. Header names are case-insensitive.
ResponseHead ParseResponseHead(std::string_view head);

// One HTTP/1.1 response read from the bytes of a socket as they arrive:
// the head (up to 64 KiB), then the body, chunked or identity (with a
// Content-Length, or until the connection ends).
class ResponseReader {
 public:
  enum class Outcome {
    kMore,          // Everything fed was used; more is expected.
    kRejected,      // The head was refused by `on_head`, or is over 64 KiB.
    kEnd,           // The body is complete (last chunk, or Content-Length).
    kFramingError,  // A chunk-size line is not hexadecimal or over 4 KiB.
  };

  // Feeds the next bytes. Once the head is complete, calls `on_head` once
  // with it (return false to refuse it: Feed returns kRejected); then calls
  // `on_data` with each piece of the body's payload, in order, until the
  // body ends. Bytes after the end of the body are ignored. After any
  // outcome other than kMore, the reader must not be fed again.
  template <typename OnHead, typename OnData>
  Outcome Feed(std::string_view bytes, OnHead&& on_head, OnData&& on_data) {
    if (!head_done_) {
      head_.append(bytes);
      const size_t end = head_.find("\r\n\r\n");
      if (end == std::string::npos) {
        return head_.size() > kMaxHead ? Outcome::kRejected : Outcome::kMore;
      }
      const std::string rest = head_.substr(end + 4);
      const ResponseHead head =
          ParseResponseHead(std::string_view(head_).substr(0, end));
      head_done_ = true;
      head_.clear();
      head_.shrink_to_fit();
      chunked_ = head.chunked;
      identity_left_ = head.content_length;
      if (!on_head(head)) return Outcome::kRejected;
      return FeedBody(rest, on_data);
    }
    return FeedBody(bytes, on_data);
  }

  bool head_done() const { return head_done_; }

 private:
  static constexpr size_t kMaxHead = 65536;

  template <typename OnData>
  Outcome FeedBody(std::string_view bytes, OnData& on_data) {
    do {
      std::string_view data;
      const Outcome outcome = Step(&bytes, &data);
      if (!data.empty()) on_data(data);
      if (outcome != Outcome::kMore) return outcome;
    } while (!bytes.empty());
    return Outcome::kMore;
  }

  // Takes the next piece of `*bytes` (removing it from the view): payload
  // goes to `*data` (possibly empty: a chunk line was read).
  Outcome Step(std::string_view* bytes, std::string_view* data);

  enum class Chunk { kSize, kData, kDataEnd, kTrailer, kDone };

  std::string head_;  // Bytes until the end of the head.
  bool head_done_ = false;
  bool chunked_ = false;
  std::optional<uint64_t> identity_left_;  // Content-Length bytes to read.
  Chunk chunk_ = Chunk::kSize;
  uint64_t chunk_left_ = 0;
  std::string chunk_line_;
};

// One blocking HTTP/1.1 exchange on a new connection to `url`, for a
// publisher or a /metrics scrape (not for streams). `make_request` is
// called once the connection is up (a time stamp it takes excludes the
// connect) and returns the whole request, which should say
// "Connection: close". Reads the answer until the server closes (timeouts
// of `timeout_s` on each read and write). Returns the status, or -1 when
// the connection or the exchange failed; `*response`, when given, gets
// every byte received (head and body, as sent).
int BlockingExchange(const Url& url,
                     const std::function<std::string()>& make_request,
                     std::string* response = nullptr, int timeout_s = 5);

// `tmpl` with each {t} replaced by `stamp_ns`, then each {pad} by `pad`
// 'x' characters, then each {i} by `index`: a publisher's body.
std::string FillBodyTemplate(std::string tmpl, int64_t stamp_ns, size_t pad,
                             size_t index);

// "POST <url.path>" with `body`, its Content-Type and Content-Length, and
// "Connection: close".
std::string PostRequest(const Url& url, const std::string& content_type,
                        const std::string& body);

// --- The server's /proc

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

// CPU seconds (utime + stime, every thread) process `pid` has used so far:
// its CPU-time clock (ns), /proc's clock ticks (10 ms) as a fallback; -1
// when the process is gone.
double ProcessCpuSeconds(pid_t pid);

// Sums the figures of `pids` (e.g. nginx's master and workers). CPU comes
// from each process's CPU-time clock (ns), /proc's ticks as a fallback.
ProcSample SampleProc(const std::vector<pid_t>& pids);

// CPU seconds the whole machine spent busy (every core: user, nice, system,
// irq, softirq, steal), from /proc/stat.
double MachineBusySeconds();

// The 1-minute load average.
double LoadAverage();

// --- Statistics

// Nearest-rank percentile of `v` (sorted in place), q in [0, 1]; 0 if empty.
double Percentile(std::vector<double>* v, double q);

}  // namespace bench
}  // namespace notifications

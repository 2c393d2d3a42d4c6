// nb-storm: holds N Server-Sent Events streams the way N browsers'
// EventSource objects would, and measures what happens when their server
// goes away: how fast they all come back, whether each one got everything
// it missed exactly once and in order, and what the server spent meanwhile
// (bench/README.md, "Reconnect storms"; driven by bench/storm.sh).
//
// Each stream behaves as the page (public/js/stream.js) in a browser: the
// browser's EventSource, when the body ends or the connection fails
// (refused, reset, cut), waits the reconnection time (the last `retry:` it
// was given, 3 s until then) and reconnects to the same URL with
// `Last-Event-ID: <last event id>` when that id is not empty; a response
// other than 200, or a Content-Type other than text/event-stream, stops
// the EventSource for good, and then the page's StreamManager opens a new
// one after its backoff (public/js/backoff.js: 1 s doubling up to 30 s,
// each spread by +-50 %) with `?lastEventId=<last id>` in its URL
// (counted: "given up" answers). One epoll thread holds every stream; a
// second thread publishes.
//
// Run:
//   1. connect: N streams opened at --rate per second; "READY held=N".
//   2. the publisher starts: one POST every --publish-interval seconds, the
//      id taken from each answer's "id" (the mock's gate answers it), so
//      the list of published ids is known exactly. "STEADY" once every
//      stream has received a notification (it has an id to resume from):
//      the driver may now kill or restart the server.
//   3. storm: starts at the first stream that ends after STEADY ("STORM").
//      The publisher goes on for --publish-after seconds, then stops;
//      the run ends when every stream has received the last published id
//      (or --catch-up-timeout later).
//   4. report: a table, one "RESULT key=value ..." line, and with --raw a
//      file per stream and a timeline of the storm in 100 ms buckets.
//
// Exit status: 0 after a run (whatever it measured), 2 on a setup error.
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <queue>
#include <random>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "load_common.h"
#include "notification.h"
#include "sse_parser.h"

namespace notifications {
namespace bench {
namespace {

using notifications::CompareIds;
using notifications::SseParser;

constexpr int64_t kMs = 1000000;
constexpr int64_t kSecond = 1000000000;
constexpr int64_t kBucketNs = 100 * kMs;      // Timeline resolution.
constexpr int64_t kDefaultRetryMs = 3000;     // A browser's, until `retry:`.
constexpr int64_t kBaselineNs = 5 * kSecond;  // CPU before the storm.
// The page's backoff when its EventSource gave up (public/js/backoff.js).
constexpr double kBackoffBaseMs = 1000;
constexpr double kBackoffCapMs = 30000;
constexpr double kBackoffJitter = 0.5;

double Seconds(int64_t ns) { return static_cast<double>(ns) / 1e9; }
double Millis(int64_t ns) { return static_cast<double>(ns) / 1e6; }

// --- Command line

struct Options {
  Url url;
  size_t connections = 100;
  double rate = 1000;             // Streams opened per second at the start.
  double connect_timeout_s = -1;  // -1: 30 s + connections / rate.
  std::optional<Url> publish_url;
  double publish_interval_s = 1;
  double publish_after_s = 15;  // Publishing goes on this long into the storm.
  std::string publish_body =
      R"({"service":"Storm","group":"ops","type":"push","text":"storm {i} t={t}","link":""})";
  std::string publish_content_type = "application/json";
  bool verify = true;              // Ids from the publisher's answers.
  double steady_timeout_s = 60;    // Longest wait for STEADY.
  double storm_wait_s = 120;       // Longest wait for a storm after STEADY.
  double catch_up_timeout_s = 60;  // After the publisher stops.
  std::string pids_file;   // "label pid pid..." lines, re-read as they change.
  std::string raw_prefix;  // PREFIX.streams.csv, PREFIX.timeline.csv
  std::string label = "storm";
  bool quiet = false;
};

constexpr char kUsage[] =
    R"(Usage: nb-storm --url http://HOST:PORT/PATH --publish-url URL [options]

Holds N Server-Sent Events streams with a browser EventSource's reconnection
(after the last `retry:`, 3 s until one is given, with Last-Event-ID) and
the page's own reopen when EventSource gives up (a non-200 answer or another
Content-Type: a new stream after 1, 2, 4... s +-50 %, ?lastEventId=), publishes
notifications at a steady pace, and when the server goes away measures:
reconnections over time, time until every stream is back and has everything
it missed (checked against the published ids: exactly once, in order),
resets, the retry: values given, and the CPU of the server processes.

Options:
  --url URL                  stream URL, plain http://host:port/path (required)
  -n, --connections N        streams (default 100)
  --rate R                   streams opened per second at the start, 0 = all
                             at once (default 1000)
  --connect-timeout S        longest initial connect phase (default 30 + N / rate)
  --publish-url URL          POST target of the publisher (required), e.g. the
                             mock's http://127.0.0.1:PORT/gate/Notification/Nasqueron
  --publish-interval S       seconds between POSTs (default 1)
  --publish-after S          seconds the publisher goes on after the storm
                             starts (default 15)
  --publish-body TEMPLATE    {i}: index, {t}: unix ns (default: a notification)
  --publish-content-type T   (default application/json)
  --no-verify                the publisher's answers carry no id (nchan): only
                             count events and reconnections
  --steady-timeout S         longest wait for every stream to have an id (default 60)
  --storm-wait S             longest wait for the storm after STEADY (default 120)
  --catch-up-timeout S       longest wait for the last notification after the
                             publisher stops (default 60)
  --server-pids-file FILE    lines "LABEL PID [PID...]" (e.g. "bridges 12 13",
                             "nginx 20 21"): CPU sampled every 100 ms per label;
                             re-read when it changes (a restarted server)
  --raw PREFIX               also write PREFIX.streams.csv (one line per stream)
                             and PREFIX.timeline.csv (100 ms buckets)
  --label NAME               name in the RESULT line (default storm)
  -q, --quiet                only the READY, STEADY, STORM and RESULT lines
  -h, --help

Stdout: "READY held=N", "STEADY", "STORM", the table, the RESULT line.
Exit 0 after a run, 2 on a setup error.
)";

// Returns 0 to run, 1 for --help (printed), 2 on an error (printed).
int ParseOptions(int argc, char** argv, Options* o) {
  bool have_url = false;
  // Flags whose value is a number of seconds >= 0.
  const std::map<std::string, double*> seconds = {
      {"--connect-timeout", &o->connect_timeout_s},
      {"--publish-interval", &o->publish_interval_s},
      {"--publish-after", &o->publish_after_s},
      {"--steady-timeout", &o->steady_timeout_s},
      {"--storm-wait", &o->storm_wait_s},
      {"--catch-up-timeout", &o->catch_up_timeout_s}};
  OptionReader args("nb-storm", argc, argv);
  while (args.Next()) {
    const std::string& arg = args.name();
    std::string v;
    std::string error;
    if (arg == "-h" || arg == "--help") {
      std::fputs(kUsage, stdout);
      return 1;
    } else if (arg == "-q" || arg == "--quiet") {
      o->quiet = true;
    } else if (arg == "--no-verify") {
      o->verify = false;
    } else if (!args.Value(&v)) {
      return args.MissingValue();
    } else if (auto it = seconds.find(arg); it != seconds.end()) {
      if (!ParseDouble(v, it->second)) return args.Bad("not seconds: " + v);
    } else if (arg == "--url" || arg == "--publish-url") {
      auto url = ParseUrl(v, &error);
      if (!url) return args.Bad(error);
      if (arg == "--url") {
        o->url = *url;
        have_url = true;
      } else {
        o->publish_url = *url;
      }
    } else if (arg == "-n" || arg == "--connections") {
      if (!ParseSize(v, &o->connections) || o->connections == 0)
        return args.Bad("not a count: " + v);
    } else if (arg == "--rate") {
      if (!ParseDouble(v, &o->rate)) return args.Bad("not a rate: " + v);
    } else if (arg == "--publish-body") {
      o->publish_body = v;
    } else if (arg == "--publish-content-type") {
      o->publish_content_type = v;
    } else if (arg == "--server-pids-file") {
      o->pids_file = v;
    } else if (arg == "--raw") {
      o->raw_prefix = v;
    } else if (arg == "--label") {
      o->label = v;
    } else {
      return args.Bad("unknown option");
    }
  }
  if (o->publish_interval_s <= 0) {
    std::fprintf(stderr, "nb-storm: --publish-interval must be > 0\n");
    return 2;
  }
  if (!have_url || !o->publish_url) {
    std::fprintf(stderr,
                 "nb-storm: --url and --publish-url are required (see "
                 "--help)\n");
    return 2;
  }
  if (o->connect_timeout_s < 0) {
    o->connect_timeout_s =
        30 + (o->rate > 0 ? static_cast<double>(o->connections) / o->rate : 0);
  }
  return 0;
}

// --- Publisher (second thread)

struct Published {
  std::string id;           // "" with --no-verify.
  int64_t answered_ns = 0;  // Monotonic, when the POST's answer was read.
};

// Posts one notification every interval until Stop(). Thread-safe: Run()
// on its own thread, the rest from any.
class Publisher {
 public:
  explicit Publisher(const Options& o) : o_(o) {}
  Publisher(const Publisher&) = delete;
  Publisher& operator=(const Publisher&) = delete;

  void Run() {
    const int64_t start = MonoNs();
    const auto interval = static_cast<int64_t>(o_.publish_interval_s *
                                               static_cast<double>(kSecond));
    for (size_t i = 0; !stop_.load(); ++i) {
      const int64_t due = start + static_cast<int64_t>(i) * interval;
      while (!stop_.load() && MonoNs() < due) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      if (stop_.load()) break;
      std::string answer;
      const int status = BlockingExchange(
          *o_.publish_url,
          [&] {
            return PostRequest(
                *o_.publish_url, o_.publish_content_type,
                FillBodyTemplate(o_.publish_body, RealNs(), 0, i));
          },
          &answer);
      const int64_t answered = MonoNs();
      std::string id;
      if (o_.verify) {
        const size_t at = answer.find("\"id\":\"");
        if (at != std::string::npos) {
          const size_t from = at + 6;
          id = answer.substr(from, answer.find('"', from) - from);
        }
      }
      std::lock_guard<std::mutex> lock(mu_);
      if (status < 200 || status >= 300 || (o_.verify && id.empty())) {
        ++failed_;
        if (failed_ <= 3) {
          std::fprintf(stderr, "nb-storm: publish %zu failed (status %d)\n", i,
                       status);
        }
        continue;
      }
      published_.push_back(Published{id, answered});
    }
    done_.store(true);
  }
  void Stop() { stop_.store(true); }
  bool done() const { return done_.load(); }
  // Copies what was published after the first `from` entries into `out`.
  void TakeNew(size_t from, std::vector<Published>* out) const {
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t i = from; i < published_.size(); ++i) {
      out->push_back(published_[i]);
    }
  }
  size_t failed() const {
    std::lock_guard<std::mutex> lock(mu_);
    return failed_;
  }

 private:
  const Options& o_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> done_{false};
  mutable std::mutex mu_;
  // guarded by mu_:
  std::vector<Published> published_;
  size_t failed_ = 0;
};

// --- The servers' CPU, by label

// Samples the CPU time of the processes listed in --server-pids-file, per
// label, as a running total that survives processes going away (a killed
// replica) and new ones appearing (its replacement): each sample adds, per
// pid seen in both, the CPU it spent since the previous sample. Not
// thread-safe (the loop's thread).
class ServerCpu {
 public:
  explicit ServerCpu(std::string path) : path_(std::move(path)) {}

  void Sample(int64_t now) {
    if (path_.empty()) return;
    ReadFileIfChanged();
    std::vector<double> total = samples_.empty()
                                    ? std::vector<double>(labels_.size(), 0)
                                    : samples_.back().total;
    total.resize(labels_.size(), 0);
    std::map<pid_t, double> seen;
    for (size_t l = 0; l < labels_.size(); ++l) {
      for (pid_t pid : pids_[l]) {
        const double cpu = ProcessCpuSeconds(pid);
        if (cpu < 0) continue;
        seen[pid] = cpu;
        auto before = last_.find(pid);
        // A pid seen for the first time counts from here: its CPU before
        // (start-up) is outside what was sampled.
        if (before != last_.end() && cpu >= before->second) {
          total[l] += cpu - before->second;
        }
      }
    }
    last_ = std::move(seen);
    samples_.push_back(Point{now, std::move(total)});
  }

  const std::vector<std::string>& labels() const { return labels_; }

  // CPU seconds of `label` between the samples nearest to `from` and `to`.
  double Between(size_t label, int64_t from, int64_t to) const {
    return At(label, to) - At(label, from);
  }

 private:
  struct Point {
    int64_t t;
    std::vector<double> total;  // Per label, seconds since the first sample.
  };

  double At(size_t label, int64_t t) const {
    if (samples_.empty()) return 0;
    auto it = std::lower_bound(
        samples_.begin(), samples_.end(), t,
        [](const Point& p, int64_t value) { return p.t < value; });
    if (it == samples_.end()) it = std::prev(it);
    return label < it->total.size() ? it->total[label] : 0;
  }

  void ReadFileIfChanged() {
    struct stat st {};
    if (stat(path_.c_str(), &st) != 0) return;
    const int64_t mtime =
        static_cast<int64_t>(st.st_mtim.tv_sec) * kSecond + st.st_mtim.tv_nsec;
    if (mtime == mtime_ && st.st_size == size_) return;
    mtime_ = mtime;
    size_ = st.st_size;
    std::ifstream in(path_);
    std::string line;
    for (auto& list : pids_) list.clear();
    while (std::getline(in, line)) {
      std::istringstream words(line);
      std::string label;
      if (!(words >> label)) continue;
      auto at = std::find(labels_.begin(), labels_.end(), label);
      size_t index = static_cast<size_t>(at - labels_.begin());
      if (at == labels_.end()) {
        labels_.push_back(label);
        pids_.emplace_back();
      }
      long pid = 0;
      while (words >> pid) {
        if (pid > 0) pids_[index].push_back(static_cast<pid_t>(pid));
      }
    }
  }

  std::string path_;
  int64_t mtime_ = -1;
  off_t size_ = -1;
  std::vector<std::string> labels_;
  std::vector<std::vector<pid_t>> pids_;  // Per label.
  std::map<pid_t, double> last_;          // CPU seconds at the last sample.
  std::vector<Point> samples_;
};

// --- Streams

enum class Phase { kWaiting, kConnecting, kHeaders, kStreaming };

struct Received {
  uint32_t id;  // Index in the client's table of ids.
  uint32_t ms;  // Milliseconds since the client started.
};

struct Stream {
  int fd = -1;
  Phase phase = Phase::kWaiting;
  int64_t due_ns = 0;      // kWaiting: when to connect.
  int64_t started_ns = 0;  // connect() of the current attempt.
  std::string request;     // The current attempt's request.
  size_t sent = 0;         // Of `request`.
  ResponseReader response;
  std::unique_ptr<SseParser> parser;   // Of the current connection.
  std::string last_event_id;           // Persists across connections.
  int64_t retry_ms = kDefaultRetryMs;  // Likewise.
  std::string last_notification;       // Id of the last notification.

  std::string url_id;  // ?lastEventId= of the page's current EventSource.
  uint32_t page_attempt = 0;  // The page's backoff step (0 once open).
  uint32_t attempts = 0;      // connect() calls.
  uint32_t failures = 0;      // Attempts that never got a response head.
  uint32_t connections = 0;   // 200 text/event-stream answers.
  uint32_t events = 0;        // Every event dispatched.
  uint32_t resets = 0;
  uint32_t gave_up = 0;       // Answers that stopped its EventSource (non-200).
  uint32_t out_of_order = 0;  // Id not above the previous notification's.

  // The storm, for this stream (0: not yet / never).
  int64_t storm_end_ns = 0;        // Its first end after the storm began.
  int64_t storm_retry_ms = 0;      // The reconnection time it then had.
  int64_t storm_back_ns = 0;       // First 200 after that.
  uint32_t storm_attempts = 0;     // connect() calls from end to back.
  uint32_t storm_connections = 0;  // 200s after the storm end (> 1: cut again)

  std::vector<Received> received;  // Notifications, with --verify.
};

struct Bucket {
  uint32_t ends = 0;         // Streams that ended (or attempts that failed).
  uint32_t attempts = 0;     // connect() calls.
  uint32_t established = 0;  // TCP connections made.
  uint32_t answered = 0;     // 200 text/event-stream heads.
  uint32_t caught_up = 0;    // Filled in by the report.
  uint64_t events = 0;
};

enum class RunPhase { kConnect, kWarm, kSteady, kStorm, kDone };

class StormClient {
 public:
  explicit StormClient(const Options& o)
      : o_(o), streams_(o.connections), publisher_(o), cpu_(o.pids_file) {}
  StormClient(const StormClient&) = delete;
  StormClient& operator=(const StormClient&) = delete;
  ~StormClient() {
    for (Stream& s : streams_) CloseFd(&s);
    if (epoll_ >= 0) close(epoll_);
  }

  int Run() {
    if (!RaiseFileLimit(static_cast<rlim_t>(streams_.size()) + 64,
                        "nb-storm")) {
      return 2;
    }
    epoll_ = epoll_create1(EPOLL_CLOEXEC);
    if (epoll_ < 0) {
      std::perror("nb-storm: epoll_create1");
      return 2;
    }
    load_ = LoadAverage();
    begin_ = MonoNs();
    client_cpu_begin_ = NowNs(CLOCK_PROCESS_CPUTIME_ID);
    machine_begin_ = MachineBusySeconds();
    for (size_t i = 0; i < streams_.size(); ++i) {
      const int64_t at =
          o_.rate > 0 ? begin_ + static_cast<int64_t>(static_cast<double>(i) /
                                                      o_.rate * 1e9)
                      : begin_;
      Schedule(i, at);
    }
    phase_since_ = begin_;
    int64_t next_tick = begin_;
    while (phase_ != RunPhase::kDone) {
      const int64_t now = MonoNs();
      FireTimers(now);
      if (now >= next_tick) {
        Tick(now);
        next_tick = now + kBucketNs;
      }
      int64_t wait = std::min<int64_t>(next_tick - now, 20 * kMs);
      if (!timers_.empty()) wait = std::min(wait, timers_.top().first - now);
      Poll(static_cast<int>(std::max<int64_t>(0, wait) / kMs));
    }
    end_ = MonoNs();
    client_cpu_end_ = NowNs(CLOCK_PROCESS_CPUTIME_ID);
    machine_end_ = MachineBusySeconds();
    publisher_.Stop();
    if (publish_thread_.joinable()) publish_thread_.join();
    TakePublished();
    for (Stream& s : streams_) CloseFd(&s);
    Report();
    return 0;
  }

 private:
  // --- The run's phases, every 100 ms

  void Tick(int64_t now) {
    cpu_.Sample(now);
    TakePublished();
    const double in_phase = Seconds(now - phase_since_);
    switch (phase_) {
      case RunPhase::kConnect: {
        const bool all_up =
            std::all_of(streams_.begin(), streams_.end(),
                        [](const Stream& s) { return s.connections > 0; });
        if (all_up || in_phase > o_.connect_timeout_s) {
          held_at_ready_ = Count(Phase::kStreaming);
          Say("READY held=" + std::to_string(held_at_ready_));
          publish_thread_ = std::thread([this] { publisher_.Run(); });
          Enter(RunPhase::kWarm, now);
        }
        break;
      }
      case RunPhase::kWarm: {
        const bool all_have_id = std::all_of(
            streams_.begin(), streams_.end(),
            [](const Stream& s) { return !s.last_event_id.empty(); });
        if (all_have_id || in_phase > o_.steady_timeout_s) {
          size_t with_id = 0;
          for (const Stream& s : streams_)
            if (!s.last_event_id.empty()) ++with_id;
          Say("STEADY with_id=" + std::to_string(with_id));
          steady_ns_ = now;
          Enter(RunPhase::kSteady, now);
        }
        break;
      }
      case RunPhase::kSteady:
        if (in_phase > o_.storm_wait_s) {
          std::fprintf(stderr, "nb-storm: no storm within %.0f s of STEADY\n",
                       o_.storm_wait_s);
          Enter(RunPhase::kDone, now);
        }
        break;
      case RunPhase::kStorm: {
        if (!publisher_stopped_ &&
            now - storm_ns_ >= static_cast<int64_t>(o_.publish_after_s * 1e9)) {
          publisher_.Stop();
          publisher_stopped_ = true;
          stopped_ns_ = now;
        }
        if (!publisher_stopped_ || !publisher_.done()) break;
        if (!final_taken_) {
          TakePublished();  // Everything, now that it is done.
          final_taken_ = true;
        }
        if (AllCaughtUp(now) ||
            Seconds(now - stopped_ns_) > o_.catch_up_timeout_s) {
          if (!AllCaughtUp(now)) timed_out_ = true;
          Enter(RunPhase::kDone, now);
        }
        break;
      }
      case RunPhase::kDone:
        break;
    }
  }

  // Every stream has the last published notification
  // (--no-verify: is streaming again, a second after the publisher stopped).
  bool AllCaughtUp(int64_t now) const {
    if (!o_.verify) {
      return now - stopped_ns_ > kSecond &&
             std::all_of(streams_.begin(), streams_.end(), [](const Stream& s) {
               return s.phase == Phase::kStreaming;
             });
    }
    if (published_.empty()) return true;
    const std::string& last = published_.back().id;
    return std::all_of(streams_.begin(), streams_.end(), [&](const Stream& s) {
      return s.last_notification == last;
    });
  }

  void Enter(RunPhase phase, int64_t now) {
    phase_ = phase;
    phase_since_ = now;
  }

  void Say(const std::string& line) {
    std::printf("%s\n", line.c_str());
    std::fflush(stdout);
  }

  void TakePublished() {
    const size_t before = published_.size();
    publisher_.TakeNew(before, &published_);
    if (!o_.verify) return;
    for (size_t i = before; i < published_.size(); ++i) {
      const uint32_t id = Intern(published_[i].id);
      if (position_.size() <= id) position_.resize(id + 1, -1);
      position_[id] = static_cast<int64_t>(i);
    }
  }

  uint32_t Intern(const std::string& id) {
    auto [it, added] = ids_.emplace(id, static_cast<uint32_t>(ids_.size()));
    (void)added;
    return it->second;
  }

  size_t Count(Phase phase) const {
    return static_cast<size_t>(
        std::count_if(streams_.begin(), streams_.end(),
                      [phase](const Stream& s) { return s.phase == phase; }));
  }

  Bucket& BucketAt(int64_t t) {
    const size_t index =
        static_cast<size_t>(std::max<int64_t>(0, t - begin_) / kBucketNs);
    if (buckets_.size() <= index) buckets_.resize(index + 1);
    return buckets_[index];
  }

  // --- Connections

  void Schedule(size_t index, int64_t at) {
    Stream& s = streams_[index];
    s.phase = Phase::kWaiting;
    s.due_ns = at;
    timers_.emplace(at, static_cast<uint32_t>(index));
  }

  void FireTimers(int64_t now) {
    while (!timers_.empty() && timers_.top().first <= now) {
      const auto [due, index] = timers_.top();
      timers_.pop();
      Stream& s = streams_[index];
      if (s.phase != Phase::kWaiting || s.due_ns != due) continue;
      Open(index, now);
    }
  }

  void Open(size_t index, int64_t now) {
    Stream& s = streams_[index];
    ++s.attempts;
    if (s.storm_end_ns != 0 && s.storm_back_ns == 0) ++s.storm_attempts;
    ++BucketAt(now).attempts;
    s.started_ns = now;
    s.sent = 0;
    s.response = ResponseReader();
    // An EventSource the page opened carries the id in its URL; the
    // browser sends the header once that EventSource has seen a newer id.
    // Ids are [A-Za-z0-9._:-]: nothing to escape.
    std::string target = o_.url.path;
    if (!s.url_id.empty()) {
      target += (target.find('?') == std::string::npos ? "?" : "&");
      target += "lastEventId=" + s.url_id;
    }
    s.request = "GET " + target + " HTTP/1.1\r\nHost: " + o_.url.host + ":" +
                std::to_string(o_.url.port) +
                "\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n";
    if (!s.last_event_id.empty() && s.last_event_id != s.url_id) {
      s.request += "Last-Event-ID: " + s.last_event_id + "\r\n";
    }
    s.request += "User-Agent: nb-storm\r\n\r\n";
    s.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s.fd < 0) {
      ++errors_socket_;
      Lost(index, now);
      return;
    }
    int one = 1;
    setsockopt(s.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    const int rc =
        connect(s.fd, reinterpret_cast<const sockaddr*>(&o_.url.addr),
                sizeof(o_.url.addr));
    if (rc != 0 && errno != EINPROGRESS) {
      Lost(index, now);
      return;
    }
    s.phase = Phase::kConnecting;
    epoll_event ev{};
    ev.events = EPOLLOUT | EPOLLIN | EPOLLRDHUP;
    ev.data.u64 = index;
    if (epoll_ctl(epoll_, EPOLL_CTL_ADD, s.fd, &ev) != 0) {
      ++errors_socket_;
      Lost(index, now);
    }
  }

  void Poll(int timeout_ms) {
    epoll_event events[512];
    const int n = epoll_wait(epoll_, events, 512, timeout_ms);
    for (int i = 0; i < n; ++i) {
      const size_t index = events[i].data.u64;
      Stream& s = streams_[index];
      if (s.phase == Phase::kConnecting) OnConnecting(index);
      if ((s.phase == Phase::kHeaders || s.phase == Phase::kStreaming) &&
          (events[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP))) {
        OnReadable(index);
      }
    }
  }

  void OnConnecting(size_t index) {
    Stream& s = streams_[index];
    const int64_t now = MonoNs();
    if (s.sent == 0) {
      int err = 0;
      socklen_t len = sizeof(err);
      getsockopt(s.fd, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        if (err == ECONNREFUSED) ++refused_;
        Lost(index, now);
        return;
      }
      ++BucketAt(now).established;
    }
    const ssize_t n = send(s.fd, s.request.data() + s.sent,
                           s.request.size() - s.sent, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN) {
      if (errno == ECONNREFUSED) ++refused_;
      Lost(index, now);
      return;
    }
    if (n > 0) s.sent += static_cast<size_t>(n);
    if (s.sent < s.request.size()) return;  // EPOLLOUT again.
    s.request.clear();
    s.request.shrink_to_fit();
    s.phase = Phase::kHeaders;
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.u64 = index;
    epoll_ctl(epoll_, EPOLL_CTL_MOD, s.fd, &ev);
  }

  void OnReadable(size_t index) {
    Stream& s = streams_[index];
    while (s.phase == Phase::kHeaders || s.phase == Phase::kStreaming) {
      const ssize_t n = recv(s.fd, buffer_, sizeof(buffer_), 0);
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
      if (n < 0 && errno == EINTR) continue;
      const int64_t now = MonoNs();
      if (n <= 0) {
        Lost(index, now);  // Reset or end of the connection.
        return;
      }
      const bool drained = static_cast<size_t>(n) < sizeof(buffer_);
      std::string_view bytes(buffer_, static_cast<size_t>(n));
      const ResponseReader::Outcome outcome = s.response.Feed(
          bytes,
          [&](const ResponseHead& head) { return Answered(index, head, now); },
          [&](std::string_view data) { Feed(index, data, now); });
      switch (outcome) {
        case ResponseReader::Outcome::kMore:
          break;
        case ResponseReader::Outcome::kRejected:
          // Answered() rescheduled it, or a head over 64 KiB.
          if (s.phase == Phase::kHeaders) Lost(index, now);
          return;
        case ResponseReader::Outcome::kFramingError:
          ++errors_framing_;
          Lost(index, now);
          return;
        case ResponseReader::Outcome::kEnd:
          Lost(index, now);
          return;
      }
      if (drained) return;
    }
  }

  // A response head: 200 text/event-stream streams; anything else stops the
  // browser's EventSource for good, and the page opens a new one after its
  // backoff, resuming after the last id it saw.
  bool Answered(size_t index, const ResponseHead& head, int64_t now) {
    Stream& s = streams_[index];
    if (head.status != 200 || !head.event_stream) {
      ++gave_up_;
      ++s.gave_up;
      if (gave_up_example_.empty()) {
        gave_up_example_ = head.status_line +
                           (head.event_stream ? "" : ", not text/event-stream");
      }
      ++s.failures;
      CloseFd(&s);
      s.parser.reset();
      ++BucketAt(now).ends;
      StormEnd(index, now);
      s.url_id = s.last_event_id;
      Schedule(index, now + PageBackoffMs(s.page_attempt++) * kMs);
      return false;
    }
    s.page_attempt = 0;
    s.phase = Phase::kStreaming;
    ++s.connections;
    ++BucketAt(now).answered;
    if (s.storm_end_ns != 0) {
      ++s.storm_connections;
      if (s.storm_back_ns == 0) s.storm_back_ns = now;
    }
    s.parser = std::make_unique<SseParser>();
    // Ids persist across connections in a browser: seed the new parser's
    // last event id (a blank line after an id dispatches nothing).
    s.parser->Feed("id: " + s.last_event_id + "\n\n",
                   [](const SseParser::Event&) {});
    return true;
  }

  void Feed(size_t index, std::string_view data, int64_t now) {
    Stream& s = streams_[index];
    struct Context {
      StormClient* self;
      size_t index;
      int64_t now;
    } context{this, index, now};
    s.parser->Feed(data, [&context](const SseParser::Event& event) {
      context.self->OnEvent(context.index, event, context.now);
    });
    s.last_event_id = s.parser->last_event_id();
    if (s.parser->retry_ms()) s.retry_ms = *s.parser->retry_ms();
  }

  void OnEvent(size_t index, const SseParser::Event& event, int64_t now) {
    Stream& s = streams_[index];
    ++s.events;
    ++BucketAt(now).events;
    if (event.type == "reset") {
      ++s.resets;
      return;
    }
    if (o_.verify && event.type != "notification") return;
    const std::string& id = event.last_event_id;
    if (o_.verify) {
      if (!s.last_notification.empty() &&
          CompareIds(id, s.last_notification) <= 0) {
        ++s.out_of_order;
      }
      s.received.push_back(
          Received{Intern(id), static_cast<uint32_t>((now - begin_) / kMs)});
    }
    s.last_notification = id;
  }

  // The connection ended, failed or was never made: a browser waits its
  // reconnection time, then tries again with the same Last-Event-ID.
  void Lost(size_t index, int64_t now) {
    Stream& s = streams_[index];
    if (s.phase == Phase::kConnecting || s.phase == Phase::kHeaders) {
      ++s.failures;
    }
    CloseFd(&s);
    s.parser.reset();
    ++BucketAt(now).ends;
    StormEnd(index, now);
    Schedule(index, now + s.retry_ms * kMs);
  }

  // The first end after STEADY starts the storm; each stream's first end in
  // it is its own start.
  void StormEnd(size_t index, int64_t now) {
    Stream& s = streams_[index];
    if (phase_ == RunPhase::kSteady) {
      storm_ns_ = now;
      Say("STORM");
      Enter(RunPhase::kStorm, now);
    }
    if (phase_ == RunPhase::kStorm && s.storm_end_ns == 0) {
      s.storm_end_ns = now;
      s.storm_retry_ms = s.retry_ms;
    }
  }

  // The page's delay before its new EventSource (public/js/backoff.js).
  int64_t PageBackoffMs(uint32_t attempt) {
    const double nominal = std::min(
        kBackoffCapMs, kBackoffBaseMs * std::pow(2.0, std::min(attempt, 30u)));
    const double spread =
        1 + kBackoffJitter *
                (2 * std::uniform_real_distribution<double>(0, 1)(rng_) - 1);
    return static_cast<int64_t>(std::llround(nominal * spread));
  }

  static void CloseFd(Stream* s) { CloseWithReset(&s->fd); }

  // --- Report

  struct Verdict {
    size_t missing = 0;     // Published, never received.
    size_t duplicates = 0;  // Received again, or before one already received.
    size_t unknown = 0;     // Received, never published (by us).
    // When it had every notification published before its reconnection
    // (0: never).
    int64_t caught_up_ns = 0;
  };

  // Walks what the stream received against the published list: each
  // published id must come once, in order.
  Verdict Check(const Stream& s) const {
    Verdict v;
    size_t next = 0;  // Position of the next expected notification.
    // Published before it came back: what it must have to be caught up.
    size_t needed = 0;
    if (s.storm_back_ns != 0) {
      needed = static_cast<size_t>(
          std::lower_bound(
              published_.begin(), published_.end(), s.storm_back_ns,
              [](const Published& p, int64_t t) { return p.answered_ns < t; }) -
          published_.begin());
    }
    int64_t had_needed_ns = needed == 0 ? s.storm_back_ns : 0;
    for (const Received& r : s.received) {
      const int64_t pos = r.id < position_.size() ? position_[r.id] : -1;
      if (pos < 0) {
        ++v.unknown;
        continue;
      }
      const auto p = static_cast<size_t>(pos);
      if (p < next) {
        ++v.duplicates;
        continue;
      }
      v.missing += p - next;
      next = p + 1;
      if (next == needed && v.missing == 0) {
        had_needed_ns = begin_ + static_cast<int64_t>(r.ms) * kMs;
      }
    }
    v.missing += published_.size() - std::min(next, published_.size());
    if (s.storm_back_ns != 0 && had_needed_ns != 0) {
      v.caught_up_ns = std::max(had_needed_ns, s.storm_back_ns);
    }
    return v;
  }

  void Report() {
    const bool storm = storm_ns_ != 0;
    size_t in_storm = 0, back = 0, caught = 0, cut_again = 0;
    size_t missing = 0, missing_streams = 0, duplicates = 0, unknown = 0;
    size_t out_of_order = 0, resets = 0, reset_streams = 0, never_id = 0;
    uint64_t attempts = 0, storm_attempts = 0, events = 0;
    std::vector<double> back_ms, caught_ms, retry_ms, attempts_per;
    // Beyond the stream's own reconnection time: what the server added.
    std::vector<double> back_late_ms, caught_late_ms;
    int64_t last_back = 0, last_caught = 0, max_retry_ms = 0;
    bool all_caught = true;
    std::vector<Verdict> verdicts(streams_.size());
    for (size_t i = 0; i < streams_.size(); ++i) {
      const Stream& s = streams_[i];
      attempts += s.attempts;
      events += s.events;
      resets += s.resets;
      if (s.resets > 0) ++reset_streams;
      out_of_order += s.out_of_order;
      if (s.last_event_id.empty()) ++never_id;
      if (o_.verify) {
        verdicts[i] = Check(s);
        missing += verdicts[i].missing;
        if (verdicts[i].missing > 0) ++missing_streams;
        duplicates += verdicts[i].duplicates;
        unknown += verdicts[i].unknown;
      }
      if (s.storm_end_ns == 0) continue;
      ++in_storm;
      storm_attempts += s.storm_attempts;
      attempts_per.push_back(static_cast<double>(s.storm_attempts));
      retry_ms.push_back(static_cast<double>(s.storm_retry_ms));
      max_retry_ms = std::max(max_retry_ms, s.storm_retry_ms);
      if (s.storm_connections > 1) ++cut_again;
      if (s.storm_back_ns == 0) {
        all_caught = false;
        continue;
      }
      ++back;
      back_ms.push_back(Millis(s.storm_back_ns - storm_ns_));
      const int64_t due = s.storm_end_ns + s.storm_retry_ms * kMs;
      back_late_ms.push_back(Millis(s.storm_back_ns - due));
      last_back = std::max(last_back, s.storm_back_ns);
      const int64_t c = o_.verify ? verdicts[i].caught_up_ns : s.storm_back_ns;
      if (c == 0) {
        all_caught = false;
        continue;
      }
      ++caught;
      caught_ms.push_back(Millis(c - storm_ns_));
      caught_late_ms.push_back(Millis(c - due));
      last_caught = std::max(last_caught, c);
      ++BucketAt(c).caught_up;
    }
    if (in_storm == 0) all_caught = false;
    const bool all_back = in_storm > 0 && back == in_storm;
    const double back_all_s = all_back ? Seconds(last_back - storm_ns_) : -1;
    const double caught_all_s =
        all_caught ? Seconds(last_caught - storm_ns_) : -1;
    const double target_s = static_cast<double>(max_retry_ms) / 1000 + 2;
    const bool target_met = all_caught && caught_all_s <= target_s &&
                            missing == 0 && duplicates == 0 && resets == 0 &&
                            gave_up_ == 0;

    // Peaks, over the storm's buckets.
    uint32_t peak_answered = 0, peak_attempts = 0, peak_established = 0;
    uint32_t peak_per_s = 0;  // Reconnections in the busiest second.
    double peak_at_s = 0;
    const size_t first_bucket =
        storm ? static_cast<size_t>((storm_ns_ - begin_) / kBucketNs) : 0;
    for (size_t b = first_bucket; storm && b < buckets_.size(); ++b) {
      if (buckets_[b].answered > peak_answered) {
        peak_answered = buckets_[b].answered;
        peak_at_s =
            Seconds(begin_ + static_cast<int64_t>(b) * kBucketNs - storm_ns_);
      }
      peak_attempts = std::max(peak_attempts, buckets_[b].attempts);
      uint32_t second = 0;
      for (size_t k = b; k < b + kSecond / kBucketNs && k < buckets_.size();
           ++k) {
        second += buckets_[k].answered;
      }
      peak_per_s = std::max(peak_per_s, second);
      peak_established = std::max(peak_established, buckets_[b].established);
    }

    // Server CPU: the storm (its start until every stream caught up, or the
    // end of the run) against the same length of time just before it.
    const int64_t storm_end = all_caught ? last_caught : end_;
    const int64_t storm_len = storm ? storm_end - storm_ns_ : 0;
    struct LabelCpu {
      std::string label;
      double storm_s = 0;     // CPU seconds during the storm.
      double baseline_s = 0;  // CPU seconds per second before it.
    };
    std::vector<LabelCpu> cpu;
    for (size_t l = 0; storm && l < cpu_.labels().size(); ++l) {
      LabelCpu c;
      c.label = cpu_.labels()[l];
      c.storm_s = cpu_.Between(l, storm_ns_, storm_end);
      const int64_t from = std::max(steady_ns_, storm_ns_ - kBaselineNs);
      if (storm_ns_ > from) {
        c.baseline_s =
            cpu_.Between(l, from, storm_ns_) / Seconds(storm_ns_ - from);
      }
      cpu.push_back(c);
    }

    const double client_cpu_s = Seconds(client_cpu_end_ - client_cpu_begin_);
    const double run_s = Seconds(end_ - begin_);
    double servers_s = 0;
    for (size_t l = 0; l < cpu_.labels().size(); ++l) {
      servers_s += cpu_.Between(l, begin_, end_);
    }
    const double others_pct =
        run_s > 0 ? 100 *
                        std::max(0.0, (machine_end_ - machine_begin_) -
                                          client_cpu_s - servers_s) /
                        run_s
                  : 0;
    const double r0 = Percentile(&retry_ms, 0), r50 = Percentile(&retry_ms, .5),
                 r90 = Percentile(&retry_ms, .9),
                 r100 = Percentile(&retry_ms, 1);
    const double b50 = Percentile(&back_ms, .5),
                 b99 = Percentile(&back_ms, .99);
    const double c50 = Percentile(&caught_ms, .5),
                 c99 = Percentile(&caught_ms, .99);
    const double a_max = Percentile(&attempts_per, 1);
    const double bl50 = Percentile(&back_late_ms, .5),
                 bl99 = Percentile(&back_late_ms, .99),
                 bl100 = Percentile(&back_late_ms, 1);
    const double cl50 = Percentile(&caught_late_ms, .5),
                 cl99 = Percentile(&caught_late_ms, .99),
                 cl100 = Percentile(&caught_late_ms, 1);
    // Reconnections per 100 ms from the first one, for the report.
    std::string shape;
    size_t first_answer = buckets_.size();
    for (size_t b = first_bucket; storm && b < buckets_.size(); ++b) {
      if (buckets_[b].answered > 0) {
        first_answer = b;
        break;
      }
    }
    for (size_t b = first_answer; b < buckets_.size() && b < first_answer + 80;
         ++b) {
      shape +=
          (shape.empty() ? "" : " ") + std::to_string(buckets_[b].answered);
    }
    const double first_answer_s =
        first_answer < buckets_.size()
            ? Seconds(begin_ + static_cast<int64_t>(first_answer) * kBucketNs -
                      storm_ns_)
            : 0;

    if (!o_.quiet) {
      std::printf("nb-storm %s: http://%s:%u%s\n", o_.label.c_str(),
                  o_.url.host.c_str(), o_.url.port, o_.url.path.c_str());
      std::printf(
          "  %-14s %zu held at READY of %zu; %zu never had an id; %zu answers "
          "that stop an EventSource (the page reopens)%s%s\n",
          "streams", held_at_ready_, streams_.size(), never_id, gave_up_,
          gave_up_example_.empty() ? "" : ", e.g. ", gave_up_example_.c_str());
      std::printf("  %-14s %zu published (%zu failed), one every %.2f s\n",
                  "publisher", published_.size(), publisher_.failed(),
                  o_.publish_interval_s);
      if (!storm) {
        std::printf("  %-14s none: no stream ended after STEADY\n", "storm");
      } else {
        std::printf(
            "  %-14s %zu streams cut; %" PRIu64
            " connection attempts after the cut (max %.0f for one stream), "
            "%zu refused; %zu cut again after coming back\n",
            "storm", in_storm, storm_attempts, a_max, refused_, cut_again);
        std::printf(
            "  %-14s %zu of %zu back; all within %.2f s of the first cut (p50 "
            "%.2f s, p99 %.2f s); after their own retry: p50 %.0f, p99 %.0f, "
            "max %.0f ms\n",
            "reconnected", back, in_storm, back_all_s, b50 / 1000, b99 / 1000,
            bl50, bl99, bl100);
        if (o_.verify) {
          std::printf(
              "  %-14s %zu of %zu had everything published before they came "
              "back; all within %.2f s (p50 %.2f s, p99 %.2f s); after their "
              "own retry: p50 %.0f, p99 %.0f, max %.0f ms\n",
              "caught up", caught, in_storm, caught_all_s, c50 / 1000,
              c99 / 1000, cl50, cl99, cl100);
        }
        std::printf(
            "  %-14s given to the cut streams: min %.0f, p50 %.0f, p90 %.0f, "
            "max %.0f ms\n",
            "retry", r0, r50, r90, r100);
        std::printf(
            "  %-14s peak %u reconnections (200s) per 100 ms at +%.1f s, %u in "
            "one second; %u connection attempts, %u TCP connects per 100 "
            "ms\n",
            "rate", peak_answered, peak_at_s, peak_per_s, peak_attempts,
            peak_established);
        std::printf("  %-14s reconnections per 100 ms from +%.1f s: %s\n", "",
                    first_answer_s, shape.c_str());
        for (const LabelCpu& c : cpu) {
          const double excess = c.storm_s - c.baseline_s * Seconds(storm_len);
          std::printf(
              "  %-14s %s: %.3f s of CPU during the storm (%.2f s: %.0f %% of "
              "a core), %.0f %% of a core before it; above that: %.0f us per "
              "reconnection\n",
              "server cpu", c.label.c_str(), c.storm_s, Seconds(storm_len),
              storm_len > 0 ? 100 * c.storm_s / Seconds(storm_len) : 0,
              100 * c.baseline_s,
              back > 0 ? excess * 1e6 / static_cast<double>(back) : 0);
        }
      }
      if (o_.verify) {
        std::printf(
            "  %-14s %zu missing (%zu streams), %zu duplicates, %zu out of "
            "order, %zu unknown ids, %zu resets (%zu streams)\n",
            "correctness", missing, missing_streams, duplicates, out_of_order,
            unknown, resets, reset_streams);
      } else {
        std::printf("  %-14s %" PRIu64 " events, %zu resets\n", "events",
                    events, resets);
      }
      if (storm && o_.verify) {
        std::printf(
            "  %-14s every stream caught up within the largest retry + 2 s "
            "(%.2f s), with no loss, duplicate, reset or stream given up: "
            "%s%s\n",
            "target", target_s, target_met ? "met" : "NOT met",
            timed_out_ ? " (timed out waiting)" : "");
      }
      std::printf(
          "  %-14s %.3f s CPU in %.1f s; machine: %.0f %% of a core busy "
          "with other work, load average %.2f at start\n",
          "client", client_cpu_s, run_s, others_pct, load_);
    }

    std::string cpu_fields;
    for (const LabelCpu& c : cpu) {
      char field[256];
      std::snprintf(field, sizeof(field),
                    " cpu_%s_s=%.4f cpu_%s_pct=%.1f cpu_%s_base_pct=%.1f "
                    "cpu_%s_us_per_reconnect=%.1f",
                    c.label.c_str(), c.storm_s, c.label.c_str(),
                    storm_len > 0 ? 100 * c.storm_s / Seconds(storm_len) : 0,
                    c.label.c_str(), 100 * c.baseline_s, c.label.c_str(),
                    back > 0 ? (c.storm_s - c.baseline_s * Seconds(storm_len)) *
                                   1e6 / static_cast<double>(back)
                             : 0);
      cpu_fields += field;
    }
    std::printf(
        "RESULT label=%s n=%zu held=%zu storm=%d cut=%zu back=%zu caught=%zu "
        "back_all_s=%.3f back_p50_s=%.3f back_p99_s=%.3f caught_all_s=%.3f "
        "caught_p50_s=%.3f caught_p99_s=%.3f target_s=%.3f target_met=%d "
        "back_late_p50_ms=%.0f back_late_p99_ms=%.0f back_late_max_ms=%.0f "
        "caught_late_p50_ms=%.0f caught_late_p99_ms=%.0f "
        "caught_late_max_ms=%.0f first_back_s=%.1f "
        "retry_min_ms=%.0f retry_p50_ms=%.0f retry_p90_ms=%.0f "
        "retry_max_ms=%.0f attempts=%" PRIu64 " storm_attempts=%" PRIu64
        " refused=%zu cut_again=%zu peak_per_100ms=%u "
        "peak_per_s=%u peak_attempts_per_100ms=%u "
        "peak_at_s=%.1f published=%zu publish_failed=%zu missing=%zu "
        "missing_streams=%zu duplicates=%zu out_of_order=%zu unknown=%zu "
        "resets=%zu gave_up=%zu never_id=%zu events=%" PRIu64
        " socket_errors=%zu framing_errors=%zu timed_out=%d storm_s=%.3f "
        "client_cpu_s=%.3f others_pct=%.0f "
        "load=%.2f%s\n",
        o_.label.c_str(), streams_.size(), held_at_ready_, storm ? 1 : 0,
        in_storm, back, caught, back_all_s, b50 / 1000, b99 / 1000,
        caught_all_s, c50 / 1000, c99 / 1000, target_s, target_met ? 1 : 0,
        bl50, bl99, bl100, cl50, cl99, cl100, first_answer_s, r0, r50, r90,
        r100, attempts, storm_attempts, refused_, cut_again, peak_answered,
        peak_per_s, peak_attempts, peak_at_s, published_.size(),
        publisher_.failed(), missing, missing_streams, duplicates, out_of_order,
        unknown, resets, gave_up_, never_id, events, errors_socket_,
        errors_framing_, timed_out_ ? 1 : 0, Seconds(storm_len), client_cpu_s,
        others_pct, load_, cpu_fields.c_str());
    std::fflush(stdout);
    if (!o_.raw_prefix.empty()) WriteRaw(verdicts, cpu);
  }

  template <typename Cpu>
  void WriteRaw(const std::vector<Verdict>& verdicts,
                const std::vector<Cpu>& cpu) {
    const auto rel = [&](int64_t t) {
      return t == 0 || storm_ns_ == 0 ? std::string()
                                      : std::to_string((t - storm_ns_) / kMs);
    };
    std::ofstream streams(o_.raw_prefix + ".streams.csv");
    streams << "stream,cut_ms,retry_ms,back_ms,caught_up_ms,storm_attempts,"
               "storm_connections,attempts,connections,events,missing,"
               "duplicates,unknown,resets,out_of_order,gave_up\n";
    for (size_t i = 0; i < streams_.size(); ++i) {
      const Stream& s = streams_[i];
      const Verdict& v = verdicts[i];
      streams << i << ',' << rel(s.storm_end_ns) << ','
              << (s.storm_end_ns ? std::to_string(s.storm_retry_ms) : "") << ','
              << rel(s.storm_back_ns) << ',' << rel(v.caught_up_ns) << ','
              << s.storm_attempts << ',' << s.storm_connections << ','
              << s.attempts << ',' << s.connections << ',' << s.events << ','
              << v.missing << ',' << v.duplicates << ',' << v.unknown << ','
              << s.resets << ',' << s.out_of_order << ',' << s.gave_up << '\n';
    }
    std::ofstream timeline(o_.raw_prefix + ".timeline.csv");
    timeline << "t_ms,ends,attempts,tcp_connects,reconnections,caught_up,"
                "events";
    for (const Cpu& c : cpu) timeline << ",cpu_" << c.label << "_ms";
    timeline << '\n';
    for (size_t b = 0; b < buckets_.size(); ++b) {
      const int64_t t0 = begin_ + static_cast<int64_t>(b) * kBucketNs;
      const Bucket& k = buckets_[b];
      timeline << (storm_ns_ ? (t0 - storm_ns_) / kMs : (t0 - begin_) / kMs)
               << ',' << k.ends << ',' << k.attempts << ',' << k.established
               << ',' << k.answered << ',' << k.caught_up << ',' << k.events;
      for (size_t l = 0; l < cpu.size(); ++l) {
        timeline << ','
                 << static_cast<int64_t>(cpu_.Between(l, t0, t0 + kBucketNs) *
                                         1000);
      }
      timeline << '\n';
    }
  }

  const Options& o_;
  std::vector<Stream> streams_;
  Publisher publisher_;
  std::thread publish_thread_;
  ServerCpu cpu_;
  int epoll_ = -1;
  char buffer_[65536];
  std::priority_queue<std::pair<int64_t, uint32_t>,
                      std::vector<std::pair<int64_t, uint32_t>>,
                      std::greater<>>
      timers_;  // (due, stream), stale entries skipped.

  RunPhase phase_ = RunPhase::kConnect;
  int64_t phase_since_ = 0;
  int64_t begin_ = 0, end_ = 0, steady_ns_ = 0, storm_ns_ = 0, stopped_ns_ = 0;
  bool publisher_stopped_ = false, final_taken_ = false, timed_out_ = false;
  size_t held_at_ready_ = 0;

  std::vector<Published> published_;               // Copied from the publisher.
  std::unordered_map<std::string, uint32_t> ids_;  // Interned ids.
  std::vector<int64_t> position_;  // Interned id -> index in published_.
  std::vector<Bucket> buckets_;

  std::mt19937_64 rng_{std::random_device{}()};  // The page's jitter.
  size_t gave_up_ = 0, refused_ = 0, errors_socket_ = 0, errors_framing_ = 0;
  std::string gave_up_example_;
  int64_t client_cpu_begin_ = 0, client_cpu_end_ = 0;
  double machine_begin_ = 0, machine_end_ = 0, load_ = 0;
};

}  // namespace
}  // namespace bench
}  // namespace notifications

int main(int argc, char** argv) {
  notifications::bench::Options options;
  const int parsed = notifications::bench::ParseOptions(argc, argv, &options);
  if (parsed != 0) return parsed == 1 ? 0 : 2;
  return std::make_unique<notifications::bench::StormClient>(options)->Run();
}

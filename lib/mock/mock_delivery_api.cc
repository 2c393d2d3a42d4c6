#include "mock_delivery_api.h"

#include <httplib.h>
#include <strings.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <mutex>
#include <optional>
#include <random>
#include <sstream>
#include <thread>
#include <utility>
#include <vector>

#include "notification_json.h"
#include "notification_parser.h"

namespace notifications {
namespace {

constexpr char kJson[] = "application/json";
constexpr double kMaxGenerateRate = 10000;
// httplib's pool is frozen at 8 workers, each held by a connection for its
// whole life (keep-alive included): a bridge, a browser and a test suite
// together would queue behind it.
constexpr size_t kWorkerThreads = 32;

// Debian's httplib sets SO_REUSEPORT, which lets a second server bind the
// same port silently and split the traffic; SO_REUSEADDR alone still allows
// a quick restart over TIME_WAIT sockets but makes a taken port an error.
void ExclusivePortSocketOptions(socket_t sock) {
  int yes = 1;
  setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
}

class MockHttpServer : public httplib::Server {
 public:
  // httplib listens with a frozen backlog of 5, which stalls reconnect
  // storms; listen() again on the bound socket only raises it.
  void DeepenBacklog() {
    socket_t sock = svr_sock_;
    if (sock != INVALID_SOCKET) ::listen(sock, SOMAXCONN);
  }
};

bool IsPrintableAscii(char c) { return c >= 0x21 && c <= 0x7e; }

// A peer's value, made safe and short to echo in a message or a log line.
std::string Quote(const std::string& value) {
  constexpr size_t kMax = 64;
  std::string out = "\"";
  for (size_t i = 0; i < value.size() && i < kMax; ++i) {
    char c = value[i];
    out += (IsPrintableAscii(c) || c == ' ') && c != '"' ? c : '?';
  }
  if (value.size() > kMax) out += "...";
  out += '"';
  return out;
}

// Compares in time that depends only on the lengths, so that the token
// cannot be guessed byte by byte from response times.
bool ConstantTimeEquals(const std::string& a, const std::string& b) {
  size_t n = std::max(a.size(), b.size());
  unsigned diff = a.size() == b.size() ? 0u : 1u;
  for (size_t i = 0; i < n; ++i) {
    unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= static_cast<unsigned>(x ^ y);
  }
  return diff == 0;
}

// httplib routes are regular expressions; the base path is validated to
// [A-Za-z0-9._~/-], of which only '.' means something there.
std::string RegexEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '.') out += '\\';
    out += c;
  }
  return out;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// How many times the query string of `target` names `name`. Counted on the
// raw target because httplib drops exact repeats ("after=x&after=x") from
// req.params, which the contract still calls a repeated parameter.
size_t CountQueryParameter(const std::string& target, const std::string& name) {
  size_t question = target.find('?');
  if (question == std::string::npos) return 0;
  size_t count = 0;
  size_t begin = question + 1;
  while (begin <= target.size()) {
    size_t end = std::min(target.find('&', begin), target.size());
    size_t equals = std::min(target.find('=', begin), end);
    std::string key;
    for (size_t i = begin; i < equals; ++i) {
      char c = target[i];
      if (c == '%' && i + 2 < equals && HexValue(target[i + 1]) >= 0 &&
          HexValue(target[i + 2]) >= 0) {
        key += static_cast<char>(HexValue(target[i + 1]) * 16 +
                                 HexValue(target[i + 2]));
        i += 2;
      } else {
        key += c == '+' ? ' ' : c;
      }
    }
    if (key == name) ++count;
    begin = end + 1;
  }
  return count;
}

bool ParseLimit(const std::string& text, size_t max, size_t* limit) {
  if (text.empty() || text.size() > 9) return false;
  size_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<size_t>(c - '0');
  }
  if (value < 1 || value > max) return false;
  *limit = value;
  return true;
}

void SetError(httplib::Response& res, int status, const std::string& code,
              const std::string& message) {
  res.status = status;
  res.set_content(ErrorToJson(code, message), kJson);
}

const char* ErrorCodeFor(int status) {
  switch (status) {
    case 400:
      return "bad_request";
    case 401:
      return "unauthorized";
    case 404:
      return "not_found";
    case 405:
      return "method_not_allowed";
    case 410:
      return "gone";
    case 413:
      return "payload_too_large";
    case 414:
      return "uri_too_long";
    default:
      return status >= 500 ? "internal" : "error";
  }
}

Result<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::InvalidArgument("cannot open fixtures file " + path + ": " +
                                   std::strerror(errno));
  }
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) {
    return Status::InvalidArgument("cannot read fixtures file " + path);
  }
  return content.str();
}

// The gate's answer: {"id":"…","time":"…","routingKey":"…"}.
std::string GateAnswerToJson(const Notification& n) {
  return "{\"id\":" + JsonString(n.id) + ",\"time\":" + JsonString(n.time) +
         ",\"routingKey\":" + JsonString(n.RoutingKey()) + "}";
}

// A deterministic 40-hex-digit string that looks like a git commit id.
std::string FakeSha(uint64_t n, uint64_t salt) {
  std::string out;
  uint64_t x = (n + 1) * 0x9e3779b97f4a7c15ULL ^ salt;
  while (out.size() < 40) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    char buf[20];
    snprintf(buf, sizeof buf, "%016" PRIx64, x);
    out += buf;
  }
  out.resize(40);
  return out;
}

// What a proxy in front of a dead backend, or a captive portal, answers:
// a 200 that is not JSON.
constexpr char kGarbageHtml[] =
    "<!DOCTYPE html>\n<html><head><title>Service temporarily "
    "unavailable</title></head>\n<body><h1>We&rsquo;ll be right back</h1>"
    "<p>injected fault: garbage (notifications-mock-api "
    "--fault-garbage)</p></body></html>\n";

// How often the slow fault writes a piece of the page.
constexpr std::chrono::milliseconds kDripInterval{100};
constexpr double kMaxFaultSeconds = 3600;

struct InjectedServerError {
  int status;
  const char* code;
  const char* what;
};
constexpr InjectedServerError kInjectedServerErrors[] = {
    {500, "internal", "internal server error"},
    {502, "bad_gateway", "bad gateway"},
    {503, "unavailable", "service unavailable"},
};

// {"requests":N,"total":T,"faults":{"5xx":a,...}} in MockFault order.
std::string FaultCountsToJson(const MockFaultCounts& counts) {
  std::string out = "{\"requests\":" + std::to_string(counts.requests) +
                    ",\"total\":" + std::to_string(counts.total()) +
                    ",\"faults\":{";
  for (size_t i = 0; i < kMockFaultKinds; ++i) {
    if (i > 0) out += ',';
    out += JsonString(MockFaultName(static_cast<MockFault>(i))) + ":" +
           std::to_string(counts.injected[i]);
  }
  out += "}}";
  return out;
}

}  // namespace

const char* MockFaultName(MockFault fault) {
  switch (fault) {
    case MockFault::k5xx:
      return "5xx";
    case MockFault::kDelay:
      return "delay";
    case MockFault::kClose:
      return "close";
    case MockFault::kTruncate:
      return "truncate";
    case MockFault::kGarbage:
      return "garbage";
    case MockFault::kReserve:
      return "reserve";
    case MockFault::kGone:
      return "gone";
    case MockFault::kSlow:
      return "slow";
  }
  return "unknown";
}

double MockFaultOptions::Total() const {
  double sum = 0;
  for (double r : rates) sum += r;
  return sum;
}

uint64_t MockFaultCounts::total() const {
  uint64_t sum = 0;
  for (uint64_t n : injected) sum += n;
  return sum;
}

Status ValidateMockApiOptions(const MockApiOptions& o) {
  auto bad = [](const std::string& m) { return Status::InvalidArgument(m); };
  if (o.host.empty()) return bad("host must not be empty");
  if (o.port < 0 || o.port > 65535) {
    return bad("port must be 0..65535 (0 = any free port), got " +
               std::to_string(o.port));
  }
  if (!o.base_path.empty()) {
    bool ok = o.base_path[0] == '/' && o.base_path.back() != '/';
    for (char c : o.base_path) {
      ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '~' ||
                  c == '/' || c == '-');
    }
    if (!ok || o.base_path.find("//") != std::string::npos) {
      return bad(
          "base path must be empty or like /delivery (starts with /, "
          "no trailing /, only A-Z a-z 0-9 . _ ~ - /), got " +
          Quote(o.base_path));
    }
  }
  if (o.retention < 1) return bad("retention must be at least 1");
  for (char c : o.token) {
    if (!IsPrintableAscii(c)) {
      return bad("token must be printable ASCII without spaces");
    }
  }
  if (!std::isfinite(o.generate_rate) || o.generate_rate < 0 ||
      o.generate_rate > kMaxGenerateRate) {
    return bad(
        "generate rate must be 0..10000 notifications per second, "
        "got " +
        std::to_string(o.generate_rate));
  }
  if (o.max_limit < 1) return bad("max limit must be at least 1");
  if (o.default_limit < 1 || o.default_limit > o.max_limit) {
    return bad("default limit must be 1.." + std::to_string(o.max_limit) +
               ", got " + std::to_string(o.default_limit));
  }
  if (o.overlap < 0 || static_cast<size_t>(o.overlap) > o.max_limit) {
    return bad("overlap must be 0.." + std::to_string(o.max_limit) + ", got " +
               std::to_string(o.overlap));
  }
  for (size_t i = 0; i < kMockFaultKinds; ++i) {
    double r = o.faults.rates[i];
    if (!std::isfinite(r) || r < 0 || r > 1) {
      return bad(
          std::string("fault ") + MockFaultName(static_cast<MockFault>(i)) +
          " rate must be a probability from 0 to 1, got " + std::to_string(r));
    }
  }
  // A small tolerance: rates such as 0.1 + 0.2 + ... are not exact in
  // binary, and a user who wrote rates adding up to 1 meant 1.
  if (o.faults.Total() > 1 + 1e-9) {
    return bad(
        "fault rates add up to " + std::to_string(o.faults.Total()) +
        "; at most 1 (a request gets at most one fault): lower --fault-rate "
        "or a --fault-<kind>");
  }
  const std::pair<const char*, std::chrono::milliseconds> durations[] = {
      {"delay", o.faults.delay}, {"slow", o.faults.slow}};
  for (const auto& [name, value] : durations) {
    double seconds = static_cast<double>(value.count()) / 1000;
    if (seconds < 0 || seconds > kMaxFaultSeconds) {
      return bad(std::string("fault ") + name +
                 " seconds must be 0..3600, got " + std::to_string(seconds));
    }
  }
  return Status::Ok();
}

Notification SyntheticNotification(uint64_t n) {
  Notification out;
  out.project = "Nasqueron";
  const std::string num = std::to_string(100 + n);
  const std::string before = FakeSha(n, 0x5bd1e995);
  const std::string after = FakeSha(n, 0x1b873593);
  switch (n % 12) {
    case 0:
      out.service = "GitHub";
      out.group = "ops";
      out.type = "push";
      out.text = "dereckson pushed 2 commits to rOPS operations (main)";
      out.link = "https://github.com/nasqueron/operations/compare/" +
                 before.substr(0, 12) + "..." + after.substr(0, 12);
      out.raw_content =
          R"({"ref":"refs/heads/main","before":")" + before + R"(","after":")" +
          after +
          R"(","repository":{"full_name":"nasqueron/operations"},)"
          R"("pusher":{"name":"dereckson"},"commits":[{"id":")" +
          after + R"(","message":"Deploy notifications bridge"}]})";
      break;
    case 1:
      out.service = "Jenkins";
      out.group = "ci";
      out.type = "started";
      out.text = "Job deploy-website-infra build #" + num + " started";
      out.link =
          "https://cd.nasqueron.org/job/deploy-website-infra/" + num + "/";
      out.raw_content = R"({"name":"deploy-website-infra","build":{"number":)" +
                        num + R"(,"phase":"STARTED"}})";
      break;
    case 2:
      out.service = "GitHub";
      out.group = "devtools";
      out.type = "pull_request";
      out.text = "dereckson opened pull request #" + num +
                 " on nasqueron/notifications-center: Publish the delivery API";
      out.link =
          "https://github.com/nasqueron/notifications-center/pull/" + num;
      out.raw_content =
          R"({"action":"opened","number":)" + num +
          R"(,"pull_request":{"title":"Publish the delivery API"}})";
      break;
    case 3:
      out.service = "Phabricator";
      out.group = "orgz";
      out.type = "TASK";
      out.text =
          "dereckson created T" + num + ": Document the notifications bridge";
      out.link = "";
      out.raw_content = R"({"type":"TASK","object":{"phid":"PHID-TASK-)" +
                        after.substr(0, 20) + R"("}})";
      break;
    case 4:
      out.service = "Jenkins";
      out.group = "ci";
      out.type = "completed.success";
      out.text = "Job deploy-website-infra build #" + num + " succeeded";
      out.link =
          "https://cd.nasqueron.org/job/deploy-website-infra/" + num + "/";
      out.raw_content = R"({"name":"deploy-website-infra","build":{"number":)" +
                        num + R"(,"phase":"COMPLETED","status":"SUCCESS"}})";
      break;
    case 5:
      out.service = "DockerHub";
      out.group = "docker";
      out.type = "push";
      out.text =
          "New image pushed to Docker Hub registry: "
          "nasqueron/notifications:latest";
      out.link = "https://hub.docker.com/r/nasqueron/notifications/";
      out.raw_content =
          R"({"push_data":{"tag":"latest","pusher":"nasqueron"},)"
          R"("repository":{"repo_name":"nasqueron/notifications"}})";
      break;
    case 6:
      out.service = "GitHub";
      out.group = "ops";
      out.type = "status";
      out.text = "Jenkins build #" + num + " of nasqueron/operations: success";
      out.link = "https://cd.nasqueron.org/job/operations-test/" + num + "/";
      out.raw_content =
          R"({"sha":")" + after + R"(","state":"success","context":"jenkins"})";
      break;
    case 7:
      out.service = "Phabricator";
      out.group = "devtools";
      out.type = "DREV";
      out.text =
          "dereckson created D" + num + ": Poll the delivery API with backoff";
      out.link = "";
      out.raw_content = R"({"type":"DREV","object":{"phid":"PHID-DREV-)" +
                        before.substr(0, 20) + R"("}})";
      break;
    case 8:
      out.service = "Jenkins";
      out.group = "ci";
      out.type = "completed.failure";
      out.text = "Job test-notifications-bridge build #" + num + " failed";
      out.link =
          "https://cd.nasqueron.org/job/test-notifications-bridge/" + num + "/";
      out.raw_content =
          R"({"name":"test-notifications-bridge","build":{"number":)" + num +
          R"(,"phase":"COMPLETED","status":"FAILURE"}})";
      break;
    case 9:
      out.service = "DockerHub";
      out.group = "docker";
      out.type = "buildFailure";
      out.text =
          "Image build by Docker Hub registry failure: nasqueron/etherpad";
      out.link = "https://hub.docker.com/r/nasqueron/etherpad/builds/";
      out.raw_content = R"({"repository":{"repo_name":"nasqueron/etherpad"},)"
                        R"("build":{"status":"error"}})";
      break;
    case 10:
      // A repository no group is mapped to: the Notifications Center sends "".
      out.service = "GitHub";
      out.group = "";
      out.type = "push";
      out.text = "dereckson pushed 1 commit to sandbox (master)";
      out.link = "https://github.com/dereckson/sandbox/commit/" + after;
      out.raw_content = R"({"ref":"refs/heads/master","after":")" + after +
                        R"(","repository":{"full_name":"dereckson/sandbox"}})";
      break;
    default:
      out.service = "GitHub";
      out.group = "orgz";
      out.type = "issues";
      out.text = "dereckson opened issue #" + num +
                 " on nasqueron/operations: Renew certificates";
      out.link = "https://github.com/nasqueron/operations/issues/" + num;
      out.raw_content = R"({"action":"opened","issue":{"number":)" + num +
                        R"(,"title":"Renew certificates"}})";
      break;
  }
  return out;
}

struct MockDeliveryApi::Impl {
  Impl(MockApiOptions o, Clock& c, Logger& l)
      : options(std::move(o)),
        clock(c),
        logger(l),
        store(options.retention, clock, StartPrefix(clock)) {}

  static std::string StartPrefix(Clock& clock) {
    char buf[24];
    snprintf(buf, sizeof buf, "%010" PRId64, clock.WallMillis() / 1000);
    return buf;
  }

  bool Authorized(const httplib::Request& req, httplib::Response& res) const;
  void HandleStatus(const httplib::Request& req, httplib::Response& res);
  void HandleNotifications(const httplib::Request& req, httplib::Response& res);
  void HandleFaults(const httplib::Request& req, httplib::Response& res);
  // Counts a request that may draw a fault, and draws one: true and
  // `*fault` set when it did.
  bool DrawFault(MockFault* fault);
  // A uniform integer in [lo, hi] from the fault generator.
  size_t Uniform(size_t lo, size_t hi);
  void CountFault(MockFault fault, const httplib::Request& req,
                  const std::string& detail);
  // Waits `duration` unless Stop() comes first; false when stopping.
  bool Hold(std::chrono::nanoseconds duration);
  // Answers `body` through `res` with the fault `fault` (close, slow) that
  // needs a content provider.
  void ProvideFaulty(MockFault fault, std::string body, httplib::Response& res);
  void HandleGate(const httplib::Request& req, httplib::Response& res,
                  const httplib::ContentReader& content_reader);
  void InstallRoutes();
  Status LoadFixtures();
  Status Bind();
  void GeneratorLoop();

  const MockApiOptions options;
  Clock& clock;
  Logger& logger;
  NotificationStore store;
  MockHttpServer server;
  std::atomic<int> bound_port{0};
  std::atomic<bool> listen_returned{false};

  std::mutex lifecycle_mu;
  // guarded by lifecycle_mu:
  bool started = false;
  bool stopped = false;
  std::thread listen_thread;
  std::thread generator_thread;

  std::mutex generator_mu;
  std::condition_variable generator_cv;
  // guarded by generator_mu:
  bool generator_stop = false;

  std::mutex fault_mu;
  std::condition_variable fault_cv;
  // guarded by fault_mu:
  std::mt19937_64 fault_rng{options.faults.seed != 0 ? options.faults.seed
                                                     : std::random_device{}()};
  // options.faults.rates until StopFaults() zeroes them.
  std::array<double, kMockFaultKinds> fault_rates = options.faults.rates;
  MockFaultCounts fault_counts;
  bool fault_stop = false;  // Stop() was called: no more holding requests.
};

constexpr size_t kMaxWaitSeconds = 300;

bool MockDeliveryApi::Impl::DrawFault(MockFault* fault) {
  std::lock_guard<std::mutex> lock(fault_mu);
  ++fault_counts.requests;
  double u = std::uniform_real_distribution<double>(0.0, 1.0)(fault_rng);
  double edge = 0;
  for (size_t i = 0; i < kMockFaultKinds; ++i) {
    edge += fault_rates[i];
    if (u < edge) {
      *fault = static_cast<MockFault>(i);
      return true;
    }
  }
  return false;
}

size_t MockDeliveryApi::Impl::Uniform(size_t lo, size_t hi) {
  std::lock_guard<std::mutex> lock(fault_mu);
  return std::uniform_int_distribution<size_t>(lo, std::max(lo, hi))(fault_rng);
}

void MockDeliveryApi::Impl::CountFault(MockFault fault,
                                       const httplib::Request& req,
                                       const std::string& detail) {
  {
    std::lock_guard<std::mutex> lock(fault_mu);
    ++fault_counts.injected[static_cast<size_t>(fault)];
  }
  logger.Info(std::string("fault: ") + MockFaultName(fault) +
              " injected into " + Quote(req.target) +
              (detail.empty() ? "" : " (" + detail + ")"));
}

bool MockDeliveryApi::Impl::Hold(std::chrono::nanoseconds duration) {
  std::unique_lock<std::mutex> lock(fault_mu);
  clock.WaitFor(fault_cv, lock, duration, [this] { return fault_stop; });
  return !fault_stop;
}

void MockDeliveryApi::Impl::ProvideFaulty(MockFault fault, std::string body,
                                          httplib::Response& res) {
  const size_t size = body.size();
  auto shared = std::make_shared<const std::string>(std::move(body));
  if (fault == MockFault::kClose) {
    // The full Content-Length, then part of the body: returning false from
    // the provider makes httplib close the connection right there, which
    // the caller sees as a body cut short (curl: "transfer closed with N
    // bytes remaining to read").
    const size_t part = Uniform(1, size - 1);
    res.set_content_provider(
        size, kJson,
        [shared, part](size_t offset, size_t, httplib::DataSink& sink) {
          if (offset < part) sink.write(shared->data() + offset, part - offset);
          return false;
        });
    return;
  }
  // kSlow: the page in pieces, one every kDripInterval, over about
  // options.faults.slow in all.
  const size_t ticks = std::max<size_t>(
      1, static_cast<size_t>(options.faults.slow / kDripInterval));
  const size_t piece = std::max<size_t>(1, (size + ticks - 1) / ticks);
  res.set_content_provider(size, kJson,
                           [this, shared, piece](size_t offset, size_t length,
                                                 httplib::DataSink& sink) {
                             if (offset > 0 && !Hold(kDripInterval))
                               return false;
                             return sink.write(shared->data() + offset,
                                               std::min(piece, length));
                           });
}

bool MockDeliveryApi::Impl::Authorized(const httplib::Request& req,
                                       httplib::Response& res) const {
  if (options.token.empty()) return true;
  static constexpr char kScheme[] = "Bearer ";
  constexpr size_t kSchemeLen = sizeof kScheme - 1;
  std::string message;
  size_t count = req.get_header_value_count("Authorization");
  if (count == 0) {
    message = "this API requires a token: send Authorization: Bearer <token>";
  } else if (count > 1) {
    message = "send a single Authorization header";
  } else {
    std::string value = req.get_header_value("Authorization");
    if (value.size() > kSchemeLen &&
        strncasecmp(value.c_str(), kScheme, kSchemeLen) == 0 &&
        ConstantTimeEquals(value.substr(kSchemeLen), options.token)) {
      return true;
    }
    message =
        "wrong token: send Authorization: Bearer <token> with the "
        "token the API was started with";
  }
  res.set_header("WWW-Authenticate", "Bearer realm=\"notifications-mock-api\"");
  SetError(res, 401, "unauthorized", message);
  return false;
}

void MockDeliveryApi::Impl::HandleStatus(const httplib::Request&,
                                         httplib::Response& res) {
  res.set_content("ALIVE", "text/plain");
}

void MockDeliveryApi::Impl::HandleNotifications(const httplib::Request& req,
                                                httplib::Response& res) {
  if (!Authorized(req, res)) return;
  for (const char* name : {"after", "limit", "wait"}) {
    size_t count =
        std::max(req.params.count(name), CountQueryParameter(req.target, name));
    if (count > 1) {
      SetError(res, 400, "bad_request",
               std::string("parameter ") + name + " appears " +
                   std::to_string(count) + " times; give it at most once");
      return;
    }
  }
  size_t limit = options.default_limit;
  if (req.has_param("limit")) {
    std::string text = req.get_param_value("limit");
    if (!ParseLimit(text, options.max_limit, &limit)) {
      SetError(res, 400, "bad_request",
               "limit must be an integer from 1 to " +
                   std::to_string(options.max_limit) + ", got " + Quote(text));
      return;
    }
  }
  std::optional<std::string> after;
  if (req.has_param("after")) {
    after = req.get_param_value("after");
    if (!IsValidId(*after)) {
      SetError(res, 400, "bad_request",
               "after must be a notification id (1 to 128 characters among "
               "A-Z a-z 0-9 . _ : -), got " +
                   Quote(*after));
      return;
    }
  }
  // Long-poll (docs/delivery-api.md): hold an empty answer up to `wait`.
  std::chrono::milliseconds wait{0};
  if (req.has_param("wait")) {
    std::string text = req.get_param_value("wait");
    size_t seconds = 0;
    if (!ParseLimit(text, kMaxWaitSeconds, &seconds) && text != "0") {
      SetError(res, 400, "bad_request",
               "wait must be a whole number of seconds from 0 to " +
                   std::to_string(kMaxWaitSeconds) + ", got " + Quote(text));
      return;
    }
    wait = std::chrono::seconds(seconds);
  }
  MockFault fault = MockFault::k5xx;
  bool faulty = DrawFault(&fault);
  if (faulty && fault == MockFault::k5xx) {
    const InjectedServerError& e =
        kInjectedServerErrors[Uniform(0, std::size(kInjectedServerErrors) - 1)];
    CountFault(fault, req, std::to_string(e.status));
    SetError(res, e.status, e.code,
             std::string("injected fault: ") + e.what +
                 " (notifications-mock-api --fault-5xx); retry later");
    return;
  }
  if (faulty && fault == MockFault::kGone) {
    if (!after) {
      faulty = false;  // Nothing to forget: a normal answer.
    } else {
      CountFault(fault, req, "");
      SetError(res, 410, "gone",
               "cursor " + *after +
                   " is no longer retained (injected fault: "
                   "notifications-mock-api --fault-gone); restart without "
                   "after");
      return;
    }
  }
  if (faulty && fault == MockFault::kDelay) {
    CountFault(fault, req,
               "held " + std::to_string(options.faults.delay.count()) + " ms");
    // Then a normal answer, with what the store holds by then: a caller
    // patient enough gets a valid page.
    Hold(options.faults.delay);
    faulty = false;
  }
  size_t overlap = static_cast<size_t>(options.overlap);
  if (faulty && fault == MockFault::kReserve) overlap = Uniform(1, limit);
  NotificationStore::Page page = store.Query(after, limit, overlap);
  if (!page.gone && page.items.empty() && wait.count() > 0) {
    // Nothing newer yet: answer as soon as something arrives.
    if (store.WaitForNewer(page.cursor, wait)) {
      page = store.Query(after, limit, overlap);
    }
  }
  if (page.gone) {
    SetError(
        res, 410, "gone",
        "cursor " + *after + " is no longer retained; restart without after");
    return;
  }
  std::string body = PageToJson(page.items, page.cursor, page.more);
  if (!faulty) {
    res.set_content(body, kJson);
    return;
  }
  switch (fault) {
    case MockFault::kReserve:
      // Counted only when the page does re-serve something: it needs a new
      // item and an `after` to re-serve from.
      if (after && !page.items.empty() &&
          CompareIds(page.items.front().id, *after) <= 0) {
        CountFault(fault, req, "from " + page.items.front().id);
      }
      res.set_content(body, kJson);
      return;
    case MockFault::kTruncate: {
      // A proper prefix of a JSON object is never valid JSON.
      size_t cut = Uniform(1, body.size() - 1);
      CountFault(fault, req,
                 std::to_string(cut) + " of " + std::to_string(body.size()) +
                     " bytes");
      body.resize(cut);
      res.set_content(body, kJson);
      return;
    }
    case MockFault::kGarbage:
      CountFault(fault, req, "");
      res.set_content(kGarbageHtml, "text/html");
      return;
    case MockFault::kClose:
    case MockFault::kSlow:
      CountFault(fault, req, std::to_string(body.size()) + " bytes");
      ProvideFaulty(fault, std::move(body), res);
      return;
    case MockFault::k5xx:
    case MockFault::kGone:
    case MockFault::kDelay:
      break;  // Handled above.
  }
  res.set_content(body, kJson);
}

void MockDeliveryApi::Impl::HandleFaults(const httplib::Request& req,
                                         httplib::Response& res) {
  if (!Authorized(req, res)) return;
  MockFaultCounts counts;
  {
    std::lock_guard<std::mutex> lock(fault_mu);
    if (req.method == "DELETE") {
      if (fault_rates != decltype(fault_rates){}) {
        logger.Info("fault: injection stopped by DELETE " + Quote(req.path));
      }
      fault_rates.fill(0);
    }
    counts = fault_counts;
  }
  res.set_content(FaultCountsToJson(counts), kJson);
}

void MockDeliveryApi::Impl::HandleGate(
    const httplib::Request& req, httplib::Response& res,
    const httplib::ContentReader& content_reader) {
  // The body is read through a reader because httplib applies
  // set_payload_max_length to Content-Length bodies only: a chunked one
  // would otherwise be buffered whole, however large.
  std::string body;
  bool too_large = false;
  bool complete = content_reader([&](const char* data, size_t length) {
    if (body.size() + length > kMockMaxPayloadBytes) {
      too_large = true;
      return false;
    }
    body.append(data, length);
    return true;
  });
  if (too_large || res.status == 413) {
    // The rest of the body is still on the connection: it cannot be reused.
    res.set_header("Connection", "close");
    SetError(res, 413, "payload_too_large",
             "request body larger than " +
                 std::to_string(kMockMaxPayloadBytes) + " bytes");
    return;
  }
  if (!complete) {
    res.set_header("Connection", "close");
    SetError(res, 400, "bad_request", "could not read the request body");
    return;
  }
  if (!Authorized(req, res)) return;
  const std::string project = req.matches[1];
  Result<Notification> parsed = ParseGateNotification(body, project);
  if (!parsed.ok()) {
    SetError(res, 400, "bad_request", parsed.status().message());
    return;
  }
  Notification stored = store.Append(std::move(parsed).value());
  logger.Info("accepted " + stored.id + " " + stored.RoutingKey() +
              " from the gate");
  res.set_content(GateAnswerToJson(stored), kJson);
}

void MockDeliveryApi::Impl::InstallRoutes() {
  const std::string base = RegexEscape(options.base_path);
  server.Get(base + "/status",
             [this](const httplib::Request& req, httplib::Response& res) {
               HandleStatus(req, res);
             });
  server.Get(base + "/notifications",
             [this](const httplib::Request& req, httplib::Response& res) {
               HandleNotifications(req, res);
             });
  server.Get(base + "/faults",
             [this](const httplib::Request& req, httplib::Response& res) {
               HandleFaults(req, res);
             });
  server.Delete(base + "/faults",
                [this](const httplib::Request& req, httplib::Response& res) {
                  HandleFaults(req, res);
                });
  server.Post("/gate/Notification/([^/]+)",
              [this](const httplib::Request& req, httplib::Response& res,
                     const httplib::ContentReader& content_reader) {
                HandleGate(req, res, content_reader);
              });

  // Called for every answer >= 400, ours included: those already have a
  // body; httplib's own (404, 413, 400 on a malformed request) get the
  // contract's JSON error body here.
  server.set_error_handler(httplib::Server::HandlerWithResponse(
      [this](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty())
          return httplib::Server::HandlerResponse::Unhandled;
        std::string message;
        if (res.status == 404) {
          message =
              "no route for " + req.method + " " + Quote(req.path) +
              "; the delivery API is GET " + options.base_path +
              "/status and GET " + options.base_path +
              "/notifications, the gate POST /gate/Notification/{project}";
        } else if (res.status == 413) {
          message = "request body larger than " +
                    std::to_string(kMockMaxPayloadBytes) + " bytes";
        } else {
          message = std::string("HTTP ") + std::to_string(res.status);
        }
        res.set_content(ErrorToJson(ErrorCodeFor(res.status), message), kJson);
        return httplib::Server::HandlerResponse::Handled;
      }));
  server.set_exception_handler([this](const httplib::Request& req,
                                      httplib::Response& res,
                                      std::exception_ptr ep) {
    std::string what = "unknown exception";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    logger.Error("mock API: " + req.method + " " + Quote(req.path) +
                 " failed: " + what);
    SetError(res, 500, "internal", "internal error: " + what);
  });
  server.set_logger(
      [this](const httplib::Request& req, const httplib::Response& res) {
        if (!logger.Enabled(LogLevel::kDebug)) return;
        logger.Debug("mock API: " + req.remote_addr + " " + req.method + " " +
                     Quote(req.target) + " -> " + std::to_string(res.status) +
                     " (" + std::to_string(res.body.size()) + " bytes)");
      });
}

Status MockDeliveryApi::Impl::LoadFixtures() {
  if (options.fixtures_path.empty()) return Status::Ok();
  Result<std::string> text = ReadWholeFile(options.fixtures_path);
  if (!text.ok()) return text.status();
  Result<std::vector<Notification>> items = ParseNotificationArray(*text);
  if (!items.ok()) {
    return Status::InvalidArgument("fixtures file " + options.fixtures_path +
                                   ": " + items.status().message());
  }
  for (const Notification& n : *items) store.Append(n);
  logger.Info("loaded " + std::to_string(items->size()) +
              " notifications from fixtures file " + options.fixtures_path);
  return Status::Ok();
}

Status MockDeliveryApi::Impl::Bind() {
  server.set_socket_options(ExclusivePortSocketOptions);
  server.set_payload_max_length(kMockMaxPayloadBytes);
  // Without TCP_NODELAY, an answer on a reused (keep-alive) connection
  // waits for the client's delayed ACK: ~40 ms added to every poll.
  server.set_tcp_nodelay(true);
  server.new_task_queue = [] {
    return new httplib::ThreadPool(kWorkerThreads);
  };
  errno = 0;
  int port = options.port;
  bool ok;
  if (port == 0) {
    port = server.bind_to_any_port(options.host);
    ok = port > 0;
  } else {
    ok = server.bind_to_port(options.host, port);
  }
  if (!ok) {
    int err = errno;
    std::string why =
        err != 0 ? std::strerror(err) : "cannot resolve the host or bind to it";
    return Status::Unavailable(
        "cannot listen on " + options.host + ":" +
        std::to_string(options.port) + ": " + why +
        (err == EADDRINUSE ? " (another process uses this port: stop it, or "
                             "choose another with --port, 0 for any free one)"
                           : ""));
  }
  server.DeepenBacklog();
  bound_port = port;
  return Status::Ok();
}

void MockDeliveryApi::Impl::GeneratorLoop() {
  using Nanos = std::chrono::nanoseconds;
  const Nanos interval = std::chrono::duration_cast<Nanos>(
      std::chrono::duration<double>(1.0 / options.generate_rate));
  uint64_t n = 0;
  auto next = clock.Now() + interval;
  std::unique_lock<std::mutex> lock(generator_mu);
  while (!generator_stop) {
    auto now = clock.Now();
    if (now < next) {
      clock.WaitFor(generator_cv, lock, next - now,
                    [this] { return generator_stop; });
      continue;
    }
    lock.unlock();
    Notification stored = store.Append(SyntheticNotification(n++));
    logger.Info("generated " + stored.id + " " + stored.RoutingKey());
    lock.lock();
    next += interval;
    // After a stall (a suspended laptop), resume the rate instead of
    // catching up with a burst.
    if (next + std::chrono::seconds(1) < now) next = now + interval;
  }
}

MockDeliveryApi::MockDeliveryApi(MockApiOptions options, Clock& clock,
                                 Logger& logger)
    : impl_(std::make_unique<Impl>(std::move(options), clock, logger)) {}

MockDeliveryApi::~MockDeliveryApi() { Stop(); }

Status MockDeliveryApi::Start() {
  Impl& d = *impl_;
  std::lock_guard<std::mutex> lock(d.lifecycle_mu);
  if (d.started || d.stopped) {
    return Status::Error(Status::Code::kInternal,
                         "MockDeliveryApi::Start may be called once, before "
                         "Stop");
  }
  d.started = true;
  Status valid = ValidateMockApiOptions(d.options);
  if (!valid.ok()) return valid;
  Status fixtures = d.LoadFixtures();
  if (!fixtures.ok()) return fixtures;
  d.InstallRoutes();
  Status bound = d.Bind();
  if (!bound.ok()) return bound;

  d.listen_thread = std::thread([&d] {
    if (!d.server.listen_after_bind()) {
      d.logger.Error("mock API: the server stopped accepting connections");
    }
    d.listen_returned = true;
  });
  // Server::stop() is a no-op until the accept loop runs: wait for it so
  // that a Stop() right after Start() cannot be lost.
  while (!d.server.is_running() && !d.listen_returned) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (d.options.faults.Total() > 0) {
    std::string rates;
    for (size_t i = 0; i < kMockFaultKinds; ++i) {
      if (d.options.faults.rates[i] <= 0) continue;
      char buf[48];
      snprintf(buf, sizeof buf, " %s %.4g",
               MockFaultName(static_cast<MockFault>(i)),
               d.options.faults.rates[i]);
      rates += buf;
    }
    d.logger.Warn("mock API: injecting faults into " + d.options.base_path +
                  "/notifications, per request:" + rates + " (counts at GET " +
                  d.options.base_path + "/faults)");
  }
  if (d.options.generate_rate > 0) {
    d.generator_thread = std::thread([&d] { d.GeneratorLoop(); });
  }
  d.logger.Info("mock API listening on " + d.options.host + ":" +
                std::to_string(d.bound_port.load()) + d.options.base_path);
  return Status::Ok();
}

int MockDeliveryApi::port() const { return impl_->bound_port.load(); }

void MockDeliveryApi::Stop() {
  Impl& d = *impl_;
  std::lock_guard<std::mutex> lock(d.lifecycle_mu);
  d.stopped = true;
  {
    std::lock_guard<std::mutex> generator_lock(d.generator_mu);
    d.generator_stop = true;
  }
  d.generator_cv.notify_all();
  if (d.generator_thread.joinable()) d.generator_thread.join();
  {
    // Before server.stop(), which waits for the requests in flight: those
    // held by a delay or slow fault must let go at once.
    std::lock_guard<std::mutex> fault_lock(d.fault_mu);
    d.fault_stop = true;
  }
  d.store.Shutdown();  // Long-polls let go too.
  d.fault_cv.notify_all();
  if (d.listen_thread.joinable()) {
    d.server.stop();
    d.listen_thread.join();
  }
}

NotificationStore& MockDeliveryApi::store() { return impl_->store; }

void MockDeliveryApi::StopFaults() {
  std::lock_guard<std::mutex> lock(impl_->fault_mu);
  impl_->fault_rates.fill(0);
}

MockFaultCounts MockDeliveryApi::fault_counts() const {
  std::lock_guard<std::mutex> lock(impl_->fault_mu);
  return impl_->fault_counts;
}

const MockApiOptions& MockDeliveryApi::options() const {
  return impl_->options;
}

}  // namespace notifications

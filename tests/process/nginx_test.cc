// The bridge behind a real nginx configured with the location block we
// ship for api.nasqueron.org (packaging/nginx/notifications.conf, its
// {{ app_port }} and {{ api_entry_point }} filled in), with a real mock
// delivery API upstream. nginx runs as a child process on a free loopback
// port, from a generated nginx.conf in a temporary directory (error log,
// pid and temp paths there too), with compression on for event streams at
// the server level, as a busy front end could have it.
//
// Controls: each behaviour is also shown to fail when the directive that
// provides it is taken out, so these tests would notice a regression in
// the shipped file.
//
// nginx: /usr/sbin/nginx (Debian's "nginx", in the test group of
// packaging/debian-packages.txt), or $NB_NGINX. Without it the cases say so
// and pass.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <utility>

#include "test_support.h"

namespace notifications {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using testing::BridgeProcess;
using testing::ChildProcess;
using testing::HttpRequestTo;
using testing::MockApiProcess;
using testing::SseClient;

constexpr char kEntryPoint[] = "/notifications";

std::string NginxBinary() {
  const char* env = std::getenv("NB_NGINX");
  return env != nullptr && *env != '\0' ? env : "/usr/sbin/nginx";
}

bool NginxMissing() {
  if (access(NginxBinary().c_str(), X_OK) == 0) return false;
  MESSAGE("SKIPPED: no nginx at " << NginxBinary()
          << " (scripts/install-deps.sh test installs Debian's nginx; or set NB_NGINX)");
  return true;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

// Replaces every `from` in `text`; fails the test if there is none, so an
// edit of the shipped file cannot silently turn a test into a no-op.
void ReplaceAll(std::string& text, const std::string& from, const std::string& to) {
  size_t count = 0;
  for (size_t at = text.find(from); at != std::string::npos;
       at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
    ++count;
  }
  REQUIRE_MESSAGE(count > 0, "packaging/nginx/notifications.conf has no \"" << from << "\"");
}

// A loopback port nobody listens on right now (nginx has no "port 0").
int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  close(fd);
  return port;
}

// nginx in front of `upstream_port`, with the shipped location block after
// `edits` (each one must apply).
class NginxProxy {
 public:
  NginxProxy(int upstream_port,
             const std::vector<std::pair<std::string, std::string>>& edits = {}) {
    char tmpl[] = "/tmp/nb-nginx-XXXXXX";
    REQUIRE(mkdtemp(tmpl) != nullptr);
    dir_ = tmpl;
    std::string location = ReadFile(std::string(NB_SOURCE_DIR) + "/packaging/nginx/notifications.conf");
    ReplaceAll(location, "{{ app_port }}", std::to_string(upstream_port));
    ReplaceAll(location, "{{ api_entry_point }}", kEntryPoint);
    for (const auto& [from, to] : edits) ReplaceAll(location, from, to);
    WriteFile(dir_ + "/notifications.conf", location);

    for (int attempt = 0; attempt < 5 && port_ == 0; ++attempt) {
      int port = FreePort();
      REQUIRE(port > 0);
      WriteFile(dir_ + "/nginx.conf", MainConfig(port));
      process_ = std::make_unique<ChildProcess>(std::vector<std::string>{
          NginxBinary(), "-p", dir_ + "/", "-c", dir_ + "/nginx.conf", "-e",
          dir_ + "/error.log", "-g", "daemon off;"});
      REQUIRE(process_->started());
      // Ready when nginx itself answers (a server of another test may have
      // taken the port between FreePort() and nginx's bind).
      for (auto deadline = Clock::now() + 10s; Clock::now() < deadline;) {
        if (process_->Wait(0ms) != -1) break;  // Exited: port taken or bad config.
        auto probe = HttpRequestTo(Url(port, "/status"));
        if (probe.status != 0 && probe.headers["server"].rfind("nginx", 0) == 0) {
          port_ = port;
          break;
        }
        std::this_thread::sleep_for(20ms);
      }
    }
    REQUIRE_MESSAGE(port_ > 0, "nginx did not start:\n" << ErrorLog());
  }
  ~NginxProxy() {
    if (process_) {
      process_->Signal(SIGTERM);
      process_->Wait(5s);
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  NginxProxy(const NginxProxy&) = delete;
  NginxProxy& operator=(const NginxProxy&) = delete;

  // A URL under the entry point, e.g. url("/events").
  std::string url(const std::string& path) const { return Url(port_, path); }
  std::string ErrorLog() const { return ReadFile(dir_ + "/error.log"); }

 private:
  static std::string Url(int port, const std::string& path) {
    return "http://127.0.0.1:" + std::to_string(port) + kEntryPoint + path;
  }
  std::string MainConfig(int port) const {
    const std::string& d = dir_;
    return "worker_processes 1;\n"
           "master_process off;\n"
           "pid " + d + "/nginx.pid;\n"
           "error_log " + d + "/error.log info;\n"
           "events { worker_connections 256; }\n"
           "http {\n"
           "  access_log " + d + "/access.log;\n"
           "  client_body_temp_path " + d + "/client_body;\n"
           "  proxy_temp_path " + d + "/proxy;\n"
           "  fastcgi_temp_path " + d + "/fastcgi;\n"
           "  uwsgi_temp_path " + d + "/uwsgi;\n"
           "  scgi_temp_path " + d + "/scgi;\n"
           "  gzip on;\n"
           "  gzip_min_length 1;\n"
           "  gzip_types text/event-stream text/plain application/json;\n"
           "  server {\n"
           "    listen 127.0.0.1:" + std::to_string(port) + ";\n"
           "    include " + d + "/notifications.conf;\n"
           "  }\n"
           "}\n";
  }

  std::string dir_;
  int port_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

std::string Body(const std::string& text) {
  return R"({"service":"GitHub","group":"ops","type":"push","text":")" + text +
         R"(","link":""})";
}

bool WaitConnected(const SseClient& client, std::chrono::milliseconds timeout) {
  for (auto deadline = Clock::now() + timeout; Clock::now() < deadline;) {
    if (client.status() != 0) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

double Ms(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

// Streams through nginx ask for gzip, as browsers do: a compressed or
// buffered stream would show here.
const std::map<std::string, std::string> kBrowserHeaders = {{"Accept-Encoding", "gzip"}};

// The shipped block, made independent of the bridge's own
// "X-Accel-Buffering: no": only the block's directives may keep nginx
// from buffering.
const std::pair<std::string, std::string> kIgnoreBridgeHint = {
    "proxy_buffering off;", "proxy_buffering off; proxy_ignore_headers X-Accel-Buffering;"};

TEST_CASE("nginx: the shipped location serves the bridge under its entry point") {
  if (NginxMissing()) return;
  MockApiProcess mock;
  REQUIRE(mock.port > 0);
  BridgeProcess bridge(mock.base_url(), {"--base-path", kEntryPoint});
  REQUIRE(bridge.port > 0);
  NginxProxy nginx(bridge.port);

  auto status = HttpRequestTo(nginx.url("/status"));
  CHECK(status.status == 200);
  CHECK(status.body == "ALIVE");
  auto page = HttpRequestTo(nginx.url("/"));
  CHECK(page.status == 200);
  CHECK(page.body == ReadFile(std::string(NB_SOURCE_DIR) + "/public/index.html"));
  // Without the slash the page's relative URLs would break: redirected.
  auto bare = HttpRequestTo(nginx.url(""));
  CHECK(bare.status == 301);
  CHECK(bare.headers["location"].find(std::string(kEntryPoint) + "/") != std::string::npos);
}

TEST_CASE("nginx: events pass through the shipped location at once and uncompressed") {
  if (NginxMissing()) return;
  constexpr double kPollS = 0.5;
  MockApiProcess mock;
  REQUIRE(mock.port > 0);
  BridgeProcess bridge(mock.base_url(), {"--base-path", kEntryPoint, "--poll-interval", "0.5"});
  REQUIRE(bridge.port > 0);
  NginxProxy nginx(bridge.port, {kIgnoreBridgeHint});

  SseClient direct(bridge.url(std::string(kEntryPoint) + "/events"));
  SseClient proxied(nginx.url("/events"), kBrowserHeaders);
  REQUIRE(WaitConnected(direct, 5s));
  REQUIRE(WaitConnected(proxied, 5s));
  CHECK(proxied.header("content-type") == "text/event-stream");
  CHECK(proxied.header("content-encoding") == "");
  std::this_thread::sleep_for(300ms);

  constexpr int kEvents = 8;
  double worst_post_to_proxied_ms = 0;
  double worst_proxy_extra_ms = 0;
  double sum_post_to_proxied_ms = 0;
  for (int i = 0; i < kEvents; ++i) {
    auto posted = Clock::now();
    REQUIRE(!mock.Post(Body("through nginx " + std::to_string(i))).empty());
    REQUIRE(direct.WaitFor(static_cast<size_t>(i + 1), 5s).size() == static_cast<size_t>(i + 1));
    auto at_direct = Clock::now();
    REQUIRE(proxied.WaitFor(static_cast<size_t>(i + 1), 5s).size() == static_cast<size_t>(i + 1));
    auto at_proxied = Clock::now();
    worst_post_to_proxied_ms = std::max(worst_post_to_proxied_ms, Ms(at_proxied - posted));
    worst_proxy_extra_ms = std::max(worst_proxy_extra_ms, Ms(at_proxied - at_direct));
    sum_post_to_proxied_ms += Ms(at_proxied - posted);
    // Spread the posts over the poll cycle.
    std::this_thread::sleep_for(std::chrono::milliseconds(130 + 70 * i));
  }
  MESSAGE("through nginx: post -> event mean " << sum_post_to_proxied_ms / kEvents
          << " ms, worst " << worst_post_to_proxied_ms << " ms (poll interval "
          << kPollS * 1000 << " ms); worst extra delay over the direct stream "
          << worst_proxy_extra_ms << " ms");
  // At most one poll interval plus a small margin; nginx itself adds
  // next to nothing.
  CHECK(worst_post_to_proxied_ms < kPollS * 1000 + 400);
  CHECK(worst_proxy_extra_ms < 100);
  CHECK(proxied.header("content-encoding") == "");
  auto ids_direct = testing::Ids(direct.WaitFor(kEvents, 10ms));
  CHECK(testing::Ids(proxied.WaitFor(kEvents, 10ms)) == ids_direct);
}

// What protects the stream, one directive at a time (the bridge's own
// "X-Accel-Buffering: no" ignored throughout). Measured with nginx 1.22:
// buffering alone does not hold small chunked events back when the client
// reads, and compression alone flushes at every event (compressed, though);
// together they hold everything, headers included, so a browser's
// EventSource never even opens. The shipped block turns both off.
TEST_CASE("nginx: gzip off or proxy_buffering off alone keeps events flowing and without both nothing arrives") {
  if (NginxMissing()) return;
  const std::pair<std::string, std::string> kGzipOn = {"gzip off;", ""};
  const std::pair<std::string, std::string> kBufferingOn = {
      "proxy_buffering off;", "proxy_buffering on; proxy_ignore_headers X-Accel-Buffering;"};
  std::vector<std::pair<std::string, std::string>> edits;
  bool expect_flowing = true;
  bool expect_gzip = false;
  std::string what;
  SUBCASE("compression on, buffering off") {
    edits = {kGzipOn, kIgnoreBridgeHint};
    expect_gzip = true;
    what = "gzip on, proxy_buffering off";
  }
  SUBCASE("buffering on, compression off") {
    edits = {kBufferingOn};
    what = "gzip off, proxy_buffering on";
  }
  SUBCASE("control: both on") {
    edits = {kGzipOn, kBufferingOn};
    expect_flowing = false;
    what = "gzip on, proxy_buffering on";
  }
  MockApiProcess mock;
  REQUIRE(mock.port > 0);
  BridgeProcess bridge(mock.base_url(), {"--base-path", kEntryPoint, "--poll-interval", "0.5"});
  REQUIRE(bridge.port > 0);
  NginxProxy nginx(bridge.port, edits);
  SseClient direct(bridge.url(std::string(kEntryPoint) + "/events"));
  SseClient proxied(nginx.url("/events"), kBrowserHeaders);
  REQUIRE(WaitConnected(direct, 5s));
  CHECK(WaitConnected(proxied, 2s) == expect_flowing);
  std::this_thread::sleep_for(300ms);
  size_t before = proxied.raw().size();
  REQUIRE(!mock.Post(Body("one event")).empty());
  REQUIRE(direct.WaitFor(1, 5s).size() == 1);
  auto at_direct = Clock::now();
  while (proxied.raw().size() == before && Clock::now() - at_direct < 3s) {
    std::this_thread::sleep_for(2ms);
  }
  bool arrived = proxied.raw().size() > before;
  const std::string outcome = arrived ? "the event's bytes arrived " : "nothing arrived in ";
  const std::string encoding = proxied.header("content-encoding").empty() ? "" : " (gzip)";
  MESSAGE(what << ": " << outcome << Ms(Clock::now() - at_direct)
          << " ms after the direct stream's" << encoding);
  CHECK(arrived == expect_flowing);
  if (expect_flowing) CHECK(Ms(Clock::now() - at_direct) < 100);
  CHECK((proxied.header("content-encoding") == "gzip") == expect_gzip);
  if (expect_flowing && !expect_gzip) CHECK(proxied.WaitFor(1, 1s).size() == 1);
}

TEST_CASE("nginx: an idle stream outlives a short proxy_read_timeout thanks to heartbeats") {
  if (NginxMissing()) return;
  MockApiProcess mock;
  REQUIRE(mock.port > 0);
  BridgeProcess bridge(mock.base_url(), {"--base-path", kEntryPoint, "--heartbeat", "2"});
  REQUIRE(bridge.port > 0);
  NginxProxy nginx(bridge.port, {{"proxy_read_timeout 90s;", "proxy_read_timeout 5s;"}});

  SseClient proxied(nginx.url("/events"), kBrowserHeaders);
  REQUIRE(WaitConnected(proxied, 5s));
  auto connected = Clock::now();
  CHECK_FALSE(proxied.WaitForEnd(8s));
  MESSAGE("idle for " << Ms(Clock::now() - connected) << " ms behind proxy_read_timeout 5s, "
          << proxied.comments() << " heartbeat comments, still connected");
  CHECK(proxied.comments() >= 3);
  auto posted = Clock::now();
  REQUIRE(!mock.Post(Body("after the idle time")).empty());
  CHECK(proxied.WaitFor(1, 5s).size() == 1);
  MESSAGE("then an event " << Ms(Clock::now() - posted) << " ms after its post");
}

TEST_CASE("nginx: control: without heartbeats nginx cuts the idle stream at proxy_read_timeout") {
  if (NginxMissing()) return;
  MockApiProcess mock;
  REQUIRE(mock.port > 0);
  BridgeProcess bridge(mock.base_url(), {"--base-path", kEntryPoint, "--heartbeat", "60"});
  REQUIRE(bridge.port > 0);
  NginxProxy nginx(bridge.port, {{"proxy_read_timeout 90s;", "proxy_read_timeout 5s;"}});

  SseClient proxied(nginx.url("/events"), kBrowserHeaders);
  REQUIRE(WaitConnected(proxied, 5s));
  auto connected = Clock::now();
  CHECK(proxied.WaitForEnd(9s));
  double cut_ms = Ms(Clock::now() - connected);
  MESSAGE("heartbeat 60 s: nginx ended the idle stream after " << cut_ms << " ms");
  CHECK(cut_ms > 4500);
  CHECK(nginx.ErrorLog().find("upstream timed out") != std::string::npos);
}

}  // namespace
}  // namespace notifications

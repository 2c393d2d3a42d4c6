#include "config.h"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "env_guard.h"
#include "listen_address.h"
#include "temp_file.h"
#include "version.h"

namespace notifications {
namespace {

BridgeCommandLine Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "notifications-bridge");
  std::vector<const char*> argv;
  for (auto& a : args) argv.push_back(a.c_str());
  return ParseBridgeCommandLine(static_cast<int>(argv.size()), argv.data());
}

TEST_CASE("config: documented defaults") {
  BridgeCommandLine c =
      Parse({"--delivery-url", "http://127.0.0.1:8081/delivery"});
  REQUIRE(c.action == BridgeCommandLine::Action::kRun);
  CHECK(c.config.poll_interval == std::chrono::milliseconds(5000));
  CHECK(c.config.listen_host == "127.0.0.1");
  CHECK(c.config.listen_port == 8080);
  CHECK(c.config.history == 1000);
  CHECK(c.config.heartbeat == std::chrono::milliseconds(15000));
  CHECK(c.config.allow_origins.empty());
  CHECK_FALSE(c.config.raw_content);
  CHECK(c.config.token.empty());
}

TEST_CASE("config: flags are parsed, fractions allowed") {
  BridgeCommandLine c = Parse({"--delivery-url",
                               "https://api.nasqueron.org/delivery",
                               "--poll-interval",
                               "0.25",
                               "--listen",
                               "0.0.0.0:0",
                               "--history",
                               "50",
                               "--heartbeat",
                               "2",
                               "--max-clients",
                               "7",
                               "--allow-origin",
                               "https://infra.nasqueron.org",
                               "--allow-origin",
                               "http://localhost:3000",
                               "--allow-origin",
                               "http://[::1]:8080",
                               "--raw-content",
                               "--log-level",
                               "debug"});
  REQUIRE(c.action == BridgeCommandLine::Action::kRun);
  CHECK(c.config.poll_interval == std::chrono::milliseconds(250));
  CHECK(c.config.listen_host == "0.0.0.0");
  CHECK(c.config.listen_port == 0);
  CHECK(c.config.history == 50);
  CHECK(c.config.max_clients == 7);
  CHECK(c.config.allow_origins.size() == 3);
  CHECK(c.config.raw_content);
  CHECK(c.config.log_level == LogLevel::kDebug);
}

TEST_CASE("config: invalid values exit 2 with a one-line reason") {
  struct Case {
    std::vector<std::string> args;
    const char* mentions;
  };
  std::vector<Case> cases = {
      {{}, "--delivery-url"},
      {{"--delivery-url", "ftp://x"}, "http://"},
      {{"--delivery-url", "http://x", "--poll-interval", "0"}, "poll-interval"},
      {{"--delivery-url", "http://x", "--poll-interval", "abc"},
       "poll-interval"},
      {{"--delivery-url", "http://x", "--listen", "nope"}, "--listen"},
      {{"--delivery-url", "http://x", "--listen", "1.2.3.4:70000"}, "65535"},
      {{"--delivery-url", "http://x", "--history", "0"}, "history"},
      {{"--delivery-url", "http://x", "--allow-origin", "*"}, "allow-origin"},
      // A path, query or credentials never match a browser's Origin.
      {{"--delivery-url", "http://x", "--allow-origin", "https://a.test/x"},
       "no path"},
      {{"--delivery-url", "http://x", "--allow-origin", "https://a.test/"},
       "no path"},
      {{"--delivery-url", "http://x", "--allow-origin", "https://a.test?q"},
       "no path"},
      {{"--delivery-url", "http://x", "--allow-origin", "https://u@a.test"},
       "no path"},
      {{"--delivery-url", "http://x", "--allow-origin", "https://"},
       "allow-origin"},
      {{"--delivery-url", "http://x", "--allow-origin", "https://a.test:"},
       "empty port"},
      {{"--delivery-url", "http://x", "--allow-origin", "https://a.test:x"},
       "allow-origin"},
      {{"--delivery-url", "http://x", "--allow-origin", "https://a.test:443"},
       "default port 443"},
      {{"--delivery-url", "http://x", "--allow-origin", "http://a.test:80"},
       "default port 80"},
      {{"--delivery-url", "http://x", "--allow-origin", "https://A.test"},
       "browsers send it as https://a.test"},
      {{"--delivery-url", "http://x", "--allow-origin", "HTTPS://a.test"},
       "browsers send it as https://a.test"},
      {{"--delivery-url", "http://x", "--log-level", "loud"}, "log-level"},
      {{"--delivery-url", "http://x", "--public-dir", "/nonexistent/dir"},
       "public-dir"},
      {{"--delivery-url", "http://x", "--token-file", "/nonexistent/token"},
       "token"},
      {{"--delivery-url", "http://x", "--bogus"}, "bogus"},
  };
  for (const Case& k : cases) {
    BridgeCommandLine c = Parse(k.args);
    CAPTURE(c.text);
    CHECK(c.action == BridgeCommandLine::Action::kExit);
    CHECK(c.exit_code == 2);
    CHECK(c.text.find(k.mentions) != std::string::npos);
  }
}

TEST_CASE("config: --help and --version exit 0") {
  BridgeCommandLine h = Parse({"--help"});
  CHECK(h.action == BridgeCommandLine::Action::kExit);
  CHECK(h.exit_code == 0);
  CHECK(h.text.find("--delivery-url") != std::string::npos);
  CHECK(h.text.find("--max-clients") != std::string::npos);
  BridgeCommandLine v = Parse({"--version"});
  CHECK(v.exit_code == 0);
  CHECK(v.text ==
        std::string("notifications-bridge ") + ProjectVersion() + "\n");
}

TEST_CASE("config: token from a file, warned when others can read it") {
  char path[] = "/tmp/nb-token-XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  REQUIRE(write(fd, "  abc123 \n", 10) == 10);
  close(fd);
  chmod(path, 0600);
  BridgeCommandLine c =
      Parse({"--delivery-url", "http://x", "--token-file", path});
  CHECK(c.config.token == "abc123");
  CHECK(c.warnings.empty());
  chmod(path, 0644);
  c = Parse({"--delivery-url", "http://x", "--token-file", path});
  REQUIRE(c.warnings.size() == 1);
  CHECK(c.warnings[0].find("chmod 600") != std::string::npos);
  // The token never appears in what the parser returns as text.
  CHECK(c.text.find("abc123") == std::string::npos);
  unlink(path);
}

TEST_CASE("config: environment variables and config file") {
  setenv("NOTIFICATIONS_BRIDGE_DELIVERY_URL", "http://env.test/delivery", 1);
  setenv("NOTIFICATIONS_BRIDGE_HISTORY", "77", 1);
  BridgeCommandLine c = Parse({});
  CHECK(c.action == BridgeCommandLine::Action::kRun);
  CHECK(c.config.delivery_url == "http://env.test/delivery");
  CHECK(c.config.history == 77);
  // The command line wins over the environment.
  c = Parse({"--history", "5"});
  CHECK(c.config.history == 5);
  unsetenv("NOTIFICATIONS_BRIDGE_DELIVERY_URL");
  unsetenv("NOTIFICATIONS_BRIDGE_HISTORY");

  char path[] = "/tmp/nb-config-XXXXXX";
  int fd = mkstemp(path);
  close(fd);
  std::ofstream(path)
      << "delivery-url = \"http://file.test/delivery\"\nheartbeat = 3\n";
  c = Parse({"--config", path});
  CHECK(c.action == BridgeCommandLine::Action::kRun);
  CHECK(c.config.delivery_url == "http://file.test/delivery");
  CHECK(c.config.heartbeat == std::chrono::milliseconds(3000));
  unlink(path);
}

TEST_CASE("config: listen addresses") {
  std::string host, error;
  int port = -1;
  CHECK(ParseListenAddress("[::1]:9000", &host, &port, &error));
  CHECK(host == "::1");
  CHECK(port == 9000);
  CHECK(ParseListenAddress(":8080", &host, &port, &error));
  CHECK(host == "127.0.0.1");
  CHECK_FALSE(ParseListenAddress("host:", &host, &port, &error));
  CHECK_FALSE(ParseListenAddress("host:-1", &host, &port, &error));
}

}  // namespace
}  // namespace notifications

namespace notifications {
namespace {

TEST_CASE("config: base path from the flag or API_ENTRY_POINT, validated") {
  BridgeCommandLine c =
      Parse({"--delivery-url", "http://x", "--base-path", "/notifications/"});
  REQUIRE(c.action == BridgeCommandLine::Action::kRun);
  CHECK(c.config.base_path == "/notifications");
  setenv("API_ENTRY_POINT", "/notifications", 1);
  c = Parse({"--delivery-url", "http://x"});
  CHECK(c.config.base_path == "/notifications");
  unsetenv("API_ENTRY_POINT");
  for (const char* bad : {"notifications", "/a/../b", "/a b", "//x"}) {
    CAPTURE(bad);
    c = Parse({"--delivery-url", "http://x", "--base-path", bad});
    CHECK(c.exit_code == 2);
    CHECK(c.text.find("--base-path") != std::string::npos);
  }
}

TEST_CASE("config: log format and the other production flags") {
  BridgeCommandLine c =
      Parse({"--delivery-url", "http://x", "--log-format", "json",
             "--state-file", "/tmp/x", "--reset-state", "--busy-retry", "2"});
  REQUIRE(c.action == BridgeCommandLine::Action::kRun);
  CHECK(c.config.log_format == LogFormat::kJson);
  CHECK(c.config.state_file == "/tmp/x");
  CHECK(c.config.reset_state);
  CHECK(c.config.busy_retry == std::chrono::milliseconds(2000));
  c = Parse({"--delivery-url", "http://x", "--log-format", "xml"});
  CHECK(c.exit_code == 2);
}

}  // namespace
}  // namespace notifications

namespace notifications {
namespace {

using testing::EnvGuard;
using testing::TempFile;

// Every numeric flag of the bridge, with its variable.
struct NumericFlag {
  const char* flag;
  const char* variable;
};
constexpr NumericFlag kNumericFlags[] = {
    {"--poll-interval", "NOTIFICATIONS_BRIDGE_POLL_INTERVAL"},
    {"--connect-timeout", "NOTIFICATIONS_BRIDGE_CONNECT_TIMEOUT"},
    {"--request-timeout", "NOTIFICATIONS_BRIDGE_REQUEST_TIMEOUT"},
    {"--backoff-initial", "NOTIFICATIONS_BRIDGE_BACKOFF_INITIAL"},
    {"--backoff-max", "NOTIFICATIONS_BRIDGE_BACKOFF_MAX"},
    {"--max-page-bytes", "NOTIFICATIONS_BRIDGE_MAX_PAGE_BYTES"},
    {"--page-limit", "NOTIFICATIONS_BRIDGE_PAGE_LIMIT"},
    {"--long-poll", "NOTIFICATIONS_BRIDGE_LONG_POLL"},
    {"--history", "NOTIFICATIONS_BRIDGE_HISTORY"},
    {"--history-bytes", "NOTIFICATIONS_BRIDGE_HISTORY_BYTES"},
    {"--max-item-bytes", "NOTIFICATIONS_BRIDGE_MAX_ITEM_BYTES"},
    {"--heartbeat", "NOTIFICATIONS_BRIDGE_HEARTBEAT"},
    {"--retry", "NOTIFICATIONS_BRIDGE_RETRY"},
    {"--max-clients", "NOTIFICATIONS_BRIDGE_MAX_CLIENTS"},
    {"--busy-retry", "NOTIFICATIONS_BRIDGE_BUSY_RETRY"},
    {"--write-timeout", "NOTIFICATIONS_BRIDGE_WRITE_TIMEOUT"},
    {"--stream-threads", "NOTIFICATIONS_BRIDGE_STREAM_THREADS"},
    {"--head-timeout", "NOTIFICATIONS_BRIDGE_HEAD_TIMEOUT"},
    {"--max-handshakes", "NOTIFICATIONS_BRIDGE_MAX_HANDSHAKES"},
    {"--amqp-heartbeat", "NOTIFICATIONS_BRIDGE_AMQP_HEARTBEAT"},
};
constexpr const char* kBadNumbers[] = {
    "nan", "NaN", "inf",  "-inf", "1e400", "99999999999999999999",
    "-1",  "1e9", "0x10", "",     "5s"};

TEST_CASE(
    "config: every numeric flag refuses nan, inf, overflow and range, "
    "from the command line, the environment and the config file") {
  for (const NumericFlag& f : kNumericFlags) {
    for (const char* bad : kBadNumbers) {
      CAPTURE(f.flag);
      CAPTURE(bad);
      BridgeCommandLine c = Parse(
          {"--delivery-url", "http://x", std::string(f.flag) + "=" + bad});
      CHECK(c.exit_code == 2);
      CHECK(c.text.rfind(std::string("notifications-bridge: ") + f.flag, 0) ==
            0);
      CHECK(c.text.find('\n') == c.text.size() - 1);
      if (bad[0] == '\0') continue;  // An empty variable is no value.
      {
        EnvGuard env(f.variable, bad);
        c = Parse({"--delivery-url", "http://x"});
        CHECK(c.exit_code == 2);
        CHECK(c.text.rfind(std::string("notifications-bridge: ") + f.flag, 0) ==
              0);
        CHECK(c.text.find(std::string("(from ") + f.variable + ")") !=
              std::string::npos);
      }
      TempFile file(std::string("delivery-url = http://x\n") + (f.flag + 2) +
                    " = " + bad + "\n");
      c = Parse({"--config", file.path});
      CHECK(c.exit_code == 2);
      CHECK(c.text.rfind(std::string("notifications-bridge: ") + f.flag, 0) ==
            0);
      CHECK(c.text.find("(from " + file.path + " line 2)") !=
            std::string::npos);
    }
  }
}

TEST_CASE("config: numbers at their bounds and in other spellings are kept") {
  BridgeCommandLine c = Parse({"--delivery-url", "http://x", "--poll-interval",
                               "1e-2", "--history", "0100", "--max-page-bytes",
                               "1073741824", "--busy-retry", "3600",
                               "--long-poll", "+300", "--stream-threads", "0"});
  REQUIRE_MESSAGE(!c.exits(), c.text);
  CHECK(c.config.poll_interval == std::chrono::milliseconds(10));
  CHECK(c.config.history == 100);  // Decimal, not octal.
  CHECK(c.config.max_page_bytes == size_t{1} << 30);
  CHECK(c.config.busy_retry == std::chrono::milliseconds(3600000));
  CHECK(c.config.long_poll == std::chrono::seconds(300));
  CHECK(c.config.stream_threads == 0);
}

TEST_CASE("config: --config refuses unknown keys, naming the key and file") {
  // A typo in the stream token's key must not leave /events open.
  TempFile file(
      "delivery-url = http://x\nstream-token-fil = /etc/notifications/t\n");
  BridgeCommandLine c = Parse({"--config", file.path});
  CHECK(c.exit_code == 2);
  CHECK(c.text == "notifications-bridge: --config " + file.path +
                      ": line 2: unknown key \"stream-token-fil\" (keys are "
                      "the long flag names without --, see --help) (see "
                      "notifications-bridge --help)\n");
  TempFile underscore("delivery_url = http://x\n");
  c = Parse({"--config", underscore.path});
  CHECK(c.exit_code == 2);
  CHECK(c.text.find("unknown key \"delivery_url\"") != std::string::npos);
}

TEST_CASE("config: the environment wins over the config file") {
  TempFile file("delivery-url = http://file/\nhistory = 7\n");
  EnvGuard env("NOTIFICATIONS_BRIDGE_HISTORY", "9");
  BridgeCommandLine c = Parse({"--config", file.path});
  REQUIRE_MESSAGE(!c.exits(), c.text);
  CHECK(c.config.history == 9);
  CHECK(c.config.delivery_url == "http://file/");
  c = Parse({"--config", file.path, "--history", "11"});
  CHECK(c.config.history == 11);
}

TEST_CASE(
    "config: tokens from the environment are trimmed, never empty, one "
    "line") {
  for (const char* variable :
       {"NOTIFICATIONS_BRIDGE_TOKEN", "NOTIFICATIONS_BRIDGE_STREAM_TOKEN"}) {
    CAPTURE(variable);
    {
      EnvGuard env(variable, " s3cret\n");
      BridgeCommandLine c = Parse({"--delivery-url", "http://x"});
      REQUIRE_MESSAGE(!c.exits(), c.text);
      const std::string& token =
          std::string(variable) == "NOTIFICATIONS_BRIDGE_TOKEN"
              ? c.config.token
              : c.config.stream_token;
      CHECK(token == "s3cret");
    }
    for (const char* bad : {"", "  ", "a\nb", "a\r\nb"}) {
      EnvGuard env(variable, bad);
      BridgeCommandLine c = Parse({"--delivery-url", "http://x"});
      CHECK(c.exit_code == 2);
      CHECK(c.text.find(variable) != std::string::npos);
      CHECK(c.text.find('\n') == c.text.size() - 1);
    }
  }
  TempFile crlf("abc\rdef\n");
  BridgeCommandLine c =
      Parse({"--delivery-url", "http://x", "--stream-token-file", crlf.path});
  CHECK(c.exit_code == 2);
  CHECK(c.text.find("--stream-token-file") != std::string::npos);
  CHECK(c.text.find("abc") == std::string::npos);
}

TEST_CASE(
    "config: --delivery-url is http(s), a host, a port, no query or "
    "fragment, and its password is never shown") {
  struct Case {
    const char* url;
    const char* mentions;
  };
  for (const Case& k : std::vector<Case>{
           {"ftp://h/d", "must start with http:// or https://"},
           {"http:///d", "no host"},
           {"http://h:0/d", "port must be a number from 1 to 65535"},
           {"http://h:65536/d", "port must be a number from 1 to 65535"},
           {"http://h/d?limit=5", "no query"},
           {"http://h/d#top", "no fragment"},
           {"http://bot:s3cret@h/d?x", "no query"},
           {"http://h/a b", "percent-encoded"},
       }) {
    CAPTURE(k.url);
    BridgeCommandLine c = Parse({"--delivery-url", k.url});
    CHECK(c.exit_code == 2);
    CHECK(c.text.rfind("notifications-bridge: --delivery-url: ", 0) == 0);
    CHECK(c.text.find(k.mentions) != std::string::npos);
    CHECK(c.text.find("s3cret") == std::string::npos);
  }
  BridgeCommandLine ok =
      Parse({"--delivery-url", "https://bot:s3cret@api.nasqueron.org:443/d"});
  REQUIRE_MESSAGE(!ok.exits(), ok.text);
  CHECK(ok.config.delivery_url == "https://bot:s3cret@api.nasqueron.org:443/d");
  EnvGuard env("NOTIFICATIONS_BRIDGE_DELIVERY_URL", "http://h/?q");
  BridgeCommandLine from_env = Parse({});
  CHECK(from_env.text.find("(from NOTIFICATIONS_BRIDGE_DELIVERY_URL)") !=
        std::string::npos);
}

TEST_CASE("config: --history-bytes and --max-item-bytes, defaults and bounds") {
  BridgeCommandLine d =
      Parse({"--delivery-url", "http://127.0.0.1:8081/delivery"});
  REQUIRE(d.action == BridgeCommandLine::Action::kRun);
  CHECK(d.config.history_bytes == size_t{64} << 20);
  CHECK(d.config.max_item_bytes == size_t{1} << 20);
  BridgeCommandLine c =
      Parse({"--delivery-url", "http://127.0.0.1:8081/delivery",
             "--history-bytes", "16777216", "--max-item-bytes", "65536"});
  REQUIRE(c.action == BridgeCommandLine::Action::kRun);
  CHECK(c.config.history_bytes == 16777216);
  CHECK(c.config.max_item_bytes == 65536);
  for (const std::vector<std::string>& bad :
       {std::vector<std::string>{"--history-bytes", "1000"},
        std::vector<std::string>{"--max-item-bytes", "10"},
        std::vector<std::string>{"--history-bytes", "2097152",
                                 "--max-item-bytes", "4194304"}}) {
    std::vector<std::string> args = {"--delivery-url",
                                     "http://127.0.0.1:8081/delivery"};
    args.insert(args.end(), bad.begin(), bad.end());
    BridgeCommandLine r = Parse(args);
    CAPTURE(r.text);
    CHECK(r.action == BridgeCommandLine::Action::kExit);
    CHECK(r.exit_code == 2);
  }
  BridgeCommandLine above =
      Parse({"--delivery-url", "http://127.0.0.1:8081/delivery",
             "--history-bytes", "2097152", "--max-item-bytes", "4194304"});
  CHECK(above.text.find("--max-item-bytes must not be above --history-bytes") !=
        std::string::npos);
}

}  // namespace
}  // namespace notifications

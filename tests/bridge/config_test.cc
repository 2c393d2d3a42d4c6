#include "config.h"
#include "listen_address.h"
#include "version.h"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

namespace notifications {
namespace {

CommandLine Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "notifications-bridge");
  std::vector<const char*> argv;
  for (auto& a : args) argv.push_back(a.c_str());
  return ParseBridgeCommandLine(static_cast<int>(argv.size()), argv.data());
}

TEST_CASE("config: documented defaults") {
  CommandLine c = Parse({"--delivery-url", "http://127.0.0.1:8081/delivery"});
  REQUIRE(c.action == CommandLine::Action::kRun);
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
  CommandLine c = Parse({"--delivery-url", "https://api.nasqueron.org/delivery",
                         "--poll-interval", "0.25", "--listen", "0.0.0.0:0",
                         "--history", "50", "--heartbeat", "2", "--max-clients", "7",
                         "--allow-origin", "https://infra.nasqueron.org",
                         "--allow-origin", "http://localhost:3000", "--raw-content",
                         "--log-level", "debug"});
  REQUIRE(c.action == CommandLine::Action::kRun);
  CHECK(c.config.poll_interval == std::chrono::milliseconds(250));
  CHECK(c.config.listen_host == "0.0.0.0");
  CHECK(c.config.listen_port == 0);
  CHECK(c.config.history == 50);
  CHECK(c.config.max_clients == 7);
  CHECK(c.config.allow_origins.size() == 2);
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
      {{"--delivery-url", "http://x", "--poll-interval", "abc"}, "poll-interval"},
      {{"--delivery-url", "http://x", "--listen", "nope"}, "--listen"},
      {{"--delivery-url", "http://x", "--listen", "1.2.3.4:70000"}, "65535"},
      {{"--delivery-url", "http://x", "--history", "0"}, "history"},
      {{"--delivery-url", "http://x", "--allow-origin", "*"}, "allow-origin"},
      {{"--delivery-url", "http://x", "--log-level", "loud"}, "log-level"},
      {{"--delivery-url", "http://x", "--public-dir", "/nonexistent/dir"}, "public-dir"},
      {{"--delivery-url", "http://x", "--token-file", "/nonexistent/token"}, "token"},
      {{"--delivery-url", "http://x", "--bogus"}, "bogus"},
  };
  for (const Case& k : cases) {
    CommandLine c = Parse(k.args);
    CAPTURE(c.text);
    CHECK(c.action == CommandLine::Action::kExit);
    CHECK(c.exit_code == 2);
    CHECK(c.text.find(k.mentions) != std::string::npos);
  }
}

TEST_CASE("config: --help and --version exit 0") {
  CommandLine h = Parse({"--help"});
  CHECK(h.action == CommandLine::Action::kExit);
  CHECK(h.exit_code == 0);
  CHECK(h.text.find("--delivery-url") != std::string::npos);
  CHECK(h.text.find("--max-clients") != std::string::npos);
  CommandLine v = Parse({"--version"});
  CHECK(v.exit_code == 0);
  CHECK(v.text == std::string("notifications-bridge ") + ProjectVersion() + "\n");
}

TEST_CASE("config: token from a file, warned when others can read it") {
  char path[] = "/tmp/nb-token-XXXXXX";
  int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  REQUIRE(write(fd, "  abc123 \n", 10) == 10);
  close(fd);
  chmod(path, 0600);
  CommandLine c = Parse({"--delivery-url", "http://x", "--token-file", path});
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
  CommandLine c = Parse({});
  CHECK(c.action == CommandLine::Action::kRun);
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
  std::ofstream(path) << "delivery-url = \"http://file.test/delivery\"\nheartbeat = 3\n";
  c = Parse({"--config", path});
  CHECK(c.action == CommandLine::Action::kRun);
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
  CommandLine c = Parse({"--delivery-url", "http://x", "--base-path", "/notifications/"});
  REQUIRE(c.action == CommandLine::Action::kRun);
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
  CommandLine c = Parse({"--delivery-url", "http://x", "--log-format", "json",
                         "--state-file", "/tmp/x", "--reset-state", "--busy-retry", "2"});
  REQUIRE(c.action == CommandLine::Action::kRun);
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

TEST_CASE("config: --history-bytes and --max-item-bytes, defaults and bounds") {
  CommandLine d = Parse({"--delivery-url", "http://127.0.0.1:8081/delivery"});
  REQUIRE(d.action == CommandLine::Action::kRun);
  CHECK(d.config.history_bytes == size_t{64} << 20);
  CHECK(d.config.max_item_bytes == size_t{1} << 20);
  CommandLine c =
      Parse({"--delivery-url", "http://127.0.0.1:8081/delivery",
             "--history-bytes", "16777216", "--max-item-bytes", "65536"});
  REQUIRE(c.action == CommandLine::Action::kRun);
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
    CommandLine r = Parse(args);
    CAPTURE(r.text);
    CHECK(r.action == CommandLine::Action::kExit);
    CHECK(r.exit_code == 2);
  }
  CommandLine above =
      Parse({"--delivery-url", "http://127.0.0.1:8081/delivery",
             "--history-bytes", "2097152", "--max-item-bytes", "4194304"});
  CHECK(above.text.find("--max-item-bytes must not be above --history-bytes") !=
        std::string::npos);
}

}  // namespace
}  // namespace notifications

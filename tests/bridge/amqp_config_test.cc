#include "amqp_config.h"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "config.h"

namespace notifications {
namespace {

BridgeCommandLine Parse(std::vector<std::string> args) {
  args.insert(args.begin(), "notifications-bridge");
  std::vector<const char*> argv;
  for (auto& a : args) argv.push_back(a.c_str());
  return ParseBridgeCommandLine(static_cast<int>(argv.size()), argv.data());
}

// A password file, mode 600, removed at the end of the test.
struct PasswordFile {
  std::string path;
  explicit PasswordFile(const std::string& content) {
    char tmpl[] = "/tmp/nb-amqp-password-XXXXXX";
    int fd = mkstemp(tmpl);
    REQUIRE(fd >= 0);
    REQUIRE(write(fd, content.data(), content.size()) ==
            static_cast<ssize_t>(content.size()));
    close(fd);
    path = tmpl;
  }
  ~PasswordFile() { unlink(path.c_str()); }
};

// Sets an environment variable for the test's duration.
struct Env {
  std::string name;
  Env(std::string n, const std::string& value) : name(std::move(n)) {
    setenv(name.c_str(), value.c_str(), 1);
  }
  ~Env() { unsetenv(name.c_str()); }
};

TEST_CASE(
    "amqp config: --amqp-url with a password file; defaults of the other "
    "flags") {
  PasswordFile pw("s3cret\n");
  BridgeCommandLine c = Parse({"--amqp-url", "amqp://bridge@rabbitmq:5672/dev",
                         "--amqp-password-file", pw.path});
  REQUIRE(c.action == BridgeCommandLine::Action::kRun);
  const AmqpConfig& a = c.config.amqp;
  CHECK(a.enabled());
  CHECK(c.config.delivery_url.empty());
  CHECK(a.endpoint.user == "bridge");
  CHECK(a.endpoint.vhost == "dev");
  CHECK(a.endpoint.password == "s3cret");
  CHECK(a.endpoint.heartbeat == std::chrono::seconds(30));
  CHECK(a.exchange == "notifications");
  CHECK(a.queue.empty());
  CHECK(a.binding_keys == std::vector<std::string>{"#"});
  CHECK_FALSE(a.serve_delivery_api);
  CHECK(
      DescribeAmqpSource(a) ==
      "the exchange 'notifications' at amqp://bridge@rabbitmq:5672/dev (live)");
}

TEST_CASE("amqp config: the stream mode and the other flags") {
  PasswordFile pw("s3cret");
  BridgeCommandLine c = Parse({"--amqp-url", "amqps://bridge@rabbitmq/dev",
                         "--amqp-password-file", pw.path, "--amqp-queue",
                         "notifications-bridge", "--amqp-exchange", "other",
                         "--amqp-heartbeat", "10", "--amqp-ca-file", pw.path});
  REQUIRE(c.action == BridgeCommandLine::Action::kRun);
  const AmqpConfig& a = c.config.amqp;
  CHECK(a.queue == "notifications-bridge");
  CHECK(a.exchange == "other");
  CHECK(a.endpoint.tls);
  CHECK(a.endpoint.ca_file == pw.path);
  CHECK(a.endpoint.heartbeat == std::chrono::seconds(10));
  CHECK(
      DescribeAmqpSource(a) ==
      "the stream 'notifications-bridge' at amqps://bridge@rabbitmq:5671/dev");
}

TEST_CASE("amqp config: the password from the environment, trimmed, one line") {
  {
    Env env("NOTIFICATIONS_BRIDGE_AMQP_PASSWORD", " s3cret \n");
    BridgeCommandLine c = Parse({"--amqp-url", "amqp://bridge@rabbitmq/dev"});
    REQUIRE(c.action == BridgeCommandLine::Action::kRun);
    CHECK(c.config.amqp.endpoint.password == "s3cret");
  }
  {
    Env env("NOTIFICATIONS_BRIDGE_AMQP_PASSWORD", "  ");
    BridgeCommandLine c = Parse({"--amqp-url", "amqp://bridge@rabbitmq/dev"});
    CHECK(c.exit_code == 2);
    CHECK(c.text.find("NOTIFICATIONS_BRIDGE_AMQP_PASSWORD is set but empty") !=
          std::string::npos);
  }
  {
    Env env("NOTIFICATIONS_BRIDGE_AMQP_PASSWORD", "a\nb");
    BridgeCommandLine c = Parse({"--amqp-url", "amqp://bridge@rabbitmq/dev"});
    CHECK(c.exit_code == 2);
    CHECK(c.text.find("line break") != std::string::npos);
  }
}

TEST_CASE(
    "amqp config: binding keys, repeatable, lowercased, from the environment "
    "too") {
  Env password("NOTIFICATIONS_BRIDGE_AMQP_PASSWORD", "pw");
  BridgeCommandLine c =
      Parse({"--amqp-url", "amqp://bridge@rabbitmq/dev", "--amqp-binding-key",
             "Nasqueron.ops.#", "--amqp-binding-key", "*.ci.#"});
  REQUIRE(c.action == BridgeCommandLine::Action::kRun);
  CHECK(c.config.amqp.binding_keys ==
        std::vector<std::string>{"nasqueron.ops.#", "*.ci.#"});
  Env keys("NOTIFICATIONS_BRIDGE_AMQP_BINDING_KEY", "a.#,b.*");
  c = Parse({"--amqp-url", "amqp://bridge@rabbitmq/dev"});
  REQUIRE(c.action == BridgeCommandLine::Action::kRun);
  CHECK(c.config.amqp.binding_keys == std::vector<std::string>{"a.#", "b.*"});
}

TEST_CASE(
    "amqp config: mistakes exit 2 with a one-line reason, never the password") {
  PasswordFile pw("s3cret");
  struct Case {
    std::vector<std::string> args;
    const char* mentions;
  };
  std::vector<Case> cases = {
      {{}, "--delivery-url or --amqp-url is required"},
      {{"--delivery-url", "http://h/d", "--amqp-url", "amqp://u@h",
        "--amqp-password-file", pw.path},
       "not both"},
      {{"--amqp-url", "amqp://u:hunter2@h/dev"}, "must not hold a password"},
      {{"--amqp-url", "amqp://u@h/dev"}, "needs a password"},
      {{"--amqp-url", "amqp://u@h/dev", "--amqp-password-file", "/nonexistent"},
       "--amqp-password-file"},
      {{"--amqp-url", "http://u@h/dev", "--amqp-password-file", pw.path},
       "amqp://"},
      {{"--delivery-url", "http://h/d", "--amqp-queue", "q"},
       "--amqp-queue needs --amqp-url"},
      {{"--delivery-url", "http://h/d", "--amqp-binding-key", "a.#"},
       "needs --amqp-url"},
      {{"--amqp-url", "amqp://u@h/dev", "--amqp-password-file", pw.path,
        "--amqp-queue", "q", "--amqp-binding-key", "a.#"},
       "live mode"},
      {{"--amqp-url", "amqp://u@h/dev", "--amqp-password-file", pw.path,
        "--amqp-binding-key", "a##"},
       "--amqp-binding-key"},
      {{"--amqp-url", "amqp://u@h/dev", "--amqp-password-file", pw.path,
        "--amqp-ca-file", pw.path},
       "amqps://"},
      {{"--amqp-url", "amqps://u@h/dev", "--amqp-password-file", pw.path,
        "--amqp-ca-file", "/nonexistent"},
       "not a readable file"},
      {{"--amqp-url", "amqp://u@h/dev", "--amqp-password-file", pw.path,
        "--amqp-heartbeat", "-1"},
       "--amqp-heartbeat"},
      {{"--amqp-url", "amqp://u@h/dev", "--amqp-password-file", pw.path,
        "--amqp-exchange", ""},
       "--amqp-exchange"},
  };
  for (const Case& k : cases) {
    BridgeCommandLine c = Parse(k.args);
    INFO(k.mentions);
    CHECK(c.action == BridgeCommandLine::Action::kExit);
    CHECK(c.exit_code == 2);
    CHECK(c.text.find(k.mentions) != std::string::npos);
    CHECK(c.text.find("hunter2") == std::string::npos);
    CHECK(c.text.find("s3cret") == std::string::npos);
  }
}

TEST_CASE(
    "amqp config: the default binding key, given explicitly, is no mistake") {
  // bridge.env lists it; it must not stop a polling or a stream bridge.
  BridgeCommandLine c =
      Parse({"--delivery-url", "http://h/d", "--amqp-binding-key", "#"});
  CHECK(c.action == BridgeCommandLine::Action::kRun);
  PasswordFile pw("pw");
  c = Parse({"--amqp-url", "amqp://u@h/dev", "--amqp-password-file", pw.path,
             "--amqp-queue", "q", "--amqp-binding-key", "#"});
  CHECK(c.action == BridgeCommandLine::Action::kRun);
}

TEST_CASE("amqp config: --help lists the AMQP flags") {
  BridgeCommandLine c = Parse({"--help"});
  for (const char* flag :
       {"--amqp-url", "--amqp-password-file", "--amqp-exchange", "--amqp-queue",
        "--amqp-binding-key", "--amqp-ca-file", "--amqp-heartbeat"}) {
    CHECK(c.text.find(flag) != std::string::npos);
  }
}

}  // namespace
}  // namespace notifications

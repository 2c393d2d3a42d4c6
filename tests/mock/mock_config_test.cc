// notifications-mock-api's command line.
#include "mock_config.h"

#include <doctest/doctest.h>

#include <cctype>
#include <cstdlib>
#include <iterator>
#include <string>
#include <vector>

#include "env_guard.h"
#include "temp_file.h"

namespace notifications {
namespace {

using testing::TempFile;

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("mock command line defaults and help, version") {
  const char* no_flags[] = {"notifications-mock-api"};
  MockCommandLine defaults = ParseMockCommandLine(1, no_flags);
  REQUIRE_MESSAGE(!defaults.exits(), defaults.text);
  CHECK(defaults.text.empty());

  const char* help[] = {"notifications-mock-api", "--help"};
  MockCommandLine help_line = ParseMockCommandLine(2, help);
  REQUIRE(help_line.exits());
  CHECK(help_line.exit_code == 0);
  CHECK(Contains(help_line.text, "--generate"));
  CHECK(Contains(help_line.text, "NOTIFICATIONS_MOCK_PORT"));
  CHECK(Contains(help_line.text, "NOTIFICATIONS_MOCK_TOKEN"));

  const char* version[] = {"notifications-mock-api", "--version"};
  MockCommandLine version_line = ParseMockCommandLine(2, version);
  REQUIRE(version_line.exits());
  CHECK(version_line.exit_code == 0);
  CHECK(version_line.text ==
        std::string("notifications-mock-api ") + NB_VERSION_STRING + "\n");
}

TEST_CASE("mock command line reads every flag") {
  TempFile token_file("  t0ken-from-file \n second line\n");
  const char* argv[] = {"notifications-mock-api",
                        "--host",
                        "::1",
                        "--port",
                        "0",
                        "--base-path",
                        "/api",
                        "--retention",
                        "50",
                        "--token-file",
                        token_file.path.c_str(),
                        "--fixtures",
                        "f.json",
                        "--generate",
                        "0.5",
                        "--overlap",
                        "3",
                        "--log-level",
                        "debug"};
  MockCommandLine parsed =
      ParseMockCommandLine(static_cast<int>(std::size(argv)), argv);
  REQUIRE_MESSAGE(!parsed.exits(), parsed.text);
  const MockApiOptions& api = parsed.config.api;
  CHECK(api.host == "::1");
  CHECK(api.port == 0);
  CHECK(api.base_path == "/api");
  CHECK(api.retention == 50);
  CHECK(api.token == "t0ken-from-file");
  CHECK(api.fixtures_path == "f.json");
  CHECK(api.generate_rate == doctest::Approx(0.5));
  CHECK(api.overlap == 3);
  CHECK(parsed.config.log_level == LogLevel::kDebug);
}

TEST_CASE("mock command line reads flags and the token from the environment") {
  // Names no other test uses; restored at the end.
  setenv("NOTIFICATIONS_MOCK_PORT", "9090", 1);
  setenv("NOTIFICATIONS_MOCK_BASE_PATH", "/env", 1);
  setenv("NOTIFICATIONS_MOCK_TOKEN", "env-token\n", 1);
  const char* argv[] = {"notifications-mock-api", "--port", "7070"};
  MockCommandLine parsed = ParseMockCommandLine(3, argv);
  MockCommandLine env_only = ParseMockCommandLine(1, argv);
  setenv("NOTIFICATIONS_MOCK_RETENTION", "lots", 1);
  MockCommandLine bad = ParseMockCommandLine(1, argv);
  unsetenv("NOTIFICATIONS_MOCK_PORT");
  unsetenv("NOTIFICATIONS_MOCK_BASE_PATH");
  unsetenv("NOTIFICATIONS_MOCK_TOKEN");
  unsetenv("NOTIFICATIONS_MOCK_RETENTION");

  REQUIRE_MESSAGE(!parsed.exits(), parsed.text);
  CHECK(parsed.config.api.port == 7070);  // the command line wins
  CHECK(parsed.config.api.base_path == "/env");
  CHECK(parsed.config.api.token == "env-token");
  REQUIRE_FALSE(env_only.exits());
  CHECK(env_only.config.api.port == 9090);
  REQUIRE(bad.exits());
  CHECK(bad.exit_code == 2);
  CHECK(Contains(bad.text, "--retention"));
  CHECK(Contains(bad.text, "NOTIFICATIONS_MOCK_RETENTION"));
}

TEST_CASE("mock command line rejects bad values with one line naming them") {
  struct Case {
    std::vector<const char*> args;
    std::string mentions;
  };
  const Case cases[] = {
      {{"--port", "70000"}, "--port"},
      {{"--port", "abc"}, "--port"},
      {{"--retention", "0"}, "--retention"},
      {{"--generate", "-1"}, "--generate"},
      {{"--overlap", "x"}, "--overlap"},
      {{"--log-level", "loud"}, "--log-level"},
      {{"--token", "s3cret"}, "--token-file"},
      {{"--token-file", "/nonexistent/token"}, "/nonexistent/token"},
      {{"--base-path", "/x/"}, "base path"},
      {{"--bogus"}, "--bogus"},
  };
  for (const Case& c : cases) {
    std::vector<const char*> argv = {"notifications-mock-api"};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    CAPTURE(c.mentions);
    MockCommandLine parsed =
        ParseMockCommandLine(static_cast<int>(argv.size()), argv.data());
    REQUIRE(parsed.exits());
    CHECK(parsed.exit_code == 2);
    CHECK(Contains(parsed.text, c.mentions));
    CHECK(parsed.text.find('\n') == parsed.text.size() - 1);
  }
}

TEST_CASE("mock command line: fault flags, the --fault-rate mix, environment") {
  const char* argv[] = {"notifications-mock-api",
                        "--fault-rate",
                        "0.7",
                        "--fault-close",
                        "0.2",
                        "--fault-gone",
                        "0.05",
                        "--fault-delay-seconds",
                        "1.5",
                        "--fault-slow-seconds",
                        "0.25",
                        "--fault-seed",
                        "99"};
  MockCommandLine parsed =
      ParseMockCommandLine(static_cast<int>(std::size(argv)), argv);
  REQUIRE_MESSAGE(!parsed.exits(), parsed.text);
  const MockFaultOptions& f = parsed.config.api.faults;
  // 0.7 shared by the 7 kinds but gone; --fault-close replaces its share.
  CHECK(f.rate(MockFault::k5xx) == doctest::Approx(0.1));
  CHECK(f.rate(MockFault::kDelay) == doctest::Approx(0.1));
  CHECK(f.rate(MockFault::kClose) == doctest::Approx(0.2));
  CHECK(f.rate(MockFault::kTruncate) == doctest::Approx(0.1));
  CHECK(f.rate(MockFault::kGarbage) == doctest::Approx(0.1));
  CHECK(f.rate(MockFault::kReserve) == doctest::Approx(0.1));
  CHECK(f.rate(MockFault::kSlow) == doctest::Approx(0.1));
  CHECK(f.rate(MockFault::kGone) == doctest::Approx(0.05));
  CHECK(f.delay == std::chrono::milliseconds(1500));
  CHECK(f.slow == std::chrono::milliseconds(250));
  CHECK(f.seed == 99);

  const char* none[] = {"notifications-mock-api"};
  MockCommandLine defaults = ParseMockCommandLine(1, none);
  REQUIRE_FALSE(defaults.exits());
  CHECK(defaults.config.api.faults.Total() == 0);
  CHECK(defaults.config.api.faults.delay == std::chrono::seconds(35));

  setenv("NOTIFICATIONS_MOCK_FAULT_GONE", "0.25", 1);
  setenv("NOTIFICATIONS_MOCK_FAULT_SEED", "5", 1);
  MockCommandLine from_env = ParseMockCommandLine(1, none);
  setenv("NOTIFICATIONS_MOCK_FAULT_5XX", "2", 1);
  MockCommandLine bad_env = ParseMockCommandLine(1, none);
  unsetenv("NOTIFICATIONS_MOCK_FAULT_GONE");
  unsetenv("NOTIFICATIONS_MOCK_FAULT_SEED");
  unsetenv("NOTIFICATIONS_MOCK_FAULT_5XX");
  REQUIRE_MESSAGE(!from_env.exits(), from_env.text);
  CHECK(from_env.config.api.faults.rate(MockFault::kGone) ==
        doctest::Approx(0.25));
  CHECK(from_env.config.api.faults.seed == 5);
  REQUIRE(bad_env.exits());
  CHECK(Contains(bad_env.text, "--fault-5xx"));
  CHECK(Contains(bad_env.text, "NOTIFICATIONS_MOCK_FAULT_5XX"));

  const char* help[] = {"notifications-mock-api", "--help"};
  MockCommandLine help_line = ParseMockCommandLine(2, help);
  REQUIRE(help_line.exits());
  for (const char* flag :
       {"--fault-rate", "--fault-5xx", "--fault-delay", "--fault-close",
        "--fault-truncate", "--fault-garbage", "--fault-reserve",
        "--fault-gone", "--fault-slow", "--fault-delay-seconds",
        "--fault-slow-seconds", "--fault-seed",
        "NOTIFICATIONS_MOCK_FAULT_RATE"}) {
    CAPTURE(flag);
    CHECK(Contains(help_line.text, flag));
  }
}

TEST_CASE("mock command line rejects bad fault values with one line") {
  struct Case {
    std::vector<const char*> args;
    std::string mentions;
  };
  const Case cases[] = {
      {{"--fault-rate", "1.5"}, "--fault-rate"},
      {{"--fault-truncate", "-0.1"}, "--fault-truncate"},
      {{"--fault-slow", "often"}, "--fault-slow"},
      {{"--fault-delay-seconds", "-1"}, "--fault-delay-seconds"},
      {{"--fault-seed", "-3"}, "--fault-seed"},
      {{"--fault-rate", "0.7", "--fault-gone", "0.5"}, "add up to"},
  };
  for (const Case& c : cases) {
    std::vector<const char*> argv = {"notifications-mock-api"};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    CAPTURE(c.mentions);
    MockCommandLine parsed =
        ParseMockCommandLine(static_cast<int>(argv.size()), argv.data());
    REQUIRE(parsed.exits());
    CHECK(parsed.exit_code == 2);
    CHECK(Contains(parsed.text, c.mentions));
    CHECK(parsed.text.find('\n') == parsed.text.size() - 1);
  }
}

}  // namespace notifications

namespace notifications {
namespace {

using testing::EnvGuard;

MockCommandLine ParseArgs(std::vector<std::string> args) {
  args.insert(args.begin(), "notifications-mock-api");
  std::vector<const char*> argv;
  for (const std::string& a : args) argv.push_back(a.c_str());
  return ParseMockCommandLine(static_cast<int>(argv.size()), argv.data());
}

TEST_CASE(
    "mock command line: every numeric flag refuses nan, inf, overflow "
    "and range, from the command line and the environment") {
  const char* flags[] = {
      "--port",          "--retention",           "--generate",
      "--overlap",       "--fault-rate",          "--fault-5xx",
      "--fault-delay",   "--fault-close",         "--fault-truncate",
      "--fault-garbage", "--fault-reserve",       "--fault-gone",
      "--fault-slow",    "--fault-delay-seconds", "--fault-slow-seconds",
      "--fault-seed"};
  const char* bad_values[] = {
      "nan", "NaN", "inf",  "-inf", "1e400", "99999999999999999999",
      "-1",  "1e9", "0x10", "5s"};
  for (const char* flag : flags) {
    std::string variable = "NOTIFICATIONS_MOCK_";
    for (const char* c = flag + 2; *c; ++c) {
      variable += *c == '-' ? '_' : static_cast<char>(std::toupper(*c));
    }
    for (const char* bad : bad_values) {
      CAPTURE(flag);
      CAPTURE(bad);
      MockCommandLine parsed = ParseArgs({flag, bad});
      CHECK(parsed.exit_code == 2);
      CHECK(parsed.text.rfind(
                std::string("notifications-mock-api: ") + flag + ":", 0) == 0);
      EnvGuard env(variable.c_str(), bad);
      parsed = ParseArgs({});
      CHECK(parsed.exit_code == 2);
      CHECK(parsed.text.rfind(
                std::string("notifications-mock-api: ") + flag + ":", 0) == 0);
      CHECK(Contains(parsed.text, "(from " + variable + ")"));
    }
  }
}

TEST_CASE(
    "mock command line: the token from the environment is trimmed, "
    "never empty, one line") {
  for (const char* bad : {"", " \n", "a\nb", "a\rb"}) {
    CAPTURE(bad);
    EnvGuard env("NOTIFICATIONS_MOCK_TOKEN", bad);
    MockCommandLine parsed = ParseArgs({});
    CHECK(parsed.exit_code == 2);
    CHECK(Contains(parsed.text, "NOTIFICATIONS_MOCK_TOKEN"));
  }
  testing::TempFile file("t0k3n\n");
  EnvGuard env("NOTIFICATIONS_MOCK_TOKEN", "other");
  MockCommandLine both = ParseArgs({"--token-file", file.path});
  CHECK(both.exit_code == 2);
  CHECK(Contains(both.text, "give the token once"));
}

}  // namespace
}  // namespace notifications

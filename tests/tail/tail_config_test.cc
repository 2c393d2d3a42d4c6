// notifications-tail's command line.
#include "tail_config.h"

#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <vector>

#include "env_guard.h"
#include "temp_file.h"

namespace notifications {
namespace {

using namespace std::chrono_literals;
using testing::EnvGuard;

// ---- Command line
// ------------------------------------------------------------

TailCommandLine Parse(std::vector<const char*> args) {
  args.insert(args.begin(), "notifications-tail");
  return ParseTailCommandLine(static_cast<int>(args.size()), args.data());
}

TEST_CASE("tail: the command line fills the options and the stream URL") {
  TailCommandLine cli =
      Parse({"--service", "Jenkins", "--service", "GitHub", "--group", "",
             "--routing-key", "nasqueron.#", "--backlog", "10", "--json",
             "--once", "--connect-timeout", "2.5", "--idle-timeout", "0",
             "--max-retry-delay", "5", "http://127.0.0.1:8080/events"});
  REQUIRE(cli.action == TailCommandLine::Action::kRun);
  const TailOptions& o = cli.config;
  CHECK(o.url == "http://127.0.0.1:8080/events");
  CHECK(o.stream_url ==
        "http://127.0.0.1:8080/events?group=&service=Jenkins&service=GitHub&"
        "key=nasqueron.%23&backlog=10");
  CHECK(o.json);
  CHECK(o.once);
  CHECK(o.connect_timeout == 2500ms);
  CHECK(o.idle_timeout == 0ms);
  CHECK(o.max_retry_delay == 5000ms);

  TailCommandLine plain = Parse({"http://h/events"});
  REQUIRE(plain.action == TailCommandLine::Action::kRun);
  CHECK(plain.config.stream_url ==
        "http://h/events");  // No backlog= unless asked.
  CHECK_FALSE(plain.config.json);
  CHECK_FALSE(plain.config.once);
  CHECK(plain.config.connect_timeout == 10000ms);
  CHECK(plain.config.idle_timeout == 60000ms);
  CHECK(plain.config.max_retry_delay == 30000ms);
}

TEST_CASE("tail: every flag can come from a NOTIFICATIONS_TAIL_ variable") {
  EnvGuard url("NOTIFICATIONS_TAIL_URL", "http://h/events");
  EnvGuard service("NOTIFICATIONS_TAIL_SERVICE", "Jenkins,GitHub");
  EnvGuard key("NOTIFICATIONS_TAIL_ROUTING_KEY", "*.ci.#");
  EnvGuard backlog("NOTIFICATIONS_TAIL_BACKLOG", "3");
  EnvGuard json("NOTIFICATIONS_TAIL_JSON", "1");
  EnvGuard idle("NOTIFICATIONS_TAIL_IDLE_TIMEOUT", "7");
  TailCommandLine cli = Parse({});
  REQUIRE(cli.action == TailCommandLine::Action::kRun);
  CHECK(cli.config.stream_url ==
        "http://h/"
        "events?service=Jenkins&service=GitHub&key=%2A.ci.%23&backlog=3");
  CHECK(cli.config.json);
  CHECK(cli.config.idle_timeout == 7000ms);
  // The command line wins.
  TailCommandLine both =
      Parse({"--service", "Phabricator", "http://other/events"});
  REQUIRE(both.action == TailCommandLine::Action::kRun);
  CHECK(both.config.stream_url ==
        "http://other/events?service=Phabricator&key=%2A.ci.%23&backlog=3");
}

TEST_CASE(
    "tail: the stream token from --token-file or NOTIFICATIONS_TAIL_TOKEN is "
    "sent, never shown") {
  testing::TempFile file("  s3cret/+ \n");
  TailCommandLine cli = Parse({"--service", "Jenkins", "--token-file",
                               file.path.c_str(), "http://h/events"});
  REQUIRE(cli.action == TailCommandLine::Action::kRun);
  CHECK(cli.config.stream_url ==
        "http://h/events?service=Jenkins&access_token=s3cret%2F%2B");
  CHECK(cli.warnings.empty());
  {
    EnvGuard token("NOTIFICATIONS_TAIL_TOKEN", "envtoken");
    TailCommandLine env = Parse({"http://h/events"});
    REQUIRE(env.action == TailCommandLine::Action::kRun);
    CHECK(env.config.stream_url == "http://h/events?access_token=envtoken");
    // The file wins over the variable.
    TailCommandLine both =
        Parse({"--token-file", file.path.c_str(), "http://h/events"});
    CHECK(both.config.stream_url ==
          "http://h/events?access_token=s3cret%2F%2B");
  }
  // Given twice (in the URL too): refused, and the message shows neither.
  TailCommandLine twice = Parse({"--token-file", file.path.c_str(),
                                 "http://h/events?access_token=other"});
  CHECK(twice.exit_code == 2);
  CHECK(twice.text.find("give the stream token once") != std::string::npos);
  // A token in the URL is shown redacted.
  TailCommandLine inline_token =
      Parse({"http://u:pw@h/events?access_token=x1"});
  REQUIRE(inline_token.action == TailCommandLine::Action::kRun);
  CHECK(inline_token.config.display_url == "http://h/events?access_token=***");
  // Missing or empty: an error naming the flag or the variable.
  TailCommandLine missing =
      Parse({"--token-file", "/nonexistent/t", "http://h/e"});
  CHECK(missing.exit_code == 2);
  CHECK(missing.text.find("--token-file") != std::string::npos);
  EnvGuard empty("NOTIFICATIONS_TAIL_TOKEN", " ");
  TailCommandLine blank = Parse({"http://h/events"});
  CHECK(blank.exit_code == 2);
  CHECK(blank.text.find("NOTIFICATIONS_TAIL_TOKEN") != std::string::npos);
}

TEST_CASE("tail: usage errors exit 2 with one line naming the problem") {
  struct Case {
    std::vector<const char*> args;
    std::string expected;
  };
  std::vector<Case> cases = {
      {{}, "notifications-tail: URL is required"},
      {{"ftp://h/events"},
       "notifications-tail: invalid URL \"ftp://h/events\": it must start with "
       "http://"},
      {{"http:///events"},
       "notifications-tail: invalid URL \"http:///events\": no host"},
      {{"--backlog", "-1", "http://h/events"}, "notifications-tail: --backlog"},
      {{"--backlog", "many", "http://h/events"},
       "notifications-tail: --backlog"},
      {{"--connect-timeout", "0", "http://h/events"},
       "notifications-tail: --connect-timeout"},
      {{"--bogus", "http://h/events"},
       "notifications-tail: The following argument was not expected: --bogus"},
      {{"http://a/events", "http://b/events"},
       "notifications-tail: The following argument was not expected"},
  };
  for (const Case& c : cases) {
    TailCommandLine cli = Parse(c.args);
    CAPTURE(cli.text);
    CHECK(cli.action == TailCommandLine::Action::kExit);
    CHECK(cli.exit_code == 2);
    CHECK(cli.text.rfind(c.expected, 0) == 0);
  }
}

TEST_CASE("tail: --help lists every flag, --version prints the version") {
  TailCommandLine help = Parse({"--help"});
  CHECK(help.action == TailCommandLine::Action::kExit);
  CHECK(help.exit_code == 0);
  for (const char* flag :
       {"URL", "--project", "--group", "--service", "--type", "--routing-key",
        "--backlog", "--json", "--once", "--connect-timeout", "--idle-timeout",
        "--max-retry-delay", "--version", "NOTIFICATIONS_TAIL_URL",
        "NOTIFICATIONS_TAIL_ROUTING_KEY", "Exit codes"}) {
    CAPTURE(flag);
    CHECK(help.text.find(flag) != std::string::npos);
  }
  TailCommandLine version = Parse({"--version"});
  CHECK(version.action == TailCommandLine::Action::kExit);
  CHECK(version.exit_code == 0);
  CHECK(version.text ==
        std::string("notifications-tail ") + NB_VERSION_STRING + "\n");
}

}  // namespace
}  // namespace notifications

namespace notifications {
namespace {

TEST_CASE(
    "tail: every numeric flag refuses nan, inf, overflow and range, "
    "from the command line and the environment") {
  struct Flag {
    const char* flag;
    const char* variable;
  };
  const Flag flags[] = {
      {"--backlog", "NOTIFICATIONS_TAIL_BACKLOG"},
      {"--connect-timeout", "NOTIFICATIONS_TAIL_CONNECT_TIMEOUT"},
      {"--idle-timeout", "NOTIFICATIONS_TAIL_IDLE_TIMEOUT"},
      {"--max-retry-delay", "NOTIFICATIONS_TAIL_MAX_RETRY_DELAY"},
  };
  for (const Flag& f : flags) {
    for (const char* bad :
         {"nan", "NaN", "inf", "-inf", "1e400", "99999999999999999999", "-1",
          "1e10", "0x10", "5s"}) {
      CAPTURE(f.flag);
      CAPTURE(bad);
      TailCommandLine cli = Parse({f.flag, bad, "http://h/events"});
      CHECK(cli.exit_code == 2);
      CHECK(cli.text.rfind(std::string("notifications-tail: ") + f.flag + ":",
                           0) == 0);
      EnvGuard env(f.variable, bad);
      cli = Parse({"http://h/events"});
      CHECK(cli.exit_code == 2);
      CHECK(cli.text.find(std::string("(from ") + f.variable + ")") !=
            std::string::npos);
    }
  }
}

TEST_CASE("tail: a bad URL from the environment names the variable") {
  EnvGuard env("NOTIFICATIONS_TAIL_URL", "ftp://h/events");
  TailCommandLine cli = Parse({});
  CHECK(cli.exit_code == 2);
  CHECK(cli.text.find("(from NOTIFICATIONS_TAIL_URL)") != std::string::npos);
}

}  // namespace
}  // namespace notifications

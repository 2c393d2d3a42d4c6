#include "command_line.h"

#include <doctest/doctest.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <string>
#include <vector>

#include "env_guard.h"

namespace notifications {
namespace {

using testing::EnvGuard;

// A small program with one numeric flag (and its variable), one text flag
// without a variable and one positional.
struct Program {
  CLI::App app{"A test program.", "nb-test"};
  int count = 1;
  std::string name;
  std::string target;

  Program() {
    app.set_version_flag("--version", "nb-test 9.9");
    app.add_option("--count", count, "How many")
        ->envname("NB_TEST_COUNT")
        ->check(CLI::Range(1, 10));
    app.add_option("--name", name, "Who");
    app.add_option("TARGET", target, "Where")->envname("NB_TEST_TARGET");
  }

  CommandLineOutcome Parse(std::vector<const char*> args) {
    args.insert(args.begin(), "nb-test");
    CommandLineOutcome out;
    bool run =
        ParseCommandLine(app, static_cast<int>(args.size()), args.data(), &out);
    CHECK(run == !out.exits());
    return out;
  }
};

TEST_CASE("command line: a valid command line runs, sources are empty") {
  Program p;
  CommandLineOutcome out = p.Parse({"--count", "3", "here"});
  CHECK(out.action == CommandLineOutcome::Action::kRun);
  CHECK(out.text.empty());
  CHECK(p.count == 3);
  CHECK(p.target == "here");
  CHECK(out.program == "nb-test");
  CHECK(out.SourceOf("--count") == "");
  CHECK(out.SourceOf("TARGET") == "");
}

TEST_CASE("command line: --help and --version exit 0 with their text") {
  Program p;
  CommandLineOutcome help = p.Parse({"--help"});
  CHECK(help.exits());
  CHECK(help.exit_code == 0);
  CHECK(help.text.find("A test program.") != std::string::npos);
  CHECK(help.text.find("--count") != std::string::npos);
  CHECK(help.text.find("NB_TEST_COUNT") != std::string::npos);
  Program q;
  CommandLineOutcome version = q.Parse({"--version"});
  CHECK(version.exits());
  CHECK(version.exit_code == 0);
  CHECK(version.text == "nb-test 9.9\n");
}

TEST_CASE("command line: a bad value exits 2 with one line naming the flag") {
  Program p;
  CommandLineOutcome out = p.Parse({"--count", "11"});
  CHECK(out.exits());
  CHECK(out.exit_code == 2);
  CHECK(out.text ==
        "nb-test: --count: Value 11 not in range 1 to 10 (see nb-test "
        "--help)\n");
  Program q;
  out = q.Parse({"--bogus"});
  CHECK(out.exit_code == 2);
  CHECK(out.text.rfind("nb-test: ", 0) == 0);
  CHECK(out.text.find("--bogus") != std::string::npos);
  CHECK(out.text.find('\n') == out.text.size() - 1);
}

TEST_CASE("command line: a bad value from a variable names the variable") {
  EnvGuard env("NB_TEST_COUNT", "12");
  Program p;
  CommandLineOutcome out = p.Parse({});
  CHECK(out.exit_code == 2);
  CHECK(out.text ==
        "nb-test: --count: Value 12 not in range 1 to 10 (from "
        "NB_TEST_COUNT) (see nb-test --help)\n");
  // Given on the command line too, the bad value is the command line's.
  Program q;
  out = q.Parse({"--count=13"});
  CHECK(out.text.find("(from NB_TEST_COUNT)") == std::string::npos);
  CHECK(out.text.find("13") != std::string::npos);
}

TEST_CASE("command line: sources say which values came from variables") {
  EnvGuard count("NB_TEST_COUNT", "4");
  EnvGuard target("NB_TEST_TARGET", "there");
  Program p;
  CommandLineOutcome out = p.Parse({});
  REQUIRE_FALSE(out.exits());
  CHECK(p.count == 4);
  CHECK(p.target == "there");
  CHECK(out.SourceOf("--count") == " (from NB_TEST_COUNT)");
  CHECK(out.SourceOf("TARGET") == " (from NB_TEST_TARGET)");
  Program q;
  out = q.Parse({"--count", "5", "here"});
  CHECK(q.count == 5);
  CHECK(out.SourceOf("--count") == "");
  CHECK(out.SourceOf("TARGET") == "");
}

TEST_CASE("command line: Fail() makes a one-line usage error") {
  CommandLineOutcome out;
  out.program = "nb-test";
  out.Fail("--name must not be empty");
  CHECK(out.exits());
  CHECK(out.exit_code == 2);
  CHECK(out.text == "nb-test: --name must not be empty\n");
}

}  // namespace
}  // namespace notifications

#include "config_option.h"

#include <doctest/doctest.h>

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "command_line.h"
#include "env_guard.h"
#include "number_option.h"
#include "temp_file.h"

namespace notifications {
namespace {

using testing::EnvGuard;
using testing::TempFile;

// A program with --config, a checked number with a variable, a required
// text, a flag and a repeatable option.
struct Program {
  CLI::App app{"A test program.", "nb-test"};
  double wait = 1;
  std::string url;
  bool loud = false;
  std::vector<std::string> origins;

  Program() {
    AddConfigFileOption(app, "--config", "Read settings from this file");
    app.add_option("--wait", wait)
        ->envname("NB_TEST_WAIT")
        ->transform(SecondsIn(0.1, 60));
    app.add_option("--url", url)->required();
    app.add_flag("--loud", loud);
    app.add_option("--origin", origins)->delimiter(',');
  }

  CommandLineOutcome Parse(std::vector<std::string> args) {
    args.insert(args.begin(), "nb-test");
    std::vector<const char*> argv;
    for (const std::string& a : args) argv.push_back(a.c_str());
    CommandLineOutcome out;
    ParseCommandLine(app, static_cast<int>(argv.size()), argv.data(), &out);
    return out;
  }
};

TEST_CASE(
    "config option: a file fills what the command line and the "
    "environment leave") {
  TempFile file(
      "# settings\nurl = \"http://h/\"\nwait = 2.5\nloud = true\n"
      "origin = [https://a, https://b]\norigin = https://c\n");
  Program p;
  CommandLineOutcome out = p.Parse({"--config", file.path});
  REQUIRE_MESSAGE(!out.exits(), out.text);
  CHECK(p.url == "http://h/");
  CHECK(p.wait == 2.5);
  CHECK(p.loud);
  CHECK(p.origins ==
        std::vector<std::string>{"https://a", "https://b", "https://c"});
  CHECK(out.SourceOf("--wait") == " (from " + file.path + " line 3)");
  // The command line wins, then the environment, then the file.
  EnvGuard env("NB_TEST_WAIT", "7");
  Program q;
  out = q.Parse({"--config", file.path});
  CHECK(q.wait == 7);
  CHECK(out.SourceOf("--wait") == " (from NB_TEST_WAIT)");
  Program r;
  out = r.Parse({"--config", file.path, "--wait", "9"});
  CHECK(r.wait == 9);
  CHECK(out.SourceOf("--wait") == "");
}

TEST_CASE("config option: unknown keys, repeats and syntax errors exit 2") {
  struct Case {
    std::string text;
    std::string expected;  // After "nb-test: --config FILE: ".
  };
  for (const Case& c : std::vector<Case>{
           {"url = x\nurl-typo = y\n",
            "line 2: unknown key \"url-typo\" (keys are the long flag names "
            "without --, see --help)"},
           {"config = other\n", "line 1: unknown key \"config\""},
           {"help = true\n", "line 1: unknown key \"help\""},
           {"url = a\nurl = b\n",
            "line 2: \"url\" given twice (first on line 1)"},
           {"url = \"x\n", "line 1: unterminated quoted value"},
       }) {
    CAPTURE(c.text);
    TempFile file(c.text);
    Program p;
    CommandLineOutcome out = p.Parse({"--config", file.path});
    CHECK(out.exit_code == 2);
    CHECK(out.text.rfind("nb-test: --config " + file.path + ": " + c.expected,
                         0) == 0);
    CHECK(out.text.find('\n') == out.text.size() - 1);
  }
}

TEST_CASE("config option: a bad value names the flag, the file and the line") {
  for (const char* value : {"nan", "inf", "1e400", "0"}) {
    CAPTURE(value);
    TempFile file(std::string("url = x\n\nwait = ") + value + "\n");
    Program p;
    CommandLineOutcome out = p.Parse({"--config", file.path});
    CHECK(out.exit_code == 2);
    CHECK(out.text ==
          "nb-test: --wait: must be a number of seconds from 0.1 "
          "to 60, got \"" +
              std::string(value) + "\" (from " + file.path +
              " line 3) (see nb-test --help)\n");
  }
  Program missing;
  CommandLineOutcome out = missing.Parse({"--config", "/nonexistent/nb.conf"});
  CHECK(out.exit_code == 2);
  CHECK(out.text.find("/nonexistent/nb.conf") != std::string::npos);
  // A required value may come from the file only.
  TempFile only_wait("wait = 2\n");
  Program required;
  out = required.Parse({"--config", only_wait.path});
  CHECK(out.exit_code == 2);
  CHECK(out.text.find("--url is required") != std::string::npos);
}

}  // namespace
}  // namespace notifications

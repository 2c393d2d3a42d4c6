// CommandLine<Config>: what parsing a program's command line decided, and
// ParseCommandLine(): the one help, version and error path of the three
// programs (notifications-bridge, notifications-mock-api,
// notifications-tail).
//
// Each program builds its own CLI::App (its flags, bound to its config),
// calls ParseCommandLine(), then checks what CLI11 cannot and fills its
// Config. main() prints `text` and returns `exit_code` when the action is
// kExit; it never parses anything itself.
//
// Values and thread-safety: plain structs; ParseCommandLine() reads the
// environment (each option's envname): do not change the environment
// while it runs.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace CLI {
class App;
}  // namespace CLI

namespace notifications {

struct CommandLineOutcome {
  enum class Action { kRun, kExit };
  Action action = Action::kRun;
  // When kExit: what to print, ending with a newline: the help or the
  // version (stdout, exit_code 0), or a one-line error
  // "<program>: <message>" (stderr, exit_code 2).
  std::string text;
  int exit_code = 0;
  // Non-fatal findings to log once the logger exists (e.g. a token file
  // readable by others).
  std::vector<std::string> warnings;

  // The program's name, from its CLI::App (set by ParseCommandLine()).
  std::string program;
  // Long flag name ("--port"; a positional's name, "URL") -> where its
  // value came from when not from the command line, e.g.
  // " (from NOTIFICATIONS_MOCK_PORT)" or " (from /etc/x.conf line 3)" (set
  // by ParseCommandLine()).
  std::map<std::string, std::string> sources;

  bool exits() const { return action == Action::kExit; }
  // Turns this into a usage error: kExit, exit_code 2, text
  // "<program>: <message><source>\n", where <source> is SourceOf() the flag
  // `message` starts with ("--listen: ..." or "--listen must ..."), if any.
  void Fail(const std::string& message);
  // " (from VAR)" when `flag`'s value came from its environment variable
  // VAR (" (from FILE line N)" from a --config file), "" when it came from
  // the command line or is the default. Append it
  // to a message about that value: the user then looks where the value
  // really is.
  std::string SourceOf(const std::string& flag) const;
};

// The outcome with the program's parsed settings.
template <typename Config>
struct CommandLine : CommandLineOutcome {
  Config config;  // Meaningful when action is kRun.
};

// Runs app.parse(argc, argv) (argv[0] is the program) and turns what CLI11
// throws into `out`. Never throws, never exits. Returns true when the
// program goes on (kRun; the options' variables hold the values, and
// out->sources says which came from the environment); false when `out` is
// now kExit:
//   --help             app.help(), exit 0 (--help-all: every group);
//   --version          app.version() + "\n", exit 0;
//   a CLI11 error      "<program>: <CLI11's message>[ (from VAR)] (see
//                      <program> --help)\n", exit 2; " (from VAR)" names the
//                      environment variable when the bad value came from it
//                      rather than from the command line (" (from FILE line
//                      N)" when from a --config file, config_option.h).
bool ParseCommandLine(CLI::App& app, int argc, const char* const* argv,
                      CommandLineOutcome* out);

// For main() when outcome.exits(): prints outcome.text to stdout (exit
// code 0) or stderr (otherwise), and returns the exit code.
int PrintExitText(const CommandLineOutcome& outcome);

}  // namespace notifications

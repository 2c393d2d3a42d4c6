// The --config FILE option: settings read from a file (the grammar of
// config_file.h), whose keys are the program's long flag names without
// "--" ("poll-interval = 2"). Values go through the same checks as on the
// command line.
//
// Precedence: the command line wins over the environment, the environment
// over the file (a key whose flag was given either way is ignored). Errors
// (exit 2 through ParseCommandLine(), naming the file and the line):
//   a syntax error     "--config FILE: line 3: expected key = value"
//   an unknown key     "--config FILE: line 5: unknown key
//                      \"stream-tokn-file\" (keys are the long flag names
//                      without --, see --help)": a typo must not leave a
//                      setting silently at its default
//   a key given twice  (except for repeatable flags, whose values add up)
//   a bad value        "--heartbeat: must be ... (from FILE line 4)"
//
// Not thread-safe: one App per parse.
#pragma once

#include <map>
#include <string>

namespace CLI {
class App;
}  // namespace CLI

namespace notifications {

// Adds `flag` (e.g. "--config") to `app`, reading the file as described
// above. Call it before ParseCommandLine().
void AddConfigFileOption(CLI::App& app, const std::string& flag,
                         const std::string& help);

// After a parse of `app`: long flag name -> " (from FILE line N)" for each
// value the file gave. Empty without AddConfigFileOption() or a file.
std::map<std::string, std::string> ConfigFileSources(const CLI::App& app);

}  // namespace notifications

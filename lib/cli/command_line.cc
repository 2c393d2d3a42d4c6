#include "command_line.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <exception>

#include "config_option.h"

namespace notifications {
namespace {

// True when argv names `option` itself: "--name", "--name=value" for a
// flag; for a positional, one of its values among the arguments.
bool OnCommandLine(const CLI::Option& option, int argc,
                   const char* const* argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    for (const std::string& name : option.get_lnames()) {
      const std::string flag = "--" + name;
      if (arg == flag || arg.compare(0, flag.size() + 1, flag + "=") == 0) {
        return true;
      }
    }
    if (option.get_positional()) {
      for (const std::string& value : option.results()) {
        if (arg == value) return true;
      }
    }
  }
  return false;
}

// The environment variable that gave `option` its value, or "".
std::string EnvironmentSource(const CLI::Option& option, int argc,
                              const char* const* argv) {
  const std::string variable = option.get_envname();
  if (variable.empty()) return "";
  const char* value = std::getenv(variable.c_str());
  if (value == nullptr || value[0] == '\0') return "";
  if (OnCommandLine(option, argc, argv)) return "";
  return variable;
}

// The option a CLI11 error message is about: the one whose "--name" it
// starts with, else the one it names elsewhere ("Could not convert:
// --retention = lots"); the longest match wins ("--fault-delay-seconds"
// over "--fault-delay").
const CLI::Option* OptionOfMessage(const CLI::App& app,
                                   const std::string& message) {
  const CLI::Option* best = nullptr;
  size_t best_length = 0;
  for (const CLI::Option* option : app.get_options()) {
    std::vector<std::string> names;
    for (const std::string& name : option->get_lnames()) {
      names.push_back("--" + name);
    }
    if (option->get_positional()) names.push_back(option->get_name());
    for (const std::string& name : names) {
      for (size_t at = message.find(name); at != std::string::npos;
           at = message.find(name, at + 1)) {
        const size_t end = at + name.size();
        const bool whole = (at == 0 || message[at - 1] == ' ') &&
                           (end == message.size() || message[end] == ':' ||
                            message[end] == ' ' || message[end] == ',');
        if (whole && name.size() > best_length) {
          best = option;
          best_length = name.size();
        }
      }
    }
  }
  return best;
}

}  // namespace

void CommandLineOutcome::Fail(const std::string& message) {
  action = Action::kExit;
  exit_code = 2;
  // The flag the message starts with, when its value has a known source.
  std::string source;
  size_t matched = 0;
  for (const auto& [flag, from] : sources) {
    const bool starts =
        message.compare(0, flag.size(), flag) == 0 &&
        (message.size() == flag.size() || message[flag.size()] == ' ' ||
         message[flag.size()] == ':');
    if (starts && flag.size() > matched) {
      source = from;
      matched = flag.size();
    }
  }
  text = program + ": " + message + source + "\n";
}

std::string CommandLineOutcome::SourceOf(const std::string& flag) const {
  auto it = sources.find(flag);
  return it == sources.end() ? "" : it->second;
}

bool ParseCommandLine(CLI::App& app, int argc, const char* const* argv,
                      CommandLineOutcome* out) {
  out->program = app.get_name();
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    out->action = CommandLineOutcome::Action::kExit;
    out->text = app.help();
    return false;
  } catch (const CLI::CallForAllHelp&) {
    out->action = CommandLineOutcome::Action::kExit;
    out->text = app.help("", CLI::AppFormatMode::All);
    return false;
  } catch (const CLI::CallForVersion&) {
    out->action = CommandLineOutcome::Action::kExit;
    out->text = app.version() + "\n";
    return false;
  } catch (const CLI::ParseError& e) {
    std::string message = e.what();
    if (const CLI::Option* option = OptionOfMessage(app, message)) {
      const std::string variable = EnvironmentSource(*option, argc, argv);
      if (!variable.empty()) {
        message += " (from " + variable + ")";
      } else if (!option->get_lnames().empty()) {
        const auto from_file = ConfigFileSources(app);
        auto it = from_file.find("--" + option->get_lnames().front());
        if (it != from_file.end()) message += it->second;
      }
    }
    out->Fail(message + " (see " + out->program + " --help)");
    return false;
  } catch (const std::exception& e) {
    out->Fail(e.what());
    return false;
  }
  for (const CLI::Option* option : app.get_options()) {
    if (option->count() == 0) continue;
    const std::string variable = EnvironmentSource(*option, argc, argv);
    if (variable.empty()) continue;
    const std::string key = option->get_lnames().empty()
                                ? option->get_name()
                                : "--" + option->get_lnames().front();
    out->sources[key] = " (from " + variable + ")";
  }
  for (const auto& [flag, source] : ConfigFileSources(app)) {
    out->sources[flag] = source;
  }
  return true;
}

int PrintExitText(const CommandLineOutcome& outcome) {
  std::FILE* stream = outcome.exit_code == 0 ? stdout : stderr;
  std::fwrite(outcome.text.data(), 1, outcome.text.size(), stream);
  std::fflush(stream);
  return outcome.exit_code;
}

}  // namespace notifications

#include "mock_config.h"

#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>

namespace notifications {
namespace {

constexpr char kEnvPrefix[] = "NOTIFICATIONS_MOCK_";
constexpr char kTokenEnv[] = "NOTIFICATIONS_MOCK_TOKEN";

std::string Env(const std::string& flag) { return kEnvPrefix + flag; }

std::string Trim(const std::string& s) {
  const char* kSpace = " \t\r\n\v\f";
  size_t begin = s.find_first_not_of(kSpace);
  if (begin == std::string::npos) return "";
  size_t end = s.find_last_not_of(kSpace);
  return s.substr(begin, end - begin + 1);
}

// The token is the file's first line, trimmed: a trailing newline from an
// editor or `echo` must not become part of it.
Result<std::string> ReadTokenFile(const std::string& path,
                                  std::vector<std::string>* warnings) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::InvalidArgument("--token-file: cannot open " + path + ": " +
                                   std::strerror(errno));
  }
  std::string line;
  std::getline(in, line);
  std::string token = Trim(line);
  if (token.empty()) {
    return Status::InvalidArgument(
        "--token-file: " + path + " is empty; put the token on its first line");
  }
  struct stat st;
  if (stat(path.c_str(), &st) == 0 && (st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    warnings->push_back("token file " + path +
                        " is accessible to group or others; consider "
                        "chmod 600 " +
                        path);
  }
  return token;
}

const char* const kFlagsWithEnv[][2] = {
    {"--host", "HOST"},
    {"--port", "PORT"},
    {"--base-path", "BASE_PATH"},
    {"--retention", "RETENTION"},
    {"--token-file", "TOKEN_FILE"},
    {"--fixtures", "FIXTURES"},
    {"--generate", "GENERATE"},
    {"--overlap", "OVERLAP"},
    {"--log-level", "LOG_LEVEL"},
};

// CLI11 names the flag even when the bad value came from its environment
// variable; say so, or the user looks for a flag they never typed.
std::string WithEnvSource(const std::string& message, int argc,
                          const char* const* argv) {
  for (const auto& entry : kFlagsWithEnv) {
    const std::string flag = entry[0];
    if (message.compare(0, flag.size() + 1, flag + ":") != 0) continue;
    for (int i = 1; i < argc; ++i) {
      std::string arg = argv[i];
      if (arg == flag || arg.compare(0, flag.size() + 1, flag + "=") == 0) {
        return message;
      }
    }
    const std::string variable = Env(entry[1]);
    const char* value = std::getenv(variable.c_str());
    if (value != nullptr && value[0] != '\0') {
      return message + " (from " + variable + ")";
    }
  }
  return message;
}

}  // namespace

std::string MockVersionLine() {
  return std::string("notifications-mock-api ") + NB_VERSION;
}

Result<MockCommandLine> ParseMockCommandLine(int argc,
                                             const char* const* argv) {
  MockCommandLine out;
  MockApiOptions& api = out.api;
  std::string token_file;
  std::string log_level = LogLevelName(out.log_level);
  std::string token_on_command_line;
  bool version = false;

  CLI::App app(
      "Mock of Nasqueron's notifications delivery API (docs/delivery-api.md) "
      "for local development and tests: serves GET <base>/status, GET "
      "<base>/notifications and the gate POST /gate/Notification/<project>.",
      "notifications-mock-api");
  app.footer(std::string("Every flag can also be set with the environment "
                         "variable shown beside it. The token can be given "
                         "with ") +
             kTokenEnv +
             " instead of --token-file, never on the command line.");

  app.add_option("--host", api.host, "Address to listen on")
      ->envname(Env("HOST"))
      ->capture_default_str();
  app.add_option("--port", api.port, "TCP port; 0 = any free port")
      ->envname(Env("PORT"))
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  app.add_option("--base-path", api.base_path,
                 "Prefix of the API routes, \"\" or like /delivery")
      ->envname(Env("BASE_PATH"))
      ->capture_default_str();
  app.add_option("--retention", api.retention,
                 "Notifications kept in memory; older cursors answer 410")
      ->envname(Env("RETENTION"))
      ->check(CLI::Range(size_t{1}, size_t{100000000}))
      ->capture_default_str();
  app.add_option("--token-file", token_file,
                 "File whose first line is the bearer token every route but "
                 "status then requires")
      ->envname(Env("TOKEN_FILE"));
  app.add_option("--fixtures", api.fixtures_path,
                 "JSON array of notifications to serve from the start")
      ->envname(Env("FIXTURES"));
  app.add_option("--generate", api.generate_rate,
                 "Synthetic notifications per second (fractions allowed), "
                 "0 = off")
      ->envname(Env("GENERATE"))
      ->check(CLI::Range(0.0, 10000.0))
      ->capture_default_str();
  app.add_option("--overlap", api.overlap,
                 "Re-serve up to N already delivered items at the start of "
                 "each page, to test callers' dedupe")
      ->envname(Env("OVERLAP"))
      ->check(CLI::Range(0, 1000))
      ->capture_default_str();
  app.add_option("--log-level", log_level, "debug, info, warn, error or off")
      ->envname(Env("LOG_LEVEL"))
      ->capture_default_str();
  app.add_flag("--version", version, "Print the version and exit");
  // Hidden, only to answer with a useful message instead of "not expected".
  app.add_option("--token", token_on_command_line)->group("");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    out.exit_text = app.help();
    return out;
  } catch (const CLI::CallForAllHelp&) {
    out.exit_text = app.help("", CLI::AppFormatMode::All);
    return out;
  } catch (const CLI::ParseError& e) {
    return Status::InvalidArgument(WithEnvSource(e.what(), argc, argv) +
                                   " (see notifications-mock-api --help)");
  } catch (const std::exception& e) {
    return Status::InvalidArgument(e.what());
  }

  if (version) {
    out.exit_text = MockVersionLine() + "\n";
    return out;
  }
  if (!token_on_command_line.empty() || app.count("--token") > 0) {
    return Status::InvalidArgument(
        std::string("--token is not accepted: the command line is visible to "
                    "every local user; use --token-file FILE or ") +
        kTokenEnv);
  }
  if (!ParseLogLevel(log_level, &out.log_level)) {
    return Status::InvalidArgument(WithEnvSource(
        "--log-level: must be debug, info, warn, error or off, got \"" +
            log_level + "\"",
        argc, argv));
  }

  const char* env_token = std::getenv(kTokenEnv);
  bool has_env_token = env_token != nullptr && env_token[0] != '\0';
  if (!token_file.empty()) {
    if (has_env_token) {
      return Status::InvalidArgument(
          std::string("give the token once: --token-file or ") + kTokenEnv +
          ", not both");
    }
    Result<std::string> token = ReadTokenFile(token_file, &out.warnings);
    if (!token.ok()) {
      return Status::InvalidArgument(
          WithEnvSource(token.status().message(), argc, argv));
    }
    api.token = *token;
  } else if (has_env_token) {
    api.token = Trim(env_token);
  }

  Status valid = ValidateMockApiOptions(api);
  if (!valid.ok()) return valid;
  return out;
}

}  // namespace notifications

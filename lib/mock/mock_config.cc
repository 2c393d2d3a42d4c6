#include "mock_config.h"

#include <CLI/CLI.hpp>
#include <array>
#include <cstdint>
#include <optional>

#include "number_option.h"
#include "secret_file.h"
#include "version.h"

namespace notifications {
namespace {

constexpr char kProgram[] = "notifications-mock-api";
constexpr char kEnvPrefix[] = "NOTIFICATIONS_MOCK_";
constexpr char kTokenEnv[] = "NOTIFICATIONS_MOCK_TOKEN";

std::string Env(const std::string& flag) { return kEnvPrefix + flag; }

// What each --fault-<kind> does, for --help (indexed by MockFault).
constexpr const char* kFaultHelp[kMockFaultKinds] = {
    "answer 500, 502 or 503 with a JSON error body",
    "hold the request --fault-delay-seconds, then answer normally",
    "send the headers and part of the body, then close the connection",
    "answer 200 with the JSON body cut short",
    "answer 200 with an HTML page instead of JSON",
    "re-serve 1..limit already delivered items at the start of the page",
    "answer 410 gone to a request with after, as if the cursor were "
    "forgotten (never part of --fault-rate)",
    "drip the page in small pieces every 100 ms over "
    "--fault-slow-seconds",
};

std::string Upper(std::string s) {
  for (char& c : s) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return s;
}

}  // namespace

MockCommandLine ParseMockCommandLine(int argc, const char* const* argv) {
  MockCommandLine out;
  MockApiOptions& api = out.config.api;
  std::string token_file;
  std::string log_level = LogLevelName(out.config.log_level);
  std::string token_on_command_line;

  CLI::App app(
      "Mock of Nasqueron's notifications delivery API (docs/delivery-api.md) "
      "for local development and tests: serves GET <base>/status, GET "
      "<base>/notifications and the gate POST /gate/Notification/<project>.",
      kProgram);
  app.set_version_flag("--version", VersionLine(kProgram));
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
      ->transform(WholeNumberIn(0, 65535))
      ->capture_default_str();
  app.add_option("--base-path", api.base_path,
                 "Prefix of the API routes, \"\" or like /delivery")
      ->envname(Env("BASE_PATH"))
      ->capture_default_str();
  app.add_option("--retention", api.retention,
                 "Notifications kept in memory; older cursors answer 410")
      ->envname(Env("RETENTION"))
      ->transform(WholeNumberIn(1, 100000000))
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
      ->transform(NumberIn(0, 10000))
      ->capture_default_str();
  app.add_option("--overlap", api.overlap,
                 "Re-serve up to N already delivered items at the start of "
                 "each page, to test callers' dedupe")
      ->envname(Env("OVERLAP"))
      ->transform(WholeNumberIn(0, 1000))
      ->capture_default_str();
  double fault_rate = 0;
  app.add_option("--fault-rate", fault_rate,
                 "Probability (0..1) that a GET <base>/notifications request "
                 "gets a fault, spread evenly over every kind below but "
                 "gone; a --fault-<kind> given replaces that kind's share")
      ->envname(Env("FAULT_RATE"))
      ->transform(NumberIn(0, 1))
      ->capture_default_str();
  MockFaultOptions& faults = api.faults;
  std::array<CLI::Option*, kMockFaultKinds> fault_options{};
  for (size_t i = 0; i < kMockFaultKinds; ++i) {
    const std::string name = MockFaultName(static_cast<MockFault>(i));
    fault_options[i] =
        app.add_option("--fault-" + name, faults.rates[i],
                       std::string("Probability (0..1) per poll request: ") +
                           kFaultHelp[i])
            ->envname(Env("FAULT_" + Upper(name)))
            ->transform(NumberIn(0, 1))
            ->capture_default_str();
  }
  double delay_seconds = static_cast<double>(faults.delay.count()) / 1000;
  app.add_option("--fault-delay-seconds", delay_seconds,
                 "How long a delay fault holds a request, in seconds (longer "
                 "than the bridge's --request-timeout)")
      ->envname(Env("FAULT_DELAY_SECONDS"))
      ->transform(SecondsIn(0, 3600))
      ->capture_default_str();
  double slow_seconds = static_cast<double>(faults.slow.count()) / 1000;
  app.add_option("--fault-slow-seconds", slow_seconds,
                 "About how long a slow fault takes to drip a whole page, "
                 "in seconds")
      ->envname(Env("FAULT_SLOW_SECONDS"))
      ->transform(SecondsIn(0, 3600))
      ->capture_default_str();
  app.add_option("--fault-seed", faults.seed,
                 "Seed of the fault draws, for reproducible runs; 0 = random")
      ->envname(Env("FAULT_SEED"))
      ->transform(WholeNumberIn(0, UINT64_MAX))
      ->capture_default_str();
  app.add_option("--log-level", log_level, "debug, info, warn, error or off")
      ->envname(Env("LOG_LEVEL"))
      ->capture_default_str();
  // Hidden, only to answer with a useful message instead of "not expected".
  app.add_option("--token", token_on_command_line)->group("");

  if (!ParseCommandLine(app, argc, argv, &out)) return out;
  if (!token_on_command_line.empty() || app.count("--token") > 0) {
    out.Fail(std::string("--token is not accepted: the command line is "
                         "visible to every local user; use --token-file FILE "
                         "or ") +
             kTokenEnv);
    return out;
  }
  if (!ParseLogLevel(log_level, &out.config.log_level)) {
    out.Fail("--log-level: must be debug, info, warn, error or off, got \"" +
             log_level + "\"");
    return out;
  }

  // --fault-rate is a mix: each kind not given on its own gets an equal
  // share. Gone is left out: a 410 makes a caller drop its view and replay
  // everything, which a demo or a casual run should not get by surprise.
  constexpr size_t kGone = static_cast<size_t>(MockFault::kGone);
  for (size_t i = 0; i < kMockFaultKinds; ++i) {
    if (i != kGone && fault_options[i]->count() == 0) {
      faults.rates[i] = fault_rate / static_cast<double>(kMockFaultKinds - 1);
    }
  }
  faults.delay = SecondsToMillis(delay_seconds);
  faults.slow = SecondsToMillis(slow_seconds);

  Result<std::optional<std::string>> env_token = ReadSecretVariable(kTokenEnv);
  if (!env_token.ok()) {
    out.Fail(env_token.status().message());
    return out;
  }
  if (!token_file.empty()) {
    if (env_token->has_value()) {
      out.Fail(std::string("give the token once: --token-file or ") +
               kTokenEnv + ", not both");
      return out;
    }
    Result<std::string> token = ReadSecretFile(token_file, &out.warnings);
    if (!token.ok()) {
      out.Fail("--token-file: " + token.status().message());
      return out;
    }
    api.token = *token;
  } else {
    api.token = env_token->value_or("");
  }

  Status valid = ValidateMockApiOptions(api);
  if (!valid.ok()) out.Fail(valid.message());
  return out;
}

}  // namespace notifications

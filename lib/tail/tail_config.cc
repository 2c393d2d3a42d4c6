#include "tail_config.h"

#include <CLI/CLI.hpp>

#include "number_option.h"
#include "secret_file.h"
#include "tail_format.h"
#include "version.h"

namespace notifications {
namespace {

constexpr char kProgram[] = "notifications-tail";

}  // namespace

TailCommandLine ParseTailCommandLine(int argc, const char* const* argv) {
  TailCommandLine result;
  TailOptions& o = result.config;
  StreamFilters& f = o.filters;
  CLI::App app{
      "notifications-tail: prints the notifications of a notifications-bridge "
      "stream as they arrive, one line each:\n"
      "  [Nov 28 13:00:00] <Nasqueron/ops> dereckson pushed 2 commits — "
      "https://github.com/...\n"
      "Filters are applied by the bridge. Reconnects after a drop and resumes "
      "where it stopped (Last-Event-ID).\n"
      "Exit codes: 0 stopped (SIGINT/SIGTERM) or, with --once, the stream "
      "ended; 1 cannot connect, not a bridge stream, or the stream broke "
      "with --once; 2 bad usage.",
      kProgram};
  app.set_version_flag("--version", VersionLine(kProgram));
  app.get_formatter()->column_width(30);
  app.footer(
      "Examples:\n"
      "  notifications-tail http://127.0.0.1:8080/events\n"
      "  notifications-tail --service Jenkins --type completed.failure URL\n"
      "  notifications-tail --routing-key 'nasqueron.ops.#' --backlog 20 URL\n"
      "  notifications-tail --json --once URL | jq -r .text\n"
      "Every flag can also be set as NOTIFICATIONS_TAIL_<FLAG> (upper case, "
      "'-' -> '_'); repeatable flags take a comma-separated list there, e.g. "
      "NOTIFICATIONS_TAIL_SERVICE=Jenkins,GitHub. Notices (resets, drops, "
      "reconnections) go to stderr; stdout has only notifications.");
  const std::string env = "NOTIFICATIONS_TAIL_";

  double connect_timeout = 10, idle_timeout = 60, max_retry_delay = 30;
  size_t backlog = 0;
  std::string token_file;

  app.add_option("URL", o.url,
                 "The bridge's stream, e.g. http://127.0.0.1:8080/events")
      ->envname(env + "URL")
      ->required();
  app.add_option("--token-file", token_file,
                 "File holding the stream token of a bridge run with "
                 "--stream-token-file (without it, " +
                     env +
                     "TOKEN is read); sent as access_token, never shown. "
                     "Not in the URL: the command line is visible to every "
                     "local user")
      ->envname(env + "TOKEN_FILE");
  app.add_option("--project", f.projects,
                 "Only this project (repeatable, ORed; case-insensitive)")
      ->envname(env + "PROJECT")
      ->delimiter(',');
  app.add_option("--group", f.groups,
                 "Only this group, e.g. ops, ci (repeatable; \"\" is the "
                 "empty group)")
      ->envname(env + "GROUP")
      ->delimiter(',');
  app.add_option("--service", f.services,
                 "Only this service, e.g. GitHub, Jenkins (repeatable)")
      ->envname(env + "SERVICE")
      ->delimiter(',');
  app.add_option("--type", f.types,
                 "Only this type, e.g. push, completed.success (repeatable)")
      ->envname(env + "TYPE")
      ->delimiter(',');
  app.add_option("--routing-key", f.keys,
                 "Only routing keys project.group.service.type matching this "
                 "AMQP topic PATTERN, e.g. nasqueron.ops.# or *.ci.*.*.* "
                 "(repeatable)")
      ->envname(env + "ROUTING_KEY")
      ->delimiter(',');
  CLI::Option* backlog_option =
      app.add_option("--backlog", backlog,
                     "First print the N most recent notifications the bridge "
                     "retains (that pass the filters)")
          ->envname(env + "BACKLOG")
          ->transform(WholeNumberIn(0, 999999999));
  app.add_flag("--json", o.json,
               "Print each notification as one line of JSON, exactly as the "
               "bridge sent it (for scripts)")
      ->envname(env + "JSON");
  app.add_flag("--once", o.once,
               "Exit when the stream ends instead of reconnecting")
      ->envname(env + "ONCE");
  app.add_option("--connect-timeout", connect_timeout,
                 "Seconds to open the connection")
      ->envname(env + "CONNECT_TIMEOUT")
      ->transform(SecondsIn(0.1, 600))
      ->capture_default_str();
  app.add_option("--idle-timeout", idle_timeout,
                 "Seconds without any byte (the bridge sends a heartbeat every "
                 "15 s) after which the stream is taken as dead and reopened; "
                 "0 = never")
      ->envname(env + "IDLE_TIMEOUT")
      ->transform(SecondsIn(0, 86400))
      ->capture_default_str();
  app.add_option("--max-retry-delay", max_retry_delay,
                 "Cap, in seconds, of the growing wait between failed "
                 "reconnections (a longer retry: from the bridge still wins)")
      ->envname(env + "MAX_RETRY_DELAY")
      ->transform(SecondsIn(0.1, 3600))
      ->capture_default_str();

  if (!ParseCommandLine(app, argc, argv, &result)) return result;
  if (*backlog_option) f.backlog = backlog;
  Result<std::string> token =
      ReadSecret("--token-file", token_file, env + "TOKEN", &result.warnings);
  if (!token.ok()) {
    result.Fail(token.status().message());
    return result;
  }
  Result<std::string> url = BuildStreamUrl(o.url, f, token.value());
  if (!url.ok()) {
    result.Fail(url.status().message() + result.SourceOf("URL"));
    return result;
  }
  o.stream_url = std::move(url).value();
  o.display_url = RedactStreamUrl(o.url);
  o.connect_timeout = SecondsToMillis(connect_timeout);
  o.idle_timeout = SecondsToMillis(idle_timeout);
  o.max_retry_delay = SecondsToMillis(max_retry_delay);
  return result;
}

}  // namespace notifications

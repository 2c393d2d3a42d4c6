#include "config.h"

#include "listen_address.h"
#include "version.h"
#include "secret_file.h"

#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <cmath>
#include <fstream>

namespace notifications {


namespace {

std::string DefaultPublicDir() {
  struct stat st;
  // Installed page first, then the source tree's (for builds run in place).
  for (const char* dir : {NB_DEFAULT_PUBLIC_DIR, NB_SOURCE_PUBLIC_DIR}) {
    std::string index = std::string(dir) + "/index.html";
    if (stat(index.c_str(), &st) == 0) return dir;
  }
  return "";
}

std::chrono::milliseconds Millis(double seconds) {
  return std::chrono::milliseconds(std::llround(seconds * 1000.0));
}

// A CLI11 validator for "a number of seconds within [lo, hi]".
CLI::Validator SecondsRange(double lo, double hi) {
  return CLI::Range(lo, hi, "SECONDS");
}

}  // namespace

CommandLine ParseBridgeCommandLine(int argc, const char* const* argv) {
  CommandLine result;
  BridgeConfig& c = result.config;
  CLI::App app{
      "notifications-bridge: polls Nasqueron's notifications delivery API and "
      "streams new notifications to browsers as Server-Sent Events.",
      "notifications-bridge"};
  app.set_version_flag("--version", std::string("notifications-bridge ") + ProjectVersion());
  app.set_config("--config", "", "Read settings from this INI/TOML file");
  app.get_formatter()->column_width(34);
  const std::string env = "NOTIFICATIONS_BRIDGE_";

  double poll_interval = 5, heartbeat = 15, connect_timeout = 5,
         request_timeout = 30, backoff_initial = 1, backoff_max = 60,
         retry = 3, write_timeout = 5, busy_retry = 30;
  std::string listen = "127.0.0.1:8080", token_file, stream_token_file,
              log_level = "info", log_format = "text";
  c.public_dir = DefaultPublicDir();

  app.add_option("--delivery-url", c.delivery_url,
                 "Delivery API base URL, e.g. http://127.0.0.1:8081/delivery")
      ->envname(env + "DELIVERY_URL");
  AmqpFlags amqp;
  AddAmqpOptions(app, env, &amqp);
  app.add_option("--token-file", token_file,
                 "File holding the delivery API bearer token (or set " + env +
                     "TOKEN); never logged")
      ->envname(env + "TOKEN_FILE");
  app.add_option("--poll-interval", poll_interval,
                 "Seconds between polls when idle (fractions allowed)")
      ->envname(env + "POLL_INTERVAL")->check(SecondsRange(0.01, 3600))
      ->capture_default_str();
  app.add_option("--connect-timeout", connect_timeout,
                 "Seconds to connect to the delivery API")
      ->envname(env + "CONNECT_TIMEOUT")->check(SecondsRange(0.1, 300))
      ->capture_default_str();
  app.add_option("--request-timeout", request_timeout,
                 "Seconds for a whole delivery API request")
      ->envname(env + "REQUEST_TIMEOUT")->check(SecondsRange(0.1, 600))
      ->capture_default_str();
  app.add_option("--backoff-initial", backoff_initial,
                 "Seconds before the first retry after a failed poll")
      ->envname(env + "BACKOFF_INITIAL")->check(SecondsRange(0.01, 3600))
      ->capture_default_str();
  app.add_option("--backoff-max", backoff_max,
                 "Cap on the wait between retries, in seconds")
      ->envname(env + "BACKOFF_MAX")->check(SecondsRange(0.01, 3600))
      ->capture_default_str();
  app.add_option("--max-page-bytes", c.max_page_bytes,
                 "Largest delivery API page accepted, in bytes")
      ->envname(env + "MAX_PAGE_BYTES")->check(CLI::Range(size_t{1024}, size_t{1} << 30))
      ->capture_default_str();
  app.add_option("--page-limit", c.page_limit,
                 "Notifications asked per page (1..1000)")
      ->envname(env + "PAGE_LIMIT")->check(CLI::Range(size_t{1}, size_t{1000}))
      ->capture_default_str();
  int long_poll = 0;
  app.add_option("--long-poll", long_poll,
                 "Ask the delivery API to hold empty answers up to this many "
                 "seconds (wait=), for near-zero latency; 0 = plain polling. "
                 "Keep it below proxies' read timeouts (api.nasqueron.org: 90)")
      ->envname(env + "LONG_POLL")->check(CLI::Range(0, 300))
      ->capture_default_str();
  app.add_option("--listen", listen,
                 "host:port to serve on; port 0 picks a free one")
      ->envname(env + "LISTEN")->capture_default_str();
  app.add_option("--public-dir", c.public_dir,
                 "Directory of the web page served at / (default: the "
                 "installed page)")
      ->envname(env + "PUBLIC_DIR")->capture_default_str();
  app.add_option("--base-path", c.base_path,
                 "Serve every route under this prefix, e.g. /notifications "
                 "behind a proxy location that does not strip it (also read "
                 "from API_ENTRY_POINT, as Nasqueron's API containers do)")
      ->envname(env + "BASE_PATH");
  app.add_option("--history", c.history,
                 "Notifications kept for backlog and Last-Event-ID replay")
      ->envname(env + "HISTORY")->check(CLI::Range(size_t{1}, size_t{1000000}))
      ->capture_default_str();
  app.add_option("--heartbeat", heartbeat,
                 "Seconds between keep-alive comments on idle streams")
      ->envname(env + "HEARTBEAT")->check(SecondsRange(0.1, 3600))
      ->capture_default_str();
  app.add_option("--retry", retry,
                 "Browser reconnection delay sent as retry:, in seconds "
                 "(each stream adds up to 2/3 of it as jitter)")
      ->envname(env + "RETRY")->check(SecondsRange(0.1, 3600))
      ->capture_default_str();
  app.add_option("--max-clients", c.max_clients,
                 "Most open streams; more are asked to retry later")
      ->envname(env + "MAX_CLIENTS")->check(CLI::Range(size_t{1}, size_t{100000}))
      ->capture_default_str();
  app.add_option("--busy-retry", busy_retry,
                 "retry: (seconds, up to twice as much with jitter) told to "
                 "streams turned away at --max-clients")
      ->envname(env + "BUSY_RETRY")->check(SecondsRange(0.1, 3600))
      ->capture_default_str();
  app.add_option("--write-timeout", write_timeout,
                 "Seconds a stream may block on a client that stops reading "
                 "before it is dropped")
      ->envname(env + "WRITE_TIMEOUT")->check(SecondsRange(0.1, 600))
      ->capture_default_str();
  app.add_option("--stream-threads", c.stream_threads,
                 "Threads writing the event streams (each serves its share in "
                 "turn); 0 = one per CPU core, at most 8")
      ->envname(env + "STREAM_THREADS")->check(CLI::Range(size_t{0}, size_t{64}))
      ->capture_default_str();
  app.add_option("--allow-origin", c.allow_origins,
                 "Origin allowed to read the stream cross-origin (CORS), "
                 "repeatable, exact match, e.g. https://infra.nasqueron.org")
      ->envname(env + "ALLOW_ORIGIN")->delimiter(',');
  app.add_flag("--raw-content", c.raw_content,
               "Include rawContent (the source payload, can be large) in "
               "streamed events")
      ->envname(env + "RAW_CONTENT");
  app.add_option("--state-file", c.state_file,
                 "Persist the cursor here after each published page and "
                 "resume from it on start")
      ->envname(env + "STATE_FILE");
  app.add_flag("--reset-state", c.reset_state,
               "Ignore the state file's content (e.g. a corrupt one) and "
               "start from the oldest notification the API retains")
      ->envname(env + "RESET_STATE");
  app.add_option("--stream-token-file", stream_token_file,
                 "File holding a token that /events then requires (as the "
                 "access_token parameter or the notifications_stream_token "
                 "cookie); or set " + env + "STREAM_TOKEN")
      ->envname(env + "STREAM_TOKEN_FILE");
  app.add_option("--log-level", log_level, "debug, info, warn, error or off")
      ->envname(env + "LOG_LEVEL")->capture_default_str();
  app.add_option("--log-format", log_format,
                 "text, or json (one object per line, for log shippers)")
      ->envname(env + "LOG_FORMAT")->capture_default_str();

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    result.action = CommandLine::Action::kExit;
    result.text = app.help();
    return result;
  } catch (const CLI::CallForAllHelp&) {
    result.action = CommandLine::Action::kExit;
    result.text = app.help("", CLI::AppFormatMode::All);
    return result;
  } catch (const CLI::CallForVersion&) {
    result.action = CommandLine::Action::kExit;
    result.text = app.version() + "\n";
    return result;
  } catch (const CLI::ParseError& e) {
    result.action = CommandLine::Action::kExit;
    result.exit_code = 2;
    result.text = std::string("notifications-bridge: ") + e.what() +
                  "\nRun with --help for usage.\n";
    return result;
  }

  auto fail = [&](const std::string& message) {
    result.action = CommandLine::Action::kExit;
    result.exit_code = 2;
    result.text = "notifications-bridge: " + message + "\n";
    return result;
  };
  std::string amqp_error =
      FinishAmqpConfig(amqp, c.delivery_url, &c.amqp, &result.warnings);
  if (!amqp_error.empty()) return fail(amqp_error);
  if (!c.amqp.enabled() && c.delivery_url.rfind("http://", 0) != 0 &&
      c.delivery_url.rfind("https://", 0) != 0) {
    return fail("--delivery-url must start with http:// or https://, got \"" +
                c.delivery_url + "\"");
  }
  std::string error;
  if (!ParseListenAddress(listen, &c.listen_host, &c.listen_port, &error)) {
    return fail("--listen: " + error);
  }
  if (!ParseLogLevel(log_level, &c.log_level)) {
    return fail("--log-level must be debug, info, warn, error or off, got \"" +
                log_level + "\"");
  }
  if (log_format == "json") {
    c.log_format = LogFormat::kJson;
  } else if (log_format != "text") {
    return fail("--log-format must be text or json, got \"" + log_format + "\"");
  }
  if (c.base_path.empty()) {
    if (const char* entry = std::getenv("API_ENTRY_POINT")) c.base_path = entry;
  }
  while (c.base_path.size() > 1 && c.base_path.back() == '/') c.base_path.pop_back();
  if (c.base_path == "/") c.base_path.clear();
  if (!c.base_path.empty() &&
      (c.base_path[0] != '/' ||
       c.base_path.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                     "0123456789-._~/") != std::string::npos ||
       c.base_path.find("//") != std::string::npos ||
       c.base_path.find("/.") != std::string::npos)) {
    return fail("--base-path must look like /notifications (a path starting "
                "with '/', letters, digits, '-', '.', '_', '~'), got \"" +
                c.base_path + "\"");
  }
  if (backoff_max < backoff_initial) {
    return fail("--backoff-max must not be below --backoff-initial");
  }
  for (const std::string& origin : c.allow_origins) {
    if (origin == "*" || origin.find_first_of(" \t\r\n,") != std::string::npos ||
        (origin.rfind("http://", 0) != 0 && origin.rfind("https://", 0) != 0) ||
        origin.back() == '/') {
      return fail("--allow-origin takes an exact origin like "
                  "https://infra.nasqueron.org (scheme://host[:port], no "
                  "path, no '*'), got \"" + origin + "\"");
    }
  }
  if (!c.public_dir.empty()) {
    struct stat st;
    if (stat(c.public_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return fail("--public-dir " + c.public_dir + " is not a directory");
    }
  }
  if (!token_file.empty()) {
    Result<std::string> token = ReadSecretFile(token_file, &result.warnings);
    if (!token.ok()) return fail("--token-file: " + token.status().message());
    c.token = token.value();
  } else if (const char* t = std::getenv((env + "TOKEN").c_str())) {
    c.token = t;
  }
  if (!stream_token_file.empty()) {
    Result<std::string> token = ReadSecretFile(stream_token_file, &result.warnings);
    if (!token.ok()) return fail("--stream-token-file: " + token.status().message());
    c.stream_token = token.value();
  } else if (const char* t = std::getenv((env + "STREAM_TOKEN").c_str())) {
    c.stream_token = t;
  }
  c.long_poll = std::chrono::seconds(long_poll);
  c.poll_interval = Millis(poll_interval);
  c.heartbeat = Millis(heartbeat);
  c.connect_timeout = Millis(connect_timeout);
  c.request_timeout = Millis(request_timeout);
  c.backoff_initial = Millis(backoff_initial);
  c.backoff_max = Millis(backoff_max);
  c.retry = Millis(retry);
  c.write_timeout = Millis(write_timeout);
  c.busy_retry = Millis(busy_retry);
  return result;
}

}  // namespace notifications

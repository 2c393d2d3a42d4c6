#include "config.h"

#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <optional>

#include "amqp_config.h"
#include "config_option.h"
#include "http_url.h"
#include "listen_address.h"
#include "notification.h"
#include "number_option.h"
#include "secret_file.h"
#include "version.h"

namespace notifications {
namespace {

constexpr char kProgram[] = "notifications-bridge";
const std::string kEnv = "NOTIFICATIONS_BRIDGE_";

// The flags whose value is not stored as it is in BridgeConfig: seconds
// (converted to milliseconds), text parsed after CLI11, files holding
// secrets. Defaults as documented in config.h.
struct RawFlags {
  double poll_interval = 5, connect_timeout = 5, request_timeout = 30,
         backoff_initial = 1, backoff_max = 60, heartbeat = 15, retry = 3,
         busy_retry = 30, write_timeout = 5, head_timeout = 10;
  int long_poll = 0;
  std::string listen = "127.0.0.1:8080";
  std::string token_file, stream_token_file;
  std::string log_level = "info", log_format = "text";
  AmqpFlags amqp;  // --amqp-*, --serve-delivery-api
};

std::string DefaultPublicDir() {
  struct stat st;
  // Installed page first, then the source tree's (for builds run in place).
  for (const char* dir : {NB_DEFAULT_PUBLIC_DIR, NB_SOURCE_PUBLIC_DIR}) {
    std::string index = std::string(dir) + "/index.html";
    if (stat(index.c_str(), &st) == 0) return dir;
  }
  return "";
}

// How the bridge reads the delivery API: --delivery-url ... --long-poll.
void AddUpstreamOptions(CLI::App& app, BridgeConfig& c, RawFlags& f) {
  app.add_option("--delivery-url", c.delivery_url,
                 "Delivery API base URL, e.g. http://127.0.0.1:8081/delivery")
      ->envname(kEnv + "DELIVERY_URL");
  AddAmqpOptions(app, kEnv, &f.amqp);
  app.add_option("--token-file", f.token_file,
                 "File holding the delivery API bearer token (or set " + kEnv +
                     "TOKEN); never logged")
      ->envname(kEnv + "TOKEN_FILE");
  app.add_option("--poll-interval", f.poll_interval,
                 "Seconds between polls when idle (fractions allowed)")
      ->envname(kEnv + "POLL_INTERVAL")
      ->transform(SecondsIn(0.01, 3600))
      ->capture_default_str();
  app.add_option("--connect-timeout", f.connect_timeout,
                 "Seconds to connect to the delivery API")
      ->envname(kEnv + "CONNECT_TIMEOUT")
      ->transform(SecondsIn(0.1, 300))
      ->capture_default_str();
  app.add_option("--request-timeout", f.request_timeout,
                 "Seconds for a whole delivery API request")
      ->envname(kEnv + "REQUEST_TIMEOUT")
      ->transform(SecondsIn(0.1, 600))
      ->capture_default_str();
  app.add_option("--backoff-initial", f.backoff_initial,
                 "Seconds before the first retry after a failed poll")
      ->envname(kEnv + "BACKOFF_INITIAL")
      ->transform(SecondsIn(0.01, 3600))
      ->capture_default_str();
  app.add_option("--backoff-max", f.backoff_max,
                 "Cap on the wait between retries, in seconds")
      ->envname(kEnv + "BACKOFF_MAX")
      ->transform(SecondsIn(0.01, 3600))
      ->capture_default_str();
  app.add_option("--max-page-bytes", c.max_page_bytes,
                 "Largest delivery API page accepted, in bytes")
      ->envname(kEnv + "MAX_PAGE_BYTES")
      ->transform(WholeNumberIn(1024, uint64_t{1} << 30))
      ->capture_default_str();
  app.add_option("--page-limit", c.page_limit,
                 "Notifications asked per page (1..1000)")
      ->envname(kEnv + "PAGE_LIMIT")
      ->transform(WholeNumberIn(1, 1000))
      ->capture_default_str();
  app.add_option("--long-poll", f.long_poll,
                 "Ask the delivery API to hold empty answers up to this many "
                 "seconds (wait=), for near-zero latency; 0 = plain polling. "
                 "Keep it below proxies' read timeouts (api.nasqueron.org: 90)")
      ->envname(kEnv + "LONG_POLL")
      ->transform(WholeNumberIn(0, 300))
      ->capture_default_str();
}

// How the bridge serves: --listen ... --raw-content.
void AddServerOptions(CLI::App& app, BridgeConfig& c, RawFlags& f) {
  app.add_option("--listen", f.listen,
                 "host:port to serve on; port 0 picks a free one")
      ->envname(kEnv + "LISTEN")
      ->capture_default_str();
  app.add_option("--public-dir", c.public_dir,
                 "Directory of the web page served at / (default: the "
                 "installed page)")
      ->envname(kEnv + "PUBLIC_DIR")
      ->capture_default_str();
  app.add_option("--base-path", c.base_path,
                 "Serve every route under this prefix, e.g. /notifications "
                 "behind a proxy location that does not strip it (also read "
                 "from API_ENTRY_POINT, as Nasqueron's API containers do)")
      ->envname(kEnv + "BASE_PATH");
  app.add_option("--history", c.history,
                 "Notifications kept for backlog and Last-Event-ID replay")
      ->envname(kEnv + "HISTORY")
      ->transform(WholeNumberIn(1, 1000000))
      ->capture_default_str();
  app.add_option("--history-bytes", c.history_bytes,
                 "Most bytes the history holds (notifications and their "
                 "encoded events); the oldest go first")
      ->envname(kEnv + "HISTORY_BYTES")
      ->transform(WholeNumberIn(uint64_t{1} << 20, uint64_t{1} << 36))
      ->capture_default_str();
  app.add_option("--max-item-bytes", c.max_item_bytes,
                 "Largest notification kept, in bytes (its fields, and "
                 "rawContent with --raw-content); larger ones are skipped, "
                 "counted and logged")
      ->envname(kEnv + "MAX_ITEM_BYTES")
      ->transform(WholeNumberIn(1024, uint64_t{1} << 30))
      ->capture_default_str();
  app.add_option("--heartbeat", f.heartbeat,
                 "Seconds between keep-alive comments on idle streams")
      ->envname(kEnv + "HEARTBEAT")
      ->transform(SecondsIn(0.1, 3600))
      ->capture_default_str();
  app.add_option("--retry", f.retry,
                 "Browser reconnection delay sent as retry:, in seconds "
                 "(each stream adds up to 2/3 of it as jitter)")
      ->envname(kEnv + "RETRY")
      ->transform(SecondsIn(0.1, 3600))
      ->capture_default_str();
  app.add_option("--max-clients", c.max_clients,
                 "Most open streams; more are asked to retry later")
      ->envname(kEnv + "MAX_CLIENTS")
      ->transform(WholeNumberIn(1, 100000))
      ->capture_default_str();
  app.add_option("--busy-retry", f.busy_retry,
                 "retry: (seconds, up to twice as much with jitter) told to "
                 "streams turned away at --max-clients")
      ->envname(kEnv + "BUSY_RETRY")
      ->transform(SecondsIn(0.1, 3600))
      ->capture_default_str();
  app.add_option("--write-timeout", f.write_timeout,
                 "Seconds a stream may block on a client that stops reading "
                 "before it is dropped")
      ->envname(kEnv + "WRITE_TIMEOUT")
      ->transform(SecondsIn(0.1, 600))
      ->capture_default_str();
  app.add_option("--head-timeout", f.head_timeout,
                 "Seconds a connection has to send a whole request head (and "
                 "an idle keep-alive connection its next one); then 408 and "
                 "closed")
      ->envname(kEnv + "HEAD_TIMEOUT")
      ->transform(SecondsIn(1, 600))
      ->capture_default_str();
  app.add_option("--max-handshakes", c.max_handshakes,
                 "Connections that are not streams (sending a request, idle "
                 "between two, being answered) held at once; at the cap each "
                 "new one closes the oldest")
      ->envname(kEnv + "MAX_HANDSHAKES")
      ->transform(WholeNumberIn(16, 100000))
      ->capture_default_str();
  app.add_option("--stream-threads", c.stream_threads,
                 "Threads writing the event streams (each serves its share in "
                 "turn); 0 = one per CPU core, at most 8")
      ->envname(kEnv + "STREAM_THREADS")
      ->transform(WholeNumberIn(0, 64))
      ->capture_default_str();
  app.add_option("--allow-origin", c.allow_origins,
                 "Origin allowed to read the stream cross-origin (CORS), "
                 "repeatable, exact match, e.g. https://infra.nasqueron.org")
      ->envname(kEnv + "ALLOW_ORIGIN")
      ->delimiter(',');
  app.add_flag("--raw-content", c.raw_content,
               "Include rawContent (the source payload, can be large) in "
               "streamed events")
      ->envname(kEnv + "RAW_CONTENT");
}

// State, the stream token and logging: --state-file ... --log-format.
void AddStateAndLoggingOptions(CLI::App& app, BridgeConfig& c, RawFlags& f) {
  app.add_option("--state-file", c.state_file,
                 "Persist the cursor here after each published page and "
                 "resume from it on start")
      ->envname(kEnv + "STATE_FILE");
  app.add_flag("--reset-state", c.reset_state,
               "Ignore the state file's content (e.g. a corrupt one) and "
               "start from the oldest notification the API retains")
      ->envname(kEnv + "RESET_STATE");
  app.add_option("--stream-token-file", f.stream_token_file,
                 "File holding a token that /events then requires (as the "
                 "access_token parameter or the notifications_stream_token "
                 "cookie); or set " +
                     kEnv + "STREAM_TOKEN")
      ->envname(kEnv + "STREAM_TOKEN_FILE");
  app.add_option("--log-level", f.log_level, "debug, info, warn, error or off")
      ->envname(kEnv + "LOG_LEVEL")
      ->capture_default_str();
  app.add_option("--log-format", f.log_format,
                 "text, or json (one object per line, for log shippers)")
      ->envname(kEnv + "LOG_FORMAT")
      ->capture_default_str();
}

// --base-path (or API_ENTRY_POINT) without trailing '/', "" for none.
Status NormalizeBasePath(std::string& base_path) {
  if (base_path.empty()) {
    if (const char* entry = std::getenv("API_ENTRY_POINT")) base_path = entry;
  }
  while (base_path.size() > 1 && base_path.back() == '/') base_path.pop_back();
  if (base_path == "/") base_path.clear();
  if (!base_path.empty() &&
      (base_path[0] != '/' ||
       base_path.find_first_not_of(
           "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
           "0123456789-._~/") != std::string::npos ||
       base_path.find("//") != std::string::npos ||
       base_path.find("/.") != std::string::npos)) {
    return Status::InvalidArgument(
        "--base-path must look like /notifications (a path starting "
        "with '/', letters, digits, '-', '.', '_', '~'), got \"" +
        base_path + "\"");
  }
  return Status::Ok();
}

Status CheckAllowOrigins(const std::vector<std::string>& origins) {
  for (const std::string& origin : origins) {
    // Compared byte for byte with a browser's Origin header, which is
    // scheme://host[:port] in lower case, without the scheme's default
    // port: anything else would never match, and CORS would fail without a
    // word.
    auto refuse = [&origin](const std::string& why) {
      return Status::InvalidArgument(
          "--allow-origin takes an exact origin like "
          "https://infra.nasqueron.org (scheme://host[:port], no path, no "
          "'*'): " +
          why + ", got \"" + RedactUserinfo(origin) + "\"");
    };
    if (origin == "*") return refuse("'*' is not an origin");
    if (origin.find(',') != std::string::npos) {
      return refuse("one origin per flag (commas only in the environment)");
    }
    Result<HttpUrl> url = ParseHttpUrl(origin, "https://infra.nasqueron.org");
    if (!url.ok()) return refuse(url.status().message());
    if (!url->userinfo.empty() || !url->path.empty() || url->has_query ||
        url->has_fragment || origin.find('@') != std::string::npos) {
      return refuse("no path, query, fragment or user");
    }
    const int default_port = url->scheme == "https" ? 443 : 80;
    if (url->port == default_port) {
      return refuse("browsers leave out the default port " +
                    std::to_string(default_port));
    }
    std::string canonical = url->scheme + "://" + AsciiLower(url->host);
    if (url->port != 0) canonical += ":" + std::to_string(url->port);
    if (canonical != origin) {
      return refuse("browsers send it as " + canonical);
    }
  }
  return Status::Ok();
}

// --delivery-url: http or https, a host, a port in range, no query (the
// bridge adds its own) and no fragment. Messages never show credentials.
Status CheckDeliveryUrl(const std::string& url) {
  const std::string shown = "\"" + RedactUserinfo(url) + "\"";
  Result<HttpUrl> parsed = ParseHttpUrl(url, "http://127.0.0.1:8081/delivery");
  if (!parsed.ok()) {
    return Status::InvalidArgument(
        "--delivery-url: " + parsed.status().message() + ", got " + shown);
  }
  if (parsed->has_query) {
    return Status::InvalidArgument(
        "--delivery-url: no query (?...) allowed, the bridge adds its own "
        "parameters; got " +
        shown);
  }
  if (parsed->has_fragment) {
    return Status::InvalidArgument(
        "--delivery-url: no fragment (#...) allowed; got " + shown);
  }
  return Status::Ok();
}

// Everything CLI11 does not check, and the values it does not store as
// they are. Fills `cli.config`.
Status CheckAndFill(const RawFlags& f, BridgeCommandLine& cli) {
  BridgeConfig& c = cli.config;
  // Exactly one source: the delivery API or RabbitMQ.
  std::string amqp_error =
      FinishAmqpConfig(f.amqp, c.delivery_url, &c.amqp, &cli.warnings);
  if (!amqp_error.empty()) return Status::InvalidArgument(amqp_error);
  if (!c.amqp.enabled()) {
    Status url = CheckDeliveryUrl(c.delivery_url);
    if (!url.ok()) return url;
  }
  std::string error;
  if (!ParseListenAddress(f.listen, &c.listen_host, &c.listen_port, &error)) {
    return Status::InvalidArgument("--listen: " + error);
  }
  if (!ParseLogLevel(f.log_level, &c.log_level)) {
    return Status::InvalidArgument(
        "--log-level must be debug, info, warn, error or off, got \"" +
        f.log_level + "\"");
  }
  if (f.log_format == "json") {
    c.log_format = LogFormat::kJson;
  } else if (f.log_format != "text") {
    return Status::InvalidArgument("--log-format must be text or json, got \"" +
                                   f.log_format + "\"");
  }
  Status base_path = NormalizeBasePath(c.base_path);
  if (!base_path.ok()) return base_path;
  if (c.max_item_bytes > c.history_bytes) {
    return Status::InvalidArgument(
        "--max-item-bytes must not be above --history-bytes (the history "
        "must hold at least one notification)");
  }
  if (f.backoff_max < f.backoff_initial) {
    return Status::InvalidArgument(
        "--backoff-max must not be below --backoff-initial");
  }
  Status origins = CheckAllowOrigins(c.allow_origins);
  if (!origins.ok()) return origins;
  if (!c.public_dir.empty()) {
    struct stat st;
    if (stat(c.public_dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
      return Status::InvalidArgument("--public-dir " + c.public_dir +
                                     " is not a directory");
    }
  }
  Result<std::string> token =
      ReadSecret("--token-file", f.token_file, kEnv + "TOKEN", &cli.warnings);
  if (!token.ok()) return token.status();
  c.token = std::move(token).value();
  Result<std::string> stream_token =
      ReadSecret("--stream-token-file", f.stream_token_file,
                 kEnv + "STREAM_TOKEN", &cli.warnings);
  if (!stream_token.ok()) return stream_token.status();
  c.stream_token = std::move(stream_token).value();

  c.long_poll = std::chrono::seconds(f.long_poll);
  c.poll_interval = SecondsToMillis(f.poll_interval);
  c.heartbeat = SecondsToMillis(f.heartbeat);
  c.connect_timeout = SecondsToMillis(f.connect_timeout);
  c.request_timeout = SecondsToMillis(f.request_timeout);
  c.backoff_initial = SecondsToMillis(f.backoff_initial);
  c.backoff_max = SecondsToMillis(f.backoff_max);
  c.retry = SecondsToMillis(f.retry);
  c.write_timeout = SecondsToMillis(f.write_timeout);
  c.head_timeout = SecondsToMillis(f.head_timeout);
  c.busy_retry = SecondsToMillis(f.busy_retry);
  return Status::Ok();
}

}  // namespace

BridgeCommandLine ParseBridgeCommandLine(int argc, const char* const* argv) {
  BridgeCommandLine result;
  RawFlags flags;
  result.config.public_dir = DefaultPublicDir();
  CLI::App app{
      "notifications-bridge: polls Nasqueron's notifications delivery API and "
      "streams new notifications to browsers as Server-Sent Events.",
      kProgram};
  app.set_version_flag("--version", VersionLine(kProgram));
  AddConfigFileOption(app, "--config",
                      "Read settings from this file: key = value lines, keys "
                      "as the long flag names; unknown keys are errors");
  app.get_formatter()->column_width(34);
  AddUpstreamOptions(app, result.config, flags);
  AddServerOptions(app, result.config, flags);
  AddStateAndLoggingOptions(app, result.config, flags);

  if (!ParseCommandLine(app, argc, argv, &result)) return result;
  Status checked = CheckAndFill(flags, result);
  if (!checked.ok()) result.Fail(checked.message());
  return result;
}

}  // namespace notifications

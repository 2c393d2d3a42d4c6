// TailOptions: every setting of notifications-tail, with its default and
// unit, and the command line that fills it (docs/tail.md).
//
//   notifications-tail [OPTIONS] URL
//
// Each flag can also come from an environment variable
// NOTIFICATIONS_TAIL_<FLAG> (upper case, '-' -> '_'): NOTIFICATIONS_TAIL_URL,
// NOTIFICATIONS_TAIL_SERVICE=Jenkins,GitHub (repeatable flags take a
// comma-separated list there), NOTIFICATIONS_TAIL_JSON=1, ... The command
// line wins over the environment.
//
// Pure apart from reading the environment: thread-safe as long as nobody
// changes the environment meanwhile.
#pragma once

#include <chrono>
#include <string>

#include "command_line.h"
#include "tail_format.h"

namespace notifications {

struct TailOptions {
  // The bridge's stream as given, e.g. http://127.0.0.1:8080/events.
  // Required (positional URL or NOTIFICATIONS_TAIL_URL).
  std::string url;
  // `url` with the filters (and the stream token, when given with
  // --token-file or NOTIFICATIONS_TAIL_TOKEN) as query parameters: what is
  // opened. Never printed.
  std::string stream_url;
  // `url` as printed in errors and notices: RedactStreamUrl(url).
  std::string display_url;
  // --project, --group, --service, --type, --routing-key (key=), --backlog.
  StreamFilters filters;
  bool json = false;  // --json: print each event's data, one JSON per line.
  bool once = false;  // --once: exit when the stream ends, never reconnect.
  // --connect-timeout, s: to open the TCP (and TLS) connection.
  std::chrono::milliseconds connect_timeout{10000};
  // --idle-timeout, s: a stream silent this long (no event, no heartbeat
  // comment) is taken as dead and reopened. 0 = never. The bridge sends a
  // heartbeat every 15 s by default.
  std::chrono::milliseconds idle_timeout{60000};
  // --max-retry-delay, s: cap of the backoff between failed reconnections
  // (a server's own retry: above it still wins).
  std::chrono::milliseconds max_retry_delay{30000};
};

// What the command line decided (command_line.h): run with `config`, or
// exit with `text`.
using TailCommandLine = CommandLine<TailOptions>;

// Parses argv and the environment. Never throws, never exits: --help and
// --version come back as kExit with code 0; usage errors (unknown flag,
// missing URL, a URL that is not http(s), a bad number) as kExit with a
// one-line message "notifications-tail: ..." and code 2. On kRun,
// config.stream_url is set (BuildStreamUrl()).
TailCommandLine ParseTailCommandLine(int argc, const char* const* argv);

}  // namespace notifications

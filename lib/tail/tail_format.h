// Tail format: the pure wire formats of notifications-tail, the terminal
// client of the bridge's stream (docs/events.md, docs/tail.md).
//
//   FormatNotificationLine()   one line of terminal output
//   BuildStreamUrl()           the stream URL with the filters as query
//   RedactStreamUrl()          a URL as printed: without its secrets
//   ParseRfc3339()             the notification's `time`
//
// Pure functions, thread-safe, except that FormatNotificationLine() reads
// the process's time zone (TZ, via localtime_r): do not change TZ while
// another thread formats.
//
// The line format is the one of Nasqueron's original CLI client
// (notifications-cli-client), with the date added:
//
//   line  = "[" time "] <" project "/" group "> " text [" — " link]
//   time  = strftime("%b %d %H:%M:%S") in LOCAL time, C locale
//           ("Nov 28 13:00:00"): the notification's `time` when it is valid
//           RFC 3339, otherwise the time the client received it
//   link  = present only when the link is not empty (" — " is
//           SPACE U+2014 EM DASH SPACE)
//
// Choices, where the original client had none:
//   - The bracket is always "<project/group>", as the original prints it:
//     an empty group gives "<Nasqueron/>".
//   - A null (or missing) project, group, text or link prints as "".
//   - Control characters in project, group, text and link (U+0000..U+001F,
//     U+007F, U+0080..U+009F: CR, LF, TAB, ESC...) and the bidirectional
//     formatting characters (U+061C, U+200E, U+200F, U+202A..U+202E,
//     U+2066..U+2069) become one space each (TerminalText()), so that one
//     notification is always one line and a payload can neither drive the
//     terminal (escape sequences, OSC 8 hyperlinks) nor reorder what is
//     shown. Everything else, non-ASCII included, is printed as UTF-8 as
//     received.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "notification.h"
#include "notification_parser.h"
#include "status.h"

namespace notifications {

// The stream's filters, sent as query parameters (docs/events.md; the
// bridge filters, the client does not). Values are sent as given, in this
// order: project, group, service, type, key, backlog; each repeatable
// parameter once per value, in the order of the vector.
struct StreamFilters {
  std::vector<std::string> projects;  // project=
  std::vector<std::string> groups;    // group= ("" matches the empty group)
  std::vector<std::string> services;  // service=
  std::vector<std::string> types;     // type=
  std::vector<std::string> keys;      // key= (AMQP topic patterns)
  std::optional<size_t> backlog;      // backlog=; nullopt: not sent
};

// The notice for a `reset` event (docs/events.md), without its line end:
// "stream reset: <message>", where <message> is ParseResetMessage(data)
// (notification_parser.h), else the data as received; control characters
// become spaces (as in FormatNotificationLine()).
//   ResetNotice(R"({"reason":"gap-too-large","message":"missed 20000"})")
//   == "stream reset: missed 20000"
std::string ResetNotice(std::string_view data);

// `text` as it may reach a terminal: valid UTF-8 (SanitizeUtf8()) where
// each control character and each bidirectional formatting character (see
// above) is one space. For every line and notice the client prints.
std::string TerminalText(std::string_view text);

// One output line, without its line end, as described at the top of this
// file. `received_at` (Unix seconds) is used when `n.time` is not valid
// RFC 3339. E.g. under TZ=UTC:
//   [Nov 28 12:00:00] <Nasqueron/ops> dereckson pushed 2 commits — https://x
std::string FormatNotificationLine(const Notification& n,
                                   std::time_t received_at);

// Parses an RFC 3339 date-time ("2026-11-28T12:00:00Z",
// "2026-11-28t12:00:00.123+02:00", "2026-11-28 12:00:00-05:30") into Unix
// seconds (fractions are dropped). The offset is required; 'T'/'t'/' ' and
// 'Z'/'z' are accepted; fields are range-checked (day within its month,
// second 0..60). nullopt on anything else.
std::optional<std::time_t> ParseRfc3339(std::string_view text);

// The URL to open: `base` plus the filters as a query string, values
// percent-encoded (PercentEncode(), url_encoding.h). When `base` already has a
// query, the filters are appended with '&' (nothing is added after a trailing
// '?' or '&'); a fragment ("#...", never sent over HTTP) is dropped. With no
// filters the result is `base` without its fragment. With services {"Jenkins"}
// and keys {"nasqueron.ops.#"},
//   "http://h:8080/events?access_token=t" gives
//   "http://h:8080/events?access_token=t&service=Jenkins&key=nasqueron.ops.%23"
// Fails (InvalidArgument, a message naming the URL and what is wrong) when
// `base` does not start with http:// or https:// (ASCII case-insensitive),
// has an empty host, a port that is not 1..65535, or holds a space, a
// control character or a non-ASCII byte (encode them as %XX); the URL in
// the message is RedactStreamUrl()'s.
//
// `access_token` (from --token-file or NOTIFICATIONS_TAIL_TOKEN), when not
// empty, is appended last as access_token=PercentEncode(token); a `base`
// that already has an access_token parameter is then an error (the token
// is given once).
Result<std::string> BuildStreamUrl(const std::string& base,
                                   const StreamFilters& filters,
                                   const std::string& access_token = "");

// `url` as the client prints it (errors, notices): without userinfo
// (RedactUserinfo()), without its fragment (never sent), and with the value
// of every access_token parameter (its name form-decoded, as the bridge
// reads it) replaced by "***", so that a stream token never reaches a
// terminal or a log: "https://u:p@h/events?access_token=s3cret&service=GitHub"
// gives "https://h/events?access_token=***&service=GitHub".
std::string RedactStreamUrl(std::string_view url);

}  // namespace notifications

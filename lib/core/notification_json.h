// Notification JSON: what the bridge and the mock write (the SSE `data` of a
// notification, the delivery API page, error bodies). Pure functions,
// thread-safe.
//
// Output is compact (no whitespace) UTF-8 on one line:
//   - non-ASCII is written as UTF-8 bytes, never as \u escapes;
//   - '"' and '\' are escaped as \" and \\; control characters as \b \f \n
//     \r \t or \u00XX (NUL is \u0000), so the output never holds a raw CR,
//     LF or NUL and fits in one SSE "data:" line;
//   - '/' is NOT escaped;
//   - bytes that are not valid UTF-8 are written as U+FFFD (SanitizeUtf8()).
// ParsePage() and ParseGateNotification() read all of it back unchanged.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "notification.h"

namespace notifications {

// One notification as a JSON object, members in this order:
//   id, time, service, project, group, type, text, link[, rawContent]
// id and time are always strings (time may be ""); the optional fields are
// null when nullopt. rawContent is written only when `include_raw_content`:
// verbatim, as raw JSON (it is stored compact, see notification_parser.h),
// or null when nullopt (or "", which is not JSON). E.g.
//   {"id":"1-1","time":"","service":"GitHub","project":"Nasqueron",
//    "group":"ops","type":"push","text":null,"link":"https://x/y"}
std::string NotificationToJson(const Notification& n, bool include_raw_content);

// A delivery API page (docs/delivery-api.md), items with rawContent:
//   {"notifications":[...],"cursor":"<cursor>","more":false}
std::string PageToJson(const std::vector<Notification>& items,
                       const std::string& cursor, bool more);

// An error body: {"error":"<code>","message":"<message>"}.
std::string ErrorToJson(const std::string& code, const std::string& message);

// `s` as a JSON string literal, quotes included, escaped as above:
// JsonString("a\"b\n") is "\"a\\\"b\\n\"".
std::string JsonString(std::string_view s);

}  // namespace notifications

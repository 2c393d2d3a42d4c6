// Notification parser: reads the JSON that comes in from upstream, into
// Notification values. Pure functions, thread-safe (no shared state).
//
//   ParsePage()              a delivery API page (docs/delivery-api.md)
//   ParseGateNotification()  a notification POSTed to the mock's gate
//   ParseNotificationArray() a fixtures file (an array of gate objects)
//   ParseAmqpNotification()  a message body from Nasqueron's RabbitMQ exchange
//   ParseErrorBody()         a JSON error body, for log lines
//
// Strings: every string taken from JSON is valid UTF-8. JSON escapes
// (including PHP's "\/" and "\uXXXX" surrogate pairs) are decoded; raw bytes
// that are not valid UTF-8 are replaced by U+FFFD (see SanitizeUtf8()) rather
// than failing the whole page. Strings may hold NUL, CR and LF ("\u0000",
// "\r", "\n" escapes): they are kept, lengths are exact.
//
// Errors are Status::InvalidArgument with a one-line message (no CR or LF)
// that names the problem; "item N" is the 0-based index of the item in its
// array. Unknown fields are ignored everywhere (the contract may grow).
//
// rawContent is kept as compact JSON (no insignificant whitespace), written
// back by RapidJSON's Writer: strings, structure and member order are kept,
// numbers are re-written in their shortest exact form (e.g. 1E2 becomes
// 100.0, integers beyond 64 bits become doubles). Nesting of any depth is
// handled without recursion.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "notification.h"
#include "status.h"

namespace notifications {

// One page of GET {base}/notifications.
struct Page {
  std::vector<Notification> notifications;  // Oldest first, ids increasing.
  std::string cursor;  // The last item's id; the request's `after` or "" when
                       // the page is empty.
  bool more = false;   // Another page is ready now.
};

// Parses a delivery API page body. Checks that:
//   - the body is one JSON value (whitespace around it allowed), an object;
//   - "notifications" is present and an array of at most `max_items` items;
//   - each item is an object whose "id" is a string for which IsValidId()
//     holds, and each id is greater (CompareIds()) than the previous one;
//   - "service", "project", "group", "type", "text", "link", "time" are
//     strings, null or missing (null and missing give nullopt; for "time",
//     which is not optional in Notification, they give "");
//   - "rawContent" is any JSON value (nullopt when null or missing);
//   - "cursor" is present, a string that is "" or a valid id, and equals the
//     last item's id when the page is not empty;
//   - "more" is a boolean when present (default false).
// Items whose id is not greater than the caller's cursor are NOT an error
// here: the contract allows overlap, and the caller drops them.
// Errors, for example:
//   "truncated or invalid JSON at offset 123: Missing a comma or '}' after an
//    object member."
//   "item 3: \"id\" must be a string"
//   "ids out of order at item 5 (1-0004 <= 1-0005)"   (item 5's id first)
Result<Page> ParsePage(std::string_view body, size_t max_items = 10000);

// Parses the body of POST /gate/Notification/{project}: a JSON object with
// "service", "group" and "type" required strings ("group" may be ""),
// "project" an optional string (`default_project` when missing or null),
// "text" and "link" strings, null or missing, and "rawContent" any JSON.
// "id" and "time" in the body are ignored: the store assigns them, so the
// result has an empty id and time.
// Errors: "body is not valid JSON at offset 0: The document is empty.",
// "body must be a JSON object", "missing required field \"service\"",
// "\"type\" must be a string", "\"text\" must be a string or null".
Result<Notification> ParseGateNotification(std::string_view body,
                                           const std::string& default_project);

// Parses a fixtures file: a JSON array of objects shaped like gate bodies,
// each of which must carry "project" (a string). "id" and "time" are
// ignored. Errors name the item: "item 2: missing required field
// \"project\"".
Result<std::vector<Notification>> ParseNotificationArray(std::string_view body);

// Parses the body of a message that Nasqueron's Notifications Center
// published to its `notifications` exchange: PHP's json_encode of the
// notification, e.g.
//   {"service":"GitHub","project":"Nasqueron","group":"ops","rawContent":
//    {...},"type":"push","text":"dereckson pushed 1 commit","link":
//    "https:\/\/github.com\/nasqueron\/operations"}
// "service", "project", "group" and "type" are required strings (they make
// the routing key; "group" may be ""); "text" and "link" strings, null or
// missing; "rawContent" any JSON. Other members are ignored. The result has
// an empty id and time: the AMQP source assigns them.
// Errors: "body is not valid JSON at offset 0: ...", "body must be a JSON
// object", "missing required field \"project\"", "\"type\" must be a
// string".
Result<Notification> ParseAmqpNotification(std::string_view body);

// From an error body {"error": "<code>", "message": "<text>"}, returns
// "<code>: <text>" (just "<code>" when there is no string "message"), or ""
// when the body is not a JSON object with a string "error". The result is
// meant for one log line: control characters become spaces, and it is cut to
// at most 200 bytes (on a UTF-8 character boundary).
std::string ParseErrorBody(std::string_view body);

}  // namespace notifications

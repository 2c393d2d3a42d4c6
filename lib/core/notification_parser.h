// Notification parser: reads the JSON that comes in from upstream, into
// Notification values. Pure functions, thread-safe (no shared state).
//
//   ParsePage()              a delivery API page (docs/delivery-api.md)
//   ParseGateNotification()  a notification POSTed to the mock's gate
//   ParseNotificationArray() a fixtures file (an array of gate objects)
//   ParseAmqpNotification()  a message body from Nasqueron's RabbitMQ exchange
//   ParseErrorBody()         a JSON error body, for log lines
//   ParseStreamNotification() the data of a bridge `notification` event
//                            (the terminal client)
//   ParseResetMessage()      the data of a bridge `reset` event
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

// An item of a page that was left out of Page::notifications although the
// page is valid: its id is valid and in order, but its content cannot be
// represented (a number beyond the range of a double, a lone UTF-16
// surrogate escape) or it is larger than PageOptions::max_item_bytes.
// Callers move their cursor past it (its id is known) and report it.
struct SkippedItem {
  enum class Kind {
    kUnrepresentable,  // A number beyond a double, a lone surrogate.
    kTooLarge,         // Above PageOptions::max_item_bytes.
  };
  Kind kind = Kind::kUnrepresentable;
  size_t index = 0;    // 0-based, in the page's array.
  std::string id;      // Valid (IsValidId()).
  std::string reason;  // One line, ASCII, e.g. "a lone surrogate escape
                       // \ud800 at offset 123".
};

// One page of GET {base}/notifications.
struct Page {
  std::vector<Notification> notifications;  // Oldest first, ids increasing.
  std::string cursor;  // The last item's id (skipped or not); the request's
                       // `after` or "" when the page is empty.
  bool more = false;   // Another page is ready now.
  std::vector<SkippedItem> skipped;  // In page order; not in notifications.
};

struct PageOptions {
  // More items than this is an error (the contract's `limit`).
  size_t max_items = 10000;
  // rawContent kept (compact JSON) or dropped while parsing (nullopt): a
  // bridge that does not stream it (no --raw-content) never holds it.
  bool keep_raw_content = true;
  // An item whose Notification::ByteSize() (after rawContent was dropped,
  // when it is) exceeds this many bytes is skipped. 0 = no cap.
  size_t max_item_bytes = 0;
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
// One bad item does not fail the page: an item with a valid id, in order,
// that holds a value the bridge cannot represent (a number beyond the range
// of a double anywhere in it, e.g. 1e400 in rawContent; a lone surrogate
// escape such as "\ud800" in any of its strings) or that is larger than
// `max_item_bytes` goes to Page::skipped instead of Page::notifications.
// Outside items the same values still fail the page as before (a too big
// number), or become U+FFFD (a lone surrogate in an ignored field). Fields
// of the wrong type and invalid or unordered ids still fail the page: such a
// page is not the contract.
// Errors, for example:
//   "truncated or invalid JSON at offset 123: Missing a comma or '}' after an
//    object member."
//   "item 3: \"id\" must be a string"
//   "ids out of order at item 5 (1-0004 <= 1-0005)"   (item 5's id first)
Result<Page> ParsePage(std::string_view body, const PageOptions& options);
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

// Parses the `data` of a `notification` event: one JSON object (whitespace
// around it allowed) whose "id", "time", "service", "project", "group",
// "type", "text" and "link" are strings, null or missing. Every other
// member (rawContent included: the terminal client never shows it) may be
// any JSON value and is skipped without being kept, whatever its nesting
// (the contract may grow). null/missing id and time give "";
// null/missing optional fields give nullopt. Strings are decoded from their
// JSON escapes; invalid UTF-8 becomes U+FFFD.
// Errors (InvalidArgument, one line): "not valid JSON at offset 12: ...",
// "not a JSON object", "\"text\" must be a string or null".
Result<Notification> ParseStreamNotification(std::string_view data);

// From the data of a `reset` event (docs/events.md), a JSON object with
// "reason" and "message" strings: its "message" when a non-empty string,
// else its "reason" when a non-empty string, else "" (also when the data is
// not a JSON object). Decoded and sanitized like every string here.
//   ParseResetMessage(R"({"reason":"gap-too-large","message":"missed 20000"})")
//   == "missed 20000"
std::string ParseResetMessage(std::string_view data);

}  // namespace notifications

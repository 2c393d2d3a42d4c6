// SSE encoder: pure functions that write the Server-Sent Events wire format
// (WHATWG HTML, "Server-sent events", 9.2.5 "Parsing an event stream").
// Stateless and thread-safe. SseParser (sse_parser.h) reads what these write.
//
// The stream grammar (ABNF, after the WHATWG text):
//
//   stream        = [ bom ] *event
//   event         = *( comment / field ) end-of-line
//   comment       = colon *any-char end-of-line
//   field         = 1*name-char [ colon [ space ] *any-char ] end-of-line
//   end-of-line   = ( cr lf / cr / lf )
//
//   lf            = %x0A            ; LINE FEED
//   cr            = %x0D            ; CARRIAGE RETURN
//   space         = %x20
//   colon         = %x3A            ; ":"
//   bom           = %xFEFF          ; BYTE ORDER MARK (as UTF-8: EF BB BF)
//   name-char     = %x00-09 / %x0B-0C / %x0E-39 / %x3B-10FFFF
//                   ; any scalar value except LF, CR and ":"
//   any-char      = %x00-09 / %x0B-0C / %x0E-10FFFF
//                   ; any scalar value except LF and CR
//
// The stream is UTF-8. A blank line dispatches the event built by the fields
// before it. Fields: "event" (type), "data" (one line of the payload; several
// data fields are joined with LF), "id" (last event id, ignored by browsers
// when it contains NUL), "retry" (reconnection delay, ASCII digits, ms).
// Unknown fields and comments are ignored by clients.
//
// What this encoder writes, always with "\n" line ends:
//
//   [ "id: " id LF ] [ "event: " event LF ] 1*( "data: " line LF ) LF
//   1*( ":" [ " " line ] LF ) LF                          ; a comment
//   "retry: " 1*DIGIT LF                                   ; no blank line
//
// Round trip: a parser turns CR and CRLF inside data into LF (data is split
// into lines, then joined with LF), so what a client receives equals the data
// given here with every CRLF and lone CR replaced by LF. The bridge's data is
// always one line of JSON, for which the round trip is exact.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace notifications {

struct SseEvent {
  // The "id" field. nullopt: no id line (the client keeps its last event id).
  // "": an "id: " line with an empty value, which resets the client's last
  // event id to empty.
  std::optional<std::string> id;
  // The "event" field (event type); empty means no line (type "message").
  std::string event;
  // The payload; may hold any bytes, including CR, LF and NUL.
  std::string data;
};

// Encodes one event:
//   "id: <id>\n"        only when e.id has a value ("id: \n" when it is "");
//   "event: <event>\n"  only when e.event is not empty;
//   "data: <line>\n"    once per line of e.data, split on CRLF, CR or LF; an
//                       empty data (or an empty line within it) is written
//                       "data: \n", so empty data still dispatches an event
//                       whose data is "";
//   "\n"                the blank line that dispatches the event.
// CR, LF and NUL are removed from id and event: an id or event type cannot
// carry them, and browsers ignore an id containing NUL. Removing them changes
// the value, so callers should validate ids first (ids from the delivery API
// never contain them, see IsValidId()). NUL in data is kept as it is.
std::string EncodeSseEvent(const SseEvent& e);

// Encodes a comment, which clients ignore (heartbeats, "connected"): one line
// per line of `text` (split like data), each ": <line>\n", or ":\n" for an
// empty line; then the blank line "\n". Empty text gives ":\n\n".
std::string EncodeSseComment(std::string_view text);

// Encodes "retry: <milliseconds>\n": the client's reconnection delay. No
// blank line follows; the caller follows it with a comment or an event.
// Negative values are written as 0 (the field only admits digits).
std::string EncodeSseRetry(int64_t milliseconds);

}  // namespace notifications

// HttpRequestParser: reads an HTTP/1.x request head (RFC 9112) from bytes
// that arrive in pieces, with a limit on everything a client controls.
// Pure (no I/O, no clock); not thread-safe: one parser per connection.
//
// What it accepts (RFC 9112 sections 2-6, ABNF; OWS = *( SP / HTAB )):
//
//   request-head   = *empty-line request-line *( field-line eol ) eol
//   empty-line     = eol            ; ignored before the request line
//   request-line   = method SP request-target SP HTTP-version eol
//   eol            = CRLF / LF      ; a lone LF is accepted, a lone CR is not
//   method         = 1*tchar        ; case-sensitive ("get" is not GET)
//   request-target = origin-form / absolute-form / "*"
//   origin-form    = 1*( "/" segment ) [ "?" query ]   ; bytes 0x21-0x7E
//   absolute-form  = ( "http" / "https" ) "://" authority origin-form-or-empty
//   HTTP-version   = "HTTP/" DIGIT "." DIGIT
//   field-line     = field-name ":" OWS field-value OWS
//   field-name     = 1*tchar        ; no whitespace before the colon
//   field-value    = *( VCHAR / obs-text / SP / HTAB )
//
// Refusals, each final (the connection answers the status and closes):
//   400  malformed request line or field line, a control byte, a lone CR,
//        an obs-fold (a field line starting with SP or HTAB), a bad
//        percent-escape in the path, a missing or repeated Host in
//        HTTP/1.1, a Content-Length that is not 1*DIGIT (at most 18
//        digits), repeated (even with equal values) or given as a list,
//        Content-Length together with Transfer-Encoding, a
//        Transfer-Encoding whose last coding is not "chunked", any
//        Transfer-Encoding in HTTP/1.0; "*" other than with OPTIONS.
//   414  the request line passes `max_request_line` bytes (its line end
//        included; empty lines before it count toward the head's size).
//   431  a field line passes `max_field_line` bytes, the head holds more
//        than `max_fields` field lines, or the whole head passes
//        `max_head_bytes`.
//   505  an HTTP version other than 1.0 and 1.1 (e.g. HTTP/2.0, HTTP/0.9
//        is a 400: it has no version).
// Limits are checked before bytes are kept: a parser never holds more than
// `max_head_bytes`, whatever it is fed.
//
// Keep-alive (RFC 9112 9.3): HTTP/1.1 keeps the connection unless a
// Connection field lists "close"; HTTP/1.0 closes it unless a Connection
// field lists "keep-alive". Tokens are case-insensitive.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "status.h"

namespace notifications {

struct HttpRequestLimits {
  size_t max_request_line = 8 * 1024;  // Bytes, line end included (414).
  size_t max_field_line = 8 * 1024;    // Bytes per field line (431).
  size_t max_fields = 100;             // Field lines per head (431).
  size_t max_head_bytes = 32 * 1024;   // Whole head, blank line included (431).
};

struct HttpRequestHead {
  std::string method;  // "GET", as sent.
  std::string target;  // The request-target as sent.
  // The target's path, percent-decoded (may then hold any byte, NUL
  // included: whoever maps it to files must check). "*" for "*".
  std::string path;
  std::string query;      // After the first '?', not decoded; "" if none.
  int minor_version = 1;  // HTTP/1.<minor_version>: 0 or 1.
  // Field lines in order; names lowercased, values without surrounding OWS.
  std::vector<std::pair<std::string, std::string>> fields;
  bool keep_alive = true;  // See the header comment.
  enum class Body { kNone, kLength, kChunked };
  Body body = Body::kNone;      // How the request's body is framed.
  uint64_t content_length = 0;  // When body == kLength (may be 0).

  // The value of the first field named `lowercase_name`, or null.
  const std::string* Field(std::string_view lowercase_name) const;
  // How many field lines are named `lowercase_name`.
  size_t FieldCount(std::string_view lowercase_name) const;
};

class HttpRequestParser {
 public:
  enum class State { kNeedMore, kDone, kError };

  explicit HttpRequestParser(HttpRequestLimits limits = {});

  // Reads from `data` until the head is complete, an error, or `data` ends.
  // Returns the bytes used: on kDone, bytes after the head's blank line are
  // left unused (a body or the next request); on kError, what was read is
  // irrelevant. Calling Feed() after kDone or kError uses nothing.
  size_t Feed(std::string_view data);

  State state() const { return state_; }
  // After kDone.
  const HttpRequestHead& head() const { return head_; }
  HttpRequestHead&& TakeHead() { return std::move(head_); }
  // After kError: 400, 414, 431 or 505, and a one-line reason meant for the
  // client ("request line longer than 8192 bytes").
  int error_status() const { return error_status_; }
  const std::string& error_message() const { return error_message_; }
  // Bytes of the head read so far (for deadlines: nothing yet means idle).
  size_t head_bytes() const { return head_bytes_; }

  // Ready for the next request on the same connection (keeps the limits).
  void Reset();

 private:
  void Fail(int status, std::string message);
  void OnLine(std::string_view line);
  void OnRequestLine(std::string_view line);
  void OnFieldLine(std::string_view line);
  void OnHeadEnd();

  HttpRequestLimits limits_;
  State state_ = State::kNeedMore;
  HttpRequestHead head_;
  bool have_request_line_ = false;
  std::string line_;  // The line being read, its end not seen yet.
  size_t head_bytes_ = 0;
  int error_status_ = 0;
  std::string error_message_;
};

// Decodes every "%XX" (two hex digits) of `text` into its byte; other bytes
// are copied. A '%' not followed by two hex digits is an error
// (InvalidArgument). '+' stays '+' (it means a space only in queries).
Result<std::string> PercentDecodeStrict(std::string_view text);

}  // namespace notifications

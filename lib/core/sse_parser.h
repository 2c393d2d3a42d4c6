// SseParser: an incremental Server-Sent Events parser that behaves like a
// browser's EventSource (WHATWG HTML 9.2.6, "Interpreting an event stream").
// Used by the terminal client, the tests and the benchmark; independent of
// the encoder (sse_encoder.h, which also gives the grammar).
//
// Not thread-safe: one parser per stream, fed from one thread at a time.
//
// What it does, per the spec:
//   - The stream is UTF-8. One leading BOM (EF BB BF) is dropped. Invalid
//     UTF-8 is replaced by U+FFFD, as a browser's decoder does.
//   - Lines end with CRLF, LF or CR (a CRLF split across two Feed() calls is
//     one line end).
//   - A line starting with ':' is a comment (counted, otherwise ignored).
//   - "name:value" sets field `name` to `value`, minus one leading space;
//     a line without ':' is a field with an empty value.
//   - "event": the event type buffer. "data": appends value + LF to the data
//     buffer. "id": sets the last event id buffer, unless the value contains
//     NUL (then the field is ignored). "retry": when the value is one or more
//     ASCII digits, the reconnection delay in ms (values that overflow
//     int64_t are ignored too). Other fields are ignored.
//   - A blank line dispatches: the parser's last event id becomes the id
//     buffer (which persists across events); then if the data buffer is
//     empty nothing is dispatched, otherwise its last LF is removed and an
//     Event is delivered. The data and event type buffers are then cleared.
//   - An event not followed by a blank line is never dispatched.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace notifications {

class SseParser {
 public:
  struct Event {
    std::string type;  // The "event" field; "message" when none was given.
    std::string data;  // Data lines joined with LF (no trailing LF).
    std::string last_event_id;  // The parser's last event id at dispatch.
  };

  SseParser() = default;

  // Feeds the next bytes of the stream, split anywhere (inside a CRLF or a
  // UTF-8 sequence included), and calls `on_event` once per event dispatched
  // by these bytes, in order. `on_event` must not call Feed() on this parser.
  void Feed(std::string_view bytes,
            const std::function<void(const Event&)>& on_event);

  // The last valid "retry" value in milliseconds, nullopt until one is seen.
  std::optional<int64_t> retry_ms() const { return retry_ms_; }
  // The last event id as of the last blank line ("" until one is set).
  const std::string& last_event_id() const { return last_event_id_; }
  // Number of comment lines (lines starting with ':') seen so far.
  size_t comments_seen() const { return comments_seen_; }
  // Bytes held for an event not dispatched yet: the incomplete line plus the
  // data and event type buffers. Callers cap memory with it (a peer that
  // never sends a line end or a blank line).
  size_t buffered_bytes() const {
    return line_.size() + data_.size() + event_type_.size();
  }

 private:
  void FeedLines(std::string_view bytes,
                 const std::function<void(const Event&)>& on_event);
  void ProcessLine(const std::function<void(const Event&)>& on_event);
  void Dispatch(const std::function<void(const Event&)>& on_event);

  // Bytes of the current line not ended yet (and, at stream start, the bytes
  // that may still be a BOM).
  std::string line_;
  bool bom_checked_ = false;
  // The previous byte was a CR: a LF right after it ends nothing.
  bool after_cr_ = false;

  std::string data_;
  std::string event_type_;
  std::string id_buffer_;
  std::string last_event_id_;
  std::optional<int64_t> retry_ms_;
  size_t comments_seen_ = 0;
};

}  // namespace notifications

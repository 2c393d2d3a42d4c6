// TailPrinter: turns the bridge stream's dispatched events into the
// terminal client's output (docs/tail.md). No I/O but its sinks.
//
// Output goes through sinks so that tests capture it: `out` receives each
// result line (a formatted notification or, with --json, the event's data),
// `err` each notice (a reset, a drop, a skipped event). Lines come without
// their line end; the sink adds it and flushes.
//
// Not thread-safe; one per client, kept across its connections.
#pragma once

#include <cstddef>
#include <ctime>
#include <functional>
#include <string>

#include "sse_parser.h"

namespace notifications {

struct TailSinks {
  // Receives a result line; returns false when it could not write it (the
  // reader went away): the client then stops with an error.
  std::function<bool(const std::string& line)> out;
  // Receives a notice for a person (stderr). Failures are ignored.
  std::function<void(const std::string& line)> err;
};

//   notification  `out`: FormatNotificationLine() (receive time as the
//                 fallback), or with `json` the data as received (a
//                 multi-line data, never sent by the bridge, is joined with
//                 spaces so that each object stays on one line) except that
//                 every control character and bidirectional formatting
//                 character is written as its JSON escape "\u001B",
//                 "\u202E" (utf8.h): the line stays the same JSON, and the
//                 terminal never gets them raw. A data that is not a
//                 notification object is skipped with a notice in text
//                 mode; --json passes it on, escaped alike.
//   reset         `err`: ResetNotice(), e.g. "stream reset: ...".
//   other types   ignored (as are comments: the parser drops them).
// Notices pass through TerminalText() (tail_format.h): what the network
// sent in them (ids, reset messages) reaches stderr without controls.
// Duplicates: a notification whose id (the event's last event id) is not
// greater (CompareIds()) than the last one printed is not printed again, with
// a notice "skipped notification X: already printed (last Y)"; a reset lifts
// that floor (what follows is the new truth, possibly with other ids).
class TailPrinter {
 public:
  TailPrinter(bool json, TailSinks sinks);

  // Handles one event received at `received_at` (Unix seconds). Returns
  // false when the `out` sink failed.
  bool OnEvent(const SseParser::Event& event, std::time_t received_at);

  size_t printed() const { return printed_; }  // Lines given to `out`.
  size_t skipped() const { return skipped_; }  // Duplicates not printed.

 private:
  void Notice(const std::string& line) const;

  const bool json_;
  TailSinks sinks_;
  std::string last_printed_id_;  // "" after a reset or before any id.
  size_t printed_ = 0;
  size_t skipped_ = 0;
};

}  // namespace notifications

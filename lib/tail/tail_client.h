// The terminal client of the bridge's stream (docs/events.md, docs/tail.md):
// opens the stream with libcurl, prints each notification, reconnects after
// a drop and resumes with Last-Event-ID.
//
//   TailPrinter      events -> output lines (no I/O but its sinks)
//   TailRetryDelay() the wait before a reconnection (pure)
//   DescribeRejectedStream(), IsEventStream()  first-response checks (pure)
//   TailClient       the connection loop
//
// Output goes through sinks so that tests capture it: `out` receives each
// result line (a formatted notification or, with --json, the event's data),
// `err` each notice (a reset, a drop, a skipped event). Lines come without
// their line end; the sink adds it and flushes.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <ctime>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <string_view>

#include "sse_parser.h"
#include "status.h"
#include "tail_config.h"

namespace notifications {

struct TailSinks {
  // Receives a result line; returns false when it could not write it (the
  // reader went away): the client then stops with an error.
  std::function<bool(const std::string& line)> out;
  // Receives a notice for a person (stderr). Failures are ignored.
  std::function<void(const std::string& line)> err;
};

// Turns the stream's dispatched events into output. Not thread-safe; one
// per client, kept across its connections.
//
//   notification  `out`: FormatNotificationLine() (receive time as the
//                 fallback), or with `json` the data exactly as received
//                 (a multi-line data, never sent by the bridge, is joined
//                 with spaces so that each object stays on one line). A data
//                 that is not a notification object is skipped with a
//                 notice in text mode; --json passes it on unchanged.
//   reset         `err`: ResetNotice(), e.g. "stream reset: ...".
//   other types   ignored (as are comments: the parser drops them).
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
  const bool json_;
  TailSinks sinks_;
  std::string last_printed_id_;  // "" after a reset or before any id.
  size_t printed_ = 0;
  size_t skipped_ = 0;
};

// The wait before reconnection attempt `failures` (>= 1) in a row:
// the server's `retry_ms` the first time, then exponential with jitter
// (BackoffDelay() starting at `retry_ms`, capped at `max_delay`), never below
// `retry_ms` (a server asking for more, e.g. a full bridge's 30-60 s, wins
// over the cap). `unit_random` in [0, 1) picks the jitter.
std::chrono::milliseconds TailRetryDelay(std::chrono::milliseconds retry_ms,
                                         uint32_t failures,
                                         std::chrono::milliseconds max_delay,
                                         double unit_random);

// True when `content_type`'s essence (before any ';', trimmed, ASCII
// case-insensitive) is text/event-stream.
bool IsEventStream(std::string_view content_type);

// The one-line message for a response that is not a bridge stream, from
// `url` (as the user gave it), the status, Content-Type and the start of the
// body:
//   400/401 with a JSON error body {"error","message"}:
//     "<url> answered HTTP 400: bad_request: backlog must be ..."
//   another status:
//     "<url> answered HTTP 404: not a notifications bridge stream (expected
//      200 text/event-stream)"
//   200 with another Content-Type:
//     "<url> answered with Content-Type text/plain: not a notifications
//      bridge stream (expected 200 text/event-stream)"
// When the URL's path does not end in /events, " — is the path right? A
// bridge's stream is at /events" is added to the last two.
std::string DescribeRejectedStream(const std::string& url, long status,
                                   const std::string& content_type,
                                   std::string_view body);

// The connection loop. Run() on one thread; Stop() from any thread.
// Owns a libcurl multi handle: not copyable. CurlGlobal (curl_http_client.h)
// must outlive it.
//
// Behaviour:
//   - The first connection must give a stream (200, text/event-stream):
//     otherwise Run() fails at once (connection refused, timeout, another
//     status or type; see DescribeRejectedStream()).
//   - Once a stream has been open, any drop (end of body, broken transfer,
//     --idle-timeout of silence, failed reconnection, non-stream answer) is
//     retried forever after TailRetryDelay(), with the last `retry:` the
//     bridge sent (3 s until one is seen), and a notice on `err`. Each
//     reconnection sends Last-Event-ID: the last event id seen (none while
//     it is empty), so nothing is printed twice and nothing is lost while
//     the bridge or its history holds it. A connection counts as healthy
//     (the failure count restarts) when it delivered an event or stayed
//     open 10 s.
//   - With options.once, Run() returns instead of reconnecting.
class TailClient {
 public:
  TailClient(TailOptions options, TailSinks sinks);
  ~TailClient();
  TailClient(const TailClient&) = delete;
  TailClient& operator=(const TailClient&) = delete;

  // Runs until Stop(), or, with --once, the end of the stream. Returns:
  //   ok            stopped, or (--once) the stream ended cleanly;
  //   kUnavailable  the first connection failed ("cannot connect to URL:
  //                 <curl error>", "no answer from URL in 10 s"), or with
  //                 --once the stream broke ("stream interrupted: ...");
  //   kInvalidArgument  the first answer was not a bridge stream
  //                 (DescribeRejectedStream());
  //   kInternal     the `out` sink failed ("cannot write the output").
  // Call it once.
  Status Run();

  // Makes Run() return ok promptly (it wakes libcurl's wait and the wait
  // between connections). Thread-safe, idempotent; may come before Run().
  // Must not be called after the destructor started.
  void Stop();

  const TailPrinter& printer() const { return printer_; }  // After Run().

 private:
  struct Attempt;
  struct Impl;

  // One connection, until its end, a failure, the idle timeout or Stop().
  void Connect(Attempt& attempt);
  // libcurl's callbacks; `attempt` is the Attempt.
  static size_t OnBody(char* data, size_t size, size_t n, void* attempt);
  static size_t OnHeader(char* data, size_t size, size_t n, void* attempt);
  bool stopping() const { return stop_.load(); }

  const TailOptions options_;
  TailSinks sinks_;
  TailPrinter printer_;
  std::unique_ptr<Impl> impl_;  // The CURLM* handle.

  // Kept across connections (Run()'s thread only):
  std::string last_event_id_;
  std::chrono::milliseconds retry_{3000};
  bool reconnecting_ = false;  // A drop was announced on `err`.
  std::mt19937_64 random_;

  std::atomic<bool> stop_{false};
  std::mutex mu_;  // With cv_: the wait between connections.
  std::condition_variable cv_;
};

}  // namespace notifications

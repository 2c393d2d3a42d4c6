// TailClient: the terminal client's connection loop (docs/events.md,
// docs/tail.md): opens the bridge's stream through an HttpStream, prints
// each notification (TailPrinter), reconnects after a drop and resumes with
// Last-Event-ID.
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
//   - Notices and error messages pass through TerminalText(): what the
//     network sent in them never reaches the terminal raw.
//
// Thread-safety: Run() on one thread; Stop() from any thread. Not copyable.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <random>
#include <string>

#include "http_stream.h"
#include "status.h"
#include "tail_config.h"
#include "tail_printer.h"

namespace notifications {

class TailClient {
 public:
  // `stream` (e.g. a CurlHttpStream) must outlive the client; the client
  // cancels it on Stop().
  TailClient(TailOptions options, TailSinks sinks, HttpStream& stream);
  TailClient(const TailClient&) = delete;
  TailClient& operator=(const TailClient&) = delete;

  // Runs until Stop(), or, with --once, the end of the stream. Returns:
  //   ok            stopped, or (--once) the stream ended cleanly;
  //   kUnavailable  the first connection failed ("cannot connect to URL:
  //                 <error>", "no answer from URL in 10 s"), or with
  //                 --once the stream broke ("stream interrupted: ...");
  //   kInvalidArgument  the first answer was not a bridge stream
  //                 (DescribeRejectedStream());
  //   kInternal     the `out` sink failed ("cannot write the output").
  // Call it once.
  Status Run();

  // Makes Run() return ok promptly (it cancels the stream's transfer and
  // wakes the wait between connections). Thread-safe, idempotent; may come
  // before Run().
  void Stop();

  const TailPrinter& printer() const { return printer_; }  // After Run().

 private:
  struct Attempt;

  // One connection, until its end, a failure, the idle timeout or Stop().
  void Connect(Attempt& attempt);
  // Why the connection of `attempt` is over, for the notice or the error;
  // `clean_end` when the bridge ended the stream properly.
  std::string Problem(const Attempt& attempt, bool* clean_end) const;
  bool stopping() const { return stop_.load(); }
  // A notice on `err`, through TerminalText().
  void Notice(const std::string& line) const;

  const TailOptions options_;
  TailSinks sinks_;
  TailPrinter printer_;
  HttpStream& stream_;

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

// Helpers for tests that run real servers: child processes whose stdout is
// read line by line, and a real SSE client (libcurl + SseParser) on its
// own thread.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "notification.h"
#include "sse_parser.h"

namespace notifications {
namespace testing {

// A child process with stdout on a pipe and stderr to a file. Killed
// (SIGKILL) by the destructor if still running.
class ChildProcess {
 public:
  explicit ChildProcess(std::vector<std::string> argv);
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  // Next stdout line containing `needle`, or "" after `timeout`.
  std::string WaitForLine(const std::string& needle,
                          std::chrono::milliseconds timeout);
  void Signal(int sig);
  // Exit code (128+signal when killed), or -1 if still running at timeout.
  int Wait(std::chrono::milliseconds timeout);
  std::string Stderr() const;

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string stderr_path_;
  std::string buffer_;
  int exit_code_ = -1;
};

// Port from a line containing "http://HOST:PORT", or 0.
int PortFromLine(const std::string& line);

// A raw TCP client of 127.0.0.1:`port`: full control over what is sent,
// read (or not) and when it closes. -1 when it cannot connect. `rcvbuf` > 0
// sets SO_RCVBUF first.
int RawConnect(int port, int rcvbuf = 0);
// Sends all of `data` (stops early if the peer is gone).
void SendAll(int fd, const std::string& data);

// The mock delivery API as a process on a free port.
struct MockApiProcess {
  explicit MockApiProcess(std::vector<std::string> extra_args = {});
  std::unique_ptr<ChildProcess> process;
  int port = 0;
  std::string base_url() const;  // http://127.0.0.1:PORT/delivery
  // POSTs to the gate; returns the assigned id ("" on failure).
  std::string Post(const std::string& json_body,
                   const std::string& project = "Nasqueron") const;
};

// The bridge as a process. `args` come after the ones it always needs.
struct BridgeProcess {
  BridgeProcess(const std::string& delivery_url,
                std::vector<std::string> extra_args = {}, int port = 0);
  // With another source than --delivery-url, e.g. {"--amqp-url", ...}.
  BridgeProcess(std::vector<std::string> source_args,
                std::vector<std::string> extra_args, int port);
  std::unique_ptr<ChildProcess> process;
  int port = 0;
  std::string url(const std::string& path) const;
};

struct HttpResult {
  int status = 0;
  std::map<std::string, std::string> headers;  // Names lowercased.
  std::string body;
};
// A plain GET/any-method request with libcurl.
HttpResult HttpRequestTo(const std::string& url,
                         const std::string& method = "GET",
                         const std::map<std::string, std::string>& headers = {},
                         const std::string& body = "");

// The skip policy for a test whose prerequisite (nginx, a RabbitMQ
// server, root...) is missing on this machine. Call it at the top of the
// test, as `if (MissingPrerequisite(!have_nginx, "...")) return;`:
//   - with NB_REQUIRE_PREREQUISITES=1 in the environment (scripts/test.sh,
//     hence CI, sets it) the test FAILS, naming what is missing;
//   - under ctest (which sets NB_UNDER_CTEST=1 for our tests) it prints
//     "SKIPPED: ..." and exits 77, which ctest reports as skipped;
//   - otherwise (the binary run by hand) it prints the message and returns
//     true: the caller returns, and the run goes on with the next test.
// Returns false when `missing` is false. Never passes silently.
bool MissingPrerequisite(bool missing, const std::string& what);

// Polls `done` every 20 ms until it is true (true) or `timeout` passes
// (false, after one last try).
bool WaitUntil(const std::function<bool()>& done,
               std::chrono::milliseconds timeout);

// A real SSE client on its own thread. Connects at construction.
class SseClient {
 public:
  SseClient(const std::string& url,
            std::map<std::string, std::string> headers = {});
  ~SseClient();
  SseClient(const SseClient&) = delete;
  SseClient& operator=(const SseClient&) = delete;

  // Waits until at least `n` events of `type` arrived (or the stream ended,
  // or the timeout). Returns all events of `type` so far.
  std::vector<SseParser::Event> WaitFor(
      size_t n, std::chrono::milliseconds timeout,
      const std::string& type = "notification");
  // Waits until the response ended (server closed it).
  bool WaitForEnd(std::chrono::milliseconds timeout);
  // After the end: curl's result for the transfer (CURLE_OK = 0 when the
  // body ended properly: for a chunked stream, with its last chunk), and
  // its message. -1 while the transfer runs.
  int curl_result() const;
  std::string curl_error() const;
  // The response ended and ended properly (200, then the last chunk).
  bool ended_cleanly() const;
  std::vector<SseParser::Event> events() const;  // Every dispatched event.
  int status() const;
  std::string header(const std::string& lowercase_name) const;
  std::optional<int64_t> retry_ms() const;
  size_t comments() const;
  std::string raw() const;  // Every byte of the body received.
  void Close();             // Disconnects and joins.

 private:
  void Run(std::string url, std::map<std::string, std::string> headers);
  static size_t OnBody(char* data, size_t size, size_t n, void* self);
  static size_t OnHeader(char* data, size_t size, size_t n, void* self);

  mutable std::mutex mu_;
  std::condition_variable cv_;
  SseParser parser_;  // guarded by mu_ (and the fields below)
  std::vector<SseParser::Event> events_;
  std::map<std::string, std::string> headers_;
  std::string raw_;
  int status_ = 0;
  bool ended_ = false;
  int curl_result_ = -1;
  std::string curl_error_;
  std::atomic<bool> stop_{false};
  std::atomic<int> fd_{-1};
  std::thread thread_;
};

// Ids of `events`, in order.
std::vector<std::string> Ids(const std::vector<SseParser::Event>& events);

// A browser's EventSource plus the page's list, on its own thread: keeps one
// stream open on `url`; when the body ends or the connection fails, it
// reconnects after the stream's `retry` (3 s until one is received) to the
// same URL with `Last-Event-ID: <last event id>` when that id is not empty,
// as a browser does (an `id:` field with an empty value, as on a reset that
// restarts from the beginning, empties it). Like the page, it appends each
// `notification` event's id to its list and clears the list on `reset`.
// Like a browser, it stops for good on a status other than 200 or a
// Content-Type other than text/event-stream (gave_up()).
//
// Thread-safe: every method may be called from any thread. Connects at
// construction; the destructor stops it.
class BrowserLikeClient {
 public:
  explicit BrowserLikeClient(std::string url);
  ~BrowserLikeClient();
  BrowserLikeClient(const BrowserLikeClient&) = delete;
  BrowserLikeClient& operator=(const BrowserLikeClient&) = delete;

  // Cuts the current connection now, as a network failure would; the client
  // reconnects after `retry`. No effect between connections.
  void Disconnect();
  // Waits until the list is exactly `ids` (true), or `timeout` (false).
  bool WaitForList(const std::vector<std::string>& ids,
                   std::chrono::milliseconds timeout);
  // Stops reconnecting, disconnects and joins. Idempotent.
  void Stop();

  std::vector<std::string> ids() const;  // The list, oldest first.
  std::string last_event_id() const;
  size_t connections() const;    // Connections opened (responses with 200).
  size_t resets() const;         // `reset` events received.
  size_t notifications() const;  // `notification` events received, in all.
  // Notifications whose id was not greater than the previous one in the
  // list (a duplicate or out of order): must stay 0.
  size_t order_violations() const;
  // The first order violation, for messages: "got X after Y".
  std::string first_violation() const;
  // Set when the client stopped for good ("HTTP 503", "Content-Type ...").
  std::string gave_up() const;

 private:
  void Run();
  // One connection: returns false when the client must stop for good.
  bool Connect();
  void OnEvent(const SseParser::Event& e);  // mu_ held.
  static size_t OnBody(char* data, size_t size, size_t n, void* self);
  static size_t OnHeader(char* data, size_t size, size_t n, void* self);

  const std::string url_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  // guarded by mu_:
  std::unique_ptr<SseParser> parser_;           // Of the current connection.
  std::map<std::string, std::string> headers_;  // Of the current response.
  std::string status_line_;
  std::vector<std::string> ids_;
  std::string last_event_id_;
  int64_t retry_ms_ = 3000;
  size_t connections_ = 0;
  size_t resets_ = 0;
  size_t notifications_ = 0;
  size_t order_violations_ = 0;
  std::string first_violation_;
  std::string gave_up_;
  bool stop_ = false;
  int fd_ = -1;  // Socket of the current connection, -1 between them.

  std::thread thread_;
};

// Peak resident set size (VmHWM) of process `pid` in KiB, 0 if unknown.
size_t PeakRssKib(pid_t pid);

// A notification for in-process tests: Nasqueron/ops/`service`/push, text
// "text <id>", no link, a fixed time.
Notification SampleNotification(const std::string& id,
                                const std::string& service = "GitHub");

}  // namespace testing
}  // namespace notifications

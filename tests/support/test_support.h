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
// (SIGKILL) by the destructor if still running; the destructor also fails
// the current test (without throwing) when the child's stderr holds a
// sanitizer report (SanitizerReportIn).
class ChildProcess {
 public:
  // `argv[0]` is a path. `env` ("NAME=value" each) is added to the
  // environment the child inherits, replacing a variable of the same name.
  explicit ChildProcess(std::vector<std::string> argv,
                        std::vector<std::string> env = {});
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

// The first ThreadSanitizer, AddressSanitizer, LeakSanitizer or UBSan
// report in a process's stderr (up to 4,000 bytes from its first line), or
// "" when there is none.
std::string SanitizerReportIn(const std::string& log);

// Port from a line containing "http://HOST:PORT", or 0.
int PortFromLine(const std::string& line);

// A raw TCP client of 127.0.0.1:`port`: full control over what is sent,
// read (or not) and when it closes. -1 when it cannot connect. `rcvbuf` > 0
// sets SO_RCVBUF first.
int RawConnect(int port, int rcvbuf = 0);
// Sends all of `data` (stops early if the peer is gone).
void SendAll(int fd, const std::string& data);

// Which implementation of docs/delivery-api.md a test runs upstream of
// the bridge:
//   kMock         notifications-mock-api (C++, shares the bridge's JSON
//                 writer and parser);
//   kIndependent  tests/independent_api/delivery_api.py, written from the
//                 document alone in Python (its own JSON, PHP-style
//                 escapes, decimal-counter ids "9" < "10", microsecond
//                 times), so that a test passing against both shows the
//                 bridge follows the contract and not only its own mock.
// Both take --retention N, --overlap N and --fixtures FILE, and have the
// gate (POST /gate/Notification/{project}).
enum class Upstream { kMock, kIndependent };
const char* UpstreamName(Upstream upstream);  // "mock", "independent API"

// The skip policy (MissingPrerequisite) for kIndependent: true when the
// test must stop because python3 is missing. Always false for kMock.
bool UpstreamMissing(Upstream upstream);

// A delivery API as a process on a free port.
struct DeliveryApiProcess {
  explicit DeliveryApiProcess(Upstream upstream,
                              std::vector<std::string> extra_args = {});
  Upstream upstream;
  std::unique_ptr<ChildProcess> process;
  int port = 0;
  std::string base_url() const;  // http://127.0.0.1:PORT/delivery
  // POSTs to the gate; returns the assigned id ("" on failure).
  std::string Post(const std::string& json_body,
                   const std::string& project = "Nasqueron") const;
  // GET {base}/notifications requests the API answered so far, counted by
  // the API itself (kIndependent only; -1 for the mock).
  long RequestsServed() const;
};

// The mock delivery API (notifications-mock-api) as a process.
struct MockApiProcess : DeliveryApiProcess {
  explicit MockApiProcess(std::vector<std::string> extra_args = {})
      : DeliveryApiProcess(Upstream::kMock, std::move(extra_args)) {}
};

// The bridge as a process. `args` come after the ones it always needs;
// `env` ("NAME=value") is added to its environment.
struct BridgeProcess {
  BridgeProcess(const std::string& delivery_url,
                std::vector<std::string> extra_args = {}, int port = 0,
                std::vector<std::string> env = {});
  // With another source than --delivery-url, e.g. {"--amqp-url", ...}.
  BridgeProcess(std::vector<std::string> source_args,
                std::vector<std::string> extra_args, int port,
                std::vector<std::string> env = {});
  std::unique_ptr<ChildProcess> process;
  int port = 0;
  std::string base_path;  // From --base-path, "" without.
  std::string url(const std::string& path) const;
};

// The value of the sample `name` in Prometheus text: the whole name as
// /metrics shows it, labels included (`notifications_bridge_polls_total`,
// `notifications_bridge_poll_errors_total{kind="gone"}`); -1 when absent.
double MetricIn(const std::string& text, const std::string& name);
// The same, read from the bridge's /metrics (under its base path) now;
// -1 when absent or when /metrics does not answer 200.
double Metric(const BridgeProcess& bridge, const std::string& name);
// Polls /metrics until `name` is at least `at_least` (true), or `timeout`
// (false): the wait before posting or asserting, instead of a sleep.
bool WaitForMetric(const BridgeProcess& bridge, const std::string& name,
                   double at_least, std::chrono::milliseconds timeout);
// The same until `name` equals `value` (a gauge going down, e.g.
// notifications_bridge_clients_connected after clients left).
bool WaitForMetricEquals(const BridgeProcess& bridge, const std::string& name,
                         double value, std::chrono::milliseconds timeout);
// Polls `done` every 10 ms until it holds (true) or `timeout` (false).
bool WaitUntil(const std::function<bool()>& done,
               std::chrono::milliseconds timeout);

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
  // Waits until the stream's opening arrived (its `: connected` comment,
  // docs/events.md): from then on the bridge delivers to this stream
  // every notification it publishes. False on timeout or if the response
  // ended without it.
  bool WaitForOpen(std::chrono::milliseconds timeout);
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

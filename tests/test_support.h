// Helpers for tests that run real servers: child processes whose stdout is
// read line by line, and a real SSE client (libcurl + SseParser) on its
// own thread.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <optional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

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
  std::vector<SseParser::Event> WaitFor(size_t n, std::chrono::milliseconds timeout,
                                        const std::string& type = "notification");
  // Waits until the response ended (server closed it).
  bool WaitForEnd(std::chrono::milliseconds timeout);
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
  std::atomic<bool> stop_{false};
  std::atomic<int> fd_{-1};
  std::thread thread_;
};

// Ids of `events`, in order.
std::vector<std::string> Ids(const std::vector<SseParser::Event>& events);

}  // namespace testing
}  // namespace notifications

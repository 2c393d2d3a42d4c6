// HttpStream: a streaming HTTP GET, for a response that is read as it
// arrives and may never end (a Server-Sent Events stream). The terminal
// client reads the bridge's /events through it.
//
// An interface so that tests replace the network with a fake that records
// the requests and plays scripted responses. The real implementation is
// CurlHttpStream (lib/curl/curl_stream.h).
//
// Thread-safety: Get() from one thread at a time; Cancel() from any thread,
// at any time, also while Get() runs. Implementations are not copyable.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace notifications {

struct HttpStreamRequest {
  std::string url;  // http:// or https://
  // Request headers in order, e.g. {"Accept", "text/event-stream"}. Names
  // and values must hold no CR or LF.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string user_agent;  // "" = none.
  // To open the TCP (and TLS) connection.
  std::chrono::milliseconds connect_timeout{10000};
  // The transfer ends with kIdle after this long without any byte received
  // (headers included); 0 = never. There is no total timeout: a stream
  // lasts as long as the server keeps it.
  std::chrono::milliseconds idle_timeout{0};
};

// What the caller is told while the response arrives. Both are called on
// Get()'s thread, never after Get() returned.
struct HttpStreamCallbacks {
  // The final response (after redirects) began: its status and
  // Content-Type ("" when none). Called at most once per Get(), before the
  // first on_body(); also for a response without a body.
  std::function<void(int status, const std::string& content_type)> on_response;
  // The next bytes of the body, in order (never empty). Return false to end
  // the transfer now (kAborted).
  std::function<bool(std::string_view bytes)> on_body;
};

struct HttpStreamResult {
  enum class End {
    kComplete,   // The server ended the body properly.
    kAborted,    // on_body() returned false.
    kCancelled,  // Cancel() was called.
    kIdle,       // idle_timeout elapsed without a byte.
    kFailed,     // No connection, a reset, a cut chunk, TLS...: see error.
  };
  End end = End::kFailed;
  // When kFailed: one line for a person, e.g. "Failed to connect to
  // 127.0.0.1 port 9: Couldn't connect to server (Connection refused)".
  std::string error;
};

class HttpStream {
 public:
  virtual ~HttpStream() = default;

  // Sends one GET and feeds the response to `callbacks` until it ends,
  // on_body() refuses bytes, the idle timeout, Cancel() or a failure; the
  // result says which. Redirects (to http or https only, at most 5) are
  // followed. Blocks; never throws.
  virtual HttpStreamResult Get(const HttpStreamRequest& request,
                               const HttpStreamCallbacks& callbacks) = 0;

  // Makes a running Get() return promptly with kCancelled, and every later
  // Get() return kCancelled at once. Idempotent.
  virtual void Cancel() = 0;
};

}  // namespace notifications

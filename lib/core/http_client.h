// HttpClient: the one outbound HTTP operation the bridge needs, a GET.
//
// An interface so tests replace it with a fake that records calls. The
// real implementation is CurlHttpClient (curl_http_client.h).
// Implementations must be safe to call from one thread at a time; the
// bridge never calls one instance concurrently (UpstreamGapSource keeps one
// per concurrent fetch). A transfer in progress is aborted from another
// thread through the request's CancelToken.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <string>

#include "cancel_token.h"

namespace notifications {

struct HttpRequest {
  std::string url;
  // Extra request headers, e.g. {"Authorization", "Bearer ..."}.
  std::map<std::string, std::string> headers;
  std::chrono::milliseconds connect_timeout{5000};
  // Whole request, connect included.
  std::chrono::milliseconds total_timeout{30000};
  // A body larger than this aborts the transfer with kTooLarge.
  size_t max_body_bytes = 16 * 1024 * 1024;
  // When set and cancelled (before or during the transfer), Get() returns
  // promptly with kCancelled: the connection is dropped, whatever the API
  // was doing (holding a long-poll, dripping a slow page). Must outlive the
  // call. Null: the request runs to completion or timeout.
  const CancelToken* cancel = nullptr;
};

struct HttpResponse {
  enum class Error {
    kNone,       // A response arrived; see status.
    kConnect,    // DNS, refused, unreachable.
    kTimeout,    // connect_timeout or total_timeout elapsed.
    kTooLarge,   // Body exceeded max_body_bytes.
    kTransport,  // Anything else: reset, truncated chunked body, TLS...
    kCancelled,  // request.cancel was cancelled.
    // The bridge itself ran out of file descriptors (EMFILE/ENFILE) and could
    // not open a socket: not the API's fault. error_message says so.
    kNoFileDescriptors,
  };
  Error error = Error::kNone;
  // Human-readable detail when error != kNone (never contains headers).
  std::string error_message;
  int status = 0;            // HTTP status when error == kNone.
  std::string content_type;  // Lowercased, parameters kept.
  // For a 3xx: where the Location header points (absolute, as resolved by
  // the client; "" when none). Redirects are never followed.
  std::string redirect_url;
  std::string body;
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  virtual HttpResponse Get(const HttpRequest& request) = 0;
};

}  // namespace notifications

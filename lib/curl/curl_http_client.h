// CurlHttpClient: HttpClient over libcurl's easy interface.
//
// One instance owns one CURL handle (in a multi handle of its own), reused
// across requests so the connection to the delivery API stays open between
// polls. Not thread-safe (one caller at a time) and not copyable, except
// that the request's CancelToken may be cancelled from any thread: the
// transfer is woken and dropped at once. CurlGlobal must outlive every
// instance (create one in main before any thread starts).
#pragma once

#include <memory>

#include "http_client.h"

namespace notifications {

// RAII for curl_global_init/cleanup. Create exactly one, in main.
class CurlGlobal {
 public:
  CurlGlobal();
  ~CurlGlobal();
  CurlGlobal(const CurlGlobal&) = delete;
  CurlGlobal& operator=(const CurlGlobal&) = delete;
};

class CurlHttpClient final : public HttpClient {
 public:
  CurlHttpClient();
  ~CurlHttpClient() override;
  CurlHttpClient(const CurlHttpClient&) = delete;
  CurlHttpClient& operator=(const CurlHttpClient&) = delete;

  // Never throws. Follows no redirects (an API that redirects is
  // misconfigured; the 3xx status is returned as is, with redirect_url).
  // Failures: kConnect (refused, DNS), kTimeout, kTooLarge (a Content-Length
  // above max_body_bytes is refused before the body; a body without one is
  // cut at the limit), kTransport (reset, truncated body...), kCancelled,
  // kNoFileDescriptors (socket() failed with EMFILE/ENFILE: "out of file
  // descriptors ...", not an upstream connect error).
  HttpResponse Get(const HttpRequest& request) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace notifications

// CurlHttpClient: HttpClient over libcurl's easy interface.
//
// One instance owns one CURL handle, reused across requests so the
// connection to the delivery API stays open between polls. Not thread-safe
// (one caller at a time) and not copyable. CurlGlobal must outlive every
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
  // misconfigured; the 3xx status is returned as is).
  HttpResponse Get(const HttpRequest& request) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace notifications

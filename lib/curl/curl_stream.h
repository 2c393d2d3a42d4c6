// CurlHttpStream: HttpStream over libcurl's multi interface, so that a
// transfer that waits for the next byte can be woken by Cancel().
//
// One instance owns one CURLM* handle; each Get() makes its own easy
// handle. Get() from one thread at a time; Cancel() from any thread. Not
// copyable. CurlGlobal (curl_http_client.h) must outlive it.
//
// No Accept-Encoding is sent (a compressed stream would be buffered by the
// decoder), TCP keepalive is on (a peer gone without a FIN is noticed
// sooner on a quiet stream), and libcurl installs no signal handler.
#pragma once

#include <atomic>
#include <memory>

#include "http_stream.h"

namespace notifications {

class CurlHttpStream final : public HttpStream {
 public:
  CurlHttpStream();
  ~CurlHttpStream() override;
  CurlHttpStream(const CurlHttpStream&) = delete;
  CurlHttpStream& operator=(const CurlHttpStream&) = delete;

  HttpStreamResult Get(const HttpStreamRequest& request,
                       const HttpStreamCallbacks& callbacks) override;
  void Cancel() override;

 private:
  struct Impl;
  struct Transfer;
  std::unique_ptr<Impl> impl_;  // The CURLM* handle.
  std::atomic<bool> cancelled_{false};
};

}  // namespace notifications

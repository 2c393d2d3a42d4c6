#include "curl_http_client.h"

#include <curl/curl.h>

#include <algorithm>

namespace notifications {

CurlGlobal::CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
CurlGlobal::~CurlGlobal() { curl_global_cleanup(); }

struct CurlHttpClient::Impl {
  CURL* curl = nullptr;
};

namespace {

struct BodySink {
  std::string* body;
  size_t max;
  bool too_large = false;
};

size_t WriteBody(char* data, size_t size, size_t nmemb, void* user) {
  auto* sink = static_cast<BodySink*>(user);
  size_t n = size * nmemb;
  if (sink->body->size() + n > sink->max) {
    sink->too_large = true;
    return 0;  // Aborts the transfer: the body never grows past the limit.
  }
  sink->body->append(data, n);
  return n;
}

}  // namespace

CurlHttpClient::CurlHttpClient() : impl_(std::make_unique<Impl>()) {
  impl_->curl = curl_easy_init();
}

CurlHttpClient::~CurlHttpClient() {
  if (impl_->curl) curl_easy_cleanup(impl_->curl);
}

HttpResponse CurlHttpClient::Get(const HttpRequest& request) {
  HttpResponse response;
  CURL* curl = impl_->curl;
  if (!curl) {
    response.error = HttpResponse::Error::kTransport;
    response.error_message = "libcurl could not be initialised";
    return response;
  }
  curl_easy_reset(curl);
  BodySink sink{&response.body, request.max_body_bytes};
  char error_buffer[CURL_ERROR_SIZE] = {0};

  curl_slist* headers = nullptr;
  for (const auto& [name, value] : request.headers) {
    headers = curl_slist_append(headers, (name + ": " + value).c_str());
  }
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  // gzip, not brotli: Debian's cpp-httplib compresses brotli at its highest
  // quality, ~0.4 s per large page on the API's side; gzip is cheap there.
  curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "gzip");
  curl_easy_setopt(curl, CURLOPT_USERAGENT, "notifications-bridge");
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(request.connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(request.total_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, WriteBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error_buffer);
  // A Content-Length above the limit is refused before any byte is read.
  curl_easy_setopt(curl, CURLOPT_MAXFILESIZE_LARGE,
                   static_cast<curl_off_t>(request.max_body_bytes));

  CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(headers);

  if (rc == CURLE_OK) {
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    response.status = static_cast<int>(status);
    char* type = nullptr;
    curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &type);
    if (type) {
      response.content_type = type;
      std::transform(response.content_type.begin(),
                     response.content_type.end(),
                     response.content_type.begin(), [](unsigned char c) {
                       return static_cast<char>(std::tolower(c));
                     });
    }
    return response;
  }
  response.body.clear();
  response.error_message = error_buffer[0] ? error_buffer : curl_easy_strerror(rc);
  if (sink.too_large || rc == CURLE_FILESIZE_EXCEEDED) {
    response.error = HttpResponse::Error::kTooLarge;
    response.error_message = "response body larger than " +
                             std::to_string(request.max_body_bytes) + " bytes";
  } else if (rc == CURLE_OPERATION_TIMEDOUT) {
    response.error = HttpResponse::Error::kTimeout;
  } else if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
             rc == CURLE_COULDNT_RESOLVE_PROXY) {
    response.error = HttpResponse::Error::kConnect;
  } else {
    response.error = HttpResponse::Error::kTransport;
  }
  return response;
}

}  // namespace notifications

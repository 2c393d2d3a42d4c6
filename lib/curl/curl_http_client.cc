#include "curl_http_client.h"

#include <curl/curl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace notifications {

CurlGlobal::CurlGlobal() { curl_global_init(CURL_GLOBAL_DEFAULT); }
CurlGlobal::~CurlGlobal() { curl_global_cleanup(); }

struct CurlHttpClient::Impl {
  CURL* curl = nullptr;
  // The transfer runs in a multi handle so that another thread can wake it
  // (curl_multi_wakeup) when the request is cancelled: a blocking
  // curl_easy_perform() would only notice at its next progress callback,
  // up to a second later, or never while a long-poll is held. The multi
  // handle also keeps the connection to the API between requests.
  CURLM* multi = nullptr;
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

bool OutOfDescriptors(int error) { return error == EMFILE || error == ENFILE; }

// After a failed connect: whether the bridge itself is out of descriptors.
// libcurl reports a socket() failure as CURLE_COULDNT_CONNECT, like a
// refused connection; its saved errno tells them apart when it has one,
// and a socket() of our own when it has not.
int DescriptorShortage(CURL* curl) {
  long os_errno = 0;
  curl_easy_getinfo(curl, CURLINFO_OS_ERRNO, &os_errno);
  if (OutOfDescriptors(static_cast<int>(os_errno))) {
    return static_cast<int>(os_errno);
  }
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0) {
    ::close(fd);
    return 0;
  }
  return OutOfDescriptors(errno) ? errno : 0;
}

}  // namespace

CurlHttpClient::CurlHttpClient() : impl_(std::make_unique<Impl>()) {
  impl_->curl = curl_easy_init();
  impl_->multi = curl_multi_init();
}

CurlHttpClient::~CurlHttpClient() {
  if (impl_->curl) curl_easy_cleanup(impl_->curl);
  if (impl_->multi) curl_multi_cleanup(impl_->multi);
}

HttpResponse CurlHttpClient::Get(const HttpRequest& request) {
  HttpResponse response;
  CURL* curl = impl_->curl;
  CURLM* multi = impl_->multi;
  if (!curl || !multi) {
    response.error = HttpResponse::Error::kTransport;
    response.error_message = "libcurl could not be initialised";
    return response;
  }
  if (request.cancel && request.cancel->IsCancelled()) {
    response.error = HttpResponse::Error::kCancelled;
    response.error_message = "cancelled before it started";
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

  int wake_id = 0;
  if (request.cancel) {
    wake_id =
        request.cancel->AddCallback([multi] { curl_multi_wakeup(multi); });
  }
  CURLcode rc = CURLE_OK;
  bool cancelled = false;
  std::string multi_error;
  CURLMcode added = curl_multi_add_handle(multi, curl);
  if (added != CURLM_OK) multi_error = curl_multi_strerror(added);
  while (multi_error.empty()) {
    int running = 0;
    CURLMcode mc = curl_multi_perform(multi, &running);
    if (mc != CURLM_OK) {
      multi_error = curl_multi_strerror(mc);
      break;
    }
    bool done = false;
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
      if (msg->msg == CURLMSG_DONE && msg->easy_handle == curl) {
        rc = msg->data.result;
        done = true;
      }
    }
    if (done) break;
    if (running == 0) {
      multi_error = "transfer ended without a result";
      break;
    }
    // Checked after every wake-up; a Cancel() between this check and the
    // poll is not lost: its wakeup makes the poll return at once.
    if (request.cancel && request.cancel->IsCancelled()) {
      cancelled = true;
      break;
    }
    // Waits for the socket, libcurl's own timers (the request's timeouts)
    // or a wakeup; the 1 s cap is only a safety net.
    mc = curl_multi_poll(multi, nullptr, 0, 1000, nullptr);
    if (mc != CURLM_OK) {
      multi_error = curl_multi_strerror(mc);
      break;
    }
  }
  if (added == CURLM_OK) curl_multi_remove_handle(multi, curl);
  if (request.cancel) request.cancel->RemoveCallback(wake_id);
  curl_slist_free_all(headers);

  if (cancelled) {
    response = HttpResponse();
    response.error = HttpResponse::Error::kCancelled;
    response.error_message = "cancelled";
    return response;
  }
  if (!multi_error.empty()) {
    response.body.clear();
    response.error = HttpResponse::Error::kTransport;
    response.error_message = "libcurl: " + multi_error;
    return response;
  }
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
    if (status >= 300 && status < 400) {
      char* location = nullptr;
      curl_easy_getinfo(curl, CURLINFO_REDIRECT_URL, &location);
      if (location) response.redirect_url = location;
    }
    return response;
  }
  response.body.clear();
  response.error_message =
      error_buffer[0] ? error_buffer : curl_easy_strerror(rc);
  if (sink.too_large || rc == CURLE_FILESIZE_EXCEEDED) {
    response.error = HttpResponse::Error::kTooLarge;
    response.error_message = "response body larger than " +
                             std::to_string(request.max_body_bytes) + " bytes";
  } else if (rc == CURLE_OPERATION_TIMEDOUT) {
    response.error = HttpResponse::Error::kTimeout;
  } else if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
             rc == CURLE_COULDNT_RESOLVE_PROXY) {
    response.error = HttpResponse::Error::kConnect;
    if (int shortage = DescriptorShortage(curl)) {
      response.error = HttpResponse::Error::kNoFileDescriptors;
      response.error_message =
          std::string("out of file descriptors (") +
          (shortage == EMFILE ? "EMFILE: this process's limit"
                              : "ENFILE: the system's limit") +
          "): raise LimitNOFILE / ulimit -n or lower --max-clients";
    }
  } else {
    response.error = HttpResponse::Error::kTransport;
  }
  return response;
}

}  // namespace notifications

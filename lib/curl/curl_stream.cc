#include "curl_stream.h"

#include <curl/curl.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <system_error>

namespace notifications {
namespace {

using SteadyClock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// How long one wait for the socket lasts at most: Cancel() wakes it anyway,
// this only bounds the idle check's lateness.
constexpr int kMaxWaitMs = 1000;

}  // namespace

struct CurlHttpStream::Impl {
  CURLM* multi = nullptr;
};

// One transfer's state, shared with libcurl's callbacks (Get()'s thread).
struct CurlHttpStream::Transfer {
  Transfer(CurlHttpStream* s, const HttpStreamCallbacks* c)
      : stream(s), callbacks(c) {}

  // Tells the caller the status and Content-Type, once.
  void Respond() {
    if (responded) return;
    responded = true;
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    char* type = nullptr;
    curl_easy_getinfo(easy, CURLINFO_CONTENT_TYPE, &type);
    if (callbacks->on_response) {
      callbacks->on_response(static_cast<int>(status), type ? type : "");
    }
  }

  static size_t OnHeader(char* /*data*/, size_t size, size_t n, void* user) {
    static_cast<Transfer*>(user)->last_activity = SteadyClock::now();
    return size * n;
  }

  static size_t OnBody(char* data, size_t size, size_t n, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const size_t length = size * n;
    // Returning less than `length` aborts the transfer (CURLE_WRITE_ERROR).
    if (t->stream->cancelled_.load()) return 0;
    t->last_activity = SteadyClock::now();
    t->Respond();
    if (length == 0) return 0;
    if (t->callbacks->on_body &&
        !t->callbacks->on_body(std::string_view(data, length))) {
      t->aborted = true;
      return 0;
    }
    return length;
  }

  CurlHttpStream* stream;
  const HttpStreamCallbacks* callbacks;
  CURL* easy = nullptr;
  SteadyClock::time_point last_activity = SteadyClock::now();
  bool responded = false;
  bool aborted = false;
  char error_buffer[CURL_ERROR_SIZE] = {0};
};

CurlHttpStream::CurlHttpStream() : impl_(std::make_unique<Impl>()) {
  impl_->multi = curl_multi_init();
}

CurlHttpStream::~CurlHttpStream() {
  if (impl_->multi) curl_multi_cleanup(impl_->multi);
}

void CurlHttpStream::Cancel() {
  cancelled_ = true;
  // Documented as callable from any thread: ends curl_multi_poll() now.
  if (impl_->multi) curl_multi_wakeup(impl_->multi);
}

HttpStreamResult CurlHttpStream::Get(const HttpStreamRequest& request,
                                     const HttpStreamCallbacks& callbacks) {
  HttpStreamResult result;
  if (cancelled_.load()) {
    result.end = HttpStreamResult::End::kCancelled;
    return result;
  }
  CURLM* multi = impl_->multi;
  CURL* easy = curl_easy_init();
  if (!multi || !easy) {
    if (easy) curl_easy_cleanup(easy);
    result.error = "libcurl could not be initialised";
    return result;
  }
  Transfer t(this, &callbacks);
  t.easy = easy;
  curl_slist* headers = nullptr;
  for (const auto& [name, value] : request.headers) {
    headers = curl_slist_append(headers, (name + ": " + value).c_str());
  }
  curl_easy_setopt(easy, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  // A proxy in front of the bridge may redirect http to https.
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(easy, CURLOPT_MAXREDIRS, 5L);
  if (!request.user_agent.empty()) {
    curl_easy_setopt(easy, CURLOPT_USERAGENT, request.user_agent.c_str());
  }
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(request.connect_timeout.count()));
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
  // No CURLOPT_ACCEPT_ENCODING: a compressed stream would be buffered.
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, Transfer::OnBody);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, Transfer::OnHeader);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, t.error_buffer);
  curl_multi_add_handle(multi, easy);

  const milliseconds idle_timeout = request.idle_timeout;
  bool finished = false;  // libcurl completed the transfer; `code` is set.
  CURLcode code = CURLE_OK;
  bool idle = false;
  bool cancelled = false;
  while (true) {
    int running = 0;
    CURLMcode mc = curl_multi_perform(multi, &running);
    if (mc != CURLM_OK) {
      result.error = curl_multi_strerror(mc);
      break;
    }
    if (running == 0) break;
    if (cancelled_.load()) {
      cancelled = true;
      break;
    }
    int wait_ms = kMaxWaitMs;
    if (idle_timeout.count() > 0) {
      auto silent = std::chrono::duration_cast<milliseconds>(
          SteadyClock::now() - t.last_activity);
      if (silent >= idle_timeout) {
        idle = true;
        break;
      }
      wait_ms = static_cast<int>(
          std::min<int64_t>(wait_ms, (idle_timeout - silent).count() + 1));
    }
    curl_multi_poll(multi, nullptr, 0, wait_ms, nullptr);
  }
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
    if (msg->msg == CURLMSG_DONE && msg->easy_handle == easy) {
      finished = true;
      code = msg->data.result;
    }
  }
  if (finished && code != CURLE_OK && result.error.empty()) {
    result.error =
        t.error_buffer[0] ? t.error_buffer : curl_easy_strerror(code);
    // libcurl 7.88 says "Couldn't connect to server"; the system's reason
    // ("Connection refused") is what a person can act on.
    long os_errno = 0;
    curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &os_errno);
    if (os_errno != 0) {
      std::string reason =
          std::error_code(static_cast<int>(os_errno), std::system_category())
              .message();
      if (result.error.find(reason) == std::string::npos) {
        result.error += " (" + reason + ")";
      }
    }
  }
  if (!t.responded && !cancelled_.load()) {
    // A response without a body (or whose body never came).
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    if (status > 0) t.Respond();
  }
  curl_multi_remove_handle(multi, easy);
  curl_easy_cleanup(easy);
  curl_slist_free_all(headers);

  using End = HttpStreamResult::End;
  if (cancelled || cancelled_.load()) {
    result.end = End::kCancelled;
  } else if (t.aborted) {
    result.end = End::kAborted;
  } else if (idle) {
    result.end = End::kIdle;
  } else if (finished && code == CURLE_OK) {
    result.end = End::kComplete;
  } else {
    result.end = End::kFailed;
  }
  return result;
}

}  // namespace notifications

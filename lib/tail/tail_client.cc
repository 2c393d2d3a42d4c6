#include "tail_client.h"

#include "version.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <system_error>
#include <utility>

#include "backoff.h"
#include "notification.h"
#include "notification_parser.h"  // ParseErrorBody
#include "tail_format.h"

namespace notifications {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Start of a non-stream body kept for the error message.
constexpr size_t kMaxErrorBody = 64 * 1024;
// An event (or line) this large without its blank line: the peer is not a
// bridge (whose events are one notification each), stop buffering it.
constexpr size_t kMaxPendingEventBytes = 16u << 20;
// A connection that lived this long was healthy even without an event: a
// quiet stream cut by a proxy is not a failure to back off from.
constexpr auto kHealthyAfter = std::chrono::seconds(10);
// A server's retry: is honoured up to this (a day is already absurd).
constexpr milliseconds kMaxServerRetry = std::chrono::hours(24);

std::string Seconds(milliseconds ms) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f s",
                static_cast<double>(ms.count()) / 1000.0);
  return text;
}

std::string AsciiTrimLower(std::string_view s) {
  size_t b = s.find_first_not_of(" \t");
  size_t e = s.find_last_not_of(" \t");
  if (b == std::string_view::npos) return "";
  return AsciiLower(std::string(s.substr(b, e - b + 1)));
}

// True when the path of `url` (before '?' or '#') ends in "/events".
bool PathEndsInEvents(const std::string& url) {
  std::string path = url.substr(0, url.find_first_of("?#"));
  const std::string suffix = "/events";
  return path.size() >= suffix.size() &&
         path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

// ---- TailPrinter -------------------------------------------------------

TailPrinter::TailPrinter(bool json, TailSinks sinks)
    : json_(json), sinks_(std::move(sinks)) {}

bool TailPrinter::OnEvent(const SseParser::Event& event,
                          std::time_t received_at) {
  if (event.type == "reset") {
    last_printed_id_.clear();
    if (sinks_.err) sinks_.err(ResetNotice(event.data));
    return true;
  }
  if (event.type != "notification") return true;
  const std::string& id = event.last_event_id;
  if (!id.empty() && !last_printed_id_.empty() &&
      CompareIds(id, last_printed_id_) <= 0) {
    ++skipped_;
    if (sinks_.err) {
      sinks_.err("skipped notification " + id + ": already printed (last " +
                 last_printed_id_ + ")");
    }
    return true;
  }
  std::string line;
  if (json_) {
    line = event.data;
    std::replace(line.begin(), line.end(), '\n', ' ');
  } else {
    Result<Notification> n = ParseStreamNotification(event.data);
    if (!n.ok()) {
      if (sinks_.err) {
        sinks_.err("skipped notification " + (id.empty() ? "without id" : id) +
                   ": " + n.status().message());
      }
      return true;
    }
    line = FormatNotificationLine(*n, received_at);
  }
  if (!id.empty()) last_printed_id_ = id;
  ++printed_;
  return sinks_.out ? sinks_.out(line) : true;
}

// ---- Pure helpers -------------------------------------------------------

milliseconds TailRetryDelay(milliseconds retry_ms, uint32_t failures,
                            milliseconds max_delay, double unit_random) {
  retry_ms = std::clamp(retry_ms, milliseconds(0), kMaxServerRetry);
  if (failures <= 1) return retry_ms;
  // Grow from the server's delay (at least 1 s, so that a retry: 0 does not
  // turn a dead server into a busy loop).
  BackoffPolicy policy{std::max(retry_ms, milliseconds(1000)),
                       std::max(max_delay, retry_ms)};
  return std::max(retry_ms, BackoffDelay(policy, failures, unit_random));
}

bool IsEventStream(std::string_view content_type) {
  return AsciiTrimLower(content_type.substr(0, content_type.find(';'))) ==
         "text/event-stream";
}

std::string DescribeRejectedStream(const std::string& url, long status,
                                   const std::string& content_type,
                                   std::string_view body) {
  if (status == 400 || status == 401) {
    std::string error = ParseErrorBody(body);
    if (!error.empty()) {
      return url + " answered HTTP " + std::to_string(status) + ": " + error;
    }
  }
  std::string message = url;
  if (status != 200) {
    message += " answered HTTP " + std::to_string(status);
  } else if (content_type.empty()) {
    message += " answered without a Content-Type";
  } else {
    std::string shown;
    for (char c : content_type) shown += (c < 0x20 || c == 0x7F) ? ' ' : c;
    message += " answered with Content-Type " + shown;
  }
  message +=
      ": not a notifications bridge stream (expected 200 "
      "text/event-stream)";
  if (!PathEndsInEvents(url)) {
    message +=
        " \xE2\x80\x94 is the path right? A bridge's stream is at /events";
  }
  return message;
}

// ---- TailClient ---------------------------------------------------------

struct TailClient::Impl {
  CURLM* multi = nullptr;
};

// One connection's state, shared with libcurl's callbacks (Run()'s thread).
struct TailClient::Attempt {
  explicit Attempt(TailClient* c) : client(c) {}

  // Reads the status and Content-Type once the response has begun.
  void Check() {
    if (checked) return;
    checked = true;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    char* type = nullptr;
    curl_easy_getinfo(easy, CURLINFO_CONTENT_TYPE, &type);
    if (type) content_type = type;
    stream = status == 200 && IsEventStream(content_type);
    if (stream && client->reconnecting_) {
      client->reconnecting_ = false;
      if (client->sinks_.err) {
        client->sinks_.err(client->last_event_id_.empty()
                               ? "reconnected"
                               : "reconnected, resuming after " +
                                     client->last_event_id_);
      }
    }
  }

  // Feeds stream bytes to the parser and the events to the printer.
  void Feed(std::string_view bytes) {
    std::time_t now = std::time(nullptr);
    parser.Feed(bytes, [this, now](const SseParser::Event& e) {
      ++events;
      // Every event of the bridge carries its id; an empty one (a reset
      // restarting from the beginning) must not be resumed from.
      client->last_event_id_ = e.last_event_id;
      if (!output_failed && !client->printer_.OnEvent(e, now)) {
        output_failed = true;
      }
    });
    if (!parser.last_event_id().empty()) {
      client->last_event_id_ = parser.last_event_id();
    }
    if (parser.retry_ms()) {
      client->retry_ =
          std::min(milliseconds(*parser.retry_ms()), kMaxServerRetry);
    }
    if (parser.buffered_bytes() > kMaxPendingEventBytes) oversized = true;
  }

  TailClient* client;
  CURL* easy = nullptr;
  SseParser parser;
  Clock::time_point started = Clock::now();
  Clock::time_point last_activity = started;

  bool checked = false;  // status and content_type are read.
  long status = 0;
  std::string content_type;
  bool stream = false;  // 200 text/event-stream.
  std::string body;     // Start of a body that is not a stream.

  size_t events = 0;
  bool output_failed = false;
  bool oversized = false;
  bool idle = false;      // --idle-timeout of silence.
  bool stopped = false;   // Stop() was called.
  bool finished = false;  // libcurl completed the transfer, `code` is set.
  CURLcode code = CURLE_OK;
  std::string error;  // libcurl's message when code != CURLE_OK.
  char error_buffer[CURL_ERROR_SIZE] = {0};
};

size_t TailClient::OnHeader(char* /*data*/, size_t size, size_t n, void* user) {
  static_cast<Attempt*>(user)->last_activity = Clock::now();
  return size * n;
}

TailClient::TailClient(TailOptions options, TailSinks sinks)
    : options_(std::move(options)),
      sinks_(sinks),
      printer_(options_.json, sinks),
      impl_(std::make_unique<Impl>()),
      random_(std::random_device{}()) {
  impl_->multi = curl_multi_init();
}

TailClient::~TailClient() {
  if (impl_->multi) curl_multi_cleanup(impl_->multi);
}

void TailClient::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  // Documented as callable from any thread: ends curl_multi_poll() now.
  if (impl_->multi) curl_multi_wakeup(impl_->multi);
}

void TailClient::Connect(Attempt& a) {
  CURLM* multi = impl_->multi;
  CURL* easy = curl_easy_init();
  if (!multi || !easy) {
    if (easy) curl_easy_cleanup(easy);
    a.finished = true;
    a.code = CURLE_FAILED_INIT;
    a.error = "libcurl could not be initialised";
    return;
  }
  a.easy = easy;
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Accept: text/event-stream");
  headers = curl_slist_append(headers, "Cache-Control: no-cache");
  if (!last_event_id_.empty()) {
    // The parser never yields an id holding CR, LF or NUL: no header
    // injection.
    headers = curl_slist_append(headers,
                                ("Last-Event-ID: " + last_event_id_).c_str());
  }
  curl_easy_setopt(easy, CURLOPT_URL, options_.stream_url.c_str());
  curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  // A proxy in front of the bridge may redirect http to https.
  curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(easy, CURLOPT_MAXREDIRS, 5L);
  const std::string user_agent = std::string("notifications-tail/") + ProjectVersion();
  curl_easy_setopt(easy, CURLOPT_USERAGENT, user_agent.c_str());
  curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options_.connect_timeout.count()));
  // A peer that vanished without a FIN is also caught by --idle-timeout;
  // keepalive makes the kernel notice sooner on a quiet stream.
  curl_easy_setopt(easy, CURLOPT_TCP_KEEPALIVE, 1L);
  // No CURLOPT_ACCEPT_ENCODING: a compressed stream would be buffered.
  curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(easy, CURLOPT_WRITEDATA, &a);
  curl_easy_setopt(easy, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(easy, CURLOPT_HEADERDATA, &a);
  curl_easy_setopt(easy, CURLOPT_ERRORBUFFER, a.error_buffer);
  curl_multi_add_handle(multi, easy);

  const milliseconds idle_timeout = options_.idle_timeout;
  while (true) {
    int running = 0;
    CURLMcode mc = curl_multi_perform(multi, &running);
    if (mc != CURLM_OK) {
      a.finished = true;
      a.code = CURLE_FAILED_INIT;
      a.error = curl_multi_strerror(mc);
      break;
    }
    if (running == 0) break;
    if (stopping()) {
      a.stopped = true;
      break;
    }
    int wait_ms = 1000;
    if (idle_timeout.count() > 0) {
      auto silent = std::chrono::duration_cast<milliseconds>(Clock::now() -
                                                             a.last_activity);
      if (silent >= idle_timeout) {
        a.idle = true;
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
      a.finished = true;
      a.code = msg->data.result;
    }
  }
  if (a.finished && a.code != CURLE_OK && a.error.empty()) {
    a.error = a.error_buffer[0] ? a.error_buffer : curl_easy_strerror(a.code);
    // libcurl 7.88 says "Couldn't connect to server"; the system's reason
    // ("Connection refused") is what a person can act on.
    long os_errno = 0;
    curl_easy_getinfo(easy, CURLINFO_OS_ERRNO, &os_errno);
    if (os_errno != 0) {
      std::string reason =
          std::error_code(static_cast<int>(os_errno), std::system_category())
              .message();
      if (a.error.find(reason) == std::string::npos)
        a.error += " (" + reason + ")";
    }
  }
  if (!a.checked) {
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    if (status > 0) a.Check();
  }
  curl_multi_remove_handle(multi, easy);
  curl_easy_cleanup(easy);
  curl_slist_free_all(headers);
  a.easy = nullptr;
}

size_t TailClient::OnBody(char* data, size_t size, size_t n, void* user) {
  auto* a = static_cast<Attempt*>(user);
  size_t length = size * n;
  // Returning less than `length` aborts the transfer (CURLE_WRITE_ERROR).
  if (a->client->stopping()) return 0;
  a->last_activity = Clock::now();
  a->Check();
  if (!a->stream) {
    size_t room = kMaxErrorBody - std::min(kMaxErrorBody, a->body.size());
    a->body.append(data, std::min(room, length));
    return room > 0 ? length : 0;
  }
  a->Feed(std::string_view(data, length));
  return a->output_failed || a->oversized ? 0 : length;
}

Status TailClient::Run() {
  bool established = false;  // A stream was open once.
  uint32_t failures = 0;
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  while (!stopping()) {
    Attempt a(this);
    Connect(a);
    if (a.stopped || stopping()) return Status::Ok();
    if (a.output_failed) {
      return Status::Error(Status::Code::kInternal,
                           "cannot write the output (standard output closed?)");
    }
    std::string problem;  // Why this connection is over.
    bool clean_end = false;
    const std::string& url = options_.url;
    if (!a.stream) {
      if (!established) {
        if (a.checked) {
          return Status::InvalidArgument(
              DescribeRejectedStream(url, a.status, a.content_type, a.body));
        }
        if (a.idle) {
          return Status::Unavailable("no answer from " + url + " in " +
                                     Seconds(options_.idle_timeout));
        }
        return Status::Unavailable("cannot connect to " + url + ": " + a.error);
      }
      if (a.checked) {
        problem = url + " answered HTTP " + std::to_string(a.status);
        if (a.status == 200) problem += " with Content-Type " + a.content_type;
        std::string error = ParseErrorBody(a.body);
        if (!error.empty()) problem += ": " + error;
      } else if (a.idle) {
        problem =
            "no answer from " + url + " in " + Seconds(options_.idle_timeout);
      } else {
        problem = "cannot connect to " + url + ": " + a.error;
      }
    } else {
      established = true;
      if (a.oversized) {
        problem = "stream interrupted: an event larger than 16 MiB";
      } else if (a.idle) {
        problem = "stream silent for " + Seconds(options_.idle_timeout) +
                  " (not even a heartbeat): taken as dead";
      } else if (a.finished && a.code == CURLE_OK) {
        clean_end = true;
        problem = "the bridge ended the stream";
      } else {
        problem = "stream interrupted: " + a.error;
      }
    }
    if (options_.once) {
      return clean_end ? Status::Ok() : Status::Unavailable(problem);
    }
    bool healthy =
        a.stream && (a.events > 0 || Clock::now() - a.started >= kHealthyAfter);
    failures = healthy ? 1 : std::min<uint32_t>(failures + 1, 64);
    milliseconds delay = TailRetryDelay(
        retry_, failures, options_.max_retry_delay, unit(random_));
    reconnecting_ = true;
    if (sinks_.err) sinks_.err(problem + "; reconnecting in " + Seconds(delay));
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, delay, [this] { return stopping(); });
  }
  return Status::Ok();
}

}  // namespace notifications

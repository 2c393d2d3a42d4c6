#include "tail_client.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <utility>

#include "notification_parser.h"  // ParseErrorBody
#include "sse_parser.h"
#include "tail_format.h"
#include "tail_response.h"
#include "version.h"

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

std::string Seconds(milliseconds ms) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f s",
                static_cast<double>(ms.count()) / 1000.0);
  return text;
}

}  // namespace

// One connection's state (Run()'s thread).
struct TailClient::Attempt {
  explicit Attempt(TailClient* c) : client(c) {}

  // The response began: is it a stream?
  void OnResponse(int response_status, const std::string& type) {
    checked = true;
    status = response_status;
    content_type = type;
    stream = status == 200 && IsEventStream(content_type);
    if (stream && client->reconnecting_) {
      client->reconnecting_ = false;
      client->Notice(client->last_event_id_.empty()
                         ? "reconnected"
                         : "reconnected, resuming after " +
                               client->last_event_id_);
    }
  }

  // Body bytes: the stream's to the parser, the start of any other body
  // for the error message. False to end the transfer.
  bool OnBody(std::string_view bytes) {
    if (!stream) {
      size_t room = kMaxErrorBody - std::min(kMaxErrorBody, body.size());
      body.append(bytes.data(), std::min(room, bytes.size()));
      return room > 0;
    }
    Feed(bytes);
    return !output_failed && !oversized;
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
  SseParser parser;
  Clock::time_point started = Clock::now();

  bool checked = false;  // status and content_type are known.
  int status = 0;
  std::string content_type;
  bool stream = false;  // 200 text/event-stream.
  std::string body;     // Start of a body that is not a stream.

  size_t events = 0;
  bool output_failed = false;
  bool oversized = false;
  HttpStreamResult result;
};

namespace {

// Options built by hand (tests) may leave display_url out: never print the
// URL with its token.
TailOptions WithDisplayUrl(TailOptions options) {
  if (options.display_url.empty()) {
    options.display_url = RedactStreamUrl(options.url);
  }
  return options;
}

}  // namespace

TailClient::TailClient(TailOptions options, TailSinks sinks, HttpStream& stream)
    : options_(WithDisplayUrl(std::move(options))),
      sinks_(sinks),
      printer_(options_.json, sinks),
      stream_(stream),
      random_(std::random_device{}()) {}

void TailClient::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  stream_.Cancel();
}

void TailClient::Notice(const std::string& line) const {
  if (sinks_.err) sinks_.err(TerminalText(line));
}

void TailClient::Connect(Attempt& a) {
  HttpStreamRequest request;
  request.url = options_.stream_url;
  request.headers = {{"Accept", "text/event-stream"},
                     {"Cache-Control", "no-cache"}};
  if (!last_event_id_.empty()) {
    // The parser never yields an id holding CR, LF or NUL: no header
    // injection.
    request.headers.emplace_back("Last-Event-ID", last_event_id_);
  }
  request.user_agent = std::string("notifications-tail/") + ProjectVersion();
  request.connect_timeout = options_.connect_timeout;
  request.idle_timeout = options_.idle_timeout;
  HttpStreamCallbacks callbacks;
  callbacks.on_response = [&a](int status, const std::string& type) {
    a.OnResponse(status, type);
  };
  callbacks.on_body = [this, &a](std::string_view bytes) {
    return !stopping() && a.OnBody(bytes);
  };
  a.result = stream_.Get(request, callbacks);
}

std::string TailClient::Problem(const Attempt& a, bool* clean_end) const {
  using End = HttpStreamResult::End;
  const std::string& url = options_.display_url;
  const bool idle = a.result.end == End::kIdle;
  *clean_end = false;
  if (!a.stream) {
    if (a.checked) {
      std::string problem = url + " answered HTTP " + std::to_string(a.status);
      if (a.status == 200) problem += " with Content-Type " + a.content_type;
      std::string error = ParseErrorBody(a.body);
      if (!error.empty()) problem += ": " + error;
      return problem;
    }
    if (idle) {
      return "no answer from " + url + " in " + Seconds(options_.idle_timeout);
    }
    return "cannot connect to " + url + ": " + a.result.error;
  }
  if (a.oversized) return "stream interrupted: an event larger than 16 MiB";
  if (idle) {
    return "stream silent for " + Seconds(options_.idle_timeout) +
           " (not even a heartbeat): taken as dead";
  }
  if (a.result.end == End::kComplete) {
    *clean_end = true;
    return "the bridge ended the stream";
  }
  return "stream interrupted: " + a.result.error;
}

Status TailClient::Run() {
  bool established = false;  // A stream was open once.
  uint32_t failures = 0;
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  while (!stopping()) {
    Attempt a(this);
    Connect(a);
    if (a.result.end == HttpStreamResult::End::kCancelled || stopping()) {
      return Status::Ok();
    }
    if (a.output_failed) {
      return Status::Error(Status::Code::kInternal,
                           "cannot write the output (standard output closed?)");
    }
    bool clean_end = false;
    const std::string problem = Problem(a, &clean_end);
    if (!a.stream && !established) {
      // The first connection decides: no stream, no retry.
      if (a.checked) {
        return Status::InvalidArgument(TerminalText(DescribeRejectedStream(
            options_.display_url, a.status, a.content_type, a.body)));
      }
      return Status::Unavailable(TerminalText(problem));
    }
    if (a.stream) established = true;
    if (options_.once) {
      return clean_end ? Status::Ok()
                       : Status::Unavailable(TerminalText(problem));
    }
    bool healthy =
        a.stream && (a.events > 0 || Clock::now() - a.started >= kHealthyAfter);
    failures = healthy ? 1 : std::min<uint32_t>(failures + 1, 64);
    milliseconds delay = TailRetryDelay(
        retry_, failures, options_.max_retry_delay, unit(random_));
    reconnecting_ = true;
    Notice(problem + "; reconnecting in " + Seconds(delay));
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, delay, [this] { return stopping(); });
  }
  return Status::Ok();
}

}  // namespace notifications

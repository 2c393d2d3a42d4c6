#include "routes.h"

#include <utility>

#include "clock.h"
#include "constant_time.h"
#include "filter.h"
#include "notification_json.h"
#include "query_string.h"
#include "sse_encoder.h"
#include "stream_request.h"

namespace notifications {

namespace {

constexpr const char* kPageCsp =
    "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self' http: https:; "
    "base-uri 'none'; form-action 'none'; object-src 'none'; "
    "frame-ancestors 'self'";

constexpr const char* kAllow = "GET, HEAD, OPTIONS";

// Query parameters read per request: more is a 400 (docs/events.md).
constexpr size_t kMaxQueryParams = 256;

std::string OptionalTime(int64_t ms) {
  return ms == 0 ? "null" : JsonString(FormatRfc3339(ms));
}

std::string OptionalString(const std::string& s) {
  return s.empty() ? "null" : JsonString(s);
}

bool HasField(const HeaderFields& fields, const char* name) {
  for (const auto& f : fields) {
    if (f.first == name) return true;
  }
  return false;
}

HttpReply WithFields(HttpReply r, const HeaderFields& fields) {
  r.fields.insert(r.fields.begin(), fields.begin(), fields.end());
  return r;
}

// The exchange a route added with Add() answers through: every answer, now
// or later (after Park or RunBlocking), carries the common fields (nosniff,
// CORS) as the built-in routes' do.
class WithCommonFields final : public HttpExchange {
 public:
  WithCommonFields(HttpExchange& inner, HeaderFields fields)
      : inner_(inner), fields_(std::move(fields)) {}

  const HttpRequestHead& request() const override { return inner_.request(); }
  std::string peer() const override { return inner_.peer(); }
  void Respond(HttpReply response) override {
    response.fields.insert(response.fields.begin(), fields_.begin(),
                           fields_.end());
    inner_.Respond(std::move(response));
  }
  void StartStream(HeaderFields fields,
                   std::unique_ptr<StreamSession> session) override {
    fields.insert(fields.begin(), fields_.begin(), fields_.end());
    inner_.StartStream(std::move(fields), std::move(session));
  }
  void HoldClientSlot() override { inner_.HoldClientSlot(); }
  void RunBlocking(std::function<Continuation()> work,
                   Continuation on_cancel) override {
    HeaderFields f = fields_;
    inner_.RunBlocking(
        [work = std::move(work), f]() -> Continuation {
          Continuation next = work();
          if (!next) return next;
          return [next = std::move(next), f](HttpExchange& later) {
            WithCommonFields wrapped(later, f);
            next(wrapped);
          };
        },
        [on_cancel = std::move(on_cancel), f](HttpExchange& later) {
          WithCommonFields wrapped(later, f);
          on_cancel(wrapped);
        });
  }
  bool Park(std::chrono::milliseconds timeout,
            std::function<bool(HttpExchange&, Wake)> on_wake) override {
    return inner_.Park(timeout, [on_wake = std::move(on_wake), f = fields_](
                                    HttpExchange& later, Wake why) {
      WithCommonFields wrapped(later, f);
      return on_wake(wrapped, why);
    });
  }

 private:
  HttpExchange& inner_;
  const HeaderFields fields_;
};

}  // namespace

HttpReply HttpReply::Text(int status, std::string content_type,
                          std::string body) {
  HttpReply r;
  r.status = status;
  r.fields.emplace_back("Content-Type", std::move(content_type));
  r.body = std::make_shared<const std::string>(std::move(body));
  return r;
}

HttpReply JsonError(int status, const std::string& code,
                    const std::string& message) {
  return HttpReply::Text(status, "application/json",
                         ErrorToJson(code, message) + "\n");
}

bool TokensEqual(const std::string& request_token,
                 const std::string& expected) {
  return ConstantTimeEquals(request_token, expected);
}

std::string CookieValue(const std::string& cookie_header,
                        const std::string& name) {
  size_t pos = 0;
  while (pos < cookie_header.size()) {
    size_t end = cookie_header.find(';', pos);
    if (end == std::string::npos) end = cookie_header.size();
    std::string pair = cookie_header.substr(pos, end - pos);
    size_t b = pair.find_first_not_of(' ');
    if (b != std::string::npos) pair.erase(0, b);
    size_t eq = pair.find('=');
    if (eq != std::string::npos && pair.compare(0, eq, name) == 0 &&
        eq == name.size()) {
      return pair.substr(eq + 1);
    }
    pos = end + 1;
  }
  return "";
}

std::string RenderHealthz(const UpstreamState& upstream, int64_t clients,
                          size_t history, size_t history_capacity) {
  const bool ok = upstream.upstream_ok && !upstream.degraded;
  std::string out = "{\"status\":";
  out += ok ? "\"ok\"" : "\"degraded\"";
  out += ",\"upstream\":{\"ok\":";
  out += upstream.upstream_ok ? "true" : "false";
  out += ",\"lastSuccess\":" + OptionalTime(upstream.last_success_ms);
  out += ",\"lastError\":" + OptionalString(upstream.last_error);
  out += ",\"lastErrorTime\":" + OptionalTime(upstream.last_error_ms);
  out += ",\"consecutiveFailures\":" +
         std::to_string(upstream.consecutive_failures);
  out += ",\"source\":" + JsonString(upstream.source);
  if (upstream.source == "amqp") {
    auto number = [](const std::optional<int64_t>& v) {
      return v ? std::to_string(*v) : std::string("null");
    };
    out += ",\"connection\":" + JsonString(upstream.connection) +
           ",\"offset\":" + number(upstream.offset) +
           ",\"lag\":" + number(upstream.lag);
  }
  out += ",\"degraded\":";
  out += upstream.degraded ? "true" : "false";
  out += ",\"degradedReason\":" + OptionalString(upstream.degraded_reason);
  out += ",\"degradedSince\":" + OptionalTime(upstream.degraded_since_ms);
  out += ",\"skipped\":{\"count\":" + std::to_string(upstream.skipped) +
         ",\"lastId\":" + OptionalString(upstream.last_skipped_id) +
         ",\"lastReason\":" + OptionalString(upstream.last_skipped_reason) +
         ",\"lastTime\":" + OptionalTime(upstream.last_skipped_ms) + "}";
  out += "},\"cursor\":" + OptionalString(upstream.cursor);
  out += ",\"clients\":" + std::to_string(clients);
  out += ",\"history\":{\"size\":" + std::to_string(history) +
         ",\"capacity\":" + std::to_string(history_capacity) + "}}";
  return out;
}

BridgeRoutes::BridgeRoutes(const ServerOptions& options, EventHub& hub,
                           GapSource* gaps, Metrics& metrics,
                           const StaticFiles& files,
                           std::function<UpstreamState()> upstream_state,
                           std::function<std::string()> extra_metrics,
                           LogLimiter& refused_log)
    : options_(options),
      hub_(hub),
      gaps_(gaps),
      metrics_(metrics),
      files_(files),
      upstream_state_(std::move(upstream_state)),
      extra_metrics_(std::move(extra_metrics)),
      refused_log_(refused_log),
      frames_(hub.include_raw_content()),
      rng_(std::random_device{}()) {}

void BridgeRoutes::Add(std::string path,
                       std::function<void(HttpExchange&)> handler) {
  extra_[std::move(path)] = std::move(handler);
}

uint64_t BridgeRoutes::NextSeed() {
  std::lock_guard<std::mutex> lock(rng_mu_);
  return rng_();
}

void BridgeRoutes::AddCors(const HttpRequestHead& request,
                           HeaderFields* fields) const {
  if (options_.allow_origins.empty()) return;
  // The answer depends on Origin: caches must key on it.
  fields->emplace_back("Vary", "Origin");
  const std::string* origin = request.Field("origin");
  if (!origin || origin->empty()) return;
  for (const std::string& allowed : options_.allow_origins) {
    if (*origin == allowed) {
      fields->emplace_back("Access-Control-Allow-Origin", *origin);
      return;
    }
  }
}

void BridgeRoutes::Handle(HttpExchange& ex) {
  const HttpRequestHead& req = ex.request();
  HeaderFields fields;
  fields.emplace_back("X-Content-Type-Options", "nosniff");
  AddCors(req, &fields);
  const std::string& method = req.method;
  if (method == "OPTIONS") {
    HttpReply r;
    r.status = 204;
    r.fields = std::move(fields);
    r.fields.emplace_back("Allow", kAllow);
    if (HasField(r.fields, "Access-Control-Allow-Origin")) {
      r.fields.emplace_back("Access-Control-Allow-Methods", kAllow);
      r.fields.emplace_back("Access-Control-Allow-Headers",
                            "Last-Event-ID, Cache-Control");
      r.fields.emplace_back("Access-Control-Max-Age", "600");
    }
    return ex.Respond(std::move(r));
  }
  if (method != "GET" && method != "HEAD") {
    fields.emplace_back("Allow", kAllow);
    // The method is a token (the parser checked): safe to echo.
    return ex.Respond(
        WithFields(JsonError(405, "method_not_allowed",
                             method + " is not supported here; use GET"),
                   fields));
  }
  std::string path = req.path;
  if (!options_.base_path.empty()) {
    const std::string& base = options_.base_path;
    if (path == base) {
      // The page's relative URLs (style.css, events) need the slash.
      HttpReply r;
      r.status = 301;
      r.fields = std::move(fields);
      r.fields.emplace_back("Location", base + "/");
      return ex.Respond(std::move(r));
    }
    if (path.compare(0, base.size() + 1, base + "/") != 0) {
      return ex.Respond(WithFields(
          JsonError(404, "not_found", "everything is under " + base + "/"),
          fields));
    }
    path.erase(0, base.size());
  }
  if (path == "/events") return HandleEvents(ex, std::move(fields));
  if (path == "/status") {
    fields.emplace_back("Cache-Control", "no-store");
    return ex.Respond(
        WithFields(HttpReply::Text(200, "text/plain", "ALIVE"), fields));
  }
  if (path == "/healthz") {
    UpstreamState state = upstream_state_ ? upstream_state_() : UpstreamState{};
    fields.emplace_back("Cache-Control", "no-store");
    return ex.Respond(WithFields(
        HttpReply::Text(
            state.upstream_ok && !state.degraded ? 200 : 503,
            "application/json",
            RenderHealthz(state, metrics_.clients_connected.load(),
                          hub_.HistorySize(), hub_.history_capacity()) +
                "\n"),
        fields));
  }
  if (path == "/metrics") {
    std::string body = RenderPrometheus(metrics_.Snapshot());
    if (extra_metrics_) body += extra_metrics_();
    fields.emplace_back("Cache-Control", "no-store");
    return ex.Respond(WithFields(
        HttpReply::Text(200, "text/plain; version=0.0.4; charset=utf-8",
                        std::move(body)),
        fields));
  }
  auto extra = extra_.find(path);
  if (extra != extra_.end()) {
    WithCommonFields common(ex, std::move(fields));
    return extra->second(common);
  }
  HandleStatic(ex, path, std::move(fields));
}

void BridgeRoutes::HandleStatic(HttpExchange& ex, const std::string& path,
                                HeaderFields fields) {
  Result<std::shared_ptr<const StaticFile>> loaded = files_.Load(path);
  if (!loaded.ok()) {
    return ex.Respond(
        WithFields(JsonError(404, "not_found", "no such page"), fields));
  }
  const StaticFile& file = *loaded.value();
  const HttpRequestHead& req = ex.request();
  const std::string* accept = req.Field("accept-encoding");
  bool gzip = file.gzip_body && accept && AcceptsGzip(*accept);
  const std::string& etag = gzip ? file.gzip_etag : file.etag;

  HttpReply r;
  r.fields = std::move(fields);
  r.fields.emplace_back("Content-Security-Policy", kPageCsp);
  r.fields.emplace_back("Referrer-Policy", "no-referrer");
  r.fields.emplace_back("Cache-Control", "no-cache");
  r.fields.emplace_back("ETag", etag);
  if (file.compressible) r.fields.emplace_back("Vary", "Accept-Encoding");
  const std::string* if_none_match = req.Field("if-none-match");
  if (if_none_match && EtagMatches(*if_none_match, etag)) {
    r.status = 304;
    return ex.Respond(std::move(r));
  }
  r.fields.emplace_back("Content-Type", file.content_type);
  if (gzip) r.fields.emplace_back("Content-Encoding", "gzip");
  r.body = gzip ? file.gzip_body : file.body;
  ex.Respond(std::move(r));
}

void BridgeRoutes::HandleEvents(HttpExchange& ex, HeaderFields fields) {
  const HttpRequestHead& req = ex.request();
  bool truncated = false;
  QueryParams params = ParseQueryString(req.query, kMaxQueryParams, &truncated);
  if (truncated) {
    return ex.Respond(
        WithFields(JsonError(400, "bad_request",
                             "more than " + std::to_string(kMaxQueryParams) +
                                 " query parameters"),
                   fields));
  }
  if (!options_.stream_token.empty()) {
    if (params.count("access_token") > 1) {
      return ex.Respond(WithFields(
          JsonError(400, "bad_request", "access_token may appear once"),
          fields));
    }
    auto param = params.find("access_token");
    std::string presented = param == params.end() ? "" : param->second;
    if (presented.empty()) {
      const std::string* cookie = req.Field("cookie");
      if (cookie) presented = CookieValue(*cookie, kStreamTokenCookie);
    }
    if (!TokensEqual(presented, options_.stream_token)) {
      fields.emplace_back("WWW-Authenticate", "Bearer realm=\"notifications\"");
      return ex.Respond(WithFields(
          JsonError(401, "unauthorized",
                    presented.empty()
                        ? "this stream needs a token: access_token=... or "
                          "the notifications_stream_token cookie"
                        : "wrong stream token"),
          fields));
    }
  }
  if (req.FieldCount("last-event-id") > 1) {
    return ex.Respond(WithFields(
        JsonError(400, "bad_request", "Last-Event-ID may appear once"),
        fields));
  }
  const std::string* header = req.Field("last-event-id");
  Result<StreamRequest> parsed = ParseStreamRequest(
      params, header ? *header : "", hub_.history_capacity());
  if (!parsed.ok()) {
    return ex.Respond(WithFields(
        JsonError(400, "bad_request", parsed.status().message()), fields));
  }

  fields.emplace_back("Cache-Control", "no-store");
  fields.emplace_back("X-Accel-Buffering", "no");
  if (req.method == "HEAD") {
    HttpReply r;
    r.fields = std::move(fields);
    r.fields.emplace_back("Content-Type", "text/event-stream");
    r.stream_head = true;  // The GET's head: no length, chunked, close.
    return ex.Respond(std::move(r));
  }

  // Admission: above the cap, a 200 that ends at once with a long retry, so
  // browsers come back later instead of giving up (any non-200 would stop
  // their EventSource for good).
  int64_t clients = metrics_.clients_connected.fetch_add(1) + 1;
  if (clients > static_cast<int64_t>(options_.max_clients)) {
    metrics_.clients_connected.fetch_sub(1);
    metrics_.streams_rejected.fetch_add(1, std::memory_order_relaxed);
    const int64_t busy = options_.busy_retry.count();
    std::uniform_int_distribution<int64_t> jitter(busy, 2 * busy);
    int64_t retry = 0;
    {
      std::lock_guard<std::mutex> lock(rng_mu_);
      retry = jitter(rng_);
    }
    refused_log_.Log("stream refused: " + std::to_string(options_.max_clients) +
                     " clients already connected (--max-clients)");
    return ex.Respond(WithFields(
        HttpReply::Text(200, "text/event-stream",
                        EncodeSseRetry(retry) +
                            EncodeSseComment("server full, retry later")),
        fields));
  }
  ex.HoldClientSlot();
  metrics_.streams_opened.fetch_add(1, std::memory_order_relaxed);

  StreamOptions stream_options;
  stream_options.retry = options_.retry;
  stream_options.retry_jitter = options_.retry * 2 / 3;
  auto session = std::make_unique<StreamSession>(
      hub_, gaps_, std::move(parsed).value(), stream_options, NextSeed());
  if (session->Begin() == StreamSession::Start::kReady) {
    return ex.StartStream(std::move(fields), std::move(session));
  }
  // The resume point is older than the history: the gap comes from
  // upstream, on the blocking pool, never on this loop.
  struct Pending {
    std::unique_ptr<StreamSession> session;
    HeaderFields fields;
  };
  auto pending = std::make_shared<Pending>();
  pending->session = std::move(session);
  pending->fields = std::move(fields);
  ex.RunBlocking(
      [this, pending]() -> HttpExchange::Continuation {
        auto gap = std::make_shared<Result<std::vector<HubEventPtr>>>(
            pending->session->FetchGap(&frames_));
        return [pending, gap](HttpExchange& done) {
          pending->session->ResumeWithGap(std::move(*gap));
          done.StartStream(std::move(pending->fields),
                           std::move(pending->session));
        };
      },
      [pending](HttpExchange& cancelled) {
        // The server stops before upstream answered: the client comes back
        // with the same id (to the next instance).
        pending->session->ResumeWithGap(
            Status::Unavailable("the bridge is stopping"));
        cancelled.StartStream(std::move(pending->fields),
                              std::move(pending->session));
      });
}

}  // namespace notifications

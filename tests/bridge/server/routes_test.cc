// BridgeRoutes without sockets: a fake exchange records the answer.
#include "routes.h"

#include <doctest/doctest.h>
#include <zlib.h>

#include <map>
#include <memory>

#include "fakes.h"
#include "test_support.h"

namespace notifications {
namespace {

using namespace std::chrono_literals;

class FakeExchange final : public HttpExchange {
 public:
  explicit FakeExchange(
      std::string target, std::string method = "GET",
      std::vector<std::pair<std::string, std::string>> fields = {}) {
    HttpRequestParser p;
    std::string raw = method + " " + target + " HTTP/1.1\r\nHost: x\r\n";
    for (auto& [n, v] : fields) raw += n + ": " + v + "\r\n";
    p.Feed(raw + "\r\n");
    REQUIRE(p.state() == HttpRequestParser::State::kDone);
    head_ = p.TakeHead();
  }
  const HttpRequestHead& request() const override { return head_; }
  std::string peer() const override { return "127.0.0.1"; }
  void Respond(HttpReply reply) override {
    ++answers;
    response = std::move(reply);
  }
  void StartStream(HeaderFields fields,
                   std::unique_ptr<StreamSession> s) override {
    ++answers;
    stream_fields = std::move(fields);
    session = std::move(s);
  }
  void HoldClientSlot() override { holds_slot = true; }
  void RunBlocking(std::function<Continuation()> work,
                   Continuation on_cancel) override {
    ++answers;
    blocked_work = std::move(work);
    cancel = std::move(on_cancel);
  }
  bool Park(std::chrono::milliseconds,
            std::function<bool(HttpExchange&, Wake)>) override {
    return false;
  }

  std::string Field(const std::string& name) const {
    std::string out;
    for (const auto& [n, v] : response.fields) {
      if (n == name) out += (out.empty() ? "" : ", ") + v;
    }
    return out;
  }
  std::string body() const { return response.body ? *response.body : ""; }

  HttpRequestHead head_;
  int answers = 0;
  HttpReply response;
  HeaderFields stream_fields;
  std::unique_ptr<StreamSession> session;
  bool holds_slot = false;
  std::function<Continuation()> blocked_work;
  Continuation cancel;
};

struct Rig {
  explicit Rig(ServerOptions o = {}) : options(std::move(o)) {
    if (options.public_dir.empty())
      options.public_dir = NB_SOURCE_DIR "/public";
    files = std::make_unique<StaticFiles>(options.public_dir);
    routes = std::make_unique<BridgeRoutes>(
        options, hub, gaps, metrics, *files, [this] { return state; },
        [] { return std::string("# server metrics\n"); }, refused);
  }
  FakeExchange Get(const std::string& target,
                   std::vector<std::pair<std::string, std::string>> fields = {},
                   const std::string& method = "GET") {
    FakeExchange ex(target, method, std::move(fields));
    routes->Handle(ex);
    CHECK(ex.answers == 1);
    return ex;
  }
  ServerOptions options;
  EventHub hub{100, false};
  GapSource* gaps = nullptr;
  Metrics metrics;
  FakeClock clock;
  std::vector<std::string> lines;
  Logger logger{LogLevel::kInfo,
                [this](const std::string& l) { lines.push_back(l); }};
  LogLimiter refused{logger, clock, LogLevel::kWarn, 10s};
  UpstreamState state;
  std::unique_ptr<StaticFiles> files;
  std::unique_ptr<BridgeRoutes> routes;
};

std::string Gunzip(const std::string& gz) {
  z_stream z{};
  REQUIRE(inflateInit2(&z, 15 + 16) == Z_OK);
  std::string out(1 << 20, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  z.avail_in = static_cast<uInt>(gz.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  CHECK(inflate(&z, Z_FINISH) == Z_STREAM_END);
  out.resize(out.size() - z.avail_out);
  inflateEnd(&z);
  return out;
}

TEST_CASE("routes: /status, /healthz and /metrics, never cached") {
  Rig rig;
  FakeExchange s = rig.Get("/status");
  CHECK(s.response.status == 200);
  CHECK(s.body() == "ALIVE");
  CHECK(s.Field("Content-Type") == "text/plain");
  CHECK(s.Field("Cache-Control") == "no-store");
  CHECK(s.Field("X-Content-Type-Options") == "nosniff");
  rig.state.upstream_ok = false;
  FakeExchange h = rig.Get("/healthz");
  CHECK(h.response.status == 503);
  CHECK(h.Field("Content-Type") == "application/json");
  FakeExchange m = rig.Get("/metrics");
  CHECK(m.Field("Content-Type") == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(m.body().find("notifications_bridge_clients_connected 0\n") !=
        std::string::npos);
  CHECK(m.body().find("# server metrics\n") != std::string::npos);
}

TEST_CASE("routes: OPTIONS, 405 with Allow, base path, 404") {
  ServerOptions o;
  o.base_path = "/notifications";
  o.allow_origins = {"https://infra.nasqueron.org"};
  Rig rig(o);
  FakeExchange opt =
      rig.Get("/notifications/events",
              {{"Origin", "https://infra.nasqueron.org"}}, "OPTIONS");
  CHECK(opt.response.status == 204);
  CHECK(opt.Field("Allow") == "GET, HEAD, OPTIONS");
  CHECK(opt.Field("Access-Control-Allow-Origin") ==
        "https://infra.nasqueron.org");
  CHECK(opt.Field("Access-Control-Allow-Headers") ==
        "Last-Event-ID, Cache-Control");
  FakeExchange post = rig.Get("/notifications/events", {}, "POST");
  CHECK(post.response.status == 405);
  CHECK(post.Field("Allow") == "GET, HEAD, OPTIONS");
  CHECK(post.Field("Vary") == "Origin");
  CHECK(post.body() ==
        "{\"error\":\"method_not_allowed\",\"message\":\"POST is not supported "
        "here; use GET\"}\n");
  FakeExchange bare = rig.Get("/notifications");
  CHECK(bare.response.status == 301);
  CHECK(bare.Field("Location") == "/notifications/");
  CHECK(rig.Get("/status").response.status == 404);
  CHECK(rig.Get("/notifications/status").body() == "ALIVE");
}

TEST_CASE(
    "routes: the page is read and compressed once, then served from memory") {
  Rig rig;
  FakeExchange plain = rig.Get("/style.css");
  REQUIRE(plain.response.status == 200);
  CHECK(plain.Field("Content-Encoding").empty());
  CHECK(plain.Field("Vary") == "Accept-Encoding");
  CHECK(plain.Field("Content-Security-Policy").find("script-src 'self'") !=
        std::string::npos);
  CHECK(plain.Field("Referrer-Policy") == "no-referrer");
  CHECK(plain.Field("Cache-Control") == "no-cache");
  std::string etag = plain.Field("ETag");
  FakeExchange gz =
      rig.Get("/style.css", {{"Accept-Encoding", "gzip, deflate, br"}});
  CHECK(gz.Field("Content-Encoding") == "gzip");
  CHECK(gz.Field("Vary") == "Accept-Encoding");
  CHECK(gz.Field("Content-Type") == "text/css; charset=utf-8");
  // Another representation, another ETag (a cache must not mix them up).
  CHECK(gz.Field("ETag") != etag);
  CHECK(gz.body().size() < plain.body().size() / 2);
  CHECK(Gunzip(gz.body()) == plain.body());
  // The same bytes every time: shared, not copied or compressed again.
  FakeExchange again = rig.Get("/style.css", {{"Accept-Encoding", "gzip"}});
  CHECK(static_cast<const void*>(again.response.body.get()) ==
        static_cast<const void*>(gz.response.body.get()));
  for (int i = 0; i < 50; ++i)
    rig.Get("/style.css", {{"Accept-Encoding", "gzip"}});
  CHECK(rig.files->loads() == 1);
  // 304 per representation.
  CHECK(rig.Get("/style.css", {{"If-None-Match", etag}}).response.status ==
        304);
  CHECK(rig.Get("/style.css", {{"If-None-Match", gz.Field("ETag")},
                               {"Accept-Encoding", "gzip"}})
            .response.status == 304);
  CHECK(rig.Get("/style.css",
                {{"If-None-Match", etag}, {"Accept-Encoding", "gzip"}})
            .response.status == 200);
  // q=0 refuses gzip; images are not compressed and do not vary.
  CHECK(rig.Get("/style.css", {{"Accept-Encoding", "gzip;q=0, br"}})
            .Field("Content-Encoding")
            .empty());
  CHECK(rig.Get("/nope.css").response.status == 404);
}

TEST_CASE("routes: Accept-Encoding and If-None-Match parsing") {
  CHECK(AcceptsGzip("gzip"));
  CHECK(AcceptsGzip("br;q=1.0, GZIP;q=0.5"));
  CHECK(AcceptsGzip("x-gzip"));
  CHECK(AcceptsGzip("*"));
  CHECK_FALSE(AcceptsGzip(""));
  CHECK_FALSE(AcceptsGzip("identity"));
  CHECK_FALSE(AcceptsGzip("gzip;q=0"));
  CHECK_FALSE(AcceptsGzip("gzip;q=0.000"));
  CHECK_FALSE(AcceptsGzip("*, gzip;q=0"));
  CHECK_FALSE(AcceptsGzip("*;q=0"));
  CHECK(EtagMatches("\"a\"", "\"a\""));
  CHECK(EtagMatches("\"b\", W/\"a\"", "\"a\""));
  CHECK(EtagMatches("*", "\"a\""));
  CHECK_FALSE(EtagMatches("\"ab\"", "\"a\""));
  CHECK_FALSE(EtagMatches("", "\"a\""));
}

TEST_CASE("routes: /events parameters, repeats, token and HEAD") {
  ServerOptions o;
  o.stream_token = "s3cret";
  Rig rig(o);
  FakeExchange no_token = rig.Get("/events");
  CHECK(no_token.response.status == 401);
  CHECK(no_token.Field("WWW-Authenticate") == "Bearer realm=\"notifications\"");
  CHECK(rig.Get("/events?access_token=wrong").response.status == 401);
  CHECK(rig.Get("/events?access_token=s3cret&access_token=s3cret")
            .response.status == 400);
  // The single-valued parameters may appear once, identical repeats too.
  FakeExchange twice =
      rig.Get("/events?access_token=s3cret&backlog=1&backlog=1");
  CHECK(twice.response.status == 400);
  CHECK(twice.body().find("may appear once") != std::string::npos);
  CHECK(rig.Get("/events?access_token=s3cret",
                {{"Last-Event-ID", "1"}, {"Last-Event-ID", "1"}})
            .response.status == 400);
  std::string many = "/events?access_token=s3cret";
  for (int i = 0; i < 300; ++i) many += "&x=" + std::to_string(i);
  CHECK(rig.Get(many).response.status == 400);
  FakeExchange head = rig.Get(
      "/events", {{"Cookie", "notifications_stream_token=s3cret"}}, "HEAD");
  CHECK(head.response.status == 200);
  CHECK(head.Field("Content-Type") == "text/event-stream");
  CHECK(head.response.body.get() == nullptr);
  CHECK(rig.metrics.clients_connected == 0);
  // A stream: a slot is held, the session handed to the server.
  FakeExchange ok = rig.Get("/events?access_token=s3cret&service=a&service=b");
  CHECK(ok.session != nullptr);
  CHECK(ok.holds_slot);
  CHECK(rig.metrics.clients_connected == 1);
  CHECK(rig.metrics.streams_opened == 1);
}

TEST_CASE(
    "routes: streams above --max-clients get 200, a long retry, and one log "
    "line per interval") {
  ServerOptions o;
  o.max_clients = 1;
  Rig rig(o);
  FakeExchange first = rig.Get("/events");
  REQUIRE(first.session != nullptr);
  for (int i = 0; i < 100; ++i) {
    FakeExchange full = rig.Get("/events");
    CHECK(full.response.status == 200);
    CHECK(full.Field("Content-Type") == "text/event-stream");
    CHECK(full.body().rfind("retry: ", 0) == 0);
    CHECK(full.body().find(": server full, retry later\n\n") !=
          std::string::npos);
  }
  CHECK(rig.metrics.streams_rejected == 100);
  CHECK(rig.metrics.clients_connected == 1);
  REQUIRE(rig.lines.size() == 1);
  CHECK(rig.lines[0].find("stream refused: 1 clients already connected") !=
        std::string::npos);
  rig.clock.Advance(11s);
  rig.refused.Flush();
  REQUIRE(rig.lines.size() == 2);
  CHECK(rig.lines[1].find("(and 98 more like it since the previous line)") !=
        std::string::npos);
}

class FakeGaps final : public GapSource {
 public:
  Result<std::vector<Notification>> FetchAfter(const std::string& after,
                                               const std::string&,
                                               size_t) override {
    calls.push_back(after);
    return std::vector<Notification>{testing::SampleNotification("5")};
  }
  std::vector<std::string> calls;
};

TEST_CASE(
    "routes: a resume older than the history fetches its gap off the loop") {
  Rig rig;
  FakeGaps gaps;
  rig.gaps = &gaps;
  rig.routes = std::make_unique<BridgeRoutes>(
      rig.options, rig.hub, &gaps, rig.metrics, *rig.files,
      [] { return UpstreamState{}; }, nullptr, rig.refused);
  rig.hub.Publish({testing::SampleNotification("10")});
  FakeExchange ex = rig.Get("/events", {{"Last-Event-ID", "3"}});
  // Nothing fetched on the handler's thread: the work is handed over.
  REQUIRE(ex.blocked_work);
  CHECK(gaps.calls.empty());
  HttpExchange::Continuation next = ex.blocked_work();
  CHECK(gaps.calls == std::vector<std::string>{"3"});
  FakeExchange done("/events");
  next(done);
  REQUIRE(done.session != nullptr);
  SseOutput out;
  CHECK(done.session->Produce(SIZE_MAX, &out));
  std::string opening = out.ToString();
  CHECK(opening.find("id: 5\n") != std::string::npos);
  CHECK(opening.find("id: 10\n") != std::string::npos);
  // Abandoned (the server stops): the stream ends at once, no reset.
  FakeExchange again = rig.Get("/events", {{"Last-Event-ID", "3"}});
  FakeExchange cancelled("/events");
  again.cancel(cancelled);
  REQUIRE(cancelled.session != nullptr);
  CHECK(cancelled.session->ended());
  out.Clear();
  CHECK(cancelled.session->Produce(SIZE_MAX, &out));
  CHECK(out.ToString().find("event: reset") == std::string::npos);
}

}  // namespace
}  // namespace notifications

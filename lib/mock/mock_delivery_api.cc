#include "mock_delivery_api.h"

#include <httplib.h>
#include <strings.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "constant_time.h"
#include "mock_generator.h"
#include "mock_http_server.h"
#include "mock_page.h"
#include "notification_json.h"
#include "notification_parser.h"

namespace notifications {
namespace {

constexpr char kJson[] = "application/json";

// httplib routes are regular expressions; the base path is validated to
// [A-Za-z0-9._~/-], of which only '.' means something there.
std::string RegexEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '.') out += '\\';
    out += c;
  }
  return out;
}

void SetError(httplib::Response& res, int status, const std::string& code,
              const std::string& message) {
  res.status = status;
  res.set_content(ErrorToJson(code, message), kJson);
}

Result<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Status::InvalidArgument("cannot open fixtures file " + path + ": " +
                                   std::strerror(errno));
  }
  std::ostringstream content;
  content << in.rdbuf();
  if (in.bad()) {
    return Status::InvalidArgument("cannot read fixtures file " + path);
  }
  return content.str();
}

}  // namespace

struct MockDeliveryApi::Impl {
  Impl(MockApiOptions o, Clock& c, Logger& l)
      : options(std::move(o)),
        clock(c),
        logger(l),
        store(options.retention, clock, StartPrefix(clock)),
        faults(options.faults, clock),
        server(options.max_connections, options.request_head_timeout) {}

  static std::string StartPrefix(Clock& clock) {
    char buf[24];
    snprintf(buf, sizeof buf, "%010" PRId64, clock.WallMillis() / 1000);
    return buf;
  }

  bool Authorized(const httplib::Request& req, httplib::Response& res) const;
  void HandleStatus(const httplib::Request& req, httplib::Response& res);
  void HandleNotifications(const httplib::Request& req, httplib::Response& res);
  void HandleFaults(const httplib::Request& req, httplib::Response& res);
  // Counts and logs an injected fault.
  void CountFault(MockFault fault, const httplib::Request& req,
                  const std::string& detail);
  // Answers a fault that needs no page (5xx, gone): true when answered.
  bool AnswerFaultWithoutPage(MockFault fault, const httplib::Request& req,
                              const MockPageRequest& page_request,
                              httplib::Response& res);
  // The page of `request`, held up to its `wait` while it would be empty.
  NotificationStore::Page Query(const MockPageRequest& request,
                                size_t overlap) const;
  // Answers the page `body` through `res` with `fault` (reserve, truncate,
  // garbage, close, slow).
  void AnswerFaultyPage(MockFault fault, const httplib::Request& req,
                        const MockPageRequest& page_request,
                        const NotificationStore::Page& page, std::string body,
                        httplib::Response& res);
  // Answers `body` through `res` with the fault `fault` (close, slow) that
  // needs a content provider.
  void ProvideFaulty(MockFault fault, std::string body, httplib::Response& res);
  void HandleGate(const httplib::Request& req, httplib::Response& res,
                  const httplib::ContentReader& content_reader);
  void InstallRoutes();
  Status LoadFixtures();
  Status Bind();

  const MockApiOptions options;
  Clock& clock;
  Logger& logger;
  NotificationStore store;
  MockFaultInjector faults;
  MockHttpServer server;
  std::atomic<int> bound_port{0};
  std::atomic<bool> listen_returned{false};

  std::mutex lifecycle_mu;
  // guarded by lifecycle_mu:
  bool started = false;
  bool stopped = false;
  std::thread listen_thread;
  std::unique_ptr<MockGenerator> generator;
};

void MockDeliveryApi::Impl::CountFault(MockFault fault,
                                       const httplib::Request& req,
                                       const std::string& detail) {
  faults.Count(fault);
  logger.Info(std::string("fault: ") + MockFaultName(fault) +
              " injected into " + Quote(req.target) +
              (detail.empty() ? "" : " (" + detail + ")"));
}

void MockDeliveryApi::Impl::ProvideFaulty(MockFault fault, std::string body,
                                          httplib::Response& res) {
  const size_t size = body.size();
  auto shared = std::make_shared<const std::string>(std::move(body));
  if (fault == MockFault::kClose) {
    // The full Content-Length, then part of the body: returning false from
    // the provider makes httplib close the connection right there, which
    // the caller sees as a body cut short (curl: "transfer closed with N
    // bytes remaining to read").
    const size_t part = faults.Uniform(1, size - 1);
    res.set_content_provider(
        size, kJson,
        [shared, part](size_t offset, size_t, httplib::DataSink& sink) {
          if (offset < part) sink.write(shared->data() + offset, part - offset);
          return false;
        });
    return;
  }
  // kSlow: the page in pieces, one every kDripInterval, over about
  // options.faults.slow in all.
  const size_t ticks = std::max<size_t>(
      1, static_cast<size_t>(options.faults.slow / kDripInterval));
  const size_t piece = std::max<size_t>(1, (size + ticks - 1) / ticks);
  res.set_content_provider(size, kJson,
                           [this, shared, piece](size_t offset, size_t length,
                                                 httplib::DataSink& sink) {
                             if (offset > 0 && !faults.Hold(kDripInterval))
                               return false;
                             return sink.write(shared->data() + offset,
                                               std::min(piece, length));
                           });
}

bool MockDeliveryApi::Impl::Authorized(const httplib::Request& req,
                                       httplib::Response& res) const {
  if (options.token.empty()) return true;
  static constexpr char kScheme[] = "Bearer ";
  constexpr size_t kSchemeLen = sizeof kScheme - 1;
  std::string message;
  size_t count = req.get_header_value_count("Authorization");
  if (count == 0) {
    message = "this API requires a token: send Authorization: Bearer <token>";
  } else if (count > 1) {
    message = "send a single Authorization header";
  } else {
    std::string value = req.get_header_value("Authorization");
    if (value.size() > kSchemeLen &&
        strncasecmp(value.c_str(), kScheme, kSchemeLen) == 0 &&
        ConstantTimeEquals(std::string_view(value).substr(kSchemeLen),
                           options.token)) {
      return true;
    }
    message =
        "wrong token: send Authorization: Bearer <token> with the "
        "token the API was started with";
  }
  res.set_header("WWW-Authenticate", "Bearer realm=\"notifications-mock-api\"");
  SetError(res, 401, "unauthorized", message);
  return false;
}

void MockDeliveryApi::Impl::HandleStatus(const httplib::Request&,
                                         httplib::Response& res) {
  res.set_content("ALIVE", "text/plain");
}

bool MockDeliveryApi::Impl::AnswerFaultWithoutPage(
    MockFault fault, const httplib::Request& req,
    const MockPageRequest& page_request, httplib::Response& res) {
  if (fault == MockFault::k5xx) {
    const InjectedServerError& e = kInjectedServerErrors[faults.Uniform(
        0, std::size(kInjectedServerErrors) - 1)];
    CountFault(fault, req, std::to_string(e.status));
    SetError(res, e.status, e.code,
             std::string("injected fault: ") + e.what +
                 " (notifications-mock-api --fault-5xx); retry later");
    return true;
  }
  if (fault == MockFault::kGone && page_request.after) {
    CountFault(fault, req, "");
    SetError(res, 410, "gone",
             "cursor " + *page_request.after +
                 " is no longer retained (injected fault: "
                 "notifications-mock-api --fault-gone); restart without "
                 "after");
    return true;
  }
  return false;
}

NotificationStore::Page MockDeliveryApi::Impl::Query(
    const MockPageRequest& request, size_t overlap) const {
  NotificationStore::Page page =
      store.Query(request.after, request.limit, overlap);
  if (!page.gone && page.items.empty() && request.wait.count() > 0) {
    // Nothing newer yet: answer as soon as something arrives.
    if (store.WaitForNewer(page.cursor, request.wait)) {
      page = store.Query(request.after, request.limit, overlap);
    }
  }
  return page;
}

void MockDeliveryApi::Impl::HandleNotifications(const httplib::Request& req,
                                                httplib::Response& res) {
  if (!Authorized(req, res)) return;
  Result<MockPageRequest> parsed = ParsePageRequest(
      req.target, req.params, options.default_limit, options.max_limit);
  if (!parsed.ok()) {
    SetError(res, 400, "bad_request", parsed.status().message());
    return;
  }
  const MockPageRequest& request = *parsed;
  std::optional<MockFault> fault = faults.Draw();
  if (fault && AnswerFaultWithoutPage(*fault, req, request, res)) return;
  if (fault == MockFault::kGone) fault.reset();  // Nothing to forget.
  if (fault == MockFault::kDelay) {
    CountFault(*fault, req,
               "held " + std::to_string(options.faults.delay.count()) + " ms");
    // Then a normal answer, with what the store holds by then: a caller
    // patient enough gets a valid page.
    faults.Hold(options.faults.delay);
    fault.reset();
  }
  size_t overlap = static_cast<size_t>(options.overlap);
  if (fault == MockFault::kReserve) overlap = faults.Uniform(1, request.limit);
  NotificationStore::Page page = Query(request, overlap);
  if (page.gone) {
    SetError(res, 410, "gone",
             "cursor " + *request.after +
                 " is no longer retained; restart without after");
    return;
  }
  std::string body = PageToJson(page.items, page.cursor, page.more);
  if (!fault) {
    res.set_content(body, kJson);
    return;
  }
  AnswerFaultyPage(*fault, req, request, page, std::move(body), res);
}

void MockDeliveryApi::Impl::AnswerFaultyPage(
    MockFault fault, const httplib::Request& req,
    const MockPageRequest& page_request, const NotificationStore::Page& page,
    std::string body, httplib::Response& res) {
  switch (fault) {
    case MockFault::kReserve:
      // Counted only when the page does re-serve something: it needs a new
      // item and an `after` to re-serve from.
      if (page_request.after && !page.items.empty() &&
          CompareIds(page.items.front().id, *page_request.after) <= 0) {
        CountFault(fault, req, "from " + page.items.front().id);
      }
      res.set_content(body, kJson);
      return;
    case MockFault::kTruncate: {
      // A proper prefix of a JSON object is never valid JSON.
      size_t cut = faults.Uniform(1, body.size() - 1);
      CountFault(fault, req,
                 std::to_string(cut) + " of " + std::to_string(body.size()) +
                     " bytes");
      body.resize(cut);
      res.set_content(body, kJson);
      return;
    }
    case MockFault::kGarbage:
      CountFault(fault, req, "");
      res.set_content(kGarbageHtml, "text/html");
      return;
    case MockFault::kClose:
    case MockFault::kSlow:
      CountFault(fault, req, std::to_string(body.size()) + " bytes");
      ProvideFaulty(fault, std::move(body), res);
      return;
    case MockFault::k5xx:
    case MockFault::kGone:
    case MockFault::kDelay:
      break;  // Answered before the page.
  }
  res.set_content(body, kJson);
}

void MockDeliveryApi::Impl::HandleFaults(const httplib::Request& req,
                                         httplib::Response& res) {
  if (!Authorized(req, res)) return;
  if (req.method == "DELETE" && faults.StopInjecting()) {
    logger.Info("fault: injection stopped by DELETE " + Quote(req.path));
  }
  res.set_content(FaultCountsToJson(faults.counts()), kJson);
}

void MockDeliveryApi::Impl::HandleGate(
    const httplib::Request& req, httplib::Response& res,
    const httplib::ContentReader& content_reader) {
  // The body is read through a reader because httplib applies
  // set_payload_max_length to Content-Length bodies only: a chunked one
  // would otherwise be buffered whole, however large.
  std::string body;
  bool too_large = false;
  bool complete = content_reader([&](const char* data, size_t length) {
    if (body.size() + length > kMockMaxPayloadBytes) {
      too_large = true;
      return false;
    }
    body.append(data, length);
    return true;
  });
  if (too_large || res.status == 413) {
    // The rest of the body is still on the connection: it cannot be reused.
    res.set_header("Connection", "close");
    SetError(res, 413, "payload_too_large",
             "request body larger than " +
                 std::to_string(kMockMaxPayloadBytes) + " bytes");
    return;
  }
  if (!complete) {
    res.set_header("Connection", "close");
    SetError(res, 400, "bad_request", "could not read the request body");
    return;
  }
  if (!Authorized(req, res)) return;
  const std::string project = req.matches[1];
  Result<Notification> parsed = ParseGateNotification(body, project);
  if (!parsed.ok()) {
    SetError(res, 400, "bad_request", parsed.status().message());
    return;
  }
  Notification stored = store.Append(std::move(parsed).value());
  logger.Info("accepted " + stored.id + " " + stored.RoutingKey() +
              " from the gate");
  res.set_content(GateAnswerToJson(stored), kJson);
}

void MockDeliveryApi::Impl::InstallRoutes() {
  const std::string base = RegexEscape(options.base_path);
  server.Get(base + "/status",
             [this](const httplib::Request& req, httplib::Response& res) {
               HandleStatus(req, res);
             });
  server.Get(base + "/notifications",
             [this](const httplib::Request& req, httplib::Response& res) {
               HandleNotifications(req, res);
             });
  server.Get(base + "/faults",
             [this](const httplib::Request& req, httplib::Response& res) {
               HandleFaults(req, res);
             });
  server.Delete(base + "/faults",
                [this](const httplib::Request& req, httplib::Response& res) {
                  HandleFaults(req, res);
                });
  server.Post("/gate/Notification/([^/]+)",
              [this](const httplib::Request& req, httplib::Response& res,
                     const httplib::ContentReader& content_reader) {
                HandleGate(req, res, content_reader);
              });

  // Called for every answer >= 400, ours included: those already have a
  // body; httplib's own (404, 413, 400 on a malformed request) get the
  // contract's JSON error body here.
  server.set_error_handler(httplib::Server::HandlerWithResponse(
      [this](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty())
          return httplib::Server::HandlerResponse::Unhandled;
        std::string message;
        if (res.status == 404) {
          message =
              "no route for " + req.method + " " + Quote(req.path) +
              "; the delivery API is GET " + options.base_path +
              "/status and GET " + options.base_path +
              "/notifications, the gate POST /gate/Notification/{project}";
        } else if (res.status == 413) {
          message = "request body larger than " +
                    std::to_string(kMockMaxPayloadBytes) + " bytes";
        } else {
          message = std::string("HTTP ") + std::to_string(res.status);
        }
        res.set_content(ErrorToJson(ErrorCodeFor(res.status), message), kJson);
        return httplib::Server::HandlerResponse::Handled;
      }));
  server.set_exception_handler([this](const httplib::Request& req,
                                      httplib::Response& res,
                                      std::exception_ptr ep) {
    std::string what = "unknown exception";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    logger.Error("mock API: " + req.method + " " + Quote(req.path) +
                 " failed: " + what);
    SetError(res, 500, "internal", "internal error: " + what);
  });
  server.set_logger(
      [this](const httplib::Request& req, const httplib::Response& res) {
        if (!logger.Enabled(LogLevel::kDebug)) return;
        logger.Debug("mock API: " + req.remote_addr + " " + req.method + " " +
                     Quote(req.target) + " -> " + std::to_string(res.status) +
                     " (" + std::to_string(res.body.size()) + " bytes)");
      });
}

Status MockDeliveryApi::Impl::LoadFixtures() {
  if (options.fixtures_path.empty()) return Status::Ok();
  Result<std::string> text = ReadWholeFile(options.fixtures_path);
  if (!text.ok()) return text.status();
  Result<std::vector<Notification>> items = ParseNotificationArray(*text);
  if (!items.ok()) {
    return Status::InvalidArgument("fixtures file " + options.fixtures_path +
                                   ": " + items.status().message());
  }
  for (const Notification& n : *items) store.Append(n);
  logger.Info("loaded " + std::to_string(items->size()) +
              " notifications from fixtures file " + options.fixtures_path);
  return Status::Ok();
}

Status MockDeliveryApi::Impl::Bind() {
  server.set_payload_max_length(kMockMaxPayloadBytes);
  errno = 0;
  int port = options.port;
  bool ok;
  if (port == 0) {
    port = server.bind_to_any_port(options.host);
    ok = port > 0;
  } else {
    ok = server.bind_to_port(options.host, port);
  }
  if (!ok) {
    int err = errno;
    std::string why =
        err != 0 ? std::strerror(err) : "cannot resolve the host or bind to it";
    return Status::Unavailable(
        "cannot listen on " + options.host + ":" +
        std::to_string(options.port) + ": " + why +
        (err == EADDRINUSE ? " (another process uses this port: stop it, or "
                             "choose another with --port, 0 for any free one)"
                           : ""));
  }
  server.DeepenBacklog();
  bound_port = port;
  return Status::Ok();
}

MockDeliveryApi::MockDeliveryApi(MockApiOptions options, Clock& clock,
                                 Logger& logger)
    : impl_(std::make_unique<Impl>(std::move(options), clock, logger)) {}

MockDeliveryApi::~MockDeliveryApi() { Stop(); }

Status MockDeliveryApi::Start() {
  Impl& d = *impl_;
  std::lock_guard<std::mutex> lock(d.lifecycle_mu);
  if (d.started || d.stopped) {
    return Status::Error(Status::Code::kInternal,
                         "MockDeliveryApi::Start may be called once, before "
                         "Stop");
  }
  d.started = true;
  Status valid = ValidateMockApiOptions(d.options);
  if (!valid.ok()) return valid;
  Status fixtures = d.LoadFixtures();
  if (!fixtures.ok()) return fixtures;
  d.InstallRoutes();
  Status bound = d.Bind();
  if (!bound.ok()) return bound;

  d.listen_thread = std::thread([&d] {
    if (!d.server.listen_after_bind()) {
      d.logger.Error("mock API: the server stopped accepting connections");
    }
    d.listen_returned = true;
  });
  // Server::stop() is a no-op until the accept loop runs: wait for it so
  // that a Stop() right after Start() cannot be lost.
  while (!d.server.is_running() && !d.listen_returned) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (d.options.faults.Total() > 0) {
    std::string rates;
    for (size_t i = 0; i < kMockFaultKinds; ++i) {
      if (d.options.faults.rates[i] <= 0) continue;
      char buf[48];
      snprintf(buf, sizeof buf, " %s %.4g",
               MockFaultName(static_cast<MockFault>(i)),
               d.options.faults.rates[i]);
      rates += buf;
    }
    d.logger.Warn("mock API: injecting faults into " + d.options.base_path +
                  "/notifications, per request:" + rates + " (counts at GET " +
                  d.options.base_path + "/faults)");
  }
  if (d.options.generate_rate > 0) {
    d.generator = std::make_unique<MockGenerator>(d.options.generate_rate,
                                                  d.store, d.clock, d.logger);
    d.generator->Start();
  }
  d.logger.Info("mock API listening on " + d.options.host + ":" +
                std::to_string(d.bound_port.load()) + d.options.base_path);
  return Status::Ok();
}

int MockDeliveryApi::port() const { return impl_->bound_port.load(); }

void MockDeliveryApi::Stop() {
  Impl& d = *impl_;
  std::lock_guard<std::mutex> lock(d.lifecycle_mu);
  d.stopped = true;
  if (d.generator) d.generator->Stop();
  // Before server.stop(), which waits for the requests in flight: those
  // held by a delay or slow fault must let go at once, long-polls too.
  d.faults.Stop();
  d.store.Shutdown();
  if (d.listen_thread.joinable()) {
    d.server.stop();
    d.listen_thread.join();
  }
  d.server.Drain();  // Waits for the connections in flight.
}

NotificationStore& MockDeliveryApi::store() { return impl_->store; }

void MockDeliveryApi::StopFaults() { (void)impl_->faults.StopInjecting(); }

MockFaultCounts MockDeliveryApi::fault_counts() const {
  return impl_->faults.counts();
}

const MockApiOptions& MockDeliveryApi::options() const {
  return impl_->options;
}

}  // namespace notifications

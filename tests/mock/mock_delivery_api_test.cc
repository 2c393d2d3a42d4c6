#include "mock_delivery_api.h"

#include <curl/curl.h>
#include <doctest/doctest.h>
#include <httplib.h>
#include <rapidjson/document.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "clock.h"
#include "logger.h"
#include "mock_config.h"
#include "mock_generator.h"
#include "notification_json.h"
#include "notification_parser.h"
#include "temp_file.h"
#include "test_support.h"

namespace notifications {
namespace {

// A mock on 127.0.0.1 and a free port, with a client pointed at it.
struct RunningMock {
  explicit RunningMock(
      MockApiOptions options, LogLevel level = LogLevel::kOff,
      Logger::Sink sink = [](const std::string&) {})
      : logger(level, std::move(sink)),
        api(WithFreePort(options), clock, logger) {
    Status started = api.Start();
    REQUIRE_MESSAGE(started.ok(), started.message());
    client = std::make_unique<httplib::Client>("127.0.0.1", api.port());
    client->set_connection_timeout(5);
    client->set_read_timeout(5);
  }

  static MockApiOptions WithFreePort(MockApiOptions options) {
    options.host = "127.0.0.1";
    options.port = 0;
    return options;
  }

  httplib::Result Get(const std::string& path,
                      const httplib::Headers& headers = {}) {
    return client->Get(path.c_str(), headers);
  }

  void AppendMany(int count) {
    for (int i = 0; i < count; ++i)
      api.store().Append(SyntheticNotification(static_cast<uint64_t>(i)));
  }

  SystemClock clock;
  Logger logger;
  MockDeliveryApi api;
  std::unique_ptr<httplib::Client> client;
};

// "<error>: <message>" of an error body, after checking its status and type.
std::string ErrorOf(const httplib::Result& res, int status) {
  REQUIRE(res);
  CHECK(res->status == status);
  CHECK(res->get_header_value("Content-Type") == "application/json");
  return ParseErrorBody(res->body);
}

Page PageOf(const httplib::Result& res) {
  REQUIRE(res);
  REQUIRE_MESSAGE(res->status == 200, res->body);
  CHECK(res->get_header_value("Content-Type") == "application/json");
  Result<Page> page = ParsePage(res->body);
  REQUIRE_MESSAGE(page.ok(), page.status().message());
  return *page;
}

std::string StringMember(const std::string& json, const char* name) {
  rapidjson::Document doc;
  doc.Parse(json.c_str(), json.size());
  if (doc.HasParseError() || !doc.IsObject()) return "<not an object>";
  auto it = doc.FindMember(name);
  if (it == doc.MemberEnd() || !it->value.IsString()) return "<missing>";
  return it->value.GetString();
}

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

using testing::TempFile;

const char kGateBody[] =
    R"({"service":"GitHub","project":"Nasqueron","group":"ops",)"
    R"("type":"push","text":"dereckson pushed 2 commits to rOPS operations",)"
    R"("link":"https:\/\/github.com\/nasqueron\/operations","rawContent":)"
    R"({"ref":"refs\/heads\/main"}})";

}  // namespace

TEST_CASE("mock status answers ALIVE as text/plain") {
  RunningMock mock({});
  httplib::Result res = mock.Get("/delivery/status");
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->body == "ALIVE");
  CHECK(res->get_header_value("Content-Type") == "text/plain");
}

TEST_CASE("mock answers an empty page with an empty cursor when empty") {
  RunningMock mock({});
  httplib::Result res = mock.Get("/delivery/notifications");
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->body == R"({"notifications":[],"cursor":"","more":false})");
}

TEST_CASE("mock pages through 250 notifications by 100 with more flags") {
  RunningMock mock({});
  mock.AppendMany(250);

  Page first = PageOf(mock.Get("/delivery/notifications?limit=100"));
  CHECK(first.notifications.size() == 100);
  CHECK(first.more);
  CHECK(first.notifications.front().id ==
        mock.api.store().id_prefix() + "-0000000001");
  Page second = PageOf(
      mock.Get("/delivery/notifications?limit=100&after=" + first.cursor));
  CHECK(second.notifications.size() == 100);
  CHECK(second.more);
  CHECK(CompareIds(first.cursor, second.notifications.front().id) < 0);
  Page third = PageOf(mock.Get(
      "/delivery/notifications?after=" + second.cursor + "&limit=100"));
  CHECK(third.notifications.size() == 50);
  CHECK_FALSE(third.more);
  CHECK(third.cursor == mock.api.store().NewestId());

  Page caught_up =
      PageOf(mock.Get("/delivery/notifications?after=" + third.cursor));
  CHECK(caught_up.notifications.empty());
  CHECK(caught_up.cursor == third.cursor);
  CHECK_FALSE(caught_up.more);

  std::set<std::string> ids;
  for (const Page* page : {&first, &second, &third}) {
    for (const Notification& n : page->notifications) ids.insert(n.id);
  }
  CHECK(ids.size() == 250);
}

TEST_CASE("mock pages carry every field, rawContent included") {
  RunningMock mock({});
  mock.AppendMany(1);
  Page page = PageOf(mock.Get("/delivery/notifications"));
  REQUIRE(page.notifications.size() == 1);
  const Notification& n = page.notifications[0];
  Notification expected = SyntheticNotification(0);
  CHECK(n.service == expected.service);
  CHECK(n.project == expected.project);
  CHECK(n.group == expected.group);
  CHECK(n.type == expected.type);
  CHECK(n.text == expected.text);
  CHECK(n.link == expected.link);
  CHECK(n.raw_content == expected.raw_content);
  CHECK(n.time.size() == 24);  // 2026-11-28T12:00:00.123Z
}

TEST_CASE("mock uses the default limit of 100 without limit") {
  RunningMock mock({});
  mock.AppendMany(150);
  Page page = PageOf(mock.Get("/delivery/notifications"));
  CHECK(page.notifications.size() == 100);
  CHECK(page.more);
}

TEST_CASE("mock accepts limit 1 and the maximum limit") {
  RunningMock mock({});
  mock.AppendMany(3);
  CHECK(PageOf(mock.Get("/delivery/notifications?limit=1"))
            .notifications.size() == 1);
  CHECK(PageOf(mock.Get("/delivery/notifications?limit=1000"))
            .notifications.size() == 3);
}

TEST_CASE("mock answers 400 bad_request for bad limit, bad after or repeats") {
  RunningMock mock({});
  mock.AppendMany(3);
  std::string first = mock.api.store().id_prefix() + "-0000000001";
  struct Case {
    std::string query;
    std::string mentions;
  };
  const Case cases[] = {
      {"limit=0", "limit"},
      {"limit=abc", "limit"},
      {"limit=5000", "limit"},
      {"limit=", "limit"},
      {"limit=-1", "limit"},
      {"limit=1.5", "limit"},
      {"after=bad!id", "after"},
      {"after=", "after"},
      {"after=" + std::string(129, 'a'), "after"},
      {"after=" + first + "&after=" + first, "after appears 2 times"},
      {"limit=1&limit=2", "limit appears 2 times"},
      {"limit=5&%6Cimit=5", "limit appears 2 times"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.query);
    std::string error =
        ErrorOf(mock.Get("/delivery/notifications?" + c.query), 400);
    CHECK(Contains(error, "bad_request: "));
    CHECK(Contains(error, c.mentions));
  }
}

TEST_CASE("mock ignores unknown parameters") {
  RunningMock mock({});
  mock.AppendMany(2);
  CHECK(PageOf(mock.Get("/delivery/notifications?since=yesterday&limit=5"))
            .notifications.size() == 2);
}

TEST_CASE("mock answers 410 gone for dropped and never-issued cursors") {
  MockApiOptions options;
  options.retention = 3;
  RunningMock mock(options);
  mock.AppendMany(5);
  const std::string prefix = mock.api.store().id_prefix();

  std::string dropped = ErrorOf(
      mock.Get("/delivery/notifications?after=" + prefix + "-0000000001"), 410);
  CHECK(dropped ==
        "gone: cursor " + prefix +
            "-0000000001 is no longer retained; restart without after");
  ErrorOf(mock.Get("/delivery/notifications?after=" + prefix + "-0000000009"),
          410);
  ErrorOf(mock.Get("/delivery/notifications?after=1000000000-0000000004"), 410);
  ErrorOf(mock.Get("/delivery/notifications?after=42"), 410);

  Page restart = PageOf(mock.Get("/delivery/notifications"));
  CHECK(restart.notifications.size() == 3);
  CHECK(restart.notifications.front().id == prefix + "-0000000003");
}

TEST_CASE("mock requires the bearer token when one is configured") {
  MockApiOptions options;
  options.token = "s3cret-token";
  RunningMock mock(options);
  mock.AppendMany(1);

  httplib::Result missing = mock.Get("/delivery/notifications");
  CHECK(Contains(ErrorOf(missing, 401), "unauthorized: "));
  CHECK(missing->get_header_value("WWW-Authenticate") ==
        "Bearer realm=\"notifications-mock-api\"");
  ErrorOf(mock.Get("/delivery/notifications",
                   {{"Authorization", "Bearer wrong-token!"}}),
          401);
  ErrorOf(mock.Get("/delivery/notifications",
                   {{"Authorization", "Bearer s3cret-toke"}}),
          401);
  ErrorOf(mock.Get("/delivery/notifications",
                   {{"Authorization", "Basic s3cret-token"}}),
          401);
  ErrorOf(mock.Get("/delivery/notifications",
                   {{"Authorization", "Bearer s3cret-token"},
                    {"Authorization", "Bearer s3cret-token"}}),
          401);
  CHECK(PageOf(mock.Get("/delivery/notifications",
                        {{"Authorization", "Bearer s3cret-token"}}))
            .notifications.size() == 1);
  // The scheme is case-insensitive (RFC 9110), the token is not.
  PageOf(mock.Get("/delivery/notifications",
                  {{"Authorization", "bearer s3cret-token"}}));

  // The health check stays open.
  httplib::Result status = mock.Get("/delivery/status");
  REQUIRE(status);
  CHECK(status->status == 200);

  // The gate is protected too.
  httplib::Result gate = mock.client->Post("/gate/Notification/Nasqueron",
                                           kGateBody, "application/json");
  ErrorOf(gate, 401);
  CHECK(mock.api.store().Size() == 1);
  httplib::Result allowed = mock.client->Post(
      "/gate/Notification/Nasqueron",
      httplib::Headers{{"Authorization", "Bearer s3cret-token"}}, kGateBody,
      "application/json");
  REQUIRE(allowed);
  CHECK(allowed->status == 200);
}

TEST_CASE("mock without a token ignores Authorization headers") {
  RunningMock mock({});
  PageOf(mock.Get("/delivery/notifications", {{"Authorization", "Bearer x"}}));
}

TEST_CASE("mock gate accepts a notification and answers its id and key") {
  std::vector<std::string> lines;
  std::mutex lines_mu;
  RunningMock mock({}, LogLevel::kDebug, [&](const std::string& line) {
    std::lock_guard<std::mutex> lock(lines_mu);
    lines.push_back(line);
  });
  httplib::Result res = mock.client->Post("/gate/Notification/Nasqueron",
                                          kGateBody, "application/json");
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->get_header_value("Content-Type") == "application/json");
  const std::string id = StringMember(res->body, "id");
  CHECK(id == mock.api.store().id_prefix() + "-0000000001");
  CHECK(StringMember(res->body, "routingKey") == "nasqueron.ops.github.push");
  CHECK(StringMember(res->body, "time").size() == 24);

  Page page = PageOf(mock.Get("/delivery/notifications"));
  REQUIRE(page.notifications.size() == 1);
  CHECK(page.notifications[0].id == id);
  CHECK(page.notifications[0].link ==
        "https://github.com/nasqueron/operations");
  CHECK(page.notifications[0].raw_content == R"({"ref":"refs/heads/main"})");

  std::lock_guard<std::mutex> lock(lines_mu);
  bool accepted_at_info = false;
  bool request_at_debug = false;
  for (const std::string& line : lines) {
    if (Contains(line, " info accepted " + id + " nasqueron.ops.github.push")) {
      accepted_at_info = true;
    }
    if (Contains(line, " debug ") && Contains(line, "POST") &&
        Contains(line, "/gate/Notification/Nasqueron") &&
        Contains(line, "200")) {
      request_at_debug = true;
    }
  }
  CHECK(accepted_at_info);
  CHECK(request_at_debug);
}

TEST_CASE("mock gate takes the project from the path unless the body has one") {
  RunningMock mock({});
  httplib::Result from_path = mock.client->Post(
      "/gate/Notification/Wolfplex",
      R"({"service":"Jenkins","group":"ci","type":"completed.success",)"
      R"("text":null,"link":null,"rawContent":null})",
      "application/json");
  REQUIRE(from_path);
  CHECK(from_path->status == 200);
  CHECK(StringMember(from_path->body, "routingKey") ==
        "wolfplex.ci.jenkins.completed.success");
  httplib::Result from_body = mock.client->Post("/gate/Notification/Wolfplex",
                                                kGateBody, "application/json");
  REQUIRE(from_body);
  CHECK(StringMember(from_body->body, "routingKey") ==
        "nasqueron.ops.github.push");

  Page page = PageOf(mock.Get("/delivery/notifications"));
  REQUIRE(page.notifications.size() == 2);
  CHECK_FALSE(page.notifications[0].text.has_value());
  CHECK_FALSE(page.notifications[0].raw_content.has_value());
}

TEST_CASE("mock gate rejects bad bodies with 400 naming the problem") {
  RunningMock mock({});
  struct Case {
    std::string body;
    std::string mentions;
  };
  const Case cases[] = {
      {"", "JSON"},
      {"{\"service\":", "JSON"},
      {"[]", "object"},
      {R"({"group":"ops","type":"push"})", "service"},
      {R"({"service":"GitHub","group":"ops"})", "type"},
      {R"({"service":"GitHub","group":"ops","type":42})", "type"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.body);
    std::string error =
        ErrorOf(mock.client->Post("/gate/Notification/Nasqueron", c.body,
                                  "application/json"),
                400);
    CHECK(Contains(error, "bad_request: "));
    CHECK(Contains(error, c.mentions));
  }
  CHECK(mock.api.store().Size() == 0);
}

TEST_CASE("mock gate answers 413 above 1 MiB") {
  RunningMock mock({});
  std::string body = std::string(R"({"service":"GitHub","group":"ops",)") +
                     R"("type":"push","text":")" +
                     std::string(kMockMaxPayloadBytes, 'x') + "\"}";
  std::string error = ErrorOf(mock.client->Post("/gate/Notification/Nasqueron",
                                                body, "application/json"),
                              413);
  CHECK(Contains(error, "payload_too_large: "));
  CHECK(mock.api.store().Size() == 0);
}

TEST_CASE("mock gate answers 413 to a chunked body above 1 MiB") {
  RunningMock mock({});
  const std::string piece(64 * 1024, 'x');
  size_t sent = 0;
  httplib::Result res = mock.client->Post(
      "/gate/Notification/Nasqueron",
      [&](size_t, httplib::DataSink& sink) {
        if (sent >= 2 * kMockMaxPayloadBytes) {
          sink.done();
          return true;
        }
        sent += piece.size();
        return sink.write(piece.data(), piece.size());
      },
      "application/json");
  // The server answers as soon as the limit is crossed; depending on timing
  // the client sees the answer or a closed connection.
  if (res) {
    CHECK(Contains(ErrorOf(res, 413), "payload_too_large: "));
  }
  CHECK(mock.api.store().Size() == 0);
  httplib::Result status = mock.Get("/delivery/status");
  REQUIRE(status);
  CHECK(status->status == 200);
}

TEST_CASE("mock answers 404 with a JSON body for unknown routes") {
  RunningMock mock({});
  CHECK(Contains(ErrorOf(mock.Get("/nope"), 404), "not_found: "));
  ErrorOf(mock.Get("/delivery"), 404);
  ErrorOf(mock.Get("/delivery/notifications/extra"), 404);
  ErrorOf(mock.Get("/gate/Notification/Nasqueron"), 404);
  ErrorOf(
      mock.client->Post("/delivery/notifications", "{}", "application/json"),
      404);
}

TEST_CASE(
    "mock serves its routes under another base path, even the empty one") {
  MockApiOptions dotted;
  dotted.base_path = "/api/v1.0";
  RunningMock mock(dotted);
  httplib::Result status = mock.Get("/api/v1.0/status");
  REQUIRE(status);
  CHECK(status->body == "ALIVE");
  PageOf(mock.Get("/api/v1.0/notifications"));
  ErrorOf(mock.Get("/api/v1x0/status"), 404);  // '.' is not a wildcard
  ErrorOf(mock.Get("/delivery/status"), 404);

  MockApiOptions root;
  root.base_path = "";
  RunningMock at_root(root);
  httplib::Result root_status = at_root.Get("/status");
  REQUIRE(root_status);
  CHECK(root_status->body == "ALIVE");
  PageOf(at_root.Get("/notifications"));
}

TEST_CASE("mock overlap re-serves delivered items at the start of a page") {
  MockApiOptions options;
  options.overlap = 2;
  RunningMock mock(options);
  mock.AppendMany(10);
  const std::string prefix = mock.api.store().id_prefix();
  Page page = PageOf(mock.Get(
      "/delivery/notifications?limit=3&after=" + prefix + "-0000000005"));
  REQUIRE(page.notifications.size() == 3);
  CHECK(page.notifications[0].id == prefix + "-0000000004");
  CHECK(page.notifications[1].id == prefix + "-0000000005");
  CHECK(page.notifications[2].id == prefix + "-0000000006");
  CHECK(page.cursor == prefix + "-0000000006");
  CHECK(page.more);

  // Caught up: nothing new, so nothing re-served either.
  Page empty = PageOf(
      mock.Get("/delivery/notifications?after=" + prefix + "-0000000010"));
  CHECK(empty.notifications.empty());
}

TEST_CASE("mock loads the fixtures file at start") {
  MockApiOptions options;
  options.fixtures_path = std::string(NB_FIXTURES_DIR) + "/notifications.json";
  RunningMock mock(options);
  CHECK(mock.api.store().Size() == 12);
  Page page = PageOf(mock.Get("/delivery/notifications"));
  REQUIRE(page.notifications.size() == 12);
  bool saw_unicode = false, saw_nulls = false, saw_empty_group = false,
       saw_empty_link = false;
  for (const Notification& n : page.notifications) {
    CHECK(n.service.has_value());
    CHECK(n.project.has_value());
    if (n.text ==
        "D\xC3\xA9ploiement r\xC3\xA9ussi \xE2\x9C\x93 "
        "infra.nasqueron.org \xF0\x9F\x9A\x80") {
      saw_unicode = true;
    }
    if (!n.text && !n.link && !n.raw_content) saw_nulls = true;
    if (n.group == "") saw_empty_group = true;
    if (n.service == "Phabricator" && n.link == "") saw_empty_link = true;
    if (n.link && !n.link->empty()) {
      CHECK(n.link->rfind("https://", 0) == 0);  // PHP's \/ decoded
    }
  }
  CHECK(saw_unicode);
  CHECK(saw_nulls);
  CHECK(saw_empty_group);
  CHECK(saw_empty_link);
}

TEST_CASE(
    "mock fails to start on a bad fixtures file, naming path and problem") {
  SystemClock clock;
  Logger logger(LogLevel::kOff);

  MockApiOptions missing;
  missing.port = 0;
  missing.fixtures_path = "/nonexistent/fixtures.json";
  MockDeliveryApi missing_api(missing, clock, logger);
  Status status = missing_api.Start();
  CHECK(status.code() == Status::Code::kInvalidArgument);
  CHECK(Contains(status.message(), "/nonexistent/fixtures.json"));
  CHECK(Contains(status.message(), "No such file"));
  CHECK(missing_api.port() == 0);

  TempFile bad(R"([{"service":"GitHub","group":"ops","type":"push"}])");
  MockApiOptions invalid;
  invalid.port = 0;
  invalid.fixtures_path = bad.path;
  MockDeliveryApi invalid_api(invalid, clock, logger);
  Status invalid_status = invalid_api.Start();
  CHECK(invalid_status.code() == Status::Code::kInvalidArgument);
  CHECK(Contains(invalid_status.message(), bad.path));
  CHECK(Contains(invalid_status.message(), "item 0"));
  CHECK(Contains(invalid_status.message(), "project"));

  TempFile truncated("[{\"service\":");
  MockApiOptions broken;
  broken.port = 0;
  broken.fixtures_path = truncated.path;
  MockDeliveryApi broken_api(broken, clock, logger);
  Status broken_status = broken_api.Start();
  CHECK_FALSE(broken_status.ok());
  CHECK(Contains(broken_status.message(), truncated.path));
}

TEST_CASE("mock generator appends synthetic notifications at about its rate") {
  MockApiOptions options;
  options.generate_rate = 50;
  RunningMock mock(options);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  mock.api.Stop();
  size_t generated = mock.api.store().Size();
  CHECK(generated >= 5);
  CHECK(generated <= 50);
  // Stopped means stopped.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(mock.api.store().Size() == generated);
}

TEST_CASE("mock stop does not wait out a slow generator's interval") {
  MockApiOptions options;
  options.generate_rate = 0.1;  // one every 10 s
  RunningMock mock(options);
  auto begin = std::chrono::steady_clock::now();
  mock.api.Stop();
  CHECK(std::chrono::steady_clock::now() - begin < std::chrono::seconds(2));
  CHECK(mock.api.store().Size() == 0);
}

TEST_CASE("mock start fails clearly when the port is taken") {
  RunningMock first({});
  SystemClock clock;
  Logger logger(LogLevel::kOff);
  MockApiOptions options;
  options.port = first.api.port();
  MockDeliveryApi second(options, clock, logger);
  Status status = second.Start();
  CHECK(status.code() == Status::Code::kUnavailable);
  CHECK(Contains(status.message(),
                 "127.0.0.1:" + std::to_string(first.api.port())));
  CHECK(Contains(status.message(), "in use"));
  CHECK(second.port() == 0);
  second.Stop();
  // The first one still serves.
  httplib::Result res = first.Get("/delivery/status");
  REQUIRE(res);
  CHECK(res->status == 200);
}

TEST_CASE("mock start rejects invalid options") {
  SystemClock clock;
  Logger logger(LogLevel::kOff);
  auto start = [&](MockApiOptions options) {
    MockDeliveryApi api(options, clock, logger);
    return api.Start();
  };
  MockApiOptions base;
  base.port = 0;
  MockApiOptions o = base;
  o.base_path = "/delivery/";
  CHECK(Contains(start(o).message(), "base path"));
  o = base;
  o.base_path = "delivery";
  CHECK_FALSE(start(o).ok());
  o = base;
  o.generate_rate = -1;
  CHECK(Contains(start(o).message(), "generate rate"));
  o = base;
  o.overlap = -1;
  CHECK(Contains(start(o).message(), "overlap"));
  o = base;
  o.token = "with space";
  CHECK(Contains(start(o).message(), "token"));
  o = base;
  o.port = 70000;
  CHECK(Contains(start(o).message(), "port"));
}

TEST_CASE("mock stop is idempotent, start works once, stop closes the port") {
  RunningMock mock({});
  const int port = mock.api.port();
  CHECK(port > 0);
  mock.api.Stop();
  mock.api.Stop();
  CHECK(mock.api.Start().code() == Status::Code::kInternal);
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(1);
  CHECK_FALSE(client.Get("/delivery/status"));

  SystemClock clock;
  Logger logger(LogLevel::kOff);
  MockDeliveryApi never_started(MockApiOptions{}, clock, logger);
  never_started.Stop();
  CHECK(never_started.port() == 0);
}

// --- Fault injection -------------------------------------------------------

namespace {

// What libcurl (the bridge's HTTP library) makes of one GET.
struct CurlOutcome {
  CURLcode code = CURLE_OK;
  int status = 0;
  std::string content_type;
  std::string body;
  double content_length = -1;  // As announced, -1 when none.
  std::chrono::milliseconds took{0};
};

size_t AppendBody(char* data, size_t size, size_t n, void* out) {
  static_cast<std::string*>(out)->append(data, size * n);
  return size * n;
}

CurlOutcome CurlGet(
    int port, const std::string& path,
    std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  CurlOutcome out;
  CURL* curl = curl_easy_init();
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + path;
  curl_easy_setopt(curl, CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(timeout.count()));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, AppendBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &out.body);
  // As the bridge does: any encoding libcurl can decode.
  curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");
  auto start = std::chrono::steady_clock::now();
  out.code = curl_easy_perform(curl);
  out.took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  out.status = static_cast<int>(status);
  char* type = nullptr;
  curl_easy_getinfo(curl, CURLINFO_CONTENT_TYPE, &type);
  if (type) out.content_type = type;
  curl_off_t length = -1;
  curl_easy_getinfo(curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &length);
  out.content_length = static_cast<double>(length);
  curl_easy_cleanup(curl);
  return out;
}

MockApiOptions WithFault(MockFault fault, double rate = 1.0) {
  MockApiOptions options;
  options.faults.rate(fault) = rate;
  options.faults.seed = 7;
  return options;
}

// The page the mock serves without faults for (after, limit), as bytes.
std::string NormalPage(MockDeliveryApi& api, const std::string& after,
                       size_t limit) {
  NotificationStore::Page page = api.store().Query(
      after.empty() ? std::nullopt : std::optional<std::string>(after), limit);
  return PageToJson(page.items, page.cursor, page.more);
}

std::string Id(RunningMock& mock, int seq) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%010d", seq);
  return mock.api.store().id_prefix() + "-" + buf;
}

}  // namespace

TEST_CASE("mock fault 5xx answers 500, 502 or 503 with a JSON error body") {
  RunningMock mock(WithFault(MockFault::k5xx));
  mock.AppendMany(3);
  std::set<int> statuses;
  for (int i = 0; i < 60; ++i) {
    httplib::Result res = mock.Get("/delivery/notifications?limit=2");
    REQUIRE(res);
    statuses.insert(res->status);
    CHECK(res->get_header_value("Content-Type") == "application/json");
    std::string error = ParseErrorBody(res->body);
    CHECK(Contains(error, "injected fault"));
    CHECK((Contains(error, "internal: ") || Contains(error, "bad_gateway: ") ||
           Contains(error, "unavailable: ")));
  }
  CHECK(statuses == std::set<int>{500, 502, 503});
  MockFaultCounts counts = mock.api.fault_counts();
  CHECK(counts.requests == 60);
  CHECK(counts.of(MockFault::k5xx) == 60);
  CHECK(counts.total() == 60);
  // The other routes are never faulted.
  httplib::Result status = mock.Get("/delivery/status");
  REQUIRE(status);
  CHECK(status->status == 200);
  CHECK(!mock.api.store().NewestId().empty());
}

TEST_CASE("mock fault delay holds the request, then answers the normal page") {
  MockApiOptions options = WithFault(MockFault::kDelay);
  options.faults.delay = std::chrono::milliseconds(600);
  RunningMock mock(options);
  mock.AppendMany(3);

  CurlOutcome patient = CurlGet(mock.api.port(), "/delivery/notifications");
  CHECK(patient.code == CURLE_OK);
  CHECK(patient.took >= std::chrono::milliseconds(550));
  CHECK(patient.took < std::chrono::milliseconds(5000));
  CHECK(patient.status == 200);
  CHECK(patient.body == NormalPage(mock.api, "", 100));

  // A caller whose timeout is shorter sees a timeout, as the bridge does.
  CurlOutcome hasty = CurlGet(mock.api.port(), "/delivery/notifications",
                              std::chrono::milliseconds(200));
  CHECK(hasty.code == CURLE_OPERATION_TIMEDOUT);
  CHECK(hasty.took < std::chrono::milliseconds(550));
  CHECK(mock.api.fault_counts().of(MockFault::kDelay) == 2);
}

TEST_CASE("mock stop does not wait out a request held by a delay fault") {
  MockApiOptions options = WithFault(MockFault::kDelay);
  options.faults.delay = std::chrono::seconds(60);
  auto mock = std::make_unique<RunningMock>(options);
  int port = mock->api.port();
  std::thread held([port] { CurlGet(port, "/delivery/notifications"); });
  for (int i = 0;
       i < 500 && mock->api.fault_counts().of(MockFault::kDelay) == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  REQUIRE(mock->api.fault_counts().of(MockFault::kDelay) == 1);
  auto start = std::chrono::steady_clock::now();
  mock->api.Stop();
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
  held.join();
}

TEST_CASE(
    "mock fault close sends part of the body, then closes: a libcurl error") {
  RunningMock mock(WithFault(MockFault::kClose));
  mock.AppendMany(20);
  for (int i = 0; i < 10; ++i) {
    CurlOutcome cut = CurlGet(mock.api.port(), "/delivery/notifications");
    CAPTURE(curl_easy_strerror(cut.code));
    CHECK(cut.code == CURLE_PARTIAL_FILE);
    CHECK(cut.status == 200);
    const std::string full = NormalPage(mock.api, "", 100);
    CHECK(cut.content_length == static_cast<double>(full.size()));
    CHECK(!cut.body.empty());
    CHECK(cut.body.size() < full.size());
    CHECK(full.compare(0, cut.body.size(), cut.body) == 0);
  }
  CHECK(mock.api.fault_counts().of(MockFault::kClose) == 10);
}

TEST_CASE("mock fault truncate answers 200 JSON cut short, framing complete") {
  RunningMock mock(WithFault(MockFault::kTruncate));
  mock.AppendMany(5);
  for (int i = 0; i < 20; ++i) {
    CurlOutcome cut = CurlGet(mock.api.port(), "/delivery/notifications");
    CHECK(cut.code == CURLE_OK);  // The HTTP answer itself is whole.
    CHECK(cut.status == 200);
    CHECK(cut.content_type == "application/json");
    const std::string full = NormalPage(mock.api, "", 100);
    CHECK(!cut.body.empty());
    CHECK(cut.body.size() < full.size());
    CHECK(full.compare(0, cut.body.size(), cut.body) == 0);
    Result<Page> parsed = ParsePage(cut.body);
    CHECK_FALSE(parsed.ok());
  }
  CHECK(mock.api.fault_counts().of(MockFault::kTruncate) == 20);
}

TEST_CASE("mock fault garbage answers 200 text/html that is not JSON") {
  RunningMock mock(WithFault(MockFault::kGarbage));
  mock.AppendMany(2);
  CurlOutcome html = CurlGet(mock.api.port(), "/delivery/notifications");
  CHECK(html.code == CURLE_OK);
  CHECK(html.status == 200);
  CHECK(html.content_type == "text/html");
  CHECK(html.body.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK_FALSE(ParsePage(html.body).ok());
  CHECK(mock.api.fault_counts().of(MockFault::kGarbage) == 1);
}

TEST_CASE(
    "mock fault reserve re-serves delivered items, always with a new one") {
  RunningMock mock(WithFault(MockFault::kReserve));
  mock.AppendMany(30);
  std::set<size_t> reserved_counts;
  for (int i = 0; i < 40; ++i) {
    const std::string after = Id(mock, 20);
    Page page =
        PageOf(mock.Get("/delivery/notifications?limit=5&after=" + after));
    REQUIRE(!page.notifications.empty());
    CHECK(page.notifications.size() <= 5);
    size_t old = 0;
    while (old < page.notifications.size() &&
           CompareIds(page.notifications[old].id, after) <= 0) {
      ++old;
    }
    CHECK(old >= 1);                         // Something re-served,
    CHECK(old < page.notifications.size());  // and something new.
    CHECK(page.notifications[old].id == Id(mock, 21));
    CHECK(page.cursor == page.notifications.back().id);
    reserved_counts.insert(old);
  }
  CHECK(reserved_counts.size() > 1);  // At random, not a fixed overlap.
  CHECK(mock.api.fault_counts().of(MockFault::kReserve) == 40);

  // Nothing new (or no `after`): nothing to re-serve, nothing counted.
  Page empty =
      PageOf(mock.Get("/delivery/notifications?after=" + Id(mock, 30)));
  CHECK(empty.notifications.empty());
  Page first = PageOf(mock.Get("/delivery/notifications?limit=3"));
  CHECK(first.notifications.front().id == Id(mock, 1));
  CHECK(mock.api.fault_counts().of(MockFault::kReserve) == 40);
}

TEST_CASE("mock fault gone answers 410 to a request with after, only") {
  RunningMock mock(WithFault(MockFault::kGone));
  mock.AppendMany(4);
  std::string error =
      ErrorOf(mock.Get("/delivery/notifications?after=" + Id(mock, 2)), 410);
  CHECK(Contains(error, "gone: "));
  CHECK(Contains(error, Id(mock, 2)));
  // Without a cursor there is nothing to forget: the normal page.
  Page page = PageOf(mock.Get("/delivery/notifications"));
  CHECK(page.notifications.size() == 4);
  MockFaultCounts counts = mock.api.fault_counts();
  CHECK(counts.requests == 2);
  CHECK(counts.of(MockFault::kGone) == 1);
}

TEST_CASE("mock fault slow drips the normal page over about its duration") {
  MockApiOptions options = WithFault(MockFault::kSlow);
  options.faults.slow = std::chrono::milliseconds(600);
  RunningMock mock(options);
  mock.AppendMany(10);
  CurlOutcome slow = CurlGet(mock.api.port(), "/delivery/notifications");
  CHECK(slow.code == CURLE_OK);
  CHECK(slow.status == 200);
  CHECK(slow.body == NormalPage(mock.api, "", 100));
  CHECK(ParsePage(slow.body).ok());
  // 6 pieces, 100 ms apart: 500 ms at least; loosely bounded above.
  CHECK(slow.took >= std::chrono::milliseconds(450));
  CHECK(slow.took < std::chrono::milliseconds(3000));
  CHECK(mock.api.fault_counts().of(MockFault::kSlow) == 1);
}

TEST_CASE(
    "mock faults: rates are probabilities, a seed replays the same draws") {
  MockApiOptions options;
  for (size_t i = 0; i < kMockFaultKinds; ++i) {
    if (static_cast<MockFault>(i) == MockFault::kDelay ||
        static_cast<MockFault>(i) == MockFault::kSlow) {
      continue;  // Slow to run; tested above.
    }
    options.faults.rates[i] = 0.08;  // 6 kinds: 48% of requests.
  }
  options.faults.seed = 42;
  auto run = [&options] {
    RunningMock mock(options);
    mock.AppendMany(50);
    std::vector<int> outcome;
    for (int i = 0; i < 400; ++i) {
      CurlOutcome r =
          CurlGet(mock.api.port(),
                  "/delivery/notifications?limit=5&after=" + Id(mock, 10));
      outcome.push_back(r.status * 100 + static_cast<int>(r.code));
    }
    return std::make_pair(outcome, mock.api.fault_counts());
  };
  auto [first, first_counts] = run();
  auto [second, second_counts] = run();
  CHECK(first == second);
  CHECK(first_counts.injected == second_counts.injected);
  CHECK(first_counts.requests == 400);
  // 48% expected; 400 draws put it within 40..56% with overwhelming odds.
  CHECK(first_counts.total() >= 160);
  CHECK(first_counts.total() <= 224);
  for (MockFault f :
       {MockFault::k5xx, MockFault::kClose, MockFault::kTruncate,
        MockFault::kGarbage, MockFault::kReserve, MockFault::kGone}) {
    CAPTURE(MockFaultName(f));
    CHECK(first_counts.of(f) >= 15);  // 32 expected.
    CHECK(first_counts.of(f) <= 55);
  }
  CHECK(first_counts.of(MockFault::kDelay) == 0);
  CHECK(first_counts.of(MockFault::kSlow) == 0);
}

TEST_CASE("mock GET faults answers the counts as JSON, behind the token") {
  MockApiOptions options = WithFault(MockFault::kGarbage, 0.5);
  options.token = "s3cret";
  RunningMock mock(options);
  const httplib::Headers auth = {{"Authorization", "Bearer s3cret"}};
  for (int i = 0; i < 10; ++i) mock.Get("/delivery/notifications", auth);
  ErrorOf(mock.Get("/delivery/faults"), 401);
  httplib::Result res = mock.Get("/delivery/faults", auth);
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->get_header_value("Content-Type") == "application/json");
  MockFaultCounts counts = mock.api.fault_counts();
  CHECK(counts.requests == 10);
  CHECK(res->body ==
        "{\"requests\":10,\"total\":" + std::to_string(counts.total()) +
            ",\"faults\":{\"5xx\":0,\"delay\":0,\"close\":0,\"truncate\":0,"
            "\"garbage\":" +
            std::to_string(counts.of(MockFault::kGarbage)) +
            ",\"reserve\":0,\"gone\":0,\"slow\":0}}");
  // Requests refused before the draw (401, 400) are not counted.
  mock.Get("/delivery/notifications");
  mock.Get("/delivery/notifications?limit=0", auth);
  CHECK(mock.api.fault_counts().requests == 10);

  // DELETE stops the faults (the API heals) and answers the counts.
  ErrorOf(mock.client->Delete("/delivery/faults"), 401);
  httplib::Result healed = mock.client->Delete("/delivery/faults", auth);
  REQUIRE(healed);
  CHECK(healed->status == 200);
  CHECK(healed->body == res->body);
  for (int i = 0; i < 30; ++i) {
    PageOf(mock.Get("/delivery/notifications", auth));
  }
  CHECK(mock.api.fault_counts().requests == 40);
  CHECK(mock.api.fault_counts().total() == counts.total());
}

}  // namespace notifications

// --- Under pressure ----------------------------------------------------------

namespace notifications {
namespace {

using testing::RawConnect;
using testing::SendAll;

TEST_CASE("mock status answers within a second beside 50 slow clients and "
          "50 held long-polls") {
  RunningMock mock({});
  const int port = mock.api.port();
  std::vector<int> long_polls, slow;
  for (int i = 0; i < 50; ++i) {
    int fd = RawConnect(port);
    REQUIRE(fd >= 0);
    SendAll(fd,
            "GET /delivery/notifications?wait=30 HTTP/1.1\r\nHost: x\r\n\r\n");
    long_polls.push_back(fd);
  }
  const std::string head = "GET /delivery/status HTTP/1.1\r\nHost: x\r\n\r\n";
  for (int i = 0; i < 50; ++i) {
    int fd = RawConnect(port);
    REQUIRE(fd >= 0);
    SendAll(fd, head.substr(0, 1));
    slow.push_back(fd);
  }
  // One more header byte a second from each slow client.
  std::atomic<bool> done{false};
  std::thread dripper([&] {
    for (size_t k = 1; k < head.size() && !done; ++k) {
      for (int fd : slow) SendAll(fd, head.substr(k, 1));
      for (int t = 0; t < 10 && !done; ++t) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(3);
  client.set_read_timeout(3);
  auto start = std::chrono::steady_clock::now();
  httplib::Result res = client.Get("/delivery/status");
  auto took = std::chrono::steady_clock::now() - start;
  done = true;
  dripper.join();
  REQUIRE(res);
  CHECK(res->status == 200);
  CHECK(res->body == "ALIVE");
  CHECK(took < std::chrono::seconds(1));
  for (int fd : long_polls) close(fd);
  for (int fd : slow) close(fd);
  auto stop_start = std::chrono::steady_clock::now();
  mock.api.Stop();
  CHECK(std::chrono::steady_clock::now() - stop_start < std::chrono::seconds(3));
}

TEST_CASE("mock cuts a client whose request head takes too long, however "
          "steady") {
  MockApiOptions options;
  options.request_head_timeout = std::chrono::milliseconds(1000);
  RunningMock mock(options);
  int fd = RawConnect(mock.api.port());
  REQUIRE(fd >= 0);
  const std::string head = "GET /delivery/status HTTP/1.1\r\nHost: x\r\n\r\n";
  auto start = std::chrono::steady_clock::now();
  bool cut = false;
  // A byte every 200 ms: each read is quick, the whole head is not.
  for (size_t k = 0; k < head.size() && !cut; ++k) {
    if (send(fd, head.data() + k, 1, MSG_NOSIGNAL) != 1) cut = true;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 200) > 0) {
      char buf[256];
      ssize_t n = recv(fd, buf, sizeof buf, 0);
      if (n <= 0) cut = true;
      else FAIL("answered a head that came too slowly");
    }
  }
  auto took = std::chrono::steady_clock::now() - start;
  close(fd);
  CHECK(cut);
  CHECK(took >= std::chrono::milliseconds(900));
  CHECK(took < std::chrono::seconds(6));  // Well before the whole head.
  // A normal client is served as before, long-polls included.
  CHECK(PageOf(mock.Get("/delivery/notifications?wait=1")).cursor == "");
}

TEST_CASE("mock options bound the connections and the request head time") {
  MockApiOptions o;
  o.max_connections = 0;
  CHECK(Contains(ValidateMockApiOptions(o).message(), "max connections"));
  o.max_connections = 8;
  o.request_head_timeout = std::chrono::milliseconds(50);
  CHECK(Contains(ValidateMockApiOptions(o).message(), "request head timeout"));
}

}  // namespace
}  // namespace notifications

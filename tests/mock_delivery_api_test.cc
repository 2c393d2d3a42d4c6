#include "mock_delivery_api.h"

#include <doctest/doctest.h>
#include <httplib.h>
#include <rapidjson/document.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "clock.h"
#include "logger.h"
#include "mock_config.h"
#include "notification_json.h"
#include "notification_parser.h"

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

// A file under the temporary directory, removed at the end of the test.
struct TempFile {
  explicit TempFile(const std::string& content) {
    path = (std::filesystem::temp_directory_path() /
            ("nb-mock-test-" + std::to_string(getpid()) + "-" +
             std::to_string(counter++) + ".json"))
               .string();
    std::ofstream(path, std::ios::binary) << content;
  }
  ~TempFile() { std::remove(path.c_str()); }
  std::string path;
  static inline int counter = 0;
};

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

TEST_CASE("mock synthetic notifications rotate services and are valid JSON") {
  std::set<std::string> services, keys, groups;
  for (uint64_t n = 0; n < 24; ++n) {
    Notification s = SyntheticNotification(n);
    CHECK(s.id.empty());
    REQUIRE(s.service.has_value());
    services.insert(*s.service);
    groups.insert(s.group.value_or("?"));
    keys.insert(s.RoutingKey());
    if (s.service == "Phabricator") CHECK(s.link == "");
    Result<Notification> back =
        ParseGateNotification(NotificationToJson(s, true), "Nasqueron");
    REQUIRE_MESSAGE(back.ok(), back.status().message());
    CHECK(back->raw_content == s.raw_content);
    CHECK(back->text == s.text);
  }
  CHECK(services ==
        std::set<std::string>{"DockerHub", "GitHub", "Jenkins", "Phabricator"});
  CHECK(groups ==
        std::set<std::string>{"", "ci", "devtools", "docker", "ops", "orgz"});
  CHECK(keys.count("nasqueron.ops.github.push") == 1);
  CHECK(keys.count("nasqueron.ci.jenkins.completed.failure") == 1);
  CHECK(keys.count("nasqueron.docker.dockerhub.buildfailure") == 1);
  CHECK(SyntheticNotification(5).text == SyntheticNotification(5).text);
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

TEST_CASE("mock command line defaults and help, version") {
  const char* no_flags[] = {"notifications-mock-api"};
  Result<MockCommandLine> defaults = ParseMockCommandLine(1, no_flags);
  REQUIRE_MESSAGE(defaults.ok(), defaults.status().message());
  CHECK(defaults->exit_text.empty());

  const char* help[] = {"notifications-mock-api", "--help"};
  Result<MockCommandLine> help_line = ParseMockCommandLine(2, help);
  REQUIRE(help_line.ok());
  CHECK(Contains(help_line->exit_text, "--generate"));
  CHECK(Contains(help_line->exit_text, "NOTIFICATIONS_MOCK_PORT"));
  CHECK(Contains(help_line->exit_text, "NOTIFICATIONS_MOCK_TOKEN"));

  const char* version[] = {"notifications-mock-api", "--version"};
  Result<MockCommandLine> version_line = ParseMockCommandLine(2, version);
  REQUIRE(version_line.ok());
  CHECK(version_line->exit_text == MockVersionLine() + "\n");
  CHECK(MockVersionLine().rfind("notifications-mock-api ", 0) == 0);
}

TEST_CASE("mock command line reads every flag") {
  TempFile token_file("  t0ken-from-file \n second line\n");
  const char* argv[] = {"notifications-mock-api",
                        "--host",
                        "::1",
                        "--port",
                        "0",
                        "--base-path",
                        "/api",
                        "--retention",
                        "50",
                        "--token-file",
                        token_file.path.c_str(),
                        "--fixtures",
                        "f.json",
                        "--generate",
                        "0.5",
                        "--overlap",
                        "3",
                        "--log-level",
                        "debug"};
  Result<MockCommandLine> parsed =
      ParseMockCommandLine(static_cast<int>(std::size(argv)), argv);
  REQUIRE_MESSAGE(parsed.ok(), parsed.status().message());
  const MockApiOptions& api = parsed->api;
  CHECK(api.host == "::1");
  CHECK(api.port == 0);
  CHECK(api.base_path == "/api");
  CHECK(api.retention == 50);
  CHECK(api.token == "t0ken-from-file");
  CHECK(api.fixtures_path == "f.json");
  CHECK(api.generate_rate == doctest::Approx(0.5));
  CHECK(api.overlap == 3);
  CHECK(parsed->log_level == LogLevel::kDebug);
}

TEST_CASE("mock command line reads flags and the token from the environment") {
  // Names no other test uses; restored at the end.
  setenv("NOTIFICATIONS_MOCK_PORT", "9090", 1);
  setenv("NOTIFICATIONS_MOCK_BASE_PATH", "/env", 1);
  setenv("NOTIFICATIONS_MOCK_TOKEN", "env-token\n", 1);
  const char* argv[] = {"notifications-mock-api", "--port", "7070"};
  Result<MockCommandLine> parsed = ParseMockCommandLine(3, argv);
  Result<MockCommandLine> env_only = ParseMockCommandLine(1, argv);
  setenv("NOTIFICATIONS_MOCK_RETENTION", "lots", 1);
  Result<MockCommandLine> bad = ParseMockCommandLine(1, argv);
  unsetenv("NOTIFICATIONS_MOCK_PORT");
  unsetenv("NOTIFICATIONS_MOCK_BASE_PATH");
  unsetenv("NOTIFICATIONS_MOCK_TOKEN");
  unsetenv("NOTIFICATIONS_MOCK_RETENTION");

  REQUIRE_MESSAGE(parsed.ok(), parsed.status().message());
  CHECK(parsed->api.port == 7070);  // the command line wins
  CHECK(parsed->api.base_path == "/env");
  CHECK(parsed->api.token == "env-token");
  REQUIRE(env_only.ok());
  CHECK(env_only->api.port == 9090);
  REQUIRE_FALSE(bad.ok());
  CHECK(Contains(bad.status().message(), "--retention"));
  CHECK(Contains(bad.status().message(), "NOTIFICATIONS_MOCK_RETENTION"));
}

TEST_CASE("mock command line rejects bad values with one line naming them") {
  struct Case {
    std::vector<const char*> args;
    std::string mentions;
  };
  const Case cases[] = {
      {{"--port", "70000"}, "--port"},
      {{"--port", "abc"}, "--port"},
      {{"--retention", "0"}, "--retention"},
      {{"--generate", "-1"}, "--generate"},
      {{"--overlap", "x"}, "--overlap"},
      {{"--log-level", "loud"}, "--log-level"},
      {{"--token", "s3cret"}, "--token-file"},
      {{"--token-file", "/nonexistent/token"}, "/nonexistent/token"},
      {{"--base-path", "/x/"}, "base path"},
      {{"--bogus"}, "--bogus"},
  };
  for (const Case& c : cases) {
    std::vector<const char*> argv = {"notifications-mock-api"};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    CAPTURE(c.mentions);
    Result<MockCommandLine> parsed =
        ParseMockCommandLine(static_cast<int>(argv.size()), argv.data());
    REQUIRE_FALSE(parsed.ok());
    CHECK(parsed.status().code() == Status::Code::kInvalidArgument);
    CHECK(Contains(parsed.status().message(), c.mentions));
    CHECK_FALSE(Contains(parsed.status().message(), "\n"));
  }
}

}  // namespace notifications

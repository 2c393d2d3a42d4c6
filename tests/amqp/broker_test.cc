// The bridge against a real RabbitMQ: one throwaway node for the whole
// binary (tests/support/rabbitmq_node.h), the real bridge as a process,
// real SSE clients. Registered with ctest as one test (labels process,
// concurrency, amqp), so the node boots once.
//
// Each test publishes to an exchange of its own, bound to a stream of its
// own, so offsets start at 0 in every test whatever ran before; the live
// mode tests use Nasqueron's exchange, `notifications`.
#include <doctest/doctest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <thread>

#include "notification_parser.h"
#include "rabbitmq_node.h"
#include "test_support.h"

namespace notifications {
namespace testing {
namespace {

using namespace std::chrono_literals;

// Streams and exchanges: one pair per test.
const std::vector<std::string> kStreams = {"format", "filter", "restart",
                                           "two",    "broker", "poison",
                                           "chain",  "stamp",  "tls"};

std::string Definitions() {
  std::string queues, exchanges, bindings;
  for (const std::string& s : kStreams) {
    exchanges += ",{\"name\":\"ex-" + s +
                 "\",\"vhost\":\"dev\",\"type\":\"topic\",\"durable\":true,"
                 "\"auto_delete\":false,\"internal\":false,\"arguments\":{}}";
    queues +=
        std::string(queues.empty() ? "" : ",") + "{\"name\":\"stream-" + s +
        "\",\"vhost\":\"dev\",\"durable\":true,\"auto_delete\":false,"
        "\"arguments\":{\"x-queue-type\":\"stream\",\"x-max-age\":\"7D\"}}";
    bindings += std::string(bindings.empty() ? "" : ",") + "{\"source\":\"ex-" +
                s + "\",\"vhost\":\"dev\",\"destination\":\"stream-" + s +
                "\",\"destination_type\":\"queue\",\"routing_key\":\"#\","
                "\"arguments\":{}}";
  }
  // Users: the Notifications Center (everything), the bridge as docs/amqp.md
  // asks (read-only on the streams; exclusive queues for live mode), and one
  // that may not read Nasqueron's exchange.
  return R"({"vhosts":[{"name":"dev"}],
  "users":[
    {"name":"nasqueron","password":"publisher-pw","tags":""},
    {"name":"bridge","password":"bridge-pw","tags":""},
    {"name":"noexchange","password":"noexchange-pw","tags":""}],
  "permissions":[
    {"user":"nasqueron","vhost":"dev","configure":".*","write":".*","read":".*"},
    {"user":"bridge","vhost":"dev","configure":"^amq\\.gen-.*$",
     "write":"^amq\\.gen-.*$","read":"^(amq\\.gen-.*|notifications|stream-.*)$"},
    {"user":"noexchange","vhost":"dev","configure":"^amq\\.gen-.*$",
     "write":"^amq\\.gen-.*$","read":"^amq\\.gen-.*$"}],
  "exchanges":[{"name":"notifications","vhost":"dev","type":"topic","durable":true,
    "auto_delete":false,"internal":false,"arguments":{}})" +
         exchanges + R"(],
  "queues":[)" +
         queues + R"(],
  "bindings":[)" +
         bindings + "]}";
}

// The node, booted on first use and stopped when the binary exits.
RabbitMqNode& Node() {
  static RabbitMqNode* node = [] {
    auto* n = new RabbitMqNode(/*tls=*/true);
    if (n->ok() && n->ImportDefinitions(Definitions())) {
      for (const std::string& s : kStreams) {
        if (!n->WaitForQueue("bridge", "bridge-pw", "dev", "stream-" + s)) {
          std::string queues;
          n->Ctl({"list_queues", "-p", "dev", "name", "type"}, &queues);
          n->Fail("the definitions did not declare stream-" + s +
                  "; queues:\n" + queues);
          break;
        }
      }
    }
    return n;
  }();
  static struct Stopper {
    RabbitMqNode* n;
    ~Stopper() { delete n; }
  } stopper{node};
  return *node;
}

// A password file for the bridge, mode 600, removed at exit.
class SecretFile {
 public:
  explicit SecretFile(const std::string& secret) {
    char tmpl[] = "/tmp/nb-amqp-pw-XXXXXX";
    int fd = mkstemp(tmpl);
    path_ = tmpl;
    if (fd >= 0) {
      std::string line = secret + "\n";
      if (write(fd, line.data(), line.size()) < 0) path_.clear();
      close(fd);
    }
  }
  ~SecretFile() { unlink(path_.c_str()); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The bridge consuming `queue` ("" = live mode) as `user`.
std::unique_ptr<BridgeProcess> StartBridge(
    const std::string& queue, std::vector<std::string> extra = {}, int port = 0,
    const std::string& user = "bridge",
    const std::string& password = "bridge-pw",
    const std::string& vhost = "dev") {
  static SecretFile* files[3] = {new SecretFile("bridge-pw"),
                                 new SecretFile("wrong-password"),
                                 new SecretFile("noexchange-pw")};
  const SecretFile* pw = password == "bridge-pw"       ? files[0]
                         : password == "noexchange-pw" ? files[2]
                                                       : files[1];
  std::vector<std::string> source = {
      "--amqp-url", Node().Url(user, vhost), "--amqp-password-file",
      pw->path(),   "--amqp-heartbeat",      "5"};
  if (!queue.empty()) {
    source.push_back("--amqp-queue");
    source.push_back(queue);
  }
  return std::make_unique<BridgeProcess>(source, std::move(extra), port);
}

AmqpPublisher& Publisher(const std::string& exchange) {
  static std::map<std::string, std::unique_ptr<AmqpPublisher>> publishers;
  auto& p = publishers[exchange];
  if (!p) {
    p = std::make_unique<AmqpPublisher>(
        Node().Endpoint("nasqueron", "publisher-pw", "dev"), exchange);
  }
  return *p;
}

// Publishes n GitHub pushes "<prefix> <i>" to `exchange`.
void PublishMany(const std::string& exchange, int from, int to,
                 std::chrono::microseconds pause = 0us) {
  for (int i = from; i < to; ++i) {
    AmqpStatus s = Publisher(exchange).Publish(
        "nasqueron.ops.github.push",
        NasqueronBody("GitHub", "ops", "push", "push " + std::to_string(i)));
    REQUIRE_MESSAGE(s.ok(), s.message);
    if (pause.count() > 0) std::this_thread::sleep_for(pause);
  }
}

std::vector<std::string> Range(int from, int to) {
  std::vector<std::string> ids;
  for (int i = from; i < to; ++i) ids.push_back(std::to_string(i));
  return ids;
}

bool Eventually(const std::function<bool()>& condition,
                std::chrono::milliseconds timeout = 20s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (condition()) return true;
    std::this_thread::sleep_for(50ms);
  }
  return condition();
}

std::string Field(const std::string& json, const std::string& name) {
  Result<Page> page =
      ParsePage("{\"notifications\":[" + json + "],\"cursor\":\"" +
                json.substr(7, json.find('"', 7) - 7) + "\"}");
  if (!page.ok()) return "<" + page.status().message() + ">";
  const Notification& n = page->notifications[0];
  if (name == "time") return n.time;
  if (name == "service") return n.service.value_or("<null>");
  if (name == "group") return n.group.value_or("<null>");
  if (name == "type") return n.type.value_or("<null>");
  if (name == "text") return n.text.value_or("<null>");
  if (name == "link") return n.link.value_or("<null>");
  return "?";
}

// Waits until `bridge` has read the stream up to `offset`.
bool CaughtUp(BridgeProcess& bridge, int offset) {
  return Eventually([&] {
    return HttpRequestTo(bridge.url("/metrics"))
               .body.find("notifications_bridge_amqp_offset " +
                          std::to_string(offset) + "\n") != std::string::npos;
  });
}

TEST_CASE("amqp: the node boots, with its topology") {
  REQUIRE_MESSAGE(Node().ok(), Node().error());
}

TEST_CASE(
    "amqp: Nasqueron's exact messages and routing keys become events with "
    "offset ids") {
  REQUIRE(Node().ok());
  struct Sent {
    std::string key, service, group, type, text, link;
  };
  std::vector<Sent> sent = {
      {"nasqueron.ops.github.push", "GitHub", "ops", "push",
       "dereckson pushed 2 commits to operations",
       "https://github.com/nasqueron/operations/compare/a...b"},
      {"nasqueron.ci.jenkins.completed.success", "Jenkins", "ci",
       "completed.success", "Build #42 of operations: success",
       "https://ci.nasqueron.org/job/operations/42/"},
      {"nasqueron.devtools.phabricator.task", "Phabricator", "devtools", "TASK",
       "T1234: caf\xC3\xA9 \xE2\x80\x94 \xF0\x9F\x90\xBA", ""},
      {"nasqueron.docker.dockerhub.buildfailure", "DockerHub", "docker",
       "buildFailure", "Build failed for nasqueron/notifications", ""},
  };
  for (const Sent& s : sent) {
    REQUIRE(Publisher("ex-format")
                .Publish(s.key, NasqueronBody(s.service, s.group, s.type,
                                              s.text, s.link))
                .ok());
  }
  // The Notifications Center's native gate may publish nulls.
  REQUIRE(
      Publisher("ex-format")
          .Publish("nasqueron..notifications.native",
                   "{\"service\":\"Notifications\",\"project\":\"Nasqueron\","
                   "\"group\":\"\",\"rawContent\":null,\"type\":\"native\","
                   "\"text\":null,\"link\":null}")
          .ok());
  auto bridge = StartBridge("stream-format", {"--raw-content"});
  REQUIRE(bridge->port > 0);
  SseClient client(bridge->url("/events?backlog=10"));
  auto events = client.WaitFor(5, 20s);
  REQUIRE(events.size() == 5);
  CHECK(Ids(events) == Range(0, 5));
  for (size_t i = 0; i < sent.size(); ++i) {
    INFO(sent[i].key);
    CHECK(Field(events[i].data, "service") == sent[i].service);
    CHECK(Field(events[i].data, "group") == sent[i].group);
    CHECK(Field(events[i].data, "type") == sent[i].type);
    CHECK(Field(events[i].data, "text") == sent[i].text);
    CHECK(Field(events[i].data, "link") == sent[i].link);
  }
  CHECK(events[0].data.find(
            "\"rawContent\":{\"source\":\"https://example.test/push\"}") !=
        std::string::npos);
  CHECK(Field(events[4].data, "text") == "<null>");
  CHECK(Field(events[4].data, "link") == "<null>");
  // And live: published after the client connected.
  REQUIRE(Publisher("ex-format")
              .Publish("nasqueron.ops.github.push",
                       NasqueronBody("GitHub", "ops", "push", "live one"))
              .ok());
  events = client.WaitFor(6, 20s);
  REQUIRE(events.size() == 6);
  CHECK(events[5].last_event_id == "5");
  CHECK(Field(events[5].data, "text") == "live one");

  // /healthz and /metrics take the batch's offset just after its events
  // reach the streams (failed once in a full run: read in between).
  const std::string connected_at_5 =
      "\"source\":\"amqp\",\"connection\":\"connected\",\"offset\":5";
  HttpResult health;
  CHECK(WaitUntil(
      [&] {
        health = HttpRequestTo(bridge->url("/healthz"));
        return health.body.find(connected_at_5) != std::string::npos;
      },
      5s));
  CHECK(health.status == 200);
  CHECK(health.body.find(connected_at_5) != std::string::npos);
  HttpResult metrics = HttpRequestTo(bridge->url("/metrics"));
  CHECK(metrics.body.find("notifications_bridge_amqp_connected 1\n") !=
        std::string::npos);
  CHECK(metrics.body.find("notifications_bridge_amqp_offset 5\n") !=
        std::string::npos);
}

TEST_CASE("amqp: filters (key= topic patterns) apply to AMQP notifications") {
  REQUIRE(Node().ok());
  auto bridge = StartBridge("stream-filter");
  SseClient ci(bridge->url("/events?key=*.ci.jenkins.completed.*"));
  SseClient ops(bridge->url("/events?key=nasqueron.ops.%23&service=github"));
  REQUIRE(Eventually([&] {
    return HttpRequestTo(bridge->url("/metrics"))
               .body.find("notifications_bridge_clients_connected 2\n") !=
           std::string::npos;
  }));
  auto publish = [](const std::string& key, const std::string& service,
                    const std::string& group, const std::string& type) {
    REQUIRE(Publisher("ex-filter")
                .Publish(key, NasqueronBody(service, group, type, key))
                .ok());
  };
  publish("nasqueron.ci.jenkins.completed.success", "Jenkins", "ci",
          "completed.success");
  publish("nasqueron.ops.github.push", "GitHub", "ops", "push");
  publish("nasqueron.ci.jenkins.started", "Jenkins", "ci", "started");
  publish("nasqueron.ops.dockerhub.push", "DockerHub", "ops", "push");
  publish("nasqueron.ci.jenkins.completed.failure", "Jenkins", "ci",
          "completed.failure");
  auto ci_events = ci.WaitFor(2, 20s);
  auto ops_events = ops.WaitFor(1, 20s);
  CHECK(Ids(ci_events) == std::vector<std::string>{"0", "4"});
  CHECK(Ids(ops_events) == std::vector<std::string>{"1"});
}

TEST_CASE(
    "amqp: a bridge killed in the middle of a burst comes back losing and "
    "repeating nothing") {
  REQUIRE(Node().ok());
  char tmpl[] = "/tmp/nb-amqp-state-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  const std::string state = std::string(tmpl) + "/cursor";
  auto bridge = StartBridge("stream-restart", {"--state-file", state});
  const int port = bridge->port;
  REQUIRE(port > 0);
  BrowserLikeClient browser(bridge->url("/events"));
  REQUIRE(Eventually([&] { return browser.connections() == 1; }));

  constexpr int kTotal = 400;
  std::atomic<int> published{0};
  std::thread publisher([&] {
    for (int i = 0; i < kTotal; ++i) {
      PublishMany("ex-restart", i, i + 1);
      published = i + 1;
      std::this_thread::sleep_for(2ms);
    }
  });
  REQUIRE(Eventually([&] { return browser.ids().size() >= 100; }));
  bridge->process->Signal(SIGKILL);
  bridge->process->Wait(5s);
  // Down while the burst goes on.
  std::this_thread::sleep_for(300ms);
  auto second = StartBridge("stream-restart", {"--state-file", state}, port);
  REQUIRE(second->port == port);
  publisher.join();
  CHECK(browser.WaitForList(Range(0, kTotal), 30s));
  CHECK(browser.order_violations() == 0);
  CHECK(browser.resets() == 0);
  CHECK(browser.connections() >= 2);
  INFO(browser.first_violation());
  // The second bridge resumed after the saved offset, not from the start.
  HttpResult metrics = HttpRequestTo(second->url("/metrics"));
  CHECK(metrics.body.find("notifications_bridge_amqp_offset " +
                          std::to_string(kTotal - 1) + "\n") !=
        std::string::npos);
  std::filesystem::remove_all(tmpl);
}

TEST_CASE(
    "amqp: two bridges on one stream give the same ids; a browser moves "
    "between them") {
  REQUIRE(Node().ok());
  PublishMany("ex-two", 0, 30);
  auto a = StartBridge("stream-two");
  // B keeps a short history: the browser's id is older than it, and B reads
  // the gap from the stream.
  auto b = StartBridge("stream-two", {"--history", "20"});
  REQUIRE(CaughtUp(*a, 29));
  REQUIRE(CaughtUp(*b, 29));
  SseClient on_a(a->url("/events?backlog=100"));
  SseClient on_b(b->url("/events?backlog=100"));
  auto from_a = on_a.WaitFor(30, 20s);
  auto from_b = on_b.WaitFor(20, 20s);
  REQUIRE(from_a.size() == 30);
  CHECK(Ids(from_a) == Range(0, 30));
  CHECK(Ids(from_b) == Range(10, 30));  // B's history: the last 20, same ids.
  for (size_t i = 0; i < from_b.size(); ++i) {
    CHECK(Field(from_b[i].data, "text") == Field(from_a[10 + i].data, "text"));
  }
  on_a.Close();
  // The browser saw up to id 5 on A, A goes away, it comes back on B.
  a->process->Signal(SIGTERM);
  CHECK(a->process->Wait(5s) == 0);
  PublishMany("ex-two", 30, 40);
  SseClient moved(b->url("/events"), {{"Last-Event-ID", "5"}});
  auto rest = moved.WaitFor(34, 20s);
  std::string got;
  for (const auto& id : Ids(rest)) got += id + " ";
  INFO("got: " << got << " comments/raw: " << moved.raw().substr(0, 300));
  CHECK(Ids(rest) == Range(6, 40));
  HttpResult metrics = HttpRequestTo(b->url("/metrics"));
  CHECK(metrics.body.find("notifications_bridge_gap_fetches_total 1\n") !=
        std::string::npos);
}

TEST_CASE(
    "amqp: the broker restarted under the bridge: it reconnects and loses "
    "nothing") {
  REQUIRE(Node().ok());
  auto bridge = StartBridge("stream-broker", {"--backoff-max", "0.5"});
  BrowserLikeClient browser(bridge->url("/events"));
  REQUIRE(Eventually([&] { return browser.connections() == 1; }));
  PublishMany("ex-broker", 0, 10);
  REQUIRE(browser.WaitForList(Range(0, 10), 20s));

  REQUIRE(Node().StopApp());
  CHECK(Eventually([&] {
    HttpResult h = HttpRequestTo(bridge->url("/healthz"));
    return h.status == 503 &&
           h.body.find("\"connection\":\"disconnected\"") != std::string::npos;
  }));
  REQUIRE(Node().StartApp());
  REQUIRE(Node().WaitForQueue("bridge", "bridge-pw", "dev", "stream-broker"));
  PublishMany("ex-broker", 10, 20);
  CHECK(browser.WaitForList(Range(0, 20), 30s));
  CHECK(browser.order_violations() == 0);
  CHECK(browser.resets() == 0);
  CHECK(Eventually(
      [&] { return HttpRequestTo(bridge->url("/healthz")).status == 200; }));
  HttpResult metrics = HttpRequestTo(bridge->url("/metrics"));
  CHECK(metrics.body.find("notifications_bridge_amqp_connections_total 1\n") ==
        std::string::npos);  // Reconnected at least once.
}

// A bridge that cannot consume: /healthz degraded with the reason, a clear
// log line, and it keeps trying.
void ExpectDegraded(BridgeProcess& bridge,
                    const std::vector<std::string>& reasons) {
  HttpResult health;
  bool degraded = Eventually([&] {
    health = HttpRequestTo(bridge.url("/healthz"));
    const std::string key = "\"consecutiveFailures\":";
    size_t at = health.body.find(key);
    return health.status == 503 && at != std::string::npos &&
           std::atoi(health.body.c_str() + at + key.size()) >= 3;
  });
  INFO(health.body);
  CHECK(degraded);  // Three failures in a row: it retries.
  for (const std::string& reason : reasons) {
    CHECK(health.body.find(reason) != std::string::npos);
    CHECK(bridge.process->Stderr().find(reason) != std::string::npos);
  }
  CHECK(
      health.body.find("\"source\":\"amqp\",\"connection\":\"disconnected\"") !=
      std::string::npos);
  for (const char* secret : {"bridge-pw", "wrong-password", "noexchange-pw"}) {
    CHECK(health.body.find(secret) == std::string::npos);
    CHECK(bridge.process->Stderr().find(secret) == std::string::npos);
  }
  CHECK(HttpRequestTo(bridge.url("/status")).body == "ALIVE");
}

TEST_CASE(
    "amqp: a wrong password, vhost, queue or permission is said plainly, and "
    "retried") {
  REQUIRE(Node().ok());
  std::vector<std::string> fast = {"--backoff-initial", "0.05", "--backoff-max",
                                   "0.2"};
  SUBCASE("wrong password") {
    auto bridge =
        StartBridge("stream-format", fast, 0, "bridge", "wrong-password");
    ExpectDegraded(*bridge, {"auth: connecting: 403 ACCESS_REFUSED",
                             "--amqp-password-file"});
  }
  SUBCASE("wrong vhost") {
    auto bridge =
        StartBridge("stream-format", fast, 0, "bridge", "bridge-pw", "nosuch");
    ExpectDegraded(
        *bridge,
        {"access_refused: connecting: 530 NOT_ALLOWED - vhost nosuch not found",
         "check the vhost"});
  }
  SUBCASE("missing queue") {
    auto bridge = StartBridge("nosuch-stream", fast);
    ExpectDegraded(*bridge,
                   {"not_found: checking the stream queue 'nosuch-stream': 404 "
                    "NOT_FOUND - no queue 'nosuch-stream' in vhost 'dev'",
                    "declared and bound"});
  }
  SUBCASE("no permission to read the exchange (live mode)") {
    auto bridge = StartBridge("", fast, 0, "noexchange", "noexchange-pw");
    ExpectDegraded(
        *bridge, {"access_refused: ",
                  "403 ACCESS_REFUSED - access to exchange 'notifications' in "
                  "vhost 'dev' refused for user 'noexchange'"});
  }
}

TEST_CASE(
    "amqp: a message that is not a notification is skipped, counted, and the "
    "rest flows") {
  REQUIRE(Node().ok());
  auto bridge = StartBridge("stream-poison");
  SseClient client(bridge->url("/events"));
  REQUIRE(Eventually([&] {
    return HttpRequestTo(bridge->url("/metrics"))
               .body.find("notifications_bridge_clients_connected 1\n") !=
           std::string::npos;
  }));
  auto& p = Publisher("ex-poison");
  REQUIRE(p.Publish("nasqueron.ops.github.push",
                    NasqueronBody("GitHub", "ops", "push", "a"))
              .ok());
  REQUIRE(p.Publish("nasqueron.ops.github.push", "<html>not json</html>").ok());
  REQUIRE(
      p.Publish("nasqueron.ops.github.push", "{\"service\":\"GitHub\"}").ok());
  REQUIRE(p.Publish("nasqueron.ops.github.push",
                    NasqueronBody("GitHub", "ops", "push", "d"))
              .ok());
  auto events = client.WaitFor(2, 20s);
  CHECK(Ids(events) == std::vector<std::string>{"0", "3"});
  HttpResult metrics = HttpRequestTo(bridge->url("/metrics"));
  CHECK(metrics.body.find(
            "notifications_bridge_amqp_messages_skipped_total 2\n") !=
        std::string::npos);
  CHECK(HttpRequestTo(bridge->url("/healthz")).status == 200);
  CHECK(bridge->process->Stderr().find(
            "skipped a message that is not a notification (offset 1)") !=
        std::string::npos);
}

TEST_CASE("amqp: a message's timestamp property is its time") {
  REQUIRE(Node().ok());
  REQUIRE(Publisher("ex-stamp")
              .Publish("nasqueron.ops.github.push",
                       NasqueronBody("GitHub", "ops", "push", "stamped"),
                       1795869554)
              .ok());
  auto bridge = StartBridge("stream-stamp");
  SseClient client(bridge->url("/events?backlog=1"));
  auto events = client.WaitFor(1, 20s);
  REQUIRE(events.size() == 1);
  CHECK(Field(events[0].data, "time") == "2026-11-28T12:39:14.000Z");
}

TEST_CASE(
    "amqp: live mode binds its own queue with the binding keys and mints ids") {
  REQUIRE(Node().ok());
  auto bridge = StartBridge("", {"--amqp-binding-key", "nasqueron.ci.#",
                                 "--amqp-binding-key", "*.*.dockerhub.*"});
  SseClient client(bridge->url("/events"));
  REQUIRE(Eventually([&] {
    HttpResult h = HttpRequestTo(bridge->url("/healthz"));
    return h.body.find("\"connection\":\"connected\"") != std::string::npos;
  }));
  auto& p = Publisher("notifications");
  REQUIRE(p.Publish("nasqueron.ops.github.push",
                    NasqueronBody("GitHub", "ops", "push", "no"))
              .ok());
  REQUIRE(p.Publish("nasqueron.ci.jenkins.started",
                    NasqueronBody("Jenkins", "ci", "started", "yes 1"))
              .ok());
  REQUIRE(p.Publish("nasqueron.docker.dockerhub.push",
                    NasqueronBody("DockerHub", "docker", "push", "yes 2"))
              .ok());
  auto events = client.WaitFor(2, 20s);
  REQUIRE(events.size() == 2);
  CHECK(Field(events[0].data, "text") == "yes 1");
  CHECK(Field(events[1].data, "text") == "yes 2");
  CHECK(events[0].last_event_id.size() ==
        24);  // <13-digit start ms>-<10-digit counter>
  CHECK(events[0].last_event_id.substr(13) == "-0000000001");
  CHECK(CompareIds(events[0].last_event_id, events[1].last_event_id) < 0);
  std::this_thread::sleep_for(300ms);
  CHECK(client.events().size() == 2);  // The ops push was not bound.
}

TEST_CASE("amqp: amqps verifies the broker's certificate and its host name") {
  REQUIRE(Node().ok());
  SecretFile pw("bridge-pw");
  auto bridge_on = [&](const std::string& host, const std::string& ca) {
    return std::make_unique<BridgeProcess>(
        std::vector<std::string>{"--amqp-url",
                                 "amqps://bridge@" + host + ":" +
                                     std::to_string(Node().tls_port()) + "/dev",
                                 "--amqp-password-file", pw.path(),
                                 "--amqp-queue", "stream-tls", "--amqp-ca-file",
                                 ca},
        std::vector<std::string>{"--backoff-initial", "0.05", "--backoff-max",
                                 "0.2"},
        0);
  };
  SUBCASE("the right authority and host name") {
    REQUIRE(Publisher("ex-tls")
                .Publish("nasqueron.ops.github.push",
                         NasqueronBody("GitHub", "ops", "push", "over TLS"))
                .ok());
    auto bridge = bridge_on("localhost", Node().ca_file());
    SseClient client(bridge->url("/events?backlog=1"));
    auto events = client.WaitFor(1, 20s);
    INFO(bridge->process->Stderr());
    REQUIRE(events.size() == 1);
    CHECK(Field(events[0].data, "text") == "over TLS");
  }
  SUBCASE("a certificate from another authority") {
    auto bridge = bridge_on("localhost", Node().other_ca_file());
    ExpectDegraded(*bridge, {"tls: connecting: cannot connect to localhost:",
                             "signed by --amqp-ca-file"});
  }
  SUBCASE("a host name the certificate does not name") {
    auto bridge = bridge_on("127.0.0.1", Node().ca_file());
    ExpectDegraded(*bridge, {"tls: connecting: cannot connect to 127.0.0.1:",
                             "the certificate does not name 127.0.0.1"});
  }
}

TEST_CASE(
    "amqp: RabbitMQ -> bridge (--serve-delivery-api) -> polling bridge -> "
    "browser: every notification once, in order, with the stream's offsets") {
  REQUIRE(Node().ok());
  auto first = StartBridge("stream-chain", {"--serve-delivery-api"});
  REQUIRE(first->port > 0);
  // A poll interval longer than the test: the long-poll carries them.
  BridgeProcess second(first->url("/delivery"),
                       {"--poll-interval", "120", "--long-poll", "60"});
  REQUIRE(second.port > 0);
  BrowserLikeClient browser(second.url("/events"));
  REQUIRE(Eventually([&] { return browser.connections() == 1; }));
  PublishMany("ex-chain", 0, 50);
  CHECK(browser.WaitForList(Range(0, 50), 30s));
  // The first bridge restarts: the second keeps its cursor (an offset, the
  // same on the restarted bridge) and misses nothing published meanwhile.
  const int port = first->port;
  first.reset();
  PublishMany("ex-chain", 50, 60);
  first = StartBridge("stream-chain", {"--serve-delivery-api"}, port);
  REQUIRE(first->port == port);
  PublishMany("ex-chain", 60, 70);
  CHECK(browser.WaitForList(Range(0, 70), 60s));
  CHECK(browser.order_violations() == 0);
  INFO(browser.first_violation());
}

}  // namespace
}  // namespace testing
}  // namespace notifications

// notifications-tail: the pure formats (line, URL, reset notice, retry
// delay, rejection messages), the command line, the printer, and the real
// binary against the real mock and bridge processes.
#include <doctest/doctest.h>
#include <signal.h>

#include <cstdlib>
#include <ctime>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tail_client.h"
#include "tail_config.h"
#include "tail_format.h"
#include "test_support.h"

namespace notifications {
namespace {

using namespace std::chrono_literals;
using testing::BridgeProcess;
using testing::ChildProcess;
using testing::MockApiProcess;
using testing::SseClient;

// Sets an environment variable for the scope (nullptr unsets it), then puts
// the previous value back.
class EnvGuard {
 public:
  EnvGuard(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value) {
      setenv(name, value, 1);
    } else {
      unsetenv(name);
    }
    tzset();
  }
  ~EnvGuard() {
    if (old_) {
      setenv(name_.c_str(), old_->c_str(), 1);
    } else {
      unsetenv(name_.c_str());
    }
    tzset();
  }
  EnvGuard(const EnvGuard&) = delete;
  EnvGuard& operator=(const EnvGuard&) = delete;

 private:
  std::string name_;
  std::optional<std::string> old_;
};

Notification Sample() {
  Notification n;
  n.id = "1-0000000042";
  n.time = "2026-11-28T12:00:00.123Z";
  n.service = "GitHub";
  n.project = "Nasqueron";
  n.group = "ops";
  n.type = "push";
  n.text = "dereckson pushed 2 commits to rOPS";
  n.link = "https://github.com/nasqueron/operations/compare/a...b";
  return n;
}

const std::time_t kReceived = 1795852800;  // 2026-11-28T08:00:00Z

// ---- Line format -----------------------------------------------------------

TEST_CASE("tail: a notification line is [time] <project/group> text — link") {
  EnvGuard tz("TZ", "UTC");
  CHECK(FormatNotificationLine(Sample(), kReceived) ==
        "[Nov 28 12:00:00] <Nasqueron/ops> dereckson pushed 2 commits to rOPS "
        "\xE2\x80\x94 https://github.com/nasqueron/operations/compare/a...b");
}

TEST_CASE("tail: the link part is left out when the link is empty or null") {
  EnvGuard tz("TZ", "UTC");
  Notification n = Sample();
  n.link = "";
  CHECK(FormatNotificationLine(n, kReceived) ==
        "[Nov 28 12:00:00] <Nasqueron/ops> dereckson pushed 2 commits to rOPS");
  n.link.reset();
  CHECK(FormatNotificationLine(n, kReceived) ==
        "[Nov 28 12:00:00] <Nasqueron/ops> dereckson pushed 2 commits to rOPS");
}

TEST_CASE("tail: an empty group still prints the bracket as <project/>") {
  EnvGuard tz("TZ", "UTC");
  Notification n = Sample();
  n.group = "";
  n.link = "";
  CHECK(FormatNotificationLine(n, kReceived) ==
        "[Nov 28 12:00:00] <Nasqueron/> dereckson pushed 2 commits to rOPS");
  n.group.reset();
  n.project.reset();
  CHECK(FormatNotificationLine(n, kReceived) ==
        "[Nov 28 12:00:00] </> dereckson pushed 2 commits to rOPS");
}

TEST_CASE("tail: a null text prints as empty, the link still follows") {
  EnvGuard tz("TZ", "UTC");
  Notification n = Sample();
  n.text.reset();
  CHECK(FormatNotificationLine(n, kReceived) ==
        "[Nov 28 12:00:00] <Nasqueron/ops>  \xE2\x80\x94 "
        "https://github.com/nasqueron/operations/compare/a...b");
  n.link.reset();
  CHECK(FormatNotificationLine(n, kReceived) ==
        "[Nov 28 12:00:00] <Nasqueron/ops> ");
}

TEST_CASE("tail: non-ASCII text is printed as UTF-8, unchanged") {
  EnvGuard tz("TZ", "UTC");
  Notification n = Sample();
  n.text =
      "T1210: r\xC3\xA9sum\xC3\xA9 \xE2\x80\x94 \xF0\x9F\x9A\x80 "
      "\xE6\x97\xA5\xE6\x9C\xAC";
  n.link = "";
  CHECK(FormatNotificationLine(n, kReceived) ==
        "[Nov 28 12:00:00] <Nasqueron/ops> T1210: r\xC3\xA9sum\xC3\xA9 "
        "\xE2\x80\x94 \xF0\x9F\x9A\x80 \xE6\x97\xA5\xE6\x9C\xAC");
}

TEST_CASE(
    "tail: control characters become spaces, one notification stays one line") {
  EnvGuard tz("TZ", "UTC");
  Notification n = Sample();
  n.project = "Nas\nqueron";
  n.group = "o\tps";
  n.text =
      "line one\r\nline two \x1B[31mred\x1B[0m \xC2\x9B"
      "2J end\x7F";
  n.link = "https://x/\ny";
  CHECK(FormatNotificationLine(n, kReceived) ==
        "[Nov 28 12:00:00] <Nas queron/o ps> line one  line two  [31mred [0m  "
        "2J end  "
        "\xE2\x80\x94 https://x/ y");
}

TEST_CASE("tail: the time is the notification's, converted to local time") {
  Notification n = Sample();
  n.link = "";
  n.text = "t";
  {
    EnvGuard tz("TZ", "UTC");
    CHECK(FormatNotificationLine(n, kReceived) ==
          "[Nov 28 12:00:00] <Nasqueron/ops> t");
  }
  {
    // Central European time, as a POSIX rule (no tzdata needed): UTC+1 in
    // November, UTC+2 in July.
    EnvGuard tz("TZ", "CET-1CEST,M3.5.0,M10.5.0/3");
    CHECK(FormatNotificationLine(n, kReceived) ==
          "[Nov 28 13:00:00] <Nasqueron/ops> t");
    n.time = "2026-07-01T23:30:05Z";
    CHECK(FormatNotificationLine(n, kReceived) ==
          "[Jul 02 01:30:05] <Nasqueron/ops> t");
  }
  {
    EnvGuard tz("TZ", "EST5");  // UTC-5: the day before.
    n.time = "2026-01-01T02:03:04+00:00";
    CHECK(FormatNotificationLine(n, kReceived) ==
          "[Dec 31 21:03:04] <Nasqueron/ops> t");
    // An offset in the time itself is honoured.
    n.time = "2026-01-01T02:03:04+02:00";
    CHECK(FormatNotificationLine(n, kReceived) ==
          "[Dec 31 19:03:04] <Nasqueron/ops> t");
  }
}

TEST_CASE(
    "tail: a missing or unparseable time falls back to the receive time") {
  EnvGuard tz("TZ", "UTC");
  Notification n = Sample();
  n.link = "";
  n.text = "t";
  for (const char* time : {"", "yesterday", "2026-11-28", "2026-11-28T12:00:00",
                           "2026-02-30T12:00:00Z", "2026-11-28T24:00:00Z"}) {
    CAPTURE(time);
    n.time = time;
    CHECK(FormatNotificationLine(n, kReceived) ==
          "[Nov 28 08:00:00] <Nasqueron/ops> t");
  }
}

TEST_CASE("tail: RFC 3339 times parse to Unix seconds") {
  CHECK(ParseRfc3339("1970-01-01T00:00:00Z") == std::time_t{0});
  CHECK(ParseRfc3339("2026-11-28T08:00:00Z") == kReceived);
  CHECK(ParseRfc3339("2026-11-28t08:00:00.999999z") == kReceived);
  CHECK(ParseRfc3339("2026-11-28 09:30:00+01:30") == kReceived);
  CHECK(ParseRfc3339("2026-11-28T03:00:00-05:00") == kReceived);
  CHECK(ParseRfc3339("2024-02-29T00:00:00Z") == std::time_t{1709164800});
  CHECK(ParseRfc3339("2000-03-01T00:00:00Z") == std::time_t{951868800});
  CHECK(ParseRfc3339("1969-12-31T23:59:59Z") == std::time_t{-1});
  for (const char* bad :
       {"", "2026-11-28T08:00:00", "2026-11-28T08:00:00+0100",
        "2026-11-28T08:00Z", "2026-13-01T00:00:00Z", "2025-02-29T00:00:00Z",
        "2026-11-28T08:60:00Z", "2026-11-28T08:00:61Z", "2026-11-28T08:00:00.Z",
        "2026-11-28T08:00:00Zjunk", "2026-11-28X08:00:00Z",
        "+2026-11-28T08:00:00Z", "2026-11-28T08:00:00+24:00"}) {
    CAPTURE(bad);
    CHECK_FALSE(ParseRfc3339(bad).has_value());
  }
}

// ---- Parsing the stream's data ---------------------------------------------

TEST_CASE(
    "tail: ParseStreamNotification reads the bridge's notification data") {
  Result<Notification> n = ParseStreamNotification(
      R"({"id":"1-0000000042","time":"2026-11-28T12:00:00.123Z","service":"GitHub",)"
      R"("project":"Nasqueron","group":"","type":"push","text":"a\"b\n\u00e9\ud83d\ude80",)"
      R"("link":null,"rawContent":{"deep":[[[{"x":1}]]],"text":5},"future":[1,2]})");
  REQUIRE(n.ok());
  CHECK(n->id == "1-0000000042");
  CHECK(n->time == "2026-11-28T12:00:00.123Z");
  CHECK(n->service == "GitHub");
  CHECK(n->project == "Nasqueron");
  CHECK(n->group == "");
  CHECK(n->type == "push");
  CHECK(n->text == "a\"b\n\xC3\xA9\xF0\x9F\x9A\x80");
  CHECK_FALSE(n->link.has_value());
  CHECK_FALSE(n->raw_content.has_value());  // Never printed: not kept.

  Result<Notification> empty = ParseStreamNotification(" {} \n");
  REQUIRE(empty.ok());
  CHECK(empty->id.empty());
  CHECK(empty->time.empty());
  CHECK_FALSE(empty->text.has_value());
}

TEST_CASE("tail: ParseStreamNotification survives any nesting in rawContent") {
  std::string deep = R"({"text":"ok","rawContent":)" +
                     std::string(100000, '[') + std::string(100000, ']') + "}";
  Result<Notification> n = ParseStreamNotification(deep);
  REQUIRE(n.ok());
  CHECK(n->text == "ok");
}

TEST_CASE(
    "tail: ParseStreamNotification rejects what is not a notification object") {
  auto error = [](std::string_view data) {
    Result<Notification> n = ParseStreamNotification(data);
    return n.ok() ? std::string("ok") : n.status().message();
  };
  CHECK(error("[]") == "not a JSON object");
  CHECK(error("\"text\"") == "not a JSON object");
  CHECK(error("null") == "not a JSON object");
  CHECK(error(R"({"text":5})") == "\"text\" must be a string or null");
  CHECK(error(R"({"link":{"a":1}})") == "\"link\" must be a string or null");
  CHECK(error(R"({"id":["x"]})") == "\"id\" must be a string or null");
  CHECK(error("") == "not valid JSON at offset 0: The document is empty.");
  CHECK(
      error(R"({"text":"a"} x)") ==
      "not valid JSON at offset 13: The document root must not be followed by "
      "other values.");
  CHECK(error(R"({"text":"a")").rfind("not valid JSON at offset 11: ", 0) == 0);
}

TEST_CASE("tail: a reset event's notice is its message, else its reason") {
  CHECK(
      ResetNotice(
          R"({"reason":"gap-too-large","message":"missed 20000 notifications"})") ==
      "stream reset: missed 20000 notifications");
  CHECK(ResetNotice(R"({"reason":"upstream-reset"})") ==
        "stream reset: upstream-reset");
  CHECK(ResetNotice(R"({"reason":"x","message":"two\nlines"})") ==
        "stream reset: two lines");
  CHECK(ResetNotice("not json") == "stream reset: not json");
  CHECK(ResetNotice(R"({"message":5})") == "stream reset: {\"message\":5}");
}

// ---- URL
// ---------------------------------------------------------------------

TEST_CASE(
    "tail: filters become query parameters, percent-encoded, in a fixed "
    "order") {
  StreamFilters f;
  f.services = {"Jenkins", "GitHub"};
  f.keys = {"nasqueron.ops.#", "*.ci.*"};
  f.projects = {"Nasqueron"};
  f.groups = {""};
  f.types = {"completed.success", "a b&c=d/\xC3\xA9~"};
  f.backlog = 20;
  Result<std::string> url = BuildStreamUrl("http://127.0.0.1:8080/events", f);
  REQUIRE(url.ok());
  CHECK(*url ==
        "http://127.0.0.1:8080/events?project=Nasqueron&group=&service=Jenkins&"
        "service=GitHub&type=completed.success&type=a%20b%26c%3Dd%2F%C3%A9~&"
        "key=nasqueron.ops.%23&key=%2A.ci.%2A&backlog=20");
}

TEST_CASE("tail: the stream URL keeps an existing query and drops a fragment") {
  StreamFilters f;
  f.services = {"Jenkins"};
  auto build = [&f](const std::string& base) {
    Result<std::string> url = BuildStreamUrl(base, f);
    return url.ok() ? *url : "error: " + url.status().message();
  };
  CHECK(build("http://h:8080/events?access_token=t") ==
        "http://h:8080/events?access_token=t&service=Jenkins");
  CHECK(build("http://h/events?") == "http://h/events?service=Jenkins");
  CHECK(build("http://h/events?a=1&") == "http://h/events?a=1&service=Jenkins");
  CHECK(build("https://api.nasqueron.org/notifications/events#top") ==
        "https://api.nasqueron.org/notifications/events?service=Jenkins");
  CHECK(build("HTTP://[::1]:8080/events") ==
        "HTTP://[::1]:8080/events?service=Jenkins");
  f = StreamFilters{};
  CHECK(build("http://h/events#x") == "http://h/events");
  f.backlog = 0;
  CHECK(build("http://user:pw@h/events") ==
        "http://user:pw@h/events?backlog=0");
}

TEST_CASE("tail: a URL that is not http(s) or has no host is refused") {
  auto error = [](const std::string& base) {
    Result<std::string> url = BuildStreamUrl(base, StreamFilters{});
    return url.ok() ? std::string("ok") : url.status().message();
  };
  CHECK(
      error("ftp://h/events") ==
      "invalid URL \"ftp://h/events\": it must start with http:// or https://, "
      "e.g. http://127.0.0.1:8080/events");
  CHECK(error("127.0.0.1:8080/events").find("must start with http://") !=
        std::string::npos);
  CHECK(error("").find("must start with http://") != std::string::npos);
  CHECK(error("http:///events") == "invalid URL \"http:///events\": no host");
  CHECK(error("http://") == "invalid URL \"http://\": no host");
  CHECK(error("http://h:0/events")
            .find("port must be a number from 1 to 65535") !=
        std::string::npos);
  CHECK(error("http://h:99999/events").find("port") != std::string::npos);
  CHECK(error("http://h:80x/events").find("port") != std::string::npos);
  CHECK(error("http://h:/events") ==
        "invalid URL \"http://h:/events\": empty port");
  CHECK(error("http://[::1/events") ==
        "invalid URL \"http://[::1/events\": unclosed '[' in the host");
  CHECK(error("http://h/ev ents").find("percent-encoded") != std::string::npos);
  CHECK(error("http://h/\xC3\xA9").find("percent-encoded") !=
        std::string::npos);
  CHECK(error("http://h/events\n").find("percent-encoded") !=
        std::string::npos);
  CHECK(error("https://h:443/events") == "ok");
}

// ---- Command line
// ------------------------------------------------------------

TailCommandLine Parse(std::vector<const char*> args) {
  args.insert(args.begin(), "notifications-tail");
  return ParseTailCommandLine(static_cast<int>(args.size()), args.data());
}

TEST_CASE("tail: the command line fills the options and the stream URL") {
  TailCommandLine cli =
      Parse({"--service", "Jenkins", "--service", "GitHub", "--group", "",
             "--routing-key", "nasqueron.#", "--backlog", "10", "--json",
             "--once", "--connect-timeout", "2.5", "--idle-timeout", "0",
             "--max-retry-delay", "5", "http://127.0.0.1:8080/events"});
  REQUIRE(cli.action == TailCommandLine::Action::kRun);
  const TailOptions& o = cli.options;
  CHECK(o.url == "http://127.0.0.1:8080/events");
  CHECK(o.stream_url ==
        "http://127.0.0.1:8080/events?group=&service=Jenkins&service=GitHub&"
        "key=nasqueron.%23&backlog=10");
  CHECK(o.json);
  CHECK(o.once);
  CHECK(o.connect_timeout == 2500ms);
  CHECK(o.idle_timeout == 0ms);
  CHECK(o.max_retry_delay == 5000ms);

  TailCommandLine plain = Parse({"http://h/events"});
  REQUIRE(plain.action == TailCommandLine::Action::kRun);
  CHECK(plain.options.stream_url ==
        "http://h/events");  // No backlog= unless asked.
  CHECK_FALSE(plain.options.json);
  CHECK_FALSE(plain.options.once);
  CHECK(plain.options.connect_timeout == 10000ms);
  CHECK(plain.options.idle_timeout == 60000ms);
  CHECK(plain.options.max_retry_delay == 30000ms);
}

TEST_CASE("tail: every flag can come from a NOTIFICATIONS_TAIL_ variable") {
  EnvGuard url("NOTIFICATIONS_TAIL_URL", "http://h/events");
  EnvGuard service("NOTIFICATIONS_TAIL_SERVICE", "Jenkins,GitHub");
  EnvGuard key("NOTIFICATIONS_TAIL_ROUTING_KEY", "*.ci.#");
  EnvGuard backlog("NOTIFICATIONS_TAIL_BACKLOG", "3");
  EnvGuard json("NOTIFICATIONS_TAIL_JSON", "1");
  EnvGuard idle("NOTIFICATIONS_TAIL_IDLE_TIMEOUT", "7");
  TailCommandLine cli = Parse({});
  REQUIRE(cli.action == TailCommandLine::Action::kRun);
  CHECK(cli.options.stream_url ==
        "http://h/"
        "events?service=Jenkins&service=GitHub&key=%2A.ci.%23&backlog=3");
  CHECK(cli.options.json);
  CHECK(cli.options.idle_timeout == 7000ms);
  // The command line wins.
  TailCommandLine both =
      Parse({"--service", "Phabricator", "http://other/events"});
  REQUIRE(both.action == TailCommandLine::Action::kRun);
  CHECK(both.options.stream_url ==
        "http://other/events?service=Phabricator&key=%2A.ci.%23&backlog=3");
}

TEST_CASE("tail: usage errors exit 2 with one line naming the problem") {
  struct Case {
    std::vector<const char*> args;
    std::string expected;
  };
  std::vector<Case> cases = {
      {{}, "notifications-tail: URL is required"},
      {{"ftp://h/events"},
       "notifications-tail: invalid URL \"ftp://h/events\": it must start with "
       "http://"},
      {{"http:///events"},
       "notifications-tail: invalid URL \"http:///events\": no host"},
      {{"--backlog", "-1", "http://h/events"}, "notifications-tail: --backlog"},
      {{"--backlog", "many", "http://h/events"},
       "notifications-tail: --backlog"},
      {{"--connect-timeout", "0", "http://h/events"},
       "notifications-tail: --connect-timeout"},
      {{"--bogus", "http://h/events"},
       "notifications-tail: The following argument was not expected: --bogus"},
      {{"http://a/events", "http://b/events"},
       "notifications-tail: The following argument was not expected"},
  };
  for (const Case& c : cases) {
    TailCommandLine cli = Parse(c.args);
    CAPTURE(cli.text);
    CHECK(cli.action == TailCommandLine::Action::kExit);
    CHECK(cli.exit_code == 2);
    CHECK(cli.text.rfind(c.expected, 0) == 0);
  }
}

TEST_CASE("tail: --help lists every flag, --version prints the version") {
  TailCommandLine help = Parse({"--help"});
  CHECK(help.action == TailCommandLine::Action::kExit);
  CHECK(help.exit_code == 0);
  for (const char* flag :
       {"URL", "--project", "--group", "--service", "--type", "--routing-key",
        "--backlog", "--json", "--once", "--connect-timeout", "--idle-timeout",
        "--max-retry-delay", "--version", "NOTIFICATIONS_TAIL_URL",
        "NOTIFICATIONS_TAIL_ROUTING_KEY", "Exit codes"}) {
    CAPTURE(flag);
    CHECK(help.text.find(flag) != std::string::npos);
  }
  TailCommandLine version = Parse({"--version"});
  CHECK(version.action == TailCommandLine::Action::kExit);
  CHECK(version.exit_code == 0);
  CHECK(version.text ==
        std::string("notifications-tail ") + NB_VERSION_STRING + "\n");
}

// ---- Printer, retry delay, rejection messages
// --------------------------------

// Output sinks that record lines; thread-safe (a TailClient calls them on
// its own thread).
class Captured {
 public:
  TailSinks sinks() {
    return TailSinks{[this](const std::string& line) {
                       std::lock_guard<std::mutex> lock(mu_);
                       out_.push_back(line);
                       return out_ok_;
                     },
                     [this](const std::string& line) {
                       std::lock_guard<std::mutex> lock(mu_);
                       err_.push_back(line);
                     }};
  }
  void FailOutput() {
    std::lock_guard<std::mutex> lock(mu_);
    out_ok_ = false;
  }
  std::vector<std::string> out() {
    std::lock_guard<std::mutex> lock(mu_);
    return out_;
  }
  std::vector<std::string> err() {
    std::lock_guard<std::mutex> lock(mu_);
    return err_;
  }
  // Waits until `n` lines were given to `out`.
  bool WaitForOut(size_t n, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (out().size() < n) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::sleep_for(10ms);
    }
    return true;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> out_;
  std::vector<std::string> err_;
  bool out_ok_ = true;
};

SseParser::Event Event(std::string type, std::string data, std::string id) {
  return SseParser::Event{std::move(type), std::move(data), std::move(id)};
}

std::string Data(const std::string& id, const std::string& text) {
  return R"({"id":")" + id +
         R"(","time":"2026-11-28T12:00:00Z","service":"GitHub",)"
         R"("project":"Nasqueron","group":"ops","type":"push","text":")" +
         text + R"(","link":""})";
}

TEST_CASE(
    "tail: the printer prints notifications, notes resets, ignores the rest") {
  EnvGuard tz("TZ", "UTC");
  Captured c;
  TailPrinter printer(false, c.sinks());
  CHECK(printer.OnEvent(Event("notification", Data("1-1", "one"), "1-1"),
                        kReceived));
  CHECK(printer.OnEvent(Event("message", "hello", "1-1"), kReceived));
  CHECK(printer.OnEvent(Event("ping", "{}", "1-1"), kReceived));
  CHECK(printer.OnEvent(
      Event("reset", R"({"reason":"gap-too-large","message":"m"})", ""),
      kReceived));
  CHECK(printer.OnEvent(Event("notification", Data("1-2", "two"), "1-2"),
                        kReceived));
  CHECK(printer.OnEvent(Event("notification", "[1]", "1-3"), kReceived));
  CHECK(c.out() ==
        std::vector<std::string>{"[Nov 28 12:00:00] <Nasqueron/ops> one",
                                 "[Nov 28 12:00:00] <Nasqueron/ops> two"});
  CHECK(c.err() ==
        std::vector<std::string>{
            "stream reset: m", "skipped notification 1-3: not a JSON object"});
  CHECK(printer.printed() == 2);
}

TEST_CASE(
    "tail: --json prints the data exactly as received, one object per line") {
  Captured c;
  TailPrinter printer(true, c.sinks());
  std::string data =
      R"({"id":"1-1","text":"caf\u00e9 \"q\" é","link":null, "x" : [1]})";
  CHECK(printer.OnEvent(Event("notification", data, "1-1"), kReceived));
  CHECK(
      printer.OnEvent(Event("notification", "{\"a\":\n1}", "1-2"), kReceived));
  CHECK(printer.OnEvent(Event("notification", "not json", "1-3"), kReceived));
  CHECK(printer.OnEvent(Event("reset", R"({"message":"m"})", ""), kReceived));
  CHECK(c.out() == std::vector<std::string>{data, "{\"a\": 1}", "not json"});
  CHECK(c.err() == std::vector<std::string>{"stream reset: m"});
}

TEST_CASE(
    "tail: a notification already printed is never printed twice, until a "
    "reset") {
  Captured c;
  TailPrinter printer(true, c.sinks());
  for (const char* id : {"1-2", "1-3", "1-3", "1-1", "1-10"}) {
    CHECK(printer.OnEvent(Event("notification", id, id), kReceived));
  }
  CHECK(c.out() == std::vector<std::string>{"1-2", "1-3", "1-10"});
  CHECK(printer.skipped() == 2);
  CHECK(c.err() == std::vector<std::string>{
                       "skipped notification 1-3: already printed (last 1-3)",
                       "skipped notification 1-1: already printed (last 1-3)"});
  CHECK(printer.OnEvent(Event("reset", "{}", ""), kReceived));
  CHECK(printer.OnEvent(Event("notification", "0-5", "0-5"), kReceived));
  CHECK(c.out().back() == "0-5");
}

TEST_CASE("tail: the printer reports an output that cannot be written") {
  Captured c;
  c.FailOutput();
  TailPrinter printer(true, c.sinks());
  CHECK_FALSE(printer.OnEvent(Event("notification", "{}", "1-1"), kReceived));
}

TEST_CASE(
    "tail: the retry delay honours retry:, then backs off with jitter to a "
    "cap") {
  const auto cap = 30000ms;
  CHECK(TailRetryDelay(3417ms, 1, cap, 0.99) == 3417ms);
  CHECK(TailRetryDelay(3417ms, 0, cap, 0.5) == 3417ms);
  // Failure n waits in [retry * 2^(n-2), retry * 2^(n-1)], never below retry.
  CHECK(TailRetryDelay(3000ms, 2, cap, 0.0) == 3000ms);
  CHECK(TailRetryDelay(3000ms, 2, cap, 0.999) >= 5990ms);
  CHECK(TailRetryDelay(3000ms, 3, cap, 0.0) == 6000ms);
  CHECK(TailRetryDelay(3000ms, 3, cap, 0.5) == 9000ms);
  CHECK(TailRetryDelay(3000ms, 20, cap, 0.0) == 15000ms);
  CHECK(TailRetryDelay(3000ms, 64, cap, 0.999) <= cap);
  CHECK(TailRetryDelay(3000ms, 64, cap, 0.999) > 29000ms);
  // A server asking for more than the cap (a full bridge) is obeyed.
  CHECK(TailRetryDelay(45000ms, 1, cap, 0.5) == 45000ms);
  CHECK(TailRetryDelay(45000ms, 9, cap, 0.0) == 45000ms);
  // retry: 0 reconnects at once, but repeated failures still back off.
  CHECK(TailRetryDelay(0ms, 1, cap, 0.5) == 0ms);
  CHECK(TailRetryDelay(0ms, 2, cap, 0.0) == 1000ms);
}

TEST_CASE("tail: a response is a stream only as 200 text/event-stream") {
  CHECK(IsEventStream("text/event-stream"));
  CHECK(IsEventStream("Text/Event-Stream; charset=utf-8"));
  CHECK(IsEventStream(" text/event-stream "));
  CHECK_FALSE(IsEventStream("text/plain"));
  CHECK_FALSE(IsEventStream(""));
  CHECK_FALSE(IsEventStream("text/event-streams"));
}

TEST_CASE("tail: a response that is not a stream gets a one-line explanation") {
  CHECK(
      DescribeRejectedStream("http://h:1/events", 404, "application/json",
                             R"({"error":"not_found","message":"no"})") ==
      "http://h:1/events answered HTTP 404: not a notifications bridge stream "
      "(expected 200 text/event-stream)");
  CHECK(
      DescribeRejectedStream("http://h:1/delivery/status", 200, "text/plain",
                             "ALIVE") ==
      "http://h:1/delivery/status answered with Content-Type text/plain: not a "
      "notifications bridge stream (expected 200 text/event-stream) "
      "\xE2\x80\x94 is "
      "the path right? A bridge's stream is at /events");
  CHECK(DescribeRejectedStream("http://h:1/events?x=1", 200, "", "") ==
        "http://h:1/events?x=1 answered without a Content-Type: not a "
        "notifications "
        "bridge stream (expected 200 text/event-stream)");
  CHECK(
      DescribeRejectedStream(
          "http://h/events", 400, "application/json",
          R"({"error":"bad_request","message":"backlog must be a whole number, e.g. backlog=50"})") ==
      "http://h/events answered HTTP 400: bad_request: backlog must be a whole "
      "number, e.g. backlog=50");
  CHECK(DescribeRejectedStream(
            "http://h/events", 401, "application/json",
            R"({"error":"unauthorized","message":"wrong stream token"})") ==
        "http://h/events answered HTTP 401: unauthorized: wrong stream token");
  CHECK(DescribeRejectedStream("http://h/events", 400, "text/html",
                               "<h1>Bad</h1>") ==
        "http://h/events answered HTTP 400: not a notifications bridge stream "
        "(expected 200 text/event-stream)");
  CHECK(DescribeRejectedStream("http://h/events", 502, "text/html", "") ==
        "http://h/events answered HTTP 502: not a notifications bridge stream "
        "(expected 200 text/event-stream)");
}

// ---- The real binary against the real mock and bridge
// -------------------------

std::string Body(const std::string& service, const std::string& group,
                 const std::string& type, const std::string& text,
                 const std::string& link = "") {
  return "{\"service\":\"" + service + "\",\"group\":\"" + group +
         "\",\"type\":\"" + type + "\",\"text\":\"" + text + "\",\"link\":\"" +
         link + "\"}";
}

std::unique_ptr<ChildProcess> Tail(std::vector<std::string> args) {
  args.insert(args.begin(), NB_TAIL_EXE);
  return std::make_unique<ChildProcess>(args);
}

// The next `n` stdout lines (fewer after `timeout`).
std::vector<std::string> Lines(ChildProcess& p, size_t n,
                               std::chrono::milliseconds timeout) {
  std::vector<std::string> lines;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (lines.size() < n) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    std::string line = p.WaitForLine("", left);
    if (line.empty()) break;  // Timeout (the tail never prints empty lines).
    lines.push_back(line);
  }
  return lines;
}

// Waits until the child's stderr contains `needle`.
bool WaitForStderr(const ChildProcess& p, const std::string& needle,
                   std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (p.Stderr().find(needle) != std::string::npos) return true;
    std::this_thread::sleep_for(20ms);
  }
  return p.Stderr().find(needle) != std::string::npos;
}

// The text after "] " of a formatted line.
std::string AfterTime(const std::string& line) {
  size_t at = line.find("] ");
  return at == std::string::npos ? line : line.substr(at + 2);
}

// The tail is connected once the bridge counts its stream.
void WaitForClients(const BridgeProcess& bridge, int n) {
  const std::string gauge =
      "notifications_bridge_clients_connected " + std::to_string(n) + "\n";
  for (int i = 0; i < 500; ++i) {
    if (testing::HttpRequestTo(bridge.url("/metrics")).body.find(gauge) !=
        std::string::npos) {
      return;
    }
    std::this_thread::sleep_for(20ms);
  }
  FAIL("the bridge never had " << n << " client(s)");
}

TEST_CASE(
    "tail: the binary prints each posted notification in the line format") {
  EnvGuard tz("TZ", "UTC");  // Inherited by the child.
  MockApiProcess mock;
  BridgeProcess bridge(mock.base_url());
  REQUIRE(bridge.port > 0);
  auto text = Tail({bridge.url("/events")});
  auto json = Tail({"--json", bridge.url("/events")});
  WaitForClients(bridge, 2);
  REQUIRE_FALSE(
      mock.Post(Body("GitHub", "ops", "push", "dereckson pushed 1 commit",
                     "https://github.com/nasqueron/operations"))
          .empty());
  REQUIRE_FALSE(
      mock.Post(
              R"({"service":"Phabricator","group":"devtools","type":"TASK",)"
              R"("text":"T1210: r\u00e9sum\u00e9 \u2014 \ud83d\ude80\nsecond line","link":""})")
          .empty());
  REQUIRE_FALSE(
      mock.Post(
              R"({"service":"Jenkins","group":"","type":"started","text":null,"link":null})")
          .empty());
  std::vector<std::string> lines = Lines(*text, 3, 10s);
  std::vector<std::string> objects = Lines(*json, 3, 10s);
  REQUIRE(lines.size() == 3);
  REQUIRE(objects.size() == 3);
  CHECK(AfterTime(lines[0]) ==
        "<Nasqueron/ops> dereckson pushed 1 commit \xE2\x80\x94 "
        "https://github.com/nasqueron/operations");
  CHECK(AfterTime(lines[1]) ==
        "<Nasqueron/devtools> T1210: r\xC3\xA9sum\xC3\xA9 \xE2\x80\x94 "
        "\xF0\x9F\x9A\x80 second line");
  CHECK(AfterTime(lines[2]) == "<Nasqueron/> ");
  // Byte for byte, time included: each line is the format of the
  // notification the bridge sent (its `time`, shown in UTC here).
  for (size_t i = 0; i < 3; ++i) {
    Result<Notification> n = ParseStreamNotification(objects[i]);
    REQUIRE(n.ok());
    REQUIRE(ParseRfc3339(n->time).has_value());
    CHECK(lines[i] == FormatNotificationLine(*n, 0));
  }
  text->Signal(SIGTERM);
  json->Signal(SIGTERM);
  CHECK(text->Wait(5s) == 0);
  CHECK(json->Wait(5s) == 0);
}

TEST_CASE(
    "tail: --json prints each event's data exactly as the bridge sent it") {
  MockApiProcess mock;
  BridgeProcess bridge(mock.base_url());
  auto tail = Tail({"--json", bridge.url("/events")});
  SseClient reference(bridge.url("/events"));
  WaitForClients(bridge, 2);
  mock.Post(
      Body("GitHub", "ops", "push", "a \\\"quoted\\\" \\u00e9", "https://x/y"));
  mock.Post(
      R"({"service":"Jenkins","group":"ci","type":"completed.failure","text":null,"link":null})");
  auto events = reference.WaitFor(2, 10s);
  std::vector<std::string> objects = Lines(*tail, 2, 10s);
  REQUIRE(events.size() == 2);
  REQUIRE(objects.size() == 2);
  CHECK(objects[0] == events[0].data);
  CHECK(objects[1] == events[1].data);
  CHECK(objects[0].find(R"("text":"a \"quoted\" é")") != std::string::npos);
}

TEST_CASE(
    "tail: --service Jenkins prints only Jenkins notifications (filtered by "
    "the bridge)") {
  MockApiProcess mock;
  BridgeProcess bridge(mock.base_url());
  auto tail = Tail({"--service", "Jenkins", bridge.url("/events")});
  auto ops = Tail({"--routing-key", "nasqueron.ops.#", "--type", "push",
                   bridge.url("/events")});
  WaitForClients(bridge, 2);
  mock.Post(Body("GitHub", "ops", "push", "g1"));
  mock.Post(Body("Jenkins", "ci", "started", "j1"));
  mock.Post(Body("GitHub", "ci", "push", "g2"));
  mock.Post(Body("Jenkins", "ops", "completed.success", "j2"));
  mock.Post(Body("GitHub", "ops", "push", "g3"), "Wolfplex");
  mock.Post(Body("Jenkins", "ci", "completed.failure", "j3"));
  mock.Post(Body("GitHub", "ops", "push", "g4"));
  std::vector<std::string> lines = Lines(*tail, 3, 10s);
  REQUIRE(lines.size() == 3);
  CHECK(AfterTime(lines[0]) == "<Nasqueron/ci> j1");
  CHECK(AfterTime(lines[1]) == "<Nasqueron/ops> j2");
  CHECK(AfterTime(lines[2]) == "<Nasqueron/ci> j3");
  std::vector<std::string> pushes = Lines(*ops, 2, 10s);
  REQUIRE(pushes.size() == 2);
  CHECK(AfterTime(pushes[0]) == "<Nasqueron/ops> g1");
  CHECK(AfterTime(pushes[1]) == "<Nasqueron/ops> g4");
  // Nothing else arrives.
  CHECK(Lines(*tail, 1, 500ms).empty());
  CHECK(Lines(*ops, 1, 10ms).empty());
}

TEST_CASE("tail: --backlog N first prints the N most recent notifications") {
  MockApiProcess mock;
  for (int i = 0; i < 6; ++i)
    mock.Post(Body("GitHub", "ops", "push", "old" + std::to_string(i)));
  BridgeProcess bridge(mock.base_url());
  std::this_thread::sleep_for(500ms);  // Its first polls fill its history.
  auto tail = Tail({"--backlog", "3", bridge.url("/events")});
  std::vector<std::string> lines = Lines(*tail, 3, 10s);
  REQUIRE(lines.size() == 3);
  CHECK(AfterTime(lines[0]) == "<Nasqueron/ops> old3");
  CHECK(AfterTime(lines[1]) == "<Nasqueron/ops> old4");
  CHECK(AfterTime(lines[2]) == "<Nasqueron/ops> old5");
  mock.Post(Body("GitHub", "ops", "push", "live"));
  std::vector<std::string> live = Lines(*tail, 1, 10s);
  REQUIRE(live.size() == 1);
  CHECK(AfterTime(live[0]) == "<Nasqueron/ops> live");
}

TEST_CASE(
    "tail: after the bridge is killed and restarted, every notification is "
    "printed once, in order") {
  MockApiProcess mock;
  const std::vector<std::string> fast = {"--retry", "0.2"};
  auto bridge = std::make_unique<BridgeProcess>(mock.base_url(), fast);
  const int port = bridge->port;
  REQUIRE(port > 0);
  auto tail = Tail({"--json", bridge->url("/events")});
  WaitForClients(*bridge, 1);
  std::vector<std::string> expected;
  for (int i = 0; i < 3; ++i)
    expected.push_back(
        mock.Post(Body("GitHub", "ops", "push", "before" + std::to_string(i))));
  std::vector<std::string> seen = Lines(*tail, 3, 10s);
  REQUIRE(seen.size() == 3);

  bridge->process->Signal(SIGKILL);
  REQUIRE(bridge->process->Wait(5s) >= 0);
  for (int i = 0; i < 3; ++i)
    expected.push_back(
        mock.Post(Body("GitHub", "ops", "push", "during" + std::to_string(i))));
  // The tail retries against the closed port meanwhile (connection refused).
  CHECK(WaitForStderr(*tail, "cannot connect to", 10s));
  bridge = std::make_unique<BridgeProcess>(mock.base_url(), fast, port);
  REQUIRE(bridge->port == port);
  for (int i = 0; i < 3; ++i)
    expected.push_back(
        mock.Post(Body("GitHub", "ops", "push", "after" + std::to_string(i))));

  std::vector<std::string> more = Lines(*tail, 6, 20s);
  seen.insert(seen.end(), more.begin(), more.end());
  // Nothing more (no duplicate) arrives.
  std::vector<std::string> extra = Lines(*tail, 1, 1s);
  seen.insert(seen.end(), extra.begin(), extra.end());
  std::vector<std::string> ids;
  for (const std::string& object : seen) {
    Result<Notification> n = ParseStreamNotification(object);
    REQUIRE(n.ok());
    ids.push_back(n->id);
  }
  CHECK(ids == expected);
  std::string err = tail->Stderr();
  CAPTURE(err);
  CHECK(err.find("stream interrupted: ") != std::string::npos);
  CHECK(err.find("reconnected, resuming after " + expected[2]) !=
        std::string::npos);
  CHECK(err.find("skipped") ==
        std::string::npos);  // The bridge sent no duplicate.
  tail->Signal(SIGINT);
  CHECK(tail->Wait(5s) == 0);
}

TEST_CASE("tail: a reset prints a notice on stderr and the stream goes on") {
  MockApiProcess mock({"--retention", "5"});
  BridgeProcess bridge(mock.base_url(), {"--poll-interval", "1.5"});
  auto tail = Tail({bridge.url("/events")});
  WaitForClients(bridge, 1);
  mock.Post(Body("GitHub", "ops", "push", "first"));
  std::vector<std::string> first = Lines(*tail, 1, 10s);
  REQUIRE(first.size() == 1);
  CHECK(AfterTime(first[0]) == "<Nasqueron/ops> first");
  // Between two polls, more than the API retains: the bridge resets.
  for (int i = 0; i < 12; ++i)
    mock.Post(Body("GitHub", "ops", "push", "burst" + std::to_string(i)));
  CHECK(WaitForStderr(*tail, "stream reset: ", 10s));
  std::vector<std::string> retained = Lines(*tail, 5, 10s);
  REQUIRE(retained.size() == 5);
  for (int i = 0; i < 5; ++i) {
    CHECK(AfterTime(retained[static_cast<size_t>(i)]) ==
          "<Nasqueron/ops> burst" + std::to_string(7 + i));
  }
  std::string err = tail->Stderr();
  CHECK(err.rfind("stream reset: ", 0) == 0);
  CHECK(err.find('\n') == err.size() - 1);  // One line.
}

TEST_CASE("tail: --once exits 0 when the bridge ends the stream") {
  MockApiProcess mock;
  // A full bridge answers 200 text/event-stream with a long retry: and ends
  // the body at once: a stream that ends cleanly, every time.
  BridgeProcess bridge(mock.base_url(), {"--max-clients", "1"});
  SseClient holder(bridge.url("/events"));
  WaitForClients(bridge, 1);
  auto tail = Tail({"--once", bridge.url("/events")});
  CHECK(tail->Wait(10s) == 0);
  CHECK(tail->Stderr().empty());
  // Without --once, the same end is followed by a reconnection after the
  // bridge's (long) retry:.
  auto again = Tail({bridge.url("/events")});
  CHECK(WaitForStderr(*again, "the bridge ended the stream; reconnecting in ",
                      10s));
  again->Signal(SIGTERM);
  CHECK(again->Wait(5s) == 0);
}

TEST_CASE(
    "tail: --once after a bridge shutdown exits 0 on a clean end, 1 on a cut") {
  MockApiProcess mock;
  BridgeProcess bridge(mock.base_url());
  auto tail = Tail({"--once", bridge.url("/events")});
  WaitForClients(bridge, 1);
  mock.Post(Body("GitHub", "ops", "push", "only"));
  REQUIRE(Lines(*tail, 1, 10s).size() == 1);
  bridge.process->Signal(
      SIGTERM);  // Should end every stream with its final chunk.
  int code = tail->Wait(10s);
  std::string err = tail->Stderr();
  CAPTURE(err);
  // The bridge sometimes closes without the final chunk on SIGTERM (a race
  // between its hub shutdown and httplib's stop); the tail must tell the two
  // apart either way.
  if (code == 0) {
    CHECK(err.empty());
  } else {
    CHECK(code == 1);
    CHECK(err.rfind("notifications-tail: stream interrupted: ", 0) == 0);
  }
}

TEST_CASE("tail: SIGINT and SIGTERM exit 0 promptly") {
  MockApiProcess mock;
  // A fast heartbeat: the bridge notices a closed stream at its next write.
  BridgeProcess bridge(mock.base_url(), {"--heartbeat", "0.2"});
  for (int sig : {SIGINT, SIGTERM}) {
    CAPTURE(sig);
    auto tail = Tail({bridge.url("/events")});
    WaitForClients(bridge, 1);
    auto start = std::chrono::steady_clock::now();
    tail->Signal(sig);
    CHECK(tail->Wait(5s) == 0);
    CHECK(std::chrono::steady_clock::now() - start < 1s);
    CHECK(tail->Stderr().empty());
    WaitForClients(bridge, 0);  // The bridge noticed the closed stream.
  }
  // Also while waiting between two connections.
  auto tail = Tail({"--max-retry-delay", "60", bridge.url("/events")});
  WaitForClients(bridge, 1);
  bridge.process->Signal(SIGKILL);
  REQUIRE(WaitForStderr(*tail, "reconnecting in", 10s));
  auto start = std::chrono::steady_clock::now();
  tail->Signal(SIGTERM);
  CHECK(tail->Wait(5s) == 0);
  CHECK(std::chrono::steady_clock::now() - start < 1s);
}

TEST_CASE("tail: a refused port exits 1 with 'cannot connect to'") {
  // A port that was just free: bind one, note it, close it.
  MockApiProcess mock;
  int port = mock.port;
  mock.process->Signal(SIGKILL);
  mock.process->Wait(5s);
  std::string url = "http://127.0.0.1:" + std::to_string(port) + "/events";
  auto tail = Tail({url});
  CHECK(tail->Wait(10s) == 1);
  std::string err = tail->Stderr();
  CHECK(err.rfind("notifications-tail: cannot connect to " + url + ": ", 0) ==
        0);
  CHECK(err.find("Connection refused") != std::string::npos);
  CHECK(err.find('\n') == err.size() - 1);
}

TEST_CASE(
    "tail: a URL that is not a bridge stream exits 1 with a clear message") {
  MockApiProcess mock;
  BridgeProcess bridge(mock.base_url());
  struct Case {
    std::string url;
    std::vector<std::string> flags;
    std::string expected;
  };
  const std::string mock_status =
      "http://127.0.0.1:" + std::to_string(mock.port) + "/delivery/status";
  std::vector<Case> cases = {
      {mock_status,
       {},
       "notifications-tail: " + mock_status +
           " answered with Content-Type text/plain: not a notifications bridge "
           "stream "
           "(expected 200 text/event-stream) \xE2\x80\x94 is the path right? A "
           "bridge's stream is at /events\n"},
      {bridge.url("/nothing/here"),
       {},
       "notifications-tail: " + bridge.url("/nothing/here") +
           " answered HTTP 404: not a notifications bridge stream (expected "
           "200 "
           "text/event-stream) \xE2\x80\x94 is the path right? A bridge's "
           "stream is at "
           "/events\n"},
      {bridge.url("/events"),
       {"--routing-key", "nasqueron.ops#"},
       "notifications-tail: " + bridge.url("/events") +
           " answered HTTP 400: "
           "bad_request: key: "},
  };
  for (const Case& c : cases) {
    CAPTURE(c.url);
    std::vector<std::string> args = c.flags;
    args.push_back(c.url);
    auto tail = Tail(args);
    CHECK(tail->Wait(10s) == 1);
    std::string err = tail->Stderr();
    CAPTURE(err);
    CHECK(err.rfind(c.expected, 0) == 0);
    CHECK(err.find('\n') == err.size() - 1);
  }
  auto bad = Tail({"ftp://127.0.0.1/events"});
  CHECK(bad->Wait(10s) == 2);
  CHECK(bad->Stderr().rfind("notifications-tail: invalid URL", 0) == 0);
}

TEST_CASE("tail: the binary answers --help and --version") {
  auto help = Tail({"--help"});
  std::string usage = help->WaitForLine("Usage:", 10s);
  CHECK(usage == "Usage: notifications-tail [OPTIONS] URL");
  CHECK(help->Wait(10s) == 0);
  auto version = Tail({"--version"});
  CHECK(version->WaitForLine("", 10s) ==
        std::string("notifications-tail ") + NB_VERSION_STRING);
  CHECK(version->Wait(10s) == 0);
}

// ---- TailClient in-process
// ----------------------------------------------------

TailOptions OptionsFor(const std::string& url) {
  TailOptions o;
  o.url = url;
  o.stream_url = url;
  return o;
}

TEST_CASE("tail: TailClient::Stop() from another thread ends Run() promptly") {
  MockApiProcess mock;
  BridgeProcess bridge(mock.base_url());
  Captured c;
  TailClient client(OptionsFor(bridge.url("/events")), c.sinks());
  Status status = Status::Unavailable("not run");
  std::thread runner([&] { status = client.Run(); });
  WaitForClients(bridge, 1);
  mock.Post(Body("GitHub", "ops", "push", "x"));
  CHECK(c.WaitForOut(1, 10s));
  auto start = std::chrono::steady_clock::now();
  client.Stop();
  runner.join();
  CHECK(std::chrono::steady_clock::now() - start < 500ms);
  CHECK(status.ok());
  REQUIRE(c.out().size() == 1);
  CHECK(AfterTime(c.out()[0]) == "<Nasqueron/ops> x");
  // Stop() before Run(): Run() returns at once.
  TailClient stopped(OptionsFor(bridge.url("/events")), c.sinks());
  stopped.Stop();
  CHECK(stopped.Run().ok());
}

TEST_CASE(
    "tail: TailClient's first-connection failures are errors, with their "
    "kind") {
  MockApiProcess mock;
  Captured c;
  TailClient not_stream(
      OptionsFor("http://127.0.0.1:" + std::to_string(mock.port) +
                 "/delivery/status"),
      c.sinks());
  Status status = not_stream.Run();
  CHECK(status.code() == Status::Code::kInvalidArgument);
  CHECK(status.message().find("not a notifications bridge stream") !=
        std::string::npos);
  int port = mock.port;
  mock.process->Signal(SIGKILL);
  mock.process->Wait(5s);
  TailClient refused(
      OptionsFor("http://127.0.0.1:" + std::to_string(port) + "/events"),
      c.sinks());
  status = refused.Run();
  CHECK(status.code() == Status::Code::kUnavailable);
  CHECK(status.message().rfind("cannot connect to http://127.0.0.1:", 0) == 0);
  CHECK(c.out().empty());
  CHECK(c.err().empty());
}

TEST_CASE(
    "tail: a silent stream is taken as dead after --idle-timeout and resumed") {
  MockApiProcess mock;
  BridgeProcess bridge(mock.base_url(),
                       {"--heartbeat", "30", "--retry", "0.1"});
  Captured c;
  TailOptions o = OptionsFor(bridge.url("/events"));
  o.json = true;
  o.idle_timeout = 700ms;
  TailClient client(o, c.sinks());
  std::thread runner([&] { (void)client.Run(); });
  WaitForClients(bridge, 1);
  std::vector<std::string> ids;
  ids.push_back(mock.Post(Body("GitHub", "ops", "push", "a")));
  std::this_thread::sleep_for(2s);  // Silent: at least one idle reconnection.
  ids.push_back(mock.Post(Body("GitHub", "ops", "push", "b")));
  CHECK(c.WaitForOut(2, 10s));
  client.Stop();
  runner.join();
  std::vector<std::string> got;
  for (const std::string& object : c.out())
    got.push_back(ParseStreamNotification(object)->id);
  CHECK(got == ids);
  std::vector<std::string> err = c.err();
  REQUIRE_FALSE(err.empty());
  CHECK(err[0].rfind(
            "stream silent for 0.7 s (not even a heartbeat): taken as dead; "
            "reconnecting in ",
            0) == 0);
  bool resumed = false;
  for (const std::string& line : err) {
    if (line == "reconnected, resuming after " + ids[0]) resumed = true;
  }
  CHECK(resumed);
}

}  // namespace
}  // namespace notifications

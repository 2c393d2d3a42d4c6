// notifications-tail's pure formats: the line, the time, the reset notice,
// the stream URL.
#include "tail_format.h"

#include <doctest/doctest.h>

#include <chrono>
#include <ctime>
#include <string>
#include <vector>

#include "env_guard.h"

namespace notifications {
namespace {

using namespace std::chrono_literals;
using testing::EnvGuard;

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

TEST_CASE("tail: printed URLs lose their userinfo and access_token values") {
  CHECK(RedactStreamUrl("http://h/events") == "http://h/events");
  CHECK(RedactStreamUrl(
            "https://u:p@h/events?access_token=s3cret&service=GitHub") ==
        "https://h/events?access_token=***&service=GitHub");
  CHECK(RedactStreamUrl("http://h/e?service=a&access_token=t#frag") ==
        "http://h/e?service=a&access_token=***");
  // The fragment is never sent, and never shown.
  CHECK(RedactStreamUrl("http://h/e#access_token=t") == "http://h/e");
  CHECK(RedactStreamUrl("http://h/e?a=1#y?access_token=t") == "http://h/e?a=1");
  // The name as the bridge decodes it.
  CHECK(RedactStreamUrl("http://h/e?access%5Ftoken=t&access_toke%6E=u") ==
        "http://h/e?access%5Ftoken=***&access_toke%6E=***");
  CHECK(RedactStreamUrl("http://h/e?access_token=a&access_token=b") ==
        "http://h/e?access_token=***&access_token=***");
  // Only that parameter, and only in the query.
  CHECK(RedactStreamUrl("http://h/access_token=x?xaccess_token=y&") ==
        "http://h/access_token=x?xaccess_token=y&");
  CHECK(RedactStreamUrl("http://h/e?access_token") ==
        "http://h/e?access_token");
  // In an error about the URL, too.
  Result<std::string> bad =
      BuildStreamUrl("ftp://h/e?access_token=s3cret", StreamFilters{});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message().find("s3cret") == std::string::npos);
  CHECK(bad.status().message().find("access_token=***") != std::string::npos);
}

TEST_CASE("tail: the stream token is appended last, percent-encoded, once") {
  StreamFilters f;
  f.services = {"Jenkins"};
  CHECK(BuildStreamUrl("http://h/events", f, "a b&c").value() ==
        "http://h/events?service=Jenkins&access_token=a%20b%26c");
  CHECK(BuildStreamUrl("http://h/events?x=1", StreamFilters{}, "t").value() ==
        "http://h/events?x=1&access_token=t");
  Result<std::string> twice =
      BuildStreamUrl("http://h/events?access_token=u", StreamFilters{}, "t");
  REQUIRE_FALSE(twice.ok());
  CHECK_FALSE(
      BuildStreamUrl("http://h/events?access%5ftoken=u", StreamFilters{}, "t")
          .ok());
  CHECK(twice.status().message().rfind("the URL already has an access_token",
                                       0) == 0);
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

}  // namespace
}  // namespace notifications

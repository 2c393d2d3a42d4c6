#include "notification.h"

#include <doctest/doctest.h>

#include <string>

namespace notifications {
namespace {

TEST_CASE("CompareIds orders shorter ids first, then bytewise (shortlex)") {
  CHECK(CompareIds("9", "10") < 0);  // Decimal counters of any length.
  CHECK(CompareIds("10", "9") > 0);
  CHECK(CompareIds("99", "100") < 0);
  CHECK(CompareIds("a", "b") < 0);
  CHECK(CompareIds("B", "a") < 0);  // Bytewise: uppercase sorts first.
  CHECK(CompareIds("1795871727-0000000013", "1795871727-0000000014") < 0);
  CHECK(CompareIds("1795871728-0000000001", "1795871727-0000000099") > 0);
  CHECK(CompareIds("", "0") < 0);
  CHECK(CompareIds("", "") == 0);
  CHECK(CompareIds("abc", "abc") == 0);
  // Only the sign is promised, and it is -1, 0 or 1.
  CHECK(CompareIds("a", "z") == -1);
  CHECK(CompareIds("z", "a") == 1);
}

TEST_CASE("CompareIds is a total order: antisymmetric and transitive over a sample") {
  const std::string ids[] = {"", "0", "1", "9", "10", "99", "100", "A", "Z",
                             "a", "z", "a.b", "a:b", "a-b", "a_b", "zz"};
  for (const std::string& a : ids) {
    for (const std::string& b : ids) {
      CHECK(CompareIds(a, b) == -CompareIds(b, a));
      for (const std::string& c : ids) {
        if (CompareIds(a, b) < 0 && CompareIds(b, c) < 0) CHECK(CompareIds(a, c) < 0);
      }
    }
  }
}

TEST_CASE("IsValidId takes 1 to 128 bytes of [A-Za-z0-9._:-] and nothing else") {
  CHECK(IsValidId("1"));
  CHECK(IsValidId("1795871727-0000000013"));
  CHECK(IsValidId("AZaz09._:-"));
  CHECK(IsValidId(std::string(128, 'x')));
  CHECK_FALSE(IsValidId(""));
  CHECK_FALSE(IsValidId(std::string(129, 'x')));
  constexpr char kBad[] = " \t\r\n\0/\\?#%+=,;\"'<>()[]{}|~`!@$^&*";
  for (char c : std::string(kBad, sizeof kBad - 1)) {
    CAPTURE(static_cast<int>(c));
    CHECK_FALSE(IsValidId(std::string("a") + c + "b"));
  }
  CHECK_FALSE(IsValidId("caf\xC3\xA9"));  // Non-ASCII.
  CHECK_FALSE(IsValidId("\x80"));
}

TEST_CASE("RoutingKey is lowercase project.group.service.type, missing fields as empty words") {
  Notification n;
  n.project = "Nasqueron";
  n.group = "ops";
  n.service = "GitHub";
  n.type = "push";
  CHECK(n.RoutingKey() == "nasqueron.ops.github.push");
  n.service = "Jenkins";
  n.group = "ci";
  n.type = "completed.success";  // Types may hold dots, as Jenkins' do.
  CHECK(n.RoutingKey() == "nasqueron.ci.jenkins.completed.success");
  n.service = "Phabricator";
  n.group = "";
  n.type = "TASK";
  CHECK(n.RoutingKey() == "nasqueron..phabricator.task");
  Notification empty;
  CHECK(empty.RoutingKey() == "...");
  Notification accented;
  accented.project = "Caf\xC3\x89";  // Only ASCII letters are lowered.
  CHECK(accented.RoutingKey() == "caf\xC3\x89...");
}

TEST_CASE("AsciiLower lowers ASCII letters only") {
  CHECK(AsciiLower("DockerHub") == "dockerhub");
  CHECK(AsciiLower("A-Z_0.9") == "a-z_0.9");
  CHECK(AsciiLower("\xC3\x89") == "\xC3\x89");
  CHECK(AsciiLower("") == "");
}

}  // namespace
}  // namespace notifications

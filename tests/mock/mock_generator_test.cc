// The mock's synthetic notifications (the generator thread is tested
// through the API in mock_delivery_api_test.cc).
#include "mock_generator.h"

#include <doctest/doctest.h>

#include <set>
#include <string>

#include "notification_json.h"
#include "notification_parser.h"

namespace notifications {

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

}  // namespace notifications

#include "amqp_url.h"

#include <doctest/doctest.h>

#include "amqp_client.h"

namespace notifications {
namespace {

TEST_CASE("amqp url: user, host, port and vhost, with their defaults") {
  AmqpEndpoint e =
      ParseAmqpUrl("amqp://bridge@rabbitmq.nasqueron.org:5672/dev").value();
  CHECK_FALSE(e.tls);
  CHECK(e.user == "bridge");
  CHECK(e.host == "rabbitmq.nasqueron.org");
  CHECK(e.port == 5672);
  CHECK(e.vhost == "dev");
  CHECK(e.password.empty());
  CHECK(e.heartbeat == std::chrono::seconds(30));

  e = ParseAmqpUrl("amqps://bridge@rabbitmq").value();
  CHECK(e.tls);
  CHECK(e.port == 5671);
  CHECK(e.vhost == "/");
  CHECK(ParseAmqpUrl("amqp://u@h/").value().vhost == "/");
  CHECK(ParseAmqpUrl("amqp://u@h/%2F").value().vhost == "/");
  CHECK(ParseAmqpUrl("amqp://u@h/my%20vhost").value().vhost == "my vhost");
  CHECK(ParseAmqpUrl("amqp://us%40er@h").value().user == "us@er");
  e = ParseAmqpUrl("amqp://u@[::1]:5673/dev").value();
  CHECK(e.host == "::1");
  CHECK(e.port == 5673);
}

TEST_CASE("amqp url: a password in the URL is refused without being repeated") {
  Result<AmqpEndpoint> r = ParseAmqpUrl("amqp://bridge:hunter2@rabbitmq/dev");
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message().find("--amqp-password-file") != std::string::npos);
  CHECK(r.status().message().find("hunter2") == std::string::npos);
}

TEST_CASE("amqp url: malformed URLs say what is wrong") {
  struct Case {
    const char* url;
    const char* mentions;
  };
  for (const Case& c : std::vector<Case>{
           {"http://u@h", "must start with amqp://"},
           {"amqp://h:5672/dev", "needs a user"},
           {"amqp://@h", "user"},
           {"amqp://u@", "needs a host"},
           {"amqp://u@h:0", "port"},
           {"amqp://u@h:65536", "port"},
           {"amqp://u@h:x", "port"},
           {"amqp://u@h:", "empty port"},
           {"amqp://u@h/a/b", "%2F"},
           {"amqp://u@h/dev?heartbeat=5", "query"},
           {"amqp://u@h/%zz", "vhost"},
           {"amqp://u@h/%0A", "vhost"},
           {"amqp://u@[::1", "'['"},
           {"amqp://u@h h", "host"},
       }) {
    Result<AmqpEndpoint> r = ParseAmqpUrl(c.url);
    INFO(c.url);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message().find(c.mentions) != std::string::npos);
  }
}

TEST_CASE("amqp url: the endpoint as text never holds the password") {
  AmqpEndpoint e = ParseAmqpUrl("amqps://bridge@[::1]/%2F").value();
  e.password = "hunter2";
  CHECK(AmqpEndpointText(e) == "amqps://bridge@[::1]:5671/%2F");
  CHECK(AmqpEndpointText(ParseAmqpUrl("amqp://a%20b@h/dev").value()) ==
        "amqp://a%20b@h:5672/dev");
}

TEST_CASE("amqp errors have stable names for logs and metrics") {
  CHECK(std::string(AmqpErrorName(AmqpErrorKind::kAuth)) == "auth");
  CHECK(std::string(AmqpErrorName(AmqpErrorKind::kAccessRefused)) ==
        "access_refused");
  CHECK(std::string(AmqpErrorName(AmqpErrorKind::kNotFound)) == "not_found");
  CHECK(std::string(AmqpErrorName(AmqpErrorKind::kPreconditionFailed)) ==
        "precondition_failed");
  CHECK(std::string(AmqpErrorName(AmqpErrorKind::kHeartbeatTimeout)) ==
        "heartbeat_timeout");
  CHECK(AmqpStatus{}.ok());
  CHECK_FALSE(AmqpStatus::Error(AmqpErrorKind::kTls, "x").ok());
}

}  // namespace
}  // namespace notifications

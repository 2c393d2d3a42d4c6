#include "amqp_message.h"

#include <doctest/doctest.h>

#include <string>

namespace notifications {
namespace {

std::string Body(const std::string& raw_content) {
  return "{\"service\":\"GitHub\",\"project\":\"Nasqueron\",\"group\":\"ops\","
         "\"rawContent\":" +
         raw_content + ",\"type\":\"push\",\"text\":\"pushed\",\"link\":\"\"}";
}

TEST_CASE("amqp message: a notification, rawContent dropped unless kept") {
  AmqpMessageLimits limits;
  AmqpMessage m = ReadAmqpMessage(Body("{\"n\":1}"), limits);
  REQUIRE(m.notification.has_value());
  CHECK(m.problem.empty());
  CHECK(m.notification->service == "GitHub");
  CHECK(m.notification->type == "push");
  CHECK(!m.notification->raw_content.has_value());
  CHECK(m.notification->id.empty());  // The caller sets id and time.
  limits.include_raw_content = true;
  m = ReadAmqpMessage(Body("{\"n\":1}"), limits);
  REQUIRE(m.notification.has_value());
  CHECK(m.notification->raw_content.has_value());
}

TEST_CASE("amqp message: a body over max_body_bytes is not even parsed") {
  AmqpMessageLimits limits;
  limits.max_body_bytes = 10;
  AmqpMessage m = ReadAmqpMessage("{\"a\":\"0123456789\"}", limits);
  CHECK(!m.notification.has_value());
  CHECK(m.too_large);
  CHECK(m.problem == "body of 18 bytes, over the limit of 10");
}

TEST_CASE("amqp message: not a notification is told, not too large") {
  AmqpMessage m = ReadAmqpMessage("[1,2]", AmqpMessageLimits{});
  CHECK(!m.notification.has_value());
  CHECK(!m.too_large);
  CHECK(m.problem == "body must be a JSON object");
}

TEST_CASE(
    "amqp message: max_item_bytes weighs the notification as kept (rawContent "
    "only with --raw-content)") {
  const std::string body = Body("\"" + std::string(5000, 'p') + "\"");
  AmqpMessageLimits limits;
  limits.max_item_bytes = 1000;
  AmqpMessage lean = ReadAmqpMessage(body, limits);
  REQUIRE(lean.notification.has_value());
  CHECK(lean.notification->ByteSize() <= 1000);
  limits.include_raw_content = true;
  AmqpMessage heavy = ReadAmqpMessage(body, limits);
  CHECK(!heavy.notification.has_value());
  CHECK(heavy.too_large);
  CHECK(heavy.problem.rfind("notification of ", 0) == 0);
  CHECK(heavy.problem.find(" bytes, over --max-item-bytes 1000") !=
        std::string::npos);
}

}  // namespace
}  // namespace notifications

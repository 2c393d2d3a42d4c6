#include "amqp_message.h"

#include <doctest/doctest.h>

#include <string>
#include <string_view>

namespace notifications {
namespace {

std::string Body(const std::string& raw_content) {
  return "{\"service\":\"GitHub\",\"project\":\"Nasqueron\",\"group\":\"ops\","
         "\"rawContent\":" +
         raw_content + ",\"type\":\"push\",\"text\":\"pushed\",\"link\":\"\"}";
}

constexpr char kTime[] = "2026-11-28T12:00:00.000Z";

AmqpMessage Read(std::string_view body, const AmqpMessageLimits& limits) {
  return ReadAmqpMessage(body, limits, "17", kTime);
}

TEST_CASE("amqp message: a notification, rawContent dropped unless kept") {
  AmqpMessageLimits limits;
  AmqpMessage m = Read(Body("{\"n\":1}"), limits);
  REQUIRE(m.notification.has_value());
  CHECK(m.problem.empty());
  CHECK(m.notification->service == "GitHub");
  CHECK(m.notification->type == "push");
  CHECK(!m.notification->raw_content.has_value());
  CHECK(m.notification->id == "17");
  CHECK(m.notification->time == kTime);
  limits.include_raw_content = true;
  m = Read(Body("{\"n\":1}"), limits);
  REQUIRE(m.notification.has_value());
  CHECK(m.notification->raw_content.has_value());
}

TEST_CASE("amqp message: a body over max_body_bytes is not even parsed") {
  AmqpMessageLimits limits;
  limits.max_body_bytes = 10;
  AmqpMessage m = Read("{\"a\":\"0123456789\"}", limits);
  CHECK(!m.notification.has_value());
  CHECK(m.too_large);
  CHECK(m.problem == "body of 18 bytes, over the limit of 10");
}

TEST_CASE("amqp message: not a notification is told, not too large") {
  AmqpMessage m = Read("[1,2]", AmqpMessageLimits{});
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
  AmqpMessage lean = Read(body, limits);
  REQUIRE(lean.notification.has_value());
  CHECK(lean.notification->ByteSize() <= 1000);
  limits.include_raw_content = true;
  AmqpMessage heavy = Read(body, limits);
  CHECK(!heavy.notification.has_value());
  CHECK(heavy.too_large);
  CHECK(heavy.problem.rfind("notification of ", 0) == 0);
  CHECK(heavy.problem.find(" bytes, over --max-item-bytes 1000") !=
        std::string::npos);
}

TEST_CASE(
    "amqp message: the weight includes the id and time, as a polling bridge "
    "downstream counts the item") {
  AmqpMessage probe = Read(Body("null"), AmqpMessageLimits{});
  REQUIRE(probe.notification.has_value());
  const size_t weight = probe.notification->ByteSize();
  Notification bare = *probe.notification;
  bare.id.clear();
  bare.time.clear();
  REQUIRE(bare.ByteSize() + 2 + sizeof kTime - 1 <= weight);
  AmqpMessageLimits limits;
  limits.max_item_bytes = weight;
  CHECK(Read(Body("null"), limits).notification.has_value());
  limits.max_item_bytes = weight - 1;  // Would fit without id and time.
  CHECK(Read(Body("null"), limits).too_large);
}

}  // namespace
}  // namespace notifications

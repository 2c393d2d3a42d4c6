#include "amqp_message.h"

#include <utility>

#include "notification_parser.h"

namespace notifications {

AmqpMessage ReadAmqpMessage(std::string_view body,
                            const AmqpMessageLimits& limits, std::string id,
                            std::string time) {
  AmqpMessage m;
  if (body.size() > limits.max_body_bytes) {
    m.problem = "body of " + std::to_string(body.size()) +
                " bytes, over the limit of " +
                std::to_string(limits.max_body_bytes);
    m.too_large = true;
    return m;
  }
  Result<Notification> parsed = ParseAmqpNotification(body);
  if (!parsed.ok()) {
    m.problem = parsed.status().message();
    return m;
  }
  Notification n = std::move(parsed).value();
  n.id = std::move(id);
  n.time = std::move(time);
  if (!limits.include_raw_content) n.raw_content.reset();
  const size_t bytes = n.ByteSize();
  if (bytes > limits.max_item_bytes) {
    m.problem = "notification of " + std::to_string(bytes) +
                " bytes, over --max-item-bytes " +
                std::to_string(limits.max_item_bytes);
    m.too_large = true;
    return m;
  }
  m.notification = std::move(n);
  return m;
}

}  // namespace notifications

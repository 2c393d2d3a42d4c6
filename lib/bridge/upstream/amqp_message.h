// What the bridge makes of one message body from Nasqueron's exchange: a
// notification, or the reason it is skipped. The AMQP source and its gap
// source both read messages through it, so they skip the same ones and
// every bridge on a stream gives the same id to the same notification.
//
//   body over max_body_bytes     skipped, too large ("body of N bytes, over
//                                the limit of M"), not parsed
//   not a notification           skipped (ParseAmqpNotification's message)
//   the notification as kept     skipped, too large ("notification of N
//   over max_item_bytes          bytes, over --max-item-bytes M"): its
//                                fields with its id and time, plus
//                                rawContent only when streams carry it
//                                (Notification::ByteSize), as the polling
//                                source counts an item (so a bridge polling
//                                this one with the same limit takes it too)
//
// rawContent is dropped unless include_raw_content; `id` and `time` are the
// notification's (the caller's: a stream offset, an RFC 3339 time). Pure;
// thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "notification.h"

namespace notifications {

struct AmqpMessageLimits {
  size_t max_body_bytes = size_t{16} << 20;  // --max-page-bytes
  size_t max_item_bytes = size_t{1} << 20;   // --max-item-bytes
  bool include_raw_content = false;          // --raw-content
};

struct AmqpMessage {
  std::optional<Notification> notification;  // Set when it is one.
  std::string problem;                       // Otherwise why not, for the log.
  bool too_large = false;  // Skipped for its size (either limit).
};

AmqpMessage ReadAmqpMessage(std::string_view body,
                            const AmqpMessageLimits& limits, std::string id,
                            std::string time);

}  // namespace notifications

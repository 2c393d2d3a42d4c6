// Notification: one line of Nasqueron's Notifications Center, as delivered
// by the delivery API (docs/delivery-api.md), plus what the bridge adds.
//
// A plain value type; not thread-safe, cheap to copy relative to its size.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace notifications {

struct Notification {
  // Opaque upstream id, 1..128 bytes of [A-Za-z0-9._:-]. See IsValidId().
  std::string id;
  // RFC 3339 UTC time the delivery API received it, e.g.
  // "2026-11-28T12:00:00Z". Empty when upstream gave none; the bridge fills
  // it with its first-seen time before streaming.
  std::string time;
  // Payload fields. nullopt means "missing or null upstream"; an empty
  // string means upstream sent "".
  std::optional<std::string> service;
  std::optional<std::string> project;
  std::optional<std::string> group;
  std::optional<std::string> type;
  std::optional<std::string> text;
  std::optional<std::string> link;
  // rawContent as compact JSON text (any JSON value), nullopt when missing or
  // null. Kept verbatim so it can be re-emitted without re-parsing.
  std::optional<std::string> raw_content;

  // Lowercased AMQP routing key "project.group.service.type" as the
  // Notifications Center publishes it (missing fields are empty words).
  std::string RoutingKey() const;

  // Bytes of text this notification holds (id, time, every field,
  // rawContent): what it costs to keep, give or take the containers'
  // fixed overhead. For size caps.
  size_t ByteSize() const;
};

// True when `id` is 1..128 bytes, each in [A-Za-z0-9._:-].
bool IsValidId(const std::string& id);

// Total order of ids, as defined by the contract: shorter ids sort first,
// equal lengths compare bytewise ("shortlex"). This orders plain decimal
// counters and fixed-width ids alike. Returns <0, 0 or >0.
int CompareIds(const std::string& a, const std::string& b);

// ASCII lowercase copy of `s` (bytes >= 0x80 are kept as they are).
std::string AsciiLower(const std::string& s);

}  // namespace notifications

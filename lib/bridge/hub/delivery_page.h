// The delivery API served from the bridge's own history (`--serve-delivery-
// api`), so a bridge that consumes RabbitMQ can feed bridges that only poll:
// bridge(AMQP) -> bridge(polling) -> browsers. The contract is
// docs/delivery-api.md, with the bridge's ids as cursors; these are its
// pure parts (the HTTP route only moves bytes and holds long-polls).
//
//   GET {base}/notifications?after=&limit=&wait=
//     after absent        the page starts at the oldest retained notification
//     after retained, or  the notifications with a greater id (CompareIds),
//     newer than every    oldest first, at most `limit`; `cursor` the last
//     one (not yet        one's id, or `after` when the page is empty
//     published)
//     after older than    410 {"error":"gone",...}: the caller restarts
//     the history         without `after` (the hub's horizon: evicted, or
//                         forgotten by a reset, or before the source's
//                         start)
//     more                true when more retained notifications follow the
//                         page
//   Errors as the contract: 400 bad_request for a limit not an integer in
//   1..1000, a wait not an integer in 0..300, an after that is not an id, a
//   parameter given twice; unknown parameters are ignored.
//
// Long-poll: a 200 page with no notification for a query with wait > 0 is
// `empty`: the route holds the request and renders again when the hub has
// news (or answers this page when `wait` is over).
//
// Pure functions, thread-safe.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "event_hub.h"
#include "status.h"

namespace notifications {

struct DeliveryQuery {
  std::optional<std::string> after;
  size_t limit = 100;            // 1..1000
  std::chrono::seconds wait{0};  // 0..300
};

// From the request's query parameters, decoded, in their order. Errors are
// kInvalidArgument with the message of the 400 body, e.g.
// "limit must be an integer from 1 to 1000, got \"0\"".
Result<DeliveryQuery> ParseDeliveryQuery(
    const std::vector<std::pair<std::string, std::string>>& params);

struct DeliveryAnswer {
  int status = 200;
  std::string body;    // application/json
  bool empty = false;  // 200 without notification: a long-poll may hold it.
};

// What a page holds at most, about (the notifications' text, before JSON
// escaping): a page stops before the notification that would pass it (one
// is always given, however large) and says `more`. Every answer is built
// for its request, so this bounds what one slow caller makes the server
// hold, as the 1 MiB bound does for a stream.
inline constexpr size_t kDefaultDeliveryPageBytes = 256 * 1024;

// The answer to `query` from `snapshot` (EventHub::TakeSnapshot()). Items
// carry rawContent only when `include_raw_content`.
DeliveryAnswer RenderDeliveryPage(
    const EventHub::Snapshot& snapshot, const DeliveryQuery& query,
    bool include_raw_content,
    size_t max_page_bytes = kDefaultDeliveryPageBytes);

// The answer to GET {base}/status: "ALIVE", text/plain.
inline constexpr const char* kDeliveryStatusBody = "ALIVE";

}  // namespace notifications

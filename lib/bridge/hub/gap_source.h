// GapSource: where a stream gets the notifications it missed when they are
// older than the hub's history (a browser resuming with an old
// Last-Event-ID, or after the bridge restarted). The upstream side
// implements it (UpstreamGapSource over the delivery API); the server side
// only sees this interface, and the service wires the two.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "notification.h"
#include "status.h"

namespace notifications {

// A gap's notifications (Notification::ByteSize) may not add up to more
// than this: a client resuming from an old id costs at most this much per
// fetch, whatever the upstream's items weigh (a larger gap is
// kInvalidArgument, gap-too-large, like more than max_items).
inline constexpr size_t kDefaultMaxGapBytes = size_t{16} << 20;

// Fetches notifications the bridge no longer (or never) had in its history
// from upstream. Implementations must be thread-safe.
class GapSource {
 public:
  virtual ~GapSource() = default;
  // The notifications with id > `after_id`, oldest first, each with `time`
  // set, stopping after the first one whose id >= `stop_at` (when
  // `stop_at` is not empty: the caller has the rest). Errors:
  // Status::Code::kGone when upstream does not know `after_id`;
  // kInvalidArgument when the gap holds more than `max_items`, or more
  // bytes than the source's bound (kDefaultMaxGapBytes unless told);
  // kUnavailable on any other failure.
  virtual Result<std::vector<Notification>> FetchAfter(
      const std::string& after_id, const std::string& stop_at,
      size_t max_items) = 0;
};

}  // namespace notifications

// SharedFrames: hub events for notifications fetched from upstream (the
// gaps of streams resuming from an old Last-Event-ID), one per id for as
// long as any stream holds it. A reconnect storm of a thousand clients
// whose gaps overlap holds each missed notification's frame once, not once
// per client; the events themselves are owned by the streams that hold
// them (weak references here), so nothing outlives its last reader.
//
// Thread-safe (the server's blocking pool calls it from several threads).
#pragma once

#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "event_hub.h"
#include "notification.h"

namespace notifications {

class SharedFrames {
 public:
  // `include_raw_content`: whether frames carry rawContent (as the hub's).
  explicit SharedFrames(bool include_raw_content)
      : include_raw_content_(include_raw_content) {}
  SharedFrames(const SharedFrames&) = delete;
  SharedFrames& operator=(const SharedFrames&) = delete;

  // The event for `n`: the one already held by some stream for the same
  // id, else a new one (encoded here, outside the lock).
  HubEventPtr Get(Notification n);

  // Ids with a live event (for tests and metrics).
  size_t live() const;

 private:
  const bool include_raw_content_;
  mutable std::mutex mu_;
  // guarded by mu_:
  std::unordered_map<std::string, std::weak_ptr<const HubEvent>> by_id_;
  size_t purge_at_ = 64;  // Size at which expired entries are dropped.
};

}  // namespace notifications

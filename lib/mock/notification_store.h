// NotificationStore: the mock delivery API's memory. An ordered, bounded,
// in-memory log of notifications, each given an id and a received time on
// arrival, and read back by pages as docs/delivery-api.md defines them.
//
// Thread-safe: every member function may be called concurrently (one mutex;
// each call holds it for O(1) or O(limit) work, never while doing I/O).
// Not copyable.
//
// Ids are "<prefix>-<seq>": <seq> is a 10-digit zero-padded counter starting
// at 0000000001, so all ids of one store have the same length and shortlex
// order (CompareIds) is byte order is arrival order. The mock passes its
// start time in Unix seconds as the prefix, so ids keep increasing across
// restarts while a restarted store still answers "gone" for old ids.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "clock.h"
#include "notification.h"

namespace notifications {

class NotificationStore {
 public:
  static constexpr size_t kDefaultRetention = 10000;
  // Digits of the zero-padded sequence number in an id.
  static constexpr size_t kSeqDigits = 10;

  // One answer of Query(), the body of a delivery API page.
  struct Page {
    // True when `after` is not an id this store retains: dropped by
    // retention or never issued by it (any other prefix, a sequence number
    // not yet reached, any other shape). The other fields are then empty.
    bool gone = false;
    // Oldest first: at most `limit` items.
    std::vector<Notification> items;
    // Id of the last item; when `items` is empty, the request's `after`
    // (or "" when there was none).
    std::string cursor;
    // True when the store holds items newer than `cursor`.
    bool more = false;
  };

  // `retention`: how many notifications are kept, at least 1 (0 is taken as
  // 1); older ones are dropped on Append. `clock` gives received times and
  // must outlive the store. `id_prefix`: 1..117 bytes of
  // [A-Za-z0-9._:-], so that ids stay valid (IsValidId).
  NotificationStore(size_t retention, Clock& clock, std::string id_prefix);

  NotificationStore(const NotificationStore&) = delete;
  NotificationStore& operator=(const NotificationStore&) = delete;

  // Stores `notification`, replacing its `id` with the next one and its
  // `time` with the clock's current wall time (RFC 3339, milliseconds).
  // Drops the oldest notification when more than `retention` are held.
  // Returns the stored copy.
  Notification Append(Notification notification);

  // The page after `after` (exclusive), of at most `limit` items (0 is taken
  // as 1). Without `after`, starts at the oldest retained notification. An
  // `after` equal to the newest id gives an empty page whose cursor is
  // `after`.
  //
  // `overlap` (for testing callers' dedupe): when the page has at least one
  // new item, it also starts with up to `overlap` items already delivered,
  // i.e. `after` itself and those just before it, as long as they are
  // retained. They take room from `limit`, but never all of it: every
  // non-empty page carries at least one new item, and never more than
  // `limit` items in all.
  //
  // Cost: O(limit + overlap) (the position of `after` is computed from its
  // sequence number).
  Page Query(const std::optional<std::string>& after, size_t limit,
             size_t overlap = 0) const;

  // Long-poll: waits until a notification newer than `newest_seen` exists
  // (the newest id when the caller queried; "" when the store was empty),
  // `timeout` elapses or Shutdown() is called. True when there is something
  // newer.
  bool WaitForNewer(const std::string& newest_seen,
                    std::chrono::milliseconds timeout) const;
  // Wakes every WaitForNewer() now and makes later ones return at once.
  void Shutdown();

  // Number of notifications retained, at most `retention`.
  size_t Size() const;
  // Id of the newest notification, "" when none was ever appended.
  std::string NewestId() const;
  // The prefix given at construction.
  const std::string& id_prefix() const { return id_prefix_; }
  size_t retention() const { return retention_; }

 private:
  // Sequence number encoded in `id` when it has this store's shape
  // "<prefix>-<10 digits>", nullopt otherwise.
  std::optional<uint64_t> SeqOf(const std::string& id) const;
  std::string MakeId(uint64_t seq) const;

  const size_t retention_;
  Clock& clock_;
  const std::string id_prefix_;

  mutable std::mutex mu_;
  // guarded by mu_:
  std::deque<Notification> items_;  // oldest first; items_[i] has seq
                                    // first_seq_ + i.
  uint64_t first_seq_ = 1;          // seq of items_.front() (when any).
  uint64_t next_seq_ = 1;           // seq the next Append gets.
  bool shutdown_ = false;
  mutable std::condition_variable appended_;
};

}  // namespace notifications

#include "notification_store.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <utility>

namespace notifications {

NotificationStore::NotificationStore(size_t retention, Clock& clock,
                                     std::string id_prefix)
    : retention_(std::max<size_t>(retention, 1)),
      clock_(clock),
      id_prefix_(std::move(id_prefix)) {}

std::string NotificationStore::MakeId(uint64_t seq) const {
  char digits[24];
  snprintf(digits, sizeof digits, "%010" PRIu64, seq);
  return id_prefix_ + "-" + digits;
}

std::optional<uint64_t> NotificationStore::SeqOf(const std::string& id) const {
  // Checking the exact shape (rather than, say, the prefix only) is what
  // makes ids of another store, or hand-made ones, answer "gone".
  if (id.size() != id_prefix_.size() + 1 + kSeqDigits) return std::nullopt;
  if (id.compare(0, id_prefix_.size(), id_prefix_) != 0) return std::nullopt;
  if (id[id_prefix_.size()] != '-') return std::nullopt;
  uint64_t seq = 0;
  for (size_t i = id_prefix_.size() + 1; i < id.size(); ++i) {
    char c = id[i];
    if (c < '0' || c > '9') return std::nullopt;
    seq = seq * 10 + static_cast<uint64_t>(c - '0');
  }
  return seq;
}

Notification NotificationStore::Append(Notification notification) {
  // The clock is read outside the lock: it may be a fake that takes its own.
  std::string time = FormatRfc3339(clock_.WallMillis());
  std::lock_guard<std::mutex> lock(mu_);
  notification.id = MakeId(next_seq_);
  notification.time = std::move(time);
  ++next_seq_;
  items_.push_back(std::move(notification));
  while (items_.size() > retention_) {
    items_.pop_front();
    ++first_seq_;
  }
  appended_.notify_all();
  return items_.back();
}

bool NotificationStore::WaitForNewer(const std::string& newest_seen,
                                     std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  auto newer = [&] {
    if (items_.empty()) return false;
    return newest_seen.empty() || items_.back().id != newest_seen;
  };
  appended_.wait_for(lock, timeout, [&] { return shutdown_ || newer(); });
  return newer();
}

void NotificationStore::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    shutdown_ = true;
  }
  appended_.notify_all();
}

NotificationStore::Page NotificationStore::Query(
    const std::optional<std::string>& after, size_t limit,
    size_t overlap) const {
  limit = std::max<size_t>(limit, 1);
  Page page;
  std::lock_guard<std::mutex> lock(mu_);

  // Index in items_ of the first new item of the page.
  size_t start = 0;
  if (after.has_value()) {
    std::optional<uint64_t> seq = SeqOf(*after);
    // Retained seqs are [first_seq_, next_seq_); an empty store retains none.
    if (!seq.has_value() || items_.empty() || *seq < first_seq_ ||
        *seq >= next_seq_) {
      page.gone = true;
      return page;
    }
    start = static_cast<size_t>(*seq - first_seq_) + 1;
    page.cursor = *after;
  }

  size_t fresh = std::min(limit, items_.size() - start);
  if (fresh == 0) return page;

  // Re-served items come out of the limit, but one slot stays for new ones
  // so that a caller paging with a small limit still makes progress.
  size_t replay = std::min({overlap, start, limit - 1});
  fresh = std::min(fresh, limit - replay);

  size_t begin = start - replay;
  size_t end = start + fresh;
  page.items.assign(items_.begin() + static_cast<std::ptrdiff_t>(begin),
                    items_.begin() + static_cast<std::ptrdiff_t>(end));
  page.cursor = page.items.back().id;
  page.more = end < items_.size();
  return page;
}

size_t NotificationStore::Size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return items_.size();
}

std::string NotificationStore::NewestId() const {
  std::lock_guard<std::mutex> lock(mu_);
  return items_.empty() ? std::string() : items_.back().id;
}

}  // namespace notifications

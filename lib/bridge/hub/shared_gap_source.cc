#include "shared_gap_source.h"

#include <algorithm>

namespace notifications {

namespace {

using Items = std::vector<Notification>;

// Whether a fetch stopping at `fetch_stop` reaches far enough for a caller
// stopping at `stop`: it returns everything up to the first id >= its
// stop (or to upstream's newest when it has none), so up to the first id
// >= `stop` too when `stop` is not past it.
bool StopCovers(const std::string& fetch_stop, const std::string& stop) {
  return fetch_stop.empty() ||
         (!stop.empty() && CompareIds(stop, fetch_stop) <= 0);
}

}  // namespace

SharedGapSource::SharedGapSource(GapSource& inner, Clock& clock,
                                 SharedGapOptions options, Metrics* metrics)
    : inner_(inner), clock_(clock), options_(options), metrics_(metrics) {}

void SharedGapSource::Count(std::atomic<uint64_t> Metrics::*counter) {
  if (metrics_) (metrics_->*counter).fetch_add(1, std::memory_order_relaxed);
}

std::optional<Result<Items>> SharedGapSource::Derive(const Fetch& f,
                                                     const std::string& after,
                                                     const std::string& stop,
                                                     size_t max_items) {
  if (!f.status.ok()) {
    switch (f.status.code()) {
      case Status::Code::kUnavailable:
        // Only met by callers that waited for this very fetch (failures are
        // not cached): upstream is failing now, asking again would pile on.
        return Result<Items>(f.status);
      case Status::Code::kGone:
        // Says nothing about any other id.
        if (f.after == after) return Result<Items>(f.status);
        return std::nullopt;
      default:
        if (f.after == after && f.stop == stop && f.max_items == max_items) {
          return Result<Items>(f.status);
        }
        return std::nullopt;
    }
  }
  const Items& items = f.items;
  size_t start = 0;
  if (after != f.after) {
    // Only an id upstream gave in this range is known to it: anything else
    // must get upstream's own answer (perhaps kGone).
    auto it =
        std::lower_bound(items.begin(), items.end(), after,
                         [](const Notification& n, const std::string& id) {
                           return CompareIds(n.id, id) < 0;
                         });
    if (it == items.end() || it->id != after) return std::nullopt;
    start = static_cast<size_t>(it - items.begin()) + 1;
  }
  const bool reached_stop = !f.stop.empty() && !items.empty() &&
                            CompareIds(items.back().id, f.stop) >= 0;
  if (reached_stop && (stop.empty() || CompareIds(stop, items.back().id) > 0)) {
    return std::nullopt;  // Cut before what this caller needs.
  }
  Items out;
  for (size_t i = start; i < items.size() && out.size() <= max_items; ++i) {
    out.push_back(items[i]);
    if (!stop.empty() && CompareIds(items[i].id, stop) >= 0) break;
  }
  if (out.size() > max_items) {
    return Result<Items>(Status::InvalidArgument(
        "more than " + std::to_string(max_items) + " notifications missed"));
  }
  return Result<Items>(std::move(out));
}

void SharedGapSource::PurgeLocked(std::chrono::steady_clock::time_point now) {
  // Oldest first: done_at is taken under mu_, in completion order.
  while (!cache_.empty() &&
         now - cache_.front()->done_at > options_.cache_ttl) {
    cache_bytes_ -= cache_.front()->bytes;
    cache_.pop_front();
  }
}

void SharedGapSource::CacheLocked(const FetchPtr& fetch) {
  if (fetch->bytes > options_.max_cache_bytes) return;
  cache_.push_back(fetch);
  cache_bytes_ += fetch->bytes;
  while (cache_bytes_ > options_.max_cache_bytes) {
    cache_bytes_ -= cache_.front()->bytes;
    cache_.pop_front();
  }
}

Result<Items> SharedGapSource::FetchAfter(const std::string& after_id,
                                          const std::string& stop_at,
                                          size_t max_items) {
  Count(&Metrics::gap_requests);
  // Real time on purpose: a bound on how long a stream's handshake may
  // hold its thread, not a duration the tests drive.
  const auto deadline = std::chrono::steady_clock::now() + options_.max_wait;
  // Fetches this caller already found not to cover it (kept alive so their
  // addresses stay unique).
  std::vector<FetchPtr> tried;
  auto was_tried = [&tried](const FetchPtr& f) {
    return std::find(tried.begin(), tried.end(), f) != tried.end();
  };
  auto shared = [this](Result<Items> r) {
    ++stats_.shared;
    Count(&Metrics::gap_shared);
    return r;
  };
  std::unique_lock<std::mutex> lock(mu_);
  ++stats_.requests;
  while (true) {
    if (stopped_) return Status::Unavailable("the bridge is stopping");
    PurgeLocked(clock_.Now());

    // 1. A recent result that covers this range, newest first. Done
    // fetches are immutable: derive without holding mu_.
    std::vector<FetchPtr> candidates;
    for (auto it = cache_.rbegin(); it != cache_.rend(); ++it) {
      if (!was_tried(*it) && CompareIds((*it)->after, after_id) <= 0) {
        candidates.push_back(*it);
      }
    }
    if (!candidates.empty()) {
      lock.unlock();
      std::optional<Result<Items>> found;
      for (const FetchPtr& f : candidates) {
        found = Derive(*f, after_id, stop_at, max_items);
        if (found) break;
        tried.push_back(f);
      }
      lock.lock();
      if (found) return shared(std::move(*found));
      continue;
    }

    // 2. A running fetch that will cover it: the one starting closest.
    FetchPtr join;
    for (const FetchPtr& f : running_) {
      if (was_tried(f) || CompareIds(f->after, after_id) > 0 ||
          !StopCovers(f->stop, stop_at)) {
        continue;
      }
      if (!join || CompareIds(f->after, join->after) > 0) join = f;
    }
    if (join) {
      bool done = cv_.wait_until(lock, deadline,
                                 [&] { return join->done || stopped_; });
      if (stopped_) continue;
      if (!done) {
        ++stats_.rejected;
        Count(&Metrics::gap_rejected);
        return Status::Unavailable(
            "a shared gap fetch did not finish in time; retry later");
      }
      lock.unlock();
      std::optional<Result<Items>> found =
          Derive(*join, after_id, stop_at, max_items);
      lock.lock();
      if (found) return shared(std::move(*found));
      tried.push_back(join);
      continue;
    }

    // 3. A fetch of its own, when a slot is free.
    if (running_.size() < options_.max_concurrent) {
      auto fetch = std::make_shared<Fetch>();
      fetch->after = after_id;
      fetch->stop = stop_at;
      fetch->max_items = max_items;
      running_.push_back(fetch);
      ++generation_;
      ++stats_.fetches;
      if (metrics_) {
        metrics_->gap_fetches_in_flight.store(
            static_cast<int64_t>(running_.size()), std::memory_order_relaxed);
      }
      cv_.notify_all();  // Waiters for a slot may share this one.
      lock.unlock();
      Result<Items> result = inner_.FetchAfter(after_id, stop_at, max_items);
      size_t bytes = 0;
      if (result.ok()) {
        for (const Notification& n : result.value()) bytes += n.ByteSize();
      }
      lock.lock();
      if (result.ok()) {
        fetch->items = result.value();
      } else {
        fetch->status = result.status();
      }
      fetch->bytes = bytes;
      fetch->done_at = clock_.Now();
      fetch->done = true;
      running_.erase(std::find(running_.begin(), running_.end(), fetch));
      ++generation_;
      if (metrics_) {
        metrics_->gap_fetches_in_flight.store(
            static_cast<int64_t>(running_.size()), std::memory_order_relaxed);
      }
      // Failures other than gone are not kept: the next caller may have
      // luck. Those waiting for this fetch share it anyway.
      if (result.ok() || result.status().code() == Status::Code::kGone) {
        CacheLocked(fetch);
      }
      cv_.notify_all();
      return result;
    }

    // 4. Every slot is taken: wait for one to free up, or for a fetch to
    // start that may cover this range.
    const uint64_t generation = generation_;
    if (!cv_.wait_until(lock, deadline, [&] {
          return stopped_ || generation_ != generation;
        })) {
      ++stats_.rejected;
      Count(&Metrics::gap_rejected);
      return Status::Unavailable("too many gap fetches in flight (" +
                                 std::to_string(options_.max_concurrent) +
                                 "); retry later");
    }
  }
}

void SharedGapSource::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
  }
  cv_.notify_all();
}

SharedGapSource::Stats SharedGapSource::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

}  // namespace notifications

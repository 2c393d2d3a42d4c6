#include "poller.h"

namespace notifications {

Poller::Poller(DeliveryClient& client, EventHub& hub, Metrics& metrics,
               Logger& logger, Clock& clock, PollerOptions options,
               std::optional<std::string> initial_cursor)
    : client_(client),
      hub_(hub),
      metrics_(metrics),
      logger_(logger),
      clock_(clock),
      options_(options),
      rng_(options.seed ? options.seed : std::random_device{}()),
      cursor_(std::move(initial_cursor)) {
  state_.cursor = cursor_.value_or("");
}

void Poller::RecordFailure(const std::string& what) {
  std::lock_guard<std::mutex> lock(mu_);
  state_.upstream_ok = false;
  state_.last_error = what;
  state_.last_error_ms = clock_.WallMillis();
  ++state_.consecutive_failures;
}

void Poller::UpdateDegradedLocked() {
  std::string reason = gone_loop_reason_;
  if (!backwards_reason_.empty()) {
    reason += (reason.empty() ? "" : "; ") + backwards_reason_;
  }
  if (reason.empty()) {
    state_.degraded = false;
    state_.degraded_since_ms = 0;
  } else if (!state_.degraded) {
    state_.degraded = true;
    state_.degraded_since_ms = clock_.WallMillis();
  }
  state_.degraded_reason = reason;
  metrics_.upstream_degraded.store(state_.degraded ? 1 : 0,
                                   std::memory_order_relaxed);
}

void Poller::SetDegraded(Cause cause, std::string reason) {
  bool entering;
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::string& slot =
        cause == Cause::kGoneLoop ? gone_loop_reason_ : backwards_reason_;
    entering = slot.empty();
    slot = reason;
    UpdateDegradedLocked();
  }
  // One line when it starts, not one per poll: the metrics count each.
  if (entering) logger_.Warn("poll: upstream degraded: " + reason);
}

void Poller::ClearDegraded(Cause cause) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::string& slot =
        cause == Cause::kGoneLoop ? gone_loop_reason_ : backwards_reason_;
    if (slot.empty()) return;
    slot.clear();
    UpdateDegradedLocked();
  }
  logger_.Info(cause == Cause::kGoneLoop
                   ? "poll: the delivery API keeps our cursor again"
                   : "poll: the delivery API's ids are past our cursor again");
}

Poller::Outcome Poller::PollOnce() {
  Outcome outcome;
  metrics_.polls.fetch_add(1, std::memory_order_relaxed);
  const bool long_poll = client_.options().long_poll.count() > 0;
  const auto started = clock_.Now();
  FetchResult fetched = client_.FetchPage(cursor_, long_poll, &stop_token_);

  if (fetched.cancelled) {
    // Stop(): not upstream's failure, nothing to count or show.
    outcome.cancelled = true;
    outcome.error = fetched.error;
    return outcome;
  }
  if (fetched.error == FetchError::kGone && !cursor_) {
    // 410 without a cursor breaks the contract; resetting again would spin.
    fetched.message += " (without a cursor)";
  } else if (fetched.error == FetchError::kGone) {
    HandleGone(fetched, outcome);
    return outcome;
  }
  if (fetched.error != FetchError::kNone) {
    FailPoll(fetched, outcome);
    return outcome;
  }

  Page& page = fetched.page;
  std::vector<Notification> fresh = DropPublished(page, outcome);
  std::vector<const SkippedItem*> skipped = NewSkipped(page);
  // The newest id this page moves the cursor to, published or skipped.
  std::optional<std::string> newest;
  if (!fresh.empty()) newest = fresh.back().id;
  if (!skipped.empty() &&
      (!newest || CompareIds(skipped.back()->id, *newest) > 0)) {
    newest = skipped.back()->id;
  }
  CheckIdsBackwards(page, newest.has_value());
  if (!newest && page.more) {
    RejectStuckPage(outcome);
    return outcome;
  }
  if (cursor_) {
    cursor_served_since_reset_ = true;
    ClearDegraded(Cause::kGoneLoop);
  }

  outcome.published = fresh.size();
  outcome.skipped = skipped.size();
  outcome.more = page.more;
  if (long_poll) {
    // Something new, or an empty answer after a real wait: the API speaks
    // long-poll. An empty answer at once means it ignored `wait`.
    // After new items, ask again at once: an API that holds answers the next
    // request when something arrives; one that ignores `wait` answers an
    // empty page at once, and then the interval applies. Requests never
    // outnumber notifications plus one per interval: no spin.
    bool waited = clock_.Now() - started >= client_.options().long_poll / 2;
    outcome.held = waited || newest.has_value();
  }
  LogSkipped(skipped);
  PublishFresh(newest, std::move(fresh));
  RecordSuccess(outcome, skipped);
  return outcome;
}

void Poller::HandleGone(const FetchResult& fetched, Outcome& outcome) {
  outcome.error = fetched.error;
  metrics_.CountPollError(fetched.error);
  const auto now = clock_.Now();
  const bool loop = last_reset_ && !cursor_served_since_reset_ &&
                    now - *last_reset_ < options_.min_reset_interval;
  if (loop) {
    SuppressReset(fetched, now - *last_reset_);
    return;
  }
  RestartAfterGone(outcome);
}

void Poller::SuppressReset(const FetchResult& fetched,
                           std::chrono::steady_clock::duration since_reset) {
  // Upstream forgets the cursors it has just served: restarting again
  // would re-publish the same notifications and reset every browser once
  // per request. Keep the cursor, back off, say so; reset again only
  // after min_reset_interval (it may really have lost them twice).
  metrics_.resets_suppressed.fetch_add(1, std::memory_order_relaxed);
  auto wait = std::chrono::duration_cast<std::chrono::seconds>(
      options_.min_reset_interval - since_reset);
  std::string what = "gone: " + fetched.message + " (for cursor " +
                     cursor_.value_or("") +
                     ", served since the last reset; streams not reset "
                     "again for " +
                     std::to_string(wait.count()) + " s)";
  logger_.Warn("poll " + client_.PageUrl(cursor_) + " failed: " + what);
  RecordFailure(what);
  SetDegraded(
      Cause::kGoneLoop,
      "the delivery API answers 410 for cursors it has just served "
      "(cursor " +
          cursor_.value_or("") + "); streams are reset at most once per " +
          std::to_string(std::chrono::duration_cast<std::chrono::seconds>(
                             options_.min_reset_interval)
                             .count()) +
          " s");
}

void Poller::RestartAfterGone(Outcome& outcome) {
  // Upstream no longer has our cursor: whatever happened between it and
  // upstream's oldest item is lost. Say so to every stream, then restart.
  outcome.more = true;
  metrics_.upstream_resets.fetch_add(1, std::memory_order_relaxed);
  std::string message = "the delivery API no longer retains cursor " +
                        cursor_.value_or("(none)") +
                        "; restarting from its oldest notification";
  logger_.Warn("poll: " + message);
  hub_.Reset("upstream-reset", message);
  metrics_.history_bytes.store(static_cast<int64_t>(hub_.HistoryBytes()),
                               std::memory_order_relaxed);
  last_reset_ = clock_.Now();
  cursor_served_since_reset_ = false;
  cursor_.reset();
  if (options_.on_cursor) options_.on_cursor(cursor_);
  ClearDegraded(Cause::kBackwards);
  std::lock_guard<std::mutex> lock(mu_);
  state_.cursor.clear();
  state_.last_error = "gone: " + message;
  state_.last_error_ms = clock_.WallMillis();
}

void Poller::FailPoll(const FetchResult& fetched, Outcome& outcome) {
  outcome.error = fetched.error;
  metrics_.CountPollError(fetched.error);
  std::string what =
      std::string(FetchErrorName(fetched.error)) + ": " + fetched.message;
  logger_.Warn("poll " + client_.PageUrl(cursor_) + " failed: " + what);
  RecordFailure(what);
}

std::vector<Notification> Poller::DropPublished(Page& page, Outcome& outcome) {
  std::vector<Notification> fresh;
  fresh.reserve(page.notifications.size());
  const std::string now = FormatRfc3339(clock_.WallMillis());
  for (Notification& n : page.notifications) {
    if (cursor_ && CompareIds(n.id, *cursor_) <= 0) {
      ++outcome.duplicates;
      continue;
    }
    if (n.time.empty()) n.time = now;  // First seen by the bridge.
    fresh.push_back(std::move(n));
  }
  return fresh;
}

std::vector<const SkippedItem*> Poller::NewSkipped(const Page& page) const {
  std::vector<const SkippedItem*> skipped;
  for (const SkippedItem& s : page.skipped) {
    if (cursor_ && CompareIds(s.id, *cursor_) <= 0) continue;  // Seen before.
    skipped.push_back(&s);
  }
  return skipped;
}

void Poller::CheckIdsBackwards(const Page& page, bool has_new) {
  if (cursor_ && !page.cursor.empty() &&
      CompareIds(page.cursor, *cursor_) < 0) {
    // Every id of the page (or, empty, its cursor) is below ours: upstream
    // went back in time (restored, or another id space). Its new items
    // would be dropped as already published, silently, forever.
    metrics_.ids_backwards.fetch_add(1, std::memory_order_relaxed);
    SetDegraded(Cause::kBackwards,
                "the delivery API's ids went back below the cursor (asked "
                "after " +
                    *cursor_ + ", its newest is " + page.cursor +
                    "); nothing is published until its ids pass the cursor "
                    "(start once with --reset-state to follow it now)");
  } else if (has_new) {
    ClearDegraded(Cause::kBackwards);
  }
}

void Poller::RejectStuckPage(Outcome& outcome) {
  // Only already-published items yet "more": asking again with the same
  // cursor would get the same page forever.
  outcome.contract_violation = true;
  outcome.error = FetchError::kMalformed;
  metrics_.contract_violations.fetch_add(1, std::memory_order_relaxed);
  metrics_.CountPollError(FetchError::kMalformed);
  std::string what = "malformed: page re-serves only notifications up to " +
                     cursor_.value_or("") + " but says more:true";
  logger_.Warn("poll " + client_.PageUrl(cursor_) + " failed: " + what);
  RecordFailure(what);
}

void Poller::LogSkipped(const std::vector<const SkippedItem*>& skipped) {
  for (size_t i = 0; i < skipped.size(); ++i) {
    const SkippedItem& s = *skipped[i];
    (s.kind == SkippedItem::Kind::kTooLarge ? metrics_.skipped_too_large
                                            : metrics_.skipped_unrepresentable)
        .fetch_add(1, std::memory_order_relaxed);
    // Once per item: the cursor moves past it, so no retry logs it again.
    if (i < options_.max_skip_log_lines) {
      logger_.Warn("poll: skipped notification " + s.id + " (item " +
                   std::to_string(s.index) + " of its page): " + s.reason);
    } else if (i == options_.max_skip_log_lines) {
      logger_.Warn(
          "poll: skipped " +
          std::to_string(skipped.size() - options_.max_skip_log_lines) +
          " more notification(s) of the same page, up to " +
          skipped.back()->id);
    }
  }
}

void Poller::PublishFresh(const std::optional<std::string>& newest,
                          std::vector<Notification> fresh) {
  if (!newest) return;
  cursor_ = newest;
  if (!fresh.empty()) {
    hub_.Publish(std::move(fresh));
    metrics_.history_bytes.store(static_cast<int64_t>(hub_.HistoryBytes()),
                                 std::memory_order_relaxed);
  }
  if (options_.on_cursor) options_.on_cursor(cursor_);
}

void Poller::RecordSuccess(const Outcome& outcome,
                           const std::vector<const SkippedItem*>& skipped) {
  metrics_.notifications_published.fetch_add(outcome.published,
                                             std::memory_order_relaxed);
  metrics_.duplicates_dropped.fetch_add(outcome.duplicates,
                                        std::memory_order_relaxed);
  if (outcome.duplicates > 0) {
    logger_.Debug("poll: dropped " + std::to_string(outcome.duplicates) +
                  " already published notification(s)");
  }
  if (outcome.published > 0) {
    logger_.Debug("poll: published " + std::to_string(outcome.published) +
                  " notification(s), cursor " + *cursor_);
  }
  int64_t wall = clock_.WallMillis();
  metrics_.last_success_unix_ms.store(wall, std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(mu_);
  if (!state_.upstream_ok && state_.consecutive_failures > 0) {
    logger_.Info("poll: delivery API reachable again after " +
                 std::to_string(state_.consecutive_failures) + " failure(s)");
  }
  state_.upstream_ok = true;
  state_.last_success_ms = wall;
  state_.consecutive_failures = 0;
  state_.cursor = cursor_.value_or("");
  if (!skipped.empty()) {
    state_.skipped += skipped.size();
    state_.last_skipped_id = skipped.back()->id;
    state_.last_skipped_reason = skipped.back()->reason;
    state_.last_skipped_ms = wall;
  }
}

bool Poller::Sleep(std::chrono::milliseconds delay) {
  std::unique_lock<std::mutex> lock(mu_);
  clock_.WaitFor(cv_, lock, delay, [this] { return stopped_; });
  return !stopped_;
}

void Poller::Run() {
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  uint32_t failures = 0;
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopped_) return;
    }
    Outcome outcome = PollOnce();
    if (outcome.cancelled) return;
    std::chrono::milliseconds delay = options_.interval;
    if (outcome.error == FetchError::kGone && outcome.more) {
      failures = 0;
      delay = std::chrono::milliseconds(0);
    } else if (outcome.error != FetchError::kNone) {
      ++failures;
      delay = BackoffDelay(options_.backoff, failures, unit(rng_));
      logger_.Debug("poll: retrying in " + std::to_string(delay.count()) + " ms");
    } else {
      failures = 0;
      if (outcome.more || outcome.held) delay = std::chrono::milliseconds(0);
    }
    if (delay.count() > 0 && !Sleep(delay)) return;
  }
}

void Poller::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
  }
  cv_.notify_all();
  // After stopped_ is set: a request that starts after this is cancelled
  // before it connects, one in flight is dropped now.
  stop_token_.Cancel();
}

UpstreamState Poller::State() const {
  std::lock_guard<std::mutex> lock(mu_);
  return state_;
}

}  // namespace notifications

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

Poller::Outcome Poller::PollOnce() {
  Outcome outcome;
  metrics_.polls.fetch_add(1, std::memory_order_relaxed);
  const bool long_poll = client_.options().long_poll.count() > 0;
  const auto started = clock_.Now();
  FetchResult fetched = client_.FetchPage(cursor_, long_poll);

  if (fetched.error == FetchError::kGone && !cursor_) {
    // 410 without a cursor breaks the contract; resetting again would spin.
    fetched.message += " (without a cursor)";
  } else if (fetched.error == FetchError::kGone) {
    RestartAfterGone(outcome);
    return outcome;
  }
  if (fetched.error != FetchError::kNone) {
    FailPoll(fetched, outcome);
    return outcome;
  }

  std::vector<Notification> fresh = DropPublished(fetched.page, outcome);
  if (fresh.empty() && fetched.page.more) {
    RejectStuckPage(outcome);
    return outcome;
  }

  outcome.published = fresh.size();
  outcome.more = fetched.page.more;
  if (long_poll) {
    // Something new, or an empty answer after a real wait: the API speaks
    // long-poll. An empty answer at once means it ignored `wait`.
    // After new items, ask again at once: an API that holds answers the next
    // request when something arrives; one that ignores `wait` answers an
    // empty page at once, and then the interval applies. Requests never
    // outnumber notifications plus one per interval: no spin.
    bool waited = clock_.Now() - started >= client_.options().long_poll / 2;
    outcome.held = waited || !fresh.empty();
  }
  PublishFresh(std::move(fresh));
  RecordSuccess(outcome);
  return outcome;
}

void Poller::RestartAfterGone(Outcome& outcome) {
  // Upstream no longer has our cursor: whatever happened between it and
  // upstream's oldest item is lost. Say so to every stream, then restart.
  outcome.error = FetchError::kGone;
  outcome.more = true;
  metrics_.CountPollError(FetchError::kGone);
  metrics_.upstream_resets.fetch_add(1, std::memory_order_relaxed);
  std::string message = "the delivery API no longer retains cursor " +
                        cursor_.value_or("(none)") +
                        "; restarting from its oldest notification";
  logger_.Warn("poll: " + message);
  hub_.Reset("upstream-reset", message);
  cursor_.reset();
  if (options_.on_cursor) options_.on_cursor(cursor_);
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

void Poller::PublishFresh(std::vector<Notification> fresh) {
  if (fresh.empty()) return;
  cursor_ = fresh.back().id;
  hub_.Publish(std::move(fresh));
  if (options_.on_cursor) options_.on_cursor(cursor_);
}

void Poller::RecordSuccess(const Outcome& outcome) {
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
    std::chrono::milliseconds delay = options_.interval;
    if (outcome.error == FetchError::kGone && outcome.more) {
      failures = 0;
      delay = std::chrono::milliseconds(0);
    } else if (outcome.error != FetchError::kNone) {
      ++failures;
      delay = BackoffDelay(options_.backoff, failures, unit(rng_));
      logger_.Debug("poll: retrying in " + std::to_string(delay.count()) +
                    " ms");
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
}

UpstreamState Poller::State() const {
  std::lock_guard<std::mutex> lock(mu_);
  return state_;
}

}  // namespace notifications

#include "shared_gap_source.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "fakes.h"

namespace notifications {
namespace {

using namespace std::chrono_literals;

Notification N(int id) {
  Notification n;
  n.id = std::to_string(id);
  n.time = "2026-11-28T12:00:00.000Z";
  n.text = "n" + n.id;
  return n;
}

// A GapSource over ids 1..`newest` whose calls block until the test lets
// them go (per after id, or all), so the tests see what runs at once
// without sleeping. Unknown ids (above newest, or 0) are kGone.
class BlockingGaps final : public GapSource {
 public:
  explicit BlockingGaps(int newest) : newest_(newest) {}

  Result<std::vector<Notification>> FetchAfter(const std::string& after,
                                               const std::string& stop,
                                               size_t max_items) override {
    std::unique_lock<std::mutex> lock(mu_);
    calls_.push_back(after + "|" + stop);
    ++running_;
    max_running_ = std::max(max_running_, running_);
    cv_.notify_all();
    cv_.wait(lock, [&] { return all_ || released_.count(after) > 0; });
    --running_;
    if (failure_.count(after)) return failure_[after];
    int from = std::stoi(after);
    if (from < 1 || from > newest_) {
      return Status::Error(Status::Code::kGone, "unknown id " + after);
    }
    std::vector<Notification> out;
    for (int i = from + 1; i <= newest_; ++i) {
      out.push_back(N(i));
      if (!stop.empty() && CompareIds(out.back().id, stop) >= 0) break;
    }
    if (out.size() > max_items) return Status::InvalidArgument("too many");
    return out;
  }

  void Release(const std::string& after) {
    std::lock_guard<std::mutex> lock(mu_);
    released_.insert(after);
    cv_.notify_all();
  }
  void ReleaseAll() {
    std::lock_guard<std::mutex> lock(mu_);
    all_ = true;
    cv_.notify_all();
  }
  void Fail(const std::string& after, Status status) {
    std::lock_guard<std::mutex> lock(mu_);
    failure_[after] = std::move(status);
  }
  // Blocks until `n` calls have started.
  void WaitForCalls(size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return calls_.size() >= n; });
  }
  std::vector<std::string> calls() {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }
  size_t max_running() {
    std::lock_guard<std::mutex> lock(mu_);
    return max_running_;
  }

 private:
  const int newest_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> calls_;
  std::set<std::string> released_;
  std::map<std::string, Status> failure_;
  bool all_ = false;
  size_t running_ = 0;
  size_t max_running_ = 0;
};

std::vector<std::string> Ids(const Result<std::vector<Notification>>& r) {
  std::vector<std::string> ids;
  if (r.ok()) {
    for (const Notification& n : r.value()) ids.push_back(n.id);
  }
  return ids;
}

std::vector<std::string> Range(int from, int to) {
  std::vector<std::string> ids;
  for (int i = from; i <= to; ++i) ids.push_back(std::to_string(i));
  return ids;
}

// Waits (condition variable, no sleep) until `pred` holds on the stats.
template <typename Pred>
void WaitForStats(SharedGapSource& shared, Pred pred) {
  // Stats only move when callers enter; poll them with a yield, bounded.
  for (int i = 0; i < 10000000 && !pred(shared.stats()); ++i) {
    std::this_thread::yield();
  }
  REQUIRE(pred(shared.stats()));
}

TEST_CASE(
    "shared gap source: callers of one range wait for one fetch and share it") {
  BlockingGaps inner(100);
  FakeClock clock;
  Metrics metrics;
  SharedGapSource shared(inner, clock, {}, &metrics);
  std::vector<Result<std::vector<Notification>>> results(
      50, Status::Unavailable(""));
  std::vector<std::thread> threads;
  for (size_t i = 0; i < results.size(); ++i) {
    threads.emplace_back(
        [&, i] { results[i] = shared.FetchAfter("40", "60", 1000); });
  }
  inner.WaitForCalls(1);
  WaitForStats(
      shared, [](const SharedGapSource::Stats& s) { return s.requests == 50; });
  inner.ReleaseAll();
  for (auto& t : threads) t.join();
  CHECK(inner.calls() == std::vector<std::string>{"40|60"});
  for (const auto& r : results) CHECK(Ids(r) == Range(41, 60));
  SharedGapSource::Stats s = shared.stats();
  CHECK(s.fetches == 1);
  CHECK(s.shared == 49);
  CHECK(metrics.gap_requests == 50);
  CHECK(metrics.gap_shared == 49);
  CHECK(metrics.gap_fetches_in_flight == 0);
}

TEST_CASE(
    "shared gap source: 1,000 resumes from 10 ids cost at most 10 fetches") {
  BlockingGaps inner(1000);
  FakeClock clock;
  SharedGapOptions options;
  options.max_concurrent = 4;
  SharedGapSource shared(inner, clock, options);
  const int kCallers = 1000;
  std::vector<std::string> ids;
  for (int i = 0; i < 10; ++i) ids.push_back(std::to_string(100 + 37 * i));
  std::vector<Result<std::vector<Notification>>> results(
      kCallers, Status::Unavailable(""));
  // A bounded pool, as the server calls it.
  std::atomic<int> next{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < 32; ++t) {
    pool.emplace_back([&] {
      for (int i; (i = next++) < kCallers;) {
        results[static_cast<size_t>(i)] =
            shared.FetchAfter(ids[static_cast<size_t>(i) % 10], "900", 1000);
      }
    });
  }
  inner.WaitForCalls(1);
  inner.ReleaseAll();
  for (auto& t : pool) t.join();
  CHECK(inner.calls().size() <= 10);
  CHECK(inner.max_running() <= 4);
  for (int i = 0; i < kCallers; ++i) {
    int from = std::stoi(ids[static_cast<size_t>(i) % 10]);
    CHECK(Ids(results[static_cast<size_t>(i)]) == Range(from + 1, 900));
  }
  CHECK(shared.stats().fetches == inner.calls().size());
}

TEST_CASE(
    "shared gap source: a resume from X shares a running fetch from Y < X") {
  BlockingGaps inner(50);
  FakeClock clock;
  SharedGapSource shared(inner, clock);
  Result<std::vector<Notification>> from_y = Status::Unavailable("");
  Result<std::vector<Notification>> from_x = Status::Unavailable("");
  std::thread y([&] { from_y = shared.FetchAfter("10", "40", 1000); });
  inner.WaitForCalls(1);
  std::thread x([&] { from_x = shared.FetchAfter("25", "30", 1000); });
  WaitForStats(shared,
               [](const SharedGapSource::Stats& s) { return s.requests == 2; });
  inner.Release("10");
  y.join();
  x.join();
  CHECK(inner.calls() == std::vector<std::string>{"10|40"});
  CHECK(Ids(from_y) == Range(11, 40));
  CHECK(Ids(from_x) == Range(26, 30));  // Its own stop, not Y's.
  // And from the cache, while fresh: a later X' inside the range, and Y
  // again with an earlier stop.
  inner.Release("39");  // "" stop is not covered by a fetch cut at 40.
  CHECK(Ids(shared.FetchAfter("39", "", 1000)) == Range(40, 50));
  CHECK(Ids(shared.FetchAfter("10", "12", 1000)) == Range(11, 12));
  CHECK(Ids(shared.FetchAfter("11", "20", 5)).empty());  // 9 items > 5.
  CHECK(shared.FetchAfter("11", "20", 5).status().code() ==
        Status::Code::kInvalidArgument);
  CHECK(inner.calls().size() == 2);
}

TEST_CASE(
    "shared gap source: an id the shared result does not hold gets its own "
    "answer") {
  BlockingGaps inner(50);
  FakeClock clock;
  SharedGapSource shared(inner, clock);
  inner.ReleaseAll();
  CHECK(Ids(shared.FetchAfter("10", "", 1000)) == Range(11, 50));
  // 60 is above everything upstream gave: unknown, so upstream must say.
  CHECK(shared.FetchAfter("60", "", 1000).status().code() ==
        Status::Code::kGone);
  CHECK(inner.calls() == std::vector<std::string>{"10|", "60|"});
  // A cached gone answers the same id only.
  CHECK(shared.FetchAfter("60", "", 1000).status().code() ==
        Status::Code::kGone);
  CHECK(inner.calls().size() == 2);
}

TEST_CASE("shared gap source: one slow range never queues the others") {
  BlockingGaps inner(100);
  FakeClock clock;
  SharedGapSource shared(inner, clock);
  Result<std::vector<Notification>> slow = Status::Unavailable("");
  std::thread hanging([&] { slow = shared.FetchAfter("5", "", 1000); });
  inner.WaitForCalls(1);
  // Distinct ranges below the hanging one's start: they cannot share it,
  // nor each other's (each stops before the next one's stop).
  std::vector<std::thread> others;
  std::vector<Result<std::vector<Notification>>> results(
      3, Status::Unavailable(""));
  for (int i = 0; i < 3; ++i) {
    others.emplace_back([&, i] {
      results[static_cast<size_t>(i)] =
          shared.FetchAfter(std::to_string(i + 1), std::to_string(i + 2), 1000);
    });
  }
  inner.WaitForCalls(4);
  for (int i = 1; i <= 3; ++i) inner.Release(std::to_string(i));
  for (auto& t : others) t.join();  // Done while "5" still hangs.
  // Each its own range (stops that no other fetch reaches): 3 fetches.
  CHECK(Ids(results[0]) == Range(2, 2));
  CHECK(Ids(results[2]) == Range(4, 4));
  CHECK_FALSE(slow.ok());
  inner.Release("5");
  hanging.join();
  CHECK(Ids(slow) == Range(6, 100));
  CHECK(inner.max_running() == 4);
}

TEST_CASE(
    "shared gap source: the cap holds, and a caller past max_wait is refused") {
  BlockingGaps inner(100);
  FakeClock clock;
  Metrics metrics;
  SharedGapOptions options;
  options.max_concurrent = 2;
  options.max_wait = 50ms;  // Real time: only the refusal's trigger.
  SharedGapSource shared(inner, clock, options, &metrics);
  std::thread a([&] { (void)shared.FetchAfter("1", "2", 10); });
  std::thread b([&] { (void)shared.FetchAfter("2", "3", 10); });
  inner.WaitForCalls(2);
  CHECK(metrics.gap_fetches_in_flight == 2);
  Result<std::vector<Notification>> refused = shared.FetchAfter("3", "4", 10);
  CHECK(refused.status().code() == Status::Code::kUnavailable);
  CHECK(refused.status().message() ==
        "too many gap fetches in flight (2); retry later");
  CHECK(shared.stats().rejected == 1);
  CHECK(metrics.gap_rejected == 1);
  inner.ReleaseAll();
  a.join();
  b.join();
  CHECK(inner.max_running() == 2);
  CHECK(inner.calls().size() == 2);
}

TEST_CASE("shared gap source: a waiter for a slot proceeds when one frees") {
  BlockingGaps inner(100);
  FakeClock clock;
  SharedGapOptions options;
  options.max_concurrent = 1;
  SharedGapSource shared(inner, clock, options);
  std::thread a([&] { (void)shared.FetchAfter("50", "60", 100); });
  inner.WaitForCalls(1);
  Result<std::vector<Notification>> waited = Status::Unavailable("");
  std::thread b([&] { waited = shared.FetchAfter("10", "20", 100); });
  WaitForStats(shared,
               [](const SharedGapSource::Stats& s) { return s.requests == 2; });
  CHECK(inner.calls().size() == 1);  // b cannot share a's (10 < 50): waits.
  inner.Release("50");
  a.join();
  inner.WaitForCalls(2);
  inner.Release("10");
  b.join();
  CHECK(Ids(waited) == Range(11, 20));
  CHECK(inner.max_running() == 1);
}

TEST_CASE(
    "shared gap source: failures are shared by those waiting, never cached") {
  BlockingGaps inner(100);
  FakeClock clock;
  SharedGapSource shared(inner, clock);
  inner.Fail("10", Status::Unavailable("delivery API timeout: slow"));
  Result<std::vector<Notification>> first = Status::Unavailable("");
  Result<std::vector<Notification>> second = Status::Unavailable("");
  std::thread t1([&] { first = shared.FetchAfter("10", "", 100); });
  inner.WaitForCalls(1);
  std::thread t2([&] { second = shared.FetchAfter("10", "", 100); });
  WaitForStats(shared,
               [](const SharedGapSource::Stats& s) { return s.requests == 2; });
  inner.Release("10");
  t1.join();
  t2.join();
  CHECK(first.status().message() == "delivery API timeout: slow");
  CHECK(second.status().message() == "delivery API timeout: slow");
  CHECK(inner.calls().size() == 1);
  // The next caller asks again: upstream may be back.
  inner.Fail("10", Status::Unavailable("still down"));
  CHECK(shared.FetchAfter("10", "", 100).status().message() == "still down");
  CHECK(inner.calls().size() == 2);
}

TEST_CASE(
    "shared gap source: results are reused for cache_ttl, then fetched again") {
  BlockingGaps inner(20);
  FakeClock clock;
  SharedGapSource shared(inner, clock);
  inner.ReleaseAll();
  CHECK(Ids(shared.FetchAfter("5", "", 100)) == Range(6, 20));
  clock.Advance(2000ms);
  CHECK(Ids(shared.FetchAfter("5", "", 100)) == Range(6, 20));
  CHECK(inner.calls().size() == 1);
  clock.Advance(1ms);
  CHECK(Ids(shared.FetchAfter("5", "", 100)) == Range(6, 20));
  CHECK(inner.calls().size() == 2);
}

TEST_CASE("shared gap source: the cache keeps at most max_cache_bytes") {
  BlockingGaps inner(1000);
  FakeClock clock;
  SharedGapOptions options;
  options.max_cache_bytes = 1000;  // Less than one result below.
  SharedGapSource shared(inner, clock, options);
  inner.ReleaseAll();
  CHECK(shared.FetchAfter("1", "", 10000).ok());
  CHECK(shared.FetchAfter("1", "", 10000).ok());
  CHECK(inner.calls().size() == 2);  // Too big to keep: asked again.
}

TEST_CASE("shared gap source: Stop() releases every waiter at once") {
  BlockingGaps inner(100);
  FakeClock clock;
  SharedGapOptions options;
  options.max_concurrent = 1;
  SharedGapSource shared(inner, clock, options);
  std::thread running([&] { (void)shared.FetchAfter("50", "", 100); });
  inner.WaitForCalls(1);
  std::vector<Result<std::vector<Notification>>> results(
      2, Status::Unavailable(""));
  std::thread sharer([&] { results[0] = shared.FetchAfter("50", "", 100); });
  std::thread slot([&] { results[1] = shared.FetchAfter("10", "", 100); });
  WaitForStats(shared,
               [](const SharedGapSource::Stats& s) { return s.requests == 3; });
  shared.Stop();
  sharer.join();
  slot.join();
  for (const auto& r : results)
    CHECK(r.status().message() == "the bridge is stopping");
  CHECK(shared.FetchAfter("1", "", 100).status().code() ==
        Status::Code::kUnavailable);
  inner.ReleaseAll();
  running.join();
}

}  // namespace
}  // namespace notifications

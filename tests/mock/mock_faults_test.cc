// The mock's fault injection, without a server.
#include "mock_faults.h"

#include <doctest/doctest.h>

#include <chrono>
#include <thread>

#include "fakes.h"

namespace notifications {
namespace {

TEST_CASE("mock faults: counts as JSON in MockFault order") {
  MockFaultCounts counts;
  counts.requests = 9;
  counts.injected[static_cast<size_t>(MockFault::kClose)] = 2;
  counts.injected[static_cast<size_t>(MockFault::kSlow)] = 1;
  CHECK(counts.total() == 3);
  CHECK(FaultCountsToJson(counts) ==
        R"({"requests":9,"total":3,"faults":{"5xx":0,"delay":0,"close":2,)"
        R"("truncate":0,"garbage":0,"reserve":0,"gone":0,"slow":1}})");
}

TEST_CASE("mock faults: draws follow the rates and the seed, until stopped") {
  FakeClock clock;
  MockFaultOptions options;
  options.rate(MockFault::kGarbage) = 1.0;
  options.seed = 7;
  MockFaultInjector always(options, clock);
  for (int i = 0; i < 10; ++i) CHECK(always.Draw() == MockFault::kGarbage);
  CHECK(always.counts().requests == 10);
  CHECK(always.counts().total() == 0);  // Drawn is not injected.
  always.Count(MockFault::kGarbage);
  CHECK(always.counts().of(MockFault::kGarbage) == 1);
  CHECK(always.StopInjecting());
  CHECK_FALSE(always.StopInjecting());
  CHECK_FALSE(always.Draw().has_value());

  // The same seed draws the same faults.
  MockFaultOptions mixed;
  mixed.rate(MockFault::k5xx) = 0.3;
  mixed.rate(MockFault::kSlow) = 0.3;
  mixed.seed = 42;
  MockFaultInjector a(mixed, clock), b(mixed, clock);
  for (int i = 0; i < 50; ++i) CHECK(a.Draw() == b.Draw());
  MockFaultInjector never(MockFaultOptions{}, clock);
  for (int i = 0; i < 50; ++i) CHECK_FALSE(never.Draw().has_value());
}

TEST_CASE("mock faults: a hold lasts its time, or ends at Stop()") {
  FakeClock clock;
  MockFaultInjector faults(MockFaultOptions{}, clock);
  CHECK(faults.Hold(std::chrono::seconds(35)));
  CHECK(clock.waits() ==
        std::vector<std::chrono::milliseconds>{std::chrono::seconds(35)});
  faults.Stop();
  CHECK_FALSE(faults.Hold(std::chrono::seconds(35)));
  CHECK(clock.waits().size() == 1);  // Stopped: no wait at all.
  size_t u = faults.Uniform(3, 5);
  CHECK(u >= 3);
  CHECK(u <= 5);
  CHECK(faults.Uniform(4, 1) == 4);
}

}  // namespace
}  // namespace notifications

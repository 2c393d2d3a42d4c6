// The mock's options and their validation.
#include "mock_options.h"

#include <doctest/doctest.h>

#include <chrono>
#include <string>

namespace notifications {
namespace {

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace

TEST_CASE("mock fault options are validated") {
  MockApiOptions too_much;
  too_much.faults.rate(MockFault::k5xx) = 0.6;
  too_much.faults.rate(MockFault::kGone) = 0.6;
  Status sum = ValidateMockApiOptions(too_much);
  CHECK(sum.code() == Status::Code::kInvalidArgument);
  CHECK(Contains(sum.message(), "add up to"));

  MockApiOptions negative;
  negative.faults.rate(MockFault::kSlow) = -0.1;
  CHECK(Contains(ValidateMockApiOptions(negative).message(), "fault slow"));

  MockApiOptions long_delay;
  long_delay.faults.delay = std::chrono::hours(2);
  CHECK(Contains(ValidateMockApiOptions(long_delay).message(), "fault delay"));

  MockApiOptions exact;  // Rates adding up to 1 (inexactly in binary) pass.
  for (double& r : exact.faults.rates) r = 0.125;
  exact.faults.rate(MockFault::k5xx) = 0.1;
  exact.faults.rate(MockFault::kGone) = 0.15;
  CHECK(ValidateMockApiOptions(exact).ok());
}

}  // namespace notifications

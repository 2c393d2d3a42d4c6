#include "mock_faults.h"

#include <algorithm>

#include "notification_json.h"

namespace notifications {

const char* MockFaultName(MockFault fault) {
  switch (fault) {
    case MockFault::k5xx:
      return "5xx";
    case MockFault::kDelay:
      return "delay";
    case MockFault::kClose:
      return "close";
    case MockFault::kTruncate:
      return "truncate";
    case MockFault::kGarbage:
      return "garbage";
    case MockFault::kReserve:
      return "reserve";
    case MockFault::kGone:
      return "gone";
    case MockFault::kSlow:
      return "slow";
  }
  return "unknown";
}

double MockFaultOptions::Total() const {
  double sum = 0;
  for (double r : rates) sum += r;
  return sum;
}

uint64_t MockFaultCounts::total() const {
  uint64_t sum = 0;
  for (uint64_t n : injected) sum += n;
  return sum;
}

std::string FaultCountsToJson(const MockFaultCounts& counts) {
  std::string out = "{\"requests\":" + std::to_string(counts.requests) +
                    ",\"total\":" + std::to_string(counts.total()) +
                    ",\"faults\":{";
  for (size_t i = 0; i < kMockFaultKinds; ++i) {
    if (i > 0) out += ',';
    out += JsonString(MockFaultName(static_cast<MockFault>(i))) + ":" +
           std::to_string(counts.injected[i]);
  }
  out += "}}";
  return out;
}

MockFaultInjector::MockFaultInjector(const MockFaultOptions& options,
                                     Clock& clock)
    : clock_(clock),
      rng_(options.seed != 0 ? options.seed : std::random_device{}()),
      rates_(options.rates) {}

std::optional<MockFault> MockFaultInjector::Draw() {
  std::lock_guard<std::mutex> lock(mu_);
  ++counts_.requests;
  double u = std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
  double edge = 0;
  for (size_t i = 0; i < kMockFaultKinds; ++i) {
    edge += rates_[i];
    if (u < edge) return static_cast<MockFault>(i);
  }
  return std::nullopt;
}

size_t MockFaultInjector::Uniform(size_t lo, size_t hi) {
  std::lock_guard<std::mutex> lock(mu_);
  return std::uniform_int_distribution<size_t>(lo, std::max(lo, hi))(rng_);
}

void MockFaultInjector::Count(MockFault fault) {
  std::lock_guard<std::mutex> lock(mu_);
  ++counts_.injected[static_cast<size_t>(fault)];
}

bool MockFaultInjector::Hold(std::chrono::nanoseconds duration) {
  std::unique_lock<std::mutex> lock(mu_);
  clock_.WaitFor(cv_, lock, duration, [this] { return stopped_; });
  return !stopped_;
}

bool MockFaultInjector::StopInjecting() {
  std::lock_guard<std::mutex> lock(mu_);
  bool were_on = rates_ != decltype(rates_){};
  rates_.fill(0);
  return were_on;
}

void MockFaultInjector::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
  }
  cv_.notify_all();
}

MockFaultCounts MockFaultInjector::counts() const {
  std::lock_guard<std::mutex> lock(mu_);
  return counts_;
}

}  // namespace notifications

#include "backoff.h"

#include <algorithm>

namespace notifications {

std::chrono::milliseconds BackoffDelay(const BackoffPolicy& policy,
                                       uint32_t failures, double unit_random) {
  if (failures == 0) return std::chrono::milliseconds(0);
  const int64_t max_ms = std::max<int64_t>(0, policy.max.count());
  int64_t ceiling = std::max<int64_t>(1, policy.initial.count());
  // Doubling saturates at the cap; stop early so it never overflows.
  for (uint32_t i = 1; i < failures && ceiling < max_ms; ++i) ceiling *= 2;
  ceiling = std::min(ceiling, max_ms);
  double r = std::clamp(unit_random, 0.0, 1.0);
  double half = static_cast<double>(ceiling) / 2.0;
  return std::chrono::milliseconds(static_cast<int64_t>(half + half * r));
}

}  // namespace notifications

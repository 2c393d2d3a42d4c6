// Backoff: how long to wait before retrying a failed upstream request.
//
// Exponential with "full jitter" below a cap: the n-th consecutive failure
// (n >= 1) waits a uniformly random time in
//   [ceiling/2, ceiling],  ceiling = min(max, initial * 2^(n-1))
// Keeping the lower half avoids hammering the API with near-zero waits while
// still spreading replicas apart. A pure value type: not thread-safe; the
// randomness comes from the caller so tests are deterministic.
#pragma once

#include <chrono>
#include <cstdint>

namespace notifications {

struct BackoffPolicy {
  std::chrono::milliseconds initial{1000};  // First retry's ceiling.
  std::chrono::milliseconds max{60000};     // Cap on any wait.
};

// Wait before retry after `failures` consecutive failures (>= 1; 0 gives 0).
// `unit_random` in [0, 1) picks the point inside [ceiling/2, ceiling].
std::chrono::milliseconds BackoffDelay(const BackoffPolicy& policy,
                                       uint32_t failures, double unit_random);

}  // namespace notifications

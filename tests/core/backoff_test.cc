#include "backoff.h"

#include <doctest/doctest.h>

namespace notifications {
namespace {

using std::chrono::milliseconds;

TEST_CASE("backoff: no failure means no wait") {
  CHECK(BackoffDelay(BackoffPolicy{}, 0, 0.5) == milliseconds(0));
}

TEST_CASE("backoff: ceiling doubles per failure and stays within [c/2, c]") {
  BackoffPolicy p{milliseconds(1000), milliseconds(60000)};
  CHECK(BackoffDelay(p, 1, 0.0) == milliseconds(500));
  CHECK(BackoffDelay(p, 1, 0.999999) == milliseconds(999));
  CHECK(BackoffDelay(p, 2, 0.0) == milliseconds(1000));
  CHECK(BackoffDelay(p, 3, 0.0) == milliseconds(2000));
  CHECK(BackoffDelay(p, 4, 1.0) == milliseconds(8000));
}

TEST_CASE("backoff: capped at max, even after very many failures") {
  BackoffPolicy p{milliseconds(1000), milliseconds(60000)};
  CHECK(BackoffDelay(p, 7, 1.0) == milliseconds(60000));
  CHECK(BackoffDelay(p, 1000000, 1.0) == milliseconds(60000));
  CHECK(BackoffDelay(p, 4000000000u, 0.0) == milliseconds(30000));
}

TEST_CASE("backoff: jitter spreads waits across the upper half") {
  BackoffPolicy p{milliseconds(1000), milliseconds(8000)};
  milliseconds lo = BackoffDelay(p, 10, 0.0), hi = BackoffDelay(p, 10, 0.99);
  CHECK(lo == milliseconds(4000));
  CHECK(hi > milliseconds(7900));
}

TEST_CASE("backoff: out-of-range random values are clamped") {
  BackoffPolicy p{milliseconds(100), milliseconds(1000)};
  CHECK(BackoffDelay(p, 1, -3.0) == milliseconds(50));
  CHECK(BackoffDelay(p, 1, 7.0) == milliseconds(100));
}

}  // namespace
}  // namespace notifications

#include "descriptor_limit.h"

#include <doctest/doctest.h>
#include <sys/resource.h>

#include <string>
#include <vector>

namespace notifications {
namespace {

TEST_CASE("descriptor limit: keep, raise, or raise what can be and warn") {
  DescriptorPlan keep =
      PlanDescriptorLimit(1064, 4096, 4096, "--max-clients", 1000);
  CHECK(keep.raise_to == 0);
  CHECK(keep.warning.empty());
  DescriptorPlan raise =
      PlanDescriptorLimit(1064, 1024, 524288, "--max-clients", 1000);
  CHECK(raise.raise_to == 1064);
  CHECK(raise.warning.empty());
  DescriptorPlan short_hard =
      PlanDescriptorLimit(100064, 1024, 4096, "--max-clients", 100000);
  CHECK(short_hard.raise_to == 4096);
  CHECK(short_hard.warning ==
        "--max-clients 100000 needs about 100064 file descriptors, but the "
        "hard limit (ulimit -Hn) is 4096: clients beyond about 4032 will be "
        "refused. Raise the limit (LimitNOFILE= in the systemd unit, --ulimit "
        "nofile= for docker, ulimit -n) or lower --max-clients");
  DescriptorPlan stuck =
      PlanDescriptorLimit(2000, 1024, 1024, "--max-clients", 1936);
  CHECK(stuck.raise_to == 0);
  CHECK_FALSE(stuck.warning.empty());
}

TEST_CASE("descriptor limit: the soft limit is raised for real") {
  struct rlimit saved;
  REQUIRE(getrlimit(RLIMIT_NOFILE, &saved) == 0);
  // The test raises the soft limit from 256 to 364: the hard one must allow
  // it (it fails, rather than passing silently, where it does not).
  REQUIRE((saved.rlim_max == RLIM_INFINITY || saved.rlim_max >= 512));
  struct rlimit low = saved;
  low.rlim_cur = 256;
  REQUIRE(setrlimit(RLIMIT_NOFILE, &low) == 0);
  std::vector<std::string> warnings;
  EnsureDescriptorLimit(300, "--max-clients", &warnings);
  struct rlimit now;
  REQUIRE(getrlimit(RLIMIT_NOFILE, &now) == 0);
  CHECK(now.rlim_cur == 364);
  CHECK(warnings.empty());
  REQUIRE(setrlimit(RLIMIT_NOFILE, &saved) == 0);
}

}  // namespace
}  // namespace notifications

#include "descriptor_limit.h"

#include <sys/resource.h>

#include <cerrno>
#include <cstring>

namespace notifications {
namespace {

uint64_t AsNumber(rlim_t limit) {
  return limit == RLIM_INFINITY ? UINT64_MAX : static_cast<uint64_t>(limit);
}

}  // namespace

DescriptorPlan PlanDescriptorLimit(uint64_t needed, uint64_t soft,
                                   uint64_t hard, const std::string& flag,
                                   uint64_t clients) {
  DescriptorPlan plan;
  if (soft >= needed) return plan;
  if (hard >= needed) {
    plan.raise_to = needed;
    return plan;
  }
  plan.raise_to = hard > soft ? hard : 0;
  plan.warning =
      flag + " " + std::to_string(clients) + " needs about " +
      std::to_string(needed) +
      " file descriptors, but the hard limit (ulimit -Hn) is " +
      std::to_string(hard) + ": clients beyond about " +
      std::to_string(hard > kDescriptorReserve ? hard - kDescriptorReserve
                                               : 0) +
      " will be refused. Raise the limit (LimitNOFILE= in the "
      "systemd unit, --ulimit nofile= for docker, ulimit -n) or "
      "lower " +
      flag;
  return plan;
}

void EnsureDescriptorLimit(uint64_t clients, const std::string& flag,
                           std::vector<std::string>* warnings) {
  struct rlimit limit;
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    warnings->push_back(std::string("cannot read the file-descriptor limit: ") +
                        std::strerror(errno));
    return;
  }
  const uint64_t needed = clients + kDescriptorReserve;
  DescriptorPlan plan =
      PlanDescriptorLimit(needed, AsNumber(limit.rlim_cur),
                          AsNumber(limit.rlim_max), flag, clients);
  if (plan.raise_to > 0) {
    const rlim_t before = limit.rlim_cur;
    limit.rlim_cur = plan.raise_to == UINT64_MAX
                         ? RLIM_INFINITY
                         : static_cast<rlim_t>(plan.raise_to);
    if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
      warnings->push_back(
          "cannot raise the file-descriptor limit from " +
          std::to_string(before) + " to " + std::to_string(plan.raise_to) +
          ": " + std::strerror(errno) + "; " + flag + " " +
          std::to_string(clients) + " needs about " + std::to_string(needed));
      return;
    }
  }
  if (!plan.warning.empty()) warnings->push_back(plan.warning);
}

}  // namespace notifications

// The process's file-descriptor limit (RLIMIT_NOFILE) against what a
// program needs, checked at start: a bridge configured for --max-clients
// streams needs one descriptor per stream, plus its own.
//
// Thread-safe in the sense of setrlimit(): call it from main before the
// threads start.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace notifications {

// Descriptors a program needs besides its clients: the listening socket,
// upstream connections, the state file, stdio, the loops' wake-ups.
inline constexpr uint64_t kDescriptorReserve = 64;

// What to do with limits `soft` and `hard` (RLIM_INFINITY as UINT64_MAX)
// for `needed` descriptors: keep the soft limit (`raise_to` 0), raise it to
// `raise_to` (at most `hard`), or, when even `hard` is too low, raise it to
// `hard` and warn. Pure.
struct DescriptorPlan {
  uint64_t raise_to = 0;  // 0: keep the soft limit.
  std::string warning;    // "" when the limit is enough.
};
DescriptorPlan PlanDescriptorLimit(uint64_t needed, uint64_t soft,
                                   uint64_t hard, const std::string& flag,
                                   uint64_t clients);

// Makes room for `clients` clients (given by `flag`, e.g. "--max-clients")
// plus kDescriptorReserve: raises the soft RLIMIT_NOFILE up to the hard one
// when needed. Adds to `warnings` when it cannot be enough, with the
// numbers and what to do (raise the hard limit: LimitNOFILE= in the
// systemd unit, --ulimit nofile= for docker; or lower the flag), and when
// the limits cannot be read or set.
void EnsureDescriptorLimit(uint64_t clients, const std::string& flag,
                           std::vector<std::string>* warnings);

}  // namespace notifications

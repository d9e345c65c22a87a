// How many CPUs this process may use: the default thread count ("0: all
// cores" means these, not the machine's), so a container limited to 4 CPUs
// on a 64-core node runs 4 threads.
//
// UsableCpus() = max(1, min(CPUs in the affinity mask (sched_getaffinity),
// ceil(the tightest CPU quota of this process's cgroup and its ancestors))).
// Quotas are read from cgroup v2 (`cpu.max`: "QUOTA PERIOD" or "max PERIOD")
// and cgroup v1 (`cpu.cfs_quota_us` / `cpu.cfs_period_us`, -1: none), at the
// mount points /proc/self/mountinfo names. Anything unreadable counts as no
// limit. Thread-safe; reads the files on every call.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ccguard {

int UsableCpus();

// CPUs in this thread's affinity mask (hardware_concurrency() if unknown).
int AffinityCpus();

// The quota in CPUs of this process's cgroups (the smallest over every
// level of v1 and v2 hierarchies), or nullopt when none is set.
std::optional<double> CgroupCpuQuota();

// Parsers, exposed for tests. "max 100000" → nullopt; "150000 100000" → 1.5.
std::optional<double> ParseCpuMax(std::string_view text);
// v1: quota "-1" → nullopt; ("50000", "100000") → 0.5.
std::optional<double> ParseCfsQuota(std::string_view quota_us, std::string_view period_us);

}  // namespace ccguard

// Resident memory of this process, from /proc/self/status (Linux); 0 where
// it cannot be read.
#pragma once

#include <cstdint>

namespace ccguard {

// Bytes resident now (VmRSS).
int64_t ResidentBytes();
// The high-water mark of the resident bytes since the process started (VmHWM).
int64_t PeakResidentBytes();

}  // namespace ccguard

#include "util/process_memory.h"

#include <cstdio>
#include <cstring>

namespace ccguard {
namespace {

// The "<field>:   N kB" line of /proc/self/status, in bytes.
int64_t StatusBytes(const char* field) {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return 0;
  char line[256];
  const size_t n = std::strlen(field);
  long long kib = 0;
  while (std::fgets(line, sizeof(line), f) != nullptr) {
    if (std::strncmp(line, field, n) == 0 && line[n] == ':') {
      if (std::sscanf(line + n + 1, "%lld", &kib) != 1) kib = 0;
      break;
    }
  }
  std::fclose(f);
  return static_cast<int64_t>(kib) * 1024;
}

}  // namespace

int64_t ResidentBytes() { return StatusBytes("VmRSS"); }
int64_t PeakResidentBytes() { return StatusBytes("VmHWM"); }

}  // namespace ccguard

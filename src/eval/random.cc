#include "eval/random.h"

namespace ccguard::eval {

uint64_t SplitMix64::Next() {
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t SplitMix64::Below(uint64_t bound) {
  // Values below `limit` would over-represent the low residues; skip them.
  const uint64_t limit = (0 - bound) % bound;  // == 2^64 mod bound
  for (;;) {
    uint64_t r = Next();
    if (r >= limit) return r % bound;
  }
}

}  // namespace ccguard::eval

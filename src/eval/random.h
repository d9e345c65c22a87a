// SplitMix64: a small, fully specified PRNG, so that seeded sampling and
// bootstrap resampling give the same picks on every platform and standard
// library (std::shuffle and the std distributions are implementation-defined).
#pragma once

#include <cstdint>

namespace ccguard::eval {

class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}

  // The next 64 random bits (Steele, Lea & Flood 2014; the reference constants).
  uint64_t Next();

  // Uniform in [0, bound) by rejection sampling (no modulo bias); bound > 0.
  uint64_t Below(uint64_t bound);

 private:
  uint64_t state_;
};

}  // namespace ccguard::eval

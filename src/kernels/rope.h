// Rotary position embedding frequencies, shared by every backend (host and
// CUDA device code) so that all compute the same angles.
//
//   inv_freq[i] = 1 / theta^(2i / head_dim),   i < head_dim / 2
//
// and, with Llama 3 scaling (llama3_factor > 0; transformers'
// `rope_type: llama3`), with wavelength w = 2π / inv_freq[i], L =
// original_max_positions:
//   w < L / high_freq_factor  → inv_freq[i]                (high frequencies)
//   w > L / low_freq_factor   → inv_freq[i] / factor       (low frequencies)
//   otherwise, s = (L / w - low_freq_factor) / (high_freq_factor - low_freq_factor):
//                             → (1 - s) · inv_freq[i] / factor + s · inv_freq[i]
// The angle of position p is p · inv_freq[i], in double precision.
#pragma once

#include <cmath>
#include <cstdint>

#if defined(__CUDACC__)
#define CCG_HOST_DEVICE __host__ __device__
#else
#define CCG_HOST_DEVICE
#endif

namespace ccguard::kernels {

struct RopeSpec {
  double theta = 1e6;
  // Llama 3 frequency scaling; off when llama3_factor is 0.
  double llama3_factor = 0;
  double low_freq_factor = 1;
  double high_freq_factor = 4;
  double original_max_positions = 8192;

  bool operator==(const RopeSpec& o) const {
    return theta == o.theta && llama3_factor == o.llama3_factor &&
           low_freq_factor == o.low_freq_factor && high_freq_factor == o.high_freq_factor &&
           original_max_positions == o.original_max_positions;
  }
};

CCG_HOST_DEVICE inline double RopeInvFreq(const RopeSpec& r, int64_t i, int64_t head_dim) {
  const double f = 1.0 / pow(r.theta, static_cast<double>(2 * i) / static_cast<double>(head_dim));
  if (!(r.llama3_factor > 0)) return f;
  const double wavelen = 2.0 * 3.14159265358979323846 / f;
  if (wavelen < r.original_max_positions / r.high_freq_factor) return f;
  if (wavelen > r.original_max_positions / r.low_freq_factor) return f / r.llama3_factor;
  const double s = (r.original_max_positions / wavelen - r.low_freq_factor) /
                   (r.high_freq_factor - r.low_freq_factor);
  return (1 - s) * f / r.llama3_factor + s * f;
}

}  // namespace ccguard::kernels

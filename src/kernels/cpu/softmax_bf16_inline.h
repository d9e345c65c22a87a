// The online-softmax step the BF16 attention kernels share (attention_bf16.cc
// and attention_amx.cc). Include this only after the file's
// `#pragma GCC target(...)` enabling avx512f/dq/bf16, and after
// simd_inline.h; internal linkage, as simd_inline.h explains.
#pragma once

#include <immintrin.h>

#include <cmath>
#include <cstdint>

namespace ccguard::kernels::cpu {
namespace {

struct RowState {
  float max;
  float sum;
};

// One query row against a block of 32 keys: `sc` holds the row's 32 scores,
// of which the first `nv` (> 0) are visible. Updates the row's running
// maximum and sum, rescales its `hd` accumulators when the maximum grew, and
// writes the 32 softmax weights as BF16 to `p` (64 bytes; 32-bit lane j:
// keys 2j and 2j + 1).
inline void SoftmaxRowBf16(const float* sc, int64_t nv, int64_t hd, float* acc, RowState* st,
                           void* p) {
  const __mmask16 m0 = static_cast<__mmask16>(nv >= 16 ? 0xffff : (1u << nv) - 1);
  const __mmask16 m1 = static_cast<__mmask16>(nv >= 32  ? 0xffff
                                              : nv > 16 ? (1u << (nv - 16)) - 1
                                                        : 0);
  const __m512 ninf = _mm512_set1_ps(-INFINITY);
  const __m512 s0 = _mm512_mask_loadu_ps(ninf, m0, sc);
  const __m512 s1 = _mm512_mask_loadu_ps(ninf, m1, sc + 16);
  const float bmax = _mm512_reduce_max_ps(_mm512_max_ps(s0, s1));
  if (bmax > st->max) {
    if (st->max != -INFINITY) {
      const float c = std::exp(st->max - bmax);
      st->sum *= c;
      const __m512 vc = _mm512_set1_ps(c);
      for (int64_t d = 0; d < hd; d += 16) {
        _mm512_storeu_ps(acc + d, _mm512_mul_ps(_mm512_loadu_ps(acc + d), vc));
      }
    }
    st->max = bmax;
  }
  const __m512 vmax = _mm512_set1_ps(st->max);
  const __m512 e0 = _mm512_maskz_mov_ps(m0, Exp(_mm512_sub_ps(s0, vmax)));
  const __m512 e1 = _mm512_maskz_mov_ps(m1, Exp(_mm512_sub_ps(s1, vmax)));
  st->sum += _mm512_reduce_add_ps(_mm512_add_ps(e0, e1));
  _mm512_storeu_si512(p, (__m512i)_mm512_cvtne2ps_pbh(e1, e0));
}

}  // namespace
}  // namespace ccguard::kernels::cpu

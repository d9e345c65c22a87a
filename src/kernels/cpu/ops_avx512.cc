// AVX-512 versions of the non-GEMM kernels: causal GQA attention with an
// online softmax (flash-attention style), SiLU·mul and RMSNorm.
//
// Compiled for AVX-512 by the target pragma below (no global -march flag).
// GCC 12 warns about the deliberately undefined vectors inside its own
// AVX-512 intrinsics (GCC bug 105593); the warnings point into the header.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cmath>

#include "kernels/cpu/ops.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,fma")

#include "kernels/cpu/simd_inline.h"

namespace ccguard::kernels::cpu {
namespace {

struct RowState {
  float max;
  float sum;
};

// One key block (transposed keys kt[d * 16 + j], value rows v[j], nk keys,
// the first at absolute position `first`) against RB query rows: scores,
// online-softmax update and P·V for each row that sees at least one key of
// the block. RB rows share every load of kt and v; each row's arithmetic is
// the same whatever RB is.
template <int RB>
void BlockRows(const float* qs, const int64_t* pos, const float* kt, const float* const* v,
               int64_t nk, int64_t first, int64_t hd, float* acc, RowState* st) {
  int64_t nv[RB];
  int64_t nv_max = 0;
#pragma GCC unroll 4
  for (int i = 0; i < RB; ++i) {
    const int64_t visible = pos[i] - first + 1;
    nv[i] = visible <= 0 ? 0 : visible < nk ? visible : nk;
    nv_max = nv[i] > nv_max ? nv[i] : nv_max;
  }
  if (nv_max == 0) return;
  // Scores: two partial sums per row (2 RB independent chains).
  __m512 s0[RB], s1[RB];
#pragma GCC unroll 4
  for (int i = 0; i < RB; ++i) s0[i] = s1[i] = _mm512_setzero_ps();
  for (int64_t d = 0; d < hd; d += 2) {
    const __m512 k0 = _mm512_loadu_ps(kt + d * 16), k1 = _mm512_loadu_ps(kt + (d + 1) * 16);
#pragma GCC unroll 4
    for (int i = 0; i < RB; ++i) {
      s0[i] = _mm512_fmadd_ps(_mm512_set1_ps(qs[i * hd + d]), k0, s0[i]);
      s1[i] = _mm512_fmadd_ps(_mm512_set1_ps(qs[i * hd + d + 1]), k1, s1[i]);
    }
  }
  alignas(64) float p[RB][16];
  __m512 corr[RB];
#pragma GCC unroll 4
  for (int i = 0; i < RB; ++i) {
    if (nv[i] == 0) {  // sees nothing here: unchanged
      _mm512_store_ps(p[i], _mm512_setzero_ps());
      corr[i] = _mm512_set1_ps(1.f);
      continue;
    }
    const __mmask16 mask = static_cast<__mmask16>((1u << nv[i]) - 1);
    const __m512 sc =
        _mm512_mask_mov_ps(_mm512_set1_ps(-INFINITY), mask, _mm512_add_ps(s0[i], s1[i]));
    const float bmax = _mm512_reduce_max_ps(sc);
    const float new_max = bmax > st[i].max ? bmax : st[i].max;
    const float c = st[i].max == -INFINITY ? 0.f : std::exp(st[i].max - new_max);
    const __m512 e = _mm512_maskz_mov_ps(mask, Exp(_mm512_sub_ps(sc, _mm512_set1_ps(new_max))));
    st[i].sum = st[i].sum * c + _mm512_reduce_add_ps(e);
    st[i].max = new_max;
    _mm512_store_ps(p[i], e);
    corr[i] = _mm512_set1_ps(c);
  }
  // P·V, two vectors of each row's output at a time (2 RB accumulators).
  for (int64_t d = 0; d < hd; d += 32) {
    const bool two = d + 16 < hd;
    __m512 o0[RB], o1[RB];
#pragma GCC unroll 4
    for (int i = 0; i < RB; ++i) {
      o0[i] = _mm512_mul_ps(_mm512_loadu_ps(acc + i * hd + d), corr[i]);
      o1[i] = two ? _mm512_mul_ps(_mm512_loadu_ps(acc + i * hd + d + 16), corr[i])
                  : _mm512_setzero_ps();
    }
    for (int64_t j = 0; j < nv_max; ++j) {
      const float* vr = v[j] + d;
      const __m512 v0 = _mm512_loadu_ps(vr);
      const __m512 v1 = two ? _mm512_loadu_ps(vr + 16) : _mm512_setzero_ps();
#pragma GCC unroll 4
      for (int i = 0; i < RB; ++i) {
        const __m512 pj = _mm512_set1_ps(p[i][j]);
        o0[i] = _mm512_fmadd_ps(pj, v0, o0[i]);
        o1[i] = _mm512_fmadd_ps(pj, v1, o1[i]);
      }
    }
#pragma GCC unroll 4
    for (int i = 0; i < RB; ++i) {
      _mm512_storeu_ps(acc + i * hd + d, o0[i]);
      if (two) _mm512_storeu_ps(acc + i * hd + d + 16, o1[i]);
    }
  }
}

}  // namespace

int64_t AttentionScratchFloats(const AttentionShape& s) {
  const int64_t rows = kAttentionQueryBlock * (s.n_heads / s.n_kv_heads);
  // scaled queries, output accumulators, transposed keys, row states,
  // positions per row (as floats' worth of int64)
  return rows * s.head_dim * 2 + s.head_dim * 16 + rows * 2 + rows * 2 + 16;
}

void Avx512AttentionBlock(const float* q, const int64_t* positions, int64_t t0, int64_t t1,
                          const KvSegment* segments, int64_t n_segments, const AttentionShape& s,
                          int64_t kvh, float* out, float* scratch) {
  const int64_t hd = s.head_dim, group = s.n_heads / s.n_kv_heads;
  const int64_t kv_dim = s.n_kv_heads * hd, q_dim = s.n_heads * hd;
  const int64_t rows =
      (t1 - t0) * group;  // row r: token t0 + r / group, head kvh * group + r % group
  float* qs = scratch;
  float* acc = qs + rows * hd;
  float* kt = acc + rows * hd;  // kt[d * 16 + j]: key j of the block, dimension d
  RowState* st = reinterpret_cast<RowState*>(kt + hd * 16);
  int64_t* pos = reinterpret_cast<int64_t*>(st + rows);
  const __m512 scale = _mm512_set1_ps(s.softmax_scale());
  int64_t max_pos = -1;
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t t = t0 + r / group, h = kvh * group + r % group;
    for (int64_t d = 0; d < hd; d += 16) {
      _mm512_storeu_ps(qs + r * hd + d,
                       _mm512_mul_ps(_mm512_loadu_ps(q + t * q_dim + h * hd + d), scale));
      _mm512_storeu_ps(acc + r * hd + d, _mm512_setzero_ps());
    }
    st[r] = {-INFINITY, 0.f};
    pos[r] = positions[t];
    if (positions[t] > max_pos) max_pos = positions[t];
  }
  // Key blocks start at absolute positions 0, 16, 32, ... whatever the
  // segments are (a block may span two), so a row's online softmax visits
  // the same blocks with or without a shared prefix cache, alone or batched.
  int64_t total = 0;
  for (int64_t sg = 0; sg < n_segments; ++sg) total += segments[sg].len;
  const int64_t n_keys = total < max_pos + 1 ? total : max_pos + 1;
  const float* krow[16];
  const float* vrow[16];
  int64_t sg = 0, base = 0;  // segment of the next key and its first position
  for (int64_t j0 = 0; j0 < n_keys; j0 += 16) {
    const int64_t nk = n_keys - j0 < 16 ? n_keys - j0 : 16;
    for (int64_t j = 0; j < nk; ++j) {
      while (j0 + j >= base + segments[sg].len) base += segments[sg++].len;
      const int64_t off = (j0 + j - base) * kv_dim + kvh * hd;
      krow[j] = segments[sg].k + off;
      vrow[j] = segments[sg].v + off;
    }
    for (int64_t d = 0; d < hd; d += 16) {
      __m512 blk[16];
      for (int64_t j = 0; j < 16; ++j) {
        blk[j] = j < nk ? _mm512_loadu_ps(krow[j] + d) : _mm512_setzero_ps();
      }
      Transpose16(blk);
      for (int64_t i = 0; i < 16; ++i) _mm512_storeu_ps(kt + (d + i) * 16, blk[i]);
    }
    int64_t r = 0;
    for (; r + 4 <= rows; r += 4) {
      BlockRows<4>(qs + r * hd, pos + r, kt, vrow, nk, j0, hd, acc + r * hd, st + r);
    }
    for (; r < rows; ++r) {
      BlockRows<1>(qs + r * hd, pos + r, kt, vrow, nk, j0, hd, acc + r * hd, st + r);
    }
  }
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t t = t0 + r / group, h = kvh * group + r % group;
    const __m512 inv = _mm512_set1_ps(st[r].sum > 0.f ? 1.f / st[r].sum : 0.f);
    for (int64_t d = 0; d < hd; d += 16) {
      _mm512_storeu_ps(out + t * q_dim + h * hd + d,
                       _mm512_mul_ps(_mm512_loadu_ps(acc + r * hd + d), inv));
    }
  }
}

void Avx512SiluMul(const float* gate, const float* up, int64_t n, float* out) {
  const __m512 one = _mm512_set1_ps(1.f);
  int64_t i = 0;
  for (; i < n; i += 16) {
    const __mmask16 mask =
        n - i >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << (n - i)) - 1);
    const __m512 g = _mm512_maskz_loadu_ps(mask, gate + i);
    const __m512 u = _mm512_maskz_loadu_ps(mask, up + i);
    const __m512 e = Exp(_mm512_sub_ps(_mm512_setzero_ps(), g));
    _mm512_mask_storeu_ps(out + i, mask, _mm512_mul_ps(_mm512_div_ps(g, _mm512_add_ps(one, e)), u));
  }
}

void Avx512RmsNorm(const float* x, const float* weight, int64_t r0, int64_t r1, int64_t dim,
                   float eps, float* out) {
  for (int64_t r = r0; r < r1; ++r) {
    const float* xr = x + r * dim;
    float* o = out + r * dim;
    __m512d s0 = _mm512_setzero_pd(), s1 = _mm512_setzero_pd();
    int64_t i = 0;
    for (; i + 16 <= dim; i += 16) {
      const __m512 v = _mm512_loadu_ps(xr + i);
      const __m512d lo = _mm512_cvtps_pd(_mm512_castps512_ps256(v));
      const __m512d hi =
          _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
      s0 = _mm512_fmadd_pd(lo, lo, s0);
      s1 = _mm512_fmadd_pd(hi, hi, s1);
    }
    double ss = _mm512_reduce_add_pd(_mm512_add_pd(s0, s1));
    for (; i < dim; ++i) ss += static_cast<double>(xr[i]) * xr[i];
    const float inv = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(dim) + eps));
    const __m512 vinv = _mm512_set1_ps(inv);
    for (i = 0; i < dim; i += 16) {
      const __mmask16 mask = dim - i >= 16 ? static_cast<__mmask16>(0xffff)
                                           : static_cast<__mmask16>((1u << (dim - i)) - 1);
      const __m512 v = _mm512_mul_ps(_mm512_maskz_loadu_ps(mask, xr + i), vinv);
      _mm512_mask_storeu_ps(o + i, mask, _mm512_mul_ps(v, _mm512_maskz_loadu_ps(mask, weight + i)));
    }
  }
}

}  // namespace ccguard::kernels::cpu

#pragma GCC pop_options

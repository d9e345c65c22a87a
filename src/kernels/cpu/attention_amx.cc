// Causal GQA attention on AMX BF16 tiles (the kBF16/kInt8 precisions): the
// flash-attention loop of ops_avx512.cc with both products on tiles.
//
// A block is 32 query rows (the query heads of one kv head for 32 / group
// tokens) against keys in blocks of 32: S = Q·Kᵀ on tiles (Q and K rounded to
// BF16, float32 sums), an online softmax per row in float32, then P·V on
// tiles (P and V rounded to BF16) added to float32 accumulators rescaled by
// each row's running maximum. No score matrix beyond 32 x 32 is kept.
//
// Compiled for AMX/AVX-512 by the target pragma below (no global -march flag).
// GCC 12 warns about the deliberately undefined vectors inside its own
// AVX-512 intrinsics (GCC bug 105593); the warnings point into the header.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cmath>
#include <cstring>

#include "kernels/cpu/ops.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16,amx-tile,amx-bf16")

#include "kernels/cpu/amx_tiles.h"
#include "kernels/cpu/simd_inline.h"
#include "kernels/cpu/softmax_bf16_inline.h"

namespace ccguard::kernels::cpu {
namespace {

constexpr int64_t kRows = 32;  // query rows per block
constexpr int64_t kKeys = 32;  // keys per block

}  // namespace

int64_t AmxAttentionScratchFloats(const AttentionShape& s) {
  const int64_t hd = s.head_dim;
  // Q (bf16), P (bf16), S (f32), O (f32), states, positions, alignment
  return kRows * hd / 2 + kRows * kKeys / 2 + kRows * kKeys + kRows * hd + 2 * kRows + 2 * kRows +
         64;
}

void AmxAttentionBlock(const float* q, const int64_t* positions, int64_t t0, int64_t t1,
                       int64_t n_keys, const uint16_t* const* kb, const uint16_t* const* vb,
                       const AttentionShape& s, int64_t kvh, float* out, float* scratch) {
  const int64_t hd = s.head_dim, group = s.n_heads / s.n_kv_heads, q_dim = s.n_heads * hd;
  const int64_t rows =
      (t1 - t0) * group;  // row r: token t0 + r / group, head kvh * group + r % group
  float* base =
      reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(scratch) + 63) & ~uintptr_t{63});
  uint16_t* qb = reinterpret_cast<uint16_t*>(base);          // [32][hd]
  uint16_t* pb = qb + kRows * hd;                            // [32][32]
  float* sc = reinterpret_cast<float*>(pb + kRows * kKeys);  // [32][32]
  float* acc = sc + kRows * kKeys;                           // [32][hd]
  RowState* st = reinterpret_cast<RowState*>(acc + kRows * hd);
  int64_t* pos = reinterpret_cast<int64_t*>(st + kRows);

  const float scale = s.softmax_scale();
  int64_t max_pos = -1;
  for (int64_t r = 0; r < kRows; ++r) {
    uint16_t* qr = qb + r * hd;
    if (r < rows) {
      const int64_t t = t0 + r / group, h = kvh * group + r % group;
      const float* src = q + t * q_dim + h * hd;
      for (int64_t d = 0; d < hd; d += 32) {
        const __m512 a = _mm512_mul_ps(_mm512_loadu_ps(src + d), _mm512_set1_ps(scale));
        const __m512 b = _mm512_mul_ps(_mm512_loadu_ps(src + d + 16), _mm512_set1_ps(scale));
        _mm512_storeu_si512(qr + d, (__m512i)_mm512_cvtne2ps_pbh(b, a));
      }
      pos[r] = positions[t];
      if (pos[r] > max_pos) max_pos = pos[r];
    } else {
      std::memset(qr, 0, static_cast<size_t>(hd) * 2);
      pos[r] = -1;  // sees nothing
    }
    std::memset(acc + r * hd, 0, static_cast<size_t>(hd) * 4);
    st[r] = {-INFINITY, 0.f};
  }
  const int64_t visible = max_pos + 1 < n_keys ? max_pos + 1 : n_keys;
  ConfigureTiles();
  for (int64_t b = 0; b * kKeys < visible; ++b) {
    const int64_t first = b * kKeys;
    const int64_t nk = n_keys - first < kKeys ? n_keys - first : kKeys;
    const uint16_t* ktb = kb[b];
    const uint16_t* vtb = vb[b];
    // S = Q·Kᵀ: 2 x 2 accumulator tiles (rows x keys).
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
    for (int64_t c = 0; c < hd / 32; ++c) {
      _tile_loadd(4, qb + c * 32, hd * 2);
      _tile_loadd(5, qb + 16 * hd + c * 32, hd * 2);
      _tile_loadd(6, ktb + (c * 2) * 512, 64);
      _tile_loadd(7, ktb + (c * 2 + 1) * 512, 64);
      _tile_dpbf16ps(0, 4, 6);
      _tile_dpbf16ps(1, 4, 7);
      _tile_dpbf16ps(2, 5, 6);
      _tile_dpbf16ps(3, 5, 7);
    }
    _tile_stored(0, sc, kKeys * 4);
    _tile_stored(1, sc + 16, kKeys * 4);
    _tile_stored(2, sc + 16 * kKeys, kKeys * 4);
    _tile_stored(3, sc + 16 * kKeys + 16, kKeys * 4);
    // Online softmax per row; P in BF16; the accumulators of rows whose
    // maximum grew are rescaled.
    for (int64_t r = 0; r < kRows; ++r) {
      const int64_t seen = pos[r] - first + 1;
      const int64_t nv = seen <= 0 ? 0 : seen < nk ? seen : nk;
      if (nv == 0) {
        _mm512_storeu_si512(pb + r * kKeys, _mm512_setzero_si512());
        continue;
      }
      SoftmaxRowBf16(sc + r * kKeys, nv, hd, acc + r * hd, st + r, pb + r * kKeys);
    }
    // acc += P·V on tiles.
    _tile_loadd(4, pb, kKeys * 2);
    _tile_loadd(5, pb + 16 * kKeys, kKeys * 2);
    for (int64_t e = 0; e < hd / 16; e += 2) {
      _tile_loadd(0, acc + e * 16, hd * 4);
      _tile_loadd(1, acc + (e + 1) * 16, hd * 4);
      _tile_loadd(2, acc + 16 * hd + e * 16, hd * 4);
      _tile_loadd(3, acc + 16 * hd + (e + 1) * 16, hd * 4);
      _tile_loadd(6, vtb + e * 512, 64);
      _tile_loadd(7, vtb + (e + 1) * 512, 64);
      _tile_dpbf16ps(0, 4, 6);
      _tile_dpbf16ps(1, 4, 7);
      _tile_dpbf16ps(2, 5, 6);
      _tile_dpbf16ps(3, 5, 7);
      _tile_stored(0, acc + e * 16, hd * 4);
      _tile_stored(1, acc + (e + 1) * 16, hd * 4);
      _tile_stored(2, acc + 16 * hd + e * 16, hd * 4);
      _tile_stored(3, acc + 16 * hd + (e + 1) * 16, hd * 4);
    }
  }
  _tile_release();
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t t = t0 + r / group, h = kvh * group + r % group;
    const __m512 inv = _mm512_set1_ps(st[r].sum > 0.f ? 1.f / st[r].sum : 0.f);
    for (int64_t d = 0; d < hd; d += 16) {
      _mm512_storeu_ps(out + t * q_dim + h * hd + d,
                       _mm512_mul_ps(_mm512_loadu_ps(acc + r * hd + d), inv));
    }
  }
}

}  // namespace ccguard::kernels::cpu

#pragma GCC pop_options

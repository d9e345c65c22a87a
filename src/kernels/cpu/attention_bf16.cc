// Causal GQA attention with AVX-512 BF16 dot products (vdpbf16ps), for the
// bf16/int8 precisions on CPUs without AMX, and the BF16 key/value packing
// it shares with the AMX kernel (attention_amx.cc).
//
// The same flash-attention loop and the same packed blocks as the AMX
// kernel: 32 query rows (the query heads of one kv head for 32 / group
// tokens) against keys in blocks of 32 at absolute positions 0, 32, 64, ...;
// S = Q·Kᵀ with Q (scaled) and K rounded to BF16 and float32 sums, an online
// softmax per row in float32, P·V with P and V rounded to BF16 added to
// float32 accumulators rescaled by each row's running maximum. Each row's
// arithmetic is the same whatever the other rows of its block are, so a
// row's result does not depend on the batch or on how its keys are cached.
//
// Compiled for AVX-512 BF16 by the target pragma below (no global -march
// flag). GCC 12 warns about the deliberately undefined vectors inside its own
// AVX-512 intrinsics (GCC bug 105593); the warnings point into the header.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cmath>
#include <cstring>

#include "kernels/cpu/ops.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16")

#include "kernels/cpu/simd_inline.h"
#include "kernels/cpu/softmax_bf16_inline.h"

namespace ccguard::kernels::cpu {
namespace {

constexpr int64_t kRows = 32;  // query rows per block
constexpr int64_t kKeys = 32;  // keys per block
constexpr int kSRows = 8;      // rows per pass of S = Q·Kᵀ (16 accumulators)
constexpr int kPvRows = 6;     // rows per pass of P·V (24 accumulators)

// 32 floats -> 32 BF16 (round to nearest even), as one vector.
inline __m512i ToBf16(const float* p, __mmask16 lo, __mmask16 hi) {
  return (__m512i)_mm512_cvtne2ps_pbh(_mm512_maskz_loadu_ps(hi, p + 16),
                                      _mm512_maskz_loadu_ps(lo, p));
}

// Scores of rows [r0, r0 + R) of qb (BF16, row stride hd) against one K
// block: sc[r][32].
template <int R>
void Scores(const uint16_t* qb, int64_t r0, int64_t hd, const uint16_t* ktb, float* sc) {
  __m512 s[R][2];
#pragma GCC unroll 8
  for (int i = 0; i < R; ++i) s[i][0] = s[i][1] = _mm512_setzero_ps();
  for (int64_t dp = 0; dp < hd / 2; ++dp) {
    // Dim pair dp: tile (dp / 16) * 2 + half, row dp % 16.
    const uint16_t* row = ktb + (dp / 16) * 2 * 512 + (dp % 16) * 32;
    const __m512bh k0 = (__m512bh)_mm512_loadu_si512(row);
    const __m512bh k1 = (__m512bh)_mm512_loadu_si512(row + 512);
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i) {
      uint32_t pair;
      std::memcpy(&pair, qb + (r0 + i) * hd + 2 * dp, 4);
      const __m512bh x = (__m512bh)_mm512_set1_epi32(static_cast<int>(pair));
      s[i][0] = _mm512_dpbf16_ps(s[i][0], x, k0);
      s[i][1] = _mm512_dpbf16_ps(s[i][1], x, k1);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < R; ++i) {
    _mm512_storeu_ps(sc + (r0 + i) * kKeys, s[i][0]);
    _mm512_storeu_ps(sc + (r0 + i) * kKeys + 16, s[i][1]);
  }
}

// acc[r][e*16 .. e*16 + 16 G) += P[r]·V for rows [r0, r0 + R) and the G
// 16-dim groups from e.
template <int R, int G>
void AddPv(const uint32_t* pb, int64_t r0, int64_t hd, const uint16_t* vtb, int64_t e, float* acc) {
  __m512 o[R][G];
#pragma GCC unroll 8
  for (int i = 0; i < R; ++i) {
#pragma GCC unroll 4
    for (int v = 0; v < G; ++v) o[i][v] = _mm512_loadu_ps(acc + (r0 + i) * hd + (e + v) * 16);
  }
  for (int64_t p = 0; p < kKeys / 2; ++p) {
    __m512bh vv[G];
#pragma GCC unroll 4
    for (int v = 0; v < G; ++v) vv[v] = (__m512bh)_mm512_loadu_si512(vtb + (e + v) * 512 + p * 32);
#pragma GCC unroll 8
    for (int i = 0; i < R; ++i) {
      const __m512bh x = (__m512bh)_mm512_set1_epi32(static_cast<int>(pb[(r0 + i) * 16 + p]));
#pragma GCC unroll 4
      for (int v = 0; v < G; ++v) o[i][v] = _mm512_dpbf16_ps(o[i][v], x, vv[v]);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < R; ++i) {
#pragma GCC unroll 4
    for (int v = 0; v < G; ++v) _mm512_storeu_ps(acc + (r0 + i) * hd + (e + v) * 16, o[i][v]);
  }
}

using ScoresFn = void (*)(const uint16_t*, int64_t, int64_t, const uint16_t*, float*);
constexpr ScoresFn kScores[kSRows] = {Scores<1>, Scores<2>, Scores<3>, Scores<4>,
                                      Scores<5>, Scores<6>, Scores<7>, Scores<8>};
using PvFn = void (*)(const uint32_t*, int64_t, int64_t, const uint16_t*, int64_t, float*);
// By [groups / 2 - 1][rows - 1]: 2 or 4 groups of 16 dims per pass.
constexpr PvFn kPv[2][kPvRows] = {
    {AddPv<1, 2>, AddPv<2, 2>, AddPv<3, 2>, AddPv<4, 2>, AddPv<5, 2>, AddPv<6, 2>},
    {AddPv<1, 4>, AddPv<2, 4>, AddPv<3, 4>, AddPv<4, 4>, AddPv<5, 4>, AddPv<6, 4>}};

}  // namespace

int64_t Bf16KvBlockElements(const AttentionShape& s) { return kKeys * s.head_dim; }

void PackKvBf16(const float* const* k_rows, const float* const* v_rows, int64_t n_keys,
                const AttentionShape& s, int64_t kvh, int64_t b0, int64_t b1, uint16_t* kt,
                uint16_t* vt) {
  const int64_t hd = s.head_dim, per_block = Bf16KvBlockElements(s);
  const __m512i interleave =
      _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23, 7, 22, 6,
                       21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
  for (int64_t b = b0; b < b1; ++b) {
    const int64_t j0 = b * kKeys;
    const int64_t nk = n_keys - j0 < kKeys ? n_keys - j0 : kKeys;
    // K: for dims [32 c, 32 c + 32) and keys [16 h, 16 h + 16), a 16 x 64-byte
    // block whose row is a dim pair and whose 32-bit lanes are keys.
    uint16_t* ktb = kt + b * per_block;
    for (int64_t c = 0; c < hd / 32; ++c) {
      for (int64_t half = 0; half < 2; ++half) {
        __m512i blk[16];
        for (int64_t j = 0; j < 16; ++j) {
          const int64_t key = half * 16 + j;
          blk[j] = key < nk ? ToBf16(k_rows[j0 + key] + kvh * hd + c * 32, 0xffff, 0xffff)
                            : _mm512_setzero_si512();
        }
        Transpose16(blk);
        uint16_t* tile = ktb + (c * 2 + half) * 512;
        for (int64_t i = 0; i < 16; ++i) _mm512_storeu_si512(tile + i * 32, blk[i]);
      }
    }
    // V: for dims [16 e, 16 e + 16), a 16 x 64-byte block whose row is a key
    // pair, the two keys interleaved per dim.
    uint16_t* vtb = vt + b * per_block;
    for (int64_t e = 0; e < hd / 16; ++e) {
      uint16_t* tile = vtb + e * 512;
      for (int64_t p = 0; p < 16; ++p) {
        const int64_t k0 = 2 * p, k1 = 2 * p + 1;
        const __m512 a =
            k0 < nk ? _mm512_loadu_ps(v_rows[j0 + k0] + kvh * hd + e * 16) : _mm512_setzero_ps();
        const __m512 c =
            k1 < nk ? _mm512_loadu_ps(v_rows[j0 + k1] + kvh * hd + e * 16) : _mm512_setzero_ps();
        const __m512i pair = (__m512i)_mm512_cvtne2ps_pbh(c, a);  // a low, c high
        _mm512_storeu_si512(tile + p * 32, _mm512_permutexvar_epi16(interleave, pair));
      }
    }
  }
}

int64_t Bf16AttentionScratchFloats(const AttentionShape& s) {
  const int64_t hd = s.head_dim;
  // Q (bf16), P (bf16 pairs), S (f32), O (f32), states, positions, alignment
  return kRows * hd / 2 + kRows * kKeys / 2 + kRows * kKeys + kRows * hd + 2 * kRows + 2 * kRows +
         64;
}

void Avx512Bf16AttentionBlock(const float* q, const int64_t* positions, int64_t t0, int64_t t1,
                              int64_t n_keys, const uint16_t* const* kb, const uint16_t* const* vb,
                              const AttentionShape& s, int64_t kvh, float* out, float* scratch) {
  const int64_t hd = s.head_dim, group = s.n_heads / s.n_kv_heads, q_dim = s.n_heads * hd;
  const int64_t rows =
      (t1 - t0) * group;  // row r: token t0 + r / group, head kvh * group + r % group
  float* base =
      reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(scratch) + 63) & ~uintptr_t{63});
  uint16_t* qb = reinterpret_cast<uint16_t*>(base);              // [32][hd]
  uint32_t* pb = reinterpret_cast<uint32_t*>(qb + kRows * hd);   // [32][16]
  float* sc = reinterpret_cast<float*>(pb + kRows * kKeys / 2);  // [32][32]
  float* acc = sc + kRows * kKeys;                               // [32][hd]
  RowState* st = reinterpret_cast<RowState*>(acc + kRows * hd);
  int64_t* pos = reinterpret_cast<int64_t*>(st + kRows);

  const float scale = s.softmax_scale();
  int64_t max_pos = -1;
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t t = t0 + r / group, h = kvh * group + r % group;
    const float* src = q + t * q_dim + h * hd;
    for (int64_t d = 0; d < hd; d += 32) {
      const __m512 a = _mm512_mul_ps(_mm512_loadu_ps(src + d), _mm512_set1_ps(scale));
      const __m512 b = _mm512_mul_ps(_mm512_loadu_ps(src + d + 16), _mm512_set1_ps(scale));
      _mm512_storeu_si512(qb + r * hd + d, (__m512i)_mm512_cvtne2ps_pbh(b, a));
    }
    pos[r] = positions[t];
    if (pos[r] > max_pos) max_pos = pos[r];
    std::memset(acc + r * hd, 0, static_cast<size_t>(hd) * 4);
    st[r] = {-INFINITY, 0.f};
  }
  const int64_t visible = max_pos + 1 < n_keys ? max_pos + 1 : n_keys;
  for (int64_t b = 0; b * kKeys < visible; ++b) {
    const int64_t first = b * kKeys;
    const int64_t nk = n_keys - first < kKeys ? n_keys - first : kKeys;
    const uint16_t* ktb = kb[b];
    const uint16_t* vtb = vb[b];
    // The rows that see this block are a suffix of the rows sorted by
    // position; compute for every row, use only those that see keys.
    for (int64_t r = 0; r < rows; r += kSRows) {
      const int64_t n = rows - r < kSRows ? rows - r : kSRows;
      kScores[n - 1](qb, r, hd, ktb, sc);
    }
    // Online softmax per row; P in BF16; the accumulators of rows whose
    // maximum grew are rescaled (as the AMX kernel does).
    for (int64_t r = 0; r < rows; ++r) {
      const int64_t seen = pos[r] - first + 1;
      const int64_t nv = seen <= 0 ? 0 : seen < nk ? seen : nk;
      if (nv == 0) {
        _mm512_storeu_si512(pb + r * 16, _mm512_setzero_si512());
        continue;
      }
      SoftmaxRowBf16(sc + r * kKeys, nv, hd, acc + r * hd, st + r, pb + r * 16);
    }
    // acc += P·V.
    for (int64_t e = 0; e < hd / 16; e += 4) {
      const int64_t g = hd / 16 - e >= 4 ? 4 : 2;  // hd % 32 == 0: an even count
      for (int64_t r = 0; r < rows; r += kPvRows) {
        const int64_t n = rows - r < kPvRows ? rows - r : kPvRows;
        kPv[g / 2 - 1][n - 1](pb, r, hd, vtb, e, acc);
      }
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

}  // namespace ccguard::kernels::cpu

#pragma GCC pop_options

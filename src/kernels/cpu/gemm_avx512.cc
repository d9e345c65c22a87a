// AVX-512 kernels on row-major weights: float32 dot products (weights F32,
// BF16 or F16, widened exactly), BF16 dot products (vdpbf16ps) and the
// activation rounding/quantization used by the BF16 and INT8 paths.
//
// Blocks of MR activation rows x NR weight rows keep MR * NR 16-lane partial
// sums in registers over the whole of K and reduce them at the end, so each
// output depends only on its own row and column (not on the batch).
//
// Compiled for AVX-512 by the target pragmas below (no global -march flag);
// the caller checks DetectCpuIsa() >= kAvx512 (and avx512bf16 for the BF16
// kernel).
// GCC 12 warns about the deliberately undefined vectors inside its own
// AVX-512 intrinsics (GCC bug 105593); the warnings point into the header.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstring>

#include "kernels/cpu/gemm.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,fma,f16c")

namespace ccguard::kernels::cpu {
namespace {

constexpr int kMr = 6;  // activation rows per block
constexpr int kNr = 4;  // weight rows per block

// Columns [c, c + len) of MR activation rows against NR weight rows. The
// 16-lane partial sums start at zero (`first`) or come from `acc`, and go
// back to `acc` or, after the last block of columns (`last`), are reduced
// into y. Splitting K into blocks (multiples of 16) keeps every lane's sum in
// the same order, so the result does not depend on the blocking.
template <int MR, int NR>
void DotBlockF32(const float* x, int64_t ldx, const float* w, int64_t ldw, int64_t len, bool first,
                 bool last, float* acc_store, float* y, int64_t ldy) {
  __m512 acc[MR][NR];
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 8
    for (int j = 0; j < NR; ++j) {
      acc[i][j] = first ? _mm512_setzero_ps() : _mm512_loadu_ps(acc_store + (i * NR + j) * 16);
    }
  }
  int64_t c = 0;
  for (; c + 16 <= len; c += 16) {
    __m512 wv[NR];
#pragma GCC unroll 8
    for (int j = 0; j < NR; ++j) wv[j] = _mm512_loadu_ps(w + j * ldw + c);
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      const __m512 xv = _mm512_loadu_ps(x + i * ldx + c);
#pragma GCC unroll 8
      for (int j = 0; j < NR; ++j) acc[i][j] = _mm512_fmadd_ps(xv, wv[j], acc[i][j]);
    }
  }
  if (c < len) {
    const __mmask16 mask = static_cast<__mmask16>((1u << (len - c)) - 1);
    __m512 wv[NR];
#pragma GCC unroll 8
    for (int j = 0; j < NR; ++j) wv[j] = _mm512_maskz_loadu_ps(mask, w + j * ldw + c);
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      const __m512 xv = _mm512_maskz_loadu_ps(mask, x + i * ldx + c);
#pragma GCC unroll 8
      for (int j = 0; j < NR; ++j) acc[i][j] = _mm512_fmadd_ps(xv, wv[j], acc[i][j]);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 8
    for (int j = 0; j < NR; ++j) {
      if (last) {
        y[i * ldy + j] = _mm512_reduce_add_ps(acc[i][j]);
      } else {
        _mm512_storeu_ps(acc_store + (i * NR + j) * 16, acc[i][j]);
      }
    }
  }
}

using DotF32Fn = void (*)(const float*, int64_t, const float*, int64_t, int64_t, bool, bool, float*,
                          float*, int64_t);

template <int MR>
constexpr DotF32Fn kDotF32Row[kNr] = {DotBlockF32<MR, 1>, DotBlockF32<MR, 2>, DotBlockF32<MR, 3>,
                                      DotBlockF32<MR, 4>};
constexpr const DotF32Fn* kDotF32[kMr] = {kDotF32Row<1>, kDotF32Row<2>, kDotF32Row<3>,
                                          kDotF32Row<4>, kDotF32Row<5>, kDotF32Row<6>};

// Blocking of the float32 kernel: weight rows per panel, columns per block
// (a panel's block, widened, stays in L1/L2) and activation rows per chunk
// (their partial sums stay in L2).
constexpr int64_t kF32Panel = 64, kF32Cols = 512, kF32Rows = 96;
constexpr int64_t kF32AccFloats = (kF32Rows / kMr) * (kF32Panel / kNr) * kMr * kNr * 16;
static_assert(kF32Rows % kMr == 0 && kF32Panel % kNr == 0 && kF32Cols % 16 == 0);

// Lanes of a 16-lane store with `left` elements left.
inline __mmask16 StoreMask(int64_t left) {
  return left >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << left) - 1);
}

// Widens columns [c0, c0 + len) of rows [r0, r0 + rows) of w to float:
// out[rows][ldo].
void WidenBlock(const Matrix& w, int64_t r0, int64_t rows, int64_t c0, int64_t len, float* out,
                int64_t ldo) {
  for (int64_t r = 0; r < rows; ++r) {
    const uint16_t* src = static_cast<const uint16_t*>(w.data) + (r0 + r) * w.cols + c0;
    float* dst = out + r * ldo;
    int64_t i = 0;
    if (w.dtype == DType::kBF16) {
      for (; i + 16 <= len; i += 16) {
        const __m512i v =
            _mm512_cvtepu16_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i)));
        _mm512_storeu_ps(dst + i, _mm512_castsi512_ps(_mm512_slli_epi32(v, 16)));
      }
      for (; i < len; ++i) dst[i] = Bf16ToF32(src[i]);
    } else {  // kF16
      for (; i + 16 <= len; i += 16) {
        _mm512_storeu_ps(
            dst + i,
            _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i))));
      }
      for (; i < len; ++i) dst[i] = F16ToF32(src[i]);
    }
  }
}

}  // namespace

int64_t Avx512F32ScratchFloats() { return kF32Panel * kF32Cols + kF32AccFloats; }

void Avx512MatMulF32(const float* x, int64_t m, const Matrix& w, int64_t n0, int64_t n1, float* y,
                     int64_t ldy, float* scratch) {
  const int64_t k = w.cols;
  float* wide = scratch;  // [kF32Panel][kF32Cols]
  float* acc = scratch + kF32Panel * kF32Cols;
  for (int64_t p0 = n0; p0 < n1; p0 += kF32Panel) {
    const int64_t p1 = p0 + kF32Panel < n1 ? p0 + kF32Panel : n1;
    for (int64_t i0 = 0; i0 < m; i0 += kF32Rows) {
      const int64_t i1 = i0 + kF32Rows < m ? i0 + kF32Rows : m;
      for (int64_t c0 = 0; c0 < k; c0 += kF32Cols) {
        const int64_t len = k - c0 < kF32Cols ? k - c0 : kF32Cols;
        const bool first = c0 == 0, last = c0 + len == k;
        const float* wp;
        int64_t ldw;
        if (w.dtype == DType::kF32) {
          wp = static_cast<const float*>(w.data) + p0 * k + c0;
          ldw = k;
        } else {
          WidenBlock(w, p0, p1 - p0, c0, len, wide, kF32Cols);
          wp = wide;
          ldw = kF32Cols;
        }
        for (int64_t i = i0; i < i1; i += kMr) {
          const int mr = static_cast<int>(i1 - i < kMr ? i1 - i : kMr);
          for (int64_t j = p0; j < p1; j += kNr) {
            const int nr = static_cast<int>(p1 - j < kNr ? p1 - j : kNr);
            float* a =
                acc + (((i - i0) / kMr) * (kF32Panel / kNr) + (j - p0) / kNr) * kMr * kNr * 16;
            kDotF32[mr - 1][nr - 1](x + i * k + c0, k, wp + (j - p0) * ldw, ldw, len, first, last,
                                    a, y + i * ldy + j, ldy);
          }
        }
      }
    }
  }
}

void Avx512QuantizeRowsInt8(const float* x, int64_t k, int64_t kp, int64_t i0, int64_t i1,
                            int8_t* q, float* scale) {
  for (int64_t i = i0; i < i1; ++i) {
    const float* xi = x + i * k;
    int8_t* qi = q + i * kp;
    __m512 vmax = _mm512_setzero_ps();
    int64_t c = 0;
    for (; c + 16 <= k; c += 16) vmax = _mm512_max_ps(vmax, _mm512_abs_ps(_mm512_loadu_ps(xi + c)));
    if (c < k) {
      const __mmask16 mask = static_cast<__mmask16>((1u << (k - c)) - 1);
      vmax = _mm512_max_ps(vmax, _mm512_abs_ps(_mm512_maskz_loadu_ps(mask, xi + c)));
    }
    const float amax = _mm512_reduce_max_ps(vmax);
    const __m512 inv = _mm512_set1_ps(amax > 0.f ? 127.f / amax : 0.f);
    const __m512 lo = _mm512_set1_ps(-127.f), hi = _mm512_set1_ps(127.f);
    for (c = 0; c < kp; c += 16) {
      const int64_t left = k - c;
      const __mmask16 mask = left >= 16 ? static_cast<__mmask16>(0xffff)
                                        : static_cast<__mmask16>(left > 0 ? (1u << left) - 1 : 0);
      __m512 v = _mm512_mul_ps(_mm512_maskz_loadu_ps(mask, xi + c), inv);
      v = _mm512_min_ps(_mm512_max_ps(_mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT), lo), hi);
      _mm512_mask_cvtsepi32_storeu_epi8(qi + c, StoreMask(kp - c), _mm512_cvtps_epi32(v));
    }
    scale[i] = amax / 127.f;
  }
}

void Avx512RoundRowsBf16(const float* x, int64_t k, int64_t kp, int64_t i0, int64_t i1,
                         uint16_t* xb) {
  const __m512i round_bias = _mm512_set1_epi32(0x7fff), one = _mm512_set1_epi32(1);
  const __m512i abs_mask = _mm512_set1_epi32(0x7fffffff), inf = _mm512_set1_epi32(0x7f800000);
  const __m512i quiet = _mm512_set1_epi32(0x0040);
  for (int64_t i = i0; i < i1; ++i) {
    const float* xi = x + i * k;
    uint16_t* out = xb + i * kp;
    for (int64_t c = 0; c < kp; c += 16) {
      const int64_t left = k - c;
      const __mmask16 mask = left >= 16 ? static_cast<__mmask16>(0xffff)
                                        : static_cast<__mmask16>(left > 0 ? (1u << left) - 1 : 0);
      const __m512i bits = _mm512_castps_si512(_mm512_maskz_loadu_ps(mask, xi + c));
      // Round to nearest even, as F32ToBf16; NaN keeps a mantissa bit.
      const __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(bits, 16), one);
      __m512i r = _mm512_srli_epi32(_mm512_add_epi32(bits, _mm512_add_epi32(round_bias, lsb)), 16);
      const __mmask16 nan = _mm512_cmpgt_epu32_mask(_mm512_and_si512(bits, abs_mask), inf);
      r = _mm512_mask_or_epi32(r, nan, _mm512_srli_epi32(bits, 16), quiet);
      _mm512_mask_cvtepi32_storeu_epi16(out + c, StoreMask(kp - c), r);
    }
  }
}

}  // namespace ccguard::kernels::cpu

#pragma GCC pop_options

// ---- BF16 dot products (needs avx512bf16) ---------------------------------------
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16")

namespace ccguard::kernels::cpu {
namespace {

template <int MR, int NR>
void DotBlockBf16(const uint16_t* x, int64_t ldx, const uint16_t* w, int64_t ldw, int64_t k,
                  float* y, int64_t ldy) {
  __m512 acc[MR][NR];
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 8
    for (int j = 0; j < NR; ++j) acc[i][j] = _mm512_setzero_ps();
  }
  for (int64_t c = 0; c < k; c += 32) {
    // x is zero-padded to a multiple of 32; w is not: the last step masks it.
    const __mmask32 mask =
        k - c >= 32 ? ~__mmask32{0} : static_cast<__mmask32>((uint64_t{1} << (k - c)) - 1);
    __m512bh wv[NR];
#pragma GCC unroll 8
    for (int j = 0; j < NR; ++j) wv[j] = (__m512bh)_mm512_maskz_loadu_epi16(mask, w + j * ldw + c);
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      const __m512bh xv = (__m512bh)_mm512_loadu_si512(x + i * ldx + c);
#pragma GCC unroll 8
      for (int j = 0; j < NR; ++j) acc[i][j] = _mm512_dpbf16_ps(acc[i][j], xv, wv[j]);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 8
    for (int j = 0; j < NR; ++j) y[i * ldy + j] = _mm512_reduce_add_ps(acc[i][j]);
  }
}

using DotBf16Fn = void (*)(const uint16_t*, int64_t, const uint16_t*, int64_t, int64_t, float*,
                           int64_t);
template <int MR>
constexpr DotBf16Fn kDotBf16Row[kNr] = {DotBlockBf16<MR, 1>, DotBlockBf16<MR, 2>,
                                        DotBlockBf16<MR, 3>, DotBlockBf16<MR, 4>};
constexpr const DotBf16Fn* kDotBf16[kMr] = {kDotBf16Row<1>, kDotBf16Row<2>, kDotBf16Row<3>,
                                            kDotBf16Row<4>, kDotBf16Row<5>, kDotBf16Row<6>};

}  // namespace

void Avx512MatMulBf16(const uint16_t* xb, int64_t m, int64_t kp, const Matrix& w, int64_t n0,
                      int64_t n1, float* y, int64_t ldy) {
  const int64_t k = w.cols;
  const uint16_t* wd = static_cast<const uint16_t*>(w.data);
  // Panels of weight rows (about 256 KiB) stay in L2 while the activation
  // rows pass over them; with few activation rows each weight row is read once.
  int64_t panel = (int64_t{256} << 10) / (k * 2) / kNr * kNr;
  panel = panel < kNr ? kNr : panel > 128 ? 128 : panel;
  for (int64_t p0 = n0; p0 < n1; p0 += panel) {
    const int64_t p1 = p0 + panel < n1 ? p0 + panel : n1;
    for (int64_t i = 0; i < m; i += kMr) {
      const int mr = static_cast<int>(m - i < kMr ? m - i : kMr);
      for (int64_t j = p0; j < p1; j += kNr) {
        const int nr = static_cast<int>(p1 - j < kNr ? p1 - j : kNr);
        kDotBf16[mr - 1][nr - 1](xb + i * kp, kp, wd + j * k, k, k, y + i * ldy + j, ldy);
      }
    }
  }
}

}  // namespace ccguard::kernels::cpu

#pragma GCC pop_options

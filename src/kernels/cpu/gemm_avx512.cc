// AVX-512 kernels on row-major weights: float32 outer products (weights F32,
// BF16 or F16, widened exactly and packed per call), BF16 dot products
// (vdpbf16ps) and the activation rounding/quantization used by the BF16 and
// INT8 paths.
//
// BF16 dot products: blocks of MR activation rows x NR weight rows keep
// MR * NR 16-lane partial sums in registers over the whole of K and reduce
// them at the end. Float32: see below. Either way each output depends only
// on its own row and column (not on the batch).
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

#include "kernels/cpu/simd_inline.h"

namespace ccguard::kernels::cpu {
namespace {

constexpr int kMr = 6;  // activation rows per block (BF16 dot products below)
constexpr int kNr = 4;  // weight rows per block

// ---- float32: outer products on weights packed per call --------------------
// For each group of kF32GroupCols weight rows (output columns) and block of
// kF32KBlock values of K, the weights are widened to float (F32, BF16 or
// F16: exact) and transposed into `scratch` as [sub][k][48]: 48 output
// columns per k, contiguous. A micro-kernel keeps MR activation rows x 48
// columns in MR x 3 accumulators; per k it loads the 3 weight vectors,
// broadcasts MR activations and runs 3 MR FMAs. Each output is one lane of
// one FMA chain over K in increasing order (through y between K blocks,
// exactly), whatever m, the row block or the column split: bit for bit
// independent of the batch. (It replaced 6 x 4 dot products with 16-lane
// partial sums, which widened the weights again for every chunk of rows:
// 230 GFLOP/s against oneDNN's 404 on Zen 5.)
constexpr int kF32Rows = 8;                         // activation rows per micro-kernel
constexpr int64_t kF32SubCols = 48;                 // output columns per micro-kernel
constexpr int64_t kF32GroupCols = 4 * kF32SubCols;  // columns packed at once
constexpr int64_t kF32KBlock = 512;                 // values of K packed at once (384 KiB)

// Lanes of a 16-lane store with `left` elements left (none if left <= 0).
inline __mmask16 StoreMask(int64_t left) {
  return left >= 16  ? static_cast<__mmask16>(0xffff)
         : left <= 0 ? static_cast<__mmask16>(0)
                     : static_cast<__mmask16>((1u << left) - 1);
}

// 16 values of K from column c0 of weight row `row` (zeros past the row's
// end), widened to float.
inline __m512 WeightRow16(const Matrix& w, int64_t row, int64_t c0) {
  const __mmask16 mask = StoreMask(w.cols - c0);
  if (w.dtype == DType::kF32) {
    return _mm512_maskz_loadu_ps(mask, static_cast<const float*>(w.data) + row * w.cols + c0);
  }
  const uint16_t* src = static_cast<const uint16_t*>(w.data) + row * w.cols + c0;
  const __m256i h = _mm256_maskz_loadu_epi16(mask, src);
  if (w.dtype == DType::kBF16) {
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  }
  return _mm512_cvtph_ps(h);  // kF16
}

// Weight rows [j0, j0 + cols) (cols <= kF32GroupCols; rows past them: zeros)
// x K values [c0, c0 + len) -> out[sub][k][48].
void PackF32Group(const Matrix& w, int64_t j0, int64_t cols, int64_t c0, int64_t len, float* out) {
  for (int64_t c = 0; c < cols; c += 16) {
    float* sub = out + (c / kF32SubCols) * kF32KBlock * kF32SubCols + c % kF32SubCols;
    for (int64_t k = 0; k < len; k += 16) {
      __m512 r[16];
      for (int64_t i = 0; i < 16; ++i) {
        r[i] = c + i < cols ? WeightRow16(w, j0 + c + i, c0 + k) : _mm512_setzero_ps();
      }
      Transpose16(r);  // r[t]: value k + t of the 16 columns
      const int64_t n = len - k < 16 ? len - k : 16;
      for (int64_t t = 0; t < n; ++t) _mm512_storeu_ps(sub + (k + t) * kF32SubCols, r[t]);
    }
  }
  // Columns of the last micro-kernel past `cols`: zeros.
  const int64_t padded = (cols + kF32SubCols - 1) / kF32SubCols * kF32SubCols;
  for (int64_t c = (cols + 15) / 16 * 16; c < padded; c += 16) {
    float* sub = out + (c / kF32SubCols) * kF32KBlock * kF32SubCols + c % kF32SubCols;
    for (int64_t k = 0; k < len; ++k) _mm512_storeu_ps(sub + k * kF32SubCols, _mm512_setzero_ps());
  }
}

// y[i, 0..cols) (+)= x[i, 0..len) · the packed block, for rows [0, MR).
template <int MR>
void KernelF32(const float* x, int64_t ldx, const float* wp, int64_t len, bool first, float* y,
               int64_t ldy, int64_t cols) {
  __m512 acc[MR][3];
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 3
    for (int v = 0; v < 3; ++v) {
      acc[i][v] = first ? _mm512_setzero_ps()
                        : _mm512_maskz_loadu_ps(StoreMask(cols - 16 * v), y + i * ldy + 16 * v);
    }
  }
  for (int64_t k = 0; k < len; ++k) {
    const __m512 w0 = _mm512_loadu_ps(wp + k * kF32SubCols);
    const __m512 w1 = _mm512_loadu_ps(wp + k * kF32SubCols + 16);
    const __m512 w2 = _mm512_loadu_ps(wp + k * kF32SubCols + 32);
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      const __m512 xv = _mm512_set1_ps(x[i * ldx + k]);
      acc[i][0] = _mm512_fmadd_ps(xv, w0, acc[i][0]);
      acc[i][1] = _mm512_fmadd_ps(xv, w1, acc[i][1]);
      acc[i][2] = _mm512_fmadd_ps(xv, w2, acc[i][2]);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 3
    for (int v = 0; v < 3; ++v) {
      _mm512_mask_storeu_ps(y + i * ldy + 16 * v, StoreMask(cols - 16 * v), acc[i][v]);
    }
  }
}

using F32Fn = void (*)(const float*, int64_t, const float*, int64_t, bool, float*, int64_t,
                       int64_t);
constexpr F32Fn kF32[kF32Rows] = {KernelF32<1>, KernelF32<2>, KernelF32<3>, KernelF32<4>,
                                  KernelF32<5>, KernelF32<6>, KernelF32<7>, KernelF32<8>};

}  // namespace

int64_t Avx512F32ScratchFloats() { return kF32GroupCols * kF32KBlock; }

void Avx512MatMulF32(const float* x, int64_t m, const Matrix& w, int64_t n0, int64_t n1, float* y,
                     int64_t ldy, float* scratch) {
  const int64_t k = w.cols;
  for (int64_t g = n0; g < n1; g += kF32GroupCols) {
    const int64_t gcols = n1 - g < kF32GroupCols ? n1 - g : kF32GroupCols;
    for (int64_t c0 = 0; c0 < k; c0 += kF32KBlock) {
      const int64_t len = k - c0 < kF32KBlock ? k - c0 : kF32KBlock;
      PackF32Group(w, g, gcols, c0, len, scratch);
      for (int64_t i = 0; i < m; i += kF32Rows) {
        const int mr = static_cast<int>(m - i < kF32Rows ? m - i : kF32Rows);
        for (int64_t s = 0; s < gcols; s += kF32SubCols) {
          const int64_t cols = gcols - s < kF32SubCols ? gcols - s : kF32SubCols;
          kF32[mr - 1](x + i * k + c0, k, scratch + (s / kF32SubCols) * kF32KBlock * kF32SubCols,
                       len, c0 == 0, y + i * ldy + g + s, ldy, cols);
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

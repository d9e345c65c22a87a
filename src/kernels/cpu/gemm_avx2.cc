// AVX2 + FMA float32 kernel on row-major weights (F32, BF16 or F16, widened
// exactly): blocks of 4 activation rows x 3 weight rows keep 8-lane partial
// sums in registers over the whole of K (see gemm_avx512.cc).
//
// Compiled for AVX2 by the target pragma below (no global -march flag); the
// caller checks DetectCpuIsa() >= kAvx2.
// GCC 12 warns about the deliberately undefined vectors inside its own
// AVX-512 intrinsics (GCC bug 105593); the warnings point into the header.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include "kernels/cpu/gemm.h"

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")

namespace ccguard::kernels::cpu {
namespace {

constexpr int kMr = 4;
constexpr int kNr = 3;

inline float HorizontalSum(__m256 v) {
  const __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  const __m128 t = _mm_add_ps(s, _mm_movehl_ps(s, s));
  return _mm_cvtss_f32(_mm_add_ss(t, _mm_movehdup_ps(t)));
}

template <int MR, int NR>
void DotBlock(const float* x, int64_t ldx, const float* w, int64_t ldw, int64_t k, float* y,
              int64_t ldy) {
  __m256 acc[MR][NR];
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 8
    for (int j = 0; j < NR; ++j) acc[i][j] = _mm256_setzero_ps();
  }
  int64_t c = 0;
  for (; c + 8 <= k; c += 8) {
    __m256 wv[NR];
#pragma GCC unroll 8
    for (int j = 0; j < NR; ++j) wv[j] = _mm256_loadu_ps(w + j * ldw + c);
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      const __m256 xv = _mm256_loadu_ps(x + i * ldx + c);
#pragma GCC unroll 8
      for (int j = 0; j < NR; ++j) acc[i][j] = _mm256_fmadd_ps(xv, wv[j], acc[i][j]);
    }
  }
  float tail[MR][NR] = {};
  for (; c < k; ++c) {
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 8
      for (int j = 0; j < NR; ++j) tail[i][j] += x[i * ldx + c] * w[j * ldw + c];
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 8
    for (int j = 0; j < NR; ++j) y[i * ldy + j] = HorizontalSum(acc[i][j]) + tail[i][j];
  }
}

using DotFn = void (*)(const float*, int64_t, const float*, int64_t, int64_t, float*, int64_t);
template <int MR>
constexpr DotFn kDotRow[kNr] = {DotBlock<MR, 1>, DotBlock<MR, 2>, DotBlock<MR, 3>};
constexpr const DotFn* kDot[kMr] = {kDotRow<1>, kDotRow<2>, kDotRow<3>, kDotRow<4>};

void WidenRows(const Matrix& w, int64_t r0, int64_t rows, float* out) {
  const int64_t k = w.cols;
  const uint16_t* src = static_cast<const uint16_t*>(w.data) + r0 * k;
  const int64_t n = rows * k;
  int64_t i = 0;
  if (w.dtype == DType::kBF16) {
    for (; i + 8 <= n; i += 8) {
      const __m256i v =
          _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i)));
      _mm256_storeu_ps(out + i, _mm256_castsi256_ps(_mm256_slli_epi32(v, 16)));
    }
    for (; i < n; ++i) out[i] = Bf16ToF32(src[i]);
  } else {  // kF16
    for (; i + 8 <= n; i += 8) {
      _mm256_storeu_ps(out + i,
                       _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
    }
    for (; i < n; ++i) out[i] = F16ToF32(src[i]);
  }
}

}  // namespace

void Avx2MatMulF32(const float* x, int64_t m, const Matrix& w, int64_t n0, int64_t n1, float* y,
                   int64_t ldy, float* scratch) {
  const int64_t k = w.cols;
  const int64_t panel = F32PanelRows(k) / kNr * kNr;
  for (int64_t p0 = n0; p0 < n1; p0 += panel) {
    const int64_t p1 = p0 + panel < n1 ? p0 + panel : n1;
    const float* wp;
    if (w.dtype == DType::kF32) {
      wp = static_cast<const float*>(w.data) + p0 * k;
    } else {
      WidenRows(w, p0, p1 - p0, scratch);
      wp = scratch;
    }
    for (int64_t i = 0; i < m; i += kMr) {
      const int mr = static_cast<int>(m - i < kMr ? m - i : kMr);
      for (int64_t j = p0; j < p1; j += kNr) {
        const int nr = static_cast<int>(p1 - j < kNr ? p1 - j : kNr);
        kDot[mr - 1][nr - 1](x + i * k, k, wp + (j - p0) * k, k, k, y + i * ldy + j, ldy);
      }
    }
  }
}

}  // namespace ccguard::kernels::cpu

#pragma GCC pop_options

// The int8 path of CPUs with AVX2 but without AVX-512 VNNI (AMD EPYC Zen 2/3,
// Intel Xeons before Cascade Lake, Intel clients): the I8 column panels of
// gemm_panels.cc (unsigned w + 128, four values of K per 32-bit lane)
// multiplied with vpmaddwd, or, where the CPU has AVX-VNNI (Intel Alder Lake
// and later, Sierra Forest), with its 256-bit vpdpbusd: the panels' order,
// 8 columns x 4 values of K per vector, against int8 activation quads, with
// no widening and no pair sums.
//
// A step of K (4 values) of 4 output columns is 16 bytes of a panel; widened
// to 16-bit lanes (vpmovzxbw) it meets the row's 4 activations, stored as
// 16-bit integers and broadcast as one 64-bit value, in one vpmaddwd: each
// column gets two 32-bit partial sums (K values 0-1 and 2-3), added up when
// the block is stored. A micro-kernel keeps MR rows x 8 columns (two half
// panels' vectors) in 2 MR accumulators. As in the VNNI kernel the weights
// are unsigned and 128 * sum(x) is subtracted per row at the end.
//
// All sums are exact int32 (|x| <= 127, w + 128 <= 255: no overflow below
// K = 66,000), so y[i, j] is bit for bit the same whatever the blocking, the
// number of rows or the column split, and the same as the VNNI, AMX and
// portable int8 kernels give (the activations are quantized as
// QuantizeRowsInt8 quantizes them; the finish rounds as FinishInt8).
//
// Compiled for AVX2 (and AVX-VNNI) by the target pragmas below (no global
// -march flag); the caller checks DetectCpuIsa() >= kAvx2 (and the avxvnni
// feature for the int8-activation overloads).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/cpu/gemm.h"

// ---- AVX-VNNI (VEX-encoded vpdpbusd on 256 bits) -------------------------------
#pragma GCC push_options
#pragma GCC target("avx2,fma,avxvnni")

namespace ccguard::kernels::cpu {
namespace {

// rows [0, MR) x columns [0, cols) (cols <= 16) of y (int32 partial sums,
// as in KernelInt8) += a · w: per step, columns 0-7 and 8-15 of the panel
// each take one vpdpbusd per row (4 values of K per 32-bit lane).
template <int MR>
void KernelVnni(const uint32_t* a, const uint8_t* w, int64_t steps, bool first, int32_t* y,
                int64_t ldy, int64_t cols) {
  __m256i acc[MR][2];
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) {
    if (first) {
      acc[i][0] = acc[i][1] = _mm256_setzero_si256();
      continue;
    }
    int32_t in[kPanelWidth] = {};
    std::memcpy(in, y + i * ldy, static_cast<size_t>(std::min(cols, kPanelWidth)) * 4);
    acc[i][0] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in));
    acc[i][1] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(in + 8));
  }
#pragma GCC unroll 4
  for (int64_t s = 0; s < steps; ++s) {
    const __m256i w0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + s * 64));
    const __m256i w1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + s * 64 + 32));
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      const __m256i xv = _mm256_set1_epi32(static_cast<int>(a[s * MR + i]));
      acc[i][0] = _mm256_dpbusd_avx_epi32(acc[i][0], w0, xv);
      acc[i][1] = _mm256_dpbusd_avx_epi32(acc[i][1], w1, xv);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) {
    if (cols >= kPanelWidth) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + i * ldy), acc[i][0]);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + i * ldy + 8), acc[i][1]);
    } else {
      int32_t out[kPanelWidth];
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), acc[i][0]);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 8), acc[i][1]);
      std::memcpy(y + i * ldy, out, static_cast<size_t>(cols) * 4);
    }
  }
}

// By rows - 1; a = [steps][MR] rows' 4 int8 each (32 bits), w = the
// panel's block, 64 bytes per step.
using VnniFn = void (*)(const uint32_t*, const uint8_t*, int64_t, bool, int32_t*, int64_t, int64_t);
static_assert(kAvx2PanelRows == 4);
constexpr VnniFn kVnni[] = {KernelVnni<1>, KernelVnni<2>, KernelVnni<3>, KernelVnni<4>};

}  // namespace

}  // namespace ccguard::kernels::cpu

#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx2,fma")

namespace ccguard::kernels::cpu {
namespace {

constexpr int64_t kCols = 8;  // output columns per micro-kernel (half a panel)

// rows [0, MR) x columns [0, cols) of y (int32 partial sums between K
// blocks, as bits in the float output) += a · w over `steps` steps of 4
// values of K. a: [steps][MR] rows' 4 int16 each; w: the half panel's
// first 16 bytes, 64 bytes per step.
template <int MR>
void KernelInt8(const uint64_t* a, const uint8_t* w, int64_t steps, bool first, int32_t* y,
                int64_t ldy, int64_t cols) {
  __m256i acc[MR][2];
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) {
    if (first) {
      acc[i][0] = acc[i][1] = _mm256_setzero_si256();
      continue;
    }
    int32_t in[kCols] = {};
    std::memcpy(in, y + i * ldy, static_cast<size_t>(std::min(cols, kCols)) * 4);
    // Column c's running sum as the first of its pair of 32-bit lanes.
    acc[i][0] = _mm256_cvtepu32_epi64(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in)));
    acc[i][1] = _mm256_cvtepu32_epi64(_mm_loadu_si128(reinterpret_cast<const __m128i*>(in + 4)));
  }
#pragma GCC unroll 4
  for (int64_t s = 0; s < steps; ++s) {
    const __m256i w0 =
        _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + s * 64)));
    const __m256i w1 =
        _mm256_cvtepu8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + s * 64 + 16)));
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      const __m256i xv = _mm256_set1_epi64x(static_cast<long long>(a[s * MR + i]));
      acc[i][0] = _mm256_add_epi32(acc[i][0], _mm256_madd_epi16(xv, w0));
      acc[i][1] = _mm256_add_epi32(acc[i][1], _mm256_madd_epi16(xv, w1));
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) {
    // Pairs -> columns: hadd gives columns 0 1 4 5 | 2 3 6 7.
    const __m256i sums = _mm256_permute4x64_epi64(_mm256_hadd_epi32(acc[i][0], acc[i][1]), 0xD8);
    if (cols >= kCols) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(y + i * ldy), sums);
    } else {
      int32_t out[kCols];
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), sums);
      std::memcpy(y + i * ldy, out, static_cast<size_t>(cols) * 4);
    }
  }
}

using Int8Fn = void (*)(const uint64_t*, const uint8_t*, int64_t, bool, int32_t*, int64_t, int64_t);
constexpr Int8Fn kInt8[] = {KernelInt8<1>, KernelInt8<2>, KernelInt8<3>, KernelInt8<4>};

// y[i, j] (int32 bits of sum (w + 128) x) -> (float(that - 128 sum x) * sx[i]) * sw[j]
// for i < m, `cols` columns.
void FinishInt8(int64_t m, const float* sx, const int32_t* xsum, const float* sw, float* y,
                int64_t ldy, int64_t cols) {
  for (int64_t i = 0; i < m; ++i) {
    float* yi = y + i * ldy;
    const __m256i corr = _mm256_set1_epi32(xsum[i] * 128);
    const __m256 s = _mm256_set1_ps(sx[i]);
    int64_t c = 0;
    for (; c + 8 <= cols; c += 8) {
      const __m256 d = _mm256_cvtepi32_ps(
          _mm256_sub_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(yi + c)), corr));
      _mm256_storeu_ps(yi + c, _mm256_mul_ps(_mm256_mul_ps(d, s), _mm256_loadu_ps(sw + c)));
    }
    for (; c < cols; ++c) {
      int32_t v;
      std::memcpy(&v, yi + c, 4);
      yi[c] = static_cast<float>(v - xsum[i] * 128) * sx[i] * sw[c];
    }
  }
}

inline float MaxLane(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  return _mm_cvtss_f32(_mm_max_ss(m, _mm_movehdup_ps(m)));
}

inline int32_t SumLanes(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
  return _mm_cvtsi128_si32(_mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1)));
}

// QuantizeRow's values (nearbyint(x · 127 / max|x|), clamped to ±127) as
// int16 in q[0, kp) (zero-padded); returns the scale, *sum = sum of q.
float QuantizeRowInt16(const float* x, int64_t k, int64_t kp, int16_t* q, int32_t* sum) {
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  __m256 vmax = _mm256_setzero_ps();
  int64_t c = 0;
  for (; c + 8 <= k; c += 8)
    vmax = _mm256_max_ps(_mm256_and_ps(_mm256_loadu_ps(x + c), abs_mask), vmax);
  float amax = MaxLane(vmax);
  for (; c < k; ++c) amax = std::max(amax, std::fabs(x[c]));
  const float inv = amax > 0.f ? 127.f / amax : 0.f;
  const __m256 vinv = _mm256_set1_ps(inv);
  const __m256 lo = _mm256_set1_ps(-127.f), hi = _mm256_set1_ps(127.f);
  __m256i vsum = _mm256_setzero_si256();
  for (c = 0; c + 8 <= k; c += 8) {
    __m256 v = _mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(x + c), vinv),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    const __m256i vi = _mm256_cvtps_epi32(_mm256_min_ps(_mm256_max_ps(v, lo), hi));
    vsum = _mm256_add_epi32(vsum, vi);
    const __m256i packed = _mm256_permute4x64_epi64(_mm256_packs_epi32(vi, vi), 0x08);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(q + c), _mm256_castsi256_si128(packed));
  }
  int32_t total = SumLanes(vsum);
  for (; c < k; ++c) {
    const float v = std::clamp(std::nearbyint(x[c] * inv), -127.f, 127.f);
    q[c] = static_cast<int16_t>(v);
    total += q[c];
  }
  std::fill(q + k, q + kp, int16_t{0});
  *sum = total;
  return amax / 127.f;
}

// Rows [r0, r1) of x quantized into the blocks of kAvx2PanelRows rows (T:
// int16 for vpmaddwd, int8 for vpdpbusd).
template <class T>
void PanelRows(const float* x, int64_t m, int64_t k, int64_t r0, int64_t r1, T* out, float* scale,
               int32_t* sum) {
  const int64_t kp = PanelCols(DType::kI8, k);
  std::vector<int16_t> row(static_cast<size_t>(kp));
  std::vector<T> narrow(static_cast<size_t>(kp));
  for (int64_t r = r0; r < r1; ++r) {
    scale[r] = QuantizeRowInt16(x + r * k, k, kp, row.data(), sum + r);
    for (int64_t c = 0; c < kp; ++c) narrow[c] = static_cast<T>(row[c]);  // |q| <= 127
    const int64_t b0 = r / kAvx2PanelRows * kAvx2PanelRows;
    const int64_t mr = std::min<int64_t>(kAvx2PanelRows, m - b0);
    T* block = out + b0 * kp;
    for (int64_t s = 0; s < kp / 4; ++s) {
      std::memcpy(block + (s * mr + (r - b0)) * 4, &narrow[4 * s], 4 * sizeof(T));
    }
  }
}

template <class T>
void PanelMatMul(const T* xp, const float* sx, const int32_t* xsum, int64_t m, const Matrix& w,
                 int64_t n0, int64_t n1, float* y, int64_t ldy) {
  constexpr bool vnni = sizeof(T) == 1;
  constexpr int64_t step = vnni ? kPanelWidth : kCols;  // columns per micro-kernel
  const int64_t kp = PanelCols(DType::kI8, w.cols), pstride = kPanelWidth * kp;
  const uint8_t* wd = static_cast<const uint8_t*>(w.data);
  auto* yi = reinterpret_cast<int32_t*>(y);
  for (int64_t j = n0; j < n1; j += kPanelGroupCols) {
    const int64_t cols = std::min<int64_t>(kPanelGroupCols, n1 - j);
    for (int64_t c0 = 0; c0 < kp; c0 += kAvx2Int8KBlock) {
      const int64_t len = std::min<int64_t>(kAvx2Int8KBlock, kp - c0);
      for (int64_t b = 0; b < m; b += kAvx2PanelRows) {
        const int mr = static_cast<int>(std::min<int64_t>(kAvx2PanelRows, m - b));
        const T* a = xp + b * kp + c0 * mr;  // the block's quads from c0
        for (int64_t h = 0; h < cols; h += step) {
          const int64_t col = j + h;  // vpmaddwd: half panel (col % 16) / 8
          const uint8_t* wb =
              wd + (col / kPanelWidth) * pstride + c0 * kPanelWidth + (col % kPanelWidth) * 4;
          const int64_t n = std::min(step, cols - h);
          if constexpr (vnni) {
            kVnni[mr - 1](reinterpret_cast<const uint32_t*>(a), wb, len / 4, c0 == 0,
                          yi + b * ldy + col, ldy, n);
          } else {
            kInt8[mr - 1](reinterpret_cast<const uint64_t*>(a), wb, len / 4, c0 == 0,
                          yi + b * ldy + col, ldy, n);
          }
        }
        if (c0 + len == kp) {
          FinishInt8(mr, sx + b, xsum + b, w.scales + j, y + b * ldy + j, ldy, cols);
        }
      }
    }
  }
}

}  // namespace

void Avx2PanelRowsInt8(const float* x, int64_t m, int64_t k, int64_t r0, int64_t r1, int16_t* out,
                       float* scale, int32_t* sum) {
  PanelRows(x, m, k, r0, r1, out, scale, sum);
}

void Avx2PanelRowsInt8(const float* x, int64_t m, int64_t k, int64_t r0, int64_t r1, int8_t* out,
                       float* scale, int32_t* sum) {
  PanelRows(x, m, k, r0, r1, out, scale, sum);
}

void Avx2PanelMatMulInt8(const int16_t* xp, const float* sx, const int32_t* xsum, int64_t m,
                         const Matrix& w, int64_t n0, int64_t n1, float* y, int64_t ldy) {
  PanelMatMul(xp, sx, xsum, m, w, n0, n1, y, ldy);
}

void Avx2PanelMatMulInt8(const int8_t* xp, const float* sx, const int32_t* xsum, int64_t m,
                         const Matrix& w, int64_t n0, int64_t n1, float* y, int64_t ldy) {
  PanelMatMul(xp, sx, xsum, m, w, n0, n1, y, ldy);
}

}  // namespace ccguard::kernels::cpu

#pragma GCC pop_options

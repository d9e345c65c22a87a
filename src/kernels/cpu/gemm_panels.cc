// Matrix multiplies on column panels with AVX-512 BF16 (vdpbf16ps) and
// AVX-512 VNNI (vpdpbusd): the bf16 and int8 paths of CPUs without AMX.
//
// Register blocking (outer products): a micro-kernel keeps an MR x (NV * 16)
// block of outputs in MR * NV vector accumulators; per step of K it loads NV
// weight vectors (16 output columns x 2 BF16 or 4 I8 values of K each, as
// the panels store them) and broadcasts MR activation pairs/quads, so each
// weight vector serves MR rows and each broadcast NV vectors. (Broadcasts
// folded into the dot products as {1to16} memory operands measured 25-30 %
// slower on Zen 5.) The I8 kernel multiplies unsigned weights (w + 128) by
// signed activations and subtracts 128 * sum(x) per row at the end (exact
// int32 arithmetic).
// K is walked in blocks (kBf16KBlock / kInt8KBlock; fixed sizes, never
// derived from M) so that the NV weight panels of a block stay in L2 while
// every row block passes over them; the partial sums go through y (as
// float, or as int32 for I8) between blocks, exactly.
//
// Every output element is one lane of one accumulator chain that runs over
// K in increasing order with the same instructions, whatever MR the rows'
// block has, how many rows the call has, or how the columns are split across
// threads: so y[i, j] depends on x[i, :] and w[j, :] only (bit for bit).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <utility>
#include <vector>

#include "kernels/cpu/gemm.h"

namespace ccguard::kernels::cpu {

int64_t PanelCols(DType dtype, int64_t cols) { return RoundUp(cols, dtype == DType::kI8 ? 4 : 2); }

int64_t PanelBytes(DType dtype, int64_t rows, int64_t cols) {
  return RoundUp(rows, kPanelWidth) * PanelCols(dtype, cols) * DTypeSize(dtype);
}

void PackPanelsBf16(const Matrix& w, int64_t p0, int64_t p1, uint16_t* out) {
  const int64_t k = w.cols, kp = PanelCols(DType::kBF16, k);
  std::vector<float> row(static_cast<size_t>(k));
  for (int64_t p = p0; p < p1; ++p) {
    uint16_t* panel = out + p * kPanelWidth * kp;
    std::fill(panel, panel + kPanelWidth * kp, uint16_t{0});
    for (int64_t r = 0; r < kPanelWidth && p * kPanelWidth + r < w.rows; ++r) {
      ReadRowF32(w, p * kPanelWidth + r, row.data());
      for (int64_t c = 0; c < k; ++c) panel[(c / 2) * 32 + r * 2 + c % 2] = F32ToBf16(row[c]);
    }
  }
}

void PackPanelsInt8(const Matrix& w, int64_t p0, int64_t p1, uint8_t* out, float* scales) {
  const int64_t k = w.cols, kp = PanelCols(DType::kI8, k);
  std::vector<float> row(static_cast<size_t>(k));
  std::vector<int8_t> q(static_cast<size_t>(kp));
  for (int64_t p = p0; p < p1; ++p) {
    uint8_t* panel = out + p * kPanelWidth * kp;
    std::fill(panel, panel + kPanelWidth * kp, uint8_t{128});  // zero weights
    for (int64_t r = 0; r < kPanelWidth; ++r) {
      const int64_t n = p * kPanelWidth + r;
      if (n >= w.rows) {
        scales[n] = 0.f;
        continue;
      }
      ReadRowF32(w, n, row.data());
      QuantizeRowsInt8(row.data(), k, kp, 0, 1, q.data(), scales + n);
      for (int64_t c = 0; c < k; ++c) {
        panel[(c / 4) * 64 + r * 4 + c % 4] = static_cast<uint8_t>(q[c] + 128);
      }
    }
  }
}

void UnpackPanelRow(const Matrix& w, int64_t row, float* out) {
  const bool i8 = w.dtype == DType::kI8;
  const int64_t kp = PanelCols(w.dtype, w.cols), g = i8 ? 4 : 2;
  const int64_t p = row / kPanelWidth, r = row % kPanelWidth;
  for (int64_t c = 0; c < w.cols; ++c) {
    const int64_t at = p * kPanelWidth * kp + (c / g) * kPanelWidth * g + r * g + c % g;
    if (i8) {
      const int v = static_cast<const uint8_t*>(w.data)[at] - 128;
      out[c] = static_cast<float>(v) * w.scales[row];
    } else {
      out[c] = Bf16ToF32(static_cast<const uint16_t*>(w.data)[at]);
    }
  }
}

}  // namespace ccguard::kernels::cpu

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16,avx512vnni")

namespace ccguard::kernels::cpu {
namespace {

constexpr int kNv = kPanelsPerKernel;

// acc += per 32-bit lane, the dot product of the lane's 4 unsigned bytes
// of u with the 4 signed bytes of s (vpdpbusd). Inline assembly because
// GCC 12's intrinsic makes it copy and spill the accumulators.
inline __m512i Dpbusd(__m512i acc, __m512i u, __m512i s) {
  asm("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(u), "v"(s));
  return acc;
}

inline __mmask16 ColMask(int64_t cols) {
  return cols >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << cols) - 1);
}

// BF16: a = the row block's activation pairs ([steps][MR] of 32 bits), w =
// the first of NV panels (`pstride` uint16 apart), `steps` pairs of K from
// the block's start; y rows of stride ldy, `cols` valid columns in all.
template <int MR, int NV>
void KernelBf16(const uint32_t* a, const uint16_t* w, int64_t pstride, int64_t steps, bool first,
                float* y, int64_t ldy, int64_t cols) {
  __m512 acc[MR][NV];
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) {
      acc[i][v] = first ? _mm512_setzero_ps()
                        : _mm512_maskz_loadu_ps(ColMask(cols - 16 * v), y + i * ldy + 16 * v);
    }
  }
  for (int64_t s = 0; s < steps; ++s) {
    __m512bh wv[NV];
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) wv[v] = (__m512bh)_mm512_loadu_si512(w + v * pstride + s * 32);
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      const __m512bh xv = (__m512bh)_mm512_set1_epi32(static_cast<int>(a[s * MR + i]));
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) acc[i][v] = _mm512_dpbf16_ps(acc[i][v], xv, wv[v]);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) {
      _mm512_mask_storeu_ps(y + i * ldy + 16 * v, ColMask(cols - 16 * v), acc[i][v]);
    }
  }
}

// I8: a = the row block's activation quads (signed), [steps][MR] of 32
// bits, against unsigned weights; the int32 sums stay in y (as bits) until
// FinishInt8 turns them into floats.
template <int MR, int NV>
void KernelInt8(const uint32_t* a, const uint8_t* w, int64_t pstride, int64_t steps, bool first,
                float* y, int64_t ldy, int64_t cols) {
  __m512i acc[MR][NV];
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) {
      acc[i][v] = first ? _mm512_setzero_si512()
                        : _mm512_maskz_loadu_epi32(ColMask(cols - 16 * v), y + i * ldy + 16 * v);
    }
  }
  for (int64_t s = 0; s < steps; ++s) {
    __m512i wv[NV];
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) wv[v] = _mm512_loadu_si512(w + v * pstride + s * 64);
#pragma GCC unroll 8
    for (int i = 0; i < MR; ++i) {
      const __m512i xv = _mm512_set1_epi32(static_cast<int>(a[s * MR + i]));
#pragma GCC unroll 8
      for (int v = 0; v < NV; ++v) acc[i][v] = Dpbusd(acc[i][v], wv[v], xv);
    }
  }
#pragma GCC unroll 8
  for (int i = 0; i < MR; ++i) {
#pragma GCC unroll 8
    for (int v = 0; v < NV; ++v) {
      _mm512_mask_storeu_epi32(y + i * ldy + 16 * v, ColMask(cols - 16 * v), acc[i][v]);
    }
  }
}

// y[i, j] (int32 bits of sum (w + 128) x) -> (float(that - 128 sum x) * sx[i]) * sw[j],
// rounded as the other int8 kernels round it; `cols` columns from j.
void FinishInt8(int64_t m, const float* sx, const int32_t* xsum, const float* sw, float* y,
                int64_t ldy, int64_t cols) {
  for (int64_t c = 0; c < cols; c += 16) {
    const __mmask16 mask = ColMask(cols - c);
    const __m512 scale = _mm512_maskz_loadu_ps(mask, sw + c);
    for (int64_t i = 0; i < m; ++i) {
      float* yi = y + i * ldy + c;
      const __m512i corr = _mm512_set1_epi32(xsum[i] * 128);
      const __m512 d =
          _mm512_cvtepi32_ps(_mm512_sub_epi32(_mm512_maskz_loadu_epi32(mask, yi), corr));
      _mm512_mask_storeu_ps(yi, mask,
                            _mm512_mul_ps(_mm512_mul_ps(d, _mm512_set1_ps(sx[i])), scale));
    }
  }
}

using Bf16Fn = void (*)(const uint32_t*, const uint16_t*, int64_t, int64_t, bool, float*, int64_t,
                        int64_t);
using Int8Fn = void (*)(const uint32_t*, const uint8_t*, int64_t, int64_t, bool, float*, int64_t,
                        int64_t);
// Kernel tables by [panels - 1][rows - 1].
template <int NV, size_t... R>
constexpr std::array<Bf16Fn, kPanelRows> Bf16Row(std::index_sequence<R...>) {
  return {KernelBf16<static_cast<int>(R) + 1, NV>...};
}
template <int NV, size_t... R>
constexpr std::array<Int8Fn, kPanelRows> Int8Row(std::index_sequence<R...>) {
  return {KernelInt8<static_cast<int>(R) + 1, NV>...};
}
template <size_t... V>
constexpr std::array<std::array<Bf16Fn, kPanelRows>, kNv> Bf16Table(std::index_sequence<V...>) {
  return {Bf16Row<static_cast<int>(V) + 1>(std::make_index_sequence<kPanelRows>())...};
}
template <size_t... V>
constexpr std::array<std::array<Int8Fn, kPanelRows>, kNv> Int8Table(std::index_sequence<V...>) {
  return {Int8Row<static_cast<int>(V) + 1>(std::make_index_sequence<kPanelRows>())...};
}
constexpr auto kBf16 = Bf16Table(std::make_index_sequence<kNv>());
constexpr auto kInt8 = Int8Table(std::make_index_sequence<kNv>());

// Rows [r0, r1) of x[m, k] in the activation layout of the kernels: row
// block b (rows [8b, 8b + mr), mr = min(8, m - 8b)) starts at element
// 8 b kp and holds, for each group g of G = 4 / bytes K values, the group of
// each of its rows in turn (32 bits each): element (i, c) of the block at
// ((c / G) * mr + i % 8) * G + c % G. r0 must be a multiple of 8.
template <class T, class Convert>
void InterleaveRows(const float* x, int64_t m, int64_t k, int64_t kp, int64_t r0, int64_t r1,
                    T* out, Convert&& convert) {
  constexpr int64_t g = 4 / sizeof(T);
  std::vector<T> row(static_cast<size_t>(RoundUp(kp, 64)));
  for (int64_t b0 = r0; b0 < r1; b0 += kPanelRows) {
    const int64_t mr = std::min<int64_t>(kPanelRows, m - b0);
    uint32_t* block = reinterpret_cast<uint32_t*>(out + b0 * kp);
    for (int64_t i = 0; i < mr; ++i) {
      convert(x + (b0 + i) * k, b0 + i, row.data());
      const uint32_t* src = reinterpret_cast<const uint32_t*>(row.data());
      for (int64_t s = 0; s < kp / g; ++s) block[s * mr + i] = src[s];
    }
  }
}

}  // namespace

void PanelRowsBf16(const float* x, int64_t m, int64_t k, int64_t r0, int64_t r1, uint16_t* out) {
  const int64_t kp = PanelCols(DType::kBF16, k);
  InterleaveRows(x, m, k, kp, r0, r1, out, [&](const float* xi, int64_t, uint16_t* row) {
    Avx512RoundRowsBf16(xi, k, kp, 0, 1, row);
  });
}

void PanelRowsInt8(const float* x, int64_t m, int64_t k, int64_t r0, int64_t r1, int8_t* out,
                   float* scale, int32_t* sum) {
  const int64_t kp = PanelCols(DType::kI8, k);
  InterleaveRows(x, m, k, kp, r0, r1, out, [&](const float* xi, int64_t i, int8_t* row) {
    Avx512QuantizeRowsInt8(xi, k, kp, 0, 1, row, scale + i);
    __m512i s = _mm512_setzero_si512();
    for (int64_t c = 0; c < kp; c += 64) {  // sum of the bytes, through vpdpbusd with ones
      s = _mm512_dpbusd_epi32(s, _mm512_set1_epi8(1), _mm512_loadu_si512(row + c));
    }
    sum[i] = _mm512_reduce_add_epi32(s);
  });
}

void PanelMatMulBf16(const uint16_t* xp, int64_t m, const Matrix& w, int64_t n0, int64_t n1,
                     float* y, int64_t ldy) {
  const int64_t kp = PanelCols(DType::kBF16, w.cols), pstride = kPanelWidth * kp;
  const uint16_t* wd = static_cast<const uint16_t*>(w.data);
  for (int64_t j = n0; j < n1; j += kNv * kPanelWidth) {
    const int64_t cols = std::min<int64_t>(kNv * kPanelWidth, n1 - j);
    const int nv = static_cast<int>((cols + kPanelWidth - 1) / kPanelWidth);
    const uint16_t* wp = wd + (j / kPanelWidth) * pstride;
    for (int64_t c0 = 0; c0 < kp; c0 += kBf16KBlock) {
      const int64_t len = std::min<int64_t>(kBf16KBlock, kp - c0);
      for (int64_t b = 0; b < m; b += kPanelRows) {
        const int mr = static_cast<int>(std::min<int64_t>(kPanelRows, m - b));
        const uint32_t* a = reinterpret_cast<const uint32_t*>(xp + b * kp) + (c0 / 2) * mr;
        float* yb = y + b * ldy + j;
        const uint16_t* wb = wp + c0 * kPanelWidth;
        kBf16[nv - 1][mr - 1](a, wb, pstride, len / 2, c0 == 0, yb, ldy, cols);
      }
    }
  }
}

void PanelMatMulInt8(const int8_t* xp, const float* sx, const int32_t* xsum, int64_t m,
                     const Matrix& w, int64_t n0, int64_t n1, float* y, int64_t ldy) {
  const int64_t kp = PanelCols(DType::kI8, w.cols), pstride = kPanelWidth * kp;
  const uint8_t* wd = static_cast<const uint8_t*>(w.data);
  for (int64_t j = n0; j < n1; j += kNv * kPanelWidth) {
    const int64_t cols = std::min<int64_t>(kNv * kPanelWidth, n1 - j);
    const int nv = static_cast<int>((cols + kPanelWidth - 1) / kPanelWidth);
    const uint8_t* wp = wd + (j / kPanelWidth) * pstride;
    for (int64_t c0 = 0; c0 < kp; c0 += kInt8KBlock) {
      const int64_t len = std::min<int64_t>(kInt8KBlock, kp - c0);
      for (int64_t b = 0; b < m; b += kPanelRows) {
        const int mr = static_cast<int>(std::min<int64_t>(kPanelRows, m - b));
        const uint32_t* a = reinterpret_cast<const uint32_t*>(xp + b * kp) + (c0 / 4) * mr;
        float* yb = y + b * ldy + j;
        const uint8_t* wb = wp + c0 * kPanelWidth;
        kInt8[nv - 1][mr - 1](a, wb, pstride, len / 4, c0 == 0, yb, ldy, cols);
        // The block's outputs are still in L1 after the last pass.
        if (c0 + len == kp) FinishInt8(mr, sx + b, xsum + b, w.scales + j, yb, ldy, cols);
      }
    }
  }
}

}  // namespace ccguard::kernels::cpu

#pragma GCC pop_options

// AMX kernels: BF16 and INT8 tiles, 2 x 2 blocks of 16 x 16 accumulators.
//
// The activations x (rounded or quantized, padded to 32 rows) are the first
// operand, loaded from their rows; the weights, tiled at load (gemm.h), are
// the second. Each output block of 32 rows x 32 columns is accumulated over
// the whole of K in tile registers and stored once. For each block of 32
// weight rows (kept in L2 while it is used), the loop runs over chunks of
// activation rows sized to stay in L2 too.
//
// Compiled for AMX/AVX-512 by the target pragma below (no global -march flag);
// the caller checks DetectCpuIsa() == kAmx first.
// GCC 12 warns about the deliberately undefined vectors inside its own
// AVX-512 intrinsics (GCC bug 105593); the warnings point into the header.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstring>
#include <type_traits>

#include "kernels/cpu/gemm.h"

#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512vl,avx512dq,avx512bf16,amx-tile,amx-bf16,amx-int8")

#include "kernels/cpu/amx_tiles.h"

namespace ccguard::kernels::cpu {
namespace {

// Tiles (ConfigureTiles: eight of 16 rows x 64 bytes): 0-3 accumulators, 4-5
// activations, 6-7 weights.

// Activation-row pairs per chunk: about 1 MiB of x, at least one pair.
int64_t PairsPerChunk(int64_t row_bytes) {
  const int64_t pairs = (int64_t{1} << 20) / (32 * row_bytes);
  return pairs > 0 ? pairs : 1;
}

// Accumulator tile `t` (0-3) into buf[16][16]. The tile number of an AMX
// instruction is an immediate.
void StoreAccumulator(int t, void* buf) {
  switch (t) {
    case 0:
      _tile_stored(0, buf, 64);
      break;
    case 1:
      _tile_stored(1, buf, 64);
      break;
    case 2:
      _tile_stored(2, buf, 64);
      break;
    default:
      _tile_stored(3, buf, 64);
  }
}

// Stores accumulator `t` of the block at (m0, n0) when it is not entirely
// inside [0, m) x [n0, n1): through a buffer, the part that is.
void StorePartialF32(int t, float* y, int64_t ldy, int64_t m0, int64_t m, int64_t n0, int64_t n1) {
  alignas(64) float buf[256];
  StoreAccumulator(t, buf);
  const int64_t rows = m - m0 < 16 ? m - m0 : 16;
  const int64_t cols = n1 - n0 < 16 ? n1 - n0 : 16;
  if (rows <= 0 || cols <= 0) return;
  const __mmask16 mask = static_cast<__mmask16>((1u << cols) - 1);
  for (int64_t r = 0; r < rows; ++r) {
    _mm512_mask_storeu_ps(y + (m0 + r) * ldy + n0, mask, _mm512_load_ps(buf + r * 16));
  }
}

// y = float(acc) * sx[row] * sw[col] for accumulator `t` at (m0, n0).
void StoreScaledInt8(int t, float* y, int64_t ldy, int64_t m0, int64_t m, int64_t n0, int64_t n1,
                     const float* sx, const float* sw) {
  alignas(64) int32_t buf[256];
  StoreAccumulator(t, buf);
  const int64_t rows = m - m0 < 16 ? m - m0 : 16;
  const int64_t cols = n1 - n0 < 16 ? n1 - n0 : 16;
  if (rows <= 0 || cols <= 0) return;
  const __mmask16 mask = static_cast<__mmask16>((1u << cols) - 1);
  const __m512 wscale = _mm512_maskz_loadu_ps(mask, sw + n0);
  for (int64_t r = 0; r < rows; ++r) {
    const __m512 acc = _mm512_maskz_cvtepi32_ps(0xffff, _mm512_load_si512(buf + r * 16));
    const __m512 v = _mm512_mul_ps(_mm512_mul_ps(acc, _mm512_set1_ps(sx[m0 + r])), wscale);
    _mm512_mask_storeu_ps(y + (m0 + r) * ldy + n0, mask, v);
  }
}

// The two element types differ only in the tile dot product (CCG_TILE_DOT),
// the tile width in K, and how an accumulator reaches y (BF16: float sums stored as they
// are; INT8: int32 sums scaled per row and column).
template <bool kInt8>
struct AmxOps {
  using T = std::conditional_t<kInt8, int8_t, uint16_t>;
  static constexpr int64_t kTileK = kInt8 ? kInt8TileK : kBf16TileK;
  static constexpr int64_t kTileElements = 16 * kTileK;  // one 1 KiB tile
  static void Store(int t, float* y, int64_t ldy, int64_t m0, int64_t m, int64_t n0, int64_t n1,
                    const float* sx, const float* sw) {
    if constexpr (kInt8) {
      StoreScaledInt8(t, y, ldy, m0, m, n0, n1, sx, sw);
    } else {
      StorePartialF32(t, y, ldy, m0, m, n0, n1);
    }
  }
};

// The tile numbers of an AMX instruction are literals (GCC pastes them into
// the assembly text), so the dot product is chosen by a macro, not a template.
#define CCG_TILE_DOT(d, a, b)  \
  do {                         \
    if constexpr (kInt8) {     \
      _tile_dpbssd(d, a, b);   \
    } else {                   \
      _tile_dpbf16ps(d, a, b); \
    }                          \
  } while (0)

template <bool kInt8>
void AmxMatMul(const typename AmxOps<kInt8>::T* x, const float* sx, int64_t m, const Matrix& w,
               int64_t n0, int64_t n1, float* y, int64_t ldy) {
  using Ops = AmxOps<kInt8>;
  using T = typename Ops::T;
  constexpr int64_t tk = Ops::kTileK, te = Ops::kTileElements;
  const int64_t kp = TiledCols(kInt8 ? DType::kI8 : DType::kBF16, w.cols), kbs = kp / tk;
  const int64_t ldx = kp * static_cast<int64_t>(sizeof(T));  // bytes per activation row
  const int64_t pairs = RoundUp(m, 32) / 32, chunk = PairsPerChunk(ldx);
  const T* tiles = static_cast<const T*>(w.data);
  ConfigureTiles();
  for (int64_t p0 = 0; p0 < pairs; p0 += chunk) {
    const int64_t p1 = p0 + chunk < pairs ? p0 + chunk : pairs;
    for (int64_t nb = n0; nb < n1; nb += 32) {
      const T* b0 = tiles + (nb / 16) * kbs * te;
      const T* b1 = b0 + kbs * te;
      for (int64_t p = p0; p < p1; ++p) {
        const int64_t mb = p * 32;
        const T* a0 = x + mb * kp;
        const T* a1 = a0 + 16 * kp;
        const bool half = m - mb <= 16;  // the last pair, half empty: its first 16 rows only
        _tile_zero(0);
        _tile_zero(1);
        if (!half) {
          _tile_zero(2);
          _tile_zero(3);
        }
        for (int64_t kb = 0; kb < kbs; ++kb) {
          _tile_loadd(4, a0 + kb * tk, ldx);
          _tile_loadd(6, b0 + kb * te, 64);
          CCG_TILE_DOT(0, 4, 6);
          _tile_loadd(7, b1 + kb * te, 64);
          CCG_TILE_DOT(1, 4, 7);
          if (half) continue;
          _tile_loadd(5, a1 + kb * tk, ldx);
          CCG_TILE_DOT(2, 5, 6);
          CCG_TILE_DOT(3, 5, 7);
        }
        if (!kInt8 && mb + 32 <= m && nb + 32 <= n1) {  // a whole float block: straight to y
          float* out = y + mb * ldy + nb;
          _tile_stored(0, out, ldy * 4);
          _tile_stored(1, out + 16, ldy * 4);
          _tile_stored(2, out + 16 * ldy, ldy * 4);
          _tile_stored(3, out + 16 * ldy + 16, ldy * 4);
          continue;
        }
        Ops::Store(0, y, ldy, mb, m, nb, n1, sx, w.scales);
        Ops::Store(1, y, ldy, mb, m, nb + 16, n1, sx, w.scales);
        if (half) continue;
        Ops::Store(2, y, ldy, mb + 16, m, nb, n1, sx, w.scales);
        Ops::Store(3, y, ldy, mb + 16, m, nb + 16, n1, sx, w.scales);
      }
    }
  }
  _tile_release();
}

#undef CCG_TILE_DOT

}  // namespace

void AmxMatMulBf16(const uint16_t* xb, int64_t m, const Matrix& w, int64_t n0, int64_t n1, float* y,
                   int64_t ldy) {
  AmxMatMul<false>(xb, nullptr, m, w, n0, n1, y, ldy);
}

void AmxMatMulInt8(const int8_t* xq, const float* sx, int64_t m, const Matrix& w, int64_t n0,
                   int64_t n1, float* y, int64_t ldy) {
  AmxMatMul<true>(xq, sx, m, w, n0, n1, y, ldy);
}

}  // namespace ccguard::kernels::cpu

#pragma GCC pop_options

// Internal to the fast CPU backend (fast_backend.cc): the matrix-multiply
// kernels of each instruction-set tier and the layouts they read.
//
// Every kernel computes y[i, j] = sum_k x[i, k] * w[j, k] for i < m and
// j in [n0, n1), so that the caller can split the output columns across
// threads; none allocates or spawns threads. `y` has row stride `ldy`.
// A kernel of tier T must only be called when DetectCpuIsa() >= T.
#pragma once

#include <cstdint>

#include "kernels/kernels.h"

namespace ccguard::kernels::cpu {

inline int64_t RoundUp(int64_t v, int64_t to) { return (v + to - 1) / to * to; }

// What the CPU (and OS) offer, read once from CPUID and XCR0 (cpu_isa.cc);
// DetectCpuIsa() builds on it.
struct CpuFeatures {
  bool avx2 = false;    // with FMA and F16C
  bool avx512 = false;  // F, BW, VL, DQ
  bool amx = false;     // tiles, BF16 and INT8
  bool avx512bf16 = false, avx512vnni = false;
};
const CpuFeatures& DetectCpuFeatures();

// ---- Tiled layouts (AMX), made by PackTiles* at load. -----------------------
// Rows are padded to a multiple of 32 and columns to kBf16TileK / kInt8TileK
// with zeros. Tile (nb, kb) holds rows [16 nb, 16 nb + 16) and columns
// [TK kb, TK kb + TK) in 1024 bytes, at byte offset (nb * (K_pad / TK) + kb) *
// 1024, in the VNNI order AMX reads as its second operand: element (r, c) at
// ((c % TK) / P) * 64 + (r % 16) * 4 + (c % P) * (4 / P) bytes, P = 2 (BF16)
// or 4 (I8).
constexpr int64_t kBf16TileK = 32;
constexpr int64_t kInt8TileK = 64;
int64_t TiledBytes(DType dtype, int64_t rows, int64_t cols);
int64_t TiledCols(DType dtype, int64_t cols);  // cols padded to the tile width

// w: row-major F32/BF16/F16 -> BF16 tiles (round to nearest even).
void PackTilesBf16(const Matrix& w, int64_t nb0, int64_t nb1, uint16_t* out);
// w: row-major F32/BF16/F16 -> I8 tiles and per-row scales (symmetric, max|w| / 127).
void PackTilesInt8(const Matrix& w, int64_t nb0, int64_t nb1, int8_t* out, float* scales);
// Row `row` of a tiled matrix, as float (I8 times its scale).
void UnpackTiledRow(const Matrix& w, int64_t row, float* out);

// Quantizes rows [i0, i1) of x[m, k]: q[i, :kp] (zero-padded) and scale[i],
// q = nearbyint(x * (127 / max|x|)), scale = max|x| / 127 (0 for a zero row).
void QuantizeRowsInt8(const float* x, int64_t k, int64_t kp, int64_t i0, int64_t i1, int8_t* q,
                      float* scale);
// Rounds rows [i0, i1) of x[m, k] to bfloat16: xb[i, :kp], zero-padded.
void RoundRowsBf16(const float* x, int64_t k, int64_t kp, int64_t i0, int64_t i1, uint16_t* xb);

// Row `row` of a row-major F32/BF16/F16 matrix, widened to float.
void ReadRowF32(const Matrix& w, int64_t row, float* out);

// Weight rows per panel of the AVX2 float32 kernel (about 256 KiB of floats,
// kept in L2 while every activation row passes over them); its `scratch`
// holds F32PanelRows(K) * K floats (unused when w is F32).
inline int64_t F32PanelRows(int64_t k) {
  const int64_t rows = (int64_t{256} << 10) / (k * 4) / 4 * 4;
  return rows < 4 ? 4 : rows > 64 ? 64 : rows;
}

// ---- Generic tier (portable C++) ---------------------------------------------
// w row-major F32/BF16/F16, float32 arithmetic.
void GenericMatMulF32(const float* x, int64_t m, const Matrix& w, int64_t n0, int64_t n1, float* y,
                      int64_t ldy);
// w row-major I8 with scales; xq/sx from QuantizeRowsInt8 (row stride kp).
void GenericMatMulInt8(const int8_t* xq, const float* sx, int64_t m, int64_t kp, const Matrix& w,
                       int64_t n0, int64_t n1, float* y, int64_t ldy);

// ---- AVX2 + FMA ---------------------------------------------------------------
void Avx2MatMulF32(const float* x, int64_t m, const Matrix& w, int64_t n0, int64_t n1, float* y,
                   int64_t ldy, float* scratch);

// ---- AVX-512 ------------------------------------------------------------------
// Blocked over 64 weight rows x 512 columns x 96 activation rows; `scratch`
// holds Avx512F32ScratchFloats() floats.
int64_t Avx512F32ScratchFloats();
void Avx512MatMulF32(const float* x, int64_t m, const Matrix& w, int64_t n0, int64_t n1, float* y,
                     int64_t ldy, float* scratch);
// AVX-512 BF16 dot products: xb from RoundRowsBf16 (row stride kp, a multiple
// of 32), w row-major BF16. Needs avx512bf16 (present at the kAmx tier).
void Avx512MatMulBf16(const uint16_t* xb, int64_t m, int64_t kp, const Matrix& w, int64_t n0,
                      int64_t n1, float* y, int64_t ldy);
// AVX-512 VNNI: xq/sx from QuantizeRowsInt8 (row stride kp >= K), w row-major
// I8 with scales. The same bits as GenericMatMulInt8. Needs avx512vnni.
void Avx512VnniMatMulInt8(const int8_t* xq, const float* sx, int64_t m, int64_t kp, const Matrix& w,
                          int64_t n0, int64_t n1, float* y, int64_t ldy);
void Avx512QuantizeRowsInt8(const float* x, int64_t k, int64_t kp, int64_t i0, int64_t i1,
                            int8_t* q, float* scale);
void Avx512RoundRowsBf16(const float* x, int64_t k, int64_t kp, int64_t i0, int64_t i1,
                         uint16_t* xb);

// ---- AMX ------------------------------------------------------------------------
// n0 must be a multiple of 32. xb: RoundRowsBf16 with m padded to a multiple
// of 32 (zero rows) and kp = TiledCols(kBF16, K).
void AmxMatMulBf16(const uint16_t* xb, int64_t m, const Matrix& w, int64_t n0, int64_t n1, float* y,
                   int64_t ldy);
// xq/sx: QuantizeRowsInt8, m padded to 32, kp = TiledCols(kI8, K).
void AmxMatMulInt8(const int8_t* xq, const float* sx, int64_t m, const Matrix& w, int64_t n0,
                   int64_t n1, float* y, int64_t ldy);

}  // namespace ccguard::kernels::cpu

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
  bool avxvnni = false;  // AVX-VNNI: VEX-encoded vpdpbusd on 128/256 bits (with avx2)
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
// Outer products over weights widened and packed per call (192 weight rows
// x 512 values of K at a time), one FMA chain per output; `scratch` holds
// Avx512F32ScratchFloats() floats.
int64_t Avx512F32ScratchFloats();
void Avx512MatMulF32(const float* x, int64_t m, const Matrix& w, int64_t n0, int64_t n1, float* y,
                     int64_t ldy, float* scratch);
// AVX-512 BF16 dot products: xb from RoundRowsBf16 (row stride kp, a multiple
// of 32), w row-major BF16. Needs avx512bf16 (present at the kAmx tier).
void Avx512MatMulBf16(const uint16_t* xb, int64_t m, int64_t kp, const Matrix& w, int64_t n0,
                      int64_t n1, float* y, int64_t ldy);
void Avx512QuantizeRowsInt8(const float* x, int64_t k, int64_t kp, int64_t i0, int64_t i1,
                            int8_t* q, float* scale);
void Avx512RoundRowsBf16(const float* x, int64_t k, int64_t kp, int64_t i0, int64_t i1,
                         uint16_t* xb);

// ---- Column panels (AVX-512 BF16 / VNNI without AMX; gemm_panels.cc) ----------
// Made by PackPanels* at load. Output columns (weight rows) in panels of
// kPanelWidth, rows padded with zeros; K padded to kp = PanelCols(dtype, K)
// (a multiple of G = 2 for BF16, 4 for I8) with zeros. Element (r, c) at
// (r / 16) * 16 kp + (c / G) * 16 G + (r % 16) * G + c % G: each step of G
// values of K holds one 64-byte vector of the panel's 16 columns, the order
// vdpbf16ps / vpdpbusd read. I8 panels hold w + 128 as unsigned bytes
// (padding: 128) and per-row scales (Matrix::scales).
constexpr int64_t kPanelWidth = 16;
// Micro-kernel shape and K blocking, chosen by measurement on Zen 5 (2
// threads, M = 512, the Qwen3-1.7B shapes): 8 x 3 and 6 x 4 and 4 x 6 were
// level, 12 x 2 spilled; K blocks of 1024 (BF16) / 2048 (I8) values, 96 KiB
// of panels in L2, beat 256/512 (L1) by ~15 % (fewer accumulator round trips).
constexpr int64_t kPanelRows = 8;    // activation rows per micro-kernel block
constexpr int kPanelsPerKernel = 3;  // weight panels per micro-kernel
constexpr int64_t kPanelGroupCols = kPanelWidth * kPanelsPerKernel;
constexpr int64_t kBf16KBlock = 1024;  // K per pass of the BF16 kernels
constexpr int64_t kInt8KBlock = 2048;  // K per pass of the I8 kernels
int64_t PanelCols(DType dtype, int64_t cols);
int64_t PanelBytes(DType dtype, int64_t rows, int64_t cols);
// Panels [p0, p1) of w (row-major F32/BF16/F16), rounded to BF16 / quantized
// per row like PackTilesInt8 (scales for rows [16 p0, 16 p1)).
void PackPanelsBf16(const Matrix& w, int64_t p0, int64_t p1, uint16_t* out);
void PackPanelsInt8(const Matrix& w, int64_t p0, int64_t p1, uint8_t* out, float* scales);
void UnpackPanelRow(const Matrix& w, int64_t row, float* out);
// Activations for the panel kernels: rows [r0, r1) of x[m, k] (r0 a
// multiple of kPanelRows) rounded to BF16 / quantized per row (QuantizeRowsInt8,
// with sum[i] = the sum of row i's quantized values), interleaved by blocks
// of kPanelRows rows; out holds m * PanelCols(dtype, k) elements.
void PanelRowsBf16(const float* x, int64_t m, int64_t k, int64_t r0, int64_t r1, uint16_t* out);
void PanelRowsInt8(const float* x, int64_t m, int64_t k, int64_t r0, int64_t r1, int8_t* out,
                   float* scale, int32_t* sum);
// y[i, j] for i < m, j in [n0, n1) (n0 a multiple of 48): bit for bit the
// same whatever m, n0, n1 are (see gemm_panels.cc). Need avx512bf16 / avx512vnni.
void PanelMatMulBf16(const uint16_t* xp, int64_t m, const Matrix& w, int64_t n0, int64_t n1,
                     float* y, int64_t ldy);
void PanelMatMulInt8(const int8_t* xp, const float* sx, const int32_t* xsum, int64_t m,
                     const Matrix& w, int64_t n0, int64_t n1, float* y, int64_t ldy);

// AVX2 without AVX-512 VNNI (gemm_panels_avx2.cc): the same I8 panels through
// vpmaddwd (int16 activations), or AVX-VNNI's 256-bit vpdpbusd (int8
// activations; needs the avxvnni feature). Activations: rows [r0, r1) of
// x[m, k] (r0 a multiple of kAvx2PanelRows) quantized as QuantizeRowsInt8
// quantizes them, with sum[i] their sum, in blocks of kAvx2PanelRows rows:
// block b (rows [R b, R b + mr), mr = min(R, m - R b)) starts at element
// R b kp and holds element (i, c) at ((c / 4) * mr + i % R) * 4 + c % 4; out
// holds m * PanelCols(kI8, k) elements. y is bit for bit PanelMatMulInt8's
// (exact int32 sums) whichever is used. Need avx2.
constexpr int64_t kAvx2PanelRows = 4;      // activation rows per micro-kernel block
constexpr int64_t kAvx2Int8KBlock = 1024;  // K per pass (the sums stay exact across passes)
void Avx2PanelRowsInt8(const float* x, int64_t m, int64_t k, int64_t r0, int64_t r1, int16_t* out,
                       float* scale, int32_t* sum);
void Avx2PanelRowsInt8(const float* x, int64_t m, int64_t k, int64_t r0, int64_t r1, int8_t* out,
                       float* scale, int32_t* sum);
void Avx2PanelMatMulInt8(const int16_t* xp, const float* sx, const int32_t* xsum, int64_t m,
                         const Matrix& w, int64_t n0, int64_t n1, float* y, int64_t ldy);
void Avx2PanelMatMulInt8(const int8_t* xp, const float* sx, const int32_t* xsum, int64_t m,
                         const Matrix& w, int64_t n0, int64_t n1, float* y, int64_t ldy);

// ---- AMX ------------------------------------------------------------------------
// n0 must be a multiple of 32. xb: RoundRowsBf16 with m padded to a multiple
// of 32 (zero rows) and kp = TiledCols(kBF16, K).
void AmxMatMulBf16(const uint16_t* xb, int64_t m, const Matrix& w, int64_t n0, int64_t n1, float* y,
                   int64_t ldy);
// xq/sx: QuantizeRowsInt8, m padded to 32, kp = TiledCols(kI8, K).
void AmxMatMulInt8(const int8_t* xq, const float* sx, int64_t m, const Matrix& w, int64_t n0,
                   int64_t n1, float* y, int64_t ldy);

}  // namespace ccguard::kernels::cpu

// The portable parts of the fast backend's matrix multiply: weight tiling and
// activation quantization (shared by every tier) and the generic kernels.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/cpu/gemm.h"

namespace ccguard::kernels::cpu {
void ReadRowF32(const Matrix& w, int64_t row, float* out) {
  const size_t n = static_cast<size_t>(w.cols);
  switch (w.dtype) {
    case DType::kF32:
      std::memcpy(out, static_cast<const float*>(w.data) + row * w.cols, n * 4);
      return;
    case DType::kBF16: {
      const uint16_t* p = static_cast<const uint16_t*>(w.data) + row * w.cols;
      for (size_t i = 0; i < n; ++i) out[i] = Bf16ToF32(p[i]);
      return;
    }
    case DType::kF16: {
      const uint16_t* p = static_cast<const uint16_t*>(w.data) + row * w.cols;
      for (size_t i = 0; i < n; ++i) out[i] = F16ToF32(p[i]);
      return;
    }
    default:
      std::fill(out, out + n, std::nanf(""));
  }
}

namespace {

// Symmetric int8 quantization of one row; the rounding the AVX-512 version
// reproduces exactly.
float QuantizeRow(const float* x, int64_t k, int64_t kp, int8_t* q) {
  float amax = 0.f;
  for (int64_t i = 0; i < k; ++i) amax = std::max(amax, std::fabs(x[i]));
  const float inv = amax > 0.f ? 127.f / amax : 0.f;
  for (int64_t i = 0; i < k; ++i) {
    const float v = std::nearbyint(x[i] * inv);
    q[i] = static_cast<int8_t>(std::clamp(v, -127.f, 127.f));
  }
  std::fill(q + k, q + kp, int8_t{0});
  return amax / 127.f;
}

}  // namespace

int64_t TiledCols(DType dtype, int64_t cols) {
  return RoundUp(cols, dtype == DType::kI8 ? kInt8TileK : kBf16TileK);
}

int64_t TiledBytes(DType dtype, int64_t rows, int64_t cols) {
  return RoundUp(rows, 32) * TiledCols(dtype, cols) * (dtype == DType::kI8 ? 1 : 2);
}

void PackTilesBf16(const Matrix& w, int64_t nb0, int64_t nb1, uint16_t* out) {
  const int64_t k = w.cols, kp = TiledCols(DType::kBF16, k), kbs = kp / kBf16TileK;
  std::vector<float> f(static_cast<size_t>(k));
  std::vector<uint16_t> rows(static_cast<size_t>(16 * kp));
  for (int64_t nb = nb0; nb < nb1; ++nb) {
    std::fill(rows.begin(), rows.end(), uint16_t{0});
    for (int64_t r = 0; r < 16 && nb * 16 + r < w.rows; ++r) {
      ReadRowF32(w, nb * 16 + r, f.data());
      for (int64_t c = 0; c < k; ++c) rows[r * kp + c] = F32ToBf16(f[c]);
    }
    uint16_t* tile = out + nb * kbs * 512;
    for (int64_t kb = 0; kb < kbs; ++kb, tile += 512) {
      for (int64_t pair = 0; pair < 16; ++pair) {
        for (int64_t r = 0; r < 16; ++r) {
          tile[pair * 32 + r * 2] = rows[r * kp + kb * 32 + pair * 2];
          tile[pair * 32 + r * 2 + 1] = rows[r * kp + kb * 32 + pair * 2 + 1];
        }
      }
    }
  }
}

void PackTilesInt8(const Matrix& w, int64_t nb0, int64_t nb1, int8_t* out, float* scales) {
  const int64_t k = w.cols, kp = TiledCols(DType::kI8, k), kbs = kp / kInt8TileK;
  std::vector<float> f(static_cast<size_t>(k));
  std::vector<int8_t> rows(static_cast<size_t>(16 * kp));
  for (int64_t nb = nb0; nb < nb1; ++nb) {
    std::fill(rows.begin(), rows.end(), int8_t{0});
    for (int64_t r = 0; r < 16; ++r) {
      const int64_t n = nb * 16 + r;
      if (n >= w.rows) {
        if (n < RoundUp(w.rows, 32)) scales[n] = 0.f;
        continue;
      }
      ReadRowF32(w, n, f.data());
      scales[n] = QuantizeRow(f.data(), k, kp, rows.data() + r * kp);
    }
    int8_t* tile = out + nb * kbs * 1024;
    for (int64_t kb = 0; kb < kbs; ++kb, tile += 1024) {
      for (int64_t quad = 0; quad < 16; ++quad) {
        for (int64_t r = 0; r < 16; ++r) {
          for (int64_t e = 0; e < 4; ++e) {
            tile[quad * 64 + r * 4 + e] = rows[r * kp + kb * 64 + quad * 4 + e];
          }
        }
      }
    }
  }
}

void UnpackTiledRow(const Matrix& w, int64_t row, float* out) {
  const bool i8 = w.dtype == DType::kI8;
  const int64_t tk = i8 ? kInt8TileK : kBf16TileK, p = i8 ? 4 : 2;
  const int64_t kbs = TiledCols(w.dtype, w.cols) / tk;
  const uint8_t* base = static_cast<const uint8_t*>(w.data) + (row / 16) * kbs * 1024;
  for (int64_t c = 0; c < w.cols; ++c) {
    const uint8_t* e =
        base + (c / tk) * 1024 + ((c % tk) / p) * 64 + (row % 16) * 4 + (c % p) * (4 / p);
    if (i8) {
      out[c] = static_cast<float>(static_cast<int8_t>(*e)) * w.scales[row];
    } else {
      uint16_t v;
      std::memcpy(&v, e, 2);
      out[c] = Bf16ToF32(v);
    }
  }
}

void QuantizeRowsInt8(const float* x, int64_t k, int64_t kp, int64_t i0, int64_t i1, int8_t* q,
                      float* scale) {
  for (int64_t i = i0; i < i1; ++i) scale[i] = QuantizeRow(x + i * k, k, kp, q + i * kp);
}

void RoundRowsBf16(const float* x, int64_t k, int64_t kp, int64_t i0, int64_t i1, uint16_t* xb) {
  for (int64_t i = i0; i < i1; ++i) {
    for (int64_t c = 0; c < k; ++c) xb[i * kp + c] = F32ToBf16(x[i * k + c]);
    std::fill(xb + i * kp + k, xb + (i + 1) * kp, uint16_t{0});
  }
}

void GenericMatMulF32(const float* x, int64_t m, const Matrix& w, int64_t n0, int64_t n1, float* y,
                      int64_t ldy) {
  const int64_t k = w.cols;
  std::vector<float> row(static_cast<size_t>(k));
  for (int64_t n = n0; n < n1; ++n) {
    const float* wr;
    if (w.dtype == DType::kF32) {
      wr = static_cast<const float*>(w.data) + n * k;
    } else {
      ReadRowF32(w, n, row.data());
      wr = row.data();
    }
    for (int64_t i = 0; i < m; ++i) {
      const float* xi = x + i * k;
      float acc[8] = {};
      int64_t c = 0;
      for (; c + 8 <= k; c += 8) {
        for (int j = 0; j < 8; ++j) acc[j] += xi[c + j] * wr[c + j];
      }
      float s = 0.f;
      for (int j = 0; j < 8; ++j) s += acc[j];
      for (; c < k; ++c) s += xi[c] * wr[c];
      y[i * ldy + n] = s;
    }
  }
}

void GenericMatMulInt8(const int8_t* xq, const float* sx, int64_t m, int64_t kp, const Matrix& w,
                       int64_t n0, int64_t n1, float* y, int64_t ldy) {
  const int64_t k = w.cols;
  const int8_t* wq = static_cast<const int8_t*>(w.data);
  for (int64_t n = n0; n < n1; ++n) {
    const int8_t* wr = wq + n * k;
    for (int64_t i = 0; i < m; ++i) {
      const int8_t* xi = xq + i * kp;
      int32_t acc = 0;
      for (int64_t c = 0; c < k; ++c) acc += int32_t{xi[c]} * int32_t{wr[c]};
      y[i * ldy + n] = static_cast<float>(acc) * sx[i] * w.scales[n];
    }
  }
}

}  // namespace ccguard::kernels::cpu

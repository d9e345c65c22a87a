// Portable CPU implementation of the kernel interface: plain loops written so
// the compiler vectorises them, threaded over output rows with ThreadPool.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "kernels/kernels.h"

namespace ccguard::kernels {
namespace {

inline float Dot(const float* a, const float* b, int64_t n) {
  constexpr int kLanes = 16;
  float acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int j = 0; j < kLanes; ++j) acc[j] += a[i + j] * b[i + j];
  }
  float s = 0.f;
  for (int j = 0; j < kLanes; ++j) s += acc[j];
  for (; i < n; ++i) s += a[i] * b[i];
  return s;
}

void ConvertRow(const Matrix& w, int64_t row, float* out) {
  const size_t n = static_cast<size_t>(w.cols);
  const uint8_t* base = static_cast<const uint8_t*>(w.data);
  switch (w.dtype) {
    case DType::kF32:
      std::memcpy(out, base + row * w.cols * 4, n * 4);
      return;
    case DType::kBF16: {
      const uint16_t* p = reinterpret_cast<const uint16_t*>(base) + row * w.cols;
      for (size_t i = 0; i < n; ++i) out[i] = Bf16ToF32(p[i]);
      return;
    }
    case DType::kF16: {
      const uint16_t* p = reinterpret_cast<const uint16_t*>(base) + row * w.cols;
      for (size_t i = 0; i < n; ++i) out[i] = F16ToF32(p[i]);
      return;
    }
    default:
      // The model layer only builds matrices of the three float types.
      std::fill(out, out + n, std::nanf(""));
  }
}

class CpuBackend final : public Backend {
 public:
  explicit CpuBackend(ThreadPool* pool) : pool_(pool) {}
  const char* name() const override { return "cpu-portable"; }

  void MatMul(const float* x, int64_t m, const Matrix& w, float* y) override {
    const int64_t k = w.cols, n = w.rows;
    constexpr int64_t kBlock = 16;
    const int64_t blocks = (n + kBlock - 1) / kBlock;
    pool_->ParallelFor(static_cast<size_t>(blocks), [&](size_t b0, size_t b1) {
      std::vector<float> wbuf;
      if (w.dtype != DType::kF32) wbuf.resize(static_cast<size_t>(kBlock * k));
      for (size_t b = b0; b < b1; ++b) {
        const int64_t r0 = static_cast<int64_t>(b) * kBlock;
        const int64_t r1 = std::min(n, r0 + kBlock);
        const float* wrows;
        if (w.dtype == DType::kF32) {
          wrows = static_cast<const float*>(w.data) + r0 * k;
        } else {
          for (int64_t r = r0; r < r1; ++r) ConvertRow(w, r, wbuf.data() + (r - r0) * k);
          wrows = wbuf.data();
        }
        for (int64_t i = 0; i < m; ++i) {
          const float* xi = x + i * k;
          float* yi = y + i * n;
          for (int64_t r = r0; r < r1; ++r) yi[r] = Dot(xi, wrows + (r - r0) * k, k);
        }
      }
    });
  }

  void RmsNorm(const float* x, const float* weight, int64_t rows, int64_t dim, float eps,
               float* out) override {
    for (int64_t r = 0; r < rows; ++r) {
      const float* xr = x + r * dim;
      float* orow = out + r * dim;
      double ss = 0.0;
      for (int64_t i = 0; i < dim; ++i) ss += static_cast<double>(xr[i]) * xr[i];
      const float inv = static_cast<float>(1.0 / std::sqrt(ss / static_cast<double>(dim) + eps));
      for (int64_t i = 0; i < dim; ++i) orow[i] = xr[i] * inv * weight[i];
    }
  }

  void Rope(float* x, int64_t tokens, int64_t heads, int64_t head_dim, const int64_t* positions,
            const RopeSpec& rope) override {
    const int64_t half = head_dim / 2;
    std::vector<float> cs(static_cast<size_t>(half)), sn(static_cast<size_t>(half));
    for (int64_t t = 0; t < tokens; ++t) {
      for (int64_t i = 0; i < half; ++i) {
        const double inv_freq = RopeInvFreq(rope, i, head_dim);
        const double angle = static_cast<double>(positions[t]) * inv_freq;
        cs[i] = static_cast<float>(std::cos(angle));
        sn[i] = static_cast<float>(std::sin(angle));
      }
      for (int64_t h = 0; h < heads; ++h) {
        float* v = x + (t * heads + h) * head_dim;
        for (int64_t i = 0; i < half; ++i) {
          const float a = v[i], b = v[i + half];
          v[i] = a * cs[i] - b * sn[i];
          v[i + half] = b * cs[i] + a * sn[i];
        }
      }
    }
  }

  void SiluMul(const float* gate, const float* up, int64_t n, float* out) override {
    for (int64_t i = 0; i < n; ++i) {
      const float g = gate[i];
      out[i] = g / (1.f + std::exp(-g)) * up[i];
    }
  }

  void Attention(const float* q, int64_t tokens, const int64_t* positions,
                 const std::vector<KvSegment>& segments, const AttentionShape& s,
                 float* out) override {
    const int64_t hd = s.head_dim, kv_dim = s.n_kv_heads * hd, q_dim = s.n_heads * hd;
    const int64_t group = s.n_heads / s.n_kv_heads;
    const float scale = s.softmax_scale();
    int64_t total = 0;
    for (const auto& seg : segments) total += seg.len;
    pool_->ParallelFor(static_cast<size_t>(tokens * s.n_heads), [&](size_t w0, size_t w1) {
      std::vector<float> scores(static_cast<size_t>(total));
      for (size_t w = w0; w < w1; ++w) {
        const int64_t t = static_cast<int64_t>(w) / s.n_heads;
        const int64_t h = static_cast<int64_t>(w) % s.n_heads;
        const int64_t kvh = h / group;
        const int64_t visible = std::min(total, positions[t] + 1);
        const float* qv = q + t * q_dim + h * hd;
        float maxv = -INFINITY;
        int64_t p = 0;
        for (const auto& seg : segments) {
          for (int64_t j = 0; j < seg.len && p < visible; ++j, ++p) {
            scores[p] = Dot(qv, seg.k + j * kv_dim + kvh * hd, hd) * scale;
            maxv = std::max(maxv, scores[p]);
          }
        }
        double sum = 0.0;
        for (int64_t j = 0; j < visible; ++j) {
          scores[j] = std::exp(scores[j] - maxv);
          sum += scores[j];
        }
        const float inv = static_cast<float>(1.0 / sum);
        float* o = out + t * q_dim + h * hd;
        std::fill(o, o + hd, 0.f);
        p = 0;
        for (const auto& seg : segments) {
          for (int64_t j = 0; j < seg.len && p < visible; ++j, ++p) {
            const float wgt = scores[p] * inv;
            const float* vv = seg.v + j * kv_dim + kvh * hd;
            for (int64_t d = 0; d < hd; ++d) o[d] += wgt * vv[d];
          }
        }
      }
    });
  }

  void GetRow(const Matrix& w, int64_t row, float* out) override { ConvertRow(w, row, out); }

 private:
  ThreadPool* pool_;
};

}  // namespace

std::unique_ptr<Backend> MakeCpuBackend(ThreadPool* pool) {
  return std::make_unique<CpuBackend>(pool);
}

}  // namespace ccguard::kernels

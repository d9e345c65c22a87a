// Every kernel of the CPU backend against a plain double-precision reference.
#include "kernels/kernels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>

namespace ccguard::kernels {
namespace {

std::vector<float> Random(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.f, 1.f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

class KernelsTest : public ::testing::Test {
 protected:
  ThreadPool pool_{2};
  std::unique_ptr<Backend> be_ = MakeCpuBackend(&pool_);
};

TEST_F(KernelsTest, MatMulAllDtypes) {
  const int64_t m = 5, k = 37, n = 23;  // odd sizes exercise the tails
  auto x = Random(m * k, 1), w = Random(n * k, 2);
  std::vector<uint16_t> wb(w.size()), wh(w.size());
  for (size_t i = 0; i < w.size(); ++i) {
    wb[i] = F32ToBf16(w[i]);
    // F16 via bf16-exact values keeps the reference simple.
    float v = Bf16ToF32(wb[i]);
    uint32_t bits;
    std::memcpy(&bits, &v, 4);
    int e = static_cast<int>((bits >> 23) & 0xff) - 127 + 15;
    wh[i] = static_cast<uint16_t>(((bits >> 16) & 0x8000) |
                                  (e > 0 ? (e << 10) | ((bits >> 13) & 0x3ff) : 0));
  }
  for (DType dt : {DType::kF32, DType::kBF16, DType::kF16}) {
    const void* data = dt == DType::kF32    ? static_cast<const void*>(w.data())
                       : dt == DType::kBF16 ? static_cast<const void*>(wb.data())
                                            : static_cast<const void*>(wh.data());
    Matrix mat{dt, data, n, k};
    std::vector<float> y(m * n);
    be_->MatMul(x.data(), m, mat, y.data());
    std::vector<float> row(k);
    for (int64_t j = 0; j < n; ++j) {
      be_->GetRow(mat, j, row.data());
      for (int64_t i = 0; i < m; ++i) {
        double ref = 0;
        for (int64_t t = 0; t < k; ++t) ref += static_cast<double>(x[i * k + t]) * row[t];
        ASSERT_NEAR(y[i * n + j], ref, 1e-4) << DTypeName(dt) << " " << i << "," << j;
      }
    }
  }
}

TEST_F(KernelsTest, RmsNormRopeSilu) {
  const int64_t rows = 3, dim = 16;
  auto x = Random(rows * dim, 3), w = Random(dim, 4);
  std::vector<float> out(x.size());
  be_->RmsNorm(x.data(), w.data(), rows, dim, 1e-6f, out.data());
  for (int64_t r = 0; r < rows; ++r) {
    double ss = 0;
    for (int64_t i = 0; i < dim; ++i) ss += x[r * dim + i] * x[r * dim + i];
    double inv = 1 / std::sqrt(ss / dim + 1e-6);
    for (int64_t i = 0; i < dim; ++i)
      ASSERT_NEAR(out[r * dim + i], x[r * dim + i] * inv * w[i], 1e-5);
  }
  // RoPE at position 0 is the identity; at p it rotates pairs (i, i + d/2).
  auto q = Random(2 * dim, 5);
  auto q0 = q;
  int64_t pos[2] = {0, 7};
  be_->Rope(q.data(), 2, 1, dim, pos, RopeSpec{10000.0});
  for (int64_t i = 0; i < dim; ++i) ASSERT_FLOAT_EQ(q[i], q0[i]);
  for (int64_t i = 0; i < dim / 2; ++i) {
    double a = 7.0 / std::pow(10000.0, 2.0 * i / dim);
    double e0 = q0[dim + i] * std::cos(a) - q0[dim + i + dim / 2] * std::sin(a);
    double e1 = q0[dim + i + dim / 2] * std::cos(a) + q0[dim + i] * std::sin(a);
    ASSERT_NEAR(q[dim + i], e0, 1e-5);
    ASSERT_NEAR(q[dim + i + dim / 2], e1, 1e-5);
  }
  std::vector<float> g = {-2, 0, 3}, u = {1, 5, 2}, o(3);
  be_->SiluMul(g.data(), u.data(), 3, o.data());
  for (int i = 0; i < 3; ++i) ASSERT_NEAR(o[i], g[i] / (1 + std::exp(-g[i])) * u[i], 1e-6);
}

// Attention over a cache split into two segments equals attention over one,
// and both match the reference (causal, GQA).
TEST_F(KernelsTest, AttentionSegmentsAndCausality) {
  for (float scale : {0.f, 0.0625f}) {  // 0: 1/sqrt(head_dim); Granite sets its own
    const AttentionShape s{4, 2, 8, scale};
    const int64_t len = 9, kvd = s.n_kv_heads * s.head_dim, qd = s.n_heads * s.head_dim;
    auto k = Random(len * kvd, 6), v = Random(len * kvd, 7), q = Random(3 * qd, 8);
    int64_t pos[3] = {4, 7, 8};
    std::vector<float> one(3 * qd), two(3 * qd);
    be_->Attention(q.data(), 3, pos, {{k.data(), v.data(), len}}, s, one.data());
    be_->Attention(q.data(), 3, pos,
                   {{k.data(), v.data(), 5}, {k.data() + 5 * kvd, v.data() + 5 * kvd, len - 5}}, s,
                   two.data());
    for (int64_t t = 0; t < 3; ++t) {
      for (int64_t h = 0; h < s.n_heads; ++h) {
        const int64_t kh = h / 2;
        std::vector<double> sc(pos[t] + 1);
        double mx = -1e30, sum = 0;
        for (int64_t j = 0; j <= pos[t]; ++j) {
          double d = 0;
          for (int64_t i = 0; i < s.head_dim; ++i) {
            d += q[t * qd + h * s.head_dim + i] * k[j * kvd + kh * s.head_dim + i];
          }
          sc[j] = scale == 0.f ? d / std::sqrt(8.0) : d * scale;
          mx = std::max(mx, sc[j]);
        }
        for (auto& x : sc) sum += (x = std::exp(x - mx));
        for (int64_t i = 0; i < s.head_dim; ++i) {
          double ref = 0;
          for (int64_t j = 0; j <= pos[t]; ++j)
            ref += sc[j] / sum * v[j * kvd + kh * s.head_dim + i];
          const int64_t at = t * qd + h * s.head_dim + i;
          ASSERT_NEAR(one[at], ref, 1e-5);
          ASSERT_NEAR(two[at], ref, 1e-5);
        }
      }
    }
  }
}

// Llama 3 RoPE scaling, against the frequency factors as llama.cpp's
// converter writes them (rope_freqs: 1, factor, or 1 / ((1 - s) / factor +
// s), dividing the base frequency), for Llama Guard 3 1B's parameters.
TEST(RopeTest, Llama3FrequenciesMatchTheConverterForm) {
  const RopeSpec r{500000.0, 32.0, 1.0, 4.0, 8192.0};
  const int64_t hd = 64;
  int high = 0, low = 0, mid = 0;
  for (int64_t i = 0; i < hd / 2; ++i) {
    const double base = 1.0 / std::pow(500000.0, 2.0 * i / hd);
    const double wavelen = 2 * M_PI / base;
    double factor;
    if (wavelen < 8192.0 / 4.0) {
      factor = 1, ++high;
    } else if (wavelen > 8192.0 / 1.0) {
      factor = 32, ++low;
    } else {
      const double smooth = (8192.0 / wavelen - 1.0) / (4.0 - 1.0);
      factor = 1 / ((1 - smooth) / 32 + smooth), ++mid;
    }
    EXPECT_NEAR(RopeInvFreq(r, i, hd), base / factor, 1e-12 * base) << i;
    EXPECT_EQ(RopeInvFreq(RopeSpec{500000.0}, i, hd), base) << i;
  }
  EXPECT_GT(high, 0);  // every branch taken
  EXPECT_GT(low, 0);
  EXPECT_GT(mid, 0);
}

TEST_F(KernelsTest, ScaleAndScaledAdd) {
  std::vector<float> x = {1, -2, 3}, y = {0.5f, 4, -1};
  be_->Add(x.data(), y.data(), 3, 1.f);
  EXPECT_EQ(x, (std::vector<float>{1.5f, 2, 2}));
  be_->Add(x.data(), y.data(), 3, 0.25f);
  EXPECT_EQ(x, (std::vector<float>{1.625f, 3, 1.75f}));
  be_->Scale(x.data(), 3, 2.f);
  EXPECT_EQ(x, (std::vector<float>{3.25f, 6, 3.5f}));
}

}  // namespace
}  // namespace ccguard::kernels

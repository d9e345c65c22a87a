// The fast CPU backend, every tier this machine supports, against the
// portable backend. Tolerances:
//   fp32   |Δ| <= 1e-5 * Σ|x·w| + 1e-6 (reordered float32 sums)
//   bf16   |Δ| <= 2^-7 * Σ|x·w| + 1e-6 (x and f32 weights rounded to bf16:
//          2^-9 relative each, doubled for headroom)
//   int8   |Δ| <= Σ(sx/2·|w| + sw/2·|x| + sx·sw/4) + 1e-5 (half a step of
//          each quantization), and every tier gives the same bits
//   RMSNorm, SiLU·mul, RoPE: 1e-6 relative; attention: 2e-5 absolute.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>

#include "kernels/cpu/gemm.h"
#include "kernels/kernels.h"

namespace ccguard::kernels {
namespace {

std::vector<float> Random(size_t n, uint32_t seed, float scale = 1.f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

std::vector<CpuIsa> Tiers() {
  std::vector<CpuIsa> t;
  for (CpuIsa isa :
       {CpuIsa::kGeneric, CpuIsa::kAvx2, CpuIsa::kAvxVnni, CpuIsa::kAvx512, CpuIsa::kAmx}) {
    if (isa <= DetectCpuIsa()) t.push_back(isa);
  }
  return t;
}

std::string Name(CpuIsa isa, Precision p) {
  return std::string(CpuIsaName(isa)) + "/" + PrecisionName(p);
}

class FastBackendTest : public ::testing::Test {
 protected:
  ThreadPool pool_{2};
  std::unique_ptr<Backend> ref_ = MakeCpuBackend(&pool_);
};

// A weight matrix in the three stored dtypes.
struct Weights {
  std::vector<float> f32;
  std::vector<uint16_t> bf16, f16;
  Matrix Get(DType dt, int64_t n, int64_t k) const {
    const void* d = dt == DType::kF32    ? static_cast<const void*>(f32.data())
                    : dt == DType::kBF16 ? static_cast<const void*>(bf16.data())
                                         : static_cast<const void*>(f16.data());
    return {dt, d, n, k};
  }
};

uint16_t ToF16(float v) {  // for values well inside the F16 normal range
  uint32_t bits;
  std::memcpy(&bits, &v, 4);
  const uint32_t sign = (bits >> 16) & 0x8000u;
  const int e = static_cast<int>((bits >> 23) & 0xff) - 127 + 15;
  if (e <= 0) return static_cast<uint16_t>(sign);
  const uint32_t mant = (bits >> 13) & 0x3ffu;  // truncation: exact for bf16 values
  return static_cast<uint16_t>(sign | (static_cast<uint32_t>(e) << 10) | mant);
}

Weights MakeWeights(int64_t n, int64_t k, uint32_t seed) {
  Weights w;
  w.f32 = Random(static_cast<size_t>(n * k), seed, 0.5f);
  for (float v : w.f32) {
    w.bf16.push_back(F32ToBf16(v));
    w.f16.push_back(ToF16(Bf16ToF32(w.bf16.back())));
  }
  return w;
}

TEST_F(FastBackendTest, MatMulEveryTierPrecisionDtypeAndShape) {
  const int64_t shapes[][3] = {{1, 37, 23},   {5, 64, 32},  {37, 96, 70},
                               {70, 130, 33}, {33, 32, 96}, {100, 1100, 70}};  // m, k, n
  for (const auto& sh : shapes) {
    const int64_t m = sh[0], k = sh[1], n = sh[2];
    const auto x = Random(static_cast<size_t>(m * k), 11 + static_cast<uint32_t>(k));
    const Weights w = MakeWeights(n, k, 7 + static_cast<uint32_t>(n));
    std::vector<float> int8_bits;  // the int8 result of the first tier, per dtype
    for (DType dt : {DType::kF32, DType::kBF16, DType::kF16}) {
      const Matrix mat = w.Get(dt, n, k);
      std::vector<float> ref(static_cast<size_t>(m * n)), mass(ref.size(), 0.f);
      ref_->MatMul(x.data(), m, mat, ref.data());
      std::vector<float> row(static_cast<size_t>(k));
      for (int64_t j = 0; j < n; ++j) {
        ref_->GetRow(mat, j, row.data());
        for (int64_t i = 0; i < m; ++i) {
          for (int64_t c = 0; c < k; ++c) mass[i * n + j] += std::fabs(x[i * k + c] * row[c]);
        }
      }
      std::vector<float> first_int8;
      for (CpuIsa isa : Tiers()) {
        for (Precision p : {Precision::kF32, Precision::kBF16, Precision::kInt8}) {
          auto be = MakeFastCpuBackend(&pool_, p, isa);
          auto prep = be->Prepare(mat);
          ASSERT_TRUE(prep.ok()) << prep.status().ToString();
          const Matrix& pm = prep->matrix;
          std::vector<float> y(ref.size(), NAN);
          be->MatMul(x.data(), m, pm, y.data());
          const std::string what = Name(isa, p) + " " + DTypeName(dt) + " m=" + std::to_string(m) +
                                   " k=" + std::to_string(k) + " n=" + std::to_string(n);
          for (int64_t i = 0; i < m; ++i) {
            for (int64_t j = 0; j < n; ++j) {
              const size_t at = static_cast<size_t>(i * n + j);
              double tol = 1e-5 * mass[at] + 1e-6;
              if (p == Precision::kBF16) tol = std::ldexp(mass[at], -7) + 1e-6;
              if (p == Precision::kInt8) {
                float xmax = 0, wmax = 0, xs = 0, ws = 0;
                be->GetRow(pm, j, row.data());
                for (int64_t c = 0; c < k; ++c) {
                  xmax = std::max(xmax, std::fabs(x[i * k + c]));
                  wmax = std::max(wmax, std::fabs(row[c]));
                  xs += std::fabs(x[i * k + c]);
                  ws += std::fabs(row[c]);
                }
                // Quantization of the stored weights (sw) and of x (sx).
                std::vector<float> orig(static_cast<size_t>(k));
                ref_->GetRow(mat, j, orig.data());
                float omax = 0;
                for (float v : orig) omax = std::max(omax, std::fabs(v));
                const double sx = xmax / 127.0, sw = omax / 127.0;
                tol = (sx / 2 * ws + sw / 2 * xs + k * sx * sw / 4) * 1.01 + 1e-5;
              }
              ASSERT_NEAR(y[at], ref[at], tol) << what << " at " << i << "," << j;
            }
          }
          if (p == Precision::kInt8) {
            if (first_int8.empty()) {
              first_int8 = y;
            } else {
              ASSERT_EQ(0, std::memcmp(first_int8.data(), y.data(), y.size() * 4)) << what;
            }
          }
          // GetRow reads prepared layouts back.
          be->GetRow(pm, n - 1, row.data());
          std::vector<float> orig(static_cast<size_t>(k));
          ref_->GetRow(mat, n - 1, orig.data());
          for (int64_t c = 0; c < k; ++c) {
            const double step = p == Precision::kInt8   ? 0.51 * pm.scales[n - 1]
                                : p == Precision::kBF16 ? std::ldexp(std::fabs(orig[c]), -8)
                                                        : 0.0;
            ASSERT_NEAR(row[c], orig[c], step + 1e-7) << what << " GetRow col " << c;
          }
        }
      }
    }
  }
}

// The rows of a batch do not influence each other: one row alone gives the
// same bits as inside a batch (the property prefix caching relies on).
TEST_F(FastBackendTest, MatMulRowsIndependentOfBatch) {
  const int64_t m = 130, k = 1100, n = 70;  // several row chunks and column blocks
  const auto x = Random(static_cast<size_t>(m * k), 3);
  const Weights w = MakeWeights(n, k, 4);
  for (CpuIsa isa : Tiers()) {
    for (Precision p : {Precision::kF32, Precision::kBF16, Precision::kInt8}) {
      auto be = MakeFastCpuBackend(&pool_, p, isa);
      auto prep = be->Prepare(w.Get(DType::kBF16, n, k));
      ASSERT_TRUE(prep.ok());
      std::vector<float> all(static_cast<size_t>(m * n)), one(static_cast<size_t>(n));
      be->MatMul(x.data(), m, prep->matrix, all.data());
      for (int64_t i : {int64_t{0}, int64_t{17}, int64_t{100}, m - 1}) {
        be->MatMul(x.data() + i * k, 1, prep->matrix, one.data());
        ASSERT_EQ(0, std::memcmp(one.data(), all.data() + i * n, static_cast<size_t>(n) * 4))
            << Name(isa, p) << " row " << i;
      }
    }
  }
}

// Int8 sums are exact int32 at full scale: weights and activations at
// +-127 (stored weights w + 128 = 255), where 16-bit pair sums such as
// vpmaddubsw's saturate (oneDNN 2.6's AVX2 u8 x s8 matmul gives half the sum
// there). y = K * (+-1) up to the float rounding of the two scales.
TEST_F(FastBackendTest, MatMulInt8ExactAtFullScale) {
  // Rows / columns of kind 0: all +1, 1: all -1, 2: alternating -1, +1.
  const int64_t m = 3, k = 2048, n = 19;
  auto value = [](int64_t kind, int64_t c) {
    return kind == 0 ? 1.f : kind == 1 ? -1.f : c % 2 ? 1.f : -1.f;
  };
  auto kind = [](int64_t r) { return r < 3 ? r : 0; };
  std::vector<float> x(static_cast<size_t>(m * k)), w(static_cast<size_t>(n * k));
  for (int64_t c = 0; c < k; ++c) {
    for (int64_t i = 0; i < m; ++i) x[static_cast<size_t>(i * k + c)] = value(kind(i), c);
    for (int64_t j = 0; j < n; ++j) w[static_cast<size_t>(j * k + c)] = value(kind(j), c);
  }
  for (CpuIsa isa : Tiers()) {
    auto be = MakeFastCpuBackend(&pool_, Precision::kInt8, isa);
    auto prep = be->Prepare(Matrix{DType::kF32, w.data(), n, k});
    ASSERT_TRUE(prep.ok());
    std::vector<float> y(static_cast<size_t>(m * n), NAN);
    be->MatMul(x.data(), m, prep->matrix, y.data());
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        double want = 0;
        for (int64_t c = 0; c < k; ++c) want += value(kind(i), c) * value(kind(j), c);
        EXPECT_NEAR(y[static_cast<size_t>(i * n + j)], want, 1e-2)
            << CpuIsaName(isa) << " at " << i << "," << j;
      }
    }
  }
}

TEST_F(FastBackendTest, RmsNormSiluRope) {
  for (CpuIsa isa : Tiers()) {
    auto be = MakeFastCpuBackend(&pool_, Precision::kF32, isa);
    for (int64_t rows : {int64_t{3}, int64_t{300}}) {
      const int64_t dim = 2 * 64 + 3 * (rows > 3 ? 0 : 1);
      const auto x = Random(static_cast<size_t>(rows * dim), 5),
                 w = Random(static_cast<size_t>(dim), 6);
      std::vector<float> a(x.size()), b(x.size());
      ref_->RmsNorm(x.data(), w.data(), rows, dim, 1e-6f, a.data());
      be->RmsNorm(x.data(), w.data(), rows, dim, 1e-6f, b.data());
      for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(b[i], a[i], 1e-6 * std::fabs(a[i]) + 1e-7);
      // In place, as the model calls it.
      std::vector<float> c = x;
      be->RmsNorm(c.data(), w.data(), rows, dim, 1e-6f, c.data());
      for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(c[i], a[i], 1e-6 * std::fabs(a[i]) + 1e-7);
    }
    for (int64_t n : {int64_t{37}, int64_t{70000}}) {
      const auto g = Random(static_cast<size_t>(n), 7, 4.f), u = Random(static_cast<size_t>(n), 8);
      std::vector<float> a(g.size()), b(g.size());
      ref_->SiluMul(g.data(), u.data(), n, a.data());
      b = g;  // out aliases gate
      be->SiluMul(b.data(), u.data(), n, b.data());
      for (size_t i = 0; i < a.size(); ++i)
        ASSERT_NEAR(b[i], a[i], 1e-6 * std::fabs(a[i]) + 1e-7) << i;
    }
    for (int64_t tokens : {int64_t{3}, int64_t{200}}) {
      const int64_t heads = 4, hd = 128;
      auto a = Random(static_cast<size_t>(tokens * heads * hd), 9);
      auto b = a;
      std::vector<int64_t> pos(static_cast<size_t>(tokens));
      for (int64_t t = 0; t < tokens; ++t) pos[t] = 5000 - 7 * t;  // any order
      // Plain, then Llama 3 scaled (the table is rebuilt when the spec changes).
      for (const RopeSpec& rope : {RopeSpec{1e6}, RopeSpec{5e5, 32, 1, 4, 8192}}) {
        auto a2 = a, b2 = b;
        ref_->Rope(a2.data(), tokens, heads, hd, pos.data(), rope);
        be->Rope(b2.data(), tokens, heads, hd, pos.data(), rope);
        be->Rope(b2.data(), 0, heads, hd, pos.data(), rope);
        for (size_t i = 0; i < a.size(); ++i)
          ASSERT_NEAR(b2[i], a2[i], 1e-6 * std::fabs(a2[i]) + 1e-7);
      }
    }
  }
}

TEST_F(FastBackendTest, AttentionMatchesPortable) {
  struct Case {
    AttentionShape s;
    std::vector<int64_t> segs;  // lengths
    int64_t tokens;             // queries: the last `tokens` positions
  };
  const Case cases[] = {{{16, 8, 128}, {40, 1}, 41},
                        {{16, 8, 128}, {900, 37}, 37},
                        {{4, 2, 16}, {5, 3, 30}, 3},
                        {{4, 4, 32}, {1}, 1},
                        {{8, 2, 64}, {17, 16, 15}, 48},
                        {{8, 2, 64, 0.015625f}, {17, 16, 15}, 48}};  // Granite's scale
  for (const Case& c : cases) {
    const int64_t kvd = c.s.n_kv_heads * c.s.head_dim, qd = c.s.n_heads * c.s.head_dim;
    int64_t total = 0;
    for (int64_t l : c.segs) total += l;
    const auto k = Random(static_cast<size_t>(total * kvd), 1, 2.f),
               v = Random(static_cast<size_t>(total * kvd), 2);
    const auto q = Random(static_cast<size_t>(c.tokens * qd), 3, 2.f);
    std::vector<KvSegment> segs;
    int64_t at = 0;
    for (int64_t l : c.segs) {
      segs.push_back({k.data() + at * kvd, v.data() + at * kvd, l});
      at += l;
    }
    std::vector<int64_t> pos(static_cast<size_t>(c.tokens));
    for (int64_t t = 0; t < c.tokens; ++t) pos[t] = total - c.tokens + t;
    if (c.tokens > 2) pos[1] = 0;  // a query that sees one key only
    std::vector<float> a(static_cast<size_t>(c.tokens * qd)), b(a.size(), NAN);
    ref_->Attention(q.data(), c.tokens, pos.data(), segs, c.s, a.data());
    for (CpuIsa isa : Tiers()) {
      auto be = MakeFastCpuBackend(&pool_, Precision::kF32, isa);
      be->Attention(q.data(), c.tokens, pos.data(), segs, c.s, b.data());
      for (size_t i = 0; i < a.size(); ++i) {
        ASSERT_NEAR(b[i], a[i], 2e-5) << CpuIsaName(isa) << " heads " << c.s.n_heads << " at " << i;
      }
    }
  }
}

// The tiers whose bf16/int8 attention is computed in BF16 (AMX tiles, or
// AVX-512 BF16 dot products).
std::vector<CpuIsa> Bf16AttentionTiers() {
  std::vector<CpuIsa> t;
  if (DetectCpuIsa() >= CpuIsa::kAmx) t.push_back(CpuIsa::kAmx);
  if (DetectCpuIsa() >= CpuIsa::kAvx512 && cpu::DetectCpuFeatures().avx512bf16) {
    t.push_back(CpuIsa::kAvx512);
  }
  return t;
}

// The BF16 attention of the bf16/int8 precisions. Inputs are BF16 values and
// head_dim 64 makes the 1/sqrt(head_dim) scale exact, so only the BF16
// rounding of the softmax weights remains: |Δ| <= 2^-8 * max|v| + 1e-5. With
// head_dim 128 the scaled queries are rounded too: 2^-5 * max|v|.
TEST_F(FastBackendTest, AttentionBf16) {
  if (Bf16AttentionTiers().empty()) GTEST_SKIP() << "no AMX and no AVX-512 BF16";
  struct Case {
    AttentionShape s;
    std::vector<int64_t> segs;
    int64_t tokens;
    double tol;  // times max|v|
  };
  const Case cases[] = {
      {{16, 8, 64}, {40, 1}, 41, 0x1p-8},    {{8, 8, 64}, {70, 33}, 33, 0x1p-8},
      {{16, 4, 64}, {5, 3, 30}, 20, 0x1p-8}, {{16, 8, 128}, {900, 37}, 37, 0x1p-5},
      {{16, 8, 128}, {1}, 1, 0x1p-5},        {{4, 2, 32}, {45, 20}, 20, 0x1p-5},
      {{8, 4, 96}, {33, 31}, 31, 0x1p-5},    {{16, 8, 64, 0.015625f}, {40, 1}, 41, 0x1p-8}};
  auto bf16 = [](std::vector<float> v) {
    for (auto& x : v) x = Bf16ToF32(F32ToBf16(x));
    return v;
  };
  for (const Case& c : cases) {
    const int64_t kvd = c.s.n_kv_heads * c.s.head_dim, qd = c.s.n_heads * c.s.head_dim;
    int64_t total = 0;
    for (int64_t l : c.segs) total += l;
    const auto k = bf16(Random(static_cast<size_t>(total * kvd), 1));
    const auto v = bf16(Random(static_cast<size_t>(total * kvd), 2));
    const auto q = bf16(Random(static_cast<size_t>(c.tokens * qd), 3));
    float vmax = 0;
    for (float x : v) vmax = std::max(vmax, std::fabs(x));
    std::vector<KvSegment> segs;
    int64_t at = 0;
    for (int64_t l : c.segs) {
      segs.push_back({k.data() + at * kvd, v.data() + at * kvd, l});
      at += l;
    }
    std::vector<int64_t> pos(static_cast<size_t>(c.tokens));
    for (int64_t t = 0; t < c.tokens; ++t) pos[t] = total - c.tokens + t;
    if (c.tokens > 2) pos[1] = 0;
    std::vector<float> a(static_cast<size_t>(c.tokens * qd)), b(a.size(), NAN);
    ref_->Attention(q.data(), c.tokens, pos.data(), segs, c.s, a.data());
    for (CpuIsa isa : Bf16AttentionTiers()) {
      auto be = MakeFastCpuBackend(&pool_, Precision::kBF16, isa);
      be->Attention(q.data(), c.tokens, pos.data(), segs, c.s, b.data());
      for (size_t i = 0; i < a.size(); ++i) {
        ASSERT_NEAR(b[i], a[i], c.tol * vmax + 1e-5)
            << CpuIsaName(isa) << " heads " << c.s.n_heads << "/" << c.s.n_kv_heads << " dim "
            << c.s.head_dim << " at " << i;
      }
    }
  }
}

// A query row's attention output, bit for bit, does not depend on how its
// keys are split into segments (a cached prefix, a session's earlier
// chunks) or on which other rows are in the call, in every tier and
// precision.
TEST_F(FastBackendTest, AttentionRowsDoNotDependOnSegmentsOrBatch) {
  const AttentionShape s{16, 8, 128};
  const int64_t kvd = s.n_kv_heads * s.head_dim, qd = s.n_heads * s.head_dim;
  const int64_t total = 301, tokens = 70;
  const auto k = Random(static_cast<size_t>(total * kvd), 1, 2.f);
  const auto v = Random(static_cast<size_t>(total * kvd), 2);
  const auto q = Random(static_cast<size_t>(tokens * qd), 3, 2.f);
  std::vector<int64_t> pos(static_cast<size_t>(tokens));
  for (int64_t t = 0; t < tokens; ++t) pos[t] = total - tokens + t;
  auto split = [&](std::vector<int64_t> lens) {
    std::vector<KvSegment> segs;
    int64_t at = 0;
    for (int64_t l : lens) {
      segs.push_back({k.data() + at * kvd, v.data() + at * kvd, l});
      at += l;
    }
    return segs;
  };
  for (CpuIsa isa : Tiers()) {
    if (isa < CpuIsa::kAvx512) continue;  // the portable kernels keep no blocks
    for (Precision p : {Precision::kF32, Precision::kBF16}) {
      auto be = MakeFastCpuBackend(&pool_, p, isa);
      std::vector<float> whole(static_cast<size_t>(tokens * qd));
      be->Attention(q.data(), tokens, pos.data(), split({total}), s, whole.data());
      for (const auto& lens : {std::vector<int64_t>{231, 70}, std::vector<int64_t>{7, 30, 1, 263},
                               std::vector<int64_t>{100, 0, 201}}) {
        std::vector<float> got(whole.size(), NAN);
        be->Attention(q.data(), tokens, pos.data(), split(lens), s, got.data());
        EXPECT_EQ(std::memcmp(got.data(), whole.data(), got.size() * 4), 0)
            << Name(isa, p) << " segments " << lens.size();
      }
      for (int64_t t : {int64_t{0}, int64_t{33}, tokens - 1}) {  // one row alone
        std::vector<float> one(static_cast<size_t>(qd), NAN);
        be->Attention(q.data() + t * qd, 1, pos.data() + t, split({231, 70}), s, one.data());
        EXPECT_EQ(std::memcmp(one.data(), whole.data() + t * qd, one.size() * 4), 0)
            << Name(isa, p) << " row " << t;
      }
    }
  }
}

// A sequence's KvMemo (packed key blocks kept between calls) changes no
// bit of the attention, in every BF16 tier and precision: two sequences on a
// shared 45-row prefix grow call by call (blocks spanning the prefix and
// their own rows, a partial last block), drop their last rows and rewrite
// them with other values (the memo drops those blocks), each call against
// the same call without memos.
TEST_F(FastBackendTest, AttentionMemoChangesNoResult) {
  if (Bf16AttentionTiers().empty()) GTEST_SKIP() << "no AMX and no AVX-512 BF16";
  const AttentionShape s{16, 8, 128};
  const int64_t kvd = s.n_kv_heads * s.head_dim, qd = s.n_heads * s.head_dim;
  const int64_t prefix = 45, rows = 400;
  const auto pk = Random(static_cast<size_t>(prefix * kvd), 1, 2.f);
  const auto pv = Random(static_cast<size_t>(prefix * kvd), 2);
  const auto q = Random(static_cast<size_t>(2 * 100 * qd), 3, 2.f);
  for (CpuIsa isa : Bf16AttentionTiers()) {
    for (Precision p : {Precision::kBF16, Precision::kInt8}) {
      auto be = MakeFastCpuBackend(&pool_, p, isa);
      std::vector<float> k[2], v[2];
      KvMemo memo[2];
      int64_t own[2] = {0, 0}, last_start = 0;
      uint32_t seed = 10;
      for (int i = 0; i < 2; ++i) {
        k[i] = Random(static_cast<size_t>(rows * kvd), seed++, 2.f);
        v[i] = Random(static_cast<size_t>(rows * kvd), seed++);
        memo[i].first_block = prefix / KvMemo::kBlock;
      }
      // {new rows of sequence 0, of sequence 1, rows kept before the call}.
      const int64_t calls[][3] = {{100, 40, -1}, {34, 1, -1}, {34, 20, -1}, {20, 34, 110},
                                  {34, 34, 130}, {1, 64, -1}, {33, 0, 200}};
      for (const auto& c : calls) {
        std::vector<AttentionSequence> seqs;
        int64_t row = 0;
        for (int i = 0; i < 2; ++i) {
          if (c[2] >= 0 && c[2] < own[i]) {  // drop rows, then write others there
            own[i] = c[2];
            memo[i].Invalidate(prefix + own[i]);
            const auto fresh = Random(static_cast<size_t>((rows - own[i]) * kvd), seed++, 2.f);
            std::copy(fresh.begin(), fresh.end(), k[i].begin() + own[i] * kvd);
          }
          const int64_t add = c[i];
          if (add == 0) continue;
          AttentionSequence a;
          a.row = row;
          a.tokens = add;
          a.start = prefix + own[i];
          a.segments = {{pk.data(), pv.data(), prefix}, {k[i].data(), v[i].data(), own[i] + add}};
          a.memo = &memo[i];
          if (i == 0) last_start = a.start;
          seqs.push_back(a);
          row += add;
          own[i] += add;
        }
        std::vector<float> with(static_cast<size_t>(row * qd), NAN), without(with.size(), NAN);
        be->AttentionBatch(q.data(), seqs, s, with.data());
        for (auto& a : seqs) a.memo = nullptr;
        be->AttentionBatch(q.data(), seqs, s, without.data());
        ASSERT_EQ(std::memcmp(with.data(), without.data(), with.size() * 4), 0)
            << Name(isa, p) << " call with " << c[0] << "/" << c[1] << " new rows";
      }
      // The memos were used: every whole block of earlier rows is held.
      EXPECT_EQ(memo[0].first_block + memo[0].blocks, last_start / KvMemo::kBlock);
      EXPECT_GT(memo[1].blocks, 0);
    }
  }
}

TEST(PrecisionTest, Parse) {
  EXPECT_EQ(*ParsePrecision("fp32"), Precision::kF32);
  EXPECT_EQ(*ParsePrecision("bf16"), Precision::kBF16);
  EXPECT_EQ(*ParsePrecision("int8"), Precision::kInt8);
  auto bad = ParsePrecision("fp16");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("fp16"), std::string::npos);
}

}  // namespace
}  // namespace ccguard::kernels

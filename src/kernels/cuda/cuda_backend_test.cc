// The CUDA backend's primitives against the portable CPU backend, on fresh
// random inputs, with outputs poisoned (NaN) before each call so that an
// unwritten element fails. Skips, saying why, where no GPU is usable.
// Tolerances (max |Δ| / max |ref|): fp32 1e-5; bf16 GEMM against a float64
// product of the BF16-rounded operands 1e-3; bf16 attention 2e-2 (the
// softmax weights are rounded to BF16 too).
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>

#include "kernels/kernels.h"

namespace ccguard::kernels {
namespace {

class CudaBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto n = CudaDeviceCount();
    if (!n.ok()) GTEST_SKIP() << "no GPU: " << n.status().ToString();
    pool_ = std::make_unique<ThreadPool>(2);
    cpu_ = MakeCpuBackend(pool_.get());
  }
  std::unique_ptr<Backend> Gpu(Precision p) {
    auto be = MakeCudaBackend(0, p);
    EXPECT_TRUE(be.ok()) << be.status().ToString();
    return be.ok() ? std::move(be).value() : nullptr;
  }
  std::vector<float> Random(size_t n, float scale = 1.f) {
    std::normal_distribution<float> d(0.f, scale);
    std::vector<float> v(n);
    for (auto& x : v) x = d(rng_);
    return v;
  }
  // A device copy of `host` (kept alive by the test).
  template <class T>
  T* Up(Backend& be, const std::vector<T>& host) {
    auto b = be.Allocate(std::max<size_t>(host.size(), 1) * sizeof(T), MemoryUse::kWorkspace);
    EXPECT_TRUE(b.ok());
    be.CopyFromHost(b->get(), host.data(), host.size() * sizeof(T));
    keep_.push_back(*b);
    return static_cast<T*>(b->get());
  }
  float* Poisoned(Backend& be, size_t n) { return Up(be, std::vector<float>(n, std::nanf(""))); }
  std::vector<float> Down(Backend& be, const float* d, size_t n) {
    std::vector<float> h(n);
    Status s = be.CopyToHost(h.data(), d, n * sizeof(float));
    EXPECT_TRUE(s.ok()) << s.ToString();
    return h;
  }
  // max |a - b| / max |b|; NaN anywhere fails.
  static double RelErr(const std::vector<float>& a, const std::vector<float>& b) {
    EXPECT_EQ(a.size(), b.size());
    double worst = 0, scale = 1e-30;
    for (size_t i = 0; i < a.size(); ++i) {
      if (!std::isfinite(a[i])) return INFINITY;
      worst = std::max(worst, std::fabs(static_cast<double>(a[i]) - b[i]));
      scale = std::max(scale, std::fabs(static_cast<double>(b[i])));
    }
    return worst / scale;
  }
  static std::vector<float> RoundBf16(std::vector<float> v) {
    for (auto& x : v) x = Bf16ToF32(F32ToBf16(x));
    return v;
  }

  // Ragged sequences over prefix chains of one to three segments, against
  // the CPU backend's attention.
  void CheckAttention(Precision precision, int64_t n_heads, int64_t n_kv, int64_t hd,
                      double bound) {
    auto* t = this;
    Backend& cpu = *cpu_;
    auto be = MakeCudaBackend(0, precision);
    ASSERT_TRUE(be.ok());
    Backend& g = **be;
    const int64_t kvd = n_kv * hd, qd = n_heads * hd;
    // Segment lengths per sequence; its queries are its last `tokens` positions.
    const std::vector<std::pair<std::vector<int64_t>, int64_t>> layout = {
        {{70, 40}, 40}, {{5}, 5}, {{30, 50, 100}, 100}, {{200, 1}, 1}, {{64, 64}, 64}};
    const bool bf16 = precision == Precision::kBF16;
    std::vector<AttentionSequence> gseqs;
    std::vector<float> ref;
    int64_t rows = 0;
    std::vector<std::vector<float>> host_kv;  // keeps the CPU copies alive
    std::vector<float> q_all;
    std::vector<std::vector<KvSegment>> cpu_segs;
    std::vector<AttentionSequence> cseqs;
    for (const auto& [lens, tokens] : layout) {
      AttentionSequence gs, cs;
      int64_t total = 0;
      for (int64_t len : lens) {
        auto k = t->Random(len * kvd), v = t->Random(len * kvd);
        if (bf16) k = t->RoundBf16(k), v = t->RoundBf16(v);
        gs.segments.push_back({t->Up(g, k), t->Up(g, v), len});
        host_kv.push_back(std::move(k));
        host_kv.push_back(std::move(v));
        cs.segments.push_back({host_kv[host_kv.size() - 2].data(), host_kv.back().data(), len});
        total += len;
      }
      gs.row = cs.row = rows;
      gs.tokens = cs.tokens = tokens;
      gs.start = cs.start = total - tokens;
      rows += tokens;
      gseqs.push_back(gs);
      cseqs.push_back(cs);
    }
    q_all = t->Random(rows * qd);
    if (bf16) q_all = t->RoundBf16(q_all);
    ref.assign(rows * qd, 0.f);
    cpu.AttentionBatch(q_all.data(), cseqs, AttentionShape{n_heads, n_kv, hd}, ref.data());
    float* out = t->Poisoned(g, rows * qd);
    g.AttentionBatch(t->Up(g, q_all), gseqs, AttentionShape{n_heads, n_kv, hd}, out);
    const double err = t->RelErr(t->Down(g, out, rows * qd), ref);
    std::printf(
        "GPUCHECK {\"kernel\": \"attention\", \"compute\": \"%s\", \"heads\": %lld, "
        "\"kv_heads\": %lld, \"head_dim\": %lld, \"rel_err\": %.3g}\n",
        PrecisionName(precision), static_cast<long long>(n_heads), static_cast<long long>(n_kv),
        static_cast<long long>(hd), err);
    EXPECT_LE(err, bound) << PrecisionName(precision) << " heads " << n_heads << "/" << n_kv
                          << " head_dim " << hd;
  }

  std::mt19937 rng_{std::random_device{}()};
  std::unique_ptr<ThreadPool> pool_;
  std::unique_ptr<Backend> cpu_;
  std::vector<std::shared_ptr<void>> keep_;
};

TEST_F(CudaBackendTest, MatMulFp32AndBf16) {
  const int64_t m = 37, k = 96, n = 130;
  const auto x = Random(m * k), w = Random(n * k, 0.2f);
  std::vector<float> ref(m * n);
  cpu_->MatMul(x.data(), m, Matrix{DType::kF32, w.data(), n, k}, ref.data());

  auto g32 = Gpu(Precision::kF32);
  ASSERT_TRUE(g32);
  auto p32 = g32->Prepare(Matrix{DType::kF32, w.data(), n, k});
  ASSERT_TRUE(p32.ok());
  float* y = Poisoned(*g32, m * n);
  g32->MatMul(Up(*g32, x), m, p32->matrix, y);
  const double e32 = RelErr(Down(*g32, y, m * n), ref);
  EXPECT_LE(e32, 1e-5);

  // bf16: against the product of the rounded operands in double.
  const auto xb = RoundBf16(x), wb = RoundBf16(w);
  std::vector<float> ref_b(m * n);
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t j = 0; j < n; ++j) {
      double s = 0;
      for (int64_t c = 0; c < k; ++c) s += static_cast<double>(xb[i * k + c]) * wb[j * k + c];
      ref_b[i * n + j] = static_cast<float>(s);
    }
  }
  auto g16 = Gpu(Precision::kBF16);
  ASSERT_TRUE(g16);
  auto p16 = g16->Prepare(Matrix{DType::kF32, w.data(), n, k});
  ASSERT_TRUE(p16.ok());
  EXPECT_EQ(p16->matrix.dtype, DType::kBF16);
  float* y16 = Poisoned(*g16, m * n);
  g16->MatMul(Up(*g16, x), m, p16->matrix, y16);
  const double e16 = RelErr(Down(*g16, y16, m * n), ref_b);
  EXPECT_LE(e16, 1e-3);
  std::printf("GPUCHECK {\"kernel\": \"matmul\", \"fp32_rel_err\": %.3g, \"bf16_rel_err\": %.3g}\n",
              e32, e16);
}

// A row's result does not depend on how many rows share the call.
TEST_F(CudaBackendTest, MatMulRowsDoNotDependOnBatchSize) {
  const int64_t k = 2048, n = 1024;
  const auto w = Random(n * k, 0.05f);
  for (Precision p : {Precision::kF32, Precision::kBF16}) {
    auto g = Gpu(p);
    ASSERT_TRUE(g);
    auto pw = g->Prepare(Matrix{DType::kF32, w.data(), n, k});
    ASSERT_TRUE(pw.ok());
    const auto x = Random(1000 * k);
    float* xd = Up(*g, x);
    int64_t differing = 0;
    std::vector<float> ref;
    for (int64_t m : {1000, 1, 7, 64, 333}) {
      float* y = Poisoned(*g, m * n);
      g->MatMul(xd, m, pw->matrix, y);
      const auto got = Down(*g, y, m * n);
      if (ref.empty()) {
        ref = got;
        continue;
      }
      differing += std::memcmp(got.data(), ref.data(), got.size() * sizeof(float)) != 0;
    }
    std::printf(
        "GPUCHECK {\"kernel\": \"matmul_batch_invariance\", \"compute\": \"%s\", "
        "\"batch_sizes_differing\": %lld}\n",
        PrecisionName(p), static_cast<long long>(differing));
    EXPECT_EQ(differing, 0) << PrecisionName(p);
  }
}

TEST_F(CudaBackendTest, ElementwiseOpsAndEmbedding) {
  auto g = Gpu(Precision::kF32);
  ASSERT_TRUE(g);
  const int64_t rows = 50, dim = 2048, hd = 128, heads = 16, tokens = 50;
  // RmsNorm (also in place, per head).
  const auto x = Random(rows * dim, 3.f), w = Random(dim);
  std::vector<float> ref(rows * dim);
  cpu_->RmsNorm(x.data(), w.data(), rows, dim, 1e-6f, ref.data());
  float* out = Poisoned(*g, rows * dim);
  g->RmsNorm(Up(*g, x), Up(*g, w), rows, dim, 1e-6f, out);
  EXPECT_LE(RelErr(Down(*g, out, rows * dim), ref), 1e-6);
  const auto wh = Random(hd);
  cpu_->RmsNorm(x.data(), wh.data(), rows * dim / hd, hd, 1e-6f, ref.data());
  float* xin = Up(*g, x);
  g->RmsNorm(xin, Up(*g, wh), rows * dim / hd, hd, 1e-6f, xin);
  EXPECT_LE(RelErr(Down(*g, xin, rows * dim), ref), 1e-6);
  // RoPE at long positions.
  std::vector<int64_t> pos(tokens);
  for (int64_t t = 0; t < tokens; ++t) pos[t] = 40000 - 700 * t;
  auto r = x;
  cpu_->Rope(r.data(), tokens, heads, hd, pos.data(), RopeSpec{1e6});
  float* rd = Up(*g, x);
  g->Rope(rd, tokens, heads, hd, Up(*g, pos), RopeSpec{1e6});
  EXPECT_LE(RelErr(Down(*g, rd, tokens * heads * hd), r), 1e-5);
  const RopeSpec llama3{5e5, 32, 1, 4, 8192};  // Llama 3 scaled frequencies
  r = x;
  cpu_->Rope(r.data(), tokens, heads, hd, pos.data(), llama3);
  rd = Up(*g, x);
  g->Rope(rd, tokens, heads, hd, Up(*g, pos), llama3);
  EXPECT_LE(RelErr(Down(*g, rd, tokens * heads * hd), r), 1e-5);
  // SiLU·mul and the residual add.
  const auto up = Random(rows * dim);
  std::vector<float> s(rows * dim);
  cpu_->SiluMul(x.data(), up.data(), rows * dim, s.data());
  float* sd = Up(*g, x);
  g->SiluMul(sd, Up(*g, up), rows * dim, sd);
  EXPECT_LE(RelErr(Down(*g, sd, rows * dim), s), 1e-6);
  std::vector<float> sum(rows * dim);
  for (size_t i = 0; i < sum.size(); ++i) sum[i] = x[i] + up[i];
  float* ad = Up(*g, x);
  g->Add(ad, Up(*g, up), rows * dim, 1.f);
  EXPECT_EQ(RelErr(Down(*g, ad, rows * dim), sum), 0.0);
  // Granite's scaled residual and the plain scale.
  for (size_t i = 0; i < sum.size(); ++i) sum[i] = (x[i] + 0.22f * up[i]) * 12.f;
  ad = Up(*g, x);
  g->Add(ad, Up(*g, up), rows * dim, 0.22f);
  g->Scale(ad, rows * dim, 12.f);
  EXPECT_LE(RelErr(Down(*g, ad, rows * dim), sum), 1e-6);
  // Embedding rows from F32 and BF16 tables.
  const int64_t vocab = 1000, cols = 96;
  const auto table = Random(vocab * cols);
  const std::vector<int32_t> ids = {0, 999, 5, 5, 123};
  for (Precision p : {Precision::kF32, Precision::kBF16}) {
    auto ge = Gpu(p);
    ASSERT_TRUE(ge);
    auto t = ge->Upload(Matrix{DType::kF32, table.data(), vocab, cols});
    ASSERT_TRUE(t.ok());
    float* e = Poisoned(*ge, ids.size() * cols);
    ge->Embed(t->matrix, Up(*ge, ids), static_cast<int64_t>(ids.size()), e);
    const auto got = Down(*ge, e, ids.size() * cols);
    for (size_t i = 0; i < ids.size(); ++i) {
      for (int64_t c = 0; c < cols; ++c) {
        const float want = table[ids[i] * cols + c];
        EXPECT_EQ(got[i * cols + c], p == Precision::kF32 ? want : Bf16ToF32(F32ToBf16(want)));
      }
    }
  }
}

TEST_F(CudaBackendTest, AttentionFp32AndBf16OverSharedPrefixes) {
  for (auto [h, kv, d] : {std::tuple<int64_t, int64_t, int64_t>{4, 2, 16},
                          {16, 8, 128},
                          {8, 8, 64},
                          {8, 2, 32},
                          {4, 4, 80}}) {
    CheckAttention(Precision::kF32, h, kv, d, 1e-5);
    CheckAttention(Precision::kBF16, h, kv, d, 2e-2);
  }
}

TEST_F(CudaBackendTest, CopyManyAndLabelStats) {
  auto g = Gpu(Precision::kBF16);
  ASSERT_TRUE(g);
  // Copies of aligned and odd sizes into one buffer.
  const auto src = Random(3000);
  float* s = Up(*g, src);
  float* d = Poisoned(*g, 3000);
  std::vector<Memory::CopyOp> ops;
  for (int64_t at = 0; at < 3000;) {
    const int64_t n = std::min<int64_t>(3000 - at, 1 + (at * 7) % 517);
    ops.push_back({d + at, s + at, static_cast<size_t>(n) * 4});
    at += n;
  }
  ops.push_back({reinterpret_cast<char*>(d) + 1, reinterpret_cast<const char*>(s) + 1, 2});
  g->CopyMany(ops);
  EXPECT_EQ(RelErr(Down(*g, d, 3000), src), 0.0) << ops.size() << " copies";
  // Label logits and the log-sum-exp over a 151936-entry vocabulary.
  const int64_t rows = 5, vocab = 151936;
  const auto logits = Random(rows * vocab, 4.f);
  const std::vector<int32_t> ids = {18675, 38157, 0};
  std::vector<double> want, got;
  ASSERT_TRUE(cpu_->LabelStats(logits.data(), rows, vocab, ids, &want).ok());
  ASSERT_TRUE(g->LabelStats(Up(*g, logits), rows, vocab, ids, &got).ok());
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-9) << i;
}

// Not a check: the speed of each primitive at the shapes of a Qwen3-1.7B
// prefill of 8 x 1,024 tokens, printed for scripts/gpu-check.sh (time is
// never asserted).
TEST_F(CudaBackendTest, TimingsAtQwen3Shapes) {
  using Clock = std::chrono::steady_clock;
  const int64_t T = 8192, H = 2048, I = 6144;
  for (Precision p : {Precision::kBF16, Precision::kF32}) {
    auto g = Gpu(p);
    ASSERT_TRUE(g);
    auto time = [&](auto&& fn, int reps) {
      fn();
      EXPECT_TRUE(g->Synchronize().ok());
      const auto t0 = Clock::now();
      for (int r = 0; r < reps; ++r) fn();
      EXPECT_TRUE(g->Synchronize().ok());
      return std::chrono::duration<double>(Clock::now() - t0).count() / reps;
    };
    float* x = Up(*g, Random(T * I));
    float* y = Poisoned(*g, T * I);
    for (auto [n, k] : {std::pair<int64_t, int64_t>{H, H}, {1024, H}, {I, H}, {H, I}}) {
      auto w = g->Prepare(Matrix{DType::kF32, Random(n * k, 0.02f).data(), n, k});
      ASSERT_TRUE(w.ok());
      // A fresh input each call (no reuse of its BF16 copy): x, then y.
      int flip = 0;
      const double s = time(
          [&] {
            const bool odd = flip++ % 2;
            g->MatMul(odd ? y : x, T, w->matrix, odd ? x : y);
          },
          10);
      std::printf(
          "GPUCHECK {\"timing\": \"matmul\", \"compute\": \"%s\", \"m\": %lld, "
          "\"n\": %lld, \"k\": %lld, \"us\": %.1f, \"tflops\": %.1f}\n",
          PrecisionName(p), static_cast<long long>(T), static_cast<long long>(n),
          static_cast<long long>(k), s * 1e6, 2.0 * T * n * k / s / 1e12);
    }
    // Causal attention, 8 sequences of 1,024 tokens, 16 query / 8 KV heads of 128.
    const int64_t seq = 1024, nh = 16, nkv = 8, hd = 128;
    float* k = Up(*g, Random(T * nkv * hd));
    float* v = Up(*g, Random(T * nkv * hd));
    std::vector<AttentionSequence> seqs;
    for (int64_t s = 0; s < 8; ++s) {
      seqs.push_back({s * seq, seq, 0, {{k + s * seq * nkv * hd, v + s * seq * nkv * hd, seq}}});
    }
    const double sa = time([&] { g->AttentionBatch(x, seqs, {nh, nkv, hd}, y); }, 10);
    const double flops = 4.0 * nh * hd * 8 * (seq * (seq + 1) / 2.0);
    std::printf(
        "GPUCHECK {\"timing\": \"attention\", \"compute\": \"%s\", \"us\": %.1f, "
        "\"tflops\": %.1f}\n",
        PrecisionName(p), sa * 1e6, flops / sa / 1e12);
    const double sn = time([&] { g->RmsNorm(x, x + T * H, T, H, 1e-6f, y); }, 10);
    const double ss = time([&] { g->SiluMul(x, y, T * I, y); }, 10);
    const int64_t* pos = Up(*g, std::vector<int64_t>(T, 777));
    const double sr = time([&] { g->Rope(y, T, nh, hd, pos, RopeSpec{1e6}); }, 3);
    std::printf(
        "GPUCHECK {\"timing\": \"elementwise\", \"compute\": \"%s\", "
        "\"rmsnorm_8192x2048_us\": %.1f, \"silu_mul_8192x6144_us\": %.1f, "
        "\"rope_8192x16x128_us\": %.1f}\n",
        PrecisionName(p), sn * 1e6, ss * 1e6, sr * 1e6);
  }
}

TEST_F(CudaBackendTest, ErrorsAreReportedNotThrown) {
  auto g = Gpu(Precision::kBF16);
  ASSERT_TRUE(g);
  auto huge = g->Allocate(size_t{1} << 50, MemoryUse::kWorkspace);
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.status().code(), Status::Code::kResourceExhausted);
  EXPECT_NE(huge.status().message().find("free of"), std::string::npos);
  auto free_b = g->FreeBytes();
  ASSERT_TRUE(free_b.ok());
  EXPECT_GT(*free_b, 0);
  EXPECT_TRUE(g->Synchronize().ok());  // a refused allocation does not poison the backend
  auto missing = MakeCudaBackend(999, Precision::kBF16);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("cuda:999 does not exist"), std::string::npos);
}

}  // namespace
}  // namespace ccguard::kernels

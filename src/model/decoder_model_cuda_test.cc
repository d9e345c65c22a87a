// The forward pass on a GPU (--device cuda): golden parity of tiny-a and of
// the Llama and Granite architecture goldens in fp32
// (the fixture tolerances: |Δ logprob| <= 1e-3, |Δ p_unsafe| <= 1e-4), bf16
// within the CPU bf16 bound (0.02), and the same score for an item alone, in
// a ragged batch, or continued from a prefix cache (fp32 <= 1e-6, bf16 <=
// 1e-3; the measured values are printed on GPUCHECK lines for
// scripts/gpu-check.sh). Skips, saying why, where no GPU is usable; the
// refusals that need no GPU are tested everywhere.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "model/architecture_golden.h"
#include "model/decoder_model.h"
#include "util/json_file.h"

namespace ccguard {
namespace {

// CCGUARD_FIXTURES_DIR overrides the build tree's fixtures (scripts/gpu-check.sh
// runs this program from a bundle on another machine).
const std::string kFix = [] {
  const char* e = std::getenv("CCGUARD_FIXTURES_DIR");
  return std::string(e && *e ? e : CCGUARD_FIXTURES);
}();
const std::string kBase = kFix + "/tiny-a/base";
const std::string kAdapter = kFix + "/tiny-a/adapter";
constexpr int32_t kSafe = 18675, kUnsafe = 38157;

struct Score {
  double logprob_safe, logprob_unsafe, p_unsafe;
};

Score Stats(const std::vector<float>& logits) {
  double maxv = *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  for (float v : logits) sum += std::exp(v - maxv);
  const double lse = maxv + std::log(sum);
  const double ls = logits[kSafe], lu = logits[kUnsafe];
  return {ls - lse, lu - lse, 1.0 / (1.0 + std::exp(ls - lu))};
}

std::unique_ptr<DecoderModel> Load(const std::string& compute, const LoraAdapter* adapter) {
  auto o = ModelOptions::Parse(compute, "cuda");
  EXPECT_TRUE(o.ok()) << o.status().ToString();
  if (!o.ok()) return nullptr;
  auto m = DecoderModel::Load(kBase, adapter, *o);
  EXPECT_TRUE(m.ok()) << m.status().ToString();
  return m.ok() ? std::move(m).value() : nullptr;
}

std::vector<std::vector<int32_t>> Cases() {
  std::vector<std::vector<int32_t>> out;
  const Json g = *ReadJsonFile(kFix + "/tiny-a/golden.json");
  for (const Json& c : g["cases"]) out.push_back(c["input_ids"].get<std::vector<int32_t>>());
  return out;
}

// Each sequence scored alone.
std::vector<Score> Alone(DecoderModel& m, const std::vector<std::vector<int32_t>>& seqs) {
  std::vector<Score> out;
  for (const auto& ids : seqs) {
    auto cache = m.NewCache();
    std::vector<SequenceInput> b = {{ids, cache.get()}};
    std::vector<std::vector<float>> logits;
    Status s = m.Forward(b, &logits);
    EXPECT_TRUE(s.ok()) << s.ToString();
    if (!s.ok()) return {};
    out.push_back(Stats(logits[0]));
  }
  return out;
}

class CudaModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto n = kernels::CudaDeviceCount();
    if (!n.ok()) GTEST_SKIP() << "no GPU: " << n.status().ToString();
  }
};

TEST_F(CudaModelTest, GoldenParityFp32) {
  const Json g = *ReadJsonFile(kFix + "/tiny-a/golden.json");
  auto adapter = LoraAdapter::Open(kAdapter);
  ASSERT_TRUE(adapter.ok());
  for (bool with_adapter : {false, true}) {
    auto m = Load("fp32", with_adapter ? adapter->get() : nullptr);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->device(), "cuda:0");
    const auto got = Alone(*m, Cases());
    ASSERT_EQ(got.size(), g["cases"].size());
    double dl = 0, dp = 0;
    for (size_t i = 0; i < got.size(); ++i) {
      const Json& e = g["cases"][i]["fp32"][with_adapter ? "adapter" : "base"];
      dl = std::max({dl, std::fabs(got[i].logprob_safe - e["logprob_safe"].get<double>()),
                     std::fabs(got[i].logprob_unsafe - e["logprob_unsafe"].get<double>())});
      dp = std::max(dp, std::fabs(got[i].p_unsafe - e["p_unsafe"].get<double>()));
    }
    std::printf(
        "GPUCHECK {\"check\": \"golden_fp32\", \"adapter\": %s, \"cases\": %zu, "
        "\"max_abs_dlogprob\": %.3g, \"max_abs_dp_unsafe\": %.3g}\n",
        with_adapter ? "true" : "false", got.size(), dl, dp);
    EXPECT_LE(dl, 1e-3);
    EXPECT_LE(dp, 1e-4);
  }
}

TEST_F(CudaModelTest, Bf16WithinTheCpuBf16Bound) {
  auto adapter = LoraAdapter::Open(kAdapter);
  ASSERT_TRUE(adapter.ok());
  for (bool with_adapter : {false, true}) {
    const LoraAdapter* a = with_adapter ? adapter->get() : nullptr;
    auto ref = DecoderModel::Load(kBase, a);  // CPU fp32
    ASSERT_TRUE(ref.ok());
    auto m = Load("bf16", a);
    ASSERT_TRUE(m);
    const auto want = Alone(**ref, Cases());
    const auto got = Alone(*m, Cases());
    ASSERT_EQ(got.size(), want.size());
    double dp = 0;
    for (size_t i = 0; i < got.size(); ++i) {
      dp = std::max(dp, std::fabs(got[i].p_unsafe - want[i].p_unsafe));
    }
    std::printf(
        "GPUCHECK {\"check\": \"bf16_vs_cpu_fp32\", \"adapter\": %s, "
        "\"max_abs_dp_unsafe\": %.3g}\n",
        with_adapter ? "true" : "false", dp);
    EXPECT_LE(dp, 0.02);
  }
}

// Alone, all in one ragged batch, and continued from a shared prefix cache.
TEST_F(CudaModelTest, SameScoreAloneBatchedOrCached) {
  auto adapter = LoraAdapter::Open(kAdapter);
  ASSERT_TRUE(adapter.ok());
  const auto seqs = Cases();
  for (const auto& [compute, bound] :
       {std::pair<std::string, double>{"fp32", 1e-6}, {"bf16", 1e-3}}) {
    auto m = Load(compute, adapter->get());
    ASSERT_TRUE(m);
    const auto alone = Alone(*m, seqs);
    // One batch.
    std::vector<std::unique_ptr<KvCache>> caches;
    std::vector<SequenceInput> batch;
    for (const auto& ids : seqs) {
      caches.push_back(m->NewCache());
      batch.push_back({ids, caches.back().get()});
    }
    std::vector<std::vector<float>> logits;
    ASSERT_TRUE(m->Forward(batch, &logits).ok());
    double d_batch = 0;
    for (size_t i = 0; i < seqs.size(); ++i) {
      d_batch = std::max(d_batch, std::fabs(Stats(logits[i]).p_unsafe - alone[i].p_unsafe));
    }
    // Through a prefix: the first half of each sequence prefilled, then the
    // rest of every sequence in one batch on top of its own prefix.
    std::vector<std::unique_ptr<KvCache>> prefixes, rests;
    std::vector<SequenceInput> heads, tails;
    for (const auto& ids : seqs) {
      const size_t half = ids.size() / 2;
      if (half == 0) continue;
      prefixes.push_back(m->NewCache());
      heads.push_back({std::span<const int32_t>(ids).first(half), prefixes.back().get()});
    }
    ASSERT_TRUE(m->Forward(heads, nullptr).ok());
    size_t p = 0;
    std::vector<size_t> which;
    for (size_t i = 0; i < seqs.size(); ++i) {
      const size_t half = seqs[i].size() / 2;
      if (half == 0) continue;
      rests.push_back(m->NewCache(prefixes[p++].get()));
      tails.push_back({std::span<const int32_t>(seqs[i]).subspan(half), rests.back().get()});
      which.push_back(i);
    }
    ASSERT_TRUE(m->Forward(tails, &logits).ok());
    double d_cache = 0;
    for (size_t j = 0; j < which.size(); ++j) {
      d_cache = std::max(d_cache, std::fabs(Stats(logits[j]).p_unsafe - alone[which[j]].p_unsafe));
    }
    std::printf(
        "GPUCHECK {\"check\": \"invariance\", \"compute\": \"%s\", "
        "\"max_abs_dp_batched_vs_alone\": %.3g, \"max_abs_dp_cached_vs_alone\": %.3g}\n",
        compute.c_str(), d_batch, d_cache);
    EXPECT_LE(d_batch, bound) << compute;
    EXPECT_LE(d_cache, bound) << compute;
  }
}

// The other architectures (Llama with llama3 RoPE, Granite's multipliers:
// architecture_golden.h) on the GPU: fp32 against llama.cpp's logits within
// the fixture tolerance (|Δ logprob| <= 1e-3), bf16 within the CPU's bf16
// bound (0.06) of the CPU's fp32.
TEST_F(CudaModelTest, ArchitectureGoldens) {
  for (const char* name : {"llama", "granite"}) {
    testing::GoldenModel g(name);
    ASSERT_TRUE(g.ready()) << name;
    const double fp32 = g.ExpectMatches(g.LogProbs("fp32", "cuda"), 1e-3);
    const double bf16 = testing::MaxAbsDiff(g.LogProbs("bf16", "cuda"), g.LogProbs("fp32"));
    EXPECT_LE(bf16, 0.06) << name;
    std::printf(
        "GPUCHECK {\"check\": \"architecture\", \"architecture\": \"%s\", "
        "\"fp32_max_dlogprob_vs_llama_cpp\": %.3g, \"bf16_max_dlogprob_vs_cpu_fp32\": %.3g}\n",
        name, fp32, bf16);
  }
}

TEST_F(CudaModelTest, RefusesWhatDoesNotFitWithTheFigures) {
  ModelOptions o = *ModelOptions::Parse("fp32", "cuda");
  o.max_batch_tokens = int64_t{1} << 34;
  auto m = DecoderModel::Load(kBase, nullptr, o);
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), Status::Code::kResourceExhausted);
  EXPECT_NE(m.status().message().find("does not fit on cuda:0"), std::string::npos);
  EXPECT_NE(m.status().message().find("GiB are free"), std::string::npos);
}

// Needs no GPU: what a CUDA request says where it cannot run, and int8.
TEST(CudaModelRefusalTest, ClearErrors) {
  ModelOptions o = *ModelOptions::Parse("int8", "cuda");
  auto m = DecoderModel::Load(kBase, nullptr, o);
  ASSERT_FALSE(m.ok());
  if (kernels::CudaBuiltIn()) {
    EXPECT_NE(m.status().message().find("int8 is not available on CUDA"), std::string::npos);
  } else {
    EXPECT_NE(m.status().message().find("built without CUDA"), std::string::npos);
  }
  auto tpu = ModelOptions::Parse("int8", "tpu");
  ASSERT_FALSE(tpu.ok());
  EXPECT_NE(tpu.status().message().find("device 'tpu'"), std::string::npos);
  if (!kernels::CudaDeviceCount().ok()) {
    o = *ModelOptions::Parse("bf16", "cuda:1");
    m = DecoderModel::Load(kBase, nullptr, o);
    ASSERT_FALSE(m.ok());
    EXPECT_EQ(m.status().message(), kernels::CudaDeviceCount().status().message());
  }
}

// Needs no GPU: the fit check's arithmetic on the Qwen3-1.7B shapes.
TEST(DeviceMemoryPlanTest, Qwen3_1_7BShapes) {
  ModelConfig c;
  c.vocab_size = 151936;
  c.hidden_size = 2048;
  c.intermediate_size = 6144;
  c.num_hidden_layers = 28;
  c.num_attention_heads = 16;
  c.num_key_value_heads = 8;
  c.head_dim = 128;
  c.tie_word_embeddings = true;
  c.qk_norm = true;
  const DeviceMemoryPlan bf16 = DeviceMemoryNeeded(c, kernels::Precision::kBF16, 16384, 18432);
  // 1.41 G linear + 0.31 G embedding parameters in BF16, norms in float32.
  const int64_t params = 28 * (2048 * 2048 * 2 + 1024 * 2048 * 2 + 3 * 6144 * 2048) + 151936 * 2048;
  EXPECT_EQ(bf16.weights, params * 2 + (28 * (2 * 2048 + 2 * 128) + 2048) * 4);
  EXPECT_EQ(bf16.kv, int64_t{18432} * 28 * 1024 * 2 * 4);  // 229,376 bytes a position
  EXPECT_GT(bf16.workspace, int64_t{16384} * (2048 * 3 + 6144 * 2) * 4);
  EXPECT_EQ(bf16.total(), bf16.weights + bf16.kv + bf16.workspace);
  const DeviceMemoryPlan fp32 = DeviceMemoryNeeded(c, kernels::Precision::kF32, 16384, 18432);
  EXPECT_EQ(fp32.weights - bf16.weights, params * 2);
  c.qk_norm = false;  // Llama, Granite: no q/k norm vectors
  EXPECT_EQ(bf16.weights - DeviceMemoryNeeded(c, kernels::Precision::kBF16, 16384, 18432).weights,
            int64_t{28} * 2 * 128 * 4);
  c.qk_norm = true;
  c.tie_word_embeddings = false;  // a separate LM head
  EXPECT_EQ(DeviceMemoryNeeded(c, kernels::Precision::kBF16, 16384, 18432).weights - bf16.weights,
            int64_t{151936} * 2048 * 2);
}

}  // namespace
}  // namespace ccguard

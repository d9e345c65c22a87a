// Golden logits for the architectures beside Qwen3: Llama (no q/k norm,
// llama3 RoPE scaling, untied head; Llama Guard 3 1B's config fields) and
// Granite (embedding/attention/residual multipliers, logits scaling; Granite
// Guardian 3.1 2B's fields). Each golden file holds the spec of a random
// model (random_model.h), the SHA-256 of the safetensors it writes, and
// logits that llama.cpp computed from those files, cross-checked with a
// float64 numpy forward pass (tests/fixtures/architectures/README.md).
//   fp32: |Δ logprob| <= 1e-3 on the ten most likely and 24 probe ids,
//         the same top-5 ids wherever the golden's gaps exceed 1e-3;
//   on a GPU (when one is usable): fp32 as above, bf16 as below;
//   bf16: |Δ logprob| <= 0.06, int8: <= 0.2, against our fp32 (about twice
//         what was measured: these random weights, std 0.15, make logits far
//         more sensitive to rounding than a trained model's).
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "model/decoder_model.h"
#include "model/random_model.h"
#include "util/digest.h"
#include "util/json_file.h"

namespace ccguard {
namespace {

namespace fs = std::filesystem;

// CCGUARD_FIXTURES_DIR overrides the build tree's fixtures (scripts/gpu-check.sh
// runs this program from a bundle on a GPU machine).
const std::string kDir = [] {
  const char* e = std::getenv("CCGUARD_FIXTURES_DIR");
  return std::string(e && *e ? e : CCGUARD_FIXTURES) + "/architectures";
}();

class ArchitectureGoldenTest : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    auto g = ReadJsonFile(kDir + "/" + GetParam() + ".golden.json");
    ASSERT_TRUE(g.ok()) << g.status().ToString();
    golden_ = *g;
    uint64_t seed = 0;
    auto shape = RandomModelShapeFromJson(golden_["generator"], &seed);
    ASSERT_TRUE(shape.ok()) << shape.status().ToString();
    dir_ = fs::temp_directory_path() /
           ("ccguard_arch_" + std::string(GetParam()) + "_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    ASSERT_TRUE(EnsureRandomModel(dir_.string(), "", *shape, seed).ok());
    // The very files the goldens were computed from.
    for (const auto& [name, sha] : golden_["files"].items()) {
      auto got = Sha256File((dir_ / "base" / name).string());
      ASSERT_TRUE(got.ok()) << got.status().ToString();
      ASSERT_EQ(*got, sha.get<std::string>()) << name << ": the generator changed";
    }
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Log-probabilities of the last position of every case, in the golden's id order
  // (top10 then probe).
  std::vector<std::vector<double>> LogProbs(const std::string& compute,
                                            const std::string& device = "cpu") {
    ModelOptions o;
    o.compute = compute;
    o.device = device;
    auto model = DecoderModel::Load((dir_ / "base").string(), nullptr, o);
    EXPECT_TRUE(model.ok()) << model.status().ToString();
    if (!model.ok()) return {};
    EXPECT_TRUE((*model)->warnings().empty());
    std::vector<std::vector<double>> out;
    for (const Json& c : golden_["cases"]) {
      const auto ids = c["input_ids"].get<std::vector<int32_t>>();
      auto cache = (*model)->NewCache();
      std::vector<SequenceInput> batch = {{ids, cache.get()}};
      std::vector<std::vector<float>> logits;
      EXPECT_TRUE((*model)->Forward(batch, &logits).ok());
      const std::vector<float>& l = logits[0];
      const double mx = *std::max_element(l.begin(), l.end());
      double sum = 0;
      for (float v : l) sum += std::exp(v - mx);
      const double lse = mx + std::log(sum);
      std::vector<double> lp;
      for (const char* key : {"top10", "probe"}) {
        for (const Json& p : c[key]) lp.push_back(l[p[0].get<int32_t>()] - lse);
      }
      out.push_back(std::move(lp));
    }
    return out;
  }

  Json golden_;
  fs::path dir_;
};

// Checks `got` (LogProbs) against the golden: returns the largest |Δ logprob|.
double ExpectGolden(const Json& golden, const std::vector<std::vector<double>>& got);

TEST_P(ArchitectureGoldenTest, Fp32MatchesLlamaCpp) {
  const double worst = ExpectGolden(golden_, LogProbs("fp32"));
  std::printf("%s fp32: max |dlogprob| vs llama.cpp %.3g\n", GetParam(), worst);
}

// The same on a GPU (--device cuda), fp32 and bf16 (bf16 within the CPU's
// bf16 bound of our fp32); skipped where none is usable. The measured values
// go to GPUCHECK lines for scripts/gpu-check.sh.
TEST_P(ArchitectureGoldenTest, CudaMatchesLlamaCppAndCpu) {
  if (auto n = kernels::CudaDeviceCount(); !n.ok()) {
    GTEST_SKIP() << "no GPU: " << n.status().ToString();
  }
  const double worst = ExpectGolden(golden_, LogProbs("fp32", "cuda"));
  const auto cpu = LogProbs("fp32"), gpu = LogProbs("bf16", "cuda");
  ASSERT_EQ(gpu.size(), cpu.size());
  double bf16 = 0;
  for (size_t i = 0; i < cpu.size(); ++i) {
    for (size_t k = 0; k < cpu[i].size(); ++k)
      bf16 = std::max(bf16, std::fabs(gpu[i][k] - cpu[i][k]));
  }
  EXPECT_LE(bf16, 0.06);
  std::printf(
      "GPUCHECK {\"architecture\": \"%s\", \"fp32_max_dlogprob_vs_llama_cpp\": %.3g, "
      "\"bf16_max_dlogprob_vs_cpu_fp32\": %.3g}\n",
      GetParam(), worst, bf16);
}

double ExpectGolden(const Json& golden, const std::vector<std::vector<double>>& got) {
  const Json& golden_ = golden;
  if (got.size() != golden_["cases"].size()) {
    ADD_FAILURE() << "scored " << got.size() << " of " << golden_["cases"].size() << " cases";
    return INFINITY;
  }
  double worst = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const Json& c = golden_["cases"][i];
    const double lse = c["logsumexp"].get<double>();
    size_t k = 0;
    for (const char* key : {"top10", "probe"}) {
      for (const Json& p : c[key]) {
        const double want = p[1].get<double>() - lse;
        EXPECT_NEAR(got[i][k], want, 1e-3) << c["name"] << " id " << p[0];
        worst = std::max(worst, std::fabs(got[i][k] - want));
        ++k;
      }
    }
    // The top-5 order, where the golden's neighbouring gaps allow it.
    for (size_t r = 0; r + 1 < 5; ++r) {
      const double gap = c["top10"][r][1].get<double>() - c["top10"][r + 1][1].get<double>();
      if (gap > 1e-3) {
        EXPECT_GT(got[i][r], got[i][r + 1]) << c["name"] << " rank " << r;
      }
    }
  }
  return worst;
}

TEST_P(ArchitectureGoldenTest, Bf16AndInt8WithinBoundsOfFp32) {
  const auto ref = LogProbs("fp32");
  for (const auto& [compute, bound] :
       {std::pair<std::string, double>{"bf16", 0.06}, {"int8", 0.2}}) {
    const auto got = LogProbs(compute);
    ASSERT_EQ(got.size(), ref.size());
    double worst = 0;
    for (size_t i = 0; i < ref.size(); ++i) {
      for (size_t k = 0; k < ref[i].size(); ++k) {
        worst = std::max(worst, std::fabs(got[i][k] - ref[i][k]));
      }
    }
    std::printf("%s %s: max |dlogprob| vs fp32 %.3g\n", GetParam(), compute.c_str(), worst);
    EXPECT_LE(worst, bound) << compute;
  }
}

INSTANTIATE_TEST_SUITE_P(Goldens, ArchitectureGoldenTest, ::testing::Values("llama", "granite"));

}  // namespace
}  // namespace ccguard

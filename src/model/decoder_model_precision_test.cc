// The accuracy cost of the bf16 and int8 compute modes on the tiny-a fixture:
// max |Δ p_unsafe| (and |Δ logit|) against fp32 over every golden case, with
// and without the LoRA adapter. Bounds (measured values are printed):
//   bf16  |Δ p_unsafe| <= 0.02
//   int8  |Δ p_unsafe| <= 0.05
// tiny-a's random weights (and a LoRA as large as the base weights) make its
// logits far more sensitive than a trained model's; see `ccguard bench
// --accuracy` for the full-size random model.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "model/decoder_model.h"
#include "util/json_file.h"

namespace ccguard {
namespace {

const std::string kFix = CCGUARD_FIXTURES;
const std::string kBase = kFix + "/tiny-a/base";
const std::string kAdapter = kFix + "/tiny-a/adapter";
constexpr int32_t kSafe = 18675, kUnsafe = 38157;

struct Scores {
  std::vector<double> p_unsafe, logit_unsafe;
};

Scores ScoreCases(const std::string& compute, const LoraAdapter* adapter) {
  ModelOptions o = *ModelOptions::Parse(compute, "cpu");
  auto model = DecoderModel::Load(kBase, adapter, o);
  EXPECT_TRUE(model.ok()) << model.status().ToString();
  if (!model.ok()) return {};
  const Json golden = *ReadJsonFile(kFix + "/tiny-a/golden.json");
  Scores s;
  for (const Json& c : golden["cases"]) {
    std::vector<int32_t> ids = c["input_ids"].get<std::vector<int32_t>>();
    auto cache = (*model)->NewCache();
    std::vector<SequenceInput> batch = {{ids, cache.get()}};
    std::vector<std::vector<float>> logits;
    EXPECT_TRUE((*model)->Forward(batch, &logits).ok());
    const double d = static_cast<double>(logits[0][kSafe]) - logits[0][kUnsafe];
    s.p_unsafe.push_back(1.0 / (1.0 + std::exp(d)));
    s.logit_unsafe.push_back(logits[0][kUnsafe]);
  }
  return s;
}

TEST(ModelPrecisionTest, Bf16AndInt8AgainstFp32) {
  auto adapter = LoraAdapter::Open(kAdapter);
  ASSERT_TRUE(adapter.ok());
  for (const LoraAdapter* a : {static_cast<const LoraAdapter*>(nullptr),
                               static_cast<const LoraAdapter*>(adapter->get())}) {
    const Scores ref = ScoreCases("fp32", a);
    for (const auto& [compute, bound] :
         {std::pair<std::string, double>{"bf16", 0.02}, {"int8", 0.05}}) {
      const Scores got = ScoreCases(compute, a);
      ASSERT_EQ(got.p_unsafe.size(), ref.p_unsafe.size());
      double dp = 0, dl = 0;
      for (size_t i = 0; i < ref.p_unsafe.size(); ++i) {
        dp = std::max(dp, std::fabs(got.p_unsafe[i] - ref.p_unsafe[i]));
        dl = std::max(dl, std::fabs(got.logit_unsafe[i] - ref.logit_unsafe[i]));
      }
      std::printf("tiny-a %s %s: max |dp_unsafe| %.3g, max |dlogit| %.3g over %zu cases\n",
                  a ? "+LoRA" : "base", compute.c_str(), dp, dl, ref.p_unsafe.size());
      EXPECT_LE(dp, bound) << compute << (a ? " with adapter" : "");
    }
  }
}

TEST(ModelPrecisionTest, RejectsUnknownComputeAndPortableBf16) {
  auto bad = ModelOptions::Parse("fp16", "cpu");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("fp16"), std::string::npos);
  ModelOptions o = *ModelOptions::Parse("bf16", "cpu");
  o.backend = "portable";
  EXPECT_FALSE(DecoderModel::Load(kBase, nullptr, o).ok());
  o.precision = kernels::Precision::kF32;
  auto p = DecoderModel::Load(kBase, nullptr, o);
  ASSERT_TRUE(p.ok());
  EXPECT_STREQ((*p)->backend_name(), "cpu-portable");
}

}  // namespace
}  // namespace ccguard

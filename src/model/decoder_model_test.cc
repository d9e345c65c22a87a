// Golden parity of the forward pass on the tiny-a fixture (see
// tests/fixtures/README.md): the goldens' token ids in, last-position logits
// out, against float32 references from llama.cpp cross-checked with numpy.
#include "model/decoder_model.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "util/json_file.h"

namespace ccguard {
namespace {

const std::string kFix = CCGUARD_FIXTURES;
const std::string kBase = kFix + "/tiny-a/base";
const std::string kAdapter = kFix + "/tiny-a/adapter";

const Json& Golden() {
  static const Json g = *ReadJsonFile(kFix + "/tiny-a/golden.json");
  return g;
}

struct Stats {
  double logprob_safe, logprob_unsafe, p_unsafe;
};

Stats Compute(const std::vector<float>& logits) {
  double maxv = *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  for (float v : logits) sum += std::exp(v - maxv);
  double lse = maxv + std::log(sum);
  double ls = logits[18675], lu = logits[38157];
  return {ls - lse, lu - lse, 1.0 / (1.0 + std::exp(ls - lu))};
}

void CheckCase(const Json& expect, const std::vector<float>& logits, const std::string& name) {
  Stats s = Compute(logits);
  EXPECT_NEAR(logits[18675], expect["logit_safe"].get<double>(), 1e-4) << name;
  EXPECT_NEAR(logits[38157], expect["logit_unsafe"].get<double>(), 1e-4) << name;
  EXPECT_NEAR(s.logprob_safe, expect["logprob_safe"].get<double>(), 1e-4) << name;
  EXPECT_NEAR(s.logprob_unsafe, expect["logprob_unsafe"].get<double>(), 1e-4) << name;
  EXPECT_NEAR(s.p_unsafe, expect["p_unsafe"].get<double>(), 1e-5) << name;
  std::vector<int> order(logits.size());
  std::iota(order.begin(), order.end(), 0);
  std::partial_sort(order.begin(), order.begin() + 5, order.end(),
                    [&](int a, int b) { return logits[a] > logits[b]; });
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(order[i], expect["top5"][i][0].get<int>()) << name << " top5[" << i << "]";
    EXPECT_NEAR(logits[order[i]], expect["top5"][i][1].get<double>(), 1e-4) << name;
  }
}

class GoldenTest : public ::testing::TestWithParam<bool> {};

TEST_P(GoldenTest, EveryCaseMatches) {
  const bool with_adapter = GetParam();
  std::unique_ptr<LoraAdapter> adapter;
  if (with_adapter) adapter = std::move(LoraAdapter::Open(kAdapter).value());
  auto model = DecoderModel::Load(kBase, adapter.get());
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  for (const Json& c : Golden()["cases"]) {
    const std::string name = c["name"].get<std::string>();
    std::vector<int32_t> ids = c["input_ids"].get<std::vector<int32_t>>();
    auto cache = (*model)->NewCache();
    std::vector<SequenceInput> batch = {{ids, cache.get()}};
    std::vector<std::vector<float>> logits;
    ASSERT_TRUE((*model)->Forward(batch, &logits).ok());
    CheckCase(c["fp32"][with_adapter ? "adapter" : "base"], logits[0], name);
  }
}

INSTANTIATE_TEST_SUITE_P(BaseAndAdapter, GoldenTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "Adapter" : "Base"; });

// A ragged batch and incremental decoding through a prefix cache give the
// same logits as scoring each sequence alone.
TEST(DecoderModelTest, BatchAndPrefixCacheMatchSingle) {
  auto adapter = LoraAdapter::Open(kAdapter);
  ASSERT_TRUE(adapter.ok());
  auto model = DecoderModel::Load(kBase, adapter->get());
  ASSERT_TRUE(model.ok());
  DecoderModel& m = **model;
  std::vector<std::vector<int32_t>> seqs;
  for (const Json& c : Golden()["cases"]) {
    if (c["input_ids"].size() < 200) seqs.push_back(c["input_ids"].get<std::vector<int32_t>>());
  }
  ASSERT_GE(seqs.size(), 4u);
  std::vector<std::vector<float>> single;
  for (auto& s : seqs) {
    auto cache = m.NewCache();
    std::vector<SequenceInput> b = {{s, cache.get()}};
    std::vector<std::vector<float>> l;
    ASSERT_TRUE(m.Forward(b, &l).ok());
    single.push_back(l[0]);
  }
  std::vector<std::unique_ptr<KvCache>> caches;
  std::vector<SequenceInput> batch;
  for (auto& s : seqs) {
    caches.push_back(m.NewCache());
    batch.push_back({s, caches.back().get()});
  }
  std::vector<std::vector<float>> batched;
  ASSERT_TRUE(m.Forward(batch, &batched).ok());
  for (size_t i = 0; i < seqs.size(); ++i) {
    for (size_t v = 0; v < single[i].size(); v += 997) {
      ASSERT_NEAR(batched[i][v], single[i][v], 1e-4) << "seq " << i;
    }
  }
  // Prefix: the first 40 tokens computed once, the rest on top of it.
  const auto& s = seqs[0];
  auto prefix = m.NewCache();
  std::vector<int32_t> head(s.begin(), s.begin() + 40), tail(s.begin() + 40, s.end());
  std::vector<SequenceInput> pb = {{head, prefix.get()}};
  ASSERT_TRUE(m.Forward(pb, nullptr).ok());
  auto child = m.NewCache(prefix.get());
  std::vector<SequenceInput> cb = {{tail, child.get()}};
  std::vector<std::vector<float>> l;
  ASSERT_TRUE(m.Forward(cb, &l).ok());
  EXPECT_EQ(child->length(), static_cast<int64_t>(s.size()));
  for (size_t v = 0; v < l[0].size(); v += 997) ASSERT_NEAR(l[0][v], single[0][v], 1e-4);
}

TEST(DecoderModelTest, RejectsBadTokens) {
  auto model = DecoderModel::Load(kBase, nullptr);
  ASSERT_TRUE(model.ok());
  auto cache = (*model)->NewCache();
  std::vector<int32_t> ids = {1, 151936};
  std::vector<SequenceInput> b = {{ids, cache.get()}};
  std::vector<std::vector<float>> l;
  Status s = (*model)->Forward(b, &l);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("151936"), std::string::npos);
  EXPECT_EQ(cache->length(), 0);
}

}  // namespace
}  // namespace ccguard

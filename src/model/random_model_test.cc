#include "model/random_model.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "model/decoder_model.h"
#include "model/lora.h"

namespace ccguard {
namespace {

namespace fs = std::filesystem;

RandomModelShape Small() {
  RandomModelShape s;
  s.vocab = 1000;
  s.hidden = 64;
  s.intermediate = 128;
  s.layers = 5;  // two layer shards plus the embedding shard
  s.heads = 4;
  s.kv_heads = 2;
  s.head_dim = 16;
  s.lora_rank = 4;
  return s;
}

class RandomModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        fs::temp_directory_path() /
        ("random_model_test_" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) +
         "_" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
  const std::string tokenizer_ =
      std::string(CCGUARD_FIXTURES) + "/tiny-a/base";  // the real Qwen3 tokenizer files
};

TEST_F(RandomModelTest, WritesALoadableShardedModelAndAdapter) {
  const RandomModelShape s = Small();
  ASSERT_TRUE(EnsureRandomModel(dir_.string(), tokenizer_, s).ok());
  EXPECT_TRUE(fs::exists(dir_ / "COMPLETE"));
  EXPECT_TRUE(fs::exists(dir_ / "base" / "model.safetensors.index.json"));
  EXPECT_TRUE(fs::exists(dir_ / "base" / "model-00003-of-00003.safetensors"));
  EXPECT_TRUE(fs::exists(dir_ / "base" / "tokenizer.json"));

  auto adapter = LoraAdapter::Open((dir_ / "adapter").string());
  ASSERT_TRUE(adapter.ok()) << adapter.status().ToString();
  auto model = DecoderModel::Load((dir_ / "base").string(), adapter->get(), {});
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  const ModelConfig& c = (*model)->config();
  EXPECT_EQ(c.vocab_size, s.vocab);
  EXPECT_EQ(c.hidden_size, s.hidden);
  EXPECT_EQ(c.num_hidden_layers, s.layers);
  EXPECT_TRUE((*model)->warnings().empty());
  EXPECT_EQ(LinearParams(s), s.layers * (2 * 64 * 64 + 2 * 32 * 64 + 3 * 128 * 64));

  auto cache = (*model)->NewCache();
  std::vector<int32_t> tokens = {1, 2, 3, 999};
  std::vector<SequenceInput> batch = {{tokens, cache.get()}};
  std::vector<std::vector<float>> logits;
  ASSERT_TRUE((*model)->Forward(batch, &logits).ok());
  ASSERT_EQ(logits.size(), 1u);
  EXPECT_EQ(static_cast<int64_t>(logits[0].size()), s.vocab);
}

TEST_F(RandomModelTest, ReusesACompleteModelAndRewritesAnIncompleteOne) {
  const RandomModelShape s = Small();
  ASSERT_TRUE(EnsureRandomModel(dir_.string(), tokenizer_, s).ok());
  const fs::path shard = dir_ / "base" / "model-00002-of-00003.safetensors";
  const auto size = fs::file_size(shard);
  fs::resize_file(shard, 10);  // damaged, but COMPLETE says the folder is done: kept
  ASSERT_TRUE(EnsureRandomModel(dir_.string(), "/nonexistent", s).ok());
  EXPECT_EQ(fs::file_size(shard), 10u);
  fs::remove(dir_ / "COMPLETE");  // an interrupted write: rewritten
  ASSERT_TRUE(EnsureRandomModel(dir_.string(), tokenizer_, s).ok());
  EXPECT_EQ(fs::file_size(shard), size);
}

TEST_F(RandomModelTest, NeedsTheTokenizer) {
  Status st = EnsureRandomModel(dir_.string(), "/nonexistent/tokenizer", Small());
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("tokenizer.json"), std::string::npos) << st.ToString();
  EXPECT_FALSE(fs::exists(dir_ / "COMPLETE"));
}

}  // namespace
}  // namespace ccguard

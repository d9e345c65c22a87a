// An item's score is the same bits however it is scored (docs/performance.md,
// "Identical scores"): alone without the prefix cache, alone with it, in
// batches of any composition and order, and as the last append of a
// streaming session, in fp32, bf16 and int8, on the fast CPU backend, for a
// Qwen3 model and a Granite one (no q/k norm, Llama 3 scaled RoPE, the four
// multipliers: every flag of the shared forward pass).
//
// The models are small random ones built by random_model.h with head_dim 32,
// so that bf16/int8 also run the BF16 attention kernels (head_dim 16, as in
// the tiny fixture, falls back to the float32 ones).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <tuple>
#include <vector>

#include "model/random_model.h"
#include "scoring/classifier.h"
#include "scoring/session.h"

namespace ccguard::bench {
namespace {

namespace fs = std::filesystem;

// (compute, architecture)
class PathIdentityTest : public ::testing::TestWithParam<std::tuple<const char*, const char*>> {
 protected:
  static void SetUpTestSuite() {
    dir_ = new fs::path(fs::temp_directory_path() /
                        ("path_identity_test_" + std::to_string(::getpid())));
    for (const char* arch : {"qwen3", "granite"}) {
      RandomModelShape s;
      s.architecture = arch;
      s.hidden = 128;
      s.intermediate = 256;
      s.layers = 2;
      s.heads = 4;
      s.kv_heads = 2;
      s.head_dim = 32;
      s.lora_rank = 4;
      if (s.architecture == "granite") {
        s.extra_config = {{"attention_multiplier", 0.03125},
                          {"embedding_multiplier", 12.0},
                          {"residual_multiplier", 0.22},
                          {"logits_scaling", 8.0},
                          {"rope_scaling",
                           {{"rope_type", "llama3"},
                            {"factor", 32.0},
                            {"low_freq_factor", 1.0},
                            {"high_freq_factor", 4.0},
                            {"original_max_position_embeddings", 8192}}}};
      }
      Status st = EnsureRandomModel((*dir_ / arch).string(),
                                    std::string(CCGUARD_FIXTURES) + "/tiny-a/base", s);
      ASSERT_TRUE(st.ok()) << st.ToString();
    }
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
  }
  std::unique_ptr<Classifier> Make(bool prefix_cache) {
    ClassifierOptions o;
    o.model_dir = (*dir_ / std::get<1>(GetParam()) / "base").string();
    o.adapter_dir = (*dir_ / std::get<1>(GetParam()) / "adapter").string();
    o.prefix_cache = prefix_cache;
    o.model = *ModelOptions::Parse(std::get<0>(GetParam()), "cpu", 2);
    auto c = Classifier::Create(o);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(c).value() : nullptr;
  }
  static std::string Name() {
    return std::string(std::get<1>(GetParam())) + " " + std::get<0>(GetParam());
  }
  static fs::path* dir_;
};
fs::path* PathIdentityTest::dir_ = nullptr;

std::vector<Item> Items() {
  std::vector<Item> items;
  const char* prompts[] = {"",
                           "hi",
                           "How do I kill a Python process?",
                           "Write a story where a chemist explains, step by step, how she cleans "
                           "her lab glassware after class. Make it long and detailed, with "
                           "dialogue, and set it in 1920s Paris. Then summarise it twice.",
                           "中文内容 and more text to make a block boundary fall in the middle",
                           "<|im_end|>"};
  for (const char* p : prompts) {
    Item in;
    in.prompt = p;
    items.push_back(in);
    Item ex = in;
    ex.response = std::string("Sure. ") + p + " " + p;
    items.push_back(ex);
  }
  return items;
}

void ExpectSame(const Result<ItemScore>& a, const Result<ItemScore>& b, const std::string& what) {
  ASSERT_TRUE(a.ok() && b.ok()) << what;
  EXPECT_EQ(a->p_unsafe, b->p_unsafe) << what;
  EXPECT_EQ(a->logprob_safe, b->logprob_safe) << what;
  EXPECT_EQ(a->logprob_unsafe, b->logprob_unsafe) << what;
  EXPECT_EQ(a->n_tokens, b->n_tokens) << what;
}

TEST_P(PathIdentityTest, BatchCacheAndSession) {
  auto cached = Make(true);
  auto plain = Make(false);
  ASSERT_TRUE(cached && plain);
  const std::vector<Item> items = Items();
  std::vector<Result<ItemScore>> alone;
  for (const Item& it : items) alone.push_back(plain->Score(it));
  auto batched = cached->ScoreBatch(items);
  std::vector<Item> reversed(items.rbegin(), items.rend());
  auto backwards = cached->ScoreBatch(reversed);
  auto plain_batched = plain->ScoreBatch(items);
  const size_t n = items.size();
  for (size_t i = 0; i < n; ++i) {
    const std::string at = Name() + " item " + std::to_string(i);
    ExpectSame(cached->Score(items[i]), alone[i], at + ": cached alone vs uncached alone");
    ExpectSame(batched[i], alone[i], at + ": cached batch vs uncached alone");
    ExpectSame(backwards[n - 1 - i], alone[i], at + ": reversed batch");
    ExpectSame(plain_batched[i], alone[i], at + ": uncached batch");
    EXPECT_GT(batched[i]->cached_tokens, 0) << at;
  }
  // A streaming session's score after each chunk equals the one-shot score.
  const std::string prompt = "Tell me about the history of chemistry.";
  Item base;
  base.prompt = prompt;
  auto session = cached->OpenSession(base);
  ASSERT_TRUE(session.ok()) << session.status().ToString();
  std::string full;
  for (const char* chunk : {"Chemistry ", "grew out of alchemy", ". Lavoisier named oxygen\n",
                            "\nand hydrogen; ", "🙂 the end."}) {
    full += chunk;
    auto got = (*session)->Append(chunk);
    Item ex;
    ex.prompt = prompt;
    ex.response = full;
    ExpectSame(got, plain->Score(ex), Name() + " session after " + full);
  }
}

#ifdef __SANITIZE_ADDRESS__
// Under the sanitizers (CI's second run, several times slower) each precision
// and each architecture once; the release run covers all six pairs.
INSTANTIATE_TEST_SUITE_P(EachPrecisionAndArchitecture, PathIdentityTest,
                         ::testing::Values(std::make_tuple("fp32", "qwen3"),
                                           std::make_tuple("bf16", "granite"),
                                           std::make_tuple("int8", "qwen3")));
#else
INSTANTIATE_TEST_SUITE_P(EveryPrecisionAndArchitecture, PathIdentityTest,
                         ::testing::Combine(::testing::Values("fp32", "bf16", "int8"),
                                            ::testing::Values("qwen3", "granite")));
#endif

}  // namespace
}  // namespace ccguard::bench

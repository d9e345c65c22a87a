#include "scoring/prefix_cache.h"

#include <gtest/gtest.h>

#include <numeric>

namespace ccguard {
namespace {

const std::string kBase = std::string(CCGUARD_FIXTURES) + "/tiny-a/base";

std::vector<int32_t> Ids(int32_t from, int n) {
  std::vector<int32_t> v(static_cast<size_t>(n));
  std::iota(v.begin(), v.end(), from);
  return v;
}

class PrefixCacheTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto m = DecoderModel::Load(kBase, nullptr, *ModelOptions::Parse("fp32", "cpu", 2));
    ASSERT_TRUE(m.ok()) << m.status().ToString();
    model_ = std::move(m).value().release();
  }
  static void TearDownTestSuite() { delete model_; }
  PrefixCache::Prefill Prefill() {
    return [](std::span<SequenceInput> b) { return model_->Forward(b, nullptr); };
  }
  // Last-position logits of `tokens` continued from `cache` holding `held`.
  std::vector<float> Logits(std::span<const int32_t> tokens, KvCache* cache, int64_t held) {
    SequenceInput s{tokens.subspan(static_cast<size_t>(held)), cache};
    std::vector<std::vector<float>> out;
    EXPECT_TRUE(model_->Forward(std::span<SequenceInput>(&s, 1), &out).ok());
    return out.empty() ? std::vector<float>{} : out[0];
  }
  static DecoderModel* model_;
};
DecoderModel* PrefixCacheTest::model_ = nullptr;

TEST(CommonPrefixTest, Counts) {
  const std::vector<int32_t> a = {1, 2, 3}, b = {1, 2, 4, 5}, e;
  EXPECT_EQ(CommonPrefix(a, b), 2);
  EXPECT_EQ(CommonPrefix(a, a), 3);
  EXPECT_EQ(CommonPrefix(a, e), 0);
}

TEST_F(PrefixCacheTest, ChainsPrefixesAndReusesTheLongestMatch) {
  std::vector<int32_t> p1 = Ids(100, 12), p2 = p1;
  p2.resize(8);
  for (int32_t t : Ids(900, 6)) p2.push_back(t);  // shares 8 tokens with p1
  auto pc = PrefixCache::Build(*model_, Prefill(), {p1, p2, {}});
  ASSERT_TRUE(pc.ok()) << pc.status().ToString();
  EXPECT_EQ((*pc)->longest(), 14);

  std::vector<int32_t> item = p2;
  for (int32_t t : Ids(5000, 5)) item.push_back(t);
  int64_t reused = -1;
  auto cache = (*pc)->CacheFor(item, &reused);
  EXPECT_EQ(reused, 14);
  const auto cached = Logits(item, cache.get(), reused);
  auto fresh = model_->NewCache();
  EXPECT_EQ(cached, Logits(item, fresh.get(), 0));  // the same bits

  // A sequence equal to a prefix still runs its last token.
  cache = (*pc)->CacheFor(p1, &reused);
  EXPECT_EQ(reused, 11);
  // One sharing nothing starts empty.
  cache = (*pc)->CacheFor(Ids(7000, 3), &reused);
  EXPECT_EQ(reused, 0);
  EXPECT_EQ(cache->length(), 0);
}

TEST_F(PrefixCacheTest, OffReusesNothing) {
  auto pc = PrefixCache::Build(*model_, Prefill(), {});
  ASSERT_TRUE(pc.ok());
  int64_t reused = -1;
  auto cache = (*pc)->CacheFor(Ids(1, 10), &reused);
  EXPECT_EQ(reused, 0);
  EXPECT_EQ((*pc)->longest(), 0);
}

TEST_F(PrefixCacheTest, ContinueKeepsTheCommonPartOrStartsOver) {
  const std::vector<int32_t> prefix = Ids(100, 10);
  auto pc = PrefixCache::Build(*model_, Prefill(), {prefix});
  ASSERT_TRUE(pc.ok());
  std::vector<int32_t> first = prefix;
  for (int32_t t : Ids(3000, 6)) first.push_back(t);
  std::unique_ptr<KvCache> cache;
  int64_t keep = (*pc)->Continue({}, first, &cache);
  EXPECT_EQ(keep, 10);  // from the prefix
  Logits(first, cache.get(), keep);
  EXPECT_EQ(cache->length(), 16);

  // A continuation that changes the last two tokens keeps 14.
  std::vector<int32_t> second = first;
  second[14] = 42;
  second[15] = 43;
  second.push_back(44);
  KvCache* same = cache.get();
  keep = (*pc)->Continue(first, second, &cache);
  EXPECT_EQ(keep, 14);
  EXPECT_EQ(cache.get(), same);  // truncated, not replaced
  const auto continued = Logits(second, cache.get(), keep);
  auto fresh = model_->NewCache();
  EXPECT_EQ(continued, Logits(second, fresh.get(), 0));

  // Diverging inside the cached prefix: a new cache from the prefix cache.
  std::vector<int32_t> other = Ids(100, 4);
  for (int32_t t : Ids(8000, 3)) other.push_back(t);
  keep = (*pc)->Continue(second, other, &cache);
  EXPECT_EQ(keep, 4);
  EXPECT_EQ(cache->prefix_length(), 4);
}

}  // namespace
}  // namespace ccguard

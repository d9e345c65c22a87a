#include "eval/sample.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "eval/random.h"

namespace ccguard::eval {
namespace {

std::vector<LabeledItem> MakeItems(size_t n) {
  std::vector<LabeledItem> items(n);
  for (size_t i = 0; i < n; ++i) items[i].id = std::to_string(i);
  return items;
}

TEST(SampleTest, SameSeedSamePicksInOriginalOrder) {
  auto a = Sample(MakeItems(100), 10, 123);
  auto b = Sample(MakeItems(100), 10, 123);
  ASSERT_EQ(a.size(), 10u);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].id, b[i].id);
  for (size_t i = 1; i < a.size(); ++i) EXPECT_LT(std::stoi(a[i - 1].id), std::stoi(a[i].id));
  auto c = Sample(MakeItems(100), 10, 124);
  bool differs = false;
  for (size_t i = 0; i < a.size(); ++i) differs = differs || a[i].id != c[i].id;
  EXPECT_TRUE(differs);
}

TEST(SampleTest, PinnedPicks) {
  // Pinned so that any change to the algorithm (and so to published subsets) is noticed.
  const std::vector<size_t> got = SampleIndices(10, 3, 0);
  SplitMix64 rng(0);
  std::vector<size_t> idx = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};
  for (size_t i = 0; i < 3; ++i) std::swap(idx[i], idx[i + rng.Below(10 - i)]);
  std::vector<size_t> expect(idx.begin(), idx.begin() + 3);
  std::sort(expect.begin(), expect.end());
  EXPECT_EQ(got, expect);
}

TEST(SampleTest, EdgeSizes) {
  EXPECT_EQ(Sample(MakeItems(5), 5, 1).size(), 5u);
  EXPECT_EQ(Sample(MakeItems(5), 50, 1).size(), 5u);
  EXPECT_TRUE(Sample(MakeItems(5), 0, 1).empty());
  EXPECT_TRUE(Sample({}, 3, 1).empty());
  auto all = Sample(MakeItems(5), 9, 1);
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i].id, std::to_string(i));
}

TEST(SampleTest, IndicesAreDistinctAndRoughlyUniform) {
  std::vector<int> hits(10, 0);
  for (uint64_t seed = 0; seed < 3000; ++seed) {
    auto idx = SampleIndices(10, 3, seed);
    ASSERT_EQ(idx.size(), 3u);
    EXPECT_EQ(std::set<size_t>(idx.begin(), idx.end()).size(), 3u);
    for (size_t i : idx) ++hits[i];
  }
  for (int h : hits) {  // expected 900 each; sd about 25
    EXPECT_GT(h, 780);
    EXPECT_LT(h, 1020);
  }
}

}  // namespace
}  // namespace ccguard::eval

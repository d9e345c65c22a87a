// The host-side planning of CUDA attention launches (runs on the CPU).
#include "kernels/cuda/attention_plan.h"

#include <gtest/gtest.h>

namespace ccguard::kernels::cuda {
namespace {

const float* Fake(uintptr_t v) { return reinterpret_cast<const float*>(v); }

AttentionSequence Seq(int64_t row, int64_t tokens, std::vector<int64_t> seg_lens) {
  AttentionSequence s;
  s.row = row;
  s.tokens = tokens;
  int64_t total = 0;
  for (size_t i = 0; i < seg_lens.size(); ++i) {
    s.segments.push_back({Fake(0x1000 * (i + 1)), Fake(0x100000 * (i + 1)), seg_lens[i]});
    total += seg_lens[i];
  }
  s.start = total - tokens;
  return s;
}

TEST(AttentionPlanTest, TilesCoverEveryRowOfEverySequence) {
  const AttentionShape shape{16, 8, 128};  // group 2: 32 tokens per tile
  std::vector<AttentionSequence> seqs = {Seq(0, 40, {930, 40}), Seq(40, 1, {1}), Seq(41, 0, {5}),
                                         Seq(41, 100, {900, 30, 100})};
  auto plan = PlanAttention(seqs, shape);
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  ASSERT_EQ(plan->size(), 1u);
  const AttnLaunch& l = (*plan)[0];
  ASSERT_EQ(l.n_seqs, 3);  // the empty sequence is skipped
  EXPECT_EQ(l.seq[0].tile_begin, 0);
  EXPECT_EQ(l.seq[1].tile_begin, 2);  // 80 rows -> 2 tiles
  EXPECT_EQ(l.seq[2].tile_begin, 3);  // 2 rows -> 1 tile
  EXPECT_EQ(l.n_tiles, 3 + 4);        // 200 rows -> 4 tiles
  EXPECT_EQ(l.seq[2].n_segments, 3);
  EXPECT_EQ(l.seq[2].seg_len[1], 30);
  EXPECT_EQ(l.seq[2].seg_k[2], Fake(0x3000));
  EXPECT_EQ(l.seq[2].seg_v[0], Fake(0x100000));
  EXPECT_EQ(l.seq[2].start, 930);
  EXPECT_EQ(l.seq[2].row, 41);
  for (int32_t t = 0; t < l.n_tiles; ++t) {
    const int s = FindSequence(l, t);
    EXPECT_LE(l.seq[s].tile_begin, t);
    EXPECT_LT(t - l.seq[s].tile_begin, TilesFor(l.seq[s].tokens, 2)) << "tile " << t;
  }
}

TEST(AttentionPlanTest, SplitsLargeBatchesIntoLaunches) {
  const AttentionShape shape{4, 2, 16};
  std::vector<AttentionSequence> seqs;
  for (int i = 0; i < 300; ++i) seqs.push_back(Seq(i * 3, 3, {10, 3}));
  auto plan = PlanAttention(seqs, shape);
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan->size(), 3u);
  EXPECT_EQ((*plan)[0].n_seqs, kMaxLaunchSeqs);
  EXPECT_EQ((*plan)[2].n_seqs, 300 - 2 * kMaxLaunchSeqs);
  EXPECT_EQ((*plan)[2].seq[0].row, 2 * kMaxLaunchSeqs * 3);
  EXPECT_EQ((*plan)[2].seq[0].tile_begin, 0);
}

TEST(AttentionPlanTest, RefusesWhatTheKernelCannotRun) {
  const AttentionShape shape{4, 2, 16};
  auto too_many = PlanAttention({Seq(0, 1, {1, 1, 1, 1, 1})}, shape);
  ASSERT_FALSE(too_many.ok());
  EXPECT_NE(too_many.status().message().find("5 key/value segments"), std::string::npos);
  AttentionSequence short_kv = Seq(0, 4, {4});
  short_kv.start = 3;  // the last query would sit at position 6 of 4 keys
  auto s = PlanAttention({short_kv}, shape);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("position 6"), std::string::npos);
  auto bad_heads = PlanAttention({Seq(0, 1, {1})}, AttentionShape{5, 2, 16});
  ASSERT_FALSE(bad_heads.ok());
  EXPECT_NE(bad_heads.status().message().find("not a multiple"), std::string::npos);
}

}  // namespace
}  // namespace ccguard::kernels::cuda

// KvCache: its own positions after a prefix, storage growth, truncation, and
// the per-layer KvMemo the backend keeps packed blocks in (dropped where rows
// change, counted in the cache's bytes).
#include "model/kv_cache.h"

#include <gtest/gtest.h>

#include <vector>

#include "kernels/host_page_pool.h"

namespace ccguard {
namespace {

constexpr int64_t kDim = 4;

// Appends `n` rows of value `x` to every layer and commits them.
void Append(KvCache* c, int64_t n, float x) {
  std::vector<float> rows(static_cast<size_t>(n * kDim), x);
  std::vector<kernels::Memory::CopyOp> ops;
  for (int64_t l = 0; l < c->n_layers(); ++l) {
    ASSERT_TRUE(c->Append(l, rows.data(), rows.data(), n, &ops).ok());
  }
  kernels::HostMemory()->CopyMany(ops);
  c->Commit(n);
}

TEST(KvCacheTest, SegmentsContinueAfterThePrefix) {
  KvCache prefix(2, kDim);
  Append(&prefix, 45, 1.f);
  KvCache c(2, kDim, &prefix);
  Append(&c, 10, 2.f);
  EXPECT_EQ(c.length(), 55);
  std::vector<kernels::KvSegment> segs;
  c.Segments(1, &segs);
  ASSERT_EQ(segs.size(), 2u);
  EXPECT_EQ(segs[0].len, 45);
  EXPECT_EQ(segs[1].len, 10);
  EXPECT_EQ(segs[1].k[0], 2.f);
  segs.clear();
  c.Segments(0, 50, &segs);
  ASSERT_EQ(segs.size(), 2u);
  EXPECT_EQ(segs[1].len, 5);
}

constexpr int64_t kWide = 1024;  // 4 KiB rows: 512 of them in 2 MiB

// Appends rows whose keys are their position and values minus it.
void AppendPositions(KvCache* c, int64_t n) {
  const int64_t dim = c->kv_dim();
  std::vector<float> k, v;
  for (int64_t r = 0; r < n; ++r) {
    for (int64_t d = 0; d < dim; ++d) {
      k.push_back(static_cast<float>(c->length() + r));
      v.push_back(-static_cast<float>(c->length() + r));
    }
  }
  std::vector<kernels::Memory::CopyOp> ops;
  for (int64_t l = 0; l < c->n_layers(); ++l) {
    ASSERT_TRUE(c->Append(l, k.data(), v.data(), n, &ops).ok());
  }
  kernels::HostMemory()->CopyMany(ops);
  c->Commit(n);
}

// Every position's row, read through the segments, is where it was written.
void ExpectPositions(const KvCache& c) {
  const int64_t dim = c.kv_dim();
  for (int64_t l = 0; l < c.n_layers(); ++l) {
    std::vector<kernels::KvSegment> segs;
    c.Segments(l, &segs);
    int64_t pos = 0;
    for (const auto& s : segs) {
      for (int64_t r = 0; r < s.len; ++r, ++pos) {
        ASSERT_EQ(s.k[r * dim + dim - 1], static_cast<float>(pos)) << "layer " << l;
        ASSERT_EQ(s.v[r * dim], -static_cast<float>(pos)) << "layer " << l;
      }
    }
    EXPECT_EQ(pos, c.length());
  }
}

// In host memory Reserve is exact and growth adds 2 MiB pages, one chunk
// each: rows already held stay where they are (growth copies and touches
// nothing); appends and truncations may cross chunk boundaries.
TEST(KvCacheTest, GrowsByHugePagesWithoutMovingRows) {
  constexpr size_t kRow = 2 * kWide * sizeof(float);  // key + value
  KvCache c(2, kWide);
  ASSERT_TRUE(c.Reserve(10).ok());
  EXPECT_EQ(c.bytes(), 2 * 10 * kRow);
  AppendPositions(&c, 10);
  std::vector<kernels::KvSegment> first;
  c.Segments(1, &first);
  ASSERT_EQ(first.size(), 1u);
  AppendPositions(&c, 30);  // a page of 512 rows (2 MiB)
  EXPECT_EQ(c.bytes(), 2 * (10 + 512) * kRow);
  AppendPositions(&c, 600);  // 640 > 522: one more page
  EXPECT_EQ(c.bytes(), 2 * (10 + 512 + 512) * kRow);
  AppendPositions(&c, 1100);  // 1740 > 1034 + 512: two more pages in one append
  EXPECT_EQ(c.bytes(), 2 * (10 + 4 * 512) * kRow);
  ExpectPositions(c);
  std::vector<kernels::KvSegment> segs;
  c.Segments(1, &segs);
  ASSERT_EQ(segs.size(), 5u);
  EXPECT_EQ(segs[0].k, first[0].k);  // not moved
  EXPECT_EQ(segs[4].len, 1740 - 10 - 3 * 512);
  c.Truncate(5);              // back into the first chunk
  AppendPositions(&c, 1600);  // across all five chunks
  ExpectPositions(c);
  EXPECT_EQ(c.length(), 1605);
  EXPECT_EQ(c.bytes(), 2 * (10 + 4 * 512) * kRow);  // storage kept
}

// Rows that do not divide a page: a page holds as many whole rows as fit,
// and the cache counts the whole page.
TEST(KvCacheTest, RowsThatDoNotDivideAPage) {
  constexpr int64_t kDim1000 = 1000;  // 4000-byte rows: 524 in 2 MiB
  KvCache c(1, kDim1000);
  AppendPositions(&c, 600);
  EXPECT_EQ(c.bytes(), 2 * 2 * kernels::kHugePageBytes);
  std::vector<kernels::KvSegment> segs;
  c.Segments(0, &segs);
  ASSERT_EQ(segs.size(), 2u);
  EXPECT_EQ(segs[0].len, 524);
  ExpectPositions(c);
}

// With pages reserved in the process's pool, a cache that is dropped gives
// its pages back and the next one takes the same pages (no new memory).
TEST(KvCacheTest, PagesGoBackToAReservedPool) {
  kernels::HostPagePool& pool = kernels::HostPagePool::Get();
  ASSERT_TRUE(pool.Reserve(8 * kernels::kHugePageBytes).ok());
  const size_t taken0 = pool.taken_bytes();
  const float* page = nullptr;
  {
    KvCache c(2, kWide);
    AppendPositions(&c, 700);  // 2 pages of keys and 2 of values per layer
    EXPECT_EQ(pool.taken_bytes(), taken0 + 8 * kernels::kHugePageBytes);
    std::vector<kernels::KvSegment> segs;
    c.Segments(0, &segs);
    page = segs[0].k;
  }
  EXPECT_EQ(pool.taken_bytes(), taken0);
  EXPECT_GE(pool.free_bytes(), 8 * kernels::kHugePageBytes);
  KvCache d(2, kWide);
  AppendPositions(&d, 700);
  bool reused = false;
  for (int64_t l = 0; l < 2; ++l) {
    std::vector<kernels::KvSegment> segs;
    d.Segments(l, &segs);
    for (const auto& s : segs) reused = reused || s.k == page || s.v == page;
  }
  EXPECT_TRUE(reused);
  ExpectPositions(d);
}

TEST(KvCacheTest, MemoStartsAtThePrefixBlockAndDropsChangedBlocks) {
  KvCache prefix(2, kDim);
  Append(&prefix, 45, 1.f);
  KvCache c(2, kDim, &prefix);
  constexpr int64_t B = kernels::KvMemo::kBlock;
  EXPECT_EQ(c.memo(0)->first_block, 45 / B);  // the boundary block holds prefix rows
  Append(&c, 150, 2.f);                       // positions up to 195
  const size_t before = c.bytes();
  for (int64_t l = 0; l < 2; ++l) {  // what a backend does: blocks 1..5 held
    kernels::KvMemo* m = c.memo(l);
    m->blocks = 5;
    for (int64_t i = 0; i < 5; ++i) m->Block(i, 250)[0] = 1;
  }
  Append(&c, 1, 3.f);  // Commit counts the memos
  EXPECT_GE(c.bytes(), before + 2 * 5 * 250 * sizeof(uint16_t));
  EXPECT_GE(KvCache::LiveBytes(), static_cast<int64_t>(c.bytes()));
  c.Truncate(c.own_length());  // nothing dropped: every block kept
  EXPECT_EQ(c.memo(1)->blocks, 5);
  c.Truncate(130);  // position 175 on changes: blocks from 175 / 32 = 5 go
  EXPECT_EQ(c.memo(0)->blocks, 4);
  EXPECT_EQ(c.memo(1)->blocks, 4);
  c.Truncate(115);  // position 160 = the start of block 5: blocks 1..4 stay
  EXPECT_EQ(c.memo(0)->blocks, 4);
  c.Truncate(114);  // position 159: block 4 goes
  EXPECT_EQ(c.memo(0)->blocks, 3);
  c.Truncate(0);  // the boundary block holds own rows: it goes too
  EXPECT_EQ(c.memo(0)->blocks, 0);
}

TEST(KvCacheTest, MemoWithoutPrefixStartsAtZero) {
  KvCache c(1, kDim);
  EXPECT_EQ(c.memo(0)->first_block, 0);
  Append(&c, 64, 1.f);
  c.memo(0)->blocks = 2;
  c.Truncate(63);
  EXPECT_EQ(c.memo(0)->blocks, 1);
}

}  // namespace
}  // namespace ccguard

#include "util/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <vector>

namespace ccguard {
namespace {

TEST(ThreadPoolTest, CoversRangeExactlyOnce) {
  ThreadPool pool(3);
  for (size_t n : {0, 1, 2, 7, 100, 1001}) {
    std::vector<std::atomic<int>> hits(n);
    pool.ParallelFor(n, [&](size_t b, size_t e) {
      for (size_t i = b; i < e; ++i) hits[i]++;
    });
    for (size_t i = 0; i < n; ++i) EXPECT_EQ(hits[i].load(), 1) << "n=" << n << " i=" << i;
  }
}

TEST(ThreadPoolTest, GrainAlignsChunks) {
  ThreadPool pool(2);
  std::atomic<int> bad{0};
  pool.ParallelFor(
      100,
      [&](size_t b, size_t e) {
        if (b % 16 != 0 || (e != 100 && e % 16 != 0)) bad++;
      },
      16);
  EXPECT_EQ(bad.load(), 0);
}

}  // namespace
}  // namespace ccguard

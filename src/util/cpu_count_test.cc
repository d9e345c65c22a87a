#include "util/cpu_count.h"

#include <gtest/gtest.h>
#include <sched.h>

#include <thread>

#include "util/thread_pool.h"

namespace ccguard {
namespace {

TEST(CpuCountTest, Parsers) {
  EXPECT_FALSE(ParseCpuMax("max 100000").has_value());
  EXPECT_DOUBLE_EQ(*ParseCpuMax("150000 100000"), 1.5);
  EXPECT_DOUBLE_EQ(*ParseCpuMax("400000 100000"), 4.0);
  EXPECT_FALSE(ParseCpuMax("").has_value());
  EXPECT_FALSE(ParseCpuMax("garbage").has_value());
  EXPECT_FALSE(ParseCpuMax("0 100000").has_value());
  EXPECT_FALSE(ParseCfsQuota("-1", "100000").has_value());
  EXPECT_DOUBLE_EQ(*ParseCfsQuota("50000", "100000"), 0.5);
  EXPECT_FALSE(ParseCfsQuota("x", "100000").has_value());
}

TEST(CpuCountTest, FollowsTheAffinityMask) {
  cpu_set_t all;
  ASSERT_EQ(sched_getaffinity(0, sizeof(all), &all), 0);
  const int n = UsableCpus();
  EXPECT_GE(n, 1);
  EXPECT_LE(n, CPU_COUNT(&all));
  // Pinned to one CPU, the default pool has one thread.
  int first = 0;
  while (!CPU_ISSET(first, &all)) ++first;
  cpu_set_t one;
  CPU_ZERO(&one);
  CPU_SET(first, &one);
  ASSERT_EQ(sched_setaffinity(0, sizeof(one), &one), 0);
  EXPECT_EQ(AffinityCpus(), 1);
  EXPECT_EQ(UsableCpus(), 1);
  EXPECT_EQ(ThreadPool().size(), 1);
  ASSERT_EQ(sched_setaffinity(0, sizeof(all), &all), 0);
  EXPECT_EQ(UsableCpus(), n);
}

}  // namespace
}  // namespace ccguard

#include "util/process_memory.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>

namespace ccguard {
namespace {

TEST(ProcessMemoryTest, ResidentGrowsWhenPagesAreTouched) {
  const int64_t before = ResidentBytes();
  ASSERT_GT(before, 0);
  constexpr size_t kBytes = size_t{64} << 20;
  std::unique_ptr<char[]> block(new char[kBytes]);
  std::memset(block.get(), 1, kBytes);
  const int64_t after = ResidentBytes();
  EXPECT_GT(after, before + static_cast<int64_t>(kBytes / 2));
  EXPECT_GE(PeakResidentBytes(), after);
  EXPECT_EQ(block[kBytes - 1], 1);
}

}  // namespace
}  // namespace ccguard

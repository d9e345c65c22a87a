// HostPagePool: pages taken and given back, kept only as far as reserved.
#include "kernels/host_page_pool.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <set>
#include <thread>
#include <vector>

#include "kernels/kernels.h"

namespace ccguard::kernels {
namespace {

constexpr size_t kPage = kHugePageBytes;

TEST(HostPagePoolTest, KeepsNothingWithoutAReservation) {
  HostPagePool pool;
  void* p = pool.Take();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % kPage, 0u);  // huge-page aligned
  std::memset(p, 1, kPage);                               // the whole page is usable
  EXPECT_EQ(pool.taken_bytes(), kPage);
  pool.Give(p);
  EXPECT_EQ(pool.taken_bytes(), 0u);
  EXPECT_EQ(pool.free_bytes(), 0u);  // freed, not kept
}

TEST(HostPagePoolTest, ReservedPagesAreWrittenAndReused) {
  HostPagePool pool;
  ASSERT_TRUE(pool.Reserve(2 * kPage + 1).ok());  // rounded up to 3 pages
  EXPECT_EQ(pool.reserved_bytes(), 3 * kPage);
  EXPECT_EQ(pool.free_bytes(), 3 * kPage);
  std::set<void*> reserved;
  for (int i = 0; i < 3; ++i) {
    auto* p = static_cast<unsigned char*>(pool.Take());
    ASSERT_NE(p, nullptr);
    EXPECT_EQ(p[0], 0);  // written (zeros) when reserved
    EXPECT_EQ(p[kPage - 1], 0);
    reserved.insert(p);
  }
  EXPECT_EQ(pool.free_bytes(), 0u);
  void* extra = pool.Take();  // beyond the reservation: a new page
  ASSERT_NE(extra, nullptr);
  EXPECT_EQ(reserved.count(extra), 0u);
  EXPECT_EQ(pool.taken_bytes(), 4 * kPage);
  for (void* p : reserved) pool.Give(p);
  pool.Give(extra);  // the fourth free page: over the reservation, freed
  EXPECT_EQ(pool.free_bytes(), 3 * kPage);
  EXPECT_EQ(pool.taken_bytes(), 0u);
  std::vector<void*> again;
  for (int i = 0; i < 3; ++i) again.push_back(pool.Take());
  for (void* p : again) EXPECT_EQ(reserved.count(p), 1u);  // the same pages
  for (void* p : again) pool.Give(p);  // taken pages are their taker's to give back
}

TEST(HostPagePoolTest, ASmallerReservationKeepsTheLarger) {
  HostPagePool pool;
  ASSERT_TRUE(pool.Reserve(2 * kPage).ok());
  ASSERT_TRUE(pool.Reserve(kPage).ok());
  EXPECT_EQ(pool.reserved_bytes(), 2 * kPage);
  EXPECT_EQ(pool.free_bytes(), 2 * kPage);
  ASSERT_TRUE(pool.Reserve(0).ok());
  EXPECT_EQ(pool.free_bytes(), 2 * kPage);
}

TEST(HostPagePoolTest, ManyThreadsTakeAndGive) {
  HostPagePool pool;
  ASSERT_TRUE(pool.Reserve(4 * kPage).ok());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&pool, t] {
      for (int i = 0; i < 200; ++i) {
        auto* p = static_cast<unsigned char*>(pool.Take());
        ASSERT_NE(p, nullptr);
        p[static_cast<size_t>(i) * 4096 % kPage] = static_cast<unsigned char>(t);
        pool.Give(p);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(pool.taken_bytes(), 0u);
  EXPECT_EQ(pool.free_bytes(), 4 * kPage);
}

// Buffers of exactly one page come from the process's pool; others do not.
TEST(HostPagePoolTest, HostBuffersOfOnePageUseThePool) {
  HostPagePool& pool = HostPagePool::Get();
  const size_t taken = pool.taken_bytes();
  size_t rounded = 0;
  void* p = AllocateHostBuffer(kPage - 100, &rounded);  // rounded up to 64 bytes only
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(pool.taken_bytes(), taken);
  FreeHostBuffer(p, rounded);
  p = AllocateHostBuffer(kPage, &rounded);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(rounded, kPage);
  EXPECT_EQ(pool.taken_bytes(), taken + kPage);
  FreeHostBuffer(p, rounded);
  EXPECT_EQ(pool.taken_bytes(), taken);
  p = AllocateHostBuffer(kPage + 1, &rounded);  // two pages, one buffer: not the pool's
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(rounded, 2 * kPage);
  EXPECT_EQ(pool.taken_bytes(), taken);
  FreeHostBuffer(p, rounded);
}

}  // namespace
}  // namespace ccguard::kernels

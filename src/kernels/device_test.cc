// Device names, and what a CUDA request says where CUDA cannot run.
#include <gtest/gtest.h>

#include "kernels/kernels.h"

namespace ccguard::kernels {
namespace {

TEST(DeviceTest, ParsesCpuCudaAndCudaN) {
  auto cpu = ParseDevice("cpu");
  ASSERT_TRUE(cpu.ok());
  EXPECT_FALSE(cpu->cuda);
  EXPECT_EQ(cpu->ToString(), "cpu");
  auto cuda = ParseDevice("cuda");
  ASSERT_TRUE(cuda.ok());
  EXPECT_TRUE(cuda->cuda);
  EXPECT_EQ(cuda->index, 0);
  EXPECT_EQ(cuda->ToString(), "cuda:0");
  auto three = ParseDevice("cuda:3");
  ASSERT_TRUE(three.ok());
  EXPECT_EQ(three->index, 3);
  for (const char* bad :
       {"", "gpu", "cuda:", "cuda:-1", "cuda:x", "CUDA", "cuda:123456", "cpu:0"}) {
    auto r = ParseDevice(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("is not one of cpu, cuda, cuda:N"), std::string::npos);
  }
}

TEST(DeviceTest, CudaRequestsFailClearlyWithoutCudaOrGpu) {
  auto n = CudaDeviceCount();
  if (n.ok()) GTEST_SKIP() << n.value() << " CUDA device(s) visible: covered by the GPU tests";
  if (!CudaBuiltIn()) {
    EXPECT_EQ(n.status().code(), Status::Code::kNotSupported);
    EXPECT_NE(n.status().message().find("built without CUDA"), std::string::npos);
  } else {
    EXPECT_EQ(n.status().code(), Status::Code::kNotFound);
    EXPECT_NE(n.status().message().find("CUDA device"), std::string::npos);
  }
  auto be = MakeCudaBackend(0, Precision::kBF16);
  ASSERT_FALSE(be.ok());
  EXPECT_EQ(be.status().message(), n.status().message());
}

TEST(DeviceTest, CudaRefusesInt8ByName) {
  auto be = MakeCudaBackend(0, Precision::kInt8);
  ASSERT_FALSE(be.ok());
  if (CudaBuiltIn()) {
    EXPECT_NE(be.status().message().find("int8 is not available on CUDA"), std::string::npos);
  }
}

TEST(DeviceTest, HostMemoryCountsItsBytesByUse) {
  Memory* m = HostMemory();
  const MemoryStats before = m->memory_stats();
  {
    auto a = m->Allocate(1000, MemoryUse::kKvCache);
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(reinterpret_cast<uintptr_t>(a->get()) % 64, 0u);
    const MemoryStats during = m->memory_stats();
    EXPECT_EQ(during.in_use[1] - before.in_use[1], 1024);
    EXPECT_GE(during.peak[1], during.in_use[1]);
  }
  EXPECT_EQ(m->memory_stats().in_use[1], before.in_use[1]);
  EXPECT_FALSE(m->device_memory());
  EXPECT_FALSE(m->FreeBytes().ok());
}

}  // namespace
}  // namespace ccguard::kernels

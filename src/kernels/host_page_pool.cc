#include "kernels/host_page_pool.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>

#include "kernels/kernels.h"

namespace ccguard::kernels {
namespace {

void* NewPage() {
  void* p = std::aligned_alloc(kHugePageBytes, kHugePageBytes);
  if (p != nullptr) madvise(p, kHugePageBytes, MADV_HUGEPAGE);
  return p;
}

}  // namespace

HostPagePool& HostPagePool::Get() {
  static HostPagePool* pool = new HostPagePool;  // never destroyed: pages may outlive statics
  return *pool;
}

HostPagePool::~HostPagePool() {
  for (void* p : free_) std::free(p);
}

void* HostPagePool::Take() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!free_.empty()) {
      void* p = free_.back();
      free_.pop_back();
      ++taken_;
      return p;
    }
  }
  void* p = NewPage();
  if (p != nullptr) {
    std::lock_guard<std::mutex> lock(mu_);
    ++taken_;
  }
  return p;
}

void HostPagePool::Give(void* page) {
  if (page == nullptr) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    --taken_;
    if (free_.size() < reserved_) {
      free_.push_back(page);
      return;
    }
  }
  std::free(page);
}

Status HostPagePool::Reserve(size_t bytes) {
  const size_t pages = (bytes + kHugePageBytes - 1) / kHugePageBytes;
  size_t need = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    reserved_ = std::max(reserved_, pages);
    need = pages > free_.size() ? pages - free_.size() : 0;
  }
  std::vector<void*> made;  // outside the lock: Take and Give go on meanwhile
  Status status = Status::Ok();
  for (size_t i = 0; i < need; ++i) {
    void* p = NewPage();
    if (p == nullptr) {
      status = Status::ResourceExhausted("cannot reserve " + std::to_string(bytes) +
                                         " bytes of host memory for pages (" +
                                         std::to_string(i * kHugePageBytes) + " made)");
      break;
    }
    std::memset(p, 0, kHugePageBytes);  // faulted in now, not at first use
    made.push_back(p);
  }
  std::lock_guard<std::mutex> lock(mu_);
  free_.insert(free_.end(), made.begin(), made.end());
  return status;
}

size_t HostPagePool::taken_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return taken_ * kHugePageBytes;
}

size_t HostPagePool::free_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return free_.size() * kHugePageBytes;
}

size_t HostPagePool::reserved_bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return reserved_ * kHugePageBytes;
}

}  // namespace ccguard::kernels

// The process's store of host pages: buffers of exactly kHugePageBytes
// (2 MiB, huge-page aligned, offered transparent huge pages) for memory that
// grows and shrinks a page at a time — the rows of growing KV caches
// (streaming sessions) and their memos (kernels::KvMemo).
//
// Why: the first write to never-used memory is a page fault, and on a
// virtual machine the first touch of guest memory also waits for the
// hypervisor (measured on a 2-core EPYC VM: 1.2 GB/s for fresh huge pages,
// 0.23–0.30 GB/s for 4 KiB pages). Sixteen sessions growing together into
// fresh memory stalled whole rounds of appends. A server can Reserve its
// session budget at start (as GPU servers pre-allocate their KV cache):
// pages are then taken and given back without touching the system.
//
// Policy: Take returns a free page if there is one, else a new one.
// Give keeps a page for reuse while the free pages are fewer than the
// reserved bytes allow, else frees it. With nothing reserved (the default)
// the pool keeps nothing and behaves as the system allocator.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <cstddef>
#include <mutex>
#include <vector>

#include "util/status.h"

namespace ccguard::kernels {

class HostPagePool {
 public:
  // The process's pool.
  static HostPagePool& Get();

  HostPagePool() = default;
  ~HostPagePool();
  HostPagePool(const HostPagePool&) = delete;
  HostPagePool& operator=(const HostPagePool&) = delete;

  // One page of kHugePageBytes, uninitialised (a reused page holds what its
  // last user wrote). Null when host memory is exhausted.
  void* Take();
  // Returns a page from Take (ownership passes to the pool).
  void Give(void* page);

  // Makes at least `bytes` (rounded up to pages) free in the pool, each new
  // page written once (faulted in now, not at its first use), and keeps up
  // to that many free pages from now on. Reserving less than before keeps
  // the larger amount. ResourceExhausted (naming the bytes) when host
  // memory runs out; the pages made until then stay reserved.
  Status Reserve(size_t bytes);

  // Pages now taken (in use) and free (kept for reuse), in bytes.
  size_t taken_bytes() const;
  size_t free_bytes() const;
  size_t reserved_bytes() const;

 private:
  mutable std::mutex mu_;
  std::vector<void*> free_;
  size_t taken_ = 0;     // pages
  size_t reserved_ = 0;  // pages
};

}  // namespace ccguard::kernels

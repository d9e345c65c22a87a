// A fixed-size pool of worker threads for data-parallel kernels.
//
// ParallelFor(n, fn) calls fn(begin, end) on disjoint chunks covering [0, n),
// using the calling thread as one of the workers, and returns when all chunks
// are done. Calls from different threads are serialised (one job at a time).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace ccguard {

class ThreadPool {
 public:
  // threads <= 0 means UsableCpus() (the affinity mask and cgroup quota).
  explicit ThreadPool(int threads = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  // Splits [0, n) into at most size() contiguous chunks (each a multiple of
  // `grain`, except the last) and runs fn(begin, end) on each.
  void ParallelFor(size_t n, const std::function<void(size_t, size_t)>& fn, size_t grain = 1);

 private:
  void WorkerLoop(int index);

  std::vector<std::thread> workers_;
  std::mutex job_mu_;  // serialises ParallelFor callers
  std::mutex mu_;
  std::condition_variable cv_start_, cv_done_;
  const std::function<void(size_t, size_t)>* fn_ = nullptr;
  std::vector<std::pair<size_t, size_t>> chunks_;
  size_t generation_ = 0;
  int pending_ = 0;
  bool stop_ = false;
};

}  // namespace ccguard

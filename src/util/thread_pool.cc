#include "util/thread_pool.h"

#include <algorithm>

#include "util/cpu_count.h"

namespace ccguard {

ThreadPool::ThreadPool(int threads) {
  if (threads <= 0) threads = UsableCpus();
  for (int i = 0; i + 1 < threads; ++i) workers_.emplace_back([this, i] { WorkerLoop(i); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_start_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::WorkerLoop(int index) {
  size_t seen = 0;
  for (;;) {
    std::pair<size_t, size_t> chunk;
    const std::function<void(size_t, size_t)>* fn;
    {
      std::unique_lock<std::mutex> l(mu_);
      cv_start_.wait(l, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      // Chunk 0 belongs to the caller; worker i takes chunk i + 1.
      if (static_cast<size_t>(index + 1) >= chunks_.size()) continue;
      chunk = chunks_[index + 1];
      fn = fn_;
    }
    (*fn)(chunk.first, chunk.second);
    {
      std::lock_guard<std::mutex> l(mu_);
      if (--pending_ == 0) cv_done_.notify_one();
    }
  }
}

void ThreadPool::ParallelFor(size_t n, const std::function<void(size_t, size_t)>& fn,
                             size_t grain) {
  if (n == 0) return;
  grain = std::max<size_t>(grain, 1);
  size_t units = (n + grain - 1) / grain;
  size_t parts = std::min<size_t>(units, static_cast<size_t>(size()));
  if (parts <= 1) {
    fn(0, n);
    return;
  }
  std::lock_guard<std::mutex> job(job_mu_);
  std::vector<std::pair<size_t, size_t>> chunks;
  size_t begin = 0;
  for (size_t p = 0; p < parts; ++p) {
    size_t u = units / parts + (p < units % parts ? 1 : 0);
    size_t end = std::min(n, begin + u * grain);
    chunks.emplace_back(begin, end);
    begin = end;
  }
  {
    std::lock_guard<std::mutex> l(mu_);
    chunks_ = std::move(chunks);
    fn_ = &fn;
    pending_ = static_cast<int>(chunks_.size()) - 1;
    ++generation_;
  }
  cv_start_.notify_all();
  fn(chunks_[0].first, chunks_[0].second);
  std::unique_lock<std::mutex> l(mu_);
  cv_done_.wait(l, [&] { return pending_ == 0; });
}

}  // namespace ccguard

// Dynamic batching: items from concurrent requests are scored together.
//
// Request threads tokenize their items and Submit() them; one batcher thread
// takes the queue once the first waiting item is `window` old (or as soon as
// `max_items` are waiting), groups the items by classifier (constitution)
// and makes one Classifier::ScoreTokens call per group, which packs them into
// forward passes by the engine's token budget and reuses the constitution's
// shared prefix cache. While a batch runs, new items queue up, so under load
// batches grow by themselves.
//
// Deadlines: an item not started by its deadline is not run; a caller stops
// waiting at its deadline (the batch it is in, if any, finishes and its
// result is dropped).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "scoring/classifier.h"
#include "server/metrics.h"

namespace ccguard::server {

struct BatcherOptions {
  std::chrono::microseconds window{2000};
  size_t max_items = 64;    // per batch
  size_t max_queue = 1024;  // waiting items; beyond, Score() refuses
};

class Batcher {
 public:
  using Clock = std::chrono::steady_clock;

  struct Work {
    Classifier* classifier = nullptr;
    std::vector<int32_t> tokens;
  };
  enum class Outcome { kOk, kQueueFull, kTimeout, kStopped };
  struct Reply {
    Outcome outcome = Outcome::kOk;
    std::vector<ccguard::Result<ItemScore>> scores;  // when kOk, one per work item
  };

  // `metrics` may be null.
  Batcher(BatcherOptions options, Metrics* metrics);
  ~Batcher();  // Stop()
  Batcher(const Batcher&) = delete;
  Batcher& operator=(const Batcher&) = delete;

  // Queues all of `work` at once (so a request's items share a batch when
  // they fit) and waits for the scores until `deadline`. Thread-safe.
  Reply Score(std::vector<Work> work, Clock::time_point deadline);

  // Scores what is queued, then ends the thread; later Score() calls get
  // kStopped.
  void Stop();

  size_t queue_depth() const;
  uint64_t batches() const;  // engine calls made (one per classifier per batch)
  uint64_t items() const;    // items scored

 private:
  struct Group {
    std::vector<ccguard::Result<ItemScore>> scores;
    size_t remaining = 0;
    bool abandoned = false;  // the caller stopped waiting
    std::condition_variable done;
  };
  struct Pending {
    std::shared_ptr<Group> group;
    size_t index = 0;
    Work work;
    Clock::time_point enqueued, deadline;
  };
  void Loop();
  void RunBatch(std::vector<Pending>* batch);

  const BatcherOptions options_;
  Metrics* metrics_;
  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<Pending> queue_;
  bool stop_ = false;
  uint64_t batches_ = 0, items_ = 0;
  std::thread thread_;
};

}  // namespace ccguard::server

#include "server/batcher.h"

#include <map>

namespace ccguard::server {

Batcher::Batcher(BatcherOptions options, Metrics* metrics) : options_(options), metrics_(metrics) {
  if (metrics_ != nullptr) {
    metrics_->DeclareCounter("ccguard_batches_total",
                             "Engine calls made by the dynamic batcher (one per constitution "
                             "per batch).");
    metrics_->DeclareHistogram("ccguard_batch_items", "Items per engine call.",
                               {1, 2, 4, 8, 16, 32, 64, 128, 256});
    metrics_->DeclareHistogram("ccguard_batch_seconds", "Time to score one engine call.",
                               Metrics::LatencyBuckets());
    metrics_->DeclareHistogram("ccguard_queue_wait_seconds",
                               "Time items waited in the batch queue before scoring.",
                               Metrics::LatencyBuckets());
    metrics_->DeclareCounter("ccguard_tokens_total",
                             "Tokens processed, by source (classify, session) and kind "
                             "(computed: run through the model; cached: reused keys/values).");
    metrics_->DeclareCounter("ccguard_prefix_cache_hits_total",
                             "Scored items that reused the constitution's prefix cache.");
    metrics_->DeclareCounter("ccguard_prefix_cache_misses_total",
                             "Scored items that could not reuse the prefix cache.");
  }
  thread_ = std::thread([this] { Loop(); });
}

Batcher::~Batcher() { Stop(); }

void Batcher::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_ && !thread_.joinable()) return;
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

size_t Batcher::queue_depth() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

uint64_t Batcher::batches() const {
  std::lock_guard<std::mutex> lock(mu_);
  return batches_;
}

uint64_t Batcher::items() const {
  std::lock_guard<std::mutex> lock(mu_);
  return items_;
}

Batcher::Reply Batcher::Score(std::vector<Work> work, Clock::time_point deadline) {
  Reply out;
  if (work.empty()) return out;
  auto group = std::make_shared<Group>();
  group->scores.assign(work.size(), ccguard::Result<ItemScore>(Status::Internal("unscored")));
  group->remaining = work.size();
  std::unique_lock<std::mutex> lock(mu_);
  if (stop_) {
    out.outcome = Outcome::kStopped;
    return out;
  }
  if (queue_.size() + work.size() > options_.max_queue) {
    out.outcome = Outcome::kQueueFull;
    return out;
  }
  const auto now = Clock::now();
  for (size_t i = 0; i < work.size(); ++i) {
    queue_.push_back(Pending{group, i, std::move(work[i]), now, deadline});
  }
  wake_.notify_one();
  if (!group->done.wait_until(lock, deadline, [&] { return group->remaining == 0; })) {
    group->abandoned = true;
    out.outcome = Outcome::kTimeout;
    return out;
  }
  out.scores = std::move(group->scores);
  return out;
}

void Batcher::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    wake_.wait(lock, [&] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) break;  // stopping, nothing left
    // Collect for up to the window after the oldest item arrived.
    const auto until = queue_.front().enqueued + options_.window;
    wake_.wait_until(lock, until, [&] { return stop_ || queue_.size() >= options_.max_items; });
    std::vector<Pending> batch;
    const auto now = Clock::now();
    while (!queue_.empty() && batch.size() < options_.max_items) {
      Pending p = std::move(queue_.front());
      queue_.pop_front();
      if (p.group->abandoned) continue;
      if (now >= p.deadline) {
        p.group->scores[p.index] = Status::ResourceExhausted("timed out in the queue");
        if (--p.group->remaining == 0) p.group->done.notify_all();
        continue;
      }
      batch.push_back(std::move(p));
    }
    if (batch.empty()) continue;
    lock.unlock();
    RunBatch(&batch);
    lock.lock();
    for (auto& p : batch) {
      if (--p.group->remaining == 0) p.group->done.notify_all();
    }
  }
}

// Runs outside the lock; writes each item's score into its group (the groups
// are only read by their callers once `remaining` reaches 0 under the lock).
void Batcher::RunBatch(std::vector<Pending>* batch) {
  const auto start = Clock::now();
  // Group by classifier, keeping arrival order within each.
  std::map<Classifier*, std::vector<Pending*>> by_classifier;
  std::vector<Classifier*> order;
  for (auto& p : *batch) {
    auto& v = by_classifier[p.work.classifier];
    if (v.empty()) order.push_back(p.work.classifier);
    v.push_back(&p);
  }
  uint64_t calls = 0;
  for (Classifier* c : order) {
    const auto& members = by_classifier[c];
    std::vector<std::vector<int32_t>> seqs;
    seqs.reserve(members.size());
    for (Pending* p : members) seqs.push_back(std::move(p->work.tokens));
    const auto t0 = Clock::now();
    std::vector<ccguard::Result<ItemScore>> scores = c->ScoreTokens(seqs);
    const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
    ++calls;
    int64_t computed = 0, cached = 0, hits = 0, misses = 0;
    for (size_t i = 0; i < members.size(); ++i) {
      if (scores[i].ok()) {
        computed += scores[i]->n_tokens - scores[i]->cached_tokens;
        cached += scores[i]->cached_tokens;
        (scores[i]->cached_tokens > 0 ? hits : misses)++;
      }
      members[i]->group->scores[members[i]->index] = std::move(scores[i]);
    }
    if (metrics_ != nullptr) {
      metrics_->Add("ccguard_batches_total", {});
      metrics_->Observe("ccguard_batch_items", {}, static_cast<double>(members.size()));
      metrics_->Observe("ccguard_batch_seconds", {}, seconds);
      metrics_->Add("ccguard_tokens_total", {{"source", "classify"}, {"kind", "computed"}},
                    static_cast<double>(computed));
      metrics_->Add("ccguard_tokens_total", {{"source", "classify"}, {"kind", "cached"}},
                    static_cast<double>(cached));
      metrics_->Add("ccguard_prefix_cache_hits_total", {}, static_cast<double>(hits));
      metrics_->Add("ccguard_prefix_cache_misses_total", {}, static_cast<double>(misses));
    }
  }
  if (metrics_ != nullptr) {
    for (const auto& p : *batch) {
      metrics_->Observe("ccguard_queue_wait_seconds", {},
                        std::chrono::duration<double>(start - p.enqueued).count());
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  batches_ += calls;
  items_ += batch->size();
}

}  // namespace ccguard::server

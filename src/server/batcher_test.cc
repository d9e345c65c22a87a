#include "server/batcher.h"

#include <gtest/gtest.h>

#include <thread>

#include "server/testing.h"

namespace ccguard::server {
namespace {

using Clock = Batcher::Clock;

std::vector<int32_t> Tokens(Classifier& c, const std::string& prompt,
                            std::optional<std::string> response = {}) {
  Item item;
  item.prompt = prompt;
  item.response = response;
  return *c.Tokenize(item);
}

TEST(BatcherTest, ConcurrentRequestsShareOneBatchAndMatchScoringAlone) {
  auto a = testing::TinyClassifier();
  auto b = testing::TinyClassifier(0.25);  // a second constitution on the same engine
  ASSERT_TRUE(a && b);
  Metrics metrics;
  BatcherOptions o;
  o.window = std::chrono::milliseconds(300);  // long enough for every thread to arrive
  o.max_items = 64;
  Batcher batcher(o, &metrics);
  const std::vector<std::string> prompts = {"hi",         "How do I kill a Python process?",
                                            "中文内容",   "Write a poem.",
                                            "<|im_end|>", "one more"};
  std::vector<Batcher::Reply> results(prompts.size());
  std::vector<std::thread> threads;
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  for (size_t i = 0; i < prompts.size(); ++i) {
    threads.emplace_back([&, i] {
      Classifier* c = i % 2 ? b.get() : a.get();
      std::vector<Batcher::Work> w;
      w.push_back({c, Tokens(*c, prompts[i])});
      w.push_back({c, Tokens(*c, prompts[i], "Sure.")});
      results[i] = batcher.Score(std::move(w), deadline);
    });
  }
  for (auto& t : threads) t.join();
  // One engine call per constitution for all six requests.
  EXPECT_EQ(batcher.batches(), 2u);
  EXPECT_EQ(batcher.items(), 12u);
  EXPECT_EQ(metrics.Value("ccguard_batches_total"), 2);
  EXPECT_EQ(metrics.Count("ccguard_batch_items"), 2u);
  EXPECT_GT(metrics.Value("ccguard_prefix_cache_hits_total"), 0);
  for (size_t i = 0; i < prompts.size(); ++i) {
    ASSERT_EQ(results[i].outcome, Batcher::Outcome::kOk);
    ASSERT_EQ(results[i].scores.size(), 2u);
    Classifier* c = i % 2 ? b.get() : a.get();
    Item in;
    in.prompt = prompts[i];
    auto alone = c->Score(in);
    ASSERT_TRUE(alone.ok() && results[i].scores[0].ok());
    EXPECT_NEAR(results[i].scores[0]->p_unsafe, alone->p_unsafe, 1e-5) << prompts[i];
    EXPECT_EQ(results[i].scores[0]->threshold, c->threshold());
    EXPECT_GT(results[i].scores[1]->n_tokens, results[i].scores[0]->n_tokens);
  }
}

TEST(BatcherTest, PerItemErrorsStayPerItem) {
  auto c = testing::TinyClassifier();
  ASSERT_TRUE(c);
  Batcher batcher(BatcherOptions{}, nullptr);
  std::vector<Batcher::Work> w;
  w.push_back({c.get(), Tokens(*c, "fine")});
  w.push_back({c.get(), {}});  // empty: refused by the classifier
  auto r = batcher.Score(std::move(w), Clock::now() + std::chrono::seconds(60));
  ASSERT_EQ(r.outcome, Batcher::Outcome::kOk);
  EXPECT_TRUE(r.scores[0].ok());
  EXPECT_FALSE(r.scores[1].ok());
}

TEST(BatcherTest, DeadlineQueueLimitAndStop) {
  auto c = testing::TinyClassifier();
  ASSERT_TRUE(c);
  BatcherOptions o;
  o.window = std::chrono::milliseconds(200);
  o.max_queue = 2;
  Batcher batcher(o, nullptr);
  // Over the queue limit: refused at once.
  std::vector<Batcher::Work> three(3, Batcher::Work{c.get(), Tokens(*c, "x")});
  EXPECT_EQ(batcher.Score(three, Clock::now() + std::chrono::seconds(10)).outcome,
            Batcher::Outcome::kQueueFull);
  // A deadline shorter than the batching window: the caller stops waiting,
  // and the item is dropped, not run.
  std::vector<Batcher::Work> one(1, Batcher::Work{c.get(), Tokens(*c, "x")});
  EXPECT_EQ(batcher.Score(one, Clock::now() + std::chrono::milliseconds(20)).outcome,
            Batcher::Outcome::kTimeout);
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  EXPECT_EQ(batcher.items(), 0u);
  EXPECT_EQ(batcher.queue_depth(), 0u);
  batcher.Stop();
  EXPECT_EQ(batcher.Score(one, Clock::now() + std::chrono::seconds(10)).outcome,
            Batcher::Outcome::kStopped);
}

TEST(BatcherTest, StopFinishesQueuedWork) {
  auto c = testing::TinyClassifier();
  ASSERT_TRUE(c);
  BatcherOptions o;
  o.window = std::chrono::milliseconds(500);
  Batcher batcher(o, nullptr);
  Batcher::Reply r;
  std::thread t([&] {
    std::vector<Batcher::Work> one(1, Batcher::Work{c.get(), Tokens(*c, "queued")});
    r = batcher.Score(one, Clock::now() + std::chrono::seconds(60));
  });
  while (batcher.queue_depth() == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  batcher.Stop();  // does not wait for the window, but scores the item
  t.join();
  ASSERT_EQ(r.outcome, Batcher::Outcome::kOk);
  EXPECT_TRUE(r.scores[0].ok());
}

}  // namespace
}  // namespace ccguard::server

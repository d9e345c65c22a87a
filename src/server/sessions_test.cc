#include "server/sessions.h"

#include <gtest/gtest.h>

#include <future>
#include <set>
#include <thread>

#include "server/testing.h"

namespace ccguard::server {
namespace {

Item PromptItem(const std::string& prompt) {
  Item item;
  item.prompt = prompt;
  return item;
}

using std::chrono::milliseconds;

SessionLimits Limits() {
  SessionLimits l;
  l.max_sessions = 4;
  l.idle_timeout = milliseconds(60 * 1000);
  l.max_tokens = 4096;
  return l;
}

std::shared_ptr<Session> MustOpen(SessionTable& t, Classifier* c, const std::string& prompt,
                                  int owner = -1) {
  Json initial;
  bool full = false;
  auto s = t.Open(c, "default", PromptItem(prompt), owner, &initial, &full);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? *s : nullptr;
}

const std::vector<std::string> kChunks = {"Chemistry ",       "grew out of alchemy",
                                          ". Lavoisier",      " named oxygen\n",
                                          "\nand hydrogen; ", "🙂 the end."};

TEST(SessionsTest, AppendsEndAtTheOneShotScore) {
  auto c = testing::TinyClassifier();
  ASSERT_TRUE(c);
  Metrics metrics;
  SessionTable table(Limits(), &metrics);
  const std::string prompt = "Tell me about the history of chemistry.";
  Json initial;
  bool full = false;
  auto opened = table.Open(c.get(), "default", PromptItem(prompt), -1, &initial, &full);
  ASSERT_TRUE(opened.ok());
  auto s = *opened;
  EXPECT_EQ(s->id().size(), 32u);
  Item empty;
  empty.prompt = prompt;
  empty.response = "";
  EXPECT_NEAR(initial["p_unsafe"].get<double>(), c->Score(empty)->p_unsafe, 1e-5);
  std::string full_text;
  Json last;
  for (size_t i = 0; i < kChunks.size(); ++i) {
    auto lock = s->TryLock();
    ASSERT_TRUE(lock.owns_lock());
    auto r = s->Append(kChunks[i]);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    full_text += kChunks[i];
    last = *r;
    EXPECT_EQ(last["chunk_index"], i);
    // Each append runs only the new tokens (plus the closing template).
    EXPECT_LT(last["new_tokens"].get<int64_t>(), 40);
  }
  Item ex;
  ex.prompt = prompt;
  ex.response = full_text;
  auto one = c->Score(ex);
  ASSERT_TRUE(one.ok());
  EXPECT_NEAR(last["p_unsafe"].get<double>(), one->p_unsafe, 1e-5);
  EXPECT_EQ(last["n_tokens"].get<int64_t>(), one->n_tokens);
  EXPECT_EQ(metrics.Value("ccguard_session_appends_total"), 6);
  EXPECT_GT(metrics.Value("ccguard_tokens_total", {{"source", "session"}, {"kind", "cached"}}),
            1000);
  Json state = s->State();
  EXPECT_EQ(state["chunks"], 6);
  EXPECT_EQ(state["response_bytes"], full_text.size());
  EXPECT_GT(state["cache_bytes"].get<int64_t>(), 0);
}

TEST(SessionsTest, StopAtTheFirstChunkCrossingTheThreshold) {
  auto probe = testing::TinyClassifier();
  ASSERT_TRUE(probe);
  SessionTable t0(Limits(), nullptr);
  auto s0 = MustOpen(t0, probe.get(), "p");
  std::vector<double> scores;
  for (const auto& ch : kChunks) scores.push_back((*s0->Append(ch))["p_unsafe"].get<double>());
  // The first chunk whose score exceeds every earlier one (and the initial).
  size_t k = 1;
  double best = scores[0];
  while (k < scores.size() && scores[k] <= best) best = std::max(best, scores[k++]);
  ASSERT_LT(k, scores.size()) << "scores never rise on this model";
  auto c = testing::TinyClassifier(scores[k]);
  SessionTable table(Limits(), nullptr);
  Json initial;
  bool full = false;
  auto s = *table.Open(c.get(), "default", PromptItem("p"), -1, &initial, &full);
  for (size_t i = 0; i < kChunks.size(); ++i) {
    Json r = *s->Append(kChunks[i]);
    const bool crossed = r["p_unsafe"].get<double>() >= scores[k];
    EXPECT_EQ(r["flagged"], crossed);
    EXPECT_EQ(r["stop"], i >= k) << i;  // sticky once crossed
    if (i >= k) {
      EXPECT_EQ(r["stop_chunk"], k);
    }
  }
}

TEST(SessionsTest, TokenLimitRefusesTheChunkAndKeepsTheSession) {
  auto c = testing::TinyClassifier();
  ASSERT_TRUE(c);
  Item probe;
  probe.prompt = "p";
  probe.response = "";
  const int64_t base = static_cast<int64_t>(c->Tokenize(probe)->size());
  SessionLimits l = Limits();
  l.max_tokens = base + 10;
  SessionTable table(l, nullptr);
  auto s = MustOpen(table, c.get(), "p");
  ASSERT_TRUE(s->Append("two words").ok());
  auto r = s->Append(std::string(200, 'x') + " many more words than allowed");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kResourceExhausted);
  EXPECT_NE(r.status().message().find("session limit"), std::string::npos);
  EXPECT_TRUE(s->Append(" ok").ok());  // still usable
  EXPECT_EQ(s->State()["chunks"], 2);
  // A prompt over the limit is refused at open.
  Json initial;
  bool full = false;
  auto big =
      table.Open(c.get(), "default", PromptItem(std::string(400, 'y') + " z z z z z z z z z"), -1,
                 &initial, &full);
  EXPECT_FALSE(big.ok());
  EXPECT_FALSE(full);
}

TEST(SessionsTest, CountLimitOwnersAndClose) {
  auto c = testing::TinyClassifier();
  ASSERT_TRUE(c);
  SessionLimits l = Limits();
  l.max_sessions = 2;
  SessionTable table(l, nullptr);
  auto a = MustOpen(table, c.get(), "a", /*owner=*/0);
  auto b = MustOpen(table, c.get(), "b", /*owner=*/1);
  Json initial;
  bool full = false;
  auto third = table.Open(c.get(), "default", PromptItem("c"), 0, &initial, &full);
  EXPECT_FALSE(third.ok());
  EXPECT_TRUE(full);
  SessionTable::Miss miss;
  EXPECT_EQ(table.Find(a->id(), 0, &miss), a);
  EXPECT_EQ(table.Find(a->id(), 1, &miss), nullptr);  // another key's session is invisible
  EXPECT_EQ(miss, SessionTable::Miss::kUnknown);
  EXPECT_FALSE(table.Close(a->id(), 1));
  EXPECT_TRUE(table.Close(a->id(), 0));
  EXPECT_EQ(table.Find(a->id(), 0, &miss), nullptr);
  EXPECT_EQ(miss, SessionTable::Miss::kClosed);
  EXPECT_EQ(a->ended(), "closed");
  EXPECT_EQ(table.Find("0123456789abcdef0123456789abcdef", 0, &miss), nullptr);
  EXPECT_EQ(miss, SessionTable::Miss::kUnknown);
  EXPECT_TRUE(
      table.Open(c.get(), "default", PromptItem("c"), 0, &initial, &full).ok());  // a slot is free
}

TEST(SessionsTest, IdleSessionsAreEvictedButBusyOnesAreNot) {
  auto c = testing::TinyClassifier();
  ASSERT_TRUE(c);
  Metrics metrics;
  SessionTable table(Limits(), &metrics);  // 60 s idle timeout
  auto a = MustOpen(table, c.get(), "a");
  auto b = MustOpen(table, c.get(), "b");
  const auto later = SteadyClock::now() + std::chrono::minutes(2);
  {
    // b is busy: another thread holds its operation lock.
    std::promise<void> locked, release;
    std::thread holder([&] {
      auto op = b->Lock();
      locked.set_value();
      release.get_future().wait();
    });
    locked.get_future().wait();
    EXPECT_EQ(table.ReapIdle(later), 1u);
    release.set_value();
    holder.join();
  }
  SessionTable::Miss miss;
  EXPECT_EQ(table.Find(a->id(), -1, &miss), nullptr);
  EXPECT_EQ(miss, SessionTable::Miss::kExpired);
  EXPECT_EQ(a->ended(), "expired");
  EXPECT_EQ(table.Find(b->id(), -1, &miss), b);
  EXPECT_EQ(table.ReapIdle(later), 1u);
  EXPECT_EQ(metrics.Value("ccguard_sessions_ended_total", {{"reason", "expired"}}), 2);
  EXPECT_EQ(table.ReapIdle(SteadyClock::now()), 0u);
}

TEST(SessionsTest, ReaperThreadEvicts) {
  auto c = testing::TinyClassifier();
  ASSERT_TRUE(c);
  SessionLimits l = Limits();
  l.idle_timeout = milliseconds(100);
  SessionTable table(l, nullptr);
  auto s = MustOpen(table, c.get(), "a");
  // The reaper drops the session from the table, then ends it: wait for both.
  for (int i = 0; i < 3000 && (table.active() > 0 || s->ended().empty()); ++i)
    std::this_thread::sleep_for(milliseconds(10));
  EXPECT_EQ(table.active(), 0u);
  EXPECT_EQ(s->ended(), "expired");
}

TEST(SessionsTest, EventsReachListenersUntilTheEnd) {
  auto c = testing::TinyClassifier();
  ASSERT_TRUE(c);
  SessionTable table(Limits(), nullptr);
  auto s = MustOpen(table, c.get(), "p");
  std::vector<SessionEvent> got;
  std::thread listener([&] {
    uint64_t after = 0;
    while (true) {
      std::vector<SessionEvent> ev;
      if (!s->WaitEvents(after, milliseconds(1000), nullptr, &ev)) break;
      for (auto& e : ev) {
        after = e.seq;
        got.push_back(e);
      }
    }
  });
  ASSERT_TRUE(s->Append("a").ok());
  ASSERT_TRUE(s->Append("b").ok());
  std::string sid = s->id();
  ASSERT_TRUE(table.Close(sid, -1));
  listener.join();
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].type, "score");
  EXPECT_EQ(got[1].type, "score");
  EXPECT_EQ(got[2].type, "end");
  EXPECT_NE(got[2].data.find("closed"), std::string::npos);
  EXPECT_EQ(got[1].seq, got[0].seq + 1);
}

TEST(SessionsTest, ShutdownEndsEverySession) {
  auto c = testing::TinyClassifier();
  ASSERT_TRUE(c);
  SessionTable table(Limits(), nullptr);
  auto s = MustOpen(table, c.get(), "p");
  table.Shutdown();
  EXPECT_EQ(s->ended(), "shutdown");
  SessionTable::Miss miss;
  EXPECT_EQ(table.Find(s->id(), -1, &miss), nullptr);
  EXPECT_EQ(miss, SessionTable::Miss::kShutdown);
  Json initial;
  bool full = false;
  EXPECT_FALSE(table.Open(c.get(), "default", PromptItem("q"), -1, &initial, &full).ok());
}

TEST(SessionsTest, IdsAreUniqueHex) {
  std::set<std::string> ids;
  for (int i = 0; i < 1000; ++i) {
    std::string id = SessionTable::NewId();
    EXPECT_EQ(id.size(), 32u);
    EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos);
    ids.insert(id);
  }
  EXPECT_EQ(ids.size(), 1000u);
}

}  // namespace
}  // namespace ccguard::server

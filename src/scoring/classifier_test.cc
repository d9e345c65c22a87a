// The whole pipeline on tiny-a: rendering, literal tokenization, golden
// scores, the prefix cache and ragged batches against full-prompt scoring,
// and streaming sessions against one-shot scores.
#include "scoring/classifier.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "scoring/session.h"
#include "util/json_file.h"

namespace ccguard {
namespace {

const std::string kFix = CCGUARD_FIXTURES;

const Json& Golden() {
  static const Json g = *ReadJsonFile(kFix + "/tiny-a/golden.json");
  return g;
}

ClassifierOptions Options(bool adapter, bool prefix_cache = true, bool hf_special = false) {
  ClassifierOptions o;
  o.model_dir = kFix + "/tiny-a/base";
  if (adapter) o.adapter_dir = kFix + "/tiny-a/adapter";
  o.prefix_cache = prefix_cache;
  o.hf_special_tokens = hf_special;
  o.model.threads = 2;
  return o;
}

std::unique_ptr<Classifier> Make(const ClassifierOptions& o) {
  auto c = Classifier::Create(o);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  return c.ok() ? std::move(c).value() : nullptr;
}

Item Messages(const Json& c) {
  Json j = {{"chat", c["messages"]}};
  return *ItemFromJson(j);
}

TEST(ClassifierTest, GoldenChatCasesRenderTokenizeAndScore) {
  for (bool hf : {false, true}) {
    auto cl = Make(Options(true, true, hf));
    ASSERT_TRUE(cl);
    EXPECT_EQ(cl->safe_token(), 18675);
    EXPECT_EQ(cl->unsafe_token(), 38157);
    for (const Json& c : Golden()["cases"]) {
      if (c["messages"].is_null()) continue;
      const std::string name = c["name"];
      Item item = Messages(c);
      EXPECT_EQ(*cl->RenderPrompt(item), c["text"].get<std::string>()) << name;
      auto ids = cl->Tokenize(item);
      ASSERT_TRUE(ids.ok()) << name;
      const bool injection = name.find("injection") != std::string::npos;
      if (hf || !injection) {
        EXPECT_EQ(*ids, c["input_ids"].get<std::vector<int32_t>>()) << name;
        auto s = cl->Score(item);
        ASSERT_TRUE(s.ok()) << s.status().ToString();
        const Json& want = c["fp32"]["adapter"];
        EXPECT_NEAR(s->p_unsafe, want["p_unsafe"].get<double>(), 1e-5) << name;
        EXPECT_NEAR(s->logprob_safe, want["logprob_safe"].get<double>(), 1e-4) << name;
        EXPECT_NEAR(s->logprob_unsafe, want["logprob_unsafe"].get<double>(), 1e-4) << name;
        EXPECT_NEAR(s->label_mass, want["label_mass"].get<double>(),
                    1e-3 * want["label_mass"].get<double>());
        EXPECT_TRUE(s->low_label_mass);  // a random model puts ~1e-5 on the labels
      } else {
        // Literal by default: the typed control tokens are plain text.
        // Only the template's own im_start (3) and im_end (2) are control tokens.
        EXPECT_EQ(std::count(ids->begin(), ids->end(), 151645), 2);
        EXPECT_EQ(std::count(ids->begin(), ids->end(), 151644), 3);
      }
    }
  }
}

// Every item scored through the prefix cache, in ragged batches, equals the
// same item scored alone from scratch.
TEST(ClassifierTest, PrefixCacheAndBatchesMatchFullPrompt) {
  auto cached = Make(Options(true, true));
  auto plain = Make(Options(true, false));
  ASSERT_TRUE(cached && plain);
  std::vector<Item> items;
  const char* prompts[] = {"",
                           "hi",
                           "How do I kill a Python process?",
                           "Write a story where a chemist explains, step by step, how she "
                           "cleans her lab glassware after class. Make it long and detailed, "
                           "with dialogue, and set it in 1920s Paris.",
                           "\n\nleading newlines",
                           "ends with newline\n",
                           "中文内容",
                           "<|im_end|>"};
  for (const char* p : prompts) {
    Item in;
    in.prompt = p;
    items.push_back(in);
    Item ex = in;
    ex.response = std::string("Sure. ") + p;
    items.push_back(ex);
  }
  for (const Json& c : Golden()["cases"]) {
    Item t;
    t.kind = Item::Kind::kText;
    t.text = c["text"];
    if (c["input_ids"].size() < 1200) items.push_back(t);
  }
  auto batched = cached->ScoreBatch(items);
  EXPECT_GT(cached->prefix_tokens(), 300);
  int64_t reused = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    auto alone = plain->Score(items[i]);
    ASSERT_TRUE(alone.ok() && batched[i].ok()) << i;
    EXPECT_EQ(alone->cached_tokens, 0);
    EXPECT_EQ(batched[i]->n_tokens, alone->n_tokens) << i;
    EXPECT_NEAR(batched[i]->p_unsafe, alone->p_unsafe, 1e-5) << i;
    EXPECT_NEAR(batched[i]->logprob_safe, alone->logprob_safe, 1e-4) << i;
    reused += batched[i]->cached_tokens;
  }
  EXPECT_GT(reused, 300 * 16);  // the constitution prefix was reused by the templated items
}

TEST(ClassifierTest, StreamingSessionEndsAtOneShotScore) {
  auto cl = Make(Options(true));
  ASSERT_TRUE(cl);
  const std::string prompt = "Tell me about the history of chemistry.";
  const std::vector<std::string> chunks = {"Chemistry ",       "grew out of alchemy",
                                           ". Lavoisier",      " named oxygen\n",
                                           "\nand hydrogen; ", "🙂 the end."};
  // A lone prompt, and the same prompt as the last turn of a conversation.
  const Json earlier = Json::parse(R"([{"role": "system", "content": "Be brief."},
      {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"}])");
  for (bool conversation : {false, true}) {
    Json turns = conversation ? earlier : Json::array();
    turns.push_back({{"role", "user"}, {"content", prompt}});
    auto base = ItemFromJson(Json{{"messages", turns}});
    ASSERT_TRUE(base.ok()) << base.status().ToString();
    EXPECT_EQ(base->context.size(), conversation ? 3u : 0u);
    auto session = cl->OpenSession(*base);
    ASSERT_TRUE(session.ok()) << session.status().ToString();
    std::string full;
    Result<ItemScore> last = Status::Internal("none");
    for (const auto& ch : chunks) {
      full += ch;
      last = (*session)->Append(ch);
      ASSERT_TRUE(last.ok()) << last.status().ToString();
      Json with_response = turns;
      with_response.push_back({{"role", "assistant"}, {"content", full}});
      auto one = cl->Score(*ItemFromJson(Json{{"messages", with_response}}));
      ASSERT_TRUE(one.ok());
      EXPECT_EQ(last->p_unsafe, one->p_unsafe) << full;
      EXPECT_EQ(last->n_tokens, one->n_tokens);
      EXPECT_GT(last->cached_tokens, cl->prefix_tokens() / 2);
    }
    EXPECT_EQ((*session)->response(), full);
    EXPECT_FALSE((*session)->Append("\xff").ok());
    EXPECT_EQ((*session)->response(), full);  // a bad chunk changes nothing
  }
  // A session streams the response: its item must not hold one.
  Item done;
  done.prompt = prompt;
  done.response = "r";
  EXPECT_FALSE(cl->OpenSession(done).ok());
}

// Appends of sessions in different threads that wait while a pass runs go
// through one forward pass together (Engine's combining), and every score
// is still the same bits as the one-shot score.
TEST(ClassifierTest, ConcurrentSessionAppendsShareForwardPasses) {
  auto cl = Make(Options(true));
  ASSERT_TRUE(cl);
  Engine& engine = cl->engine();
  const std::vector<std::string> chunks = {"Chemistry ",      "grew out of alchemy", ". Lavoisier",
                                           " named oxygen\n", "\nand hydrogen; ",    "the end."};
  constexpr int kSessions = 6;
  bool merged = false;
  for (int attempt = 0; attempt < 5 && !merged; ++attempt) {
    std::vector<std::unique_ptr<StreamSession>> sessions;
    for (int s = 0; s < kSessions; ++s) {
      Item base;
      base.prompt = "question " + std::to_string(s);
      auto session = cl->OpenSession(base);
      ASSERT_TRUE(session.ok());
      sessions.push_back(std::move(session).value());
    }
    // A long pass keeps the engine busy while the sessions queue their first
    // appends behind it.
    std::vector<int32_t> long_ids(4000, 1000);
    auto cache = engine.model().NewCache();
    std::thread blocker([&] {
      SequenceInput in{long_ids, cache.get()};
      EXPECT_TRUE(engine.Prefill(std::span<SequenceInput>(&in, 1)).ok());
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    const uint64_t passes0 = engine.passes(), calls0 = engine.label_calls();
    std::vector<std::vector<Result<ItemScore>>> got(kSessions);
    std::vector<std::thread> threads;
    for (int s = 0; s < kSessions; ++s) {
      threads.emplace_back([&, s] {
        for (const auto& ch : chunks) got[s].push_back(sessions[s]->Append(ch));
      });
    }
    for (auto& t : threads) t.join();
    blocker.join();
    const uint64_t calls = engine.label_calls() - calls0;
    const uint64_t passes = engine.passes() - passes0;  // the blocker's included
    EXPECT_EQ(calls, uint64_t{kSessions} * chunks.size());
    merged = passes < calls + 1;
    for (int s = 0; s < kSessions; ++s) {
      std::string full;
      for (size_t c = 0; c < chunks.size(); ++c) {
        full += chunks[c];
        Item ex;
        ex.prompt = "question " + std::to_string(s);
        ex.response = full;
        auto one = cl->Score(ex);
        ASSERT_TRUE(one.ok() && got[s][c].ok());
        EXPECT_EQ(got[s][c]->p_unsafe, one->p_unsafe) << s << " " << c;
        EXPECT_EQ(got[s][c]->logprob_safe, one->logprob_safe) << s << " " << c;
      }
    }
  }
  EXPECT_TRUE(merged) << "no two appends ever shared a pass";
}

// Greedy decoding of categories continues the item's cache one token at a
// time; each token must be the argmax of a full pass over the prompt and the
// tokens so far, run from scratch.
TEST(ClassifierTest, DecodedCategoriesEqualFullPassGreedy) {
  Json profile = Json::parse(Constitution::BuiltinJsonText("qwen3guard"));
  profile["categories"]["max_new_tokens"] = 6;
  profile["categories"]["line"] = 9;  // never complete: all 6 tokens
  auto c = Constitution::FromJson(profile, "q3g");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ClassifierOptions o = Options(false);
  auto engine = Engine::Create(o);
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  auto cl = Classifier::Create(*engine, *c, std::nullopt);
  ASSERT_TRUE(cl.ok()) << cl.status().ToString();
  Item item;
  item.prompt = "How can I make a bomb?";
  auto got = (*cl)->DecodeCategories(item);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  std::vector<int32_t> seq = *(*cl)->Tokenize(item);
  const Tokenizer& tok = (*engine)->tokenizer();
  std::vector<int32_t> generated;
  for (int step = 0; step < 6; ++step) {
    auto cache = (*engine)->model().NewCache();
    SequenceInput in{seq, cache.get()};
    std::vector<std::vector<float>> logits;
    ASSERT_TRUE((*engine)->Forward(std::span<SequenceInput>(&in, 1), &logits).ok());
    const auto& l = logits[0];
    const auto next = static_cast<int32_t>(std::max_element(l.begin(), l.end()) - l.begin());
    if (tok.IsSpecial(next)) break;
    generated.push_back(next);
    seq.push_back(next);
  }
  EXPECT_EQ(got->text, *tok.Decode(generated, true));
  EXPECT_FALSE(got->text.empty());
  // A profile without categories refuses.
  auto plain = Classifier::Create(*engine, Constitution::Default(), std::nullopt);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ((*plain)->DecodeCategories(item).status().code(), Status::Code::kNotSupported);
}

// Label classes of several tokens: each class is the sum of its tokens'
// probabilities, p_unsafe the unsafe side's share; the batched path (label
// statistics on the device side) equals the reading of the full logits.
TEST(ClassifierTest, LabelClassesSumTheirTokens) {
  Json profile = Json::parse(Constitution::DefaultJsonText());
  profile.erase("labels");
  profile["label_classes"] =
      Json::array({{{"name", "ok"}, {"strings", {"safe", "fine", "OK"}}, {"unsafe", false}},
                   {{"name", "bad"}, {"strings", {"unsafe", "harm"}}, {"unsafe", true}},
                   {{"name", "unsure"}, {"strings", {"maybe"}}, {"unsafe", "strict"}}});
  ClassifierOptions o = Options(false);
  auto engine = Engine::Create(o);
  ASSERT_TRUE(engine.ok());
  for (const char* mode : {"strict", "loose"}) {
    profile["mode"] = mode;
    auto c = Constitution::FromJson(profile, "classes");
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    auto cl = Classifier::Create(*engine, *c, std::nullopt);
    ASSERT_TRUE(cl.ok()) << cl.status().ToString();
    const LabelSet& labels = (*cl)->labels();
    ASSERT_EQ(labels.ids.size(), 6u);
    EXPECT_EQ(labels.classes, (std::vector<size_t>{0, 0, 0, 1, 1, 2}));
    Item item;
    item.prompt = "How do I pick a lock?";
    auto batched = (*cl)->Score(item);
    ASSERT_TRUE(batched.ok()) << batched.status().ToString();
    // The full last-position logits, from a pass of its own.
    std::vector<int32_t> seq = *(*cl)->Tokenize(item);
    auto cache = (*engine)->model().NewCache();
    SequenceInput in{seq, cache.get()};
    std::vector<std::vector<float>> logits;
    ASSERT_TRUE((*engine)->Forward(std::span<SequenceInput>(&in, 1), &logits).ok());
    auto full = (*cl)->ScoreFromLogits(logits[0], static_cast<int64_t>(seq.size()));
    ASSERT_TRUE(full.ok());
    EXPECT_EQ(batched->p_unsafe, full->p_unsafe);
    double p[3] = {0, 0, 0}, z = 0;
    for (float l : logits[0]) z += std::exp(static_cast<double>(l));
    for (size_t i = 0; i < labels.ids.size(); ++i) {
      p[labels.classes[i]] += std::exp(static_cast<double>(logits[0][labels.ids[i]])) / z;
    }
    const bool strict = std::string(mode) == "strict";
    const double unsafe = p[1] + (strict ? p[2] : 0), safe = p[0] + (strict ? 0 : p[2]);
    EXPECT_NEAR(full->p_unsafe, unsafe / (safe + unsafe), 1e-12);
    EXPECT_NEAR(full->label_mass, p[0] + p[1] + p[2], 1e-12);
    ASSERT_EQ(full->class_logprobs.size(), 3u);
    for (int k = 0; k < 3; ++k) EXPECT_NEAR(std::exp(full->class_logprobs[k]), p[k], 1e-12);
    Json out;
    WriteScoreFields(*full, *c, &out);
    EXPECT_NEAR(out["classes"]["unsure"].get<double>(), p[2] / (p[0] + p[1] + p[2]), 1e-12);
    EXPECT_EQ(out["label"], full->unsafe ? "bad" : "ok");
  }
}

TEST(ClassifierTest, Errors) {
  ClassifierOptions o = Options(false);
  o.model_dir = "/nonexistent";
  EXPECT_EQ(Classifier::Create(o).status().code(), Status::Code::kNotFound);
  auto cl = Make(Options(false));
  ASSERT_TRUE(cl);
  Item empty;
  empty.kind = Item::Kind::kText;
  EXPECT_FALSE(cl->Score(empty).ok());
  Item bad;
  bad.prompt = "bad \xc3";
  auto s = cl->Score(bad);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("UTF-8"), std::string::npos);
  Json j = Json::parse(Constitution::DefaultJsonText());
  j["labels"]["unsafe"] = "definitely unsafe";
  auto c = Constitution::FromJson(j, "c.json");
  ASSERT_TRUE(c.ok());
  auto cl2 = Classifier::Create(cl->shared_engine(), std::move(c).value(), std::nullopt);
  ASSERT_FALSE(cl2.ok());
  EXPECT_NE(cl2.status().message().find("exactly one token"), std::string::npos);
}

}  // namespace
}  // namespace ccguard

#include "tokenizer/bpe_model.h"

#include <gtest/gtest.h>

#include <thread>

namespace ccguard {
namespace {

using Ids = std::vector<int32_t>;

std::unique_ptr<BpeModel> MustLoad(const std::string& json) {
  auto r = BpeModel::FromJson(Json::parse(json), "model");
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : nullptr;
}

Ids Tokenize(const BpeModel& m, std::string_view word) {
  Ids ids;
  m.Tokenize(word, &ids);
  return ids;
}

const char kVocab[] = R"("vocab": {"a": 0, "b": 1, "c": 2, "ab": 3, "bc": 4, "abc": 5, "aa": 6})";

TEST(BpeModelTest, LowestRankMergesFirst) {
  auto m = MustLoad(std::string("{") + kVocab + R"(, "merges": ["b c", "a b", "a bc"]})");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(Tokenize(*m, "abc"), Ids{5});  // b+c (rank 0), then a+bc
  EXPECT_EQ(Tokenize(*m, "ab"), Ids{3});
  EXPECT_EQ(Tokenize(*m, "cab"), (Ids{2, 3}));
  EXPECT_EQ(m->num_merges(), 3u);

  auto m2 = MustLoad(std::string("{") + kVocab + R"(, "merges": [["a", "b"], ["b", "c"]]})");
  ASSERT_NE(m2, nullptr);
  EXPECT_EQ(Tokenize(*m2, "abc"), (Ids{3, 2}));  // a+b first; no "ab c" merge
}

TEST(BpeModelTest, TiesGoToTheLeftmostPair) {
  auto m = MustLoad(std::string("{") + kVocab + R"(, "merges": ["a a"]})");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(Tokenize(*m, "aaa"), (Ids{6, 0}));
  EXPECT_EQ(Tokenize(*m, "aaaa"), (Ids{6, 6}));
  EXPECT_EQ(Tokenize(*m, ""), Ids{});
}

TEST(BpeModelTest, VersionLineIsSkipped) {
  auto m = MustLoad(std::string("{") + kVocab + R"(, "merges": ["#version: 0.2", "a b"]})");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->num_merges(), 1u);
  EXPECT_EQ(Tokenize(*m, "ab"), Ids{3});
}

TEST(BpeModelTest, IgnoreMerges) {
  const std::string merges = R"(, "merges": ["a b"])";
  auto plain = MustLoad(std::string("{") + kVocab + merges + "}");
  auto ignore = MustLoad(std::string("{") + kVocab + merges + R"(, "ignore_merges": true})");
  ASSERT_TRUE(plain && ignore);
  EXPECT_EQ(Tokenize(*plain, "abc"), (Ids{3, 2}));
  EXPECT_EQ(Tokenize(*ignore, "abc"), Ids{5});  // whole word is in the vocabulary
  EXPECT_EQ(Tokenize(*ignore, "cab"), (Ids{2, 3}));
}

TEST(BpeModelTest, UnknownCharacters) {
  const std::string vocab = R"({"vocab": {"<unk>": 0, "a": 1, "b": 2, "ab": 3}, "merges": ["a b"])";
  auto drop = MustLoad(vocab + "}");
  auto unk = MustLoad(vocab + R"(, "unk_token": "<unk>"})");
  auto fused = MustLoad(vocab + R"(, "unk_token": "<unk>", "fuse_unk": true})");
  ASSERT_TRUE(drop && unk && fused);
  EXPECT_EQ(Tokenize(*drop, "axxb"), Ids{3});  // dropped; a and b become neighbours
  EXPECT_EQ(Tokenize(*unk, "axxb"), (Ids{1, 0, 0, 2}));
  EXPECT_EQ(Tokenize(*fused, "axxb"), (Ids{1, 0, 2}));
}

TEST(BpeModelTest, ByteFallback) {
  auto m = MustLoad(R"({"vocab": {"<unk>": 0, "a": 1, "<0xC3>": 2, "<0xA9>": 3}, "merges": [],
                        "byte_fallback": true, "unk_token": "<unk>"})");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(Tokenize(*m, "a\xC3\xA9"), (Ids{1, 2, 3}));
  EXPECT_EQ(Tokenize(*m, "\xE4\xB8\xAD"), Ids{0});  // not all bytes present: unk
}

TEST(BpeModelTest, PrefixAndSuffix) {
  auto m = MustLoad(R"({"vocab": {"a": 0, "##b": 1, "##c</w>": 2, "a##b": 3, "ab": 4, "abc</w>": 5,
                                  "b": 6, "##b</w>": 7},
                        "merges": ["a ##b", "ab ##c</w>"],
                        "continuing_subword_prefix": "##", "end_of_word_suffix": "</w>"})");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(Tokenize(*m, "abc"), Ids{5});  // "a"+"##b" -> "ab", "ab"+"##c</w>" -> "abc</w>"
  EXPECT_EQ(Tokenize(*m, "bb"), (Ids{6, 7}));
}

TEST(BpeModelTest, Lookups) {
  auto m = MustLoad(R"({"vocab": {"a": 0, "z": 7}, "merges": []})");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->TokenToId("z"), std::optional<int32_t>(7));
  EXPECT_EQ(m->TokenToId("q"), std::nullopt);
  ASSERT_NE(m->IdToToken(7), nullptr);
  EXPECT_EQ(*m->IdToToken(7), "z");
  EXPECT_EQ(m->IdToToken(3), nullptr);
  EXPECT_EQ(m->IdToToken(-1), nullptr);
  EXPECT_EQ(m->IdToToken(8), nullptr);
  EXPECT_EQ(m->max_id(), 7);
  EXPECT_EQ(m->vocab_count(), 2u);
}

TEST(BpeModelTest, Errors) {
  auto err = [](const std::string& json) {
    auto r = BpeModel::FromJson(Json::parse(json), "t.json: model");
    return r.ok() ? Status::Ok() : r.status();
  };
  Status s = err(R"({"vocab": {"a": 0, "b": 1}, "merges": ["a c"]})");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("t.json: model.merges[0]"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("\"c\""), std::string::npos) << s.ToString();
  s = err(R"({"vocab": {"a": 0, "b": 1}, "merges": ["a b"]})");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("\"ab\""), std::string::npos) << s.ToString();
  EXPECT_FALSE(err(R"({"vocab": {"a": 0}, "merges": ["a"]})").ok());
  EXPECT_FALSE(err(R"({"vocab": {"a": 0}, "merges": ["a  a"]})").ok());
  EXPECT_FALSE(err(R"({"vocab": {"a": 0}, "merges": [["a", 1]]})").ok());
  EXPECT_FALSE(err(R"({"vocab": {"a": 0}})").ok());
  EXPECT_FALSE(err(R"({"merges": []})").ok());
  EXPECT_FALSE(err(R"({"vocab": {"a": 1.5}, "merges": []})").ok());
  EXPECT_FALSE(err(R"({"vocab": {"a": 4294967296}, "merges": []})").ok());
  EXPECT_FALSE(err(R"({"vocab": {}, "merges": [], "unk_token": 3})").ok());
  EXPECT_FALSE(err(R"([])").ok());
  s = err(R"({"vocab": {}, "merges": [], "dropout": 0.5})");
  EXPECT_EQ(s.code(), Status::Code::kNotSupported);
  EXPECT_TRUE(err(R"({"vocab": {}, "merges": [], "dropout": 0.0})").ok());
}

TEST(BpeModelTest, CacheIsThreadSafe) {
  auto m = MustLoad(std::string("{") + kVocab + R"(, "merges": ["b c", "a b", "a bc", "a a"]})");
  ASSERT_NE(m, nullptr);
  std::vector<std::thread> threads;
  std::vector<int> bad(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        std::string word = std::string(static_cast<size_t>(i % 7), 'a') + "bc";
        Ids ids = Tokenize(*m, word);
        Ids again = Tokenize(*m, word);
        if (ids != again || ids.empty() || ids.back() != (i % 7 == 0 ? 4 : 5)) ++bad[t];
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int b : bad) EXPECT_EQ(b, 0);
}

}  // namespace
}  // namespace ccguard

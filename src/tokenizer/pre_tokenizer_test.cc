#include "tokenizer/pre_tokenizer.h"

#include <gtest/gtest.h>

namespace ccguard {
namespace {

using Pieces = std::vector<std::string>;

Pieces Apply(const Json& j, std::string text) {
  auto p = PreTokenizer::FromJson(j, "pre_tokenizer");
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  if (!p.ok()) return {};
  Pieces pieces{std::move(text)};
  Status s = p.value()->PreTokenize(&pieces);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return pieces;
}

Json SplitJson(const std::string& pattern, const std::string& behavior, bool invert = false,
               bool literal = true) {
  return {{"type", "Split"},
          {"pattern", {{literal ? "String" : "Regex", pattern}}},
          {"behavior", behavior},
          {"invert", invert}};
}

TEST(PreTokenizerTest, NullKeepsTheWholeText) {
  EXPECT_EQ(Apply(Json(), "a b"), Pieces{"a b"});
  EXPECT_EQ(Apply(Json(), ""), Pieces{});
}

// The examples of Hugging Face's SplitDelimiterBehavior documentation.
TEST(PreTokenizerTest, SplitBehaviors) {
  const std::string text = "the-final--countdown";
  EXPECT_EQ(Apply(SplitJson("-", "Removed"), text), (Pieces{"the", "final", "countdown"}));
  EXPECT_EQ(Apply(SplitJson("-", "Isolated"), text),
            (Pieces{"the", "-", "final", "-", "-", "countdown"}));
  EXPECT_EQ(Apply(SplitJson("-", "MergedWithPrevious"), text),
            (Pieces{"the-", "final-", "-", "countdown"}));
  EXPECT_EQ(Apply(SplitJson("-", "MergedWithNext"), text),
            (Pieces{"the", "-final", "-", "-countdown"}));
  EXPECT_EQ(Apply(SplitJson("-", "Contiguous"), text),
            (Pieces{"the", "-", "final", "--", "countdown"}));
  // invert: the pattern marks what to keep.
  EXPECT_EQ(Apply(SplitJson("[a-z]+", "Removed", /*invert=*/true, /*literal=*/false), text),
            (Pieces{"the", "final", "countdown"}));
}

TEST(PreTokenizerTest, QwenSequence) {
  const std::string pattern =
      "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}|"
      " ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
  Json j = {{"type", "Sequence"},
            {"pretokenizers", Json::array({SplitJson(pattern, "Isolated", false, /*literal=*/false),
                                           Json{{"type", "ByteLevel"},
                                                {"add_prefix_space", false},
                                                {"trim_offsets", false},
                                                {"use_regex", false}}})}};
  auto p = PreTokenizer::FromJson(j, "pre_tokenizer");
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p.value()->byte_level());
  EXPECT_EQ(Apply(j, "Hello world\n"), (Pieces{"Hello", "\xC4\xA0world", "\xC4\x8A"}));
}

TEST(PreTokenizerTest, ByteLevelWithRegexAndPrefixSpace) {
  Json j = {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"use_regex", true}};
  EXPECT_EQ(Apply(j, "Hello world"), (Pieces{"\xC4\xA0Hello", "\xC4\xA0world"}));
  EXPECT_EQ(Apply(j, " x"), (Pieces{"\xC4\xA0x"}));  // no second space
  Json no_regex = {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}};
  EXPECT_EQ(Apply(no_regex, "a b"), (Pieces{"a\xC4\xA0"
                                            "b"}));
}

TEST(PreTokenizerTest, Errors) {
  auto r = PreTokenizer::FromJson({{"type", "Whitespace"}}, "t.json: pre_tokenizer");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kNotSupported);
  EXPECT_NE(r.status().message().find("Whitespace"), std::string::npos);

  r = PreTokenizer::FromJson(SplitJson("-", "Sideways"), "p");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("p.behavior"), std::string::npos);

  r = PreTokenizer::FromJson({{"type", "Split"}, {"behavior", "Isolated"}}, "p");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("p.pattern"), std::string::npos);

  r = PreTokenizer::FromJson(
      {{"type", "Split"}, {"pattern", {{"Glob", "*"}}}, {"behavior", "Isolated"}}, "p");
  EXPECT_FALSE(r.ok());

  r = PreTokenizer::FromJson(
      {{"type", "Sequence"}, {"pretokenizers", Json::array({Json{{"type", "Digits"}}})}}, "p");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("p.pretokenizers[0].type"), std::string::npos);
  EXPECT_FALSE(PreTokenizer::FromJson({{"type", "ByteLevel"}, {"use_regex", "yes"}}, "p").ok());
}

}  // namespace
}  // namespace ccguard

#include "tokenizer/split_regex.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace ccguard {
namespace {

using Matches = std::vector<std::pair<size_t, size_t>>;

const char kQwenPattern[] =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|"
    "\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

std::unique_ptr<SplitRegex> MustCompile(std::string_view pattern, bool literal = false) {
  auto r = SplitRegex::Compile(pattern, literal, "test");
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : nullptr;
}

std::vector<std::string> Pieces(const SplitRegex& re, std::string_view text) {
  Matches m;
  EXPECT_TRUE(re.FindAll(text, &m).ok());
  std::vector<std::string> out;
  for (auto [s, e] : m) out.emplace_back(text.substr(s, e - s));
  return out;
}

TEST(SplitRegexTest, RewriteWhitespace) {
  const std::string ws = SplitRegex::RewriteWhitespace("\\s");
  EXPECT_EQ(ws.front(), '[');
  EXPECT_NE(ws.find("\\x{85}"), std::string::npos);
  EXPECT_EQ(SplitRegex::RewriteWhitespace("\\S").substr(0, 2), "[^");
  // Inside a class, \s contributes its items without brackets.
  std::string in_class = SplitRegex::RewriteWhitespace("[^\\s\\p{L}]");
  EXPECT_EQ(in_class.substr(0, 2), "[^");
  EXPECT_EQ(in_class.find('[', 1), std::string::npos);
  // Things that only look like \s are left alone.
  EXPECT_EQ(SplitRegex::RewriteWhitespace("\\\\s"), "\\\\s");
  EXPECT_EQ(SplitRegex::RewriteWhitespace("\\Q\\s\\E"), "\\Q\\s\\E");
  EXPECT_EQ(SplitRegex::RewriteWhitespace("[[:alpha:]]"), "[[:alpha:]]");
  EXPECT_EQ(SplitRegex::RewriteWhitespace("[\\S]"), "[\\S]");
  // "]" first in a class is literal, so the class goes on.
  EXPECT_NE(SplitRegex::RewriteWhitespace("[]\\s]").find("\\x{85}"), std::string::npos);
}

TEST(SplitRegexTest, QwenPattern) {
  auto re = MustCompile(kQwenPattern);
  ASSERT_NE(re, nullptr);
  EXPECT_TRUE(re->jit());
  EXPECT_EQ(
      Pieces(*re, "Hello world's  \n\n x 123"),
      (std::vector<std::string>{"Hello", " world", "'s", "  \n\n", " x", " ", "1", "2", "3"}));
  EXPECT_EQ(Pieces(*re, "I'M YOU'RE"), (std::vector<std::string>{"I", "'M", " YOU", "'RE"}));
  EXPECT_EQ(Pieces(*re, "a  b"), (std::vector<std::string>{"a", " ", " b"}));
  EXPECT_EQ(Pieces(*re, "\xE4\xB8\xAD\xE6\x96\x87\xEF\xBC\x8C"),  // 中文，
            (std::vector<std::string>{"\xE4\xB8\xAD\xE6\x96\x87", "\xEF\xBC\x8C"}));
  EXPECT_TRUE(Pieces(*re, "").empty());
}

TEST(SplitRegexTest, WhiteSpaceIsUnicodeWhiteSpace) {
  auto re = MustCompile("\\s+");
  ASSERT_NE(re, nullptr);
  EXPECT_EQ(Pieces(*re,
                   "a\xC2\x85"
                   "b"),
            std::vector<std::string>{"\xC2\x85"});  // NEL
  EXPECT_EQ(Pieces(*re,
                   "a\xE3\x80\x80"
                   "b"),
            std::vector<std::string>{"\xE3\x80\x80"});
  EXPECT_TRUE(Pieces(*re,
                     "a\xE1\xA0\x8E"
                     "b")
                  .empty());  // U+180E is not White_Space
  EXPECT_TRUE(Pieces(*re,
                     "a\xEF\xBB\xBF"
                     "b")
                  .empty());  // nor U+FEFF
  EXPECT_TRUE(Pieces(*re,
                     "a\xE2\x80\x8B"
                     "b")
                  .empty());  // nor U+200B
}

TEST(SplitRegexTest, EmptyMatchesFollowOnigFindIter) {
  auto re = MustCompile("a*");
  ASSERT_NE(re, nullptr);
  Matches m;
  ASSERT_TRUE(re->FindAll("baac", &m).ok());
  EXPECT_EQ(m, (Matches{{0, 0}, {1, 3}, {4, 4}}));
  m.clear();
  ASSERT_TRUE(re->FindAll("\xC3\xA9", &m).ok());  // advances by a whole character
  EXPECT_EQ(m, (Matches{{0, 0}, {2, 2}}));
}

TEST(SplitRegexTest, Literal) {
  auto re = MustCompile(".", /*literal=*/true);
  ASSERT_NE(re, nullptr);
  EXPECT_EQ(Pieces(*re, "a.b.c"), (std::vector<std::string>{".", "."}));
}

TEST(SplitRegexTest, CompileError) {
  auto r = SplitRegex::Compile("(unclosed", false, "tok.json: pre_tokenizer.pattern");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kCorruption);
  EXPECT_NE(r.status().message().find("tok.json: pre_tokenizer.pattern"), std::string::npos);
  EXPECT_NE(r.status().message().find("offset"), std::string::npos);
}

TEST(SplitRegexTest, LongInputsAndThreads) {
  auto re = MustCompile(kQwenPattern);
  ASSERT_NE(re, nullptr);
  std::string spaces(1 << 20, ' ');
  Matches m;
  ASSERT_TRUE(re->FindAll(spaces + "x", &m).ok());
  EXPECT_EQ(m, (Matches{{0, spaces.size() - 1}, {spaces.size() - 1, spaces.size() + 1}}));
  std::vector<std::thread> threads;
  std::vector<int> ok(4, 0);
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        Matches local;
        ok[t] += re->FindAll("It's 42 o'clock,\n\tfriends!", &local).ok() && local.size() == 10;
      }
    });
  }
  for (auto& th : threads) th.join();
  for (int v : ok) EXPECT_EQ(v, 200);
}

}  // namespace
}  // namespace ccguard

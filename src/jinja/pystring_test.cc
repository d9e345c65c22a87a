#include "jinja/pystring.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ccguard::jinja::pystr {
namespace {

using Strings = std::vector<std::string>;
const std::optional<std::string> kNone;

TEST(PyStringTest, CodePoints) {
  EXPECT_EQ(Length("h\u00e9llo \U0001F600"), 7u);
  EXPECT_EQ(Length("\xff\xfe"), 2u);  // invalid bytes count one each
  std::string s = "a\xffz";
  std::vector<uint32_t> cps = CodePoints(s);
  ASSERT_EQ(cps.size(), 3u);
  EXPECT_EQ(FromCodePoints(cps, 0, 3), s);  // invalid bytes round-trip unchanged
  EXPECT_EQ(Upper(s), "A\xffZ");
}

TEST(PyStringTest, Split) {
  EXPECT_EQ(Split(" a  b \t", kNone, -1), (Strings{"a", "b"}));
  EXPECT_EQ(Split(" a  b c ", kNone, 1), (Strings{"a", "b c "}));
  EXPECT_EQ(RSplit(" a  b c ", kNone, 1), (Strings{" a  b", "c"}));
  EXPECT_EQ(Split("a,,b", std::string(","), -1), (Strings{"a", "", "b"}));
  EXPECT_EQ(RSplit("a,,b", std::string(","), 1), (Strings{"a,", "b"}));
  EXPECT_EQ(Split("", kNone, -1), Strings{});
  EXPECT_EQ(Split("", std::string(","), -1), Strings{""});
  EXPECT_EQ(Split("a\u3000b", kNone, -1), (Strings{"a", "b"}));  // Unicode whitespace
  EXPECT_EQ(Split("x</think>y</think>z", std::string("</think>"), -1), (Strings{"x", "y", "z"}));
}

TEST(PyStringTest, StripAndReplace) {
  EXPECT_EQ(Strip("\u3000x\u00a0", kNone, true, true), "x");
  EXPECT_EQ(Strip("xyhixy", std::string("yx"), true, true), "hi");
  EXPECT_EQ(Strip("\n\nhi\n", std::string("\n"), true, false), "hi\n");
  EXPECT_EQ(Strip("\n\nhi\n", std::string("\n"), false, true), "\n\nhi");
  EXPECT_EQ(Strip("\u00e9a\u00e9", std::string("\u00e9"), true, true), "a");
  EXPECT_EQ(Replace("aXbXc", "X", "--", -1), "a--b--c");
  EXPECT_EQ(Replace("abc", "", "-", 2), "-a-bc");
  EXPECT_EQ(Replace("abc", "", "-", -1), "-a-b-c-");
  EXPECT_EQ(Replace("aaa", "a", "b", 0), "aaa");
}

TEST(PyStringTest, FindCountAffixes) {
  EXPECT_EQ(Find("h\u00e9llo w\u00f6rld", "w", std::nullopt, std::nullopt, false), 6);
  EXPECT_EQ(Find("h\u00e9llo", "l", -2, std::nullopt, false), 3);
  EXPECT_EQ(Find("abc", "", 5, std::nullopt, false), -1);
  EXPECT_EQ(Find("abc", "", 3, std::nullopt, false), 3);
  EXPECT_EQ(Find("abcabc", "b", 0, 4, true), 1);
  EXPECT_EQ(Count("aaa", "a", std::nullopt, std::nullopt), 3);
  EXPECT_EQ(Count("abc", "", std::nullopt, std::nullopt), 4);
  EXPECT_EQ(Count("abc", "", 1, std::nullopt), 3);
  EXPECT_TRUE(StartsWith("abc", "b", 1, std::nullopt));
  EXPECT_FALSE(StartsWith("abc", "", 4, std::nullopt));
  EXPECT_TRUE(EndsWith("abc", "b", 0, 2));
  EXPECT_TRUE(EndsWith("abc", "", std::nullopt, std::nullopt));
}

TEST(PyStringTest, SplitLinesAndPad) {
  EXPECT_EQ(SplitLines("a\nb\r\nc\rd\x0b"
                       "e\x1c"
                       "f\u2028g\n"),
            (Strings{"a", "b", "c", "d", "e", "f", "g"}));
  EXPECT_EQ(SplitLines(""), Strings{});
  EXPECT_EQ(Pad("ab", 5, '*', 0), "**ab*");
  EXPECT_EQ(Pad("ab", 6, ' ', 0), "  ab  ");
  EXPECT_EQ(Pad("abc", 6, ' ', 0), " abc  ");
  EXPECT_EQ(Pad("ab", 4, '.', -1), "ab..");
  EXPECT_EQ(Pad("ab", 4, ' ', 1), "  ab");
  EXPECT_EQ(Pad("abc", 2, ' ', 0), "abc");
}

TEST(PyStringTest, Case) {
  EXPECT_EQ(Title("they're bill's friends from the UK"), "They'Re Bill'S Friends From The Uk");
  EXPECT_EQ(Capitalize("hELLO wORLD"), "Hello world");
  EXPECT_EQ(Capitalize("\u01c6a"), "\u01c5a");  // title case, not upper case
  EXPECT_EQ(JinjaTitle("hello wORLD-foo (bar) [baz] {q} <r>"),
            "Hello World-Foo (Bar) [Baz] {Q} <R>");
  EXPECT_EQ(JinjaTitle("they're"), "They're");
  EXPECT_EQ(Upper("stra\u00dfe \u00e4 \ufb01"), "STRASSE \u00c4 FI");
  EXPECT_EQ(Capitalize("\u00dfx"), "Ssx");
  EXPECT_EQ(Lower("\u0130"), "i\u0307");
  EXPECT_EQ(Lower("\u00c4\u00d6\u00dc"), "\u00e4\u00f6\u00fc");
  EXPECT_EQ(SwapCase("aB"), "Ab");
}

TEST(PyStringTest, CharacterClasses) {
  EXPECT_TRUE(IsSpace(0x3000));
  EXPECT_TRUE(IsSpace(0x1c));
  EXPECT_FALSE(IsSpace(0x200b));
  EXPECT_TRUE(IsPrintable(' '));
  EXPECT_FALSE(IsPrintable(0xa0));
  EXPECT_FALSE(IsPrintable(0xad));
  EXPECT_TRUE(IsPrintable(0xe9));
  EXPECT_TRUE(IsWordChar('_'));
  EXPECT_TRUE(IsWordChar(0x65e5));
  EXPECT_FALSE(IsWordChar('-'));
}

}  // namespace
}  // namespace ccguard::jinja::pystr

#include "jinja/lexer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace ccguard::jinja {
namespace {

// "T:value" per token (T: D data, { var begin, } var end, < block begin, > block end,
// N name, S string, I int, F float, O operator).
std::string Lex(const std::string& src, LexerOptions o = {}) {
  auto toks = Tokenize(NormalizeSource(src), o);
  if (!toks.ok()) return "ERROR: " + toks.status().message();
  std::string out;
  for (const Token& t : *toks) {
    switch (t.type) {
      case TokenType::kData:
        out += "D:" + t.value;
        break;
      case TokenType::kVariableBegin:
        out += "{";
        break;
      case TokenType::kVariableEnd:
        out += "}";
        break;
      case TokenType::kBlockBegin:
        out += "<";
        break;
      case TokenType::kBlockEnd:
        out += ">";
        break;
      case TokenType::kName:
        out += "N:" + t.value;
        break;
      case TokenType::kString:
        out += "S:" + t.value;
        break;
      case TokenType::kInteger:
        out += "I:" + std::to_string(t.int_value);
        break;
      case TokenType::kFloat:
        out += "F:" + std::to_string(t.float_value);
        break;
      case TokenType::kOperator:
        out += "O:" + t.value;
        break;
      case TokenType::kEof:
        out += "$";
        break;
    }
    out += " ";
  }
  return out;
}

TEST(LexerTest, NormalizeSource) {
  EXPECT_EQ(NormalizeSource("a\r\nb\rc\n"), "a\nb\nc");
  EXPECT_EQ(NormalizeSource("a\n\n"), "a\n");
  EXPECT_EQ(NormalizeSource(""), "");
  EXPECT_EQ(NormalizeSource("x\r"), "x");
}

TEST(LexerTest, Basic) {
  EXPECT_EQ(Lex("a {{ x }} b"), "D:a  { N:x } D: b $ ");
  EXPECT_EQ(Lex("{% if a.b[0] %}"), "< N:if N:a O:. N:b O:[ I:0 O:] > $ ");
  EXPECT_EQ(Lex("{{ a // b ** c == d != e >= f <= g ~ h }}"),
            "{ N:a O:// N:b O:** N:c O:== N:d O:!= N:e O:>= N:f O:<= N:g O:~ N:h } $ ");
  EXPECT_EQ(Lex("{{ {'a': 1} }}"), "{ O:{ S:a O:: I:1 O:} } $ ");
}

TEST(LexerTest, Numbers) {
  EXPECT_EQ(Lex("{{ 1_000 0x1F 0o17 0b11 1.5 2e3 1.5e-1 00 01 }}"),
            "{ I:1000 I:31 I:15 I:3 F:1.500000 F:2000.000000 F:0.150000 I:0 I:0 I:1 } $ ");
  EXPECT_EQ(Lex("{{ x.0.1 }}"), "{ N:x O:. I:0 O:. I:1 } $ ");  // no float after '.'
  EXPECT_EQ(Lex("{{ 99999999999999999999 }}").substr(0, 6), "ERROR:");
}

TEST(LexerTest, Strings) {
  EXPECT_EQ(Lex(R"({{ 'a\'b' "c\"d" 'e\nf\tg\\h' }})"), "{ S:a'b S:c\"d S:e\nf\tg\\h } $ ");
  EXPECT_EQ(Lex(R"({{ '\x41\u00e9\U0001F600\101\q' }})"), "{ S:A\u00e9\U0001F600A\\q } $ ");
  EXPECT_EQ(Lex("{{ '\\\u00e9' }}"), "{ S:\\xe9 } $ ");  // Python's backslashreplace quirk
  EXPECT_EQ(Lex("{{ 'a\\\nb' }}"), "{ S:ab } $ ");       // escaped newline
  EXPECT_EQ(Lex("{{ '\\x4' }}"), "ERROR: line 1, column 4: truncated \\xXX escape");
}

TEST(LexerTest, WhitespaceControl) {
  EXPECT_EQ(Lex("a  \n  {%- x -%}  \n  b"), "D:a < N:x > D:b $ ");
  EXPECT_EQ(Lex("a\n  {% x %}\n  b"), "D:a\n < N:x > D:  b $ ");
  EXPECT_EQ(Lex("a  {% x %}  b"), "D:a   < N:x > D:  b $ ");  // not at line start
  EXPECT_EQ(Lex("  {% x %}"), "< N:x > $ ");                  // start of template
  EXPECT_EQ(Lex("a\n  {%+ x +%}\nb"), "D:a\n   < N:x > D:\nb $ ");
  EXPECT_EQ(Lex("a\n  {{ x }}\nb"), "D:a\n   { N:x } D:\nb $ ");  // variables are not lstripped
  EXPECT_EQ(Lex("a\n  {{- x -}}\n b"), "D:a { N:x } D:b $ ");
  EXPECT_EQ(Lex("a\n  {# c #}\nb"), "D:a\n D:b $ ");
  EXPECT_EQ(Lex("a {#- c -#}  b"), "D:a D:b $ ");
  EXPECT_EQ(Lex("{% x %}\r\nb"), "< N:x > D:b $ ");
  LexerOptions off;
  off.trim_blocks = false;
  off.lstrip_blocks = false;
  EXPECT_EQ(Lex("a\n  {% x %}\nb", off), "D:a\n   < N:x > D:\nb $ ");
}

TEST(LexerTest, Raw) {
  EXPECT_EQ(Lex("{% raw %}\n {{ x }} {% if %}{% endraw %}\nz"), "D:\n {{ x }} {% if %} D:z $ ");
  EXPECT_EQ(Lex("{%- raw -%}\n  x  \n  {%- endraw -%}\n z"), "D:x D:z $ ");
  EXPECT_EQ(Lex("a\n  {% raw %}x\n  {% endraw %}"), "D:a\n D:x\n $ ");
  EXPECT_EQ(Lex("{% raw %}x"), "ERROR: line 1, column 1: Missing end of raw directive");
}

TEST(LexerTest, Errors) {
  EXPECT_EQ(Lex("x\n {# open"), "ERROR: line 2, column 2: Missing end of comment tag");
  EXPECT_EQ(Lex("{{ a ! b }}"), "ERROR: line 1, column 6: unexpected char ! at 5");
  EXPECT_EQ(Lex("{{ 'open }}"), "ERROR: line 1, column 4: unexpected char \"'\" at 3");
  EXPECT_EQ(Lex("{{ (] }}"), "ERROR: line 1, column 5: unexpected ']', expected ')'");
  EXPECT_EQ(Lex("{{ ) }}"), "ERROR: line 1, column 4: unexpected ')'");
  // An unterminated tag is left to the parser (which reports what it expected).
  EXPECT_EQ(Lex("{{ x"), "{ N:x $ ");
}

TEST(LexerTest, LocationsAndLines) {
  EXPECT_EQ(DescribeLocation("ab\n\u00e9\u00e9x", 7), "line 2, column 3");
  auto toks = Tokenize("a\n{{ x }}\n\n{% y %}", {});
  ASSERT_TRUE(toks.ok());
  EXPECT_EQ((*toks)[1].line, 2);  // {{
  EXPECT_EQ((*toks)[5].line, 4);  // {%
  EXPECT_EQ(DescribeToken((*toks)[3]), "end of print statement");
}

TEST(LexerTest, UnicodeNames) { EXPECT_EQ(Lex("{{ caf\u00e9 }}"), "{ N:caf\u00e9 } $ "); }

}  // namespace
}  // namespace ccguard::jinja

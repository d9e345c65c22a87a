// Lexer: template source -> tokens, exactly as Jinja2 3.1's lexer splits and trims text.
//
// Whitespace control follows Jinja2: `{%-`/`{{-`/`{#-` strip all whitespace before the
// tag, `-%}`/`-}}`/`-#}` strip all whitespace after it, trim_blocks removes one "\n" after a
// block or comment tag, lstrip_blocks removes spaces and tabs between the start of a line
// and a block or comment tag, and `{%+`/`+%}` disable both. Line endings (\r\n, \r) are
// normalised to \n and one trailing newline is dropped (keep_trailing_newline=False) by
// NormalizeSource, which the caller applies first.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace ccguard::jinja {

enum class TokenType {
  kData,           // template text (value)
  kVariableBegin,  // {{
  kVariableEnd,    // }}
  kBlockBegin,     // {%
  kBlockEnd,       // %}
  kName,           // identifier or keyword (value)
  kString,         // string literal, unescaped (value)
  kInteger,        // int_value
  kFloat,          // float_value
  kOperator,       // value: "+", "//", "(", ...
  kEof,
};

struct Token {
  TokenType type = TokenType::kEof;
  std::string value;
  int64_t int_value = 0;
  double float_value = 0;
  size_t offset = 0;  // byte offset in the normalised source
  int line = 1;
};

struct LexerOptions {
  bool trim_blocks = true;
  bool lstrip_blocks = true;
};

// Normalises line endings to \n and drops one trailing newline, as Jinja2 does.
std::string NormalizeSource(std::string_view source);

// "line L, column C" (1-based; the column counts code points) of `offset` in `source`.
std::string DescribeLocation(std::string_view source, size_t offset);

// Tokenises normalised source. The last token is kEof. Errors (unterminated comment or
// raw block, unexpected character, bad escape, unbalanced brackets) name line and column.
Result<std::vector<Token>> Tokenize(std::string_view source, const LexerOptions& options);

// A short description of a token for error messages ("end of print statement", "'x'").
std::string DescribeToken(const Token& token);

}  // namespace ccguard::jinja

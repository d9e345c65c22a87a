#include "jinja/lexer.h"

#include <utf8proc.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "jinja/pystring.h"
#include "util/utf8.h"

namespace ccguard::jinja {

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsOctal(char c) { return c >= '0' && c <= '7'; }
bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
int HexVal(char c) {
  if (IsDigit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

bool IsNameStart(uint32_t cp) {
  if (cp < 0x80) return cp == '_' || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
  if (cp > 0x10FFFF) return false;
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(cp))) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_NL:
      return true;
    default:
      return false;
  }
}

bool IsNameContinue(uint32_t cp) {
  if (cp < 0x80) return IsNameStart(cp) || IsDigit(static_cast<char>(cp));
  if (IsNameStart(cp)) return true;
  if (cp > 0x10FFFF) return false;
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(cp))) {
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_MC:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_PC:
      return true;
    default:
      return false;
  }
}

class Lexer {
 public:
  Lexer(std::string_view src, const LexerOptions& o) : s_(src), o_(o) {}

  Result<std::vector<Token>> Run() {
    Status st = Root();
    if (!st.ok()) return st;
    Emit(TokenType::kEof, s_.size());
    return std::move(tokens_);
  }

 private:
  enum class Tag { kVariable, kBlock, kComment, kRaw };

  Status Fail(size_t offset, const std::string& msg) {
    return Status::InvalidArgument(DescribeLocation(s_, offset) + ": " + msg);
  }

  int LineAt(size_t offset) {
    while (line_offset_ < offset && line_offset_ < s_.size()) {
      if (s_[line_offset_] == '\n') ++line_;
      ++line_offset_;
    }
    return line_;
  }

  Token& Emit(TokenType type, size_t offset, std::string value = {}) {
    Token t;
    t.type = type;
    t.offset = offset;
    t.line = LineAt(offset);
    t.value = std::move(value);
    tokens_.push_back(std::move(t));
    return tokens_.back();
  }

  bool StartsAt(size_t pos, std::string_view what) const {
    return s_.substr(pos, what.size()) == what;
  }

  // Skips Python regex \s (Unicode whitespace) from pos; returns the new position.
  size_t SkipSpace(size_t pos) const {
    while (pos < s_.size()) {
      size_t p = pos;
      if (!pystr::IsSpace(pystr::DecodeNext(s_, &p))) break;
      pos = p;
    }
    return pos;
  }

  // Matches `{%(-|+|)\s*<word>\s*` at pos; returns the position after it or npos. *sign
  // receives the control character (0 if none).
  size_t MatchBlockWord(size_t pos, std::string_view word, char* sign) const {
    if (!StartsAt(pos, "{%")) return std::string_view::npos;
    size_t p = pos + 2;
    *sign = 0;
    if (p < s_.size() && (s_[p] == '-' || s_[p] == '+')) *sign = s_[p++];
    p = SkipSpace(p);
    if (!StartsAt(p, word)) return std::string_view::npos;
    return SkipSpace(p + word.size());
  }

  // Applies `-` / lstrip_blocks to the text before a tag.
  std::string_view StripBefore(std::string_view text, char sign, bool is_variable) const {
    if (sign == '-') {
      size_t end = text.size();
      // rstrip(): walk forward remembering the end of the last non-space code point.
      size_t p = 0, keep = 0;
      while (p < end) {
        uint32_t c = pystr::DecodeNext(text, &p);
        if (!pystr::IsSpace(c)) keep = p;
      }
      return text.substr(0, keep);
    }
    if (sign != '+' && o_.lstrip_blocks && !is_variable) {
      size_t nl = text.rfind('\n');
      size_t l_pos = nl == std::string_view::npos ? 0 : nl + 1;
      if (l_pos > 0 || line_starting_) {
        bool only_blank = true;
        for (size_t i = l_pos; i < text.size(); ++i) {
          if (text[i] != ' ' && text[i] != '\t') {
            only_blank = false;
            break;
          }
        }
        if (only_blank) return text.substr(0, l_pos);
      }
    }
    return text;
  }

  void EmitData(size_t offset, std::string_view text) {
    if (!text.empty()) Emit(TokenType::kData, offset, std::string(text));
  }

  // Sets line_starting_ from the last character consumed by a match ending at `end`.
  void EndMatch(size_t start, size_t end) { line_starting_ = end > start && s_[end - 1] == '\n'; }

  Status Root() {
    size_t pos = 0;
    while (pos < s_.size()) {
      // Find the next tag opener.
      size_t p = pos;
      Tag tag = Tag::kBlock;
      size_t raw_end = std::string_view::npos;
      char sign = 0;
      for (;; ++p) {
        p = s_.find('{', p);
        if (p == std::string_view::npos || p + 1 >= s_.size()) {
          p = std::string_view::npos;
          break;
        }
        char c = s_[p + 1];
        if (c == '%') {
          // {%(-|+|)\s*raw\s*(?:-%}\s*|%})
          char raw_sign;
          size_t q = MatchBlockWord(p, "raw", &raw_sign);
          if (q != std::string_view::npos) {
            if (StartsAt(q, "-%}")) {
              raw_end = SkipSpace(q + 3);
            } else if (StartsAt(q, "%}")) {
              raw_end = q + 2;
            }
          }
          if (raw_end != std::string_view::npos) {
            tag = Tag::kRaw;
            sign = raw_sign;
          } else {
            tag = Tag::kBlock;
          }
          break;
        }
        if (c == '{') {
          tag = Tag::kVariable;
          break;
        }
        if (c == '#') {
          tag = Tag::kComment;
          break;
        }
      }
      if (p == std::string_view::npos) {
        EmitData(pos, s_.substr(pos));
        return Status::Ok();
      }
      size_t after = p + 2;
      if (tag != Tag::kRaw) {
        sign = 0;
        if (after < s_.size() && (s_[after] == '-' || s_[after] == '+')) sign = s_[after++];
      } else {
        after = raw_end;
      }
      EmitData(pos, StripBefore(s_.substr(pos, p - pos), sign, tag == Tag::kVariable));
      EndMatch(pos, after);
      pos = after;
      switch (tag) {
        case Tag::kVariable:
          Emit(TokenType::kVariableBegin, p);
          CCG_RETURN_IF_ERROR(InTag(&pos, /*block=*/false));
          break;
        case Tag::kBlock:
          Emit(TokenType::kBlockBegin, p);
          CCG_RETURN_IF_ERROR(InTag(&pos, /*block=*/true));
          break;
        case Tag::kComment:
          CCG_RETURN_IF_ERROR(Comment(p, &pos));
          break;
        case Tag::kRaw:
          CCG_RETURN_IF_ERROR(Raw(p, &pos));
          break;
      }
    }
    return Status::Ok();
  }

  Status Comment(size_t open, size_t* pos) {
    size_t k = s_.find("#}", *pos);
    if (k == std::string_view::npos) return Fail(open, "Missing end of comment tag");
    size_t j = k;
    if (k > *pos && (s_[k - 1] == '-' || s_[k - 1] == '+')) j = k - 1;
    size_t end = k + 2;
    if (j < k && s_[j] == '-') {
      end = SkipSpace(end);
    } else if (j == k && o_.trim_blocks && end < s_.size() && s_[end] == '\n') {
      ++end;
    }
    EndMatch(*pos, end);
    *pos = end;
    return Status::Ok();
  }

  Status Raw(size_t open, size_t* pos) {
    for (size_t j = s_.find("{%", *pos); j != std::string_view::npos; j = s_.find("{%", j + 1)) {
      char sign;
      size_t q = MatchBlockWord(j, "endraw", &sign);
      if (q == std::string_view::npos) continue;
      size_t end;
      if (StartsAt(q, "+%}")) {
        end = q + 3;
      } else if (StartsAt(q, "-%}")) {
        end = SkipSpace(q + 3);
      } else if (StartsAt(q, "%}")) {
        end = q + 2;
        if (o_.trim_blocks && end < s_.size() && s_[end] == '\n') ++end;
      } else {
        continue;
      }
      EmitData(*pos, StripBefore(s_.substr(*pos, j - *pos), sign, false));
      EndMatch(*pos, end);
      *pos = end;
      return Status::Ok();
    }
    return Fail(open, "Missing end of raw directive");
  }

  // Inside {{ }} or {% %}: emits tokens up to and including the end tag.
  Status InTag(size_t* pos_io, bool block) {
    size_t pos = *pos_io;
    std::vector<char> balance;
    while (pos < s_.size()) {
      size_t start = pos;
      if (balance.empty()) {
        size_t end = std::string_view::npos;
        if (block) {
          if (StartsAt(pos, "+%}")) {
            end = pos + 3;
          } else if (StartsAt(pos, "-%}")) {
            end = SkipSpace(pos + 3);
          } else if (StartsAt(pos, "%}")) {
            end = pos + 2;
            if (o_.trim_blocks && end < s_.size() && s_[end] == '\n') ++end;
          }
        } else {
          if (StartsAt(pos, "-}}")) {
            end = SkipSpace(pos + 3);
          } else if (StartsAt(pos, "}}")) {
            end = pos + 2;
          }
        }
        if (end != std::string_view::npos) {
          Emit(block ? TokenType::kBlockEnd : TokenType::kVariableEnd, pos);
          EndMatch(start, end);
          *pos_io = end;
          return Status::Ok();
        }
      }
      // Whitespace.
      size_t ws = SkipSpace(pos);
      if (ws > pos) {
        EndMatch(pos, ws);
        pos = ws;
        continue;
      }
      char c = s_[pos];
      // Float, then integer.
      if (IsDigit(c)) {
        size_t fend = MatchFloat(pos);
        if (fend != std::string_view::npos) {
          std::string text = WithoutUnderscores(s_.substr(pos, fend - pos));
          Emit(TokenType::kFloat, pos, text).float_value = std::strtod(text.c_str(), nullptr);
          pos = fend;
          line_starting_ = false;
          continue;
        }
        int64_t value = 0;
        size_t iend = pos + 1;
        CCG_RETURN_IF_ERROR(MatchInteger(pos, &iend, &value));
        Emit(TokenType::kInteger, pos, std::string(s_.substr(pos, iend - pos))).int_value = value;
        pos = iend;
        line_starting_ = false;
        continue;
      }
      // Name.
      {
        size_t p = pos;
        uint32_t cp = pystr::DecodeNext(s_, &p);
        if (IsNameStart(cp)) {
          size_t q = p;
          while (q < s_.size()) {
            size_t r = q;
            if (!IsNameContinue(pystr::DecodeNext(s_, &r))) break;
            q = r;
          }
          Emit(TokenType::kName, pos, std::string(s_.substr(pos, q - pos)));
          pos = q;
          line_starting_ = false;
          continue;
        }
      }
      // String.
      if (c == '\'' || c == '"') {
        size_t q = pos + 1;
        bool closed = false;
        while (q < s_.size()) {
          if (s_[q] == '\\') {
            if (q + 1 >= s_.size()) break;
            size_t r = q + 1;
            pystr::DecodeNext(s_, &r);
            q = r;
            continue;
          }
          if (s_[q] == c) {
            closed = true;
            break;
          }
          ++q;
        }
        if (closed) {
          std::string value;
          CCG_RETURN_IF_ERROR(Unescape(pos, s_.substr(pos + 1, q - pos - 1), &value));
          Emit(TokenType::kString, pos, std::move(value));
          EndMatch(pos, q + 1);
          pos = q + 1;
          continue;
        }
        return Fail(pos, std::string("unexpected char ") + (c == '\'' ? "\"'\"" : "'\"'") + " at " +
                             std::to_string(pos));
      }
      // Operator.
      static const char* kTwo[] = {"//", "**", "==", "!=", ">=", "<="};
      std::string op;
      for (const char* t : kTwo) {
        if (StartsAt(pos, t)) {
          op = t;
          break;
        }
      }
      if (op.empty() && std::strchr("+-/*%~[](){}><=.:|,;", c) != nullptr && c != 0) {
        op = std::string(1, c);
      }
      if (op.empty()) {
        size_t p = pos;
        pystr::DecodeNext(s_, &p);
        return Fail(pos, "unexpected char " + std::string(s_.substr(pos, p - pos)) + " at " +
                             std::to_string(pos));
      }
      if (op == "(" || op == "[" || op == "{") {
        balance.push_back(op == "(" ? ')' : op == "[" ? ']' : '}');
      } else if (op == ")" || op == "]" || op == "}") {
        if (balance.empty()) return Fail(pos, "unexpected '" + op + "'");
        char expected = balance.back();
        balance.pop_back();
        if (expected != op[0]) {
          return Fail(pos, "unexpected '" + op + "', expected '" + std::string(1, expected) + "'");
        }
      }
      Emit(TokenType::kOperator, pos, op);
      pos += op.size();
      line_starting_ = false;
    }
    // End of input inside a tag: the parser reports what it expected.
    *pos_io = pos;
    return Status::Ok();
  }

  static std::string WithoutUnderscores(std::string_view t) {
    std::string out;
    for (char c : t) {
      if (c != '_') out.push_back(c);
    }
    return out;
  }

  // d+(_d+)* at pos; npos if no digit.
  size_t MatchDigits(size_t pos) const {
    if (pos >= s_.size() || !IsDigit(s_[pos])) return std::string_view::npos;
    while (pos < s_.size() && IsDigit(s_[pos])) ++pos;
    while (pos + 1 < s_.size() && s_[pos] == '_' && IsDigit(s_[pos + 1])) {
      ++pos;
      while (pos < s_.size() && IsDigit(s_[pos])) ++pos;
    }
    return pos;
  }

  size_t MatchFloat(size_t pos) const {
    if (pos > 0 && s_[pos - 1] == '.') return std::string_view::npos;
    size_t p = MatchDigits(pos);
    if (p == std::string_view::npos) return p;
    size_t frac = std::string_view::npos;
    if (p < s_.size() && s_[p] == '.') frac = MatchDigits(p + 1);
    // First alternative: optional fraction, then exponent.
    for (size_t base : {frac, p}) {
      if (base == std::string_view::npos) continue;
      if (base < s_.size() && (s_[base] == 'e' || s_[base] == 'E')) {
        size_t q = base + 1;
        if (q < s_.size() && (s_[q] == '+' || s_[q] == '-')) ++q;
        size_t e = MatchDigits(q);
        if (e != std::string_view::npos) return e;
      }
    }
    return frac;  // fraction only, or npos
  }

  Status MatchInteger(size_t pos, size_t* end, int64_t* value) {
    auto overflow = [&]() { return Fail(pos, "integer literal too large"); };
    if (s_[pos] == '0' && pos + 1 < s_.size()) {
      char k = static_cast<char>(s_[pos + 1] | 0x20);
      int base = k == 'b' ? 2 : k == 'o' ? 8 : k == 'x' ? 16 : 0;
      if (base) {
        auto ok_digit = [&](char d) {
          return base == 16 ? IsHex(d) : base == 8 ? IsOctal(d) : (d == '0' || d == '1');
        };
        size_t q = pos + 2;
        uint64_t v = 0;
        bool any = false;
        while (q < s_.size()) {
          if (s_[q] == '_' && q + 1 < s_.size() && ok_digit(s_[q + 1])) ++q;
          if (!ok_digit(s_[q])) break;
          if (v > (static_cast<uint64_t>(INT64_MAX) - HexVal(s_[q])) / base) return overflow();
          v = v * base + HexVal(s_[q]);
          any = true;
          ++q;
        }
        if (any) {
          *end = q;
          *value = static_cast<int64_t>(v);
          return Status::Ok();
        }
      }
    }
    if (s_[pos] == '0') {
      size_t q = pos + 1;
      while (q < s_.size()) {
        if (s_[q] == '0') {
          ++q;
        } else if (s_[q] == '_' && q + 1 < s_.size() && s_[q + 1] == '0') {
          q += 2;
        } else {
          break;
        }
      }
      *end = q;
      *value = 0;
      return Status::Ok();
    }
    size_t q = pos;
    uint64_t v = 0;
    while (q < s_.size()) {
      if (s_[q] == '_' && q + 1 < s_.size() && IsDigit(s_[q + 1])) ++q;
      if (!IsDigit(s_[q])) break;
      if (v > (static_cast<uint64_t>(INT64_MAX) - (s_[q] - '0')) / 10) return overflow();
      v = v * 10 + (s_[q] - '0');
      ++q;
    }
    *end = q;
    *value = static_cast<int64_t>(v);
    return Status::Ok();
  }

  // Python's "unicode-escape" decoding of a literal body (after backslashreplace).
  Status Unescape(size_t at, std::string_view body, std::string* out) {
    for (size_t i = 0; i < body.size();) {
      char c = body[i];
      if (c != '\\') {
        out->push_back(c);
        ++i;
        continue;
      }
      if (i + 1 >= body.size()) return Fail(at, "\\ at end of string");
      char e = body[i + 1];
      i += 2;
      switch (e) {
        case '\n':
          break;
        case '\\':
        case '\'':
        case '"':
          out->push_back(e);
          break;
        case 'a':
          out->push_back('\a');
          break;
        case 'b':
          out->push_back('\b');
          break;
        case 'f':
          out->push_back('\f');
          break;
        case 'n':
          out->push_back('\n');
          break;
        case 'r':
          out->push_back('\r');
          break;
        case 't':
          out->push_back('\t');
          break;
        case 'v':
          out->push_back('\v');
          break;
        case 'x':
        case 'u':
        case 'U': {
          int n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
          uint32_t v = 0;
          for (int k = 0; k < n; ++k) {
            if (i + k >= body.size() || !IsHex(body[i + k])) {
              return Fail(at, e == 'x'   ? "truncated \\xXX escape"
                              : e == 'u' ? "truncated \\uXXXX escape"
                                         : "truncated \\UXXXXXXXX escape");
            }
            v = v * 16 + HexVal(body[i + k]);
          }
          if (v > 0x10FFFF) return Fail(at, "illegal Unicode character");
          i += n;
          AppendUtf8(v, out);
          break;
        }
        case 'N':
          return Fail(at, "\\N{...} escapes are not supported");
        default:
          if (IsOctal(e)) {
            uint32_t v = e - '0';
            for (int k = 0; k < 2 && i < body.size() && IsOctal(body[i]); ++k, ++i) {
              v = v * 8 + (body[i] - '0');
            }
            AppendUtf8(v, out);
          } else if (static_cast<unsigned char>(e) >= 0x80) {
            // Python sees backslashreplace's "\xe9" after the backslash: "\\" + "xe9".
            size_t p = i - 1;
            uint32_t cp = pystr::DecodeNext(body, &p);
            char buf[16];
            if (cp >= 0xDC80 && cp <= 0xDCFF) cp -= 0xDC00;
            if (cp <= 0xFF) {
              std::snprintf(buf, sizeof(buf), "x%02x", cp);
            } else if (cp <= 0xFFFF) {
              std::snprintf(buf, sizeof(buf), "u%04x", cp);
            } else {
              std::snprintf(buf, sizeof(buf), "U%08x", cp);
            }
            out->push_back('\\');
            out->append(buf);
            i = p;
          } else {
            out->push_back('\\');
            out->push_back(e);
          }
      }
    }
    return Status::Ok();
  }

  std::string_view s_;
  LexerOptions o_;
  std::vector<Token> tokens_;
  bool line_starting_ = true;
  size_t line_offset_ = 0;
  int line_ = 1;
};

}  // namespace

std::string NormalizeSource(std::string_view source) {
  std::string out;
  out.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    char c = source[i];
    if (c == '\r') {
      out.push_back('\n');
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      out.push_back(c);
    }
  }
  if (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::string DescribeLocation(std::string_view source, size_t offset) {
  if (offset > source.size()) offset = source.size();
  int line = 1;
  size_t line_start = 0;
  for (size_t i = 0; i < offset; ++i) {
    if (source[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  size_t column = pystr::Length(source.substr(line_start, offset - line_start)) + 1;
  return "line " + std::to_string(line) + ", column " + std::to_string(column);
}

std::string DescribeToken(const Token& t) {
  switch (t.type) {
    case TokenType::kData:
      return "template data / text";
    case TokenType::kVariableBegin:
      return "begin of print statement";
    case TokenType::kVariableEnd:
      return "end of print statement";
    case TokenType::kBlockBegin:
      return "begin of statement block";
    case TokenType::kBlockEnd:
      return "end of statement block";
    case TokenType::kEof:
      return "end of template";
    case TokenType::kString:
      return "string";
    case TokenType::kInteger:
      return "integer";
    case TokenType::kFloat:
      return "float";
    default:
      return t.value;
  }
}

Result<std::vector<Token>> Tokenize(std::string_view source, const LexerOptions& options) {
  return Lexer(source, options).Run();
}

}  // namespace ccguard::jinja

#include "eval/json_records.h"

namespace ccguard::eval {
namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string At(const std::string& what, size_t line) { return what + ":" + std::to_string(line); }

Result<Json> ParseOne(std::string_view text, const std::string& what, size_t line) {
  auto parsed = ParseJson(text, At(what, line));
  if (!parsed.ok()) return Status::Corruption(parsed.status().message());
  return parsed;
}

Result<std::vector<JsonRecord>> ParseLines(std::string_view text, const std::string& what) {
  std::vector<JsonRecord> out;
  size_t pos = 0;
  size_t line = 1;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view row = text.substr(pos, end - pos);
    if (!row.empty() && row.back() == '\r') row.remove_suffix(1);
    bool blank = true;
    for (char c : row) blank = blank && IsBlank(c);
    if (blank) return Status::Corruption(At(what, line) + ": empty line");
    CCG_ASSIGN_OR_RETURN(Json value, ParseOne(row, what, line));
    out.push_back(JsonRecord{line, std::move(value)});
    pos = end + 1;
    ++line;
  }
  return out;
}

// Splits a top-level array into its elements by scanning brackets and strings,
// so each element's starting line is known; each element is parsed on its own.
Result<std::vector<JsonRecord>> ParseArray(std::string_view text, size_t pos,
                                           const std::string& what) {
  std::vector<JsonRecord> out;
  size_t line = 1;
  for (size_t i = 0; i < pos; ++i) line += text[i] == '\n';
  const size_t n = text.size();
  auto skip_blank = [&]() {
    while (pos < n && IsBlank(text[pos])) {
      line += text[pos] == '\n';
      ++pos;
    }
  };
  ++pos;  // '['
  skip_blank();
  if (pos < n && text[pos] == ']') {
    ++pos;
  } else {
    while (true) {
      skip_blank();
      const size_t start = pos;
      const size_t start_line = line;
      int depth = 0;
      bool in_string = false;
      while (pos < n) {
        char c = text[pos];
        if (in_string) {
          if (c == '\\') {
            ++pos;
          } else if (c == '"') {
            in_string = false;
          } else if (c == '\n') {
            ++line;
          }
        } else if (c == '"') {
          in_string = true;
        } else if (c == '{' || c == '[') {
          ++depth;
        } else if (c == '}' || c == ']') {
          if (depth == 0) break;
          --depth;
        } else if (c == ',' && depth == 0) {
          break;
        } else if (c == '\n') {
          ++line;
        }
        ++pos;
      }
      if (pos >= n) return Status::Corruption(At(what, start_line) + ": unterminated JSON array");
      CCG_ASSIGN_OR_RETURN(Json value, ParseOne(text.substr(start, pos - start), what, start_line));
      out.push_back(JsonRecord{start_line, std::move(value)});
      if (text[pos] == ']') {
        ++pos;
        break;
      }
      if (text[pos] != ',') {
        return Status::Corruption(At(what, line) + ": expected ',' or ']' in JSON array");
      }
      ++pos;
    }
  }
  skip_blank();
  if (pos < n) return Status::Corruption(At(what, line) + ": unexpected text after JSON array");
  return out;
}

}  // namespace

Result<std::vector<JsonRecord>> ParseJsonRecords(std::string_view text, const std::string& what) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  size_t pos = 0;
  while (pos < text.size() && IsBlank(text[pos])) ++pos;
  if (pos < text.size() && text[pos] == '[') return ParseArray(text, pos, what);
  return ParseLines(text, what);
}

}  // namespace ccguard::eval

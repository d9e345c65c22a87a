#include "eval/csv.h"

namespace ccguard::eval {

Result<std::vector<CsvRecord>> ParseCsv(std::string_view text, const std::string& what) {
  std::vector<CsvRecord> records;
  size_t pos = 0;
  const size_t n = text.size();
  if (text.substr(0, 3) == "\xEF\xBB\xBF") pos = 3;
  size_t line = 1;

  // Consumes one line terminator at `pos` (CRLF, LF or CR); returns false if none.
  auto eat_eol = [&]() -> bool {
    if (pos >= n) return false;
    if (text[pos] == '\r') {
      ++pos;
      if (pos < n && text[pos] == '\n') ++pos;
      ++line;
      return true;
    }
    if (text[pos] == '\n') {
      ++pos;
      ++line;
      return true;
    }
    return false;
  };

  while (pos < n) {
    CsvRecord rec;
    rec.line = line;
    bool record_done = false;
    while (!record_done) {
      std::string field;
      if (pos < n && text[pos] == '"') {
        const size_t open_line = line;
        ++pos;
        bool closed = false;
        while (pos < n) {
          char c = text[pos];
          if (c == '"') {
            if (pos + 1 < n && text[pos + 1] == '"') {
              field.push_back('"');
              pos += 2;
              continue;
            }
            ++pos;
            closed = true;
            break;
          }
          if (c == '\n') {
            ++line;
          } else if (c == '\r' && !(pos + 1 < n && text[pos + 1] == '\n')) {
            ++line;  // a lone CR counts as a line break too
          }
          field.push_back(c);
          ++pos;
        }
        if (!closed) {
          return Status::Corruption(what + ":" + std::to_string(open_line) +
                                    ": unterminated quoted field");
        }
        if (pos < n && text[pos] != ',' && text[pos] != '\r' && text[pos] != '\n') {
          return Status::Corruption(what + ":" + std::to_string(line) +
                                    ": unexpected character after closing quote");
        }
      } else {
        size_t start = pos;
        while (pos < n && text[pos] != ',' && text[pos] != '\r' && text[pos] != '\n') ++pos;
        field.assign(text.substr(start, pos - start));
      }
      rec.fields.push_back(std::move(field));
      if (pos < n && text[pos] == ',') {
        ++pos;
        continue;  // another field follows (possibly empty, at end of input)
      }
      eat_eol();
      record_done = true;
    }
    records.push_back(std::move(rec));
  }
  return records;
}

bool IsEmptyRow(const CsvRecord& record) {
  for (const auto& f : record.fields) {
    if (!f.empty()) return false;
  }
  return true;
}

}  // namespace ccguard::eval

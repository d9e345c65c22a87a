// An RFC 4180 CSV parser that keeps the line number of every record.
//
// Accepted: fields separated by ','; records ended by CRLF, LF or a lone CR;
// quoted fields ("...") that hold separators, line breaks (kept verbatim,
// CRLF included) and doubled quotes ("" -> "); a UTF-8 byte order mark at the
// start (dropped); a last record with or without a final line break.
// Lenient where real files need it: a '"' inside an unquoted field is kept as
// a literal character (as Python's csv module does).
// Errors (Corruption, naming `what` and the line): an unterminated quoted
// field (the line where it opened), or text after a closing quote.
// A blank line is returned as a record with one empty field, so that callers
// can report it (see IsEmptyRow); it is never skipped silently.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"

namespace ccguard::eval {

struct CsvRecord {
  size_t line = 0;  // 1-based physical line on which the record starts
  std::vector<std::string> fields;
};

Result<std::vector<CsvRecord>> ParseCsv(std::string_view text, const std::string& what);

// True when every field of the record is empty (a blank line, or ",,,").
bool IsEmptyRow(const CsvRecord& record);

}  // namespace ccguard::eval

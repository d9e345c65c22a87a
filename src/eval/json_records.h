// JSON datasets as a sequence of records with line numbers.
//
// `text` is either one JSON array of values (the first non-blank character is
// '[') or JSON Lines (one value per line; LF or CRLF). A leading UTF-8 byte
// order mark is dropped. Each record keeps the 1-based line on which it
// starts, so errors can name "file:line". In JSON Lines a blank line is an
// error (it is never skipped silently); a final line break is optional.
// Errors (Corruption) name `what` and the line: malformed JSON, text after
// the closing ']', an unterminated array.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "util/json_file.h"
#include "util/status.h"

namespace ccguard::eval {

struct JsonRecord {
  size_t line = 0;
  Json value;
};

Result<std::vector<JsonRecord>> ParseJsonRecords(std::string_view text, const std::string& what);

}  // namespace ccguard::eval

// Reading dataset files whole, gzip-compressed or not.
//
// A file whose first two bytes are the gzip magic (1f 8b) is inflated with
// zlib, whatever its name; concatenated gzip members are joined (as gzip -d
// does). Anything else is returned as is. No BOM or newline handling here:
// the parsers (csv.h, json_records.h) do that.
#pragma once

#include <string>
#include <string_view>

#include "util/status.h"

namespace ccguard::eval {

// True when `data` starts with the gzip magic bytes.
bool IsGzip(std::string_view data);

// Inflates a gzip stream (one or more members). `what` names the source in
// errors: Corruption for a truncated or malformed stream or trailing garbage.
Result<std::string> Gunzip(std::string_view data, const std::string& what);

// Reads `path`, inflating it when it is gzip-compressed.
Result<std::string> ReadInputFile(const std::string& path);

}  // namespace ccguard::eval

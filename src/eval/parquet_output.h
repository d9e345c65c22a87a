// Converting a finished JSON Lines output into Parquet (`ccguard score
// --output X.parquet`): rows are scored into a resumable JSON Lines staging
// file (resumable_output.h), and the complete file becomes X.parquet in one
// atomic step (parquet/writer.h).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "parquet/format.h"
#include "util/status.h"

namespace ccguard::eval {

// Reads `jsonl` twice (schema, then rows: memory holds one row group) and
// writes `out` atomically: columns named in `front` first, then the others
// in order of appearance; `rows_per_group` rows per row group. A file with no
// rows gets the `front` columns and no row group. Errors name the file and
// line (a line that is not a JSON object) or the column (a value that does
// not fit).
Status JsonLinesToParquet(const std::string& jsonl, const std::string& out, parquet::Codec codec,
                          const std::vector<std::string>& front, size_t rows_per_group = 16384);

// "snappy", "zstd", "gzip", "none" -> the codec; InvalidArgument otherwise.
Result<parquet::Codec> ParseCodec(const std::string& name);

}  // namespace ccguard::eval

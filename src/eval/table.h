// A dataset file as rows of named fields, whatever its format (internal to
// the dataset readers, public for tests).
//
// CSV files (header row required) become rows whose fields are JSON strings;
// JSON / JSON Lines files (json_records.h) become rows of the objects they
// hold. Either may be gzip-compressed (input_file.h). Parquet files
// (parquet/reader.h) become rows of their columns' values (strings, numbers,
// booleans, null, arrays for lists); only the columns asked for are read.
// Every row keeps its line (for Parquet: its row number, from 1), and the
// accessors below return errors that name "file:line" ("file: row N") and the
// column: missing columns, null or empty values, values that are not text, a
// Parquet column whose type the reader does not read.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/json_file.h"
#include "util/status.h"

namespace ccguard::eval {

enum class TableFormat {
  kAuto,  // JSON if the first non-blank character is '{' or '[', else CSV
  kCsv,
  kJson,     // a JSON array or JSON Lines
  kParquet,  // kAuto picks it when the file starts with "PAR1"
};

struct TableRow {
  size_t line = 0;
  Json fields;  // an object
};

struct Table {
  std::string path;
  bool csv = false;
  bool parquet = false;
  std::vector<std::string> header;  // CSV and Parquet: every column of the file
  // Parquet columns that were not read because the reader cannot (a struct,
  // a map, ...): name -> why, for the errors of the accessors.
  std::map<std::string, std::string> unreadable;
  std::vector<TableRow> rows;
};

// Reads `path`. Errors: I/O, malformed CSV/JSON/Parquet, a CSV row whose
// number of fields differs from the header's, a duplicate CSV column name, a
// JSON value that is not an object, an empty row (blank CSV line or `{}`),
// with file:line. `columns`: the columns the caller uses; Parquet reads only
// those (the ones the file has; RequireColumns reports the others), every
// readable column when empty. Text formats parse every column regardless.
Result<Table> ReadTable(const std::string& path, TableFormat format = TableFormat::kAuto,
                        const std::vector<std::string>& columns = {});

// Parses already-read text (`what` names it in errors).
Result<Table> ParseTable(std::string_view text, const std::string& what, TableFormat format);

// True when the file at `path` starts with the Parquet magic bytes.
bool IsParquetFile(const std::string& path);

// "path:line" of a row.
std::string Where(const Table& table, const TableRow& row);

// For CSV and Parquet: NotFound naming the file and the missing column (and
// listing the header) unless every column is present, NotSupported for a
// Parquet column that could not be read. For JSON, columns are checked per
// row by the accessors, so this returns OK.
Status RequireColumns(const Table& table, const std::vector<std::string>& columns);

// True when `column` is a CSV or Parquet column, or (JSON) a key of any row.
bool HasColumn(const Table& table, std::string_view column);

// The text of a string field; errors if the field is missing, null, not a
// string, empty, or not valid UTF-8.
Result<std::string> GetText(const Table& table, const TableRow& row, std::string_view column);

// Like GetText, but a null, missing or empty value gives std::nullopt.
Result<std::optional<std::string>> GetOptionalText(const Table& table, const TableRow& row,
                                                   std::string_view column);

// A scalar field as a string: strings as they are, booleans "true"/"false",
// numbers as JSON writes them ("1", "0.5"); null gives std::nullopt. Errors
// if the field is missing or is an array/object.
Result<std::optional<std::string>> GetScalar(const Table& table, const TableRow& row,
                                             std::string_view column);

// Like GetScalar, but null or an empty string is an error ("no label").
Result<std::string> GetRequiredScalar(const Table& table, const TableRow& row,
                                      std::string_view column);

}  // namespace ccguard::eval

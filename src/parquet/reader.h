// Reading Parquet files into JSON rows: flat tables whose columns are
// scalars or one-level lists of scalars.
//
// Supported (anything else is refused naming the file and the column, and
// only when that column is selected):
//   physical types  BOOLEAN, INT32, INT64, FLOAT, DOUBLE, BYTE_ARRAY
//   logical types   STRING/UTF8, ENUM, JSON (strings), BYTE_ARRAY without one
//                   (bytes as a string), INTEGER (signed or unsigned, any
//                   width), DATE ("YYYY-MM-DD"), TIMESTAMP and TIME (ISO 8601
//                   strings, "Z" when adjusted to UTC), DECIMAL on INT32/INT64
//                   (a decimal string: "12.50")
//   nesting         top-level columns, nullable or not; the LIST logical type
//                   (three-level and legacy two-level forms) and bare repeated
//                   columns of such scalars, one level deep
//   encodings       PLAIN, PLAIN_DICTIONARY/RLE_DICTIONARY, RLE (levels and
//                   booleans), DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY,
//                   DELTA_BYTE_ARRAY, BYTE_STREAM_SPLIT
//   pages           data pages v1 and v2, dictionary pages; any number of
//                   row groups
//   codecs          UNCOMPRESSED, SNAPPY, GZIP, ZSTD
// Refused: structs, maps, lists of lists or of structs, INT96,
// FIXED_LEN_BYTE_ARRAY, other codecs (LZ4, BROTLI, LZO), encrypted files,
// column chunks stored in other files.
//
// Untrusted input: the footer length, every offset and size, page counts and
// level values are checked against the file and the metadata before use;
// a malformed file is Corruption naming the file (and the column and row
// group where the damage is), never a crash or an unbounded allocation
// (ReaderOptions bounds page sizes and value counts).
//
// Streaming: Open reads only the footer; ReadRowGroup reads only the bytes of
// the selected columns of one row group. A Reader is not thread-safe; it
// keeps the file open until destroyed.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "parquet/format.h"
#include "util/json_file.h"
#include "util/status.h"

namespace ccguard::parquet {

struct ReaderOptions {
  // Largest uncompressed page accepted (ResourceExhausted beyond it).
  size_t max_page_bytes = size_t{1} << 30;
  // Largest number of values (levels) in one column chunk.
  uint64_t max_chunk_values = uint64_t{1} << 28;
};

// One top-level column.
struct ColumnInfo {
  std::string name;
  // "string", "binary", "bool", "int32", "int64", "uint32", "uint64",
  // "float", "double", "date", "timestamp", "time", "decimal", or
  // "list<...>" of one of those; the physical type for unsupported ones.
  std::string type;
  bool nullable = false;
  // Non-empty when the column cannot be read: why ("a struct", "INT96").
  std::string unsupported;

  // How it is stored (internal to the reader, public for tests).
  size_t leaf = 0;  // index of its first column chunk in a row group
  size_t leaves = 1;
  SchemaElement element;  // the leaf holding the values
  bool list = false;
  int max_def = 0, max_rep = 0;
  int def_list = 0;  // list: definition level from which the list is not null
};

class Reader {
 public:
  static Result<std::unique_ptr<Reader>> Open(const std::string& path,
                                              const ReaderOptions& options = {});
  // Reads a file held in memory; `name` stands for its path in errors.
  static Result<std::unique_ptr<Reader>> OpenBuffer(std::string bytes, std::string name,
                                                    const ReaderOptions& options = {});
  ~Reader();
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  const std::string& name() const { return name_; }
  int64_t num_rows() const { return meta_.num_rows; }
  size_t num_row_groups() const { return meta_.row_groups.size(); }
  int64_t row_group_rows(size_t g) const { return meta_.row_groups[g].num_rows; }
  const std::vector<ColumnInfo>& columns() const { return columns_; }
  const FileMetaData& metadata() const { return meta_; }

  // Indices of the named columns, in that order (every readable column when
  // `names` is empty, refusing the file if it has an unreadable one).
  // NotFound names the file and column and lists the file's columns;
  // NotSupported names the file, the column and why.
  Result<std::vector<size_t>> Select(const std::vector<std::string>& names) const;

  // The rows of row group `g` as JSON objects holding the `columns` (indices
  // from Select): strings, booleans, numbers, null, and arrays for lists.
  Result<std::vector<Json>> ReadRowGroup(size_t g, const std::vector<size_t>& columns);

 private:
  Reader() = default;
  Status Init();
  Status ReadBytes(uint64_t offset, size_t size, std::string* out) const;
  Status ReadColumn(size_t g, const ColumnInfo& col, std::vector<Json>* rows);

  std::string name_;
  ReaderOptions options_;
  int fd_ = -1;
  std::string buffer_;  // OpenBuffer's bytes
  uint64_t size_ = 0;
  uint64_t footer_start_ = 0;
  FileMetaData meta_;
  std::vector<ColumnInfo> columns_;
  size_t leaves_ = 0;
};

// Reads `path` whole (every column, or those named): the rows of all row
// groups in order.
Result<std::vector<Json>> ReadAll(const std::string& path, const std::vector<std::string>& names);

// True when `data` begins with the Parquet magic "PAR1".
bool HasParquetMagic(std::string_view data);

}  // namespace ccguard::parquet

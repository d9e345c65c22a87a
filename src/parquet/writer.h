// Writing JSON rows as a flat Parquet file: what `ccguard score --output
// X.parquet` produces.
//
// Schema: one OPTIONAL column per key, in the order given (SchemaBuilder
// collects keys in first-appearance order, as the rows' objects iterate them:
// sorted, for ccguard's Json; MoveToFront puts chosen columns first), and
// each column's type inferred from every non-null value it sees:
//   all booleans                         BOOLEAN
//   all integers that fit int64          INT64
//   numbers (any mix of int and float)   DOUBLE
//   all strings                          BYTE_ARRAY, STRING
//   anything else (arrays, objects, a
//   mix of kinds)                        BYTE_ARRAY, JSON: the value's JSON text
//   only nulls                           BYTE_ARRAY, STRING, all null
// A key missing from a row is null. Encoding PLAIN, definition levels RLE,
// data pages v1 (one per column chunk), one row group per WriteRowGroup
// call; codecs UNCOMPRESSED, SNAPPY, GZIP or ZSTD.
//
// Atomic: the file is written to "<path>.tmp", fsynced and renamed over
// `path` by Close(); a Writer destroyed before Close() removes the temporary
// file, so `path` never holds a partial file. Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "parquet/format.h"
#include "util/json_file.h"
#include "util/status.h"

namespace ccguard::parquet {

struct WriterColumn {
  enum class Kind { kNull, kBool, kInt64, kDouble, kString, kJson };
  std::string name;
  Kind kind = Kind::kNull;
};

// Collects the columns of rows seen one at a time.
class SchemaBuilder {
 public:
  // InvalidArgument when `row` is not a JSON object.
  Status Add(const Json& row);
  // Puts the columns named in `first` (those present) first, in that order.
  void MoveToFront(const std::vector<std::string>& first);
  const std::vector<WriterColumn>& columns() const { return columns_; }

 private:
  std::vector<WriterColumn> columns_;
};

class Writer {
 public:
  // InvalidArgument for no columns, an empty or repeated column name, or a
  // codec that cannot be written; IOError when the temporary file cannot be
  // created.
  static Result<std::unique_ptr<Writer>> Create(const std::string& path,
                                                std::vector<WriterColumn> columns,
                                                Codec codec = Codec::kSnappy);
  ~Writer();
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Writes `rows` (JSON objects) as one row group. InvalidArgument naming the
  // row and column when a value does not fit its column's type.
  Status WriteRowGroup(const std::vector<Json>& rows);
  // Writes the footer, fsyncs and renames the file into place.
  Status Close();

 private:
  Writer() = default;
  Status Write(const std::string& bytes);

  std::string path_, tmp_;
  std::vector<WriterColumn> columns_;
  Codec codec_ = Codec::kSnappy;
  int fd_ = -1;
  uint64_t offset_ = 0;
  FileMetaData meta_;
  bool closed_ = false;
};

}  // namespace ccguard::parquet

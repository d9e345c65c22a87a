// Parquet's file metadata (the Thrift footer) and page headers: the subset
// of parquet.thrift that a reader of flat tables needs, parsed defensively,
// and serialized for the writer.
//
// File layout: "PAR1", column chunks (pages), FileMetaData (Thrift compact),
// its length (4 bytes, little-endian), "PAR1". Fields not listed below are
// skipped when reading. Enum values are kept as the file's integers; the
// reader (reader.h) decides what it supports.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "util/status.h"

namespace ccguard::parquet {

enum class PhysicalType : int32_t {
  kBoolean = 0,
  kInt32 = 1,
  kInt64 = 2,
  kInt96 = 3,
  kFloat = 4,
  kDouble = 5,
  kByteArray = 6,
  kFixedLenByteArray = 7,
};

enum class Repetition : int32_t { kRequired = 0, kOptional = 1, kRepeated = 2 };

enum class Encoding : int32_t {
  kPlain = 0,
  kPlainDictionary = 2,
  kRle = 3,
  kBitPacked = 4,
  kDeltaBinaryPacked = 5,
  kDeltaLengthByteArray = 6,
  kDeltaByteArray = 7,
  kRleDictionary = 8,
  kByteStreamSplit = 9,
};

enum class Codec : int32_t {
  kUncompressed = 0,
  kSnappy = 1,
  kGzip = 2,
  kLzo = 3,
  kBrotli = 4,
  kLz4 = 5,
  kZstd = 6,
  kLz4Raw = 7,
};

enum class PageType : int32_t { kData = 0, kIndex = 1, kDictionary = 2, kDataV2 = 3 };

// Legacy ConvertedType values that matter here.
enum ConvertedType : int32_t {
  kConvUtf8 = 0,
  kConvMap = 1,
  kConvMapKeyValue = 2,
  kConvList = 3,
  kConvEnum = 4,
  kConvDecimal = 5,
  kConvDate = 6,
  kConvTimeMillis = 7,
  kConvTimeMicros = 8,
  kConvTimestampMillis = 9,
  kConvTimestampMicros = 10,
  kConvUint8 = 11,
  kConvUint16 = 12,
  kConvUint32 = 13,
  kConvUint64 = 14,
  kConvInt8 = 15,
  kConvInt16 = 16,
  kConvInt32 = 17,
  kConvInt64 = 18,
  kConvJson = 19,
  kConvBson = 20,
};

// The LogicalType union, flattened: `kind` is the union's field id.
struct LogicalType {
  enum Kind : int16_t {
    kNone = 0,
    kString = 1,
    kMap = 2,
    kList = 3,
    kEnum = 4,
    kDecimal = 5,
    kDate = 6,
    kTime = 7,
    kTimestamp = 8,
    kInteger = 10,
    kNull = 11,
    kJson = 12,
    kBson = 13,
    kUuid = 14,
    kFloat16 = 15,
  };
  int16_t kind = kNone;
  int32_t scale = 0, precision = 0;  // decimal
  bool utc = false;                  // time, timestamp: isAdjustedToUTC
  int unit = 0;                      // time, timestamp: 1 millis, 2 micros, 3 nanos
  int bit_width = 0;                 // integer
  bool is_signed = true;             // integer
};

struct SchemaElement {
  std::optional<PhysicalType> type;  // absent for groups
  int32_t type_length = 0;
  std::optional<Repetition> repetition;
  std::string name;
  int32_t num_children = 0;
  std::optional<int32_t> converted_type;
  int32_t scale = 0, precision = 0;
  LogicalType logical;
};

struct ColumnMetaData {
  PhysicalType type = PhysicalType::kBoolean;
  std::vector<Encoding> encodings;
  std::vector<std::string> path_in_schema;
  Codec codec = Codec::kUncompressed;
  int64_t num_values = 0;
  int64_t total_uncompressed_size = 0;
  int64_t total_compressed_size = 0;
  int64_t data_page_offset = 0;
  std::optional<int64_t> dictionary_page_offset;
};

struct ColumnChunk {
  std::string file_path;  // non-empty: the data lives in another file (refused)
  int64_t file_offset = 0;
  std::optional<ColumnMetaData> meta_data;
  bool encrypted = false;
};

struct RowGroup {
  std::vector<ColumnChunk> columns;
  int64_t total_byte_size = 0;
  int64_t num_rows = 0;
};

struct KeyValue {
  std::string key, value;
};

struct FileMetaData {
  int32_t version = 0;
  std::vector<SchemaElement> schema;
  int64_t num_rows = 0;
  std::vector<RowGroup> row_groups;
  std::vector<KeyValue> key_value_metadata;
  std::string created_by;
};

struct DataPageHeader {
  int32_t num_values = 0;
  Encoding encoding = Encoding::kPlain;
  Encoding definition_level_encoding = Encoding::kRle;
  Encoding repetition_level_encoding = Encoding::kRle;
};

struct DictionaryPageHeader {
  int32_t num_values = 0;
  Encoding encoding = Encoding::kPlain;
};

struct DataPageHeaderV2 {
  int32_t num_values = 0, num_nulls = 0, num_rows = 0;
  Encoding encoding = Encoding::kPlain;
  int32_t definition_levels_byte_length = 0;
  int32_t repetition_levels_byte_length = 0;
  bool is_compressed = true;
};

struct PageHeader {
  PageType type = PageType::kData;
  int32_t uncompressed_page_size = 0;
  int32_t compressed_page_size = 0;
  std::optional<DataPageHeader> data_page;
  std::optional<DictionaryPageHeader> dictionary_page;
  std::optional<DataPageHeaderV2> data_page_v2;
};

// Parses the footer's FileMetaData. Corruption for malformed Thrift or a
// missing required field (named). Sizes are checked by the reader.
Result<FileMetaData> ParseFileMetaData(const uint8_t* data, size_t size);

// Parses one page header at the start of `data`; `*header_size` receives its
// length in bytes. Corruption as above, and for negative sizes or counts.
Result<PageHeader> ParsePageHeader(const uint8_t* data, size_t size, size_t* header_size);

// Serializations (the writer's; fields written are those above).
std::string SerializeFileMetaData(const FileMetaData& m);
std::string SerializePageHeader(const PageHeader& h);

// Names for errors: "SNAPPY", "DELTA_BYTE_ARRAY", "INT96", ...
std::string CodecName(Codec c);
std::string EncodingName(Encoding e);
std::string PhysicalTypeName(PhysicalType t);

}  // namespace ccguard::parquet

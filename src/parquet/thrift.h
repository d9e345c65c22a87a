// The Thrift compact protocol, as much of it as Parquet's metadata uses: a
// bounds-checked reader of untrusted bytes and a writer.
//
// Reader: every read checks the remaining length and returns Corruption
// ("truncated", "varint too long", "list of N elements in M bytes", ...)
// instead of reading past the buffer; nesting deeper than kMaxThriftDepth
// is refused before it can overflow the stack. Integers are zigzag varints;
// a value that does not fit the requested width is Corruption. Unknown
// fields are skipped (Parquet adds fields over time).
//
// Neither class owns the bytes it reads or allocates beyond its output;
// neither is thread-safe (one per parse).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include "util/status.h"

namespace ccguard::parquet {

inline constexpr int kMaxThriftDepth = 32;

// Compact-protocol type codes.
enum ThriftType : uint8_t {
  kTStop = 0,
  kTBoolTrue = 1,
  kTBoolFalse = 2,
  kTByte = 3,
  kTI16 = 4,
  kTI32 = 5,
  kTI64 = 6,
  kTDouble = 7,
  kTBinary = 8,
  kTList = 9,
  kTSet = 10,
  kTMap = 11,
  kTStruct = 12,
};

class ThriftReader {
 public:
  ThriftReader(const uint8_t* data, size_t size) : p_(data), end_(data + size), begin_(data) {}

  // Reads one struct: `field(id, type)` is called for every field and must
  // consume its value (with the Read* calls below or Skip(type)).
  Status ReadStruct(const std::function<Status(int16_t id, uint8_t type)>& field);

  Result<int64_t> ReadI64(uint8_t type);
  Result<int32_t> ReadI32(uint8_t type);  // also accepts i8/i16 fields
  Result<bool> ReadBool(uint8_t type);    // a struct field's type, or kTByte in a list
  Result<double> ReadDouble(uint8_t type);
  Result<std::string> ReadBinary(uint8_t type);

  // Reads a list header and calls `element(elem_type)` `size` times.
  Status ReadList(uint8_t type, const std::function<Status(uint8_t elem_type)>& element);

  Status Skip(uint8_t type);

  size_t position() const { return static_cast<size_t>(p_ - begin_); }

 private:
  Result<uint64_t> Varint();
  Status Expect(uint8_t got, uint8_t want);
  const uint8_t* p_;
  const uint8_t* end_;
  const uint8_t* begin_;
  int depth_ = 0;
};

// Appends compact-protocol bytes to a string. Fields must be written in the
// order of their ids within a struct (the delta encoding requires ids to
// increase by 1..15 or falls back to the long form; both are handled).
class ThriftWriter {
 public:
  explicit ThriftWriter(std::string* out) : out_(out) {}

  void BeginStruct();
  void EndStruct();  // writes the stop byte
  void FieldI32(int16_t id, int32_t v);
  void FieldI64(int16_t id, int64_t v);
  void FieldBool(int16_t id, bool v);
  void FieldBinary(int16_t id, const std::string& v);
  // A struct field: BeginStruct is implied; close it with EndStruct.
  void FieldStructBegin(int16_t id);
  // A list field header; then write `size` elements with the element calls.
  void FieldListBegin(int16_t id, uint8_t elem_type, size_t size);
  void ElemI32(int32_t v);
  void ElemBinary(const std::string& v);
  void ElemStructBegin();  // close with EndStruct

 private:
  void FieldHeader(int16_t id, uint8_t type);
  void Varint(uint64_t v);
  void Zigzag(int64_t v);
  std::string* out_;
  int16_t last_id_ = 0;
  std::string stack_;  // saved last ids (two bytes each)
};

}  // namespace ccguard::parquet

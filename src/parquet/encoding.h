// Parquet's value and level encodings (decoders for untrusted pages, and the
// one encoder the writer needs).
//
// Every decoder reads only inside [data, data + size) and returns
// Corruption ("... ends early", "bit width 40 > 32") instead of reading
// further. Value counts come from the page header and are bounded by the
// caller, so no decoder allocates more than the counts it is given allow.
// Integer arithmetic of the delta encodings wraps (two's complement), as
// the format defines. Not thread-safe per object; the functions are.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "util/status.h"

namespace ccguard::parquet {

// Bits needed for values 0..max_value (0 for 0).
int BitWidth(uint64_t max_value);

// The RLE / bit-packed hybrid (levels, dictionary indices, RLE booleans):
// runs of <varint header><payload>; header bit 0 set = bit-packed groups of
// 8 values (LSB first), clear = one value repeated header>>1 times.
class RleBitPackedDecoder {
 public:
  // bit_width: 0..32 (checked by Get).
  RleBitPackedDecoder(const uint8_t* data, size_t size, int bit_width)
      : p_(data), end_(data + size), bit_width_(bit_width) {}

  // The next n values. Corruption when the data ends before n values.
  Status Get(size_t n, uint32_t* out);

 private:
  Status NextRun();
  const uint8_t* p_;
  const uint8_t* end_;
  int bit_width_;
  // The current run: RLE (count of value) or bit-packed (count values at
  // packed + bit offset).
  bool packed_ = false;
  uint64_t left_ = 0;
  uint32_t value_ = 0;
  const uint8_t* packed_data_ = nullptr;
  size_t packed_bytes_ = 0;
  uint64_t packed_bit_ = 0;
};

// DELTA_BINARY_PACKED: decodes all values of the encoded stream, which must
// hold at most `max_values` (else Corruption). `*consumed` receives the
// bytes used (the next stream starts there).
Result<std::vector<int64_t>> DecodeDeltaBinaryPacked(const uint8_t* data, size_t size,
                                                     size_t max_values, size_t* consumed);

// DELTA_LENGTH_BYTE_ARRAY: exactly n strings (lengths, then the bytes).
Status DecodeDeltaLengthByteArray(const uint8_t* data, size_t size, size_t n,
                                  std::vector<std::string>* out, size_t* consumed);

// DELTA_BYTE_ARRAY: exactly n strings (prefix lengths, then suffixes as
// DELTA_LENGTH_BYTE_ARRAY; each value is the previous one's prefix + suffix).
Status DecodeDeltaByteArray(const uint8_t* data, size_t size, size_t n,
                            std::vector<std::string>* out);

// BYTE_STREAM_SPLIT: n values of `width` bytes stored as `width` streams of
// n bytes; `out` receives the n values back in order (n * width bytes).
Status DecodeByteStreamSplit(const uint8_t* data, size_t size, size_t n, int width,
                             std::string* out);

// Appends `values` as RLE runs of the hybrid encoding (no length prefix).
void EncodeRle(const std::vector<uint32_t>& values, int bit_width, std::string* out);

}  // namespace ccguard::parquet

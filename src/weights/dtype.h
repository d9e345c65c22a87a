// Element types of safetensors tensors, and conversions of float types to F32.
//
// The enum lists the dtypes of the safetensors format so that any valid file can be
// validated; which of them a model accepts is decided by the model layer. Element data is
// little-endian (as in the file); this library assumes a little-endian host.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "util/status.h"

namespace ccguard {

enum class DType {
  kBool,
  kU8,
  kI8,
  kI16,
  kU16,
  kF16,
  kBF16,
  kI32,
  kU32,
  kF32,
  kF64,
  kI64,
  kU64,
  kF8E4M3,
  kF8E5M2,
};

// Parses a safetensors dtype name: "BF16" -> kBF16, "F8_E4M3" -> kF8E4M3. Names are
// case-sensitive, as in the format. A name that safetensors defines but DType does not
// represent (F4, F6_E2M3, F6_E3M2, F8_E8M0, C64) gives NotSupported; any other name gives
// Corruption. Both messages quote the name.
Result<DType> ParseDType(std::string_view name);

// The safetensors name of `d` ("BF16"); never null.
const char* DTypeName(DType d);

// Bytes per element (1 for kBool and the F8 types).
size_t DTypeSize(DType d);

// True for kF32, kF16 and kBF16, the types ConvertToF32 accepts.
bool IsConvertibleToF32(DType d);

// bfloat16 bits -> float. Exact.
inline float Bf16ToF32(uint16_t v) { return std::bit_cast<float>(static_cast<uint32_t>(v) << 16); }

// IEEE 754 binary16 bits -> float. Exact, including subnormals, +-0, +-inf and NaN (the NaN
// payload is kept in the top mantissa bits).
inline float F16ToF32(uint16_t v) {
  const uint32_t sign = static_cast<uint32_t>(v & 0x8000u) << 16;
  const uint32_t exp = (v >> 10) & 0x1Fu;
  const uint32_t mant = v & 0x3FFu;
  if (exp == 0x1F) {  // inf or NaN
    return std::bit_cast<float>(sign | 0x7F800000u | (mant << 13));
  }
  if (exp == 0) {  // zero or subnormal: mant * 2^-24, exact in float
    const float magnitude = static_cast<float>(mant) * 0x1p-24f;
    return sign ? -magnitude : magnitude;
  }
  return std::bit_cast<float>(sign | ((exp + 127 - 15) << 23) | (mant << 13));
}

// float -> bfloat16 bits, rounding to nearest, ties to even. Values beyond the bfloat16 range
// round to +-inf; NaN stays NaN (quiet, sign kept).
inline uint16_t F32ToBf16(float v) {
  const uint32_t bits = std::bit_cast<uint32_t>(v);
  if ((bits & 0x7FFFFFFFu) > 0x7F800000u) {  // NaN: truncate, force a mantissa bit
    return static_cast<uint16_t>((bits >> 16) | 0x0040u);
  }
  const uint32_t rounding = 0x7FFFu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>((bits + rounding) >> 16);
}

// Converts `n` elements of a float tensor (F32, F16 or BF16) at `src` to float at `dst`.
// `src` needs no alignment and may be null when n == 0; `dst` must hold n floats and must
// not overlap `src`. Other dtypes give InvalidArgument naming the dtype.
Status ConvertToF32(DType d, const void* src, size_t n, float* dst);

}  // namespace ccguard

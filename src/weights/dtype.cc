#include "weights/dtype.h"

#include <string>

namespace ccguard {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; big-endian hosts are not supported");

namespace {

struct DTypeInfo {
  DType dtype;
  const char* name;
  size_t size;
};

constexpr DTypeInfo kDTypes[] = {
    {DType::kBool, "BOOL", 1}, {DType::kU8, "U8", 1},          {DType::kI8, "I8", 1},
    {DType::kI16, "I16", 2},   {DType::kU16, "U16", 2},        {DType::kF16, "F16", 2},
    {DType::kBF16, "BF16", 2}, {DType::kI32, "I32", 4},        {DType::kU32, "U32", 4},
    {DType::kF32, "F32", 4},   {DType::kF64, "F64", 8},        {DType::kI64, "I64", 8},
    {DType::kU64, "U64", 8},   {DType::kF8E4M3, "F8_E4M3", 1}, {DType::kF8E5M2, "F8_E5M2", 1},
};

// Defined by newer safetensors versions but not representable here (sub-byte, complex).
constexpr const char* kUnsupportedNames[] = {"F4", "F6_E2M3", "F6_E3M2", "F8_E8M0", "C64"};

const DTypeInfo* Info(DType d) {
  for (const DTypeInfo& info : kDTypes) {
    if (info.dtype == d) return &info;
  }
  return nullptr;
}

}  // namespace

Result<DType> ParseDType(std::string_view name) {
  for (const DTypeInfo& info : kDTypes) {
    if (name == info.name) return info.dtype;
  }
  for (const char* unsupported : kUnsupportedNames) {
    if (name == unsupported) {
      return Status::NotSupported("dtype \"" + std::string(name) + "\" is not supported");
    }
  }
  return Status::Corruption("unknown dtype \"" + std::string(name) + "\"");
}

const char* DTypeName(DType d) {
  const DTypeInfo* info = Info(d);
  return info ? info->name : "?";
}

size_t DTypeSize(DType d) {
  const DTypeInfo* info = Info(d);
  return info ? info->size : 0;
}

bool IsConvertibleToF32(DType d) {
  return d == DType::kF32 || d == DType::kF16 || d == DType::kBF16;
}

Status ConvertToF32(DType d, const void* src, size_t n, float* dst) {
  if (!IsConvertibleToF32(d)) {
    return Status::InvalidArgument(std::string("ConvertToF32: dtype ") + DTypeName(d) +
                                   " is not a float type (F32, F16 or BF16)");
  }
  if (n == 0) return Status::Ok();
  const auto* p = static_cast<const uint8_t*>(src);
  switch (d) {
    case DType::kF32:
      std::memcpy(dst, p, n * sizeof(float));
      break;
    case DType::kF16:
      for (size_t i = 0; i < n; ++i) {
        uint16_t v;
        std::memcpy(&v, p + 2 * i, 2);
        dst[i] = F16ToF32(v);
      }
      break;
    case DType::kBF16:
      for (size_t i = 0; i < n; ++i) {
        uint16_t v;
        std::memcpy(&v, p + 2 * i, 2);
        dst[i] = Bf16ToF32(v);
      }
      break;
    default:
      break;
  }
  return Status::Ok();
}

}  // namespace ccguard

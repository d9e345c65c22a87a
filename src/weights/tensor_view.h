// A tensor as stored in a safetensors file: name, dtype, shape and its bytes, in place.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "weights/dtype.h"

namespace ccguard {

struct TensorView {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;  // row-major; [] is a scalar; dimensions may be 0
  // Points into a mapped file and is valid only while the SafetensorsFile or WeightStore that
  // returned this view lives. Read-only. Only as aligned as the file made it: safetensors does
  // not require alignment, so read elements with memcpy (or ConvertToF32) unless you have
  // checked the address. nbytes == numel() * DTypeSize(dtype) for views from this library.
  const uint8_t* data = nullptr;
  size_t nbytes = 0;

  // Product of the dimensions (1 for a scalar). Views from this library never overflow.
  int64_t numel() const;
  // "[2048, 1024]"; "[]" for a scalar.
  std::string ShapeString() const;
};

}  // namespace ccguard

// Writes safetensors files, for tests and tools that build fixtures.
//
// The output is what Hugging Face's writer produces: the header is compact JSON padded with
// spaces so that the data section starts at a multiple of 8, tensors are laid out back to
// back (here in the order given, so a test controls the layout), and "__metadata__" is
// written last, only when non-empty. Files it writes open with SafetensorsFile::Open.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"
#include "weights/dtype.h"

namespace ccguard {

// One tensor to write: `bytes` holds numel * DTypeSize(dtype) bytes, little-endian, row-major.
struct TensorToWrite {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;
};

// An F32 tensor holding `values` (values.size() must equal the shape's product).
TensorToWrite F32Tensor(std::string name, std::vector<int64_t> shape,
                        const std::vector<float>& values);
// A BF16 tensor holding `values` rounded to bfloat16 (nearest even).
TensorToWrite Bf16Tensor(std::string name, std::vector<int64_t> shape,
                         const std::vector<float>& values);

// The bytes of a safetensors file holding `tensors` and `metadata`. InvalidArgument (naming
// the tensor) for a duplicate or non-UTF-8 name, the name "__metadata__", a negative dimension,
// or bytes.size() != numel * DTypeSize(dtype).
Result<std::string> EncodeSafetensors(const std::vector<TensorToWrite>& tensors,
                                      const std::map<std::string, std::string>& metadata = {});

// EncodeSafetensors, written to `path` (replaced if it exists). IOError names the path.
Status WriteSafetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                        const std::map<std::string, std::string>& metadata = {});

// Writes `header` verbatim after its 8-byte little-endian length, then `data`: for tests
// that need a malformed file. Nothing is checked.
Status WriteRawSafetensors(const std::string& path, std::string_view header, std::string_view data);

}  // namespace ccguard

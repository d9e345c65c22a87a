// A validated, memory-mapped safetensors file.
//
// Format (https://github.com/huggingface/safetensors): an 8-byte little-endian u64 N, N bytes
// of UTF-8 JSON header, then the data section. The header maps tensor names to
// {"dtype", "shape", "data_offsets": [begin, end]} (offsets relative to the data section),
// plus an optional "__metadata__" string->string map.
//
// Open() checks everything the reference implementation checks, so that a file it accepts
// can be read without further bounds checks:
//  * the file holds >= 8 bytes; 0 < N <= 100,000,000 and 8 + N <= file size;
//  * the header is valid UTF-8 JSON, starts with '{' (trailing whitespace padding is
//    allowed), is an object, has no duplicate keys and nests at most 64 levels deep;
//  * "__metadata__", if present, is an object of strings;
//  * every tensor has a known dtype, a shape of non-negative integers whose product (and
//    byte size) does not overflow, and data_offsets [begin, end] of non-negative integers
//    with begin <= end <= data section size and end - begin == numel * dtype size;
//  * the tensors' byte ranges do not overlap and cover the data section exactly, with no
//    gap and nothing after the last tensor ("the byte buffer needs to be entirely indexed
//    and cannot contain holes"; padding is allowed only inside the header).
// Unknown extra fields in a tensor entry are ignored, as the reference does.
// Errors are Corruption (or NotSupported for a dtype safetensors defines but DType lacks;
// NotFound/IOError when the file cannot be opened), and their messages name the file and,
// where one is at fault, the tensor.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "util/mapped_file.h"
#include "util/status.h"
#include "weights/tensor_view.h"

namespace ccguard {

class SafetensorsFile {
 public:
  // Largest header accepted, in bytes (the reference implementation's limit).
  static constexpr uint64_t kMaxHeaderBytes = 100'000'000;

  // Maps and validates `path` (see above).
  static Result<std::unique_ptr<SafetensorsFile>> Open(const std::string& path);

  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  // All tensors, sorted by name. Their data stays mapped while this object lives.
  const std::vector<TensorView>& tensors() const { return tensors_; }
  // The tensor called `name`, or nullptr if absent.
  const TensorView* Find(std::string_view name) const;
  // The "__metadata__" map (empty if absent).
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const std::string& path() const { return path_; }
  // Size of the whole file in bytes.
  size_t file_size() const { return file_ ? file_->size() : 0; }

 private:
  SafetensorsFile() = default;

  std::string path_;
  std::shared_ptr<const MappedFile> file_;
  std::vector<TensorView> tensors_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace ccguard

// All tensors of a Hugging Face model folder, memory-mapped and validated.
//
// A folder holds either "model.safetensors" or "model.safetensors.index.json"
// ({"metadata": {...}, "weight_map": {tensor: shard file}}) with its shards; when both exist
// the single file wins, as in transformers. An index is checked: it is a JSON object whose
// "weight_map" is a non-empty object of strings and whose "metadata", if present, is an
// object; every shard name is relative and stays inside the folder (no absolute name, no
// ".." component; symlinks such as the Hugging Face cache's are followed); every shard
// exists and is a valid safetensors file; every tensor the map lists is in its shard; no
// tensor is in two shards. Tensors a shard holds but the map does not list are kept
// (transformers loads them too).
//
// Errors: NotFound naming the folder and both file names when neither exists, or naming the
// index and the shard when a shard is missing; NotSupported when the folder holds only
// pickled PyTorch weights ("pytorch_model.bin"); Corruption naming the file and tensor for
// a malformed index or shard. Files stay mapped while the store lives; TensorViews and their
// data must not outlive it.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "util/status.h"
#include "weights/safetensors.h"
#include "weights/tensor_view.h"

namespace ccguard {

class WeightStore {
 public:
  static constexpr const char* kSingleFileName = "model.safetensors";
  static constexpr const char* kIndexFileName = "model.safetensors.index.json";
  static constexpr const char* kPickleFileName = "pytorch_model.bin";

  // Opens the model folder `dir` (see above).
  static Result<std::unique_ptr<WeightStore>> OpenModelDir(const std::string& dir);
  // Opens one safetensors file.
  static Result<std::unique_ptr<WeightStore>> OpenFile(const std::string& path);

  WeightStore(const WeightStore&) = delete;
  WeightStore& operator=(const WeightStore&) = delete;

  // The tensor called `name`, or nullptr if absent.
  const TensorView* Find(std::string_view name) const;
  // Names of all tensors, sorted.
  std::vector<std::string> Names() const;
  // Number of tensors.
  size_t size() const { return by_name_.size(); }
  // Sum of the tensors' nbytes.
  size_t total_bytes() const { return total_bytes_; }
  // The files backing the store, in the order opened (shards sorted by name).
  const std::vector<std::unique_ptr<SafetensorsFile>>& files() const { return files_; }

 private:
  WeightStore() = default;
  // Indexes the tensors of files_; Corruption if one name is in two files.
  Status BuildIndex(const std::string& what);

  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::vector<const TensorView*> by_name_;  // sorted by name
  size_t total_bytes_ = 0;
};

}  // namespace ccguard

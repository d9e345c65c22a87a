// WeightBinder: turns a model folder's tensors into what a forward pass reads,
// for every architecture. Each call looks a tensor up by name, checks its
// dtype and the shape the config implies, and returns it in the form the
// backend reads:
//   Linear  a matrix multiplied by activations: merged with its LoRA in
//           float32 if given, then prepared for the compute precision
//           (kernels::Backend::Prepare: BF16, INT8 panels, device copies),
//           replacing — not adding to — the stored or merged matrix;
//   Table   an embedding or LM-head table (device copy on a GPU);
//   Vector  a norm weight, float32 in backend memory.
// Mapped pages the model no longer reads (converted or merged matrices) are
// released (madvise DONTNEED; they would otherwise count twice in the
// resident memory). The binder owns every copy it makes: keep it alive as
// long as the returned matrices and pointers are used, and destroy it before
// the backend (device copies are freed through it).
//
// Errors: NotFound (a tensor the config requires is missing), NotSupported
// (dtype other than F32/F16/BF16), InvalidArgument (shape differs from the
// config's), errors of the merge or the backend. Not thread-safe.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "kernels/kernels.h"
#include "model/lora.h"
#include "util/status.h"
#include "weights/weight_store.h"

namespace ccguard {

class WeightBinder {
 public:
  // `store` and `backend` must outlive the binder; `dir` names the folder in
  // messages.
  WeightBinder(const WeightStore* store, std::string dir, kernels::Backend* backend);

  // The tensor `name`, checked; marks it used.
  Result<const TensorView*> Expect(const std::string& name, const std::vector<int64_t>& shape);

  // A linear weight [out, in] (see above). `lora` may be null; `adapter_dir`
  // names the adapter in merge errors.
  Result<kernels::Matrix> Linear(const std::string& name, const std::vector<int64_t>& shape,
                                 const LoraPair* lora, const std::string& adapter_dir);
  Result<kernels::Matrix> Table(const std::string& name, const std::vector<int64_t>& shape);
  Result<const float*> Vector(const std::string& name, int64_t size);

  // Marks a tensor present in the store as deliberately not read (no
  // "unused tensor" warning for it).
  void Ignore(const std::string& name) { used_.insert(name); }

  // Frees the scratch buffer of LoRA merges (call once every Linear is bound).
  void ReleaseScratch() { std::vector<float>().swap(merge_buffer_); }

  // One warning per tensor of the store that no call used.
  std::vector<std::string> UnusedWarnings() const;
  // Bytes of weight data the forward pass reads: mapped tensors still read
  // (norm weights counted as stored), plus every matrix copy the binder made.
  size_t bytes() const;

 private:
  const WeightStore* store_;
  std::string dir_;
  kernels::Backend* backend_;
  std::set<std::string> used_;      // tensors looked up
  std::set<std::string> replaced_;  // tensors whose mapped data is not read
  // Copies kept alive (std::vector moves keep their buffers: pointers stay).
  std::vector<std::vector<float>> owned_;          // merged or realigned (fp32)
  std::vector<kernels::PreparedMatrix> prepared_;  // backend-converted or device copies
  std::vector<std::vector<float>> vectors_;        // norm weights (host backends)
  std::vector<float> merge_buffer_;                // reused when the merge is converted
};

}  // namespace ccguard

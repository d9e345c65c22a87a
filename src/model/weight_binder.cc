#include "model/weight_binder.h"

#include <sys/mman.h>
#include <unistd.h>

namespace ccguard {
namespace {

std::string Shape(const std::vector<int64_t>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

// Drops the resident pages of mapped data in [data, data + n) (whole pages
// only); they are read back from the file if touched.
void ReleasePages(const void* data, size_t n) {
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(data) + page - 1) / page * page;
  const uintptr_t end = (reinterpret_cast<uintptr_t>(data) + n) / page * page;
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

}  // namespace

WeightBinder::WeightBinder(const WeightStore* store, std::string dir, kernels::Backend* backend)
    : store_(store), dir_(std::move(dir)), backend_(backend) {}

Result<const TensorView*> WeightBinder::Expect(const std::string& name,
                                               const std::vector<int64_t>& shape) {
  used_.insert(name);
  const TensorView* t = store_->Find(name);
  if (t == nullptr) {
    return Status::NotFound(dir_ + ": tensor '" + name + "' is missing (required by config.json)");
  }
  if (t->dtype != DType::kF32 && t->dtype != DType::kBF16 && t->dtype != DType::kF16) {
    return Status::NotSupported(dir_ + ": tensor '" + name + "' has dtype " + DTypeName(t->dtype) +
                                "; only F32, F16 and BF16 are supported");
  }
  if (t->shape != shape) {
    return Status::InvalidArgument(dir_ + ": tensor '" + name + "' has shape " + t->ShapeString() +
                                   " but config.json implies " + Shape(shape));
  }
  return t;
}

Result<kernels::Matrix> WeightBinder::Linear(const std::string& name,
                                             const std::vector<int64_t>& shape,
                                             const LoraPair* lora, const std::string& adapter_dir) {
  CCG_ASSIGN_OR_RETURN(const TensorView* w, Expect(name, shape));
  const auto addr = reinterpret_cast<uintptr_t>(w->data);
  kernels::Matrix src{w->dtype, w->data, w->shape[0], w->shape[1]};
  std::vector<float> local;
  std::vector<float>* merged = nullptr;
  if (lora != nullptr) {
    // fp32 keeps the merged matrix; otherwise it is converted, and one
    // buffer serves every merge.
    const bool keep = backend_->precision() == kernels::Precision::kF32;
    merged = keep ? &local : &merge_buffer_;
    Status s = MergeLora(*w, *lora, merged);
    if (!s.ok()) return s.WithContext(adapter_dir);
    src = {DType::kF32, merged->data(), w->shape[0], w->shape[1]};
  } else if (addr % DTypeSize(w->dtype) != 0) {
    // safetensors does not require alignment: kernels read typed pointers.
    local.resize(static_cast<size_t>(w->numel()));
    CCG_RETURN_IF_ERROR(ConvertToF32(w->dtype, w->data, local.size(), local.data()));
    src = {DType::kF32, local.data(), w->shape[0], w->shape[1]};
  }
  CCG_ASSIGN_OR_RETURN(kernels::PreparedMatrix prep, backend_->Prepare(src));
  const bool converted = prep.storage != nullptr;
  if (converted) {
    prepared_.push_back(prep);
  } else if (src.data != w->data) {  // merged (fp32) or realigned: kept as it is
    std::vector<float>& keep = merged == &merge_buffer_ ? merge_buffer_ : local;
    owned_.push_back(std::move(keep));
    keep = {};
    prep.matrix.data = owned_.back().data();
  }
  if (merged != nullptr || converted) {
    replaced_.insert(name);
    ReleasePages(w->data, w->nbytes);
  }
  return prep.matrix;
}

Result<kernels::Matrix> WeightBinder::Table(const std::string& name,
                                            const std::vector<int64_t>& shape) {
  CCG_ASSIGN_OR_RETURN(const TensorView* t, Expect(name, shape));
  kernels::Matrix m{t->dtype, t->data, t->shape[0], t->shape[1]};
  if (reinterpret_cast<uintptr_t>(t->data) % DTypeSize(t->dtype) != 0) {
    std::vector<float> copy(static_cast<size_t>(t->numel()));
    CCG_RETURN_IF_ERROR(ConvertToF32(t->dtype, t->data, copy.size(), copy.data()));
    owned_.push_back(std::move(copy));
    m = {DType::kF32, owned_.back().data(), t->shape[0], t->shape[1]};
  }
  if (!backend_->device_memory()) return m;
  // The table goes to the device once; the host copy is not read again.
  CCG_ASSIGN_OR_RETURN(kernels::PreparedMatrix up, backend_->Upload(m));
  prepared_.push_back(up);
  replaced_.insert(name);
  ReleasePages(t->data, t->nbytes);
  return up.matrix;
}

Result<const float*> WeightBinder::Vector(const std::string& name, int64_t size) {
  CCG_ASSIGN_OR_RETURN(const TensorView* t, Expect(name, {size}));
  std::vector<float> v(static_cast<size_t>(size));
  CCG_RETURN_IF_ERROR(ConvertToF32(t->dtype, t->data, v.size(), v.data()));
  kernels::Matrix m{DType::kF32, v.data(), 1, size};
  CCG_ASSIGN_OR_RETURN(kernels::PreparedMatrix up, backend_->Upload(m));
  if (up.storage != nullptr) {  // a device copy: the host one can go
    prepared_.push_back(up);
    return static_cast<const float*>(up.matrix.data);
  }
  vectors_.push_back(std::move(v));  // the buffer moves with it: the pointer stays valid
  return vectors_.back().data();
}

std::vector<std::string> WeightBinder::UnusedWarnings() const {
  std::vector<std::string> w;
  for (const std::string& name : store_->Names()) {
    if (!used_.count(name)) w.push_back(dir_ + ": unused tensor '" + name + "'");
  }
  return w;
}

size_t WeightBinder::bytes() const {
  size_t b = 0;
  for (const std::string& name : used_) {
    const TensorView* t = store_->Find(name);
    if (t != nullptr && !replaced_.count(name)) b += t->nbytes;
  }
  for (const auto& o : owned_) b += o.size() * sizeof(float);
  for (const auto& p : prepared_) b += p.bytes;
  return b;
}

}  // namespace ccguard

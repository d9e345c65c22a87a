#include "model/kv_cache.h"

namespace ccguard {

KvCache::KvCache(int64_t n_layers, int64_t kv_dim, const KvCache* prefix, int64_t prefix_len,
                 kernels::Memory* memory)
    : kv_dim_(kv_dim),
      prefix_(prefix),
      prefix_len_(prefix == nullptr ? 0
                  : prefix_len < 0  ? prefix->length()
                                    : prefix_len),
      memory_(memory ? memory : kernels::HostMemory()),
      layers_(static_cast<size_t>(n_layers)) {}

Status KvCache::Resize(Layer* layer, int64_t capacity) {
  const size_t row_bytes = static_cast<size_t>(kv_dim_) * sizeof(float);
  const size_t bytes = static_cast<size_t>(capacity) * row_bytes;
  CCG_ASSIGN_OR_RETURN(auto k, memory_->Allocate(bytes, kernels::MemoryUse::kKvCache));
  CCG_ASSIGN_OR_RETURN(auto v, memory_->Allocate(bytes, kernels::MemoryUse::kKvCache));
  if (layer->rows > 0) {
    memory_->Copy(k.get(), layer->k.get(), static_cast<size_t>(layer->rows) * row_bytes);
    memory_->Copy(v.get(), layer->v.get(), static_cast<size_t>(layer->rows) * row_bytes);
  }
  layer->k = std::move(k);
  layer->v = std::move(v);
  layer->capacity = capacity;
  return Status::Ok();
}

Status KvCache::Reserve(int64_t n) {
  for (Layer& l : layers_) {
    if (l.capacity < own_len_ + n) CCG_RETURN_IF_ERROR(Resize(&l, own_len_ + n));
  }
  Account(bytes());
  return Status::Ok();
}

Status KvCache::Append(int64_t layer, const float* k, const float* v, int64_t n,
                       std::vector<kernels::Memory::CopyOp>* ops) {
  Layer& l = layers_[static_cast<size_t>(layer)];
  if (l.rows + n > l.capacity) {
    CCG_RETURN_IF_ERROR(Resize(&l, std::max(l.rows + n, 2 * l.capacity)));
  }
  const size_t row_bytes = static_cast<size_t>(kv_dim_) * sizeof(float);
  const size_t size = static_cast<size_t>(n) * row_bytes;
  if (size > 0) {
    ops->push_back({static_cast<char*>(l.k.get()) + l.rows * row_bytes, k, size});
    ops->push_back({static_cast<char*>(l.v.get()) + l.rows * row_bytes, v, size});
  }
  l.rows += n;
  if (layer + 1 == n_layers()) Account(bytes());
  return Status::Ok();
}

void KvCache::Truncate(int64_t own_len) {
  own_len = std::max<int64_t>(0, std::min(own_len, own_len_));
  for (Layer& l : layers_) l.rows = std::min(l.rows, own_len);
  own_len_ = own_len;
}

void KvCache::Segments(int64_t layer, int64_t limit, std::vector<kernels::KvSegment>* out) const {
  if (prefix_ && prefix_len_ > 0) prefix_->Segments(layer, std::min(limit, prefix_len_), out);
  limit -= prefix_len_;
  const Layer& l = layers_[static_cast<size_t>(layer)];
  const int64_t own = std::min(limit, l.rows);
  if (own > 0) {
    out->push_back(
        {static_cast<const float*>(l.k.get()), static_cast<const float*>(l.v.get()), own});
  }
}

size_t KvCache::bytes() const {
  size_t b = 0;
  for (const Layer& l : layers_) b += 2 * static_cast<size_t>(l.capacity * kv_dim_) * sizeof(float);
  return b;
}

void KvCache::Account(size_t b) {
  const int64_t now = live_bytes_.fetch_add(static_cast<int64_t>(b) - accounted_) +
                      static_cast<int64_t>(b) - accounted_;
  accounted_ = static_cast<int64_t>(b);
  int64_t peak = peak_bytes_.load();
  while (now > peak && !peak_bytes_.compare_exchange_weak(peak, now)) {
  }
}

}  // namespace ccguard

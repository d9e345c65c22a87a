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
      layers_(static_cast<size_t>(n_layers)),
      memos_(static_cast<size_t>(n_layers)) {
  for (kernels::KvMemo& m : memos_) m.first_block = prefix_len_ / kernels::KvMemo::kBlock;
}

Status KvCache::Grow(Layer* layer, int64_t capacity) {
  const size_t row_bytes = static_cast<size_t>(kv_dim_) * sizeof(float);
  const bool contiguous = memory_->device_memory();
  const int64_t rows = contiguous ? capacity : capacity - layer->capacity;
  const size_t bytes = static_cast<size_t>(rows) * row_bytes;
  CCG_ASSIGN_OR_RETURN(auto k, memory_->Allocate(bytes, kernels::MemoryUse::kKvCache));
  CCG_ASSIGN_OR_RETURN(auto v, memory_->Allocate(bytes, kernels::MemoryUse::kKvCache));
  if (contiguous) {  // at most one chunk before: its rows move to the new one
    if (layer->rows > 0) {
      const size_t held = static_cast<size_t>(layer->rows) * row_bytes;
      memory_->Copy(k.get(), layer->chunks[0].k.get(), held);
      memory_->Copy(v.get(), layer->chunks[0].v.get(), held);
    }
    layer->chunks.clear();
  }
  layer->chunks.push_back({std::move(k), std::move(v), rows, bytes});
  layer->capacity = capacity;
  return Status::Ok();
}

Status KvCache::AddPages(Layer* layer, int64_t rows) {
  const size_t row_bytes = static_cast<size_t>(kv_dim_) * sizeof(float);
  const auto page_rows = static_cast<int64_t>(kernels::kHugePageBytes / row_bytes);
  if (page_rows == 0) return Grow(layer, layer->capacity + rows);  // a row over a page
  for (int64_t added = 0; added < rows; added += page_rows) {
    // A whole page each (the HostPagePool's), of which page_rows rows are used.
    CCG_ASSIGN_OR_RETURN(auto k,
                         memory_->Allocate(kernels::kHugePageBytes, kernels::MemoryUse::kKvCache));
    CCG_ASSIGN_OR_RETURN(auto v,
                         memory_->Allocate(kernels::kHugePageBytes, kernels::MemoryUse::kKvCache));
    layer->chunks.push_back({std::move(k), std::move(v), page_rows, kernels::kHugePageBytes});
    layer->capacity += page_rows;
  }
  return Status::Ok();
}

Status KvCache::Reserve(int64_t n) {
  for (Layer& l : layers_) {
    if (l.capacity < own_len_ + n) CCG_RETURN_IF_ERROR(Grow(&l, own_len_ + n));
  }
  Account(bytes());
  return Status::Ok();
}

Status KvCache::Append(int64_t layer, const float* k, const float* v, int64_t n,
                       std::vector<kernels::Memory::CopyOp>* ops) {
  Layer& l = layers_[static_cast<size_t>(layer)];
  const size_t row_bytes = static_cast<size_t>(kv_dim_) * sizeof(float);
  if (l.rows + n > l.capacity) {
    if (memory_->device_memory()) {
      CCG_RETURN_IF_ERROR(Grow(&l, std::max(l.rows + n, 2 * l.capacity)));
    } else {
      CCG_RETURN_IF_ERROR(AddPages(&l, l.rows + n - l.capacity));
    }
  }
  int64_t at = 0;  // first row of the chunk
  for (const Chunk& c : l.chunks) {
    const int64_t from = std::max(l.rows, at), to = std::min(l.rows + n, at + c.rows);
    if (from < to) {
      const size_t size = static_cast<size_t>(to - from) * row_bytes;
      const size_t src = static_cast<size_t>(from - l.rows) * row_bytes;
      const size_t dst = static_cast<size_t>(from - at) * row_bytes;
      ops->push_back(
          {static_cast<char*>(c.k.get()) + dst, reinterpret_cast<const char*>(k) + src, size});
      ops->push_back(
          {static_cast<char*>(c.v.get()) + dst, reinterpret_cast<const char*>(v) + src, size});
    }
    at += c.rows;
  }
  l.rows += n;
  if (layer + 1 == n_layers()) Account(bytes());
  return Status::Ok();
}

void KvCache::Truncate(int64_t own_len) {
  own_len = std::max<int64_t>(0, std::min(own_len, own_len_));
  for (Layer& l : layers_) l.rows = std::min(l.rows, own_len);
  for (kernels::KvMemo& m : memos_) m.Invalidate(prefix_len_ + own_len);
  own_len_ = own_len;
}

void KvCache::Segments(int64_t layer, int64_t limit, std::vector<kernels::KvSegment>* out) const {
  if (prefix_ && prefix_len_ > 0) prefix_->Segments(layer, std::min(limit, prefix_len_), out);
  limit -= prefix_len_;
  const Layer& l = layers_[static_cast<size_t>(layer)];
  int64_t own = std::min(limit, l.rows);
  for (const Chunk& c : l.chunks) {
    if (own <= 0) break;
    const int64_t len = std::min(own, c.rows);
    out->push_back(
        {static_cast<const float*>(c.k.get()), static_cast<const float*>(c.v.get()), len});
    own -= len;
  }
}

size_t KvCache::bytes() const {
  size_t b = 0;
  for (const Layer& l : layers_) {
    for (const Chunk& c : l.chunks) b += 2 * c.bytes;
  }
  for (const kernels::KvMemo& m : memos_) b += m.bytes();
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

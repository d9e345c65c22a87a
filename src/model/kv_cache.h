// Keys and values of one sequence, per layer, in float32.
//
// A cache may sit on top of a read-only `prefix` cache (a constitution's
// shared prefix): its own positions continue after the prefix's. The prefix
// must remain live and unchanged while any cache built on it is in use.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "kernels/kernels.h"

namespace ccguard {

class KvCache {
 public:
  // Uses the first `prefix_len` positions of `prefix` (all of them if < 0).
  KvCache(int64_t n_layers, int64_t kv_dim, const KvCache* prefix = nullptr,
          int64_t prefix_len = -1)
      : kv_dim_(kv_dim),
        prefix_(prefix),
        prefix_len_(prefix == nullptr ? 0
                    : prefix_len < 0  ? prefix->length()
                                      : prefix_len),
        k_(n_layers),
        v_(n_layers) {}

  // Positions held, including the prefix's.
  int64_t length() const { return prefix_length() + own_length(); }
  int64_t own_length() const { return own_len_; }
  int64_t prefix_length() const { return prefix_len_; }
  const KvCache* prefix() const { return prefix_; }
  int64_t n_layers() const { return static_cast<int64_t>(k_.size()); }
  int64_t kv_dim() const { return kv_dim_; }

  // Appends `n` rows of keys and values for `layer`. All layers must receive
  // the same rows before Commit(n).
  void Append(int64_t layer, const float* k, const float* v, int64_t n) {
    auto& kk = k_[layer];
    auto& vv = v_[layer];
    kk.insert(kk.end(), k, k + n * kv_dim_);
    vv.insert(vv.end(), v, v + n * kv_dim_);
  }
  void Commit(int64_t n) { own_len_ += n; }

  // Drops own positions beyond `own_len` (the prefix is untouched).
  // Also drops rows appended but not committed.
  void Truncate(int64_t own_len) {
    own_len = std::max<int64_t>(0, std::min(own_len, own_len_));
    for (auto& k : k_) k.resize(static_cast<size_t>(own_len * kv_dim_));
    for (auto& v : v_) v.resize(static_cast<size_t>(own_len * kv_dim_));
    own_len_ = own_len;
  }

  // The segments of `layer` from position 0 on, including rows appended but
  // not yet committed.
  void Segments(int64_t layer, std::vector<kernels::KvSegment>* out) const {
    Segments(layer, INT64_MAX, out);
  }
  // Only the first `limit` positions.
  void Segments(int64_t layer, int64_t limit, std::vector<kernels::KvSegment>* out) const {
    if (prefix_ && prefix_len_ > 0) prefix_->Segments(layer, std::min(limit, prefix_len_), out);
    limit -= prefix_len_;
    const auto& kk = k_[layer];
    const int64_t own = std::min(limit, static_cast<int64_t>(kk.size()) / kv_dim_);
    if (own > 0) out->push_back({kk.data(), v_[layer].data(), own});
  }

  size_t bytes() const {
    size_t b = 0;
    for (const auto& k : k_) b += k.capacity() * sizeof(float);
    for (const auto& v : v_) b += v.capacity() * sizeof(float);
    return b;
  }

 private:
  int64_t kv_dim_;
  const KvCache* prefix_;
  int64_t prefix_len_;
  int64_t own_len_ = 0;
  std::vector<std::vector<float>> k_, v_;
};

}  // namespace ccguard

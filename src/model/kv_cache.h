// Keys and values of one sequence, per layer, in float32.
//
// A cache may sit on top of a read-only `prefix` cache (a constitution's
// shared prefix): its own positions continue after the prefix's. The prefix
// must remain live and unchanged while any cache built on it is in use.
#pragma once

#include <algorithm>
#include <atomic>
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
  ~KvCache() { Account(0); }
  KvCache(const KvCache&) = delete;
  KvCache& operator=(const KvCache&) = delete;

  // Bytes held by every live cache in the process, and their high-water
  // mark (what a benchmark compares resident memory with).
  static int64_t LiveBytes() { return live_bytes_.load(); }
  static int64_t PeakLiveBytes() { return peak_bytes_.load(); }
  static void ResetPeakLiveBytes() { peak_bytes_.store(live_bytes_.load()); }

  // Makes room for `n` more own positions in every layer, exactly (so that
  // appending them does not over-allocate).
  void Reserve(int64_t n) {
    const size_t want = static_cast<size_t>((own_len_ + n) * kv_dim_);
    for (auto& k : k_) k.reserve(want);
    for (auto& v : v_) v.reserve(want);
    Account(bytes());
  }

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
    if (layer + 1 == n_layers()) Account(bytes());
  }
  void Commit(int64_t n) { own_len_ += n; }

  // Drops own positions beyond `own_len` (the prefix is untouched).
  // Also drops rows appended but not committed.
  void Truncate(int64_t own_len) {
    own_len = std::max<int64_t>(0, std::min(own_len, own_len_));
    for (auto& k : k_) k.resize(static_cast<size_t>(own_len * kv_dim_));
    for (auto& v : v_) v.resize(static_cast<size_t>(own_len * kv_dim_));
    own_len_ = own_len;
    Account(bytes());
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
  // Records that this cache now holds `b` bytes.
  void Account(size_t b) {
    const int64_t now = live_bytes_.fetch_add(static_cast<int64_t>(b) - accounted_) +
                        static_cast<int64_t>(b) - accounted_;
    accounted_ = static_cast<int64_t>(b);
    int64_t peak = peak_bytes_.load();
    while (now > peak && !peak_bytes_.compare_exchange_weak(peak, now)) {
    }
  }
  static inline std::atomic<int64_t> live_bytes_{0};
  static inline std::atomic<int64_t> peak_bytes_{0};
  int64_t accounted_ = 0;
  int64_t kv_dim_;
  const KvCache* prefix_;
  int64_t prefix_len_;
  int64_t own_len_ = 0;
  std::vector<std::vector<float>> k_, v_;
};

}  // namespace ccguard

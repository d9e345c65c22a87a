// Keys and values of one sequence, per layer, in float32, in the memory of
// the backend that computes them (host memory for the CPU backends, device
// memory for CUDA; kernels::Memory).
//
// A cache may sit on top of a read-only `prefix` cache (a constitution's
// shared prefix): its own positions continue after the prefix's. The prefix
// must remain live and unchanged while any cache built on it is in use, and
// must live in the same memory.
//
// Thread-safety: one thread at a time per cache; a prefix may be read by any
// number of caches at once.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "kernels/kernels.h"
#include "util/status.h"

namespace ccguard {

class KvCache {
 public:
  // Uses the first `prefix_len` positions of `prefix` (all of them if < 0).
  // `memory` (null: host memory) must outlive the cache.
  KvCache(int64_t n_layers, int64_t kv_dim, const KvCache* prefix = nullptr,
          int64_t prefix_len = -1, kernels::Memory* memory = nullptr);
  ~KvCache() { Account(0); }
  KvCache(const KvCache&) = delete;
  KvCache& operator=(const KvCache&) = delete;

  // Bytes held by every live cache in the process, and their high-water
  // mark (what a benchmark compares resident memory with).
  static int64_t LiveBytes() { return live_bytes_.load(); }
  static int64_t PeakLiveBytes() { return peak_bytes_.load(); }
  static void ResetPeakLiveBytes() { peak_bytes_.store(live_bytes_.load()); }

  // Makes room for `n` more own positions in every layer, exactly (so that
  // appending them does not over-allocate). ResourceExhausted when the
  // memory is full (the cache is unchanged then).
  Status Reserve(int64_t n);

  // Positions held, including the prefix's.
  int64_t length() const { return prefix_length() + own_length(); }
  int64_t own_length() const { return own_len_; }
  int64_t prefix_length() const { return prefix_len_; }
  const KvCache* prefix() const { return prefix_; }
  int64_t n_layers() const { return static_cast<int64_t>(layers_.size()); }
  int64_t kv_dim() const { return kv_dim_; }
  kernels::Memory* memory() const { return memory_; }

  // Appends `n` rows of keys and values (in this cache's memory) for
  // `layer`: makes room (doubling the layer's capacity; ResourceExhausted
  // when the memory is full) and adds the copies to `ops`, for the caller to
  // run with kernels::Memory::CopyMany together with other caches' appends.
  // All layers must receive the same rows before Commit(n).
  //
  // Growth: in host memory by whole 2 MiB pages from the process's
  // kernels::HostPagePool, one chunk (one more segment) each: the rows held
  // are neither copied nor moved and their pages are not touched again; a
  // growing cache (a streaming session) takes page faults 2 MiB at a time,
  // not 4 KiB (measured: 12 % faster appends on a VM), and none at all
  // from pages the pool holds (reserved or given back by an ended
  // session); a cache that grew holds under 2 MiB per layer (keys, values)
  // more than its rows. In device memory the storage is reallocated
  // (doubling) and the rows copied (one segment: the GPU attention reads a
  // bounded number of segments per sequence). Reserve stays exact
  // (one-shot items).
  Status Append(int64_t layer, const float* k, const float* v, int64_t n,
                std::vector<kernels::Memory::CopyOp>* ops);
  // Also counts what the backend added to the memos during the pass.
  void Commit(int64_t n) {
    own_len_ += n;
    Account(bytes());
  }

  // Drops own positions beyond `own_len` (the prefix is untouched).
  // Also drops rows appended but not committed, and the memo blocks made
  // from any dropped row. Storage is kept.
  void Truncate(int64_t own_len);

  // The segments of `layer` from position 0 on, including rows appended but
  // not yet committed.
  void Segments(int64_t layer, std::vector<kernels::KvSegment>* out) const {
    Segments(layer, INT64_MAX, out);
  }
  // Only the first `limit` positions.
  void Segments(int64_t layer, int64_t limit, std::vector<kernels::KvSegment>* out) const;

  // The backend's memo of `layer` (kernels::KvMemo): blocks from absolute
  // position prefix_length() rounded down to a block on (a boundary block
  // holds prefix rows too, which cannot change while this cache lives).
  kernels::KvMemo* memo(int64_t layer) { return &memos_[static_cast<size_t>(layer)]; }

  // Bytes of storage held (capacity, keys and values of every layer, and
  // the memos).
  size_t bytes() const;

 private:
  struct Chunk {
    std::shared_ptr<void> k, v;  // rows of kv_dim floats each
    int64_t rows = 0;            // capacity
    size_t bytes = 0;            // of k, and of v
  };
  struct Layer {
    std::vector<Chunk> chunks;  // positions in order
    int64_t capacity = 0;       // rows, all chunks
    int64_t rows = 0;           // rows appended (committed or not)
  };
  // Grows `layer` to exactly `capacity` rows, keeping its rows (see Append).
  Status Grow(Layer* layer, int64_t capacity);
  // Host memory: adds pages of rows to `layer` until `rows` more fit.
  Status AddPages(Layer* layer, int64_t rows);
  // Records that this cache now holds `b` bytes.
  void Account(size_t b);
  static inline std::atomic<int64_t> live_bytes_{0};
  static inline std::atomic<int64_t> peak_bytes_{0};
  int64_t accounted_ = 0;
  int64_t kv_dim_;
  const KvCache* prefix_;
  int64_t prefix_len_;
  int64_t own_len_ = 0;
  kernels::Memory* memory_;
  std::vector<Layer> layers_;
  std::vector<kernels::KvMemo> memos_;
};

}  // namespace ccguard

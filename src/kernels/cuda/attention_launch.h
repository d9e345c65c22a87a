// The description of one CUDA attention launch, shared by the host-side
// planner (attention_plan.h) and the kernels (cuda_kernels.cu). Plain data.
//
// Work unit: a tile of kTileRows query rows of one sequence and one KV head.
// A sequence of `tokens` tokens has tokens * group rows (group = n_heads /
// n_kv_heads query heads share a KV head); row r is token r / group, query
// head kv_head * group + r % group. Tiles of a launch are numbered
// consecutively, sequence by sequence (AttnSeqDesc::tile_begin), so a block
// finds its sequence by binary search; the grid is (n_tiles, n_kv_heads).
#pragma once

#include <cstdint>

namespace ccguard::kernels::cuda {

constexpr int kMaxSegments = 4;      // prefix chain depth + own rows
constexpr int kMaxLaunchSeqs = 128;  // sequences per launch (parameter size)
constexpr int kTileRows = 64;        // query rows per block

struct AttnSeqDesc {
  int32_t row = 0;         // first query token of the sequence in q/out
  int32_t tokens = 0;      // query tokens
  int32_t start = 0;       // position of the first query token
  int32_t tile_begin = 0;  // index of the sequence's first tile in the launch
  int32_t n_segments = 0;
  int32_t seg_len[kMaxSegments] = {};
  const float* seg_k[kMaxSegments] = {};  // device pointers, rows of kv_dim floats
  const float* seg_v[kMaxSegments] = {};
};

// Passed by value as a __grid_constant__ kernel parameter (about 13 KB,
// within CUDA 12.1+'s 32 KB limit for sm_70 and later).
struct AttnLaunch {
  int32_t n_seqs = 0;
  int32_t n_tiles = 0;
  AttnSeqDesc seq[kMaxLaunchSeqs];
};

#if defined(__CUDACC__)
#define CCG_HOST_DEVICE __host__ __device__
#else
#define CCG_HOST_DEVICE
#endif

// The sequence of tile `tile` in `launch`: the last whose tile_begin <= tile
// (binary search; the kernels call this, and so do the planner's tests).
CCG_HOST_DEVICE inline int FindSequence(const AttnLaunch& launch, int32_t tile) {
  int lo = 0, hi = launch.n_seqs - 1;
  while (lo < hi) {
    const int mid = (lo + hi + 1) / 2;
    if (launch.seq[mid].tile_begin <= tile) {
      lo = mid;
    } else {
      hi = mid - 1;
    }
  }
  return lo;
}

// Tiles of a sequence of `tokens` tokens with `group` query heads per KV head.
inline int32_t TilesFor(int64_t tokens, int64_t group) {
  return static_cast<int32_t>((tokens * group + kTileRows - 1) / kTileRows);
}

}  // namespace ccguard::kernels::cuda

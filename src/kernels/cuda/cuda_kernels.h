// The CUDA kernels of the CUDA backend (cuda_kernels.cu), as launchers that
// enqueue on `stream` and return at once. Plain C++ declarations so that the
// backend (compiled by the host compiler) needs no CUDA headers for them.
// Every pointer is device memory. Launch errors are read by the caller with
// cudaGetLastError.
#pragma once

#include <cstdint>

#include "kernels/cuda/attention_launch.h"
#include "kernels/rope.h"

struct CUstream_st;

namespace ccguard::kernels::cuda {

using Stream = CUstream_st*;

// out[r, :] = x[r, :] / sqrt(mean(x[r, :]²) + eps) * w (sum of squares in
// double); x and out may alias. With `out_bf16`, also its BF16 rounding there
// (the next MatMul's input, so that it need not be converted again).
void LaunchRmsNorm(const float* x, const float* w, int64_t rows, int64_t dim, float eps, float* out,
                   uint16_t* out_bf16, Stream stream);
// NeoX rotary embedding in place on x[t, h, d] at positions[t]; frequencies
// and angles in double (RopeInvFreq), as the CPU backends compute them.
void LaunchRope(float* x, int64_t tokens, int64_t heads, int64_t head_dim, const int64_t* positions,
                const RopeSpec& rope, Stream stream);
// out[i] = silu(gate[i]) * up[i]; out may alias gate. With `out_bf16`, also
// its BF16 rounding there.
void LaunchSiluMul(const float* gate, const float* up, int64_t n, float* out, uint16_t* out_bf16,
                   Stream stream);
// x[i] += alpha * y[i] (alpha 1: x[i] + y[i] exactly).
void LaunchAdd(float* x, const float* y, int64_t n, float alpha, Stream stream);
// x[i] *= alpha.
void LaunchScale(float* x, int64_t n, float alpha, Stream stream);
// out[t, :] = table[ids[t], :] as float; `bf16` says the table's element type
// (else float32).
void LaunchEmbed(const void* table, bool bf16, int64_t cols, const int32_t* ids, int64_t n,
                 float* out, Stream stream);
// dst[i] = bfloat16(src[i]), round to nearest even.
void LaunchToBf16(const float* src, int64_t n, uint16_t* dst, Stream stream);

// Up to kMaxCopies device-to-device copies in one launch.
constexpr int kMaxCopies = 256;
struct CopyList {
  int32_t n = 0;
  void* dst[kMaxCopies];
  const void* src[kMaxCopies];
  int64_t bytes[kMaxCopies];
};
void LaunchCopies(const CopyList& copies, Stream stream);

// For r < rows: out[r * (n_ids + 1) + j] = logits[r, ids[j]], and
// out[r * (n_ids + 1) + n_ids] = log Σ_v exp(logits[r, v]) in double.
constexpr int kMaxLabelIds = 32;
struct LabelIds {
  int32_t n = 0;
  int32_t id[kMaxLabelIds];
};
void LaunchLabelStats(const float* logits, int64_t rows, int64_t vocab, const LabelIds& ids,
                      double* out, Stream stream);

// Causal GQA attention over the launch's sequences (attention_plan.h).
// `bf16_mma`: tensor-core kernel (q, k, v and the softmax weights rounded to
// bfloat16, float32 accumulation; head_dim 16, 32, 64 or 128); otherwise the
// float32 kernel (any head_dim <= 256). Returns false when the shape is not
// supported by the chosen kernel (nothing is launched).
bool LaunchAttention(const float* q, float* out, const AttnLaunch& launch, float scale, int n_heads,
                     int n_kv_heads, int head_dim, bool bf16_mma, Stream stream);

}  // namespace ccguard::kernels::cuda

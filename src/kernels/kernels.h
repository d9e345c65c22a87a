// The math primitives of a transformer forward pass, behind one small
// interface (CTranslate2's "primitives" layer). The model calls only these;
// it never touches an intrinsic. A faster CPU path or a CUDA backend is another
// implementation of Backend.
//
// Conventions: activations are row-major float32; a weight matrix is
// [rows = out_features, cols = in_features] row-major in its stored dtype
// (F32, BF16 or F16), exactly as Hugging Face stores nn.Linear weights.
// Pointers passed in must stay valid for the duration of the call only.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "util/thread_pool.h"
#include "weights/dtype.h"

namespace ccguard::kernels {

// A read-only view of a weight matrix (not owned).
struct Matrix {
  DType dtype = DType::kF32;
  const void* data = nullptr;
  int64_t rows = 0;  // out features
  int64_t cols = 0;  // in features
};

// A contiguous run of cached keys and values: `len` positions, each row of
// `kv_dim` floats. Segments of one sequence are consecutive in position.
struct KvSegment {
  const float* k = nullptr;
  const float* v = nullptr;
  int64_t len = 0;
};

struct AttentionShape {
  int64_t n_heads = 0;
  int64_t n_kv_heads = 0;
  int64_t head_dim = 0;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual const char* name() const = 0;

  // y[m, n] = sum_k x[m, k] * w[n, k]   (y = x · Wᵀ), for m < M.
  virtual void MatMul(const float* x, int64_t m, const Matrix& w, float* y) = 0;

  // out[r, :] = x[r, :] / sqrt(mean(x[r, :]²) + eps) * weight, for r < rows.
  // x and out may alias.
  virtual void RmsNorm(const float* x, const float* weight, int64_t rows, int64_t dim, float eps,
                       float* out) = 0;

  // Rotary embedding, NeoX/HF "rotate_half" layout, in place on
  // x[t, h, head_dim] for t < tokens, h < heads, at positions[t].
  virtual void Rope(float* x, int64_t tokens, int64_t heads, int64_t head_dim,
                    const int64_t* positions, double theta) = 0;

  // out[i] = silu(gate[i]) * up[i]. out may alias gate.
  virtual void SiluMul(const float* gate, const float* up, int64_t n, float* out) = 0;

  // Causal attention for `tokens` query rows q[t, n_heads*head_dim] of one
  // sequence. Query t sits at absolute position positions[t] and attends to
  // every cached position <= positions[t]; the cache is the concatenation of
  // `segments` (positions 0, 1, ...) and must already hold the queries' own
  // keys/values. GQA: query head h uses kv head h / (n_heads / n_kv_heads).
  // out[t, n_heads*head_dim].
  virtual void Attention(const float* q, int64_t tokens, const int64_t* positions,
                         const std::vector<KvSegment>& segments, const AttentionShape& shape,
                         float* out) = 0;

  // Copies row `row` of w, converted to float, into out[w.cols].
  virtual void GetRow(const Matrix& w, int64_t row, float* out) = 0;
};

// The portable CPU backend. `pool` must outlive the backend.
std::unique_ptr<Backend> MakeCpuBackend(ThreadPool* pool);

}  // namespace ccguard::kernels

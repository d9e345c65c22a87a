// The math primitives of a transformer forward pass, behind one small
// interface (CTranslate2's "primitives" layer). The model calls only these;
// it never touches an intrinsic. A faster CPU path or a CUDA backend is another
// implementation of Backend.
//
// Conventions: activations are row-major float32; a weight matrix is
// [rows = out_features, cols = in_features] row-major in its stored dtype
// (F32, BF16 or F16), exactly as Hugging Face stores nn.Linear weights, or in
// a layout a backend made from one with Backend::Prepare (BF16 or I8, maybe
// tiled). Pointers passed in must stay valid for the duration of the call only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "util/status.h"
#include "util/thread_pool.h"
#include "weights/dtype.h"

namespace ccguard::kernels {

// How MatMul computes against a weight matrix (ModelOptions::compute).
enum class Precision {
  kF32,   // float32 arithmetic on the weights as stored (the reference)
  kBF16,  // activations rounded to bfloat16, BF16 weights, float32 accumulation
  kInt8,  // I8 weights with per-row scales; activations quantized per row to
          // symmetric int8 (scale max|x|/127); int32 accumulation
};
// "fp32" | "bf16" | "int8"; InvalidArgument names the value otherwise.
Result<Precision> ParsePrecision(std::string_view name);
const char* PrecisionName(Precision p);

// How a matrix's elements are laid out.
enum class Layout {
  kRowMajor,  // [rows][cols]
  kTiled,     // a blocked layout private to the backend whose Prepare made it
};

// A read-only view of a weight matrix (not owned).
struct Matrix {
  DType dtype = DType::kF32;
  const void* data = nullptr;
  int64_t rows = 0;  // out features
  int64_t cols = 0;  // in features
  Layout layout = Layout::kRowMajor;
  // kI8 only: w[n, k] = data[n, k] * scales[n].
  const float* scales = nullptr;
};

// Weight storage a backend made for itself (Backend::Prepare): owns the
// memory `matrix` points into.
struct PreparedMatrix {
  Matrix matrix;
  std::shared_ptr<void> storage;
  size_t bytes = 0;  // bytes of storage
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

  // The precision MatMul computes in (see Precision).
  virtual Precision precision() const { return Precision::kF32; }

  // Weight preparation, once at load: converts the row-major F32/BF16/F16
  // matrix `w` into the storage precision() calls for, in the layout this
  // backend's MatMul reads fastest (kBF16: BF16; kInt8: I8 with per-row
  // scales). Returns an empty `storage` when `w` is to be used as it is (then
  // `matrix` is `w`). `w` may be released once this returns.
  virtual Result<PreparedMatrix> Prepare(const Matrix& w) { return PreparedMatrix{w, nullptr, 0}; }
};

// The portable CPU backend (float32 only). `pool` must outlive the backend.
std::unique_ptr<Backend> MakeCpuBackend(ThreadPool* pool);

// Instruction-set tiers of the fast CPU backend, lowest first.
enum class CpuIsa {
  kGeneric,  // portable C++ (the compiler's baseline x86-64)
  kAvx2,     // AVX2 + FMA + F16C
  kAvx512,   // AVX-512 F/BW/VL/DQ (+ BF16 dot products and VNNI where present)
  kAmx,      // AMX tiles (BF16 and INT8) on top of kAvx512
  kBest,     // the highest this CPU and OS support
};
const char* CpuIsaName(CpuIsa isa);
// The highest tier this CPU and OS support (AMX needs the kernel's permission,
// which this requests). The environment variable CCGUARD_CPU_ISA
// (generic|avx2|avx512|amx) lowers it, for testing.
CpuIsa DetectCpuIsa();

// The fast CPU backend: `precision` as above, kernels chosen at run time for
// min(isa, DetectCpuIsa()). Results agree with the portable backend within
// the precision's rounding (see fast_backend_test.cc). `pool` must outlive it.
std::unique_ptr<Backend> MakeFastCpuBackend(ThreadPool* pool, Precision precision,
                                            CpuIsa isa = CpuIsa::kBest);

}  // namespace ccguard::kernels

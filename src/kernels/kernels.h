// The math primitives of a transformer forward pass, behind one small
// interface (CTranslate2's "primitives" layer). The model calls only these;
// it never touches an intrinsic or a CUDA call. The CPU backends and the CUDA
// backend (cuda/) are implementations of Backend.
//
// Memory: every activation, key/value and index pointer a kernel takes lives
// in *backend memory* (Memory below): host memory for the CPU backends,
// device memory for CUDA. The model allocates it with Memory::Allocate and
// moves data in and out with the Copy* calls; only arguments documented as
// "host" (shapes, segment lists) are read from host memory.
// Kernels may run asynchronously (CUDA: in order on one stream); their errors
// surface at the next Memory::CopyToHost or Memory::Synchronize.
//
// Conventions: activations are row-major float32; a weight matrix is
// [rows = out_features, cols = in_features] row-major in its stored dtype
// (F32, BF16 or F16), exactly as Hugging Face stores nn.Linear weights, or in
// a layout a backend made from one with Backend::Prepare (BF16 or I8, maybe
// tiled). Pointers passed in must stay valid for the duration of the call only.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "kernels/rope.h"
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
  kPanels,    // likewise (the fast CPU backend's column panels without AMX)
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
  // The factor on q·k before the softmax; 0 means 1/sqrt(head_dim) (Granite
  // sets its attention_multiplier here).
  float scale = 0.f;
  float softmax_scale() const {
    return scale != 0.f ? scale : 1.f / std::sqrt(static_cast<float>(head_dim));
  }
};

// What an allocation of backend memory holds (for the memory statistics).
enum class MemoryUse { kWorkspace, kKvCache, kWeights };

// Bytes of backend memory in use, by MemoryUse, and their high-water marks.
struct MemoryStats {
  int64_t in_use[3] = {0, 0, 0};
  int64_t peak[3] = {0, 0, 0};
  int64_t held = 0;  // bytes taken from the device (in use + cached for reuse)
};

// Backend memory. Host memory for CPU backends (HostMemory()); device memory
// for a GPU backend. Thread-safe: buffers may be allocated and dropped on any
// thread; copies and kernels are issued by one thread at a time.
class Memory {
 public:
  virtual ~Memory() = default;
  // True when the memory is not host-addressable (a GPU's).
  virtual bool device_memory() const { return false; }
  // `bytes` (> 0) of uninitialised memory, 64-byte aligned, released when the
  // last copy of the pointer is dropped (after the work queued before that).
  // ResourceExhausted names the bytes asked for and free when it is full.
  virtual Result<std::shared_ptr<void>> Allocate(size_t bytes,
                                                 MemoryUse use = MemoryUse::kWorkspace);
  // host -> backend memory. The host buffer may be reused once this returns.
  virtual void CopyFromHost(void* dst, const void* host_src, size_t bytes);
  // backend -> host memory. Waits for the copy (and so for every kernel
  // queued before it); returns the first error of any earlier queued work.
  virtual Status CopyToHost(void* host_dst, const void* src, size_t bytes);
  // backend -> backend memory, ordered after earlier kernels. No overlap.
  virtual void Copy(void* dst, const void* src, size_t bytes);
  // Several such copies (a GPU backend does them in one launch).
  struct CopyOp {
    void* dst;
    const void* src;
    size_t bytes;
  };
  virtual void CopyMany(const std::vector<CopyOp>& ops);
  // Waits for all queued work; returns the first error any of it met. The
  // error is sticky: a backend that failed stays failed.
  virtual Status Synchronize() { return Status::Ok(); }
  // Bytes of device memory free now (NotSupported for host memory).
  virtual Result<int64_t> FreeBytes() { return Status::NotSupported("host memory"); }
  // Bytes in use by MemoryUse (tracked by every implementation).
  MemoryStats memory_stats() const;

 protected:
  // The statistics, shared with the deleters of allocations (which may run
  // after the Memory is gone).
  struct StatsBox {
    std::mutex mu;
    MemoryStats stats;
    void Track(MemoryUse use, int64_t delta);
    void TrackHeld(int64_t delta);
  };
  const std::shared_ptr<StatsBox>& stats_box() const { return stats_; }

 private:
  std::shared_ptr<StatsBox> stats_ = std::make_shared<StatsBox>();
};

// The process's host memory (what KvCache uses without a backend).
Memory* HostMemory();

// The size of a transparent huge page (x86-64): 2 MiB.
constexpr size_t kHugePageBytes = size_t{2} << 20;

// `bytes` of host memory, 64-byte aligned; from kHugePageBytes up aligned to
// a huge page and offered transparent huge pages (a growing cache or a prepared weight
// is then faulted in 2 MiB at a time rather than 4 KiB: fewer traps, and
// fewer TLB misses when streaming). A buffer of exactly one huge page comes
// from the process's HostPagePool (kernels/host_page_pool.h). `*rounded`:
// the bytes taken. Null when the system has none. Release with
// FreeHostBuffer(p, *rounded).
void* AllocateHostBuffer(size_t bytes, size_t* rounded);
void FreeHostBuffer(void* p, size_t rounded);

// What a backend keeps of one sequence's keys/values between attention
// calls, for one layer: blocks of kBlock positions at absolute positions
// kBlock·b, b >= first_block, in a layout of the backend's choosing (the CPU
// BF16 attention keeps its packed key/value blocks here, so that a cache
// growing by a few tokens per call is not re-packed whole on every call).
// Owned by the KvCache beside its rows; the backend adds blocks during
// AttentionBatch, only from rows of earlier calls, and reads the ones held;
// the owner drops blocks whose rows change (Invalidate). A block held holds
// exactly what the backend would compute from the rows now, so using it
// changes no result. Thread-safety: as its cache (one call at a time).
struct KvMemo {
  static constexpr int64_t kBlock = 32;
  int64_t first_block = 0;  // set by the owner
  int64_t blocks = 0;       // blocks [first_block, first_block + blocks) held
  // The storage of block first_block + i, `elements` uint16 (the same for
  // every block of a memo): allocated on first use in pages of kPageBlocks
  // blocks (AllocateHostBuffer: 2 MiB pages for the usual shapes, from the
  // HostPagePool; growth copies nothing), kept until the memo
  // is dropped. std::bad_alloc when host memory is exhausted (as the
  // backend's other per-call buffers).
  uint16_t* Block(int64_t i, int64_t elements);
  // Rows at positions >= `position` changed or were dropped: drops every
  // block holding any of them.
  void Invalidate(int64_t position) {
    blocks = std::max<int64_t>(0, std::min(blocks, position / kBlock - first_block));
  }
  size_t bytes() const { return bytes_; }

 private:
  static constexpr int64_t kPageBlocks = 16;
  struct Free {
    size_t bytes = 0;
    void operator()(void* p) const { FreeHostBuffer(p, bytes); }
  };
  std::vector<std::unique_ptr<uint16_t, Free>> pages_;
  int64_t page_elements_ = 0;
  size_t bytes_ = 0;
};

// One sequence of a batched attention call (Backend::AttentionBatch): its
// query rows [row, row + tokens) of q/out sit at positions start, start + 1,
// ...; its keys/values are `segments` (backend memory; host list). `memo`
// (may be null: nothing is kept) is the sequence's KvMemo for this layer.
struct AttentionSequence {
  int64_t row = 0;
  int64_t tokens = 0;
  int64_t start = 0;
  std::vector<KvSegment> segments;
  KvMemo* memo = nullptr;
};

class Backend : public Memory {
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
  // x[t, h, head_dim] for t < tokens, h < heads, at positions[t], with the
  // frequencies RopeInvFreq(rope, i, head_dim) (kernels/rope.h).
  virtual void Rope(float* x, int64_t tokens, int64_t heads, int64_t head_dim,
                    const int64_t* positions, const RopeSpec& rope) = 0;

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

  // Copies row `row` of w, converted to float, into out[w.cols]
  // (host-memory backends only; Embed is the general form).
  virtual void GetRow(const Matrix& w, int64_t row, float* out) = 0;

  // out[t, :] = table[ids[t], :] as float, for t < n. `ids` (backend memory)
  // must lie in [0, table.rows).
  virtual void Embed(const Matrix& table, const int32_t* ids, int64_t n, float* out);

  // x[i] += alpha * y[i] for i < n (alpha 1: exactly x[i] + y[i]). x and y
  // may not overlap.
  virtual void Add(float* x, const float* y, int64_t n, float alpha);

  // x[i] *= alpha for i < n.
  virtual void Scale(float* x, int64_t n, float alpha);

  // The label read-out of the last positions: for r < rows, out[r * (n + 1)
  // + j] = logits[r, ids[j]] (j < n = ids.size()) and out[r * (n + 1) + n] =
  // log Σ_v exp(logits[r, v]), in double (max-shifted). `logits` is backend
  // memory, `ids` and `out` host memory; waits for the result and returns
  // the first error of any queued work.
  virtual Status LabelStats(const float* logits, int64_t rows, int64_t vocab,
                            const std::vector<int32_t>& ids, std::vector<double>* out);

  // Attention (above) for several sequences at once: sequence s reads
  // q[seqs[s].row ...] and writes out[seqs[s].row ...]. The default calls
  // Attention once per sequence; a GPU backend runs them in one launch.
  virtual void AttentionBatch(const float* q, const std::vector<AttentionSequence>& seqs,
                              const AttentionShape& shape, float* out);

  // The precision MatMul computes in (see Precision).
  virtual Precision precision() const { return Precision::kF32; }

  // Weight preparation, once at load: converts the row-major F32/BF16/F16
  // matrix `w` into the storage precision() calls for, in the layout this
  // backend's MatMul reads fastest (kBF16: BF16; kInt8: I8 with per-row
  // scales). Returns an empty `storage` when `w` is to be used as it is (then
  // `matrix` is `w`). `w` may be released once this returns.
  virtual Result<PreparedMatrix> Prepare(const Matrix& w) { return PreparedMatrix{w, nullptr, 0}; }

  // A table read by Embed, or a vector (rows = 1) read by RmsNorm, in backend
  // memory: empty `storage` (w as it is) on host-memory backends; a device
  // copy (float32 for vectors and in fp32, BF16 tables in bf16) on a GPU.
  virtual Result<PreparedMatrix> Upload(const Matrix& w) { return PreparedMatrix{w, nullptr, 0}; }
};

// The portable CPU backend (float32 only). `pool` must outlive the backend.
std::unique_ptr<Backend> MakeCpuBackend(ThreadPool* pool);

// Instruction-set tiers of the fast CPU backend, lowest first.
enum class CpuIsa {
  kGeneric,  // portable C++ (the compiler's baseline x86-64)
  kAvx2,     // AVX2 + FMA + F16C
  kAvxVnni,  // kAvx2 + AVX-VNNI's 256-bit int8 dot products (where present)
  kAvx512,   // AVX-512 F/BW/VL/DQ (+ BF16 dot products and VNNI where present)
  kAmx,      // AMX tiles (BF16 and INT8) on top of kAvx512
  kBest,     // the highest this CPU and OS support
};
const char* CpuIsaName(CpuIsa isa);
// The highest tier this CPU and OS support (AMX needs the kernel's permission,
// which this requests). The environment variable CCGUARD_CPU_ISA
// (generic|avx2|avxvnni|avx512|amx) lowers it, for testing.
CpuIsa DetectCpuIsa();

// The fast CPU backend: `precision` as above, kernels chosen at run time for
// min(isa, DetectCpuIsa()). Results agree with the portable backend within
// the precision's rounding (see fast_backend_test.cc). `pool` must outlive it.
std::unique_ptr<Backend> MakeFastCpuBackend(ThreadPool* pool, Precision precision,
                                            CpuIsa isa = CpuIsa::kBest);

// Where a model runs: "cpu", "cuda" (device 0) or "cuda:N".
struct DeviceSpec {
  bool cuda = false;
  int index = 0;
  std::string ToString() const;
};
// InvalidArgument names the value when it is none of the above.
Result<DeviceSpec> ParseDevice(std::string_view name);

// The precision a model computes in when none is asked for ("auto"): kBF16
// where the hardware multiplies BF16 natively (a CUDA device; a CPU with AMX
// or AVX-512 BF16 within DetectCpuIsa()), else kF32 (the reference).
Precision DefaultPrecision(const DeviceSpec& device);
// ParsePrecision, with "auto" (or "") meaning DefaultPrecision(device).
Result<Precision> ResolvePrecision(std::string_view name, const DeviceSpec& device);
// What DefaultPrecision picks on this machine's CPU and why, for --help:
// e.g. "bf16 (this CPU has AVX-512 BF16)".
std::string DefaultCpuPrecisionNote();

// True when this build has the CUDA backend (CMake option CCGUARD_CUDA).
bool CudaBuiltIn();
// The number of CUDA devices visible. NotSupported when CUDA was not built
// in; NotFound (with the driver's reason) when no device is usable.
Result<int> CudaDeviceCount();

// The CUDA backend on device `index` (cuda/cuda_backend.cc): cuBLASLt GEMMs
// (BF16 inputs with float32 accumulation in kBF16; float32 with TF32 off in
// kF32), its own kernels for the rest, one stream. kInt8 is refused.
// NotSupported when CUDA was not built in, NotFound when the device does
// not exist.
Result<std::unique_ptr<Backend>> MakeCudaBackend(int index, Precision precision);

}  // namespace ccguard::kernels

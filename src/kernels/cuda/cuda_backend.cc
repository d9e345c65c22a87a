// The CUDA backend: kernels::Backend on one NVIDIA GPU.
//
//  - Memory: device memory from a caching pool (DevicePool: freed blocks are
//    kept by size class and reused; weights are allocated exactly and never
//    cached). All work goes to one stream in order, so a block freed on any
//    thread can be handed out again at once: its next use is queued after
//    its last one.
//  - MatMul: cuBLASLt, y = x·Wᵀ as D(N×M) = op(W)ᵀ·x in column-major terms.
//    bf16: x is rounded to BF16 into a scratch buffer, BF16 weights, float32
//    accumulation and output. fp32: float32 throughout, CUBLAS_COMPUTE_32F
//    (no TF32). One algorithm is pinned per weight shape (N, K, dtype), chosen
//    once without split-K, so a row's result does not depend on how many rows
//    share the call (batch invariance). The BF16 copy of an input is made
//    once: RmsNorm (full width) and SiluMul write it beside their float32
//    output, and MatMuls on the same input (q, k, v; gate, up) reuse it; every
//    other write to device memory forgets it (Invalidate).
//  - The other primitives are the kernels of cuda_kernels.cu.
//  - Errors: a failed CUDA or cuBLAS call makes the backend fail for good; the
//    first error is returned by the next CopyToHost / Synchronize.
#include "kernels/kernels.h"

#ifdef CCGUARD_WITH_CUDA

#include <cublasLt.h>
#include <cuda_runtime_api.h>

#include <cstring>
#include <map>
#include <mutex>
#include <tuple>
#include <vector>

#include "kernels/cuda/attention_plan.h"
#include "kernels/cuda/cuda_kernels.h"

namespace ccguard::kernels {
namespace {

std::string CudaError(cudaError_t e) {
  return std::string(cudaGetErrorName(e)) + " (" + cudaGetErrorString(e) + ")";
}

std::string Gib(int64_t b) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f GiB", static_cast<double>(b) / (1 << 30));
  return buf;
}

// Rounds a block size up to its size class: multiples of 1/16 of the power of
// two below it (at most 6.25 % slack), at least 512 bytes.
size_t SizeClass(size_t bytes) {
  if (bytes <= 512) return 512;
  size_t p = 1;
  while (p * 2 <= bytes) p *= 2;
  const size_t step = std::max<size_t>(p / 16, 512);
  return (bytes + step - 1) / step * step;
}

// Device memory with a cache of freed blocks by size class. Shared by the
// backend and every block it handed out (a block may outlive the backend).
class DevicePool {
 public:
  explicit DevicePool(int device) : device_(device) {}
  ~DevicePool() { Trim(); }

  Result<void*> Get(size_t bytes, bool cached, size_t* got) {
    const size_t size = cached ? SizeClass(bytes) : bytes;
    *got = size;
    if (cached) {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = free_.find(size);
      if (it != free_.end() && !it->second.empty()) {
        void* p = it->second.back();
        it->second.pop_back();
        cached_bytes_ -= static_cast<int64_t>(size);
        return p;
      }
    }
    cudaSetDevice(device_);
    void* p = nullptr;
    cudaError_t e = cudaMalloc(&p, size);
    if (e == cudaErrorMemoryAllocation) {
      cudaGetLastError();  // clear it
      Trim();
      e = cudaMalloc(&p, size);
    }
    if (e != cudaSuccess) {
      cudaGetLastError();
      size_t free_b = 0, total_b = 0;
      cudaMemGetInfo(&free_b, &total_b);
      return Status::ResourceExhausted("cuda:" + std::to_string(device_) + ": cannot allocate " +
                                       Gib(static_cast<int64_t>(size)) + " of device memory (" +
                                       Gib(static_cast<int64_t>(free_b)) + " free of " +
                                       Gib(static_cast<int64_t>(total_b)) + "): " + CudaError(e));
    }
    return p;
  }

  void Put(void* p, size_t size, bool cached) {
    if (cached) {
      std::lock_guard<std::mutex> lock(mu_);
      free_[size].push_back(p);
      cached_bytes_ += static_cast<int64_t>(size);
      return;
    }
    cudaSetDevice(device_);
    cudaFree(p);
  }

  // Returns every cached block to the driver.
  void Trim() {
    std::map<size_t, std::vector<void*>> blocks;
    {
      std::lock_guard<std::mutex> lock(mu_);
      blocks.swap(free_);
      cached_bytes_ = 0;
    }
    cudaSetDevice(device_);
    for (auto& [size, list] : blocks) {
      for (void* p : list) cudaFree(p);
    }
  }

  int64_t cached_bytes() {
    std::lock_guard<std::mutex> lock(mu_);
    return cached_bytes_;
  }

 private:
  const int device_;
  std::mutex mu_;
  std::map<size_t, std::vector<void*>> free_;
  int64_t cached_bytes_ = 0;
};

class CudaBackend final : public Backend {
 public:
  CudaBackend(int device, Precision precision, const cudaDeviceProp& prop)
      : device_(device), precision_(precision), pool_(std::make_shared<DevicePool>(device)) {
    name_ = std::string("cuda(") + prop.name + ", " + PrecisionName(precision) + ")";
  }

  ~CudaBackend() override {
    cudaSetDevice(device_);
    if (stream_) cudaStreamSynchronize(stream_);
    for (auto& [key, a] : algos_) {
      (void)key;
      cublasLtMatmulDescDestroy(a.desc);
      cublasLtMatrixLayoutDestroy(a.a);
    }
    lt_workspace_.reset();
    bf16_scratch_.reset();
    if (lt_) cublasLtDestroy(lt_);
    if (stream_) cudaStreamDestroy(stream_);
  }

  Status Init() {
    CCG_RETURN_IF_ERROR(Check(cudaSetDevice(device_), "cudaSetDevice"));
    CCG_RETURN_IF_ERROR(
        Check(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate"));
    if (cublasLtCreate(&lt_) != CUBLAS_STATUS_SUCCESS) {
      return Status::Internal("cuda:" + std::to_string(device_) + ": cublasLtCreate failed");
    }
    CCG_ASSIGN_OR_RETURN(lt_workspace_, Allocate(kLtWorkspace, MemoryUse::kWorkspace));
    return Status::Ok();
  }

  const char* name() const override { return name_.c_str(); }
  Precision precision() const override { return precision_; }
  bool device_memory() const override { return true; }

  // ---- Memory ----
  Result<std::shared_ptr<void>> Allocate(size_t bytes, MemoryUse use) override {
    const bool cached = use != MemoryUse::kWeights;
    size_t got = 0;
    CCG_ASSIGN_OR_RETURN(void* p, pool_->Get(std::max<size_t>(bytes, 1), cached, &got));
    const auto n = static_cast<int64_t>(got);
    auto box = stats_box();
    box->Track(use, n);
    box->TrackHeld(n);
    return std::shared_ptr<void>(p, [pool = pool_, box, use, n, cached](void* q) {
      pool->Put(q, static_cast<size_t>(n), cached);
      box->Track(use, -n);
      box->TrackHeld(cached ? 0 : -n);  // a cached block stays held
    });
  }

  void CopyFromHost(void* dst, const void* host_src, size_t bytes) override {
    if (bytes == 0) return;
    Use();
    Invalidate();
    Note(cudaMemcpyAsync(dst, host_src, bytes, cudaMemcpyHostToDevice, stream_), "copy to device");
  }

  Status CopyToHost(void* host_dst, const void* src, size_t bytes) override {
    Use();
    if (bytes) {
      Note(cudaMemcpyAsync(host_dst, src, bytes, cudaMemcpyDeviceToHost, stream_), "copy to host");
    }
    return Synchronize();
  }

  void Copy(void* dst, const void* src, size_t bytes) override {
    if (bytes == 0) return;
    Use();
    Invalidate();
    Note(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, stream_), "device copy");
  }

  void CopyMany(const std::vector<CopyOp>& ops) override {
    Use();
    Invalidate();
    cuda::CopyList list;
    for (size_t i = 0; i < ops.size(); ++i) {
      list.dst[list.n] = ops[i].dst;
      list.src[list.n] = ops[i].src;
      list.bytes[list.n] = static_cast<int64_t>(ops[i].bytes);
      if (++list.n == cuda::kMaxCopies || i + 1 == ops.size()) {
        cuda::LaunchCopies(list, stream_);
        list.n = 0;
      }
    }
  }

  Status LabelStats(const float* logits, int64_t rows, int64_t vocab,
                    const std::vector<int32_t>& ids, std::vector<double>* out) override {
    if (ids.size() > static_cast<size_t>(cuda::kMaxLabelIds)) {
      return Status::InvalidArgument("at most " + std::to_string(cuda::kMaxLabelIds) +
                                     " label ids are read out at once");
    }
    Use();
    cuda::LabelIds l;
    l.n = static_cast<int32_t>(ids.size());
    for (size_t j = 0; j < ids.size(); ++j) l.id[j] = ids[j];
    const size_t n = static_cast<size_t>(rows) * (ids.size() + 1);
    out->assign(n, 0.0);
    if (n == 0) return Synchronize();
    CCG_ASSIGN_OR_RETURN(auto buf, Allocate(n * sizeof(double), MemoryUse::kWorkspace));
    cuda::LaunchLabelStats(logits, rows, vocab, l, static_cast<double*>(buf.get()), stream_);
    return CopyToHost(out->data(), buf.get(), n * sizeof(double));
  }

  Status Synchronize() override {
    Use();
    Note(cudaStreamSynchronize(stream_), "kernel execution");
    Note(cudaGetLastError(), "kernel launch");
    std::lock_guard<std::mutex> lock(error_mu_);
    return error_;
  }

  Result<int64_t> FreeBytes() override {
    Use();
    size_t free_b = 0, total_b = 0;
    CCG_RETURN_IF_ERROR(Check(cudaMemGetInfo(&free_b, &total_b), "cudaMemGetInfo"));
    return static_cast<int64_t>(free_b) + pool_->cached_bytes();
  }

  // ---- Weights ----
  Result<PreparedMatrix> Prepare(const Matrix& w) override {
    if (w.layout != Layout::kRowMajor) {
      return Status::InvalidArgument("cuda: Prepare needs a row-major matrix");
    }
    return ToDevice(w, precision_ == Precision::kF32 ? DType::kF32 : DType::kBF16);
  }

  Result<PreparedMatrix> Upload(const Matrix& w) override {
    const bool vector = w.rows == 1;
    return ToDevice(w, vector || precision_ == Precision::kF32 ? DType::kF32 : DType::kBF16);
  }

  // ---- Kernels ----
  void MatMul(const float* x, int64_t m, const Matrix& w, float* y) override {
    if (m <= 0) return;
    Use();
    const bool bf16 = w.dtype == DType::kBF16;
    if (!bf16 && w.dtype != DType::kF32) {
      Fail(Status::Internal("cuda MatMul: weight dtype " + std::string(DTypeName(w.dtype)) +
                            " was not prepared"));
      return;
    }
    const void* b = x;
    if (bf16 && x == conv_src_ && m * w.cols == conv_n_) {
      // x was rounded already: by the norm or SiLU·mul that wrote it, or for
      // the previous MatMul on the same input (q, k, v; gate, up).
      b = bf16_scratch_.get();
    } else if (bf16) {
      uint16_t* dst = Bf16CopyOf(x, m * w.cols);
      if (dst == nullptr) return;
      cuda::LaunchToBf16(x, m * w.cols, dst, stream_);
      b = dst;
    }
    Gemm(w, b, m, y);
    if (y == conv_src_) Invalidate();
  }

  void RmsNorm(const float* x, const float* weight, int64_t rows, int64_t dim, float eps,
               float* out) override {
    Use();
    Invalidate();
    // A full-width norm feeds MatMuls: write their BF16 input alongside.
    uint16_t* b = dim >= 256 ? Bf16CopyOf(out, rows * dim) : nullptr;
    cuda::LaunchRmsNorm(x, weight, rows, dim, eps, out, b, stream_);
  }

  void Rope(float* x, int64_t tokens, int64_t heads, int64_t head_dim, const int64_t* positions,
            const RopeSpec& rope) override {
    Use();
    Invalidate();
    cuda::LaunchRope(x, tokens, heads, head_dim, positions, rope, stream_);
  }

  void SiluMul(const float* gate, const float* up, int64_t n, float* out) override {
    Use();
    Invalidate();
    cuda::LaunchSiluMul(gate, up, n, out, Bf16CopyOf(out, n), stream_);
  }

  void Add(float* x, const float* y, int64_t n, float alpha) override {
    Use();
    Invalidate();
    cuda::LaunchAdd(x, y, n, alpha, stream_);
  }

  void Scale(float* x, int64_t n, float alpha) override {
    Use();
    Invalidate();
    cuda::LaunchScale(x, n, alpha, stream_);
  }

  void Embed(const Matrix& table, const int32_t* ids, int64_t n, float* out) override {
    Use();
    if (table.dtype != DType::kBF16 && table.dtype != DType::kF32) {
      return Fail(Status::Internal("cuda Embed: table dtype was not uploaded"));
    }
    Invalidate();
    cuda::LaunchEmbed(table.data, table.dtype == DType::kBF16, table.cols, ids, n, out, stream_);
  }

  // Per-sequence form: positions (device memory) must be consecutive; the
  // first is read back (a synchronisation), so the model uses AttentionBatch.
  void Attention(const float* q, int64_t tokens, const int64_t* positions,
                 const std::vector<KvSegment>& segments, const AttentionShape& shape,
                 float* out) override {
    int64_t start = 0;
    Status st = CopyToHost(&start, positions, sizeof(start));
    if (!st.ok()) return;
    AttentionSequence s{0, tokens, start, segments};
    AttentionBatch(q, {s}, shape, out);
  }

  void AttentionBatch(const float* q, const std::vector<AttentionSequence>& seqs,
                      const AttentionShape& shape, float* out) override {
    Use();
    Invalidate();
    auto plan = cuda::PlanAttention(seqs, shape);
    if (!plan.ok()) return Fail(plan.status());
    const bool mma = precision_ != Precision::kF32;
    for (const cuda::AttnLaunch& l : *plan) {
      if (!cuda::LaunchAttention(q, out, l, shape.softmax_scale(), static_cast<int>(shape.n_heads),
                                 static_cast<int>(shape.n_kv_heads),
                                 static_cast<int>(shape.head_dim), mma, stream_) &&
          !(mma &&
            cuda::LaunchAttention(q, out, l, shape.softmax_scale(), static_cast<int>(shape.n_heads),
                                  static_cast<int>(shape.n_kv_heads),
                                  static_cast<int>(shape.head_dim), false, stream_))) {
        return Fail(Status::NotSupported("cuda attention: head_dim " +
                                         std::to_string(shape.head_dim) +
                                         " is not supported (at most 256)"));
      }
    }
  }

  void GetRow(const Matrix& w, int64_t row, float* out) override {
    auto id = Allocate(sizeof(int32_t), MemoryUse::kWorkspace);
    if (!id.ok()) return Fail(id.status());
    const int32_t r = static_cast<int32_t>(row);
    CopyFromHost(id->get(), &r, sizeof(r));
    Embed(w, static_cast<const int32_t*>(id->get()), 1, out);
    (void)Synchronize();  // `r` must outlive the copy of a pageable source
  }

 private:
  static constexpr size_t kLtWorkspace = 32 << 20;

  struct Algo {
    cublasLtMatmulDesc_t desc = nullptr;
    cublasLtMatrixLayout_t a = nullptr;  // the weight (K x N column-major, transposed)
    cublasLtMatmulAlgo_t algo{};
    bool have_algo = false;
  };

  void Use() { cudaSetDevice(device_); }
  // Forgets the BF16 copy of a MatMul input: called by everything that
  // writes device memory, so that a reused copy is always current.
  void Invalidate() {
    conv_src_ = nullptr;
    conv_n_ = 0;
  }
  // In bf16: the scratch buffer that is to hold the BF16 rounding of the n
  // floats at `src`, recorded as such (the caller writes it); null in fp32
  // or when it cannot be allocated (then the error is recorded).
  uint16_t* Bf16CopyOf(const float* src, int64_t n) {
    if (precision_ == Precision::kF32) return nullptr;
    const size_t need = static_cast<size_t>(n) * 2;
    if (need > bf16_scratch_bytes_) {
      auto buf = Allocate(need, MemoryUse::kWorkspace);
      if (!buf.ok()) {
        Fail(buf.status());
        return nullptr;
      }
      bf16_scratch_ = std::move(buf).value();
      bf16_scratch_bytes_ = need;
    }
    conv_src_ = src;
    conv_n_ = n;
    return static_cast<uint16_t*>(bf16_scratch_.get());
  }

  Status Check(cudaError_t e, const char* what) {
    if (e == cudaSuccess) return Status::Ok();
    return Status::Internal("cuda:" + std::to_string(device_) + ": " + what + ": " + CudaError(e));
  }
  void Note(cudaError_t e, const char* what) {
    if (e != cudaSuccess) Fail(Check(e, what));
  }
  void Fail(const Status& s) {
    std::lock_guard<std::mutex> lock(error_mu_);
    if (error_.ok()) error_ = s;
  }

  Result<PreparedMatrix> ToDevice(const Matrix& w, DType target) {
    Use();
    const size_t n = static_cast<size_t>(w.rows * w.cols);
    const size_t bytes = n * DTypeSize(target);
    CCG_ASSIGN_OR_RETURN(std::shared_ptr<void> dev, Allocate(bytes, MemoryUse::kWeights));
    const void* src = w.data;
    std::vector<uint8_t> host;
    if (w.dtype != target) {
      std::vector<float> f32(n);
      CCG_RETURN_IF_ERROR(ConvertToF32(w.dtype, w.data, n, f32.data()));
      if (target == DType::kF32) {
        host.resize(bytes);
        std::memcpy(host.data(), f32.data(), bytes);
      } else {
        host.resize(bytes);
        auto* h = reinterpret_cast<uint16_t*>(host.data());
        for (size_t i = 0; i < n; ++i) h[i] = F32ToBf16(f32[i]);
      }
      src = host.data();
    }
    CCG_RETURN_IF_ERROR(
        Check(cudaMemcpy(dev.get(), src, bytes, cudaMemcpyHostToDevice), "uploading weights"));
    PreparedMatrix p;
    p.matrix = Matrix{target, dev.get(), w.rows, w.cols};
    p.storage = dev;
    p.bytes = bytes;
    return p;
  }

  // The pinned algorithm and descriptors for weight shape (N, K, dtype).
  Algo* AlgoFor(const Matrix& w) {
    const auto key = std::make_tuple(w.rows, w.cols, static_cast<int>(w.dtype));
    auto it = algos_.find(key);
    if (it != algos_.end()) return &it->second;
    Algo a;
    const bool bf16 = w.dtype == DType::kBF16;
    const cudaDataType_t ab = bf16 ? CUDA_R_16BF : CUDA_R_32F;
    cublasLtMatmulDescCreate(&a.desc, CUBLAS_COMPUTE_32F, CUDA_R_32F);
    const cublasOperation_t trans = CUBLAS_OP_T;
    cublasLtMatmulDescSetAttribute(a.desc, CUBLASLT_MATMUL_DESC_TRANSA, &trans, sizeof(trans));
    cublasLtMatrixLayoutCreate(&a.a, ab, static_cast<uint64_t>(w.cols),
                               static_cast<uint64_t>(w.rows), w.cols);
    // Choose for a large M (the bulk of the work) and keep it for every M:
    // the first heuristic result without split-K.
    constexpr int64_t kRefM = 4096;
    cublasLtMatrixLayout_t b = nullptr, d = nullptr;
    cublasLtMatrixLayoutCreate(&b, ab, static_cast<uint64_t>(w.cols), kRefM, w.cols);
    cublasLtMatrixLayoutCreate(&d, CUDA_R_32F, static_cast<uint64_t>(w.rows), kRefM, w.rows);
    cublasLtMatmulPreference_t pref = nullptr;
    cublasLtMatmulPreferenceCreate(&pref);
    const uint64_t ws = kLtWorkspace;
    cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws,
                                         sizeof(ws));
    cublasLtMatmulHeuristicResult_t results[16];
    int found = 0;
    if (cublasLtMatmulAlgoGetHeuristic(lt_, a.desc, a.a, b, d, d, pref, 16, results, &found) ==
        CUBLAS_STATUS_SUCCESS) {
      for (int i = 0; i < found && !a.have_algo; ++i) {
        int32_t splitk = 1;
        size_t written = 0;
        cublasLtMatmulAlgoConfigGetAttribute(&results[i].algo, CUBLASLT_ALGO_CONFIG_SPLITK_NUM,
                                             &splitk, sizeof(splitk), &written);
        if (results[i].state == CUBLAS_STATUS_SUCCESS && splitk <= 1) {
          a.algo = results[i].algo;
          a.have_algo = true;
        }
      }
    }
    cublasLtMatmulPreferenceDestroy(pref);
    cublasLtMatrixLayoutDestroy(b);
    cublasLtMatrixLayoutDestroy(d);
    return &algos_.emplace(key, a).first->second;
  }

  void Gemm(const Matrix& w, const void* x, int64_t m, float* y) {
    Algo* a = AlgoFor(w);
    const bool bf16 = w.dtype == DType::kBF16;
    const cudaDataType_t ab = bf16 ? CUDA_R_16BF : CUDA_R_32F;
    cublasLtMatrixLayout_t b = nullptr, d = nullptr;
    cublasLtMatrixLayoutCreate(&b, ab, static_cast<uint64_t>(w.cols), static_cast<uint64_t>(m),
                               w.cols);
    cublasLtMatrixLayoutCreate(&d, CUDA_R_32F, static_cast<uint64_t>(w.rows),
                               static_cast<uint64_t>(m), w.rows);
    const float alpha = 1.f, beta = 0.f;
    cublasStatus_t st = CUBLAS_STATUS_NOT_SUPPORTED;
    if (a->have_algo) {
      st = cublasLtMatmul(lt_, a->desc, &alpha, w.data, a->a, x, b, &beta, y, d, y, d, &a->algo,
                          lt_workspace_.get(), kLtWorkspace, stream_);
    }
    if (st != CUBLAS_STATUS_SUCCESS) {
      // The pinned algorithm does not take this M: let cuBLASLt choose.
      st = cublasLtMatmul(lt_, a->desc, &alpha, w.data, a->a, x, b, &beta, y, d, y, d, nullptr,
                          lt_workspace_.get(), kLtWorkspace, stream_);
      ++unpinned_calls_;
    }
    cublasLtMatrixLayoutDestroy(b);
    cublasLtMatrixLayoutDestroy(d);
    if (st != CUBLAS_STATUS_SUCCESS) {
      Fail(Status::Internal("cuda:" + std::to_string(device_) + ": cublasLtMatmul (" +
                            std::to_string(m) + " x " + std::to_string(w.cols) + " · " +
                            std::to_string(w.cols) + " x " + std::to_string(w.rows) +
                            ") failed with status " + std::to_string(static_cast<int>(st))));
    }
  }

  const int device_;
  const Precision precision_;
  std::string name_;
  std::shared_ptr<DevicePool> pool_;
  cudaStream_t stream_ = nullptr;
  cublasLtHandle_t lt_ = nullptr;
  std::shared_ptr<void> lt_workspace_;
  std::shared_ptr<void> bf16_scratch_;
  size_t bf16_scratch_bytes_ = 0;
  const float* conv_src_ = nullptr;  // whose BF16 copy bf16_scratch_ holds
  int64_t conv_n_ = 0;
  std::map<std::tuple<int64_t, int64_t, int>, Algo> algos_;
  int64_t unpinned_calls_ = 0;
  std::mutex error_mu_;
  Status error_;
};

}  // namespace

bool CudaBuiltIn() { return true; }

Result<int> CudaDeviceCount() {
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    cudaGetLastError();
    return Status::NotFound("no usable CUDA device: " + CudaError(e));
  }
  if (n == 0) return Status::NotFound("no CUDA device is visible");
  return n;
}

Result<std::unique_ptr<Backend>> MakeCudaBackend(int index, Precision precision) {
  if (precision == Precision::kInt8) {
    return Status::NotSupported(
        "--compute int8 is not available on CUDA; use bf16 (the fast path) or fp32");
  }
  CCG_ASSIGN_OR_RETURN(int n, CudaDeviceCount());
  if (index < 0 || index >= n) {
    return Status::NotFound("device cuda:" + std::to_string(index) + " does not exist (" +
                            std::to_string(n) + " CUDA device" + (n == 1 ? "" : "s") +
                            " visible: cuda:0" + (n > 1 ? "..cuda:" + std::to_string(n - 1) : "") +
                            ")");
  }
  cudaDeviceProp prop{};
  const cudaError_t e = cudaGetDeviceProperties(&prop, index);
  if (e != cudaSuccess) {
    return Status::Internal("cuda:" + std::to_string(index) + ": " + CudaError(e));
  }
  if (prop.major < 8) {
    return Status::NotSupported("cuda:" + std::to_string(index) + " (" + prop.name +
                                ", compute capability " + std::to_string(prop.major) + "." +
                                std::to_string(prop.minor) +
                                ") is older than sm_80, the oldest this build supports");
  }
  auto be = std::make_unique<CudaBackend>(index, precision, prop);
  CCG_RETURN_IF_ERROR(be->Init());
  return std::unique_ptr<Backend>(std::move(be));
}

}  // namespace ccguard::kernels

#else  // !CCGUARD_WITH_CUDA

namespace ccguard::kernels {

namespace {
Status NotBuilt() {
  return Status::NotSupported(
      "this ccguard was built without CUDA (CMake option CCGUARD_CUDA=OFF, or no CUDA toolkit "
      "with cuBLAS was found at build time); rebuild with the toolkit installed, or use "
      "--device cpu");
}
}  // namespace

bool CudaBuiltIn() { return false; }
Result<int> CudaDeviceCount() { return NotBuilt(); }
Result<std::unique_ptr<Backend>> MakeCudaBackend(int, Precision) { return NotBuilt(); }

}  // namespace ccguard::kernels

#endif

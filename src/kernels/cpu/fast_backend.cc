// The fast CPU backend: the kernels of the highest instruction-set tier this
// CPU supports (gemm.h, ops.h), threaded over the pool, with the portable
// backend (cpu_backend.cc) behind whatever a tier lacks.
//
// MatMul by weight storage (Prepare makes it from the stored weights):
//   tiled BF16 (kAmx)       activations rounded to BF16, AMX tiles
//   tiled I8 (kAmx)         activations quantized per row, AMX INT8 tiles
//   BF16 panels (kAvx512    activations rounded to BF16, vdpbf16ps outer
//   with avx512bf16)        products on column panels (gemm_panels.cc)
//   I8 panels (kAvx512      activations quantized per row, vpdpbusd outer
//   with avx512vnni)        products on column panels
//   row-major I8            the same arithmetic in portable C++ (exact
//                           int32: the same bits), below VNNI
//   row-major BF16, kBF16   AVX-512 BF16 dot products where present, else
//   or kInt8 precision      float32 kernels on BF16-rounded activations
//   otherwise               float32 kernels (AVX-512, AVX2+FMA or portable)
// The buffers of one call are members: like the model that owns it, the
// backend runs one call at a time.

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "kernels/cpu/gemm.h"
#include "kernels/cpu/ops.h"
#include "kernels/kernels.h"

namespace ccguard::kernels {
namespace {

using cpu::RoundUp;

// Storage for prepared weights (AllocateHostBuffer: huge pages when large).
std::shared_ptr<void> AllocateAligned(size_t bytes) {
  size_t rounded = 0;
  void* p = AllocateHostBuffer(bytes, &rounded);
  if (p == nullptr) return nullptr;
  return std::shared_ptr<void>(p, [rounded](void* q) { FreeHostBuffer(q, rounded); });
}

class FastBackend final : public Backend {
 public:
  FastBackend(ThreadPool* pool, Precision precision, CpuIsa isa)
      : pool_(pool),
        precision_(precision),
        isa_(std::min(isa, DetectCpuIsa())),
        portable_(MakeCpuBackend(pool)),
        scratch_(static_cast<size_t>(pool->size())) {
    bf16_dot_ = isa_ >= CpuIsa::kAvx512 && cpu::DetectCpuFeatures().avx512bf16;
    vnni_ = isa_ >= CpuIsa::kAvx512 && cpu::DetectCpuFeatures().avx512vnni;
    avx_vnni_ = !vnni_ && isa_ >= CpuIsa::kAvxVnni && cpu::DetectCpuFeatures().avxvnni;
    name_ = std::string("cpu-fast(") + CpuIsaName(isa_) + ", " + PrecisionName(precision_) + ")";
  }

  const char* name() const override { return name_.c_str(); }
  Precision precision() const override { return precision_; }

  Result<PreparedMatrix> Prepare(const Matrix& w) override;
  void MatMul(const float* x, int64_t m, const Matrix& w, float* y) override;
  void RmsNorm(const float* x, const float* weight, int64_t rows, int64_t dim, float eps,
               float* out) override;
  void Rope(float* x, int64_t tokens, int64_t heads, int64_t head_dim, const int64_t* positions,
            const RopeSpec& rope) override;
  void SiluMul(const float* gate, const float* up, int64_t n, float* out) override;
  void Attention(const float* q, int64_t tokens, const int64_t* positions,
                 const std::vector<KvSegment>& segments, const AttentionShape& shape,
                 float* out) override;
  void GetRow(const Matrix& w, int64_t row, float* out) override;

 private:
  int parts() const { return pool_->size(); }
  // Runs fn(p) for p < parts() (at most `n` of them), one per pool thread.
  template <class Fn>
  void ForEachPart(int64_t n, Fn&& fn) {
    const int64_t p = std::min<int64_t>(parts(), std::max<int64_t>(n, 1));
    pool_->ParallelFor(static_cast<size_t>(p), [&](size_t b, size_t e) {
      for (size_t i = b; i < e; ++i) fn(static_cast<int64_t>(i), p);
    });
  }
  // The share [begin, end) of part i of n units split into `p` parts, in
  // multiples of `grain`.
  static std::pair<int64_t, int64_t> Share(int64_t n, int64_t i, int64_t p, int64_t grain) {
    const int64_t units = (n + grain - 1) / grain;
    return {std::min(n, units * i / p * grain), std::min(n, units * (i + 1) / p * grain)};
  }
  void MatMulF32(const float* x, int64_t m, const Matrix& w, float* y);
  // The BF16 attention of bf16/int8 (AMX tiles, else AVX-512 BF16 dot
  // products; ops.h) for one sequence, or for a batch: the key blocks the
  // sequences share (the constitution prefix) are packed once per call, and
  // the blocks of a sequence's rows from earlier calls are packed once into
  // its KvMemo and read from there afterwards.
  void AttentionBatch(const float* q, const std::vector<AttentionSequence>& seqs,
                      const AttentionShape& s, float* out) override;
  bool UsesBf16Attention(const AttentionShape& s) const;
  struct Bf16Query {
    const float* q;
    int64_t tokens;
    const int64_t* positions;
    const std::vector<KvSegment>* segments;
    float* out;
    KvMemo* memo;  // may be null
  };
  void Bf16Attention(const float* q, int64_t tokens, const int64_t* positions,
                     const std::vector<KvSegment>& segments, const AttentionShape& s, float* out);
  void Bf16AttentionMany(const Bf16Query* queries, int64_t n, const AttentionShape& s);
  // Scratch memory of part `part` (each part resizes only its own).
  float* Scratch(int64_t part, size_t floats) {
    auto& s = scratch_[static_cast<size_t>(part)];
    if (s.size() < floats) s.resize(floats);
    return s.data();
  }

  ThreadPool* pool_;
  Precision precision_;
  CpuIsa isa_;
  bool bf16_dot_ = false;  // AVX-512 BF16 dot products
  bool vnni_ = false;      // AVX-512 VNNI
  bool avx_vnni_ = false;  // AVX-VNNI (256 bits), used where AVX-512 VNNI is not
  std::string name_;
  std::unique_ptr<Backend> portable_;
  std::vector<std::vector<float>> scratch_;  // per part
  // Per-call buffers.
  std::vector<uint16_t> xb_;
  std::vector<int8_t> xq_;
  std::vector<int16_t> xw_;  // int8 activations widened (AVX2 panels)
  std::vector<float> xs_, xf_;
  std::vector<int32_t> xsum_;
  struct BlockRows {  // the rows of one key block (up to 32)
    const float* k[32];
    const float* v[32];
    int64_t n;
  };
  // A packed key/value block a call reads: slot `index` of kv_tiles_, or
  // block `index` of `memo`; `pack`: packed in this call, from the rows in
  // block_rows_ at the same position as the slot in slots_.
  struct Slot {
    KvMemo* memo;
    int64_t index;
    bool pack;
  };
  std::vector<Slot> slots_;
  std::vector<BlockRows> block_rows_;                       // per slot
  std::unordered_map<const float*, int64_t> slot_of_rows_;  // first key row -> slot
  std::vector<const uint16_t*> block_ptrs_;
  std::vector<uint16_t*> slot_k_, slot_v_;  // per slot: K and V of kv head 0
  std::vector<int64_t> pack_;               // the slots packed in this call
  std::vector<uint16_t> kv_tiles_;
  // RoPE: cos/sin of position p at rope_[p * head_dim + i] (cos) and + half (sin).
  std::vector<float> rope_;
  RopeSpec rope_spec_{};
  int64_t rope_dim_ = 0;
};

Result<PreparedMatrix> FastBackend::Prepare(const Matrix& w) {
  if (precision_ == Precision::kF32 || w.layout != Layout::kRowMajor) {
    return PreparedMatrix{w, nullptr, 0};
  }
  if (w.dtype != DType::kF32 && w.dtype != DType::kBF16 && w.dtype != DType::kF16) {
    return Status::InvalidArgument(std::string("cannot prepare a ") + DTypeName(w.dtype) +
                                   " matrix");
  }
  const bool i8 = precision_ == Precision::kInt8;
  const bool tiled = isa_ == CpuIsa::kAmx;
  // I8 panels: vpdpbusd with AVX-512 VNNI or AVX-VNNI, vpmaddwd with AVX2 only.
  const bool panels = !tiled && (i8 ? isa_ >= CpuIsa::kAvx2 : bf16_dot_);
  if (!tiled && !panels && !i8 && w.dtype == DType::kBF16) {
    return PreparedMatrix{w, nullptr, 0};  // as stored
  }
  const DType dt = i8 ? DType::kI8 : DType::kBF16;
  const size_t data_bytes = tiled    ? static_cast<size_t>(cpu::TiledBytes(dt, w.rows, w.cols))
                            : panels ? static_cast<size_t>(cpu::PanelBytes(dt, w.rows, w.cols))
                                     : static_cast<size_t>(w.rows * w.cols) * DTypeSize(dt);
  const size_t scale_bytes = i8 ? static_cast<size_t>(RoundUp(w.rows, 32)) * sizeof(float) : 0;
  // The scales get their own allocation: appended to the data they would
  // cost a whole huge page per matrix.
  std::shared_ptr<void> data = AllocateAligned(data_bytes);
  std::shared_ptr<void> scales = i8 ? AllocateAligned(scale_bytes) : nullptr;
  if (!data || (i8 && !scales)) return Status::ResourceExhausted("out of memory preparing weights");
  PreparedMatrix p;
  p.matrix = {dt,
              data.get(),
              w.rows,
              w.cols,
              tiled    ? Layout::kTiled
              : panels ? Layout::kPanels
                       : Layout::kRowMajor,
              static_cast<const float*>(scales.get())};
  p.bytes = data_bytes + scale_bytes;
  uint8_t* out = static_cast<uint8_t*>(data.get());
  float* sw = static_cast<float*>(scales.get());
  if (panels) {
    const int64_t n_panels = RoundUp(w.rows, cpu::kPanelWidth) / cpu::kPanelWidth;
    pool_->ParallelFor(static_cast<size_t>(n_panels), [&](size_t b, size_t e) {
      if (i8) {
        cpu::PackPanelsInt8(w, static_cast<int64_t>(b), static_cast<int64_t>(e), out, sw);
      } else {
        cpu::PackPanelsBf16(w, static_cast<int64_t>(b), static_cast<int64_t>(e),
                            reinterpret_cast<uint16_t*>(out));
      }
    });
  } else if (tiled) {
    const int64_t blocks = RoundUp(w.rows, 32) / 16;
    pool_->ParallelFor(static_cast<size_t>(blocks), [&](size_t b, size_t e) {
      if (i8) {
        cpu::PackTilesInt8(w, static_cast<int64_t>(b), static_cast<int64_t>(e),
                           reinterpret_cast<int8_t*>(out), sw);
      } else {
        cpu::PackTilesBf16(w, static_cast<int64_t>(b), static_cast<int64_t>(e),
                           reinterpret_cast<uint16_t*>(out));
      }
    });
  } else {
    pool_->ParallelFor(static_cast<size_t>(w.rows), [&](size_t b, size_t e) {
      std::vector<float> row(static_cast<size_t>(w.cols));
      for (size_t r = b; r < e; ++r) {
        cpu::ReadRowF32(w, static_cast<int64_t>(r), row.data());
        if (i8) {
          cpu::QuantizeRowsInt8(row.data(), w.cols, w.cols, 0, 1,
                                reinterpret_cast<int8_t*>(out) + r * w.cols, sw + r);
        } else {
          uint16_t* o = reinterpret_cast<uint16_t*>(out) + r * w.cols;
          for (int64_t c = 0; c < w.cols; ++c) o[c] = F32ToBf16(row[c]);
        }
      }
    });
  }
  p.storage = std::make_shared<std::pair<std::shared_ptr<void>, std::shared_ptr<void>>>(
      std::move(data), std::move(scales));
  return p;
}

void FastBackend::MatMulF32(const float* x, int64_t m, const Matrix& w, float* y) {
  const int64_t n = w.rows, k = w.cols;
  const size_t scratch = static_cast<size_t>(isa_ >= CpuIsa::kAvx512 ? cpu::Avx512F32ScratchFloats()
                                                                     : cpu::F32PanelRows(k) * k);
  ForEachPart(n / 4, [&](int64_t i, int64_t p) {
    const auto [n0, n1] = Share(n, i, p, 4);
    if (n0 >= n1) return;
    if (isa_ >= CpuIsa::kAvx512) {
      cpu::Avx512MatMulF32(x, m, w, n0, n1, y, n, Scratch(i, scratch));
    } else if (isa_ >= CpuIsa::kAvx2) {
      cpu::Avx2MatMulF32(x, m, w, n0, n1, y, n, Scratch(i, scratch));
    } else {
      cpu::GenericMatMulF32(x, m, w, n0, n1, y, n);
    }
  });
}

void FastBackend::MatMul(const float* x, int64_t m, const Matrix& w, float* y) {
  if (m <= 0 || w.rows <= 0) return;
  const int64_t n = w.rows, k = w.cols;
  if (w.layout == Layout::kTiled) {
    const bool i8 = w.dtype == DType::kI8;
    const int64_t kp = cpu::TiledCols(w.dtype, k), mp = RoundUp(m, 32);
    if (i8) {
      xq_.resize(static_cast<size_t>(mp * kp));
      xs_.resize(static_cast<size_t>(mp));
      std::memset(xq_.data() + m * kp, 0, static_cast<size_t>((mp - m) * kp));
    } else {
      xb_.resize(static_cast<size_t>(mp * kp));
      std::memset(xb_.data() + m * kp, 0, static_cast<size_t>((mp - m) * kp) * 2);
    }
    ForEachPart(m, [&](int64_t i, int64_t p) {
      const auto [r0, r1] = Share(m, i, p, 1);
      if (i8) {
        cpu::Avx512QuantizeRowsInt8(x, k, kp, r0, r1, xq_.data(), xs_.data());
      } else {
        cpu::Avx512RoundRowsBf16(x, k, kp, r0, r1, xb_.data());
      }
    });
    ForEachPart(n / 32, [&](int64_t i, int64_t p) {
      const auto [n0, n1] = Share(n, i, p, 32);
      if (n0 >= n1) return;
      if (i8) {
        cpu::AmxMatMulInt8(xq_.data(), xs_.data(), m, w, n0, n1, y, n);
      } else {
        cpu::AmxMatMulBf16(xb_.data(), m, w, n0, n1, y, n);
      }
    });
    return;
  }
  if (w.layout == Layout::kPanels) {
    const bool i8 = w.dtype == DType::kI8;
    const int64_t kp = cpu::PanelCols(w.dtype, k);
    const int64_t blocks = (m + cpu::kPanelRows - 1) / cpu::kPanelRows;
    const bool avx2_i8 = i8 && !vnni_ && !avx_vnni_;  // int16 activations for vpmaddwd
    const bool avx_vnni_i8 = i8 && avx_vnni_;
    if (i8) {
      if (avx2_i8) {
        xw_.resize(static_cast<size_t>(m * kp));
      } else {
        xq_.resize(static_cast<size_t>(m * kp));
      }
      xs_.resize(static_cast<size_t>(m));
      xsum_.resize(static_cast<size_t>(m));
    } else {
      xb_.resize(static_cast<size_t>(m * kp));
    }
    static_assert(cpu::kPanelRows % cpu::kAvx2PanelRows == 0);
    ForEachPart(blocks, [&](int64_t i, int64_t p) {
      const auto [b0, b1] = Share(blocks, i, p, 1);
      const int64_t r0 = b0 * cpu::kPanelRows, r1 = std::min(m, b1 * cpu::kPanelRows);
      if (r0 >= r1) return;
      if (avx2_i8) {
        cpu::Avx2PanelRowsInt8(x, m, k, r0, r1, xw_.data(), xs_.data(), xsum_.data());
      } else if (avx_vnni_i8) {
        cpu::Avx2PanelRowsInt8(x, m, k, r0, r1, xq_.data(), xs_.data(), xsum_.data());
      } else if (i8) {
        cpu::PanelRowsInt8(x, m, k, r0, r1, xq_.data(), xs_.data(), xsum_.data());
      } else {
        cpu::PanelRowsBf16(x, m, k, r0, r1, xb_.data());
      }
    });
    // Column shares in multiples of 48 (the kernels' width): any split gives
    // the same bits.
    constexpr int64_t g = cpu::kPanelGroupCols;
    ForEachPart((n + g - 1) / g, [&](int64_t i, int64_t p) {
      const auto [n0, n1] = Share(n, i, p, g);
      if (n0 >= n1) return;
      if (avx2_i8) {
        cpu::Avx2PanelMatMulInt8(xw_.data(), xs_.data(), xsum_.data(), m, w, n0, n1, y, n);
      } else if (avx_vnni_i8) {
        cpu::Avx2PanelMatMulInt8(xq_.data(), xs_.data(), xsum_.data(), m, w, n0, n1, y, n);
      } else if (i8) {
        cpu::PanelMatMulInt8(xq_.data(), xs_.data(), xsum_.data(), m, w, n0, n1, y, n);
      } else {
        cpu::PanelMatMulBf16(xb_.data(), m, w, n0, n1, y, n);
      }
    });
    return;
  }
  if (w.dtype == DType::kI8) {
    xq_.resize(static_cast<size_t>(m * k));
    xs_.resize(static_cast<size_t>(m));
    ForEachPart(m, [&](int64_t i, int64_t p) {
      const auto [r0, r1] = Share(m, i, p, 1);
      cpu::QuantizeRowsInt8(x, k, k, r0, r1, xq_.data(), xs_.data());
    });
    ForEachPart(n / 4, [&](int64_t i, int64_t p) {  // the portable tier (AVX2 and up: panels)
      const auto [n0, n1] = Share(n, i, p, 4);
      if (n0 < n1) cpu::GenericMatMulInt8(xq_.data(), xs_.data(), m, k, w, n0, n1, y, n);
    });
    return;
  }
  if (w.dtype == DType::kBF16 && precision_ != Precision::kF32) {
    if (bf16_dot_) {
      const int64_t kp = RoundUp(k, 32);
      xb_.resize(static_cast<size_t>(m * kp));
      cpu::Avx512RoundRowsBf16(x, k, kp, 0, m, xb_.data());
      ForEachPart(n / 4, [&](int64_t i, int64_t p) {
        const auto [n0, n1] = Share(n, i, p, 4);
        if (n0 < n1) cpu::Avx512MatMulBf16(xb_.data(), m, kp, w, n0, n1, y, n);
      });
      return;
    }
    // The same arithmetic in float32: BF16 x BF16 products are exact.
    xf_.resize(static_cast<size_t>(m * k));
    for (int64_t i = 0; i < m * k; ++i) xf_[i] = Bf16ToF32(F32ToBf16(x[i]));
    MatMulF32(xf_.data(), m, w, y);
    return;
  }
  MatMulF32(x, m, w, y);
}

void FastBackend::RmsNorm(const float* x, const float* weight, int64_t rows, int64_t dim, float eps,
                          float* out) {
  if (isa_ < CpuIsa::kAvx512) return portable_->RmsNorm(x, weight, rows, dim, eps, out);
  if (rows * dim < (int64_t{1} << 16)) return cpu::Avx512RmsNorm(x, weight, 0, rows, dim, eps, out);
  ForEachPart(rows, [&](int64_t i, int64_t p) {
    const auto [r0, r1] = Share(rows, i, p, 1);
    cpu::Avx512RmsNorm(x, weight, r0, r1, dim, eps, out);
  });
}

void FastBackend::Rope(float* x, int64_t tokens, int64_t heads, int64_t head_dim,
                       const int64_t* positions, const RopeSpec& rope) {
  const int64_t half = head_dim / 2;
  int64_t max_pos = -1;
  for (int64_t t = 0; t < tokens; ++t) max_pos = std::max(max_pos, positions[t]);
  if (!(rope == rope_spec_) || head_dim != rope_dim_) {
    rope_.clear();
    rope_spec_ = rope;
    rope_dim_ = head_dim;
  }
  const int64_t have = static_cast<int64_t>(rope_.size()) / head_dim;
  if (max_pos >= have) {
    // Grow geometrically; the same double-precision angles as the portable backend.
    const int64_t want = std::max(max_pos + 1, have * 2);
    rope_.resize(static_cast<size_t>(want * head_dim));
    for (int64_t p = have; p < want; ++p) {
      for (int64_t i = 0; i < half; ++i) {
        const double angle = static_cast<double>(p) * RopeInvFreq(rope, i, head_dim);
        rope_[p * head_dim + i] = static_cast<float>(std::cos(angle));
        rope_[p * head_dim + half + i] = static_cast<float>(std::sin(angle));
      }
    }
  }
  auto apply = [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      const float* cs = rope_.data() + positions[t] * head_dim;
      const float* sn = cs + half;
      for (int64_t h = 0; h < heads; ++h) {
        float* v = x + (t * heads + h) * head_dim;
        for (int64_t i = 0; i < half; ++i) {
          const float a = v[i], b = v[i + half];
          v[i] = a * cs[i] - b * sn[i];
          v[i + half] = b * cs[i] + a * sn[i];
        }
      }
    }
  };
  if (tokens * heads * head_dim < (int64_t{1} << 16)) return apply(0, tokens);
  ForEachPart(tokens, [&](int64_t i, int64_t p) {
    const auto [t0, t1] = Share(tokens, i, p, 1);
    apply(t0, t1);
  });
}

void FastBackend::SiluMul(const float* gate, const float* up, int64_t n, float* out) {
  if (isa_ < CpuIsa::kAvx512) return portable_->SiluMul(gate, up, n, out);
  if (n < (int64_t{1} << 16)) return cpu::Avx512SiluMul(gate, up, n, out);
  ForEachPart(n / 16, [&](int64_t i, int64_t p) {
    const auto [i0, i1] = Share(n, i, p, 16);
    cpu::Avx512SiluMul(gate + i0, up + i0, i1 - i0, out + i0);
  });
}

void FastBackend::Attention(const float* q, int64_t tokens, const int64_t* positions,
                            const std::vector<KvSegment>& segments, const AttentionShape& s,
                            float* out) {
  if (isa_ < CpuIsa::kAvx512 || s.head_dim % 16 != 0 || s.n_heads % s.n_kv_heads != 0) {
    return portable_->Attention(q, tokens, positions, segments, s, out);
  }
  // BF16 tiles when the precision allows it (not for the fp32 reference).
  if (UsesBf16Attention(s)) return Bf16Attention(q, tokens, positions, segments, s, out);
  const int64_t blocks = (tokens + cpu::kAttentionQueryBlock - 1) / cpu::kAttentionQueryBlock;
  const int64_t items = s.n_kv_heads * blocks;  // kv-head major: equal work per kv head
  const size_t scratch = static_cast<size_t>(cpu::AttentionScratchFloats(s));
  ForEachPart(items, [&](int64_t i, int64_t p) {
    const auto [a, b] = Share(items, i, p, 1);
    float* sc = Scratch(i, scratch);
    for (int64_t it = a; it < b; ++it) {
      const int64_t kvh = it / blocks, t0 = (it % blocks) * cpu::kAttentionQueryBlock;
      const int64_t t1 = std::min(tokens, t0 + cpu::kAttentionQueryBlock);
      cpu::Avx512AttentionBlock(q, positions, t0, t1, segments.data(),
                                static_cast<int64_t>(segments.size()), s, kvh, out, sc);
    }
  });
}

bool FastBackend::UsesBf16Attention(const AttentionShape& s) const {
  const int64_t group = s.n_kv_heads > 0 ? s.n_heads / s.n_kv_heads : 0;
  return (isa_ == CpuIsa::kAmx || bf16_dot_) && precision_ != Precision::kF32 &&
         s.head_dim % 32 == 0 && s.n_kv_heads > 0 && s.n_heads % s.n_kv_heads == 0 && group <= 32 &&
         32 % group == 0;
}

void FastBackend::Bf16Attention(const float* q, int64_t tokens, const int64_t* positions,
                                const std::vector<KvSegment>& segments, const AttentionShape& s,
                                float* out) {
  const Bf16Query one{q, tokens, positions, &segments, out, nullptr};
  Bf16AttentionMany(&one, 1, s);
}

void FastBackend::AttentionBatch(const float* q, const std::vector<AttentionSequence>& seqs,
                                 const AttentionShape& s, float* out) {
  if (!UsesBf16Attention(s)) return Backend::AttentionBatch(q, seqs, s, out);
  const int64_t qd = s.n_heads * s.head_dim;
  std::vector<std::vector<int64_t>> pos(seqs.size());
  std::vector<Bf16Query> queries(seqs.size());
  for (size_t i = 0; i < seqs.size(); ++i) {
    pos[i].resize(static_cast<size_t>(seqs[i].tokens));
    for (int64_t t = 0; t < seqs[i].tokens; ++t) pos[i][t] = seqs[i].start + t;
    queries[i] = {q + seqs[i].row * qd, seqs[i].tokens,         pos[i].data(),
                  &seqs[i].segments,    out + seqs[i].row * qd, seqs[i].memo};
  }
  Bf16AttentionMany(queries.data(), static_cast<int64_t>(queries.size()), s);
}

void FastBackend::Bf16AttentionMany(const Bf16Query* queries, int64_t n, const AttentionShape& s) {
  constexpr int64_t kKeys = 32;
  const int64_t kv_dim = s.n_kv_heads * s.head_dim, per_block = cpu::Bf16KvBlockElements(s);
  // 1. The key blocks each query reads (32 keys at absolute positions 32 b),
  //    as slots of packed storage. A block of the query's memo is read from
  //    there; a whole block of rows from earlier calls that its memo does not
  //    hold yet is packed into it (the next call reads it). Otherwise, a block
  //    of 32 consecutive rows of one segment is packed once per call however
  //    many queries read it (the shared constitution prefix of a batch);
  //    others get their own slot.
  static_assert(kKeys == KvMemo::kBlock);
  const int64_t memo_block = 2 * s.n_kv_heads * per_block;  // K of each kv head, then V
  slots_.clear();
  block_rows_.clear();  // per slot: 32 (k, v) row pointers, null past the keys
  slot_of_rows_.clear();
  int64_t tiles = 0;
  auto add_slot = [&](KvMemo* memo, int64_t index, bool pack) {
    slots_.push_back({memo, index, pack});
    block_rows_.push_back(BlockRows{});
    return static_cast<int64_t>(slots_.size()) - 1;
  };
  std::vector<std::vector<int64_t>> slots(static_cast<size_t>(n));
  std::vector<int64_t> n_keys(static_cast<size_t>(n), 0);
  for (int64_t i = 0; i < n; ++i) {
    const Bf16Query& qr = queries[i];
    KvMemo* memo = qr.memo;
    int64_t max_pos = -1, min_pos = INT64_MAX, total = 0;
    for (int64_t t = 0; t < qr.tokens; ++t) {
      max_pos = std::max(max_pos, qr.positions[t]);
      min_pos = std::min(min_pos, qr.positions[t]);
    }
    for (const auto& seg : *qr.segments) total += seg.len;
    n_keys[i] = std::min(total, max_pos + 1);
    size_t sg = 0;
    int64_t base = 0;
    for (int64_t j0 = 0; j0 < n_keys[i]; j0 += kKeys) {
      const int64_t nk = std::min(kKeys, n_keys[i] - j0);
      while (j0 >= base + (*qr.segments)[sg].len) base += (*qr.segments)[sg++].len;
      const KvSegment& seg = (*qr.segments)[sg];
      const int64_t mb = memo ? j0 / kKeys - memo->first_block : -1;
      int64_t slot;
      if (mb >= 0 && mb < memo->blocks && nk == kKeys) {
        slots[i].push_back(add_slot(memo, mb, false));
        continue;
      }
      if (mb >= 0 && mb == memo->blocks && nk == kKeys && j0 + kKeys <= min_pos) {
        ++memo->blocks;  // rows of earlier calls: kept for the calls to come
        slot = add_slot(memo, mb, true);
      } else if (nk == kKeys && j0 + kKeys <= base + seg.len) {
        const float* first = seg.k + (j0 - base) * kv_dim;
        auto [it, fresh] = slot_of_rows_.emplace(first, static_cast<int64_t>(slots_.size()));
        if (!fresh) {
          slots[i].push_back(it->second);
          continue;
        }
        slot = add_slot(nullptr, tiles++, true);
      } else {
        slot = add_slot(nullptr, tiles++, true);
      }
      slots[i].push_back(slot);
      BlockRows& rows = block_rows_[static_cast<size_t>(slot)];
      size_t g = sg;
      int64_t gb = base;
      for (int64_t j = 0; j < nk; ++j) {
        while (j0 + j >= gb + (*qr.segments)[g].len) gb += (*qr.segments)[g++].len;
        rows.k[j] = (*qr.segments)[g].k + (j0 + j - gb) * kv_dim;
        rows.v[j] = (*qr.segments)[g].v + (j0 + j - gb) * kv_dim;
      }
      rows.n = nk;
    }
  }
  // 2. Where each slot's K and V of kv head 0 lie (kv head h: + h ·
  //    per_block), then pack the slots that need it, for every kv head.
  kv_tiles_.resize(static_cast<size_t>(2 * tiles * s.n_kv_heads * per_block));
  uint16_t* kt = kv_tiles_.data();
  uint16_t* vt = kt + tiles * s.n_kv_heads * per_block;
  const auto n_slots = static_cast<int64_t>(slots_.size());
  slot_k_.resize(static_cast<size_t>(n_slots));
  slot_v_.resize(static_cast<size_t>(n_slots));
  pack_.clear();
  for (int64_t sl = 0; sl < n_slots; ++sl) {
    const Slot& x = slots_[static_cast<size_t>(sl)];
    if (x.memo) {
      slot_k_[sl] = x.memo->Block(x.index, memo_block);
      slot_v_[sl] = slot_k_[sl] + s.n_kv_heads * per_block;
    } else {
      slot_k_[sl] = kt + x.index * s.n_kv_heads * per_block;
      slot_v_[sl] = vt + x.index * s.n_kv_heads * per_block;
    }
    if (x.pack) pack_.push_back(sl);
  }
  const auto pack_items = static_cast<int64_t>(pack_.size()) * s.n_kv_heads;
  ForEachPart(pack_items, [&](int64_t i, int64_t p) {
    const auto [a, b] = Share(pack_items, i, p, 1);
    for (int64_t it = a; it < b; ++it) {
      const int64_t sl = pack_[static_cast<size_t>(it / s.n_kv_heads)], kvh = it % s.n_kv_heads;
      const BlockRows& r = block_rows_[static_cast<size_t>(sl)];
      cpu::PackKvBf16(r.k, r.v, r.n, s, kvh, 0, 1, slot_k_[sl] + kvh * per_block,
                      slot_v_[sl] + kvh * per_block);
    }
  });
  // 3. Attention: items (query, kv head, block of query rows), kv-head major
  //    within each query; each reads its blocks through pointer lists.
  const bool amx = isa_ == CpuIsa::kAmx;
  const int64_t per_item = 32 / (s.n_heads / s.n_kv_heads);
  std::vector<int64_t> first_item(static_cast<size_t>(n + 1), 0);
  size_t pointers = 0;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t qblocks = n_keys[i] > 0 ? (queries[i].tokens + per_item - 1) / per_item : 0;
    first_item[i + 1] = first_item[i] + s.n_kv_heads * qblocks;
    pointers += slots[i].size() * static_cast<size_t>(s.n_kv_heads);
  }
  // Block pointers per (query, kv head): [query][kvh][block] for K, then V.
  block_ptrs_.resize(2 * pointers);
  std::vector<size_t> ptr_at(static_cast<size_t>(n), 0);
  size_t at = 0;
  for (int64_t i = 0; i < n; ++i) {
    ptr_at[i] = at;
    const size_t nb = slots[i].size();
    for (int64_t kvh = 0; kvh < s.n_kv_heads; ++kvh) {
      for (size_t b = 0; b < nb; ++b) {
        const int64_t sl = slots[i][b];
        block_ptrs_[at + kvh * nb + b] = slot_k_[sl] + kvh * per_block;
        block_ptrs_[pointers + at + kvh * nb + b] = slot_v_[sl] + kvh * per_block;
      }
    }
    at += nb * static_cast<size_t>(s.n_kv_heads);
  }
  for (int64_t i = 0; i < n; ++i) {  // queries that see no key: the portable kernel (zeros)
    if (n_keys[i] <= 0 && queries[i].tokens > 0) {
      portable_->Attention(queries[i].q, queries[i].tokens, queries[i].positions,
                           *queries[i].segments, s, queries[i].out);
    }
  }
  const int64_t items = first_item[n];
  const size_t scratch = static_cast<size_t>(amx ? cpu::AmxAttentionScratchFloats(s)
                                                 : cpu::Bf16AttentionScratchFloats(s));
  ForEachPart(items, [&](int64_t w, int64_t p) {
    const auto [a, b] = Share(items, w, p, 1);
    float* sc = Scratch(w, scratch);
    int64_t i = 0;
    for (int64_t it = a; it < b; ++it) {
      while (it >= first_item[i + 1]) ++i;
      const Bf16Query& qr = queries[i];
      const int64_t qblocks = (qr.tokens + per_item - 1) / per_item;
      const int64_t local = it - first_item[i];
      const int64_t kvh = local / qblocks, t0 = (local % qblocks) * per_item;
      const int64_t t1 = std::min(qr.tokens, t0 + per_item);
      const size_t nb = slots[i].size();
      const uint16_t* const* kb = block_ptrs_.data() + ptr_at[i] + kvh * nb;
      const uint16_t* const* vb = kb + pointers;
      if (amx) {
        cpu::AmxAttentionBlock(qr.q, qr.positions, t0, t1, n_keys[i], kb, vb, s, kvh, qr.out, sc);
      } else {
        cpu::Avx512Bf16AttentionBlock(qr.q, qr.positions, t0, t1, n_keys[i], kb, vb, s, kvh, qr.out,
                                      sc);
      }
    }
  });
}

void FastBackend::GetRow(const Matrix& w, int64_t row, float* out) {
  if (w.layout == Layout::kTiled) return cpu::UnpackTiledRow(w, row, out);
  if (w.layout == Layout::kPanels) return cpu::UnpackPanelRow(w, row, out);
  if (w.dtype == DType::kI8) {
    const int8_t* p = static_cast<const int8_t*>(w.data) + row * w.cols;
    for (int64_t c = 0; c < w.cols; ++c) out[c] = static_cast<float>(p[c]) * w.scales[row];
    return;
  }
  cpu::ReadRowF32(w, row, out);
}

}  // namespace

std::unique_ptr<Backend> MakeFastCpuBackend(ThreadPool* pool, Precision precision, CpuIsa isa) {
  return std::make_unique<FastBackend>(pool, precision, isa);
}

}  // namespace ccguard::kernels

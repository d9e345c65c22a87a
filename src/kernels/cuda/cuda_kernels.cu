// CUDA kernels of the CUDA backend: element-wise ops, the embedding gather,
// and causal GQA attention over ragged batches with an online softmax
// (FlashAttention-2 style: no score matrix is ever stored).
//
// Attention, both kernels: a block owns one tile of kTileRows query rows of
// one sequence and one KV head (attention_plan.h) and walks the sequence's
// keys in tiles staged through shared memory, up to the last position its
// rows can see; per row it keeps the running max m, the running sum l and the
// output accumulator o, rescaled by exp(m_old - m_new) when the max grows.
//  - AttnMma (bf16): 4 warps x 16 rows; S = Q·Kᵀ and O += P·V with
//    mma.sync m16n8k16 (bf16 in, f32 accumulate); P never leaves registers
//    (the accumulator layout of S is the A-operand layout of P·V); V is read
//    as the B operand with ldmatrix.trans from row-major shared memory.
//  - AttnF32 (fp32): 4 warps x 16 rows; lane j scores key j of a 32-key tile
//    against the warp's 16 rows, then every lane accumulates its head_dim/32
//    output columns.
#include <cuda_bf16.h>
#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/cuda/cuda_kernels.h"

namespace ccguard::kernels::cuda {
namespace {

constexpr int kThreads = 256;

int Blocks(int64_t n, int threads = kThreads) {
  return static_cast<int>((n + threads - 1) / threads);
}

// ---- Element-wise ----------------------------------------------------------

// One warp per row.
__global__ void RmsNormKernel(const float* x, const float* w, int64_t rows, int dim, float eps,
                              float* out, __nv_bfloat16* out_bf16) {
  const int64_t row = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / 32;
  const int lane = threadIdx.x % 32;
  if (row >= rows) return;
  const float* xr = x + row * dim;
  double ss = 0.0;
  for (int i = lane; i < dim; i += 32) ss += static_cast<double>(xr[i]) * xr[i];
  for (int o = 16; o > 0; o /= 2) ss += __shfl_xor_sync(0xffffffffu, ss, o);
  const float inv = static_cast<float>(1.0 / sqrt(ss / dim + static_cast<double>(eps)));
  float* orow = out + row * dim;
  if (out_bf16 == nullptr) {
    for (int i = lane; i < dim; i += 32) orow[i] = xr[i] * inv * w[i];
  } else {
    __nv_bfloat16* brow = out_bf16 + row * dim;
    for (int i = lane; i < dim; i += 32) {
      const float v = xr[i] * inv * w[i];
      orow[i] = v;
      brow[i] = __float2bfloat16_rn(v);
    }
  }
}

// One warp per row, four elements a lane per step (dim % 128 == 0, rows
// 16-byte aligned).
__global__ void RmsNorm4Kernel(const float* x, const float* w, int64_t rows, int dim, float eps,
                               float* out, __nv_bfloat16* out_bf16) {
  const int64_t row = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / 32;
  const int lane = threadIdx.x % 32;
  if (row >= rows) return;
  const float4* xr = reinterpret_cast<const float4*>(x + row * dim);
  const float4* w4 = reinterpret_cast<const float4*>(w);
  const int n4 = dim / 4;
  double ss = 0.0;
  for (int i = lane; i < n4; i += 32) {
    const float4 v = xr[i];
    ss += static_cast<double>(v.x) * v.x + static_cast<double>(v.y) * v.y +
          static_cast<double>(v.z) * v.z + static_cast<double>(v.w) * v.w;
  }
  for (int o = 16; o > 0; o /= 2) ss += __shfl_xor_sync(0xffffffffu, ss, o);
  const float inv = static_cast<float>(1.0 / sqrt(ss / dim + static_cast<double>(eps)));
  float4* orow = reinterpret_cast<float4*>(out + row * dim);
  for (int i = lane; i < n4; i += 32) {
    const float4 v = xr[i], g = w4[i];
    const float4 r =
        make_float4(v.x * inv * g.x, v.y * inv * g.y, v.z * inv * g.z, v.w * inv * g.w);
    orow[i] = r;
    if (out_bf16) {
      const __nv_bfloat162 lo = __floats2bfloat162_rn(r.x, r.y),
                           hi = __floats2bfloat162_rn(r.z, r.w);
      reinterpret_cast<uint2*>(out_bf16 + row * dim)[i] = make_uint2(
          *reinterpret_cast<const uint32_t*>(&lo), *reinterpret_cast<const uint32_t*>(&hi));
    }
  }
}

// One thread per (token, frequency); loops over heads.
__global__ void RopeKernel(float* x, int64_t tokens, int heads, int head_dim,
                           const int64_t* positions, RopeSpec rope) {
  const int half = head_dim / 2;
  const int64_t idx = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (idx >= tokens * half) return;
  const int64_t t = idx / half;
  const int i = static_cast<int>(idx % half);
  const double inv_freq = RopeInvFreq(rope, i, head_dim);
  double sn, cs;
  sincos(static_cast<double>(positions[t]) * inv_freq, &sn, &cs);
  const float c = static_cast<float>(cs), s = static_cast<float>(sn);
  for (int h = 0; h < heads; ++h) {
    float* v = x + (t * heads + h) * head_dim;
    const float a = v[i], b = v[i + half];
    v[i] = a * c - b * s;
    v[i + half] = b * c + a * s;
  }
}

__global__ void SiluMulKernel(const float* gate, const float* up, int64_t n, float* out,
                              __nv_bfloat16* out_bf16) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) {
    const float g = gate[i];
    const float v = g / (1.f + expf(-g)) * up[i];
    out[i] = v;
    if (out_bf16) out_bf16[i] = __float2bfloat16_rn(v);
  }
}

__global__ void AddKernel(float* x, const float* y, int64_t n) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) x[i] += y[i];
}

__global__ void AddScaledKernel(float* x, const float* y, int64_t n, float alpha) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) x[i] += alpha * y[i];
}

__global__ void ScaleKernel(float* x, int64_t n, float alpha) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) x[i] *= alpha;
}

// The same four elements a thread (n % 4 == 0, 16-byte aligned).
__global__ void Add4Kernel(float4* x, const float4* y, int64_t n4) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n4) {
    float4 a = x[i];
    const float4 b = y[i];
    a.x += b.x;
    a.y += b.y;
    a.z += b.z;
    a.w += b.w;
    x[i] = a;
  }
}

__device__ __forceinline__ float Silu(float g) { return g / (1.f + expf(-g)); }

__global__ void SiluMul4Kernel(const float4* gate, const float4* up, int64_t n4, float4* out,
                               uint2* out_bf16) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n4) {
    const float4 g = gate[i], u = up[i];
    const float4 v =
        make_float4(Silu(g.x) * u.x, Silu(g.y) * u.y, Silu(g.z) * u.z, Silu(g.w) * u.w);
    out[i] = v;
    if (out_bf16) {
      const __nv_bfloat162 lo = __floats2bfloat162_rn(v.x, v.y),
                           hi = __floats2bfloat162_rn(v.z, v.w);
      out_bf16[i] = make_uint2(*reinterpret_cast<const uint32_t*>(&lo),
                               *reinterpret_cast<const uint32_t*>(&hi));
    }
  }
}

__global__ void ToBf16x4Kernel(const float4* src, int64_t n4, uint2* dst) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n4) {
    const float4 v = src[i];
    const __nv_bfloat162 lo = __floats2bfloat162_rn(v.x, v.y), hi = __floats2bfloat162_rn(v.z, v.w);
    dst[i] = make_uint2(*reinterpret_cast<const uint32_t*>(&lo),
                        *reinterpret_cast<const uint32_t*>(&hi));
  }
}

bool Aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15) == 0; }

__global__ void EmbedKernel(const void* table, bool bf16, int64_t cols, const int32_t* ids,
                            int64_t n, float* out) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n * cols) return;
  const int64_t t = i / cols, c = i % cols;
  const int64_t src = static_cast<int64_t>(ids[t]) * cols + c;
  out[i] = bf16 ? __bfloat162float(static_cast<const __nv_bfloat16*>(table)[src])
                : static_cast<const float*>(table)[src];
}

__global__ void ToBf16Kernel(const float* src, int64_t n, __nv_bfloat16* dst) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) dst[i] = __float2bfloat16_rn(src[i]);
}

// One block per copy; 16-byte moves when both ends and the size allow.
__global__ void CopiesKernel(const __grid_constant__ CopyList c) {
  const int i = blockIdx.x;
  char* dst = static_cast<char*>(c.dst[i]);
  const char* src = static_cast<const char*>(c.src[i]);
  const int64_t bytes = c.bytes[i];
  if (((reinterpret_cast<uintptr_t>(dst) | reinterpret_cast<uintptr_t>(src) | bytes) & 15) == 0) {
    for (int64_t j = threadIdx.x; j < bytes / 16; j += blockDim.x) {
      reinterpret_cast<int4*>(dst)[j] = reinterpret_cast<const int4*>(src)[j];
    }
  } else {
    for (int64_t j = threadIdx.x; j < bytes; j += blockDim.x) dst[j] = src[j];
  }
}

// One block per row: max, then the sum of exp in double (as the CPU does).
__global__ void LabelStatsKernel(const float* logits, int64_t vocab, const LabelIds ids,
                                 double* out) {
  const float* l = logits + static_cast<int64_t>(blockIdx.x) * vocab;
  __shared__ double red[kThreads / 32];
  __shared__ double shared_max;
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  double m = -INFINITY;
  for (int64_t v = threadIdx.x; v < vocab; v += blockDim.x) m = fmax(m, static_cast<double>(l[v]));
  for (int o = 16; o > 0; o /= 2) m = fmax(m, __shfl_xor_sync(0xffffffffu, m, o));
  if (lane == 0) red[warp] = m;
  __syncthreads();
  if (threadIdx.x == 0) {
    double mm = red[0];
    for (int w = 1; w < kThreads / 32; ++w) mm = fmax(mm, red[w]);
    shared_max = mm;
  }
  __syncthreads();
  const double mx = shared_max;
  double s = 0;
  for (int64_t v = threadIdx.x; v < vocab; v += blockDim.x)
    s += exp(static_cast<double>(l[v]) - mx);
  for (int o = 16; o > 0; o /= 2) s += __shfl_xor_sync(0xffffffffu, s, o);
  __syncthreads();
  if (lane == 0) red[warp] = s;
  __syncthreads();
  if (threadIdx.x == 0) {
    double total = 0;
    for (int w = 0; w < kThreads / 32; ++w) total += red[w];
    double* o = out + static_cast<int64_t>(blockIdx.x) * (ids.n + 1);
    for (int j = 0; j < ids.n; ++j) o[j] = l[ids.id[j]];
    o[ids.n] = mx + log(total);
  }
}

// ---- Attention: shared pieces ------------------------------------------------

struct TileInfo {
  int seq;   // index into launch.seq
  int row0;  // first row of the tile within the sequence
  int rows;  // rows of the sequence (tokens * group)
  int keys;  // keys the tile's rows can see at most
  int seg_start[kMaxSegments + 1];
};

__device__ TileInfo LocateTile(const AttnLaunch& p, int group) {
  TileInfo ti;
  // Last tile first: within a sequence later tiles see more keys, so the
  // longest blocks start first and the short ones fill the tail.
  const int tile = p.n_tiles - 1 - static_cast<int>(blockIdx.x);
  ti.seq = FindSequence(p, tile);
  const AttnSeqDesc& d = p.seq[ti.seq];
  ti.row0 = (tile - d.tile_begin) * kTileRows;
  ti.rows = d.tokens * group;
  const int last_row = min(ti.row0 + kTileRows, ti.rows) - 1;
  ti.keys = d.start + last_row / group + 1;
  ti.seg_start[0] = 0;
  for (int s = 0; s < kMaxSegments; ++s) {
    ti.seg_start[s + 1] = ti.seg_start[s] + (s < d.n_segments ? d.seg_len[s] : 0);
  }
  return ti;
}

// Pointer to the key (or value) row at absolute position `pos` for KV head
// `kvh`, or null past the end.
__device__ const float* KvRow(const AttnSeqDesc& d, const TileInfo& ti, const float* const* base,
                              int pos, int kv_dim, int kvh, int head_dim) {
  for (int s = 0; s < d.n_segments; ++s) {
    if (pos < ti.seg_start[s + 1]) {
      return base[s] + static_cast<int64_t>(pos - ti.seg_start[s]) * kv_dim + kvh * head_dim;
    }
  }
  return nullptr;
}

// ---- Attention: bf16 tensor cores ---------------------------------------------

__device__ __forceinline__ uint32_t PackBf16(float lo, float hi) {
  const __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
  return *reinterpret_cast<const uint32_t*>(&v);
}

__device__ __forceinline__ void Mma(float (&c)[4], const uint32_t (&a)[4], uint32_t b0,
                                    uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 "
      "{%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

template <int HD>
__global__ void __launch_bounds__(128)
    AttnMmaKernel(const float* q, float* out, const __grid_constant__ AttnLaunch p, int n_heads,
                  int n_kv, float scale) {
  constexpr int BK = 64;        // keys per tile
  constexpr int KPAD = HD + 8;  // K row stride (bf16), conflict-free fragment loads
  constexpr int VPAD = HD + 8;  // V row stride (bf16), conflict-free ldmatrix
  constexpr int NK = HD / 16;   // k-chunks of Q·Kᵀ
  constexpr int ND = HD / 8;    // n8-tiles of the output
  __shared__ __align__(16) __nv_bfloat16 Ks[BK * KPAD];
  __shared__ __align__(16) __nv_bfloat16 Vs[BK * VPAD];

  const int group = n_heads / n_kv;
  const int kvh = blockIdx.y;
  const TileInfo ti = LocateTile(p, group);
  const AttnSeqDesc& d = p.seq[ti.seq];
  const int kv_dim = n_kv * HD, q_dim = n_heads * HD;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int g = lane / 4, t4 = lane % 4;

  // This lane's two rows (r = g and g + 8 of the warp's 16).
  int qpos[2];
  const float* qrow[2];
  float* orow[2];
  for (int i = 0; i < 2; ++i) {
    const int r = ti.row0 + warp * 16 + g + 8 * i;
    if (r < ti.rows) {
      const int tok = r / group, head = kvh * group + r % group;
      qpos[i] = d.start + tok;
      qrow[i] = q + static_cast<int64_t>(d.row + tok) * q_dim + head * HD;
      orow[i] = out + static_cast<int64_t>(d.row + tok) * q_dim + head * HD;
    } else {
      qpos[i] = -1;
      qrow[i] = nullptr;
      orow[i] = nullptr;
    }
  }
  // Q as A fragments: qa[kc] = {(g, c), (g+8, c), (g, c+8), (g+8, c+8)},
  // c = kc*16 + t4*2.
  uint32_t qa[NK][4];
#pragma unroll
  for (int kc = 0; kc < NK; ++kc) {
    const int c = kc * 16 + t4 * 2;
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const int i = j & 1, col = c + (j >> 1) * 8;
      float2 v = make_float2(0.f, 0.f);
      if (qrow[i]) v = *reinterpret_cast<const float2*>(qrow[i] + col);
      qa[kc][j] = PackBf16(v.x, v.y);
    }
  }
  float o[ND][4];
#pragma unroll
  for (int n = 0; n < ND; ++n) o[n][0] = o[n][1] = o[n][2] = o[n][3] = 0.f;
  float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.f, 0.f};

  for (int kb = 0; kb < ti.keys; kb += BK) {
    __syncthreads();  // the previous tile is consumed
    // Stage K and V (row-major) as bf16: each thread has kChunk 16-byte
    // loads of each in flight before it converts and stores them.
    constexpr int C4 = HD / 4;
    constexpr int kLoads = BK * C4 / 128;
    constexpr int kChunk = kLoads < 4 ? kLoads : 4;
#pragma unroll
    for (int it0 = 0; it0 < kLoads; it0 += kChunk) {
      float4 kv[kChunk], vv[kChunk];
#pragma unroll
      for (int u = 0; u < kChunk; ++u) {
        const int idx = threadIdx.x + (it0 + u) * 128;
        const int pos = kb + idx / C4, c = (idx % C4) * 4;
        kv[u] = vv[u] = make_float4(0.f, 0.f, 0.f, 0.f);
        if (pos < ti.keys) {
          const float* kp = KvRow(d, ti, d.seg_k, pos, kv_dim, kvh, HD);
          const float* vp = KvRow(d, ti, d.seg_v, pos, kv_dim, kvh, HD);
          if (kp) kv[u] = __ldg(reinterpret_cast<const float4*>(kp + c));
          if (vp) vv[u] = __ldg(reinterpret_cast<const float4*>(vp + c));
        }
      }
#pragma unroll
      for (int u = 0; u < kChunk; ++u) {
        const int idx = threadIdx.x + (it0 + u) * 128;
        const int kr = idx / C4, c = (idx % C4) * 4;
        *reinterpret_cast<uint2*>(&Ks[kr * KPAD + c]) =
            make_uint2(PackBf16(kv[u].x, kv[u].y), PackBf16(kv[u].z, kv[u].w));
        *reinterpret_cast<uint2*>(&Vs[kr * VPAD + c]) =
            make_uint2(PackBf16(vv[u].x, vv[u].y), PackBf16(vv[u].z, vv[u].w));
      }
    }
    __syncthreads();

    // S = Q·Kᵀ for the warp's 16 rows x 64 keys.
    float s[BK / 8][4];
#pragma unroll
    for (int j = 0; j < BK / 8; ++j) {
      s[j][0] = s[j][1] = s[j][2] = s[j][3] = 0.f;
      const __nv_bfloat16* krow = &Ks[(j * 8 + g) * KPAD + t4 * 2];
#pragma unroll
      for (int kc = 0; kc < NK; ++kc) {
        const uint32_t b0 = *reinterpret_cast<const uint32_t*>(krow + kc * 16);
        const uint32_t b1 = *reinterpret_cast<const uint32_t*>(krow + kc * 16 + 8);
        Mma(s[j], qa[kc], b0, b1);
      }
    }
    // Scale, mask, online softmax (rows g: s[.][0..1], g+8: s[.][2..3]).
    float alpha[2];
#pragma unroll
    for (int i = 0; i < 2; ++i) {
      float mx = -INFINITY;
#pragma unroll
      for (int j = 0; j < BK / 8; ++j) {
#pragma unroll
        for (int e = 0; e < 2; ++e) {
          const int pos = kb + j * 8 + t4 * 2 + e;
          float v = s[j][2 * i + e] * scale;
          if (pos > qpos[i]) v = -INFINITY;
          s[j][2 * i + e] = v;
          mx = fmaxf(mx, v);
        }
      }
      mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1));
      mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 2));
      const float m_new = fmaxf(m[i], mx);
      const float m_use = m_new == -INFINITY ? 0.f : m_new;
      alpha[i] = m[i] == -INFINITY ? 0.f : __expf(m[i] - m_use);
      float sum = 0.f;
#pragma unroll
      for (int j = 0; j < BK / 8; ++j) {
#pragma unroll
        for (int e = 0; e < 2; ++e) {
          const float pv = __expf(s[j][2 * i + e] - m_use);
          s[j][2 * i + e] = pv;
          sum += pv;
        }
      }
      l[i] = l[i] * alpha[i] + sum;
      m[i] = m_new;
    }
#pragma unroll
    for (int n = 0; n < ND; ++n) {
      o[n][0] *= alpha[0];
      o[n][1] *= alpha[0];
      o[n][2] *= alpha[1];
      o[n][3] *= alpha[1];
    }
    // O += P·V: P's accumulator layout is the A layout of a 16x16 k-chunk.
#pragma unroll
    for (int kc = 0; kc < BK / 16; ++kc) {
      uint32_t pa[4];
      pa[0] = PackBf16(s[2 * kc][0], s[2 * kc][1]);
      pa[1] = PackBf16(s[2 * kc][2], s[2 * kc][3]);
      pa[2] = PackBf16(s[2 * kc + 1][0], s[2 * kc + 1][1]);
      pa[3] = PackBf16(s[2 * kc + 1][2], s[2 * kc + 1][3]);
#pragma unroll
      for (int n = 0; n < ND; ++n) {
        // B[k = key][n = d] from row-major V: ldmatrix .trans hands lane
        // (g, t4) keys t4*2, t4*2+1 (+8) of column d = n*8 + g.
        const uint32_t addr = static_cast<uint32_t>(
            __cvta_generic_to_shared(&Vs[(kc * 16 + (lane & 15)) * VPAD + n * 8]));
        uint32_t b0, b1;
        asm volatile("ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16 {%0, %1}, [%2];\n"
                     : "=r"(b0), "=r"(b1)
                     : "r"(addr));
        Mma(o[n], pa, b0, b1);
      }
    }
  }
  // Normalise by the row sums (each lane holds a quarter of them).
#pragma unroll
  for (int i = 0; i < 2; ++i) {
    l[i] += __shfl_xor_sync(0xffffffffu, l[i], 1);
    l[i] += __shfl_xor_sync(0xffffffffu, l[i], 2);
  }
#pragma unroll
  for (int i = 0; i < 2; ++i) {
    if (orow[i] == nullptr) continue;
    const float inv = 1.f / l[i];
#pragma unroll
    for (int n = 0; n < ND; ++n) {
      *reinterpret_cast<float2*>(orow[i] + n * 8 + t4 * 2) =
          make_float2(o[n][2 * i] * inv, o[n][2 * i + 1] * inv);
    }
  }
}

// ---- Attention: float32 ------------------------------------------------------

template <int DPL>  // output columns per lane: ceil(head_dim / 32)
__global__ void __launch_bounds__(128)
    AttnF32Kernel(const float* q, float* out, const __grid_constant__ AttnLaunch p, int n_heads,
                  int n_kv, int hd, float scale) {
  constexpr int BK = 32;  // keys per tile
  extern __shared__ float smem[];
  float* Qs = smem;                 // [kTileRows][hd]
  float* Ks = Qs + kTileRows * hd;  // [BK][hd + 1]
  float* Vs = Ks + BK * (hd + 1);   // [BK][hd]
  const int group = n_heads / n_kv;
  const int kvh = blockIdx.y;
  const TileInfo ti = LocateTile(p, group);
  const AttnSeqDesc& d = p.seq[ti.seq];
  const int kv_dim = n_kv * hd, q_dim = n_heads * hd;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;

  for (int idx = threadIdx.x; idx < kTileRows * hd; idx += blockDim.x) {
    const int r = ti.row0 + idx / hd, c = idx % hd;
    float v = 0.f;
    if (r < ti.rows) {
      const int tok = r / group, head = kvh * group + r % group;
      v = q[static_cast<int64_t>(d.row + tok) * q_dim + head * hd + c];
    }
    Qs[idx] = v;
  }
  int qpos[16];
#pragma unroll
  for (int r = 0; r < 16; ++r) {
    const int row = ti.row0 + warp * 16 + r;
    qpos[r] = row < ti.rows ? d.start + row / group : -1;
  }
  float acc[16][DPL];
  float m[16], l[16];
#pragma unroll
  for (int r = 0; r < 16; ++r) {
    m[r] = -INFINITY;
    l[r] = 0.f;
#pragma unroll
    for (int i = 0; i < DPL; ++i) acc[r][i] = 0.f;
  }
  for (int kb = 0; kb < ti.keys; kb += BK) {
    __syncthreads();
    for (int idx = threadIdx.x; idx < BK * hd; idx += blockDim.x) {
      const int kr = idx / hd, c = idx % hd;
      const int pos = kb + kr;
      float kv = 0.f, vv = 0.f;
      if (pos < ti.keys) {
        const float* kp = KvRow(d, ti, d.seg_k, pos, kv_dim, kvh, hd);
        const float* vp = KvRow(d, ti, d.seg_v, pos, kv_dim, kvh, hd);
        if (kp) kv = kp[c];
        if (vp) vv = vp[c];
      }
      Ks[kr * (hd + 1) + c] = kv;
      Vs[kr * hd + c] = vv;
    }
    __syncthreads();
    const int pos = kb + lane;
    const float* krow = Ks + lane * (hd + 1);
#pragma unroll
    for (int r = 0; r < 16; ++r) {
      const float* qr = Qs + (warp * 16 + r) * hd;
      float dot = 0.f;
      for (int c = 0; c < hd; ++c) dot += qr[c] * krow[c];
      float sc = pos <= qpos[r] ? dot * scale : -INFINITY;
      float mx = sc;
      for (int o = 16; o > 0; o /= 2) mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, o));
      const float m_new = fmaxf(m[r], mx);
      const float m_use = m_new == -INFINITY ? 0.f : m_new;
      const float alpha = m[r] == -INFINITY ? 0.f : expf(m[r] - m_use);
      const float pv = expf(sc - m_use);
      float sum = pv;
      for (int o = 16; o > 0; o /= 2) sum += __shfl_xor_sync(0xffffffffu, sum, o);
      l[r] = l[r] * alpha + sum;
      m[r] = m_new;
#pragma unroll
      for (int i = 0; i < DPL; ++i) acc[r][i] *= alpha;
      for (int j = 0; j < BK; ++j) {
        const float pj = __shfl_sync(0xffffffffu, pv, j);
        const float* vrow = Vs + j * hd;
#pragma unroll
        for (int i = 0; i < DPL; ++i) {
          const int c = lane + 32 * i;
          if (c < hd) acc[r][i] += pj * vrow[c];
        }
      }
    }
  }
#pragma unroll
  for (int r = 0; r < 16; ++r) {
    const int row = ti.row0 + warp * 16 + r;
    if (row >= ti.rows) continue;
    const int tok = row / group, head = kvh * group + row % group;
    float* orow = out + static_cast<int64_t>(d.row + tok) * q_dim + head * hd;
    const float inv = 1.f / l[r];
#pragma unroll
    for (int i = 0; i < DPL; ++i) {
      const int c = lane + 32 * i;
      if (c < hd) orow[c] = acc[r][i] * inv;
    }
  }
}

template <int HD>
void MmaLaunch(const float* q, float* out, const AttnLaunch& p, int n_heads, int n_kv, float scale,
               Stream stream) {
  AttnMmaKernel<HD><<<dim3(p.n_tiles, n_kv), 128, 0, stream>>>(q, out, p, n_heads, n_kv, scale);
}

template <int DPL>
bool F32Launch(const float* q, float* out, const AttnLaunch& p, int n_heads, int n_kv, int hd,
               float scale, Stream stream) {
  const size_t smem = (kTileRows * hd + 32 * (hd + 1) + 32 * hd) * sizeof(float);
  if (smem > 48 * 1024 &&
      cudaFuncSetAttribute(AttnF32Kernel<DPL>, cudaFuncAttributeMaxDynamicSharedMemorySize,
                           static_cast<int>(smem)) != cudaSuccess) {
    return false;
  }
  AttnF32Kernel<DPL>
      <<<dim3(p.n_tiles, n_kv), 128, smem, stream>>>(q, out, p, n_heads, n_kv, hd, scale);
  return true;
}

}  // namespace

void LaunchRmsNorm(const float* x, const float* w, int64_t rows, int64_t dim, float eps, float* out,
                   uint16_t* out_bf16, Stream stream) {
  if (dim % 128 == 0 && Aligned16(x) && Aligned16(w) && Aligned16(out)) {
    RmsNorm4Kernel<<<Blocks(rows * 32), kThreads, 0, stream>>>(
        x, w, rows, static_cast<int>(dim), eps, out, reinterpret_cast<__nv_bfloat16*>(out_bf16));
    return;
  }
  RmsNormKernel<<<Blocks(rows * 32), kThreads, 0, stream>>>(
      x, w, rows, static_cast<int>(dim), eps, out, reinterpret_cast<__nv_bfloat16*>(out_bf16));
}

void LaunchRope(float* x, int64_t tokens, int64_t heads, int64_t head_dim, const int64_t* positions,
                const RopeSpec& rope, Stream stream) {
  RopeKernel<<<Blocks(tokens * (head_dim / 2)), kThreads, 0, stream>>>(
      x, tokens, static_cast<int>(heads), static_cast<int>(head_dim), positions, rope);
}

void LaunchSiluMul(const float* gate, const float* up, int64_t n, float* out, uint16_t* out_bf16,
                   Stream stream) {
  if (n % 4 == 0 && Aligned16(gate) && Aligned16(up) && Aligned16(out) &&
      (out_bf16 == nullptr || (reinterpret_cast<uintptr_t>(out_bf16) & 7) == 0)) {
    SiluMul4Kernel<<<Blocks(n / 4), kThreads, 0, stream>>>(
        reinterpret_cast<const float4*>(gate), reinterpret_cast<const float4*>(up), n / 4,
        reinterpret_cast<float4*>(out), reinterpret_cast<uint2*>(out_bf16));
    return;
  }
  SiluMulKernel<<<Blocks(n), kThreads, 0, stream>>>(gate, up, n, out,
                                                    reinterpret_cast<__nv_bfloat16*>(out_bf16));
}

void LaunchAdd(float* x, const float* y, int64_t n, float alpha, Stream stream) {
  if (alpha != 1.f) {
    if (n > 0) AddScaledKernel<<<Blocks(n), kThreads, 0, stream>>>(x, y, n, alpha);
    return;
  }
  if (n % 4 == 0 && Aligned16(x) && Aligned16(y)) {
    Add4Kernel<<<Blocks(n / 4), kThreads, 0, stream>>>(reinterpret_cast<float4*>(x),
                                                       reinterpret_cast<const float4*>(y), n / 4);
    return;
  }
  AddKernel<<<Blocks(n), kThreads, 0, stream>>>(x, y, n);
}

void LaunchScale(float* x, int64_t n, float alpha, Stream stream) {
  if (n > 0) ScaleKernel<<<Blocks(n), kThreads, 0, stream>>>(x, n, alpha);
}

void LaunchEmbed(const void* table, bool bf16, int64_t cols, const int32_t* ids, int64_t n,
                 float* out, Stream stream) {
  EmbedKernel<<<Blocks(n * cols), kThreads, 0, stream>>>(table, bf16, cols, ids, n, out);
}

void LaunchToBf16(const float* src, int64_t n, uint16_t* dst, Stream stream) {
  if (n % 4 == 0 && Aligned16(src) && (reinterpret_cast<uintptr_t>(dst) & 7) == 0) {
    ToBf16x4Kernel<<<Blocks(n / 4), kThreads, 0, stream>>>(reinterpret_cast<const float4*>(src),
                                                           n / 4, reinterpret_cast<uint2*>(dst));
    return;
  }
  ToBf16Kernel<<<Blocks(n), kThreads, 0, stream>>>(src, n, reinterpret_cast<__nv_bfloat16*>(dst));
}

void LaunchCopies(const CopyList& copies, Stream stream) {
  if (copies.n > 0) CopiesKernel<<<copies.n, kThreads, 0, stream>>>(copies);
}

void LaunchLabelStats(const float* logits, int64_t rows, int64_t vocab, const LabelIds& ids,
                      double* out, Stream stream) {
  if (rows > 0) {
    LabelStatsKernel<<<static_cast<int>(rows), kThreads, 0, stream>>>(logits, vocab, ids, out);
  }
}

bool LaunchAttention(const float* q, float* out, const AttnLaunch& launch, float scale, int n_heads,
                     int n_kv_heads, int head_dim, bool bf16_mma, Stream stream) {
  if (launch.n_tiles == 0) return true;
  if (bf16_mma) {
    switch (head_dim) {
      case 16:
        MmaLaunch<16>(q, out, launch, n_heads, n_kv_heads, scale, stream);
        return true;
      case 32:
        MmaLaunch<32>(q, out, launch, n_heads, n_kv_heads, scale, stream);
        return true;
      case 64:
        MmaLaunch<64>(q, out, launch, n_heads, n_kv_heads, scale, stream);
        return true;
      case 128:
        MmaLaunch<128>(q, out, launch, n_heads, n_kv_heads, scale, stream);
        return true;
      default:
        return false;
    }
  }
  switch ((head_dim + 31) / 32) {
    case 1:
      return F32Launch<1>(q, out, launch, n_heads, n_kv_heads, head_dim, scale, stream);
    case 2:
      return F32Launch<2>(q, out, launch, n_heads, n_kv_heads, head_dim, scale, stream);
    case 3:
    case 4:
      return F32Launch<4>(q, out, launch, n_heads, n_kv_heads, head_dim, scale, stream);
    case 5:
    case 6:
    case 7:
    case 8:
      return F32Launch<8>(q, out, launch, n_heads, n_kv_heads, head_dim, scale, stream);
    default:
      return false;
  }
}

}  // namespace ccguard::kernels::cuda

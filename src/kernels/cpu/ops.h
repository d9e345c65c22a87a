// Internal to the fast CPU backend (fast_backend.cc): the non-GEMM kernels of
// the AVX-512 and AMX tiers. The caller checks DetectCpuIsa() first.
#pragma once

#include <cstdint>

#include "kernels/kernels.h"

namespace ccguard::kernels::cpu {

// Query rows per attention block; the scratch of one block is
// AttentionScratchFloats(shape) floats.
constexpr int64_t kAttentionQueryBlock = 16;
int64_t AttentionScratchFloats(const AttentionShape& s);

// Backend::Attention for query rows [t0, t1) (at most kAttentionQueryBlock)
// of one sequence and every query head of kv head `kvh`: keys are visited in
// blocks of 16 with an online softmax (running max and sum per row), so no
// score matrix is kept. Blocks start at absolute key positions 0, 16, 32, ...
// (one may span two segments), so a row's result does not depend on how its
// keys are split into segments or on the other rows. Needs head_dim % 16 == 0.
void Avx512AttentionBlock(const float* q, const int64_t* positions, int64_t t0, int64_t t1,
                          const KvSegment* segments, int64_t n_segments, const AttentionShape& s,
                          int64_t kvh, float* out, float* scratch);

// The same in BF16 for the bf16/int8 precisions, on AMX tiles
// (attention_amx.cc) or with AVX-512 BF16 dot products (attention_bf16.cc):
// q, k, v and the softmax weights rounded to BF16, float32 sums and softmax.
// Keys and values are first packed per kv head into blocks of 32 keys at
// absolute positions 0, 32, ... (Bf16KvBlockElements each, for K and for V)
// by PackKvBf16, from row pointers k_rows[p], v_rows[p] of position p <
// n_keys; every query block then reuses them. A query block is 32 / group
// tokens (32 rows) of the query heads of kv head `kvh`; kb[b] / vb[b] point at
// that head's packed K / V block b (keys [32 b, 32 b + 32)), so blocks that
// several sequences share are packed once. Needs head_dim % 32 == 0 and 32 % group == 0
// (group = n_heads / n_kv_heads); the scratch is *AttentionScratchFloats
// floats. PackKvBf16 and the AVX-512 kernel need avx512bf16.
int64_t Bf16KvBlockElements(const AttentionShape& s);
void PackKvBf16(const float* const* k_rows, const float* const* v_rows, int64_t n_keys,
                const AttentionShape& s, int64_t kvh, int64_t b0, int64_t b1, uint16_t* kt,
                uint16_t* vt);
int64_t AmxAttentionScratchFloats(const AttentionShape& s);
void AmxAttentionBlock(const float* q, const int64_t* positions, int64_t t0, int64_t t1,
                       int64_t n_keys, const uint16_t* const* kb, const uint16_t* const* vb,
                       const AttentionShape& s, int64_t kvh, float* out, float* scratch);
int64_t Bf16AttentionScratchFloats(const AttentionShape& s);
void Avx512Bf16AttentionBlock(const float* q, const int64_t* positions, int64_t t0, int64_t t1,
                              int64_t n_keys, const uint16_t* const* kb, const uint16_t* const* vb,
                              const AttentionShape& s, int64_t kvh, float* out, float* scratch);

// out[i] = silu(gate[i]) * up[i] (exp within 2 ulp).
void Avx512SiluMul(const float* gate, const float* up, int64_t n, float* out);

// Backend::RmsNorm for rows [r0, r1); sums of squares in double.
void Avx512RmsNorm(const float* x, const float* weight, int64_t r0, int64_t r1, int64_t dim,
                   float eps, float* out);

}  // namespace ccguard::kernels::cpu

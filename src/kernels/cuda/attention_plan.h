// Host-side planning of the CUDA attention launches (plain C++, tested on the
// CPU): a ragged batch of sequences, each attending to up to kMaxSegments
// key/value segments (a shared prefix chain plus its own rows), becomes one
// or more launches (attention_launch.h) whose description travels as the
// kernel's parameter.
#pragma once

#include <vector>

#include "kernels/cuda/attention_launch.h"
#include "kernels/kernels.h"

namespace ccguard::kernels::cuda {

// Splits `seqs` into launches. Sequences with no tokens are skipped.
// InvalidArgument when a sequence has more than kMaxSegments segments,
// segments shorter than its last query position requires, or positions
// beyond int32.
Result<std::vector<AttnLaunch>> PlanAttention(const std::vector<AttentionSequence>& seqs,
                                              const AttentionShape& shape);

}  // namespace ccguard::kernels::cuda

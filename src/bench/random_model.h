// A full-size Qwen3-1.7B-shaped model with random weights, for benchmarks
// (weights do not affect speed): the real shapes (hidden 2048, 28 layers, 16
// heads, 8 KV heads, head_dim 128, intermediate 6144, vocab 151936, tied
// embeddings, BF16) and a rank-16 PEFT LoRA on every linear layer.
//
// Layout of `dir`:
//   base/     config.json, model-0000i-of-0000n.safetensors,
//             model.safetensors.index.json, tokenizer.json,
//             tokenizer_config.json (copied from the tokenizer folder given)
//   adapter/  adapter_config.json, adapter_model.safetensors (F32)
//   COMPLETE  written last: a folder without it is rewritten
// Values are uniform with the standard deviation of the HF initialisation
// (0.02; norms 1), from a fixed seed, so every run builds the same model.
#pragma once

#include <cstdint>
#include <string>

#include "util/status.h"

namespace ccguard::bench {

struct RandomModelShape {
  int64_t vocab = 151936, hidden = 2048, intermediate = 6144, layers = 28, heads = 16, kv_heads = 8,
          head_dim = 128, lora_rank = 16;
};

// Parameters of the linear layers (the matrices every token multiplies).
int64_t LinearParams(const RandomModelShape& s);

// Writes the model into `dir` unless a complete one is already there;
// tokenizer.json and tokenizer_config.json come from `tokenizer_dir`.
// Progress lines go to stderr.
Status EnsureRandomModel(const std::string& dir, const std::string& tokenizer_dir,
                         const RandomModelShape& shape = {}, uint64_t seed = 1);

}  // namespace ccguard::bench

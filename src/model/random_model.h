// A model with random weights in Hugging Face format. By default a full-size
// Qwen3-1.7B-shaped one for benchmarks (weights do not affect speed): the
// real shapes (hidden 2048, 28 layers, 16 heads, 8 KV heads, head_dim 128,
// intermediate 6144, vocab 151936, tied embeddings, BF16) and a rank-16 PEFT
// LoRA on every linear layer. Tests write small ones of each architecture
// (qwen3, llama, granite) with the config fields of a real model
// (`extra_config`) and check them against golden logits.
//
// Layout of `dir`:
//   base/     config.json, model-0000i-of-0000n.safetensors (the embedding,
//             LM head if untied and final norm first, then four layers a
//             shard), model.safetensors.index.json, tokenizer.json,
//             tokenizer_config.json (copied from the tokenizer folder given,
//             if one is)
//   adapter/  adapter_config.json, adapter_model.safetensors (F32), if asked
//   COMPLETE  written last: a folder without it is rewritten
// Values are uniform with standard deviation `weight_std` (the HF
// initialisation's 0.02 by default; norms 1 + uniform with `norm_std`), from
// a fixed seed in a fixed order, so every run on every machine writes the
// same bytes.
#pragma once

#include <cstdint>
#include <string>

#include "util/json_file.h"
#include "util/status.h"

namespace ccguard {

struct RandomModelShape {
  std::string architecture = "qwen3";  // qwen3, llama or granite
  int64_t vocab = 151936, hidden = 2048, intermediate = 6144, layers = 28, heads = 16, kv_heads = 8,
          head_dim = 128, lora_rank = 16;
  bool tied = true;  // tie_word_embeddings (else an lm_head.weight)
  bool adapter = true;
  float weight_std = 0.02f, norm_std = 0.f;
  Json extra_config = Json::object();  // merged over the generated config.json
};

// A shape from JSON: {"architecture", "vocab", "hidden", "intermediate",
// "layers", "heads", "kv_heads", "head_dim", "lora_rank", "tied", "adapter",
// "weight_std", "norm_std", "extra_config", "seed"}; absent fields keep their
// defaults, unknown ones are an error naming them. `seed` (default 1) goes to
// *seed.
Result<RandomModelShape> RandomModelShapeFromJson(const Json& j, uint64_t* seed);

// Parameters of the linear layers (the matrices every token multiplies).
int64_t LinearParams(const RandomModelShape& s);

// Writes the model into `dir` unless a complete one is already there;
// tokenizer.json and tokenizer_config.json come from `tokenizer_dir` (none
// when it is empty).
// Progress lines go to stderr.
Status EnsureRandomModel(const std::string& dir, const std::string& tokenizer_dir,
                         const RandomModelShape& shape = {}, uint64_t seed = 1);

}  // namespace ccguard

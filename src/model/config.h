// Decoder-only transformer hyper-parameters, read from a Hugging Face
// config.json. One forward pass (DecoderModel) serves every architecture
// here; they differ only by the flags and factors below:
//
//   architecture   q/k RMSNorm   RoPE                multipliers
//   qwen3          yes           default             none
//   llama          no            default or llama3   none
//   granite        no            default or llama3   embedding, attention, residual, logits
#pragma once

#include <cstdint>
#include <string>

#include "kernels/rope.h"
#include "util/json_file.h"
#include "util/status.h"

namespace ccguard {

enum class Architecture { kQwen3, kLlama, kGranite };
const char* ArchitectureName(Architecture a);  // "qwen3", "llama", "granite"

struct ModelConfig {
  Architecture architecture = Architecture::kQwen3;
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t num_key_value_heads = 0;
  int64_t head_dim = 0;  // need not equal hidden_size / num_attention_heads
  double rms_norm_eps = 1e-6;
  kernels::RopeSpec rope;  // rope_theta and, for rope_type llama3, its scaling
  bool qk_norm = true;     // RMSNorm on each query and key head (Qwen3)
  // Granite's multipliers (1 / 0 elsewhere): x = embed · embedding_multiplier;
  // softmax scale attention_multiplier (0: 1/sqrt(head_dim)); x += block ·
  // residual_multiplier; logits = lm_head / logits_scaling.
  double embedding_multiplier = 1, attention_multiplier = 0, residual_multiplier = 1,
         logits_scaling = 1;
  bool tie_word_embeddings = false;
  int64_t max_position_embeddings = 0;  // 0 when absent: no limit enforced
  std::string name_or_path;             // "_name_or_path" if present, else ""

  int64_t q_dim() const { return num_attention_heads * head_dim; }
  int64_t kv_dim() const { return num_key_value_heads * head_dim; }

  // Parses and validates config.json. Refuses other architectures/model types
  // (naming the supported ones), rope scaling other than default/llama3,
  // sliding windows, attention or MLP biases, non-SiLU activations,
  // mixture-of-experts and soft-capping fields, each with a message naming
  // the field.
  static Result<ModelConfig> FromJson(const Json& j, const std::string& what);
  static Result<ModelConfig> FromFile(const std::string& path);
};

}  // namespace ccguard

// Qwen3 model hyper-parameters, read from a Hugging Face config.json.
#pragma once

#include <cstdint>
#include <string>

#include "util/json_file.h"
#include "util/status.h"

namespace ccguard {

struct Qwen3Config {
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t num_key_value_heads = 0;
  int64_t head_dim = 0;  // need not equal hidden_size / num_attention_heads
  double rms_norm_eps = 1e-6;
  double rope_theta = 1e6;
  bool tie_word_embeddings = false;
  int64_t max_position_embeddings = 0;  // 0 when absent: no limit enforced
  std::string name_or_path;             // "_name_or_path" if present, else ""

  int64_t q_dim() const { return num_attention_heads * head_dim; }
  int64_t kv_dim() const { return num_key_value_heads * head_dim; }

  // Parses and validates config.json. Refuses other architectures/model types,
  // rope scaling other than default, sliding windows, attention biases and
  // non-SiLU activations, each with a message naming the field.
  static Result<Qwen3Config> FromJson(const Json& j, const std::string& what);
  static Result<Qwen3Config> FromFile(const std::string& path);
};

}  // namespace ccguard

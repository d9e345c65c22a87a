// A PEFT LoRA adapter (adapter_config.json + adapter_model.safetensors).
//
// Liberal with the config (unknown fields and task types are warnings), strict
// with tensors: every tensor must be a lora_A/lora_B pair of a linear module,
// with ranks that agree. What cannot be applied exactly (DoRA, trained biases,
// modules_to_save weights, embedding LoRA, pickled weights) is refused with a
// message naming the field or tensor. Shapes against the base model are
// checked when the adapter is bound to a model (see DecoderModel::Load).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "util/json_file.h"
#include "util/status.h"
#include "weights/weight_store.h"

namespace ccguard {

struct LoraConfig {
  int64_t r = 8;
  double lora_alpha = 8;
  bool use_rslora = false;
  // target_modules: exactly one of these forms is used.
  std::vector<std::string> target_names;    // list form: suffix match on ".name"
  std::optional<std::string> target_regex;  // string form: full match of the module key
  bool all_linear = false;                  // "all-linear"
  std::optional<std::vector<int64_t>> layers_to_transform;
  std::map<std::string, int64_t> rank_pattern;  // key suffix -> r
  std::map<std::string, double> alpha_pattern;  // key suffix -> alpha
  std::string base_model_name_or_path;
  std::vector<std::string> warnings;  // human-readable, for the caller to print

  static Result<LoraConfig> FromJson(const Json& j, const std::string& what);

  // Whether the module `key` (e.g. "model.layers.3.self_attn.q_proj") is targeted.
  Result<bool> Targets(const std::string& key) const;
  // The merge scale for `key`: alpha/r, or alpha/sqrt(r) with use_rslora,
  // honouring rank_pattern and alpha_pattern.
  double Scale(const std::string& key) const;
  int64_t RankFor(const std::string& key) const;
};

struct LoraPair {
  const TensorView* a = nullptr;  // lora_A: [r, in_features]
  const TensorView* b = nullptr;  // lora_B: [out_features, r]
  double scale = 0;
};

class LoraAdapter {
 public:
  // Opens the adapter folder. Validates the config and pairs the tensors;
  // errors name the file, field or tensor.
  static Result<std::unique_ptr<LoraAdapter>> Open(const std::string& dir);

  const LoraConfig& config() const { return config_; }
  // Module key (e.g. "model.layers.0.mlp.down_proj") -> its A/B pair. The
  // views stay valid while this adapter lives.
  const std::map<std::string, LoraPair>& modules() const { return modules_; }
  const std::vector<std::string>& warnings() const { return config_.warnings; }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  LoraConfig config_;
  std::unique_ptr<WeightStore> store_;
  std::map<std::string, LoraPair> modules_;
};

// Computes W + scale · B · A in float32 into `out` ([out_features * in_features]).
// `base` is F32, F16 or BF16 of shape [out, in]; A and B must match it.
Status MergeLora(const TensorView& base, const LoraPair& lora, std::vector<float>* out);

}  // namespace ccguard

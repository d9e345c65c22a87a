#include "model/config.h"

namespace ccguard {
namespace {

// Upper bounds far above any released model, so that a config.json with
// absurd sizes is refused by name instead of ending in a failed allocation.
constexpr int64_t kMaxDim = int64_t{1} << 20;        // hidden, intermediate, head_dim
constexpr int64_t kMaxVocab = int64_t{1} << 24;      // vocab_size
constexpr int64_t kMaxLayersOrHeads = 4096;          // layers, attention and key/value heads
constexpr int64_t kMaxPositions = int64_t{1} << 26;  // max_position_embeddings

Status GetInt(const Json& j, const char* key, const std::string& what, bool required, int64_t* out,
              int64_t max) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) {
    if (required) return Status::InvalidArgument(what + ": missing field '" + key + "'");
    return Status::Ok();
  }
  if (!it->is_number_integer()) {
    return Status::InvalidArgument(what + ": field '" + key + "' must be an integer, got " +
                                   it->dump());
  }
  *out = it->get<int64_t>();
  if (*out <= 0) {
    return Status::InvalidArgument(what + ": field '" + key + "' must be positive, got " +
                                   std::to_string(*out));
  }
  if (*out > max) {
    return Status::InvalidArgument(what + ": field '" + key + "' is " + std::to_string(*out) +
                                   ", above the largest supported " + std::to_string(max));
  }
  return Status::Ok();
}

Status GetDouble(const Json& j, const char* key, const std::string& what, double* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return Status::Ok();
  if (!it->is_number()) {
    return Status::InvalidArgument(what + ": field '" + key + "' must be a number, got " +
                                   it->dump());
  }
  *out = it->get<double>();
  if (!(*out > 0)) {
    return Status::InvalidArgument(what + ": field '" + key + "' must be positive");
  }
  return Status::Ok();
}

}  // namespace

namespace {
Result<ModelConfig> ParseConfig(const Json& j, const std::string& what);
}  // namespace

Result<ModelConfig> ModelConfig::FromJson(const Json& j, const std::string& what) {
  try {
    return ParseConfig(j, what);
  } catch (const Json::exception& e) {
    return Status::InvalidArgument(what + ": a field has the wrong type: " + e.what());
  }
}

namespace {

struct ArchitectureInfo {
  Architecture arch;
  const char* model_type;
  const char* class_name;
};
constexpr ArchitectureInfo kArchitectures[] = {
    {Architecture::kQwen3, "qwen3", "Qwen3ForCausalLM"},
    {Architecture::kLlama, "llama", "LlamaForCausalLM"},
    {Architecture::kGranite, "granite", "GraniteForCausalLM"},
};

// The architecture from model_type and/or architectures[]; both, when given,
// must agree.
Result<Architecture> ParseArchitecture(const Json& j, const std::string& what) {
  if (j.contains("model_type") && !j["model_type"].is_string()) {
    return Status::InvalidArgument(what + ": field 'model_type' must be a string");
  }
  const std::string model_type = j.value("model_type", std::string());
  std::string class_names;
  const ArchitectureInfo* by_class = nullptr;
  if (auto it = j.find("architectures"); it != j.end() && it->is_array()) {
    for (const auto& a : *it) {
      if (!a.is_string()) continue;
      if (!class_names.empty()) class_names += ", ";
      class_names += a.get<std::string>();
      for (const auto& info : kArchitectures) {
        if (a.get<std::string>() == info.class_name) by_class = &info;
      }
    }
  }
  const ArchitectureInfo* by_type = nullptr;
  for (const auto& info : kArchitectures) {
    if (model_type == info.model_type) by_type = &info;
  }
  std::string supported;
  for (const auto& info : kArchitectures) {
    supported += std::string(supported.empty() ? "" : ", ") + "'" + info.model_type + "' (" +
                 info.class_name + ")";
  }
  if (!model_type.empty() && by_type == nullptr) {
    return Status::NotSupported(what + ": model_type '" + model_type + "' (architectures [" +
                                class_names + "]) is not supported; ccguard runs " + supported);
  }
  if (by_type == nullptr && by_class == nullptr) {
    return Status::NotSupported(what + ": unsupported architecture (model_type '" + model_type +
                                "', architectures [" + class_names + "]); ccguard runs " +
                                supported);
  }
  if (by_type != nullptr && by_class != nullptr && by_type != by_class) {
    return Status::InvalidArgument(what + ": model_type '" + model_type +
                                   "' contradicts architectures [" + class_names + "]");
  }
  return (by_type != nullptr ? by_type : by_class)->arch;
}

// rope_scaling (or rope_parameters, transformers >= 4.56) → the RoPE spec.
Status ParseRope(const Json& j, const std::string& what, Architecture arch,
                 kernels::RopeSpec* rope) {
  bool have_theta = false;
  if (j.contains("rope_theta") && !j["rope_theta"].is_null()) {
    CCG_RETURN_IF_ERROR(GetDouble(j, "rope_theta", what, &rope->theta));
    have_theta = true;
  }
  for (const char* key : {"rope_parameters", "rope_scaling"}) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) continue;
    if (!it->is_object()) {
      return Status::InvalidArgument(what + ": field '" + key + "' must be an object");
    }
    const std::string type = it->value("rope_type", it->value("type", std::string("default")));
    const std::string field =
        std::string(key) + "." + (it->contains("rope_type") ? "rope_type" : "type");
    if (type == "llama3" && arch != Architecture::kQwen3) {
      rope->llama3_factor = 8;
      CCG_RETURN_IF_ERROR(GetDouble(*it, "factor", what + " " + key, &rope->llama3_factor));
      CCG_RETURN_IF_ERROR(
          GetDouble(*it, "low_freq_factor", what + " " + key, &rope->low_freq_factor));
      CCG_RETURN_IF_ERROR(
          GetDouble(*it, "high_freq_factor", what + " " + key, &rope->high_freq_factor));
      CCG_RETURN_IF_ERROR(GetDouble(*it, "original_max_position_embeddings", what + " " + key,
                                    &rope->original_max_positions));
      if (!(rope->high_freq_factor > rope->low_freq_factor)) {
        return Status::InvalidArgument(what + ": " + key +
                                       ".high_freq_factor must be above low_freq_factor");
      }
    } else if (type != "default") {
      return Status::NotSupported(
          what + ": " + field + " '" + type + "' is not supported (" +
          (arch == Architecture::kQwen3 ? "only 'default'" : "only 'default' and 'llama3'") + ")");
    }
    if (it->contains("rope_theta")) {
      CCG_RETURN_IF_ERROR(GetDouble(*it, "rope_theta", what + " " + key, &rope->theta));
      have_theta = true;
    }
  }
  if (!have_theta) {
    return Status::InvalidArgument(what +
                                   ": missing 'rope_theta' (top level or in rope_parameters)");
  }
  return Status::Ok();
}

// A field that changes the computation in a way the forward pass does not
// implement, refused by name when it is set to anything but its neutral value.
Status RefuseIfSet(const Json& j, const std::string& what, const char* key, const char* why) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return Status::Ok();
  const bool neutral =
      (it->is_boolean() && !it->get<bool>()) || (it->is_number() && it->get<double>() == 0.0);
  if (neutral) return Status::Ok();
  return Status::NotSupported(what + ": " + key + "=" + it->dump() + " is not supported (" + why +
                              ")");
}

Result<ModelConfig> ParseConfig(const Json& j, const std::string& what) {
  if (!j.is_object()) return Status::InvalidArgument(what + ": config must be a JSON object");
  ModelConfig c;
  CCG_ASSIGN_OR_RETURN(c.architecture, ParseArchitecture(j, what));
  const bool qwen3 = c.architecture == Architecture::kQwen3;
  const bool granite = c.architecture == Architecture::kGranite;
  c.qk_norm = qwen3;
  CCG_RETURN_IF_ERROR(GetInt(j, "vocab_size", what, true, &c.vocab_size, kMaxVocab));
  CCG_RETURN_IF_ERROR(GetInt(j, "hidden_size", what, true, &c.hidden_size, kMaxDim));
  CCG_RETURN_IF_ERROR(GetInt(j, "intermediate_size", what, true, &c.intermediate_size, kMaxDim));
  CCG_RETURN_IF_ERROR(
      GetInt(j, "num_hidden_layers", what, true, &c.num_hidden_layers, kMaxLayersOrHeads));
  CCG_RETURN_IF_ERROR(
      GetInt(j, "num_attention_heads", what, true, &c.num_attention_heads, kMaxLayersOrHeads));
  c.num_key_value_heads = c.num_attention_heads;
  CCG_RETURN_IF_ERROR(
      GetInt(j, "num_key_value_heads", what, false, &c.num_key_value_heads, kMaxLayersOrHeads));
  c.head_dim = c.hidden_size / c.num_attention_heads;
  if (!granite) {  // transformers' Granite ignores head_dim: hidden / heads
    CCG_RETURN_IF_ERROR(GetInt(j, "head_dim", what, false, &c.head_dim, kMaxDim));
  }
  CCG_RETURN_IF_ERROR(
      GetInt(j, "max_position_embeddings", what, false, &c.max_position_embeddings, kMaxPositions));
  CCG_RETURN_IF_ERROR(GetDouble(j, "rms_norm_eps", what, &c.rms_norm_eps));
  CCG_RETURN_IF_ERROR(ParseRope(j, what, c.architecture, &c.rope));
  if (granite) {
    CCG_RETURN_IF_ERROR(GetDouble(j, "embedding_multiplier", what, &c.embedding_multiplier));
    CCG_RETURN_IF_ERROR(GetDouble(j, "attention_multiplier", what, &c.attention_multiplier));
    CCG_RETURN_IF_ERROR(GetDouble(j, "residual_multiplier", what, &c.residual_multiplier));
    CCG_RETURN_IF_ERROR(GetDouble(j, "logits_scaling", what, &c.logits_scaling));
  } else {
    for (const char* key : {"embedding_multiplier", "attention_multiplier", "residual_multiplier",
                            "logits_scaling"}) {
      if (j.contains(key) && !j[key].is_null()) {
        return Status::NotSupported(what + ": field '" + key +
                                    "' is a Granite field; model_type '" +
                                    ArchitectureName(c.architecture) + "' does not use it");
      }
    }
  }
  if (j.value("use_sliding_window", false)) {
    return Status::NotSupported(what + ": use_sliding_window=true is not supported");
  }
  if (!qwen3) {
    // Qwen3 configs carry a sliding_window size that use_sliding_window turns
    // off; elsewhere a size means a sliding window.
    CCG_RETURN_IF_ERROR(RefuseIfSet(j, what, "sliding_window", "sliding-window attention"));
  }
  CCG_RETURN_IF_ERROR(RefuseIfSet(j, what, "attention_bias", "biases on q/k/v/o"));
  CCG_RETURN_IF_ERROR(RefuseIfSet(j, what, "mlp_bias", "biases on the MLP"));
  for (const char* key : {"num_local_experts", "num_experts", "num_experts_per_tok"}) {
    CCG_RETURN_IF_ERROR(RefuseIfSet(j, what, key, "mixture-of-experts"));
  }
  for (const char* key : {"attn_logit_softcapping", "final_logit_softcapping"}) {
    CCG_RETURN_IF_ERROR(RefuseIfSet(j, what, key, "soft-capping"));
  }
  std::string act = j.value("hidden_act", std::string("silu"));
  if (act != "silu") {
    return Status::NotSupported(what + ": hidden_act '" + act + "' is not supported (only silu)");
  }
  if (auto it = j.find("tie_word_embeddings"); it != j.end()) {
    if (!it->is_boolean()) {
      return Status::InvalidArgument(what + ": field 'tie_word_embeddings' must be a boolean");
    }
    c.tie_word_embeddings = it->get<bool>();  // absent: false, as in all three config classes
  }
  if (c.num_attention_heads % c.num_key_value_heads != 0) {
    return Status::InvalidArgument(what + ": num_attention_heads (" +
                                   std::to_string(c.num_attention_heads) +
                                   ") must be a multiple of num_key_value_heads (" +
                                   std::to_string(c.num_key_value_heads) + ")");
  }
  if (c.head_dim % 2 != 0) {
    return Status::InvalidArgument(what + ": head_dim must be even for RoPE");
  }
  c.name_or_path = j.value("_name_or_path", std::string());
  return c;
}
}  // namespace

const char* ArchitectureName(Architecture a) {
  for (const auto& info : kArchitectures) {
    if (info.arch == a) return info.model_type;
  }
  return "?";
}

Result<ModelConfig> ModelConfig::FromFile(const std::string& path) {
  CCG_ASSIGN_OR_RETURN(Json j, ReadJsonFile(path));
  return FromJson(j, path);
}

}  // namespace ccguard

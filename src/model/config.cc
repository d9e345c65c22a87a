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
Result<Qwen3Config> ParseConfig(const Json& j, const std::string& what);
}  // namespace

Result<Qwen3Config> Qwen3Config::FromJson(const Json& j, const std::string& what) {
  try {
    return ParseConfig(j, what);
  } catch (const Json::exception& e) {
    return Status::InvalidArgument(what + ": a field has the wrong type: " + e.what());
  }
}

namespace {
Result<Qwen3Config> ParseConfig(const Json& j, const std::string& what) {
  if (!j.is_object()) return Status::InvalidArgument(what + ": config must be a JSON object");
  // Architecture: model_type "qwen3" and/or architectures ["Qwen3ForCausalLM"].
  std::string model_type = j.value("model_type", std::string());
  if (j.contains("model_type") && !j["model_type"].is_string()) {
    return Status::InvalidArgument(what + ": field 'model_type' must be a string");
  }
  bool arch_ok = false;
  std::string arch_names;
  if (auto it = j.find("architectures"); it != j.end() && it->is_array()) {
    for (const auto& a : *it) {
      if (!a.is_string()) continue;
      if (!arch_names.empty()) arch_names += ", ";
      arch_names += a.get<std::string>();
      if (a.get<std::string>() == "Qwen3ForCausalLM") arch_ok = true;
    }
  }
  if (model_type != "qwen3" && !arch_ok) {
    return Status::NotSupported(
        what + ": unsupported architecture (model_type '" + model_type + "', architectures [" +
        arch_names + "]); ccguard runs Qwen3 causal LMs (model_type 'qwen3', Qwen3ForCausalLM)");
  }
  if (!model_type.empty() && model_type != "qwen3") {
    return Status::NotSupported(what + ": model_type '" + model_type +
                                "' is not supported; expected 'qwen3'");
  }

  Qwen3Config c;
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
  CCG_RETURN_IF_ERROR(GetInt(j, "head_dim", what, false, &c.head_dim, kMaxDim));
  CCG_RETURN_IF_ERROR(
      GetInt(j, "max_position_embeddings", what, false, &c.max_position_embeddings, kMaxPositions));
  CCG_RETURN_IF_ERROR(GetDouble(j, "rms_norm_eps", what, &c.rms_norm_eps));

  // RoPE theta: top-level rope_theta (transformers < 4.56) or rope_parameters.rope_theta.
  bool have_theta = false;
  if (j.contains("rope_theta") && !j["rope_theta"].is_null()) {
    CCG_RETURN_IF_ERROR(GetDouble(j, "rope_theta", what, &c.rope_theta));
    have_theta = true;
  }
  if (auto it = j.find("rope_parameters"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) {
      return Status::InvalidArgument(what + ": field 'rope_parameters' must be an object");
    }
    std::string type = it->value("rope_type", std::string("default"));
    if (type != "default") {
      return Status::NotSupported(what + ": rope_parameters.rope_type '" + type +
                                  "' is not supported (only 'default')");
    }
    if (it->contains("rope_theta")) {
      CCG_RETURN_IF_ERROR(GetDouble(*it, "rope_theta", what + " rope_parameters", &c.rope_theta));
      have_theta = true;
    }
  }
  if (!have_theta) {
    return Status::InvalidArgument(what +
                                   ": missing 'rope_theta' (top level or in rope_parameters)");
  }
  if (auto it = j.find("rope_scaling"); it != j.end() && !it->is_null()) {
    std::string type = it->is_object() ? it->value("rope_type", it->value("type", std::string()))
                                       : std::string("?");
    if (type != "default") {
      return Status::NotSupported(what + ": rope_scaling " + it->dump() + " is not supported");
    }
  }
  if (j.value("use_sliding_window", false)) {
    return Status::NotSupported(what + ": use_sliding_window=true is not supported");
  }
  if (j.value("attention_bias", false)) {
    return Status::NotSupported(what + ": attention_bias=true is not supported (Qwen3 has none)");
  }
  std::string act = j.value("hidden_act", std::string("silu"));
  if (act != "silu") {
    return Status::NotSupported(what + ": hidden_act '" + act + "' is not supported (only silu)");
  }
  if (auto it = j.find("tie_word_embeddings"); it != j.end()) {
    if (!it->is_boolean()) {
      return Status::InvalidArgument(what + ": field 'tie_word_embeddings' must be a boolean");
    }
    c.tie_word_embeddings = it->get<bool>();
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

Result<Qwen3Config> Qwen3Config::FromFile(const std::string& path) {
  CCG_ASSIGN_OR_RETURN(Json j, ReadJsonFile(path));
  return FromJson(j, path);
}

}  // namespace ccguard

#include "model/lora.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <cmath>
#include <filesystem>
#include <set>

namespace ccguard {
namespace {

namespace fs = std::filesystem;

// Fields PEFT writes for LoRA that we understand or that do not affect inference.
const std::set<std::string>& KnownFields() {
  static const std::set<std::string> k = {"alpha_pattern",
                                          "auto_mapping",
                                          "base_model_name_or_path",
                                          "bias",
                                          "fan_in_fan_out",
                                          "inference_mode",
                                          "init_lora_weights",
                                          "layers_pattern",
                                          "layers_to_transform",
                                          "lora_alpha",
                                          "lora_dropout",
                                          "modules_to_save",
                                          "peft_type",
                                          "r",
                                          "rank_pattern",
                                          "revision",
                                          "target_modules",
                                          "task_type",
                                          "use_dora",
                                          "use_rslora",
                                          "megatron_config",
                                          "megatron_core",
                                          "loftq_config",
                                          "layer_replication",
                                          "runtime_config",
                                          "eva_config",
                                          "exclude_modules",
                                          "lora_bias",
                                          "target_parameters",
                                          "trainable_token_indices",
                                          "corda_config",
                                          "use_qalora",
                                          "qalora_group_size",
                                          "peft_version",
                                          "lora_ga_config",
                                          "alora_invocation_tokens",
                                          "arrow_config",
                                          "ensure_weight_tying"};
  return k;
}

bool EndsWithComponent(const std::string& key, const std::string& name) {
  return key == name || (key.size() > name.size() &&
                         key.compare(key.size() - name.size(), name.size(), name) == 0 &&
                         key[key.size() - name.size() - 1] == '.');
}

Result<bool> RegexFullMatch(const std::string& pattern, const std::string& subject) {
  int err = 0;
  PCRE2_SIZE off = 0;
  pcre2_code* re =
      pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                    PCRE2_UTF | PCRE2_ANCHORED | PCRE2_ENDANCHORED, &err, &off, nullptr);
  if (re == nullptr) {
    PCRE2_UCHAR buf[256];
    pcre2_get_error_message(err, buf, sizeof(buf));
    return Status::InvalidArgument("target_modules regex '" + pattern + "' at offset " +
                                   std::to_string(off) + ": " + reinterpret_cast<char*>(buf));
  }
  pcre2_match_data* md = pcre2_match_data_create_from_pattern(re, nullptr);
  int rc = pcre2_match(re, reinterpret_cast<PCRE2_SPTR>(subject.data()), subject.size(), 0, 0, md,
                       nullptr);
  pcre2_match_data_free(md);
  pcre2_code_free(re);
  return rc >= 0;
}

// "model.layers.12.mlp.up_proj" -> 12, or -1.
int64_t LayerIndex(const std::string& key) {
  const std::string tag = "layers.";
  auto p = key.find(tag);
  if (p == std::string::npos) return -1;
  p += tag.size();
  int64_t v = 0;
  bool any = false;
  while (p < key.size() && std::isdigit(static_cast<unsigned char>(key[p]))) {
    v = v * 10 + (key[p++] - '0');
    any = true;
  }
  return any ? v : -1;
}

Result<LoraConfig> ParseLoraConfig(const Json& j, const std::string& what) {
  if (!j.is_object()) return Status::InvalidArgument(what + ": must be a JSON object");
  LoraConfig c;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!KnownFields().count(it.key())) {
      c.warnings.push_back(what + ": unknown field '" + it.key() + "' ignored");
    }
  }
  std::string peft_type = j.value("peft_type", std::string("LORA"));
  if (peft_type != "LORA") {
    return Status::NotSupported(what + ": peft_type '" + peft_type +
                                "' is not supported (LORA only)");
  }
  if (j.contains("task_type") && !j["task_type"].is_null()) {
    std::string t =
        j["task_type"].is_string() ? j["task_type"].get<std::string>() : j["task_type"].dump();
    if (t != "CAUSAL_LM") {
      c.warnings.push_back(what + ": task_type '" + t +
                           "' is not CAUSAL_LM; applying the adapter to the causal LM anyway");
    }
  }
  if (!j.contains("r")) return Status::InvalidArgument(what + ": missing field 'r'");
  if (!j["r"].is_number_integer() || j["r"].get<int64_t>() <= 0) {
    return Status::InvalidArgument(what + ": field 'r' must be a positive integer");
  }
  c.r = j["r"].get<int64_t>();
  c.lora_alpha = static_cast<double>(c.r);
  if (j.contains("lora_alpha")) {
    if (!j["lora_alpha"].is_number()) {
      return Status::InvalidArgument(what + ": field 'lora_alpha' must be a number");
    }
    c.lora_alpha = j["lora_alpha"].get<double>();
  }
  c.use_rslora = j.value("use_rslora", false);
  if (j.value("use_dora", false)) {
    return Status::NotSupported(what + ": use_dora=true (DoRA) is not supported");
  }
  std::string bias = j.value("bias", std::string("none"));
  if (bias != "none") {
    return Status::NotSupported(what + ": bias='" + bias + "' is not supported (only 'none')");
  }
  if (j.value("lora_bias", false)) {
    return Status::NotSupported(what + ": lora_bias=true is not supported");
  }
  if (j.value("fan_in_fan_out", false)) {
    // PEFT itself resets this for nn.Linear targets (Qwen3 has no Conv1D).
    c.warnings.push_back(what +
                         ": fan_in_fan_out=true does not apply to nn.Linear modules; "
                         "ignored, as PEFT does");
  }
  if (auto it = j.find("layer_replication"); it != j.end() && !it->is_null()) {
    return Status::NotSupported(what + ": layer_replication is not supported");
  }
  const Json& tm = j.contains("target_modules") ? j["target_modules"] : Json();
  if (tm.is_string()) {
    std::string s = tm.get<std::string>();
    if (s == "all-linear") {
      c.all_linear = true;
    } else {
      c.target_regex = s;
      CCG_ASSIGN_OR_RETURN(bool unused, RegexFullMatch(s, "x"));
      (void)unused;
    }
  } else if (tm.is_array()) {
    for (const auto& t : tm) {
      if (!t.is_string()) {
        return Status::InvalidArgument(what + ": target_modules entries must be strings");
      }
      c.target_names.push_back(t.get<std::string>());
    }
  } else if (!tm.is_null()) {
    return Status::InvalidArgument(what + ": target_modules must be a list, a string or null");
  } else {
    c.warnings.push_back(what + ": target_modules is null; using the tensors present");
    c.all_linear = true;
  }
  if (auto it = j.find("layers_to_transform"); it != j.end() && !it->is_null()) {
    std::vector<int64_t> layers;
    if (it->is_number_integer()) {
      layers.push_back(it->get<int64_t>());
    } else if (it->is_array()) {
      for (const auto& v : *it) {
        if (!v.is_number_integer()) {
          return Status::InvalidArgument(what + ": layers_to_transform must hold integers");
        }
        layers.push_back(v.get<int64_t>());
      }
    } else {
      return Status::InvalidArgument(what + ": layers_to_transform must be an int or a list");
    }
    c.layers_to_transform = layers;
  }
  for (const char* field : {"rank_pattern", "alpha_pattern"}) {
    auto it = j.find(field);
    if (it == j.end() || it->is_null()) continue;
    if (!it->is_object())
      return Status::InvalidArgument(what + ": " + field + " must be an object");
    for (auto p = it->begin(); p != it->end(); ++p) {
      if (!p->is_number()) {
        return Status::InvalidArgument(what + ": " + field + "['" + p.key() +
                                       "'] must be a number");
      }
      if (std::string(field) == "rank_pattern") {
        c.rank_pattern[p.key()] = p->get<int64_t>();
      } else {
        c.alpha_pattern[p.key()] = p->get<double>();
      }
    }
  }
  if (auto it = j.find("base_model_name_or_path"); it != j.end() && it->is_string()) {
    c.base_model_name_or_path = it->get<std::string>();
  }
  return c;
}

}  // namespace

Result<LoraConfig> LoraConfig::FromJson(const Json& j, const std::string& what) {
  try {
    return ParseLoraConfig(j, what);
  } catch (const Json::exception& e) {
    return Status::InvalidArgument(what + ": a field has the wrong type: " + e.what());
  }
}

Result<bool> LoraConfig::Targets(const std::string& key) const {
  if (layers_to_transform) {
    int64_t layer = LayerIndex(key);
    bool found = false;
    for (int64_t l : *layers_to_transform) found |= (l == layer);
    if (!found) return false;
  }
  if (all_linear) return true;
  if (target_regex) return RegexFullMatch(*target_regex, key);
  for (const auto& n : target_names) {
    if (EndsWithComponent(key, n)) return true;
  }
  return false;
}

int64_t LoraConfig::RankFor(const std::string& key) const {
  for (const auto& [pat, r] : rank_pattern) {
    if (EndsWithComponent(key, pat)) return r;
  }
  return r;
}

double LoraConfig::Scale(const std::string& key) const {
  double alpha = lora_alpha;
  for (const auto& [pat, a] : alpha_pattern) {
    if (EndsWithComponent(key, pat)) alpha = a;
  }
  const double rank = static_cast<double>(RankFor(key));
  return use_rslora ? alpha / std::sqrt(rank) : alpha / rank;
}

Result<std::unique_ptr<LoraAdapter>> LoraAdapter::Open(const std::string& dir) {
  auto adapter = std::make_unique<LoraAdapter>();
  adapter->dir_ = dir;
  const std::string cfg_path = (fs::path(dir) / "adapter_config.json").string();
  const std::string st_path = (fs::path(dir) / "adapter_model.safetensors").string();
  std::error_code ec;
  if (!fs::exists(cfg_path, ec)) {
    return Status::NotFound(dir + ": no adapter_config.json (is this a PEFT adapter folder?)");
  }
  if (!fs::exists(st_path, ec)) {
    if (fs::exists(fs::path(dir) / "adapter_model.bin", ec)) {
      return Status::NotSupported(dir +
                                  ": adapter_model.bin is a pickled PyTorch file, which "
                                  "ccguard does not load (it can run code); convert it "
                                  "to adapter_model.safetensors");
    }
    return Status::NotFound(dir + ": no adapter_model.safetensors");
  }
  CCG_ASSIGN_OR_RETURN(Json cfg_json, ReadJsonFile(cfg_path));
  CCG_ASSIGN_OR_RETURN(adapter->config_, LoraConfig::FromJson(cfg_json, cfg_path));
  CCG_ASSIGN_OR_RETURN(adapter->store_, WeightStore::OpenFile(st_path));
  LoraConfig& c = adapter->config_;

  // Pair up tensors. Names: base_model.model.<module>.lora_{A,B}[.<adapter>].weight
  const std::string prefix = "base_model.model.";
  for (const std::string& name : adapter->store_->Names()) {
    auto bad = [&](const std::string& why) {
      return Status::NotSupported(st_path + ": tensor '" + name + "': " + why);
    };
    if (name.find("lora_magnitude_vector") != std::string::npos) {
      return bad("DoRA magnitude vectors are not supported");
    }
    if (name.find("modules_to_save") != std::string::npos) {
      return bad("modules_to_save weights (fully trained copies of modules) are not supported");
    }
    if (name.find("lora_embedding_") != std::string::npos) {
      return bad("LoRA on embeddings is not supported");
    }
    std::string rest = name.rfind(prefix, 0) == 0 ? name.substr(prefix.size()) : name;
    size_t pa = rest.find(".lora_A."), pb = rest.find(".lora_B.");
    size_t pos = pa != std::string::npos ? pa : pb;
    if (pos == std::string::npos) {
      if (rest.size() > 5 && rest.compare(rest.size() - 5, 5, ".bias") == 0) {
        return bad("trained biases are not supported (bias must be 'none')");
      }
      return bad("not a LoRA A/B weight (expected <module>.lora_A.weight / .lora_B.weight)");
    }
    std::string tail = rest.substr(pos + 8);
    if (tail != "weight" && (tail.size() < 7 || tail.compare(tail.size() - 7, 7, ".weight") != 0)) {
      if (tail == "bias" || (tail.size() > 5 && tail.compare(tail.size() - 5, 5, ".bias") == 0)) {
        return bad("LoRA biases are not supported (lora_bias must be false)");
      }
      return bad("unexpected suffix '" + tail + "'");
    }
    std::string module = rest.substr(0, pos);
    const TensorView* t = adapter->store_->Find(name);
    if (t->shape.size() != 2) return bad("expected 2 dimensions, got " + t->ShapeString());
    if (t->dtype != DType::kF32 && t->dtype != DType::kBF16 && t->dtype != DType::kF16) {
      return bad(std::string("dtype ") + DTypeName(t->dtype) + " is not a float type");
    }
    LoraPair& p = adapter->modules_[module];
    (pa != std::string::npos ? p.a : p.b) = t;
  }
  if (adapter->modules_.empty()) {
    return Status::Corruption(st_path + ": no LoRA tensors found");
  }
  for (auto& [module, p] : adapter->modules_) {
    if (p.a == nullptr || p.b == nullptr) {
      return Status::Corruption(st_path + ": module '" + module + "' has lora_" +
                                (p.a ? "A" : "B") + " but no lora_" + (p.a ? "B" : "A"));
    }
    const int64_t r = c.RankFor(module);
    if (p.a->shape[0] != r || p.b->shape[1] != r) {
      return Status::InvalidArgument(
          st_path + ": module '" + module + "': lora_A " + p.a->ShapeString() + " and lora_B " +
          p.b->ShapeString() + " do not have rank r=" + std::to_string(r) + " from " + cfg_path);
    }
    CCG_ASSIGN_OR_RETURN(bool targeted, c.Targets(module));
    if (!targeted) {
      c.warnings.push_back(st_path + ": module '" + module +
                           "' has LoRA weights but is not in target_modules; applying them");
    }
    p.scale = c.Scale(module);
  }
  return adapter;
}

Status MergeLora(const TensorView& base, const LoraPair& lora, std::vector<float>* out) {
  if (base.shape.size() != 2) return Status::InvalidArgument(base.name + ": not a matrix");
  const int64_t n_out = base.shape[0], n_in = base.shape[1], r = lora.a->shape[0];
  if (lora.a->shape[1] != n_in || lora.b->shape[0] != n_out || lora.b->shape[1] != r) {
    return Status::InvalidArgument(
        "LoRA for '" + base.name + "' does not fit the base model: base " + base.ShapeString() +
        ", lora_A " + lora.a->ShapeString() + ", lora_B " + lora.b->ShapeString() +
        " (is the adapter for another base model?)");
  }
  out->resize(static_cast<size_t>(n_out * n_in));
  CCG_RETURN_IF_ERROR(ConvertToF32(base.dtype, base.data, out->size(), out->data()));
  std::vector<float> a(static_cast<size_t>(r * n_in)), b(static_cast<size_t>(n_out * r));
  CCG_RETURN_IF_ERROR(ConvertToF32(lora.a->dtype, lora.a->data, a.size(), a.data()));
  CCG_RETURN_IF_ERROR(ConvertToF32(lora.b->dtype, lora.b->data, b.size(), b.data()));
  const float scale = static_cast<float>(lora.scale);
  for (int64_t o = 0; o < n_out; ++o) {
    float* row = out->data() + o * n_in;
    for (int64_t k = 0; k < r; ++k) {
      const float coef = scale * b[o * r + k];
      const float* arow = a.data() + k * n_in;
      for (int64_t i = 0; i < n_in; ++i) row[i] += coef * arow[i];
    }
  }
  return Status::Ok();
}

}  // namespace ccguard

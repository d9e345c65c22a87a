#include "model/random_model.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <vector>

#include "util/json_file.h"
#include "weights/safetensors_writer.h"

namespace ccguard {
namespace {

namespace fs = std::filesystem;

constexpr const char* kVersion = "ccguard-bench-random-qwen3 v1";

// splitmix64: fast, and the same stream on every platform.
struct Rng {
  uint64_t state;
  uint64_t Next() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  // Uniform in [-a, a).
  float Uniform(float a) {
    return static_cast<float>(static_cast<double>(Next() >> 40) * 0x1p-23 - 1.0) * a;
  }
};

// A tensor of uniform values with standard deviation `stddev` (or all
// `constant` when stddev is 0).
TensorToWrite RandomTensor(const std::string& name, std::vector<int64_t> shape, DType dtype,
                           float stddev, Rng* rng, float constant = 0.f) {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  TensorToWrite t{name, dtype, std::move(shape), {}};
  t.bytes.resize(static_cast<size_t>(n) * DTypeSize(dtype));
  const float a = stddev * std::sqrt(3.f);
  for (int64_t i = 0; i < n; ++i) {
    const float v = stddev > 0 ? rng->Uniform(a) : constant;
    if (dtype == DType::kBF16) {
      const uint16_t b = F32ToBf16(v);
      std::memcpy(t.bytes.data() + i * 2, &b, 2);
    } else {
      std::memcpy(t.bytes.data() + i * 4, &v, 4);
    }
  }
  return t;
}

Status WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return Status::IOError(path + ": write failed");
  return Status::Ok();
}

Json ConfigJson(const RandomModelShape& s) {
  Json j{{"attention_bias", false},
         {"attention_dropout", 0.0},
         {"hidden_act", "silu"},
         {"hidden_size", s.hidden},
         {"initializer_range", 0.02},
         {"intermediate_size", s.intermediate},
         {"num_attention_heads", s.heads},
         {"num_hidden_layers", s.layers},
         {"num_key_value_heads", s.kv_heads},
         {"tie_word_embeddings", s.tied},
         {"torch_dtype", "bfloat16"},
         {"use_cache", true},
         {"vocab_size", s.vocab}};
  if (s.architecture == "qwen3") {
    j.update(Json{{"architectures", {"Qwen3ForCausalLM"}},
                  {"bos_token_id", 151643},
                  {"eos_token_id", 151645},
                  {"head_dim", s.head_dim},
                  {"max_position_embeddings", 40960},
                  {"max_window_layers", s.layers},
                  {"model_type", "qwen3"},
                  {"rms_norm_eps", 1e-6},
                  {"rope_scaling", nullptr},
                  {"rope_theta", 1000000},
                  {"sliding_window", nullptr},
                  {"use_sliding_window", false}});
  } else if (s.architecture == "llama") {
    j.update(Json{{"architectures", {"LlamaForCausalLM"}},
                  {"head_dim", s.head_dim},
                  {"max_position_embeddings", 131072},
                  {"mlp_bias", false},
                  {"model_type", "llama"},
                  {"rms_norm_eps", 1e-5},
                  {"rope_theta", 500000.0}});
  } else {  // granite: head_dim is hidden / heads
    j.update(Json{{"architectures", {"GraniteForCausalLM"}},
                  {"max_position_embeddings", 131072},
                  {"mlp_bias", false},
                  {"model_type", "granite"},
                  {"rms_norm_eps", 1e-5},
                  {"rope_theta", 10000000.0}});
  }
  j.update(s.extra_config);
  return j;
}

struct Linear {
  const char* name;
  int64_t out, in;
};

std::vector<Linear> Linears(const RandomModelShape& s) {
  const int64_t q = s.heads * s.head_dim, kv = s.kv_heads * s.head_dim;
  return {{"self_attn.q_proj", q, s.hidden},           {"self_attn.k_proj", kv, s.hidden},
          {"self_attn.v_proj", kv, s.hidden},          {"self_attn.o_proj", s.hidden, q},
          {"mlp.gate_proj", s.intermediate, s.hidden}, {"mlp.up_proj", s.intermediate, s.hidden},
          {"mlp.down_proj", s.hidden, s.intermediate}};
}

Status WriteModel(const fs::path& dir, const RandomModelShape& s, uint64_t seed) {
  const fs::path base = dir / "base", adapter = dir / "adapter";
  std::error_code ec;
  fs::create_directories(base, ec);
  if (s.adapter) fs::create_directories(adapter, ec);
  if (ec) return Status::IOError(dir.string() + ": cannot create: " + ec.message());
  CCG_RETURN_IF_ERROR(WriteText((base / "config.json").string(), ConfigJson(s).dump(2)));

  // Shards: the embedding (and final norm) first, then four layers each.
  const int64_t per_shard = 4;
  const int64_t shards = 1 + (s.layers + per_shard - 1) / per_shard;
  Json weight_map = Json::object();
  uint64_t total = 0;
  Rng rng{seed};
  // Norm weights: 1, or 1 + uniform noise.
  auto Norm = [&](const std::string& name, int64_t n) {
    TensorToWrite t = RandomTensor(name, {n}, DType::kBF16, 0, &rng, 1.f);
    if (s.norm_std > 0) {
      t = RandomTensor(name, {n}, DType::kBF16, s.norm_std, &rng);
      for (int64_t i = 0; i < n; ++i) {
        uint16_t b;
        std::memcpy(&b, t.bytes.data() + i * 2, 2);
        b = F32ToBf16(1.f + Bf16ToF32(b));
        std::memcpy(t.bytes.data() + i * 2, &b, 2);
      }
    }
    return t;
  };
  auto shard_name = [&](int64_t i) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "model-%05lld-of-%05lld.safetensors",
                  static_cast<long long>(i + 1), static_cast<long long>(shards));
    return std::string(buf);
  };
  for (int64_t sh = 0; sh < shards; ++sh) {
    std::vector<TensorToWrite> tensors;
    if (sh == 0) {
      tensors.push_back(RandomTensor("model.embed_tokens.weight", {s.vocab, s.hidden}, DType::kBF16,
                                     s.weight_std, &rng));
      if (!s.tied) {
        tensors.push_back(
            RandomTensor("lm_head.weight", {s.vocab, s.hidden}, DType::kBF16, s.weight_std, &rng));
      }
      tensors.push_back(Norm("model.norm.weight", s.hidden));
    } else {
      for (int64_t l = (sh - 1) * per_shard; l < std::min(s.layers, sh * per_shard); ++l) {
        const std::string p = "model.layers." + std::to_string(l) + ".";
        for (const Linear& lin : Linears(s)) {
          tensors.push_back(RandomTensor(p + lin.name + ".weight", {lin.out, lin.in}, DType::kBF16,
                                         s.weight_std, &rng));
        }
        for (const char* norm : {"input_layernorm", "post_attention_layernorm"}) {
          tensors.push_back(Norm(p + norm + ".weight", s.hidden));
        }
        if (s.architecture != "qwen3") continue;  // q/k norms are Qwen3's
        for (const char* norm : {"self_attn.q_norm", "self_attn.k_norm"}) {
          tensors.push_back(Norm(p + norm + ".weight", s.head_dim));
        }
      }
    }
    const std::string name = shard_name(sh);
    for (const auto& t : tensors) {
      weight_map[t.name] = name;
      total += t.bytes.size();
    }
    CCG_RETURN_IF_ERROR(WriteSafetensors((base / name).string(), tensors, {{"format", "pt"}}));
    std::fprintf(stderr, "  wrote %s (%lld/%lld)\n", name.c_str(), static_cast<long long>(sh + 1),
                 static_cast<long long>(shards));
  }
  Json index = {{"metadata", {{"total_size", total}}}, {"weight_map", weight_map}};
  CCG_RETURN_IF_ERROR(WriteText((base / "model.safetensors.index.json").string(), index.dump(2)));

  if (!s.adapter) return Status::Ok();
  // The adapter: lora_A [r, in], lora_B [out, r] for every linear layer.
  std::vector<TensorToWrite> lora;
  for (int64_t l = 0; l < s.layers; ++l) {
    for (const Linear& lin : Linears(s)) {
      const std::string p = "base_model.model.model.layers." + std::to_string(l) + "." + lin.name;
      lora.push_back(
          RandomTensor(p + ".lora_A.weight", {s.lora_rank, lin.in}, DType::kF32, 0.02f, &rng));
      lora.push_back(
          RandomTensor(p + ".lora_B.weight", {lin.out, s.lora_rank}, DType::kF32, 0.02f, &rng));
    }
  }
  CCG_RETURN_IF_ERROR(WriteSafetensors((adapter / "adapter_model.safetensors").string(), lora));
  Json acfg = {{"peft_type", "LORA"},
               {"task_type", "CAUSAL_LM"},
               {"r", s.lora_rank},
               {"lora_alpha", 2 * s.lora_rank},
               {"lora_dropout", 0.0},
               {"bias", "none"},
               {"use_rslora", false},
               {"use_dora", false},
               {"fan_in_fan_out", false},
               {"inference_mode", true},
               {"base_model_name_or_path", "random-qwen3-1.7b"},
               {"target_modules",
                {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}}};
  return WriteText((adapter / "adapter_config.json").string(), acfg.dump(2));
}

}  // namespace

Result<RandomModelShape> RandomModelShapeFromJson(const Json& j, uint64_t* seed) {
  if (!j.is_object()) return Status::InvalidArgument("random model spec: not a JSON object");
  RandomModelShape s;
  *seed = 1;
  try {
    for (const auto& [key, v] : j.items()) {
      if (key == "architecture")
        s.architecture = v.get<std::string>();
      else if (key == "vocab")
        s.vocab = v.get<int64_t>();
      else if (key == "hidden")
        s.hidden = v.get<int64_t>();
      else if (key == "intermediate")
        s.intermediate = v.get<int64_t>();
      else if (key == "layers")
        s.layers = v.get<int64_t>();
      else if (key == "heads")
        s.heads = v.get<int64_t>();
      else if (key == "kv_heads")
        s.kv_heads = v.get<int64_t>();
      else if (key == "head_dim")
        s.head_dim = v.get<int64_t>();
      else if (key == "lora_rank")
        s.lora_rank = v.get<int64_t>();
      else if (key == "tied")
        s.tied = v.get<bool>();
      else if (key == "adapter")
        s.adapter = v.get<bool>();
      else if (key == "weight_std")
        s.weight_std = v.get<float>();
      else if (key == "norm_std")
        s.norm_std = v.get<float>();
      else if (key == "extra_config")
        s.extra_config = v;
      else if (key == "seed")
        *seed = v.get<uint64_t>();
      else
        return Status::InvalidArgument("random model spec: unknown field '" + key + "'");
    }
  } catch (const Json::exception& e) {
    return Status::InvalidArgument(std::string("random model spec: a field has the wrong type: ") +
                                   e.what());
  }
  if (!s.extra_config.is_object()) {
    return Status::InvalidArgument("random model spec: 'extra_config' must be an object");
  }
  for (int64_t v : {s.vocab, s.hidden, s.intermediate, s.layers, s.heads, s.kv_heads, s.head_dim}) {
    if (v <= 0 || v > (int64_t{1} << 24)) {
      return Status::InvalidArgument("random model spec: sizes must be in [1, 2^24]");
    }
  }
  return s;
}

int64_t LinearParams(const RandomModelShape& s) {
  int64_t n = 0;
  for (const Linear& lin : Linears(s)) n += lin.out * lin.in;
  return n * s.layers;
}

Status EnsureRandomModel(const std::string& dir, const std::string& tokenizer_dir,
                         const RandomModelShape& shape, uint64_t seed) {
  const fs::path root(dir), marker = root / "COMPLETE";
  if (auto have = ReadJsonFile(marker.string());
      have.ok() && have->value("version", "") == kVersion) {
    return Status::Ok();
  }
  if (shape.architecture != "qwen3" && shape.architecture != "llama" &&
      shape.architecture != "granite") {
    return Status::InvalidArgument("random model: architecture '" + shape.architecture +
                                   "' is not one of qwen3, llama, granite");
  }
  for (const char* f : {"tokenizer.json", "tokenizer_config.json"}) {
    std::error_code ec;
    if (tokenizer_dir.empty()) break;
    if (!fs::exists(fs::path(tokenizer_dir) / f, ec)) {
      return Status::NotFound("tokenizer folder '" + tokenizer_dir + "' has no " + f +
                              " (the random model needs the Qwen3 tokenizer)");
    }
  }
  std::fprintf(stderr, "writing a random %s model (%lld layers, hidden %lld) to %s\n",
               shape.architecture.c_str(), static_cast<long long>(shape.layers),
               static_cast<long long>(shape.hidden), dir.c_str());
  std::error_code ec;
  fs::remove(marker, ec);
  CCG_RETURN_IF_ERROR(WriteModel(root, shape, seed));
  for (const char* f : {"tokenizer.json", "tokenizer_config.json"}) {
    if (tokenizer_dir.empty()) break;
    fs::copy_file(fs::path(tokenizer_dir) / f, root / "base" / f,
                  fs::copy_options::overwrite_existing, ec);
    if (ec) return Status::IOError(std::string(f) + ": cannot copy: " + ec.message());
  }
  return WriteText(marker.string(), Json{{"version", kVersion}, {"seed", seed}}.dump());
}

}  // namespace ccguard

// PEFT LoRA: config parsing (liberal), tensor validation (strict), merging,
// and every refusal the adapter loader promises.
#include "model/lora.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "model/decoder_model.h"
#include "weights/safetensors_writer.h"

namespace ccguard {
namespace {

namespace fs = std::filesystem;
const std::string kFix = CCGUARD_FIXTURES;

Json BaseConfig() { return *ReadJsonFile(kFix + "/tiny-a/adapter/adapter_config.json"); }

// A temp adapter folder with `config` and the given tensors.
std::string MakeAdapter(const std::string& name, const Json& config,
                        const std::vector<TensorToWrite>& tensors) {
  fs::path dir = fs::path(::testing::TempDir()) / ("lora_test_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "adapter_config.json") << config.dump(2);
  EXPECT_TRUE(WriteSafetensors((dir / "adapter_model.safetensors").string(), tensors).ok());
  return dir.string();
}

std::vector<TensorToWrite> QPair(int layer, int64_t r, int64_t in = 32, int64_t out = 64) {
  const std::string p =
      "base_model.model.model.layers." + std::to_string(layer) + ".self_attn.q_proj.";
  return {F32Tensor(p + "lora_A.weight", {r, in}, std::vector<float>(r * in, 0.01f)),
          F32Tensor(p + "lora_B.weight", {out, r}, std::vector<float>(out * r, 0.02f))};
}

Status OpenStatus(const std::string& dir) {
  auto a = LoraAdapter::Open(dir);
  return a.ok() ? Status::Ok() : a.status();
}

TEST(LoraTest, FixtureAdapterLoads) {
  auto a = LoraAdapter::Open(kFix + "/tiny-a/adapter");
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ((*a)->modules().size(), 14u);  // 7 projections x 2 layers
  for (const auto& [k, p] : (*a)->modules()) EXPECT_DOUBLE_EQ(p.scale, 2.0) << k;
  EXPECT_TRUE((*a)->warnings().empty());
}

TEST(LoraTest, ScalesAndTargets) {
  Json j = BaseConfig();
  j["use_rslora"] = true;
  j["r"] = 16;
  j["lora_alpha"] = 32;
  auto c = LoraConfig::FromJson(j, "cfg");
  ASSERT_TRUE(c.ok());
  EXPECT_DOUBLE_EQ(c->Scale("model.layers.0.self_attn.q_proj"), 32.0 / 4.0);
  j["use_rslora"] = false;
  j["rank_pattern"] = {{"v_proj", 4}};
  j["alpha_pattern"] = {{"v_proj", 8}};
  c = LoraConfig::FromJson(j, "cfg");
  ASSERT_TRUE(c.ok());
  EXPECT_DOUBLE_EQ(c->Scale("model.layers.0.self_attn.q_proj"), 2.0);
  EXPECT_DOUBLE_EQ(c->Scale("model.layers.0.self_attn.v_proj"), 2.0);
  EXPECT_EQ(c->RankFor("model.layers.0.self_attn.v_proj"), 4);
  EXPECT_TRUE(*c->Targets("model.layers.1.mlp.down_proj"));
  EXPECT_FALSE(*c->Targets("model.layers.1.mlp.down_projx"));

  j["target_modules"] = ".*\\.(q_proj|v_proj)";
  c = LoraConfig::FromJson(j, "cfg");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(*c->Targets("model.layers.3.self_attn.q_proj"));
  EXPECT_FALSE(*c->Targets("model.layers.3.self_attn.k_proj"));
  j["target_modules"] = "all-linear";
  j["layers_to_transform"] = {1};
  c = LoraConfig::FromJson(j, "cfg");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(*c->Targets("model.layers.1.mlp.up_proj"));
  EXPECT_FALSE(*c->Targets("model.layers.0.mlp.up_proj"));
  j["target_modules"] = "([unclosed";
  EXPECT_NE(LoraConfig::FromJson(j, "cfg").status().message().find("target_modules regex"),
            std::string::npos);
}

TEST(LoraTest, LiberalWithConfig) {
  Json j = BaseConfig();
  j["task_type"] = "SEQ_CLS";
  j["some_future_field"] = 1;
  j["fan_in_fan_out"] = true;
  auto c = LoraConfig::FromJson(j, "cfg");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  std::string all;
  for (const auto& w : c->warnings) all += w + "\n";
  EXPECT_NE(all.find("task_type 'SEQ_CLS'"), std::string::npos) << all;
  EXPECT_NE(all.find("some_future_field"), std::string::npos);
  EXPECT_NE(all.find("fan_in_fan_out"), std::string::npos);
}

TEST(LoraTest, RefusesUnsupportedConfig) {
  struct Case {
    const char* field;
    Json value;
    const char* expect;
  } cases[] = {{"use_dora", true, "use_dora"},
               {"bias", "all", "bias='all'"},
               {"bias", "lora_only", "bias='lora_only'"},
               {"peft_type", "IA3", "peft_type 'IA3'"},
               {"r", 0, "'r'"},
               {"r", "8", "'r'"},
               {"lora_alpha", "x", "lora_alpha"},
               {"target_modules", 5, "target_modules"}};
  for (const auto& c : cases) {
    Json j = BaseConfig();
    j[c.field] = c.value;
    auto r = LoraConfig::FromJson(j, "adapter_config.json");
    ASSERT_FALSE(r.ok()) << c.field;
    EXPECT_NE(r.status().message().find(c.expect), std::string::npos) << r.status().message();
    EXPECT_NE(r.status().message().find("adapter_config.json"), std::string::npos);
  }
}

TEST(LoraTest, RefusesUnsupportedTensors) {
  Json j = BaseConfig();
  auto with = [&](const std::string& extra_name, std::vector<int64_t> shape) {
    auto t = QPair(0, 8);
    int64_t n = 1;
    for (auto d : shape) n *= d;
    t.push_back(F32Tensor(extra_name, shape, std::vector<float>(n, 0.f)));
    return t;
  };
  struct Case {
    std::string tensor;
    std::vector<int64_t> shape;
    const char* expect;
  } cases[] = {
      {"base_model.model.model.layers.0.self_attn.q_proj.lora_magnitude_vector", {64}, "DoRA"},
      {"base_model.model.lm_head.modules_to_save.default.weight", {151936, 32}, "modules_to_save"},
      {"base_model.model.model.layers.0.self_attn.q_proj.bias", {64}, "biases"},
      {"base_model.model.model.embed_tokens.lora_embedding_A", {8, 151936}, "embeddings"},
      {"base_model.model.model.layers.0.self_attn.q_proj.lora_B.bias", {64}, "LoRA biases"},
      {"base_model.model.something_else.weight", {2, 2}, "not a LoRA"},
  };
  for (const auto& c : cases) {
    Status s = OpenStatus(MakeAdapter("bad", j, with(c.tensor, c.shape)));
    ASSERT_FALSE(s.ok()) << c.tensor;
    EXPECT_NE(s.message().find(c.expect), std::string::npos) << s.message();
    EXPECT_NE(s.message().find(c.tensor), std::string::npos) << s.message();
  }
}

TEST(LoraTest, RefusesPickleAndMissingFiles) {
  fs::path dir = fs::path(::testing::TempDir()) / "lora_test_pickle";
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "adapter_config.json") << BaseConfig().dump();
  std::ofstream(dir / "adapter_model.bin") << "PK\x03\x04 pickled";
  Status s = OpenStatus(dir.string());
  EXPECT_EQ(s.code(), Status::Code::kNotSupported);
  EXPECT_NE(s.message().find("adapter_model.bin"), std::string::npos);
  fs::remove(dir / "adapter_model.bin");
  EXPECT_EQ(OpenStatus(dir.string()).code(), Status::Code::kNotFound);
  fs::remove(dir / "adapter_config.json");
  EXPECT_NE(OpenStatus(dir.string()).message().find("adapter_config.json"), std::string::npos);
}

TEST(LoraTest, RefusesBrokenPairsAndRanks) {
  Json j = BaseConfig();
  auto half = QPair(0, 8);
  half.pop_back();
  Status s = OpenStatus(MakeAdapter("half", j, half));
  EXPECT_NE(s.message().find("has lora_A but no lora_B"), std::string::npos) << s.message();
  s = OpenStatus(MakeAdapter("rank", j, QPair(0, 4)));
  EXPECT_NE(s.message().find("rank r=8"), std::string::npos) << s.message();
}

// An adapter made for another base model (different hidden size or more
// layers) is refused when bound to the model, naming the tensor.
TEST(LoraTest, RefusesAdapterForAnotherBaseModel) {
  Json j = BaseConfig();
  auto a =
      LoraAdapter::Open(MakeAdapter("other_hidden", j, QPair(0, 8, /*in=*/2048, /*out=*/2048)));
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  auto m = DecoderModel::Load(kFix + "/tiny-a/base", a->get());
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("model.layers.0.self_attn.q_proj"), std::string::npos)
      << m.status().message();
  EXPECT_NE(m.status().message().find("another base model"), std::string::npos);

  a = LoraAdapter::Open(MakeAdapter("other_layers", j, QPair(27, 8)));
  ASSERT_TRUE(a.ok());
  m = DecoderModel::Load(kFix + "/tiny-a/base", a->get());
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("model.layers.27.self_attn.q_proj"), std::string::npos)
      << m.status().message();
}

TEST(LoraTest, MergeIsWPlusScaledBA) {
  auto base = F32Tensor("w", {2, 3}, {1, 2, 3, 4, 5, 6});
  auto ta = F32Tensor("a", {1, 3}, {1, 0, -1});
  auto tb = F32Tensor("b", {2, 1}, {2, 3});
  auto tv = [](const TensorToWrite& t) {
    TensorView v;
    v.name = t.name;
    v.dtype = t.dtype;
    v.shape = t.shape;
    v.data = t.bytes.data();
    v.nbytes = t.bytes.size();
    return v;
  };
  TensorView w = tv(base), a = tv(ta), b = tv(tb);
  LoraPair p{&a, &b, 0.5};
  std::vector<float> out;
  ASSERT_TRUE(MergeLora(w, p, &out).ok());
  EXPECT_EQ(out, (std::vector<float>{2, 2, 2, 5.5f, 5, 4.5f}));
}

}  // namespace
}  // namespace ccguard

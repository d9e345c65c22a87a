#include "model/config.h"

#include <gtest/gtest.h>

namespace ccguard {
namespace {

Json Tiny() { return *ReadJsonFile(std::string(CCGUARD_FIXTURES) + "/tiny-a/base/config.json"); }

TEST(ConfigTest, ReadsFixture) {
  auto c = ModelConfig::FromJson(Tiny(), "config.json");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->hidden_size, 32);
  EXPECT_EQ(c->head_dim, 16);  // not hidden / heads (= 8)
  EXPECT_EQ(c->kv_dim(), 32);
  EXPECT_EQ(c->q_dim(), 64);
  EXPECT_DOUBLE_EQ(c->rope.theta, 1e6);
  EXPECT_EQ(c->rope.llama3_factor, 0);
  EXPECT_EQ(c->architecture, Architecture::kQwen3);
  EXPECT_TRUE(c->qk_norm);
  EXPECT_TRUE(c->tie_word_embeddings);
}

TEST(ConfigTest, RopeThetaInRopeParameters) {
  Json j = Tiny();
  j.erase("rope_theta");
  EXPECT_FALSE(ModelConfig::FromJson(j, "c").ok());
  j["rope_parameters"] = {{"rope_type", "default"}, {"rope_theta", 5e5}};
  auto c = ModelConfig::FromJson(j, "c");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_DOUBLE_EQ(c->rope.theta, 5e5);
  j["rope_parameters"]["rope_type"] = "yarn";
  EXPECT_EQ(ModelConfig::FromJson(j, "c").status().code(), Status::Code::kNotSupported);
}

TEST(ConfigTest, RefusesOtherArchitectures) {
  Json j = Tiny();
  j["model_type"] = "mistral";
  j["architectures"] = {"MistralForCausalLM"};
  auto c = ModelConfig::FromJson(j, "config.json");
  EXPECT_EQ(c.status().code(), Status::Code::kNotSupported);
  EXPECT_NE(c.status().message().find("MistralForCausalLM"), std::string::npos);
  EXPECT_NE(c.status().message().find("GraniteForCausalLM"), std::string::npos);  // the list
  j.erase("model_type");
  EXPECT_EQ(ModelConfig::FromJson(j, "c").status().code(), Status::Code::kNotSupported);
  j["model_type"] = "llama";
  j["architectures"] = {"Qwen3ForCausalLM"};
  EXPECT_NE(ModelConfig::FromJson(j, "c").status().message().find("contradicts"),
            std::string::npos);
  j = Tiny();
  j["model_type"] = "qwen3_moe";
  EXPECT_NE(ModelConfig::FromJson(j, "c").status().message().find("qwen3_moe"), std::string::npos);
}

TEST(ConfigTest, FieldErrorsNameTheField) {
  struct Case {
    const char* field;
    Json value;
  } cases[] = {{"hidden_size", "32"},
               {"hidden_size", -1},
               {"num_key_value_heads", 3},
               {"rms_norm_eps", "x"},
               {"tie_word_embeddings", 1},
               {"use_sliding_window", true},
               {"attention_bias", true},
               {"hidden_act", "gelu"},
               {"rope_scaling", {{"rope_type", "yarn"}}},
               {"rope_scaling", {{"rope_type", "llama3"}, {"factor", 8}}},  // Qwen3: no
               {"mlp_bias", true},
               {"num_experts", 8},
               {"final_logit_softcapping", 30.0},
               {"logits_scaling", 8.0},  // a Granite field
               // Absurd sizes are refused by name before anything is allocated.
               {"num_hidden_layers", 100000000},
               {"num_hidden_layers", 1e8},
               {"vocab_size", int64_t{1} << 40},
               {"intermediate_size", int64_t{1} << 32},
               {"head_dim", int64_t{1} << 30},
               {"max_position_embeddings", int64_t{1} << 40}};
  for (const auto& c : cases) {
    Json j = Tiny();
    j[c.field] = c.value;
    auto r = ModelConfig::FromJson(j, "config.json");
    ASSERT_FALSE(r.ok()) << c.field;
    EXPECT_TRUE(r.status().message().find(c.field) != std::string::npos ||
                r.status().message().find("num_attention_heads") != std::string::npos)
        << r.status().message();
  }
  Json j = Tiny();
  j.erase("vocab_size");
  EXPECT_NE(ModelConfig::FromJson(j, "c").status().message().find("vocab_size"), std::string::npos);
}

// Llama Guard 3 1B's config.json fields (as published, tokens ids aside).
Json LlamaGuard3() {
  return Json::parse(R"json({
    "architectures": ["LlamaForCausalLM"], "attention_bias": false, "attention_dropout": 0.0,
    "bos_token_id": 128000, "eos_token_id": [128001, 128008, 128009], "head_dim": 64,
    "hidden_act": "silu", "hidden_size": 2048, "initializer_range": 0.02,
    "intermediate_size": 8192, "max_position_embeddings": 131072, "mlp_bias": false,
    "model_type": "llama", "num_attention_heads": 32, "num_hidden_layers": 16,
    "num_key_value_heads": 8, "pretraining_tp": 1, "rms_norm_eps": 1e-05,
    "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                     "original_max_position_embeddings": 8192, "rope_type": "llama3"},
    "rope_theta": 500000.0, "tie_word_embeddings": false, "torch_dtype": "bfloat16",
    "use_cache": true, "vocab_size": 128256})json");
}

TEST(ConfigTest, Llama) {
  auto c = ModelConfig::FromJson(LlamaGuard3(), "config.json");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->architecture, Architecture::kLlama);
  EXPECT_FALSE(c->qk_norm);
  EXPECT_FALSE(c->tie_word_embeddings);
  EXPECT_EQ(c->head_dim, 64);
  EXPECT_EQ(c->rope, (kernels::RopeSpec{500000.0, 32.0, 1.0, 4.0, 8192.0}));
  EXPECT_EQ(c->embedding_multiplier, 1);
  EXPECT_EQ(c->attention_multiplier, 0);
  Json j = LlamaGuard3();
  j["rope_scaling"]["high_freq_factor"] = 1.0;
  EXPECT_NE(ModelConfig::FromJson(j, "c").status().message().find("high_freq_factor"),
            std::string::npos);
  j = LlamaGuard3();
  j["rope_scaling"] = {{"type", "linear"}, {"factor", 2.0}};
  EXPECT_NE(ModelConfig::FromJson(j, "c").status().message().find("rope_scaling.type 'linear'"),
            std::string::npos);
  j = LlamaGuard3();
  j["sliding_window"] = 4096;
  EXPECT_NE(ModelConfig::FromJson(j, "c").status().message().find("sliding_window"),
            std::string::npos);
}

TEST(ConfigTest, Granite) {
  Json j = Json::parse(R"json({
    "architectures": ["GraniteForCausalLM"], "attention_bias": false, "attention_dropout": 0.1,
    "attention_multiplier": 0.015625, "embedding_multiplier": 12.0, "hidden_act": "silu",
    "hidden_size": 2048, "intermediate_size": 8192, "logits_scaling": 8.0,
    "max_position_embeddings": 131072, "mlp_bias": false, "model_type": "granite",
    "num_attention_heads": 32, "num_hidden_layers": 40, "num_key_value_heads": 8,
    "residual_multiplier": 0.22, "rms_norm_eps": 1e-05, "rope_scaling": null,
    "rope_theta": 10000000.0, "tie_word_embeddings": true, "vocab_size": 49155})json");
  auto c = ModelConfig::FromJson(j, "config.json");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->architecture, Architecture::kGranite);
  EXPECT_EQ(c->head_dim, 64);  // hidden / heads
  EXPECT_FALSE(c->qk_norm);
  EXPECT_EQ(c->embedding_multiplier, 12.0);
  EXPECT_EQ(c->attention_multiplier, 0.015625);
  EXPECT_EQ(c->residual_multiplier, 0.22);
  EXPECT_EQ(c->logits_scaling, 8.0);
  EXPECT_EQ(c->rope.llama3_factor, 0);
  j["logits_scaling"] = -1;
  EXPECT_NE(ModelConfig::FromJson(j, "c").status().message().find("logits_scaling"),
            std::string::npos);
}

}  // namespace
}  // namespace ccguard

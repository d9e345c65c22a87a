#include "model/config.h"

#include <gtest/gtest.h>

namespace ccguard {
namespace {

Json Tiny() { return *ReadJsonFile(std::string(CCGUARD_FIXTURES) + "/tiny-a/base/config.json"); }

TEST(ConfigTest, ReadsFixture) {
  auto c = Qwen3Config::FromJson(Tiny(), "config.json");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->hidden_size, 32);
  EXPECT_EQ(c->head_dim, 16);  // not hidden / heads (= 8)
  EXPECT_EQ(c->kv_dim(), 32);
  EXPECT_EQ(c->q_dim(), 64);
  EXPECT_DOUBLE_EQ(c->rope_theta, 1e6);
  EXPECT_TRUE(c->tie_word_embeddings);
}

TEST(ConfigTest, RopeThetaInRopeParameters) {
  Json j = Tiny();
  j.erase("rope_theta");
  EXPECT_FALSE(Qwen3Config::FromJson(j, "c").ok());
  j["rope_parameters"] = {{"rope_type", "default"}, {"rope_theta", 5e5}};
  auto c = Qwen3Config::FromJson(j, "c");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_DOUBLE_EQ(c->rope_theta, 5e5);
  j["rope_parameters"]["rope_type"] = "yarn";
  EXPECT_EQ(Qwen3Config::FromJson(j, "c").status().code(), Status::Code::kNotSupported);
}

TEST(ConfigTest, RefusesOtherArchitectures) {
  Json j = Tiny();
  j["model_type"] = "llama";
  j["architectures"] = {"LlamaForCausalLM"};
  auto c = Qwen3Config::FromJson(j, "config.json");
  EXPECT_EQ(c.status().code(), Status::Code::kNotSupported);
  EXPECT_NE(c.status().message().find("LlamaForCausalLM"), std::string::npos);
  j = Tiny();
  j["model_type"] = "qwen3_moe";
  EXPECT_NE(Qwen3Config::FromJson(j, "c").status().message().find("qwen3_moe"), std::string::npos);
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
    auto r = Qwen3Config::FromJson(j, "config.json");
    ASSERT_FALSE(r.ok()) << c.field;
    EXPECT_TRUE(r.status().message().find(c.field) != std::string::npos ||
                r.status().message().find("num_attention_heads") != std::string::npos)
        << r.status().message();
  }
  Json j = Tiny();
  j.erase("vocab_size");
  EXPECT_NE(Qwen3Config::FromJson(j, "c").status().message().find("vocab_size"), std::string::npos);
}

}  // namespace
}  // namespace ccguard

// DecoderModel::Load refusals: every tensor config.json implies must be present
// with its shape and a float dtype; sharded folders load like single files.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include "model/decoder_model.h"
#include "util/json_file.h"
#include "weights/safetensors_writer.h"

namespace ccguard {
namespace {

namespace fs = std::filesystem;
const std::string kBase = std::string(CCGUARD_FIXTURES) + "/tiny-a/base";

// Copies the fixture's tensors, letting `edit` drop or change some, into a
// new model folder (config.json copied alongside).
std::string MakeModel(const std::string& name, const std::function<bool(TensorToWrite*)>& edit) {
  auto store = WeightStore::OpenModelDir(kBase);
  EXPECT_TRUE(store.ok());
  std::vector<TensorToWrite> tensors;
  for (const auto& n : (*store)->Names()) {
    const TensorView* v = (*store)->Find(n);
    TensorToWrite t{n, v->dtype, v->shape, std::vector<uint8_t>(v->data, v->data + v->nbytes)};
    if (edit(&t)) tensors.push_back(std::move(t));
  }
  fs::path dir = fs::path(::testing::TempDir()) / ("decoder_model_load_test_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  fs::copy_file(kBase + "/config.json", dir / "config.json");
  EXPECT_TRUE(WriteSafetensors((dir / "model.safetensors").string(), tensors).ok());
  return dir.string();
}

Status LoadStatus(const std::string& dir) {
  auto m = DecoderModel::Load(dir, nullptr);
  return m.ok() ? Status::Ok() : m.status();
}

TEST(DecoderModelLoadTest, MissingTensor) {
  const std::string t = "model.layers.1.mlp.up_proj.weight";
  Status s = LoadStatus(MakeModel("missing", [&](TensorToWrite* w) { return w->name != t; }));
  EXPECT_EQ(s.code(), Status::Code::kNotFound);
  EXPECT_NE(s.message().find(t), std::string::npos) << s.message();
}

TEST(DecoderModelLoadTest, WrongShape) {
  const std::string t = "model.layers.0.self_attn.k_norm.weight";
  Status s = LoadStatus(MakeModel("shape", [&](TensorToWrite* w) {
    if (w->name == t) {
      w->shape = {8};
      w->bytes.resize(16);
    }
    return true;
  }));
  EXPECT_NE(s.message().find(t), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("[8]"), std::string::npos);
  EXPECT_NE(s.message().find("[16]"), std::string::npos);
}

TEST(DecoderModelLoadTest, NonFloatDtype) {
  const std::string t = "model.norm.weight";
  Status s = LoadStatus(MakeModel("dtype", [&](TensorToWrite* w) {
    if (w->name == t) {
      w->dtype = DType::kI16;
    }
    return true;
  }));
  EXPECT_EQ(s.code(), Status::Code::kNotSupported);
  EXPECT_NE(s.message().find("I16"), std::string::npos) << s.message();
}

TEST(DecoderModelLoadTest, UntiedHeadRequiresLmHead) {
  std::string dir = MakeModel("untied", [](TensorToWrite*) { return true; });
  Json cfg = *ReadJsonFile(dir + "/config.json");
  cfg["tie_word_embeddings"] = false;
  std::ofstream(dir + "/config.json") << cfg.dump();
  Status s = LoadStatus(dir);
  EXPECT_NE(s.message().find("lm_head.weight"), std::string::npos) << s.message();
}

TEST(DecoderModelLoadTest, ConfigShapeMismatch) {
  std::string dir = MakeModel("hidden", [](TensorToWrite*) { return true; });
  Json cfg = *ReadJsonFile(dir + "/config.json");
  cfg["intermediate_size"] = 128;
  std::ofstream(dir + "/config.json") << cfg.dump();
  Status s = LoadStatus(dir);
  EXPECT_NE(s.message().find("config.json implies"), std::string::npos) << s.message();
}

TEST(DecoderModelLoadTest, RewrittenCopyLoadsCleanly) {
  auto m = DecoderModel::Load(MakeModel("extra", [](TensorToWrite*) { return true; }), nullptr);
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE((*m)->warnings().empty());
}

// An adapter trained on another base model merges wherever the shapes fit:
// the load says so, naming both (config.json's _name_or_path, or the Hub
// repo of a cache snapshot folder, against base_model_name_or_path).
TEST(DecoderModelLoadTest, WarnsWhenTheAdapterIsForAnotherModel) {
  const fs::path root = fs::path(::testing::TempDir()) / "decoder_model_load_test_adapter_base";
  fs::remove_all(root);
  const fs::path adapter = root / "adapter";
  fs::create_directories(adapter);
  fs::copy_file(std::string(CCGUARD_FIXTURES) + "/tiny-a/adapter/adapter_model.safetensors",
                adapter / "adapter_model.safetensors");
  Json acfg = *ReadJsonFile(std::string(CCGUARD_FIXTURES) + "/tiny-a/adapter/adapter_config.json");
  acfg["base_model_name_or_path"] = "Qwen/Qwen3-1.7B";
  std::ofstream((adapter / "adapter_config.json").string()) << acfg.dump();
  auto lora = LoraAdapter::Open(adapter.string());
  ASSERT_TRUE(lora.ok()) << lora.status().ToString();

  auto warned = [&](const fs::path& model_dir, const std::string& name_or_path) {
    fs::create_directories(model_dir);
    fs::copy_file(kBase + "/model.safetensors", model_dir / "model.safetensors",
                  fs::copy_options::overwrite_existing);
    Json cfg = *ReadJsonFile(kBase + "/config.json");
    if (!name_or_path.empty()) cfg["_name_or_path"] = name_or_path;
    std::ofstream((model_dir / "config.json").string()) << cfg.dump();
    auto m = DecoderModel::Load(model_dir.string(), lora->get());
    EXPECT_TRUE(m.ok()) << m.status().ToString();
    for (const auto& w : (*m)->warnings()) {
      if (w.find("the adapter was trained on 'Qwen/Qwen3-1.7B'") != std::string::npos) return w;
    }
    return std::string();
  };
  const std::string w = warned(root / "dynaguard", "tomg-group-umd/DynaGuard-1.7B");
  EXPECT_NE(w.find("but the model is 'tomg-group-umd/DynaGuard-1.7B'"), std::string::npos) << w;
  EXPECT_EQ(warned(root / "same", "Qwen/Qwen3-1.7B"), "");
  EXPECT_EQ(warned(root / "local", "/models/qwen3-1.7b/"), "");  // the same name, a path
  EXPECT_EQ(warned(root / "unnamed", ""), "");                   // nothing to compare
  const fs::path snapshot = root / "models--tomg-group-umd--DynaGuard-1.7B" / "snapshots" / "abc";
  EXPECT_NE(warned(snapshot, "").find("'tomg-group-umd/DynaGuard-1.7B'"), std::string::npos);
}

}  // namespace
}  // namespace ccguard

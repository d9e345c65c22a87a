#include "hub/repo_files.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "hub/fake_hub.h"

namespace ccguard::hub {
namespace {

namespace fs = std::filesystem;
using Files = std::vector<std::string>;

TEST(RepoFilesTest, SelectsWhatExistsAmongTheWantedFiles) {
  auto r = SelectFiles({"README.md", "model.safetensors", "config.json", "tokenizer.json",
                        "merges.txt", "pytorch_model.bin", ".gitattributes"},
                       "org/m");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, (Files{"config.json", "tokenizer.json", "model.safetensors"}));
  // Sharded: the index, whose shards are read later.
  r = SelectFiles({"config.json", "generation_config.json", "model.safetensors.index.json",
                   "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors",
                   "tokenizer.json", "tokenizer_config.json"},
                  "Qwen/Qwen3-1.7B");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, (Files{"config.json", "generation_config.json", "tokenizer_config.json",
                       "tokenizer.json", "model.safetensors.index.json"}));
  // Both: the single file wins, the index is not needed.
  r = SelectFiles({"model.safetensors", "model.safetensors.index.json"}, "org/m");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, Files{"model.safetensors"});
  r = SelectFiles({"adapter_config.json", "adapter_model.safetensors", "chat_template.jinja",
                   "special_tokens_map.json", "README.md"},
                  "org/a");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, (Files{"chat_template.jinja", "special_tokens_map.json", "adapter_config.json",
                       "adapter_model.safetensors"}));
}

TEST(RepoFilesTest, NoSafetensorsIsNotFound) {
  auto r = SelectFiles({"config.json", "pytorch_model.bin"}, "org/old");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kNotFound);
  EXPECT_NE(r.status().message().find("org/old"), std::string::npos);
  EXPECT_NE(r.status().message().find("pytorch_model.bin"), std::string::npos);
}

TEST(RepoFilesTest, IndexShards) {
  testing::TempDir dir;
  std::ofstream(dir / "index.json")
      << R"({"metadata": {}, "weight_map": {"a": "s2.safetensors", "b": "s1.safetensors",
            "c": "s2.safetensors"}})";
  auto r = IndexShards(dir / "index.json");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, (Files{"s1.safetensors", "s2.safetensors"}));
  std::ofstream(dir / "evil.json") << R"({"weight_map": {"a": "../../etc/passwd"}})";
  EXPECT_EQ(IndexShards(dir / "evil.json").status().code(), Status::Code::kCorruption);
  std::ofstream(dir / "empty.json") << R"({"weight_map": {}})";
  EXPECT_EQ(IndexShards(dir / "empty.json").status().code(), Status::Code::kCorruption);
}

TEST(RepoFilesTest, CheckFolderFilesNamesTheMissingFile) {
  testing::TempDir dir;
  auto touch = [&](const std::string& f) { std::ofstream(dir / f) << "x"; };
  auto check = [&] { return CheckFolderFiles(dir.path()); };
  EXPECT_NE(check().message().find("config.json is missing"), std::string::npos);
  touch("config.json");
  EXPECT_NE(check().message().find("tokenizer.json is missing"), std::string::npos);
  touch("tokenizer.json");
  EXPECT_NE(check().message().find("model.safetensors is missing"), std::string::npos);
  std::ofstream(dir / "model.safetensors.index.json")
      << R"({"weight_map": {"a": "model-00001-of-00002.safetensors",
                            "b": "model-00002-of-00002.safetensors"}})";
  touch("model-00001-of-00002.safetensors");
  Status s = check();
  EXPECT_EQ(s.code(), Status::Code::kNotFound);
  EXPECT_NE(s.message().find("model-00002-of-00002.safetensors is missing"), std::string::npos)
      << s.message();
  touch("model-00002-of-00002.safetensors");
  EXPECT_TRUE(check().ok());
  // A dangling symlink counts as missing.
  fs::remove(dir / "model-00002-of-00002.safetensors");
  fs::create_symlink("../../blobs/gone", dir / "model-00002-of-00002.safetensors");
  EXPECT_FALSE(check().ok());

  testing::TempDir adapter;
  std::ofstream(adapter / "adapter_config.json") << "{}";
  s = CheckFolderFiles(adapter.path());
  EXPECT_NE(s.message().find("adapter_model.safetensors is missing"), std::string::npos);
  std::ofstream(adapter / "adapter_model.safetensors") << "x";
  EXPECT_TRUE(CheckFolderFiles(adapter.path()).ok());
}

}  // namespace
}  // namespace ccguard::hub

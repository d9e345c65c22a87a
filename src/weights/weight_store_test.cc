#include "weights/weight_store.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <sstream>

#include "util/json_file.h"
#include "weights/safetensors_writer.h"

namespace ccguard {
namespace {

namespace fs = std::filesystem;

const std::string kBaseDir = std::string(CCGUARD_FIXTURES) + "/tiny-a/base";
const std::string kBaseFile = kBaseDir + "/model.safetensors";
const std::string kAdapterFile =
    std::string(CCGUARD_FIXTURES) + "/tiny-a/adapter/adapter_model.safetensors";
constexpr size_t kBaseDataBytes = 9785792;

void WriteAll(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

::testing::AssertionResult IsError(const Status& s, Status::Code code,
                                   std::initializer_list<std::string> parts) {
  if (s.ok()) return ::testing::AssertionFailure() << "expected an error, got OK";
  if (s.code() != code) {
    return ::testing::AssertionFailure()
           << "expected " << Status::CodeName(code) << ", got " << s.ToString();
  }
  for (const std::string& p : parts) {
    if (s.message().find(p) == std::string::npos) {
      return ::testing::AssertionFailure() << "\"" << p << "\" not in: " << s.message();
    }
  }
  return ::testing::AssertionSuccess();
}

class WeightStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "ccguard_store_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    root_ = tmpl;
    dir_ = root_ + "/model";
    fs::create_directory(dir_);
    auto base = SafetensorsFile::Open(kBaseFile);
    ASSERT_TRUE(base.ok()) << base.status().ToString();
    base_ = std::move(*base);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }

  // A copy of fixture tensor `name`, for building shards.
  TensorToWrite Copy(const std::string& name) const {
    const TensorView* t = base_->Find(name);
    EXPECT_NE(t, nullptr) << name;
    return {t->name, t->dtype, t->shape, std::vector<uint8_t>(t->data, t->data + t->nbytes)};
  }

  // Splits the fixture: shard 1 = embedding + layer 0, shard 2 = layer 1 + final norm.
  void WriteShards(const std::string& shard1, const std::string& shard2, Json* weight_map) {
    std::vector<TensorToWrite> s1, s2;
    for (const TensorView& t : base_->tensors()) {
      const bool second = t.name.rfind("model.layers.1.", 0) == 0 || t.name == "model.norm.weight";
      (second ? s2 : s1).push_back(Copy(t.name));
      (*weight_map)[t.name] = second ? shard2 : shard1;
    }
    fs::create_directories(fs::path(dir_ + "/" + shard1).parent_path());
    ASSERT_TRUE(WriteSafetensors(dir_ + "/" + shard1, s1, {{"format", "pt"}}).ok());
    ASSERT_TRUE(WriteSafetensors(dir_ + "/" + shard2, s2, {{"format", "pt"}}).ok());
  }

  void WriteIndex(const Json& weight_map) {
    Json index = {{"metadata", {{"total_size", kBaseDataBytes}}}, {"weight_map", weight_map}};
    WriteAll(Index(), index.dump(2));
  }

  std::string Index() const { return dir_ + "/model.safetensors.index.json"; }

  // Writes the standard two shards plus an index whose weight_map `edit` may change.
  void WriteSharded(const std::function<void(Json*)>& edit = nullptr) {
    Json map = Json::object();
    WriteShards(kShard1, kShard2, &map);
    if (edit) edit(&map);
    WriteIndex(map);
  }

  static constexpr const char* kShard1 = "model-00001-of-00002.safetensors";
  static constexpr const char* kShard2 = "model-00002-of-00002.safetensors";
  std::string root_, dir_;
  std::unique_ptr<SafetensorsFile> base_;
};

// The store's tensors equal the fixture's: names, dtypes, shapes and bytes.
void ExpectSameAsFixture(const WeightStore& store, const SafetensorsFile& base) {
  std::vector<std::string> names;
  for (const TensorView& t : base.tensors()) names.push_back(t.name);
  EXPECT_EQ(store.Names(), names);
  EXPECT_EQ(store.size(), names.size());
  EXPECT_EQ(store.total_bytes(), kBaseDataBytes);
  for (const TensorView& want : base.tensors()) {
    const TensorView* got = store.Find(want.name);
    ASSERT_NE(got, nullptr) << want.name;
    EXPECT_EQ(got->name, want.name);
    EXPECT_EQ(got->dtype, want.dtype) << want.name;
    EXPECT_EQ(got->shape, want.shape) << want.name;
    ASSERT_EQ(got->nbytes, want.nbytes) << want.name;
    EXPECT_EQ(std::memcmp(got->data, want.data, want.nbytes), 0) << want.name;
  }
}

TEST_F(WeightStoreTest, OpensFixtureFolder) {
  auto r = WeightStore::OpenModelDir(kBaseDir);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ExpectSameAsFixture(**r, *base_);
  const TensorView* embed = (*r)->Find("model.embed_tokens.weight");
  ASSERT_NE(embed, nullptr);
  EXPECT_EQ(embed->dtype, DType::kBF16);
  EXPECT_EQ(embed->ShapeString(), "[151936, 32]");
  EXPECT_EQ((*r)->Find("lm_head.weight"), nullptr);
  ASSERT_EQ((*r)->files().size(), 1u);
  EXPECT_EQ((*r)->files()[0]->path(), kBaseDir + "/model.safetensors");
}

TEST_F(WeightStoreTest, OpensSingleFile) {
  auto r = WeightStore::OpenFile(kAdapterFile);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)->size(), 28u);
  EXPECT_EQ((*r)->total_bytes(), 45056u);
  const std::vector<std::string> names = (*r)->Names();
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  EXPECT_EQ(names.front(), "base_model.model.model.layers.0.mlp.down_proj.lora_A.weight");
  EXPECT_NE((*r)->Find("base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight"), nullptr);
  EXPECT_TRUE(IsError(WeightStore::OpenFile(root_ + "/none.safetensors").status(),
                      Status::Code::kNotFound, {root_ + "/none.safetensors"}));
}

TEST_F(WeightStoreTest, OpensShardedFolder) {
  WriteSharded();
  auto r = WeightStore::OpenModelDir(dir_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ExpectSameAsFixture(**r, *base_);
  ASSERT_EQ((*r)->files().size(), 2u);
  EXPECT_EQ((*r)->files()[0]->path(), dir_ + "/" + kShard1);
  EXPECT_EQ((*r)->files()[1]->path(), dir_ + "/" + kShard2);
}

TEST_F(WeightStoreTest, ShardsInSubfolderAndUnlistedTensorsKept) {
  Json map = Json::object();
  WriteShards("sub/a.safetensors", "./b.safetensors", &map);
  map.erase("model.norm.weight");  // still in b.safetensors: kept, as transformers does
  WriteIndex(map);
  auto r = WeightStore::OpenModelDir(dir_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ExpectSameAsFixture(**r, *base_);
}

TEST_F(WeightStoreTest, SingleFileWinsOverIndex) {
  WriteAll(Index(), "{ this index is broken");
  fs::copy_file(kBaseFile, dir_ + "/model.safetensors");
  auto r = WeightStore::OpenModelDir(dir_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ExpectSameAsFixture(**r, *base_);
}

TEST_F(WeightStoreTest, SymlinkedShardsAreFollowed) {
  // The Hugging Face cache links snapshot files to ../../blobs/<hash>.
  fs::create_directory(root_ + "/blobs");
  fs::copy_file(kBaseFile, root_ + "/blobs/abc123");
  fs::create_symlink("../blobs/abc123", dir_ + "/model.safetensors");
  auto r = WeightStore::OpenModelDir(dir_);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)->size(), 24u);
}

// --- folder-level errors -----------------------------------------------------------------

TEST_F(WeightStoreTest, EmptyFolderIsNotFound) {
  auto r = WeightStore::OpenModelDir(dir_);
  EXPECT_TRUE(IsError(r.status(), Status::Code::kNotFound,
                      {dir_, "model.safetensors", "model.safetensors.index.json"}));
  r = WeightStore::OpenModelDir(root_ + "/missing");
  EXPECT_TRUE(IsError(r.status(), Status::Code::kNotFound, {root_ + "/missing"}));
  r = WeightStore::OpenModelDir(kBaseFile);  // a file, not a folder
  EXPECT_TRUE(IsError(r.status(), Status::Code::kNotFound, {kBaseFile}));
}

TEST_F(WeightStoreTest, PickleOnlyIsNotSupported) {
  WriteAll(dir_ + "/pytorch_model.bin", "PK\3\4 pickled torch weights");
  auto r = WeightStore::OpenModelDir(dir_);
  EXPECT_TRUE(IsError(r.status(), Status::Code::kNotSupported,
                      {dir_, "pytorch_model.bin", "requires safetensors"}));
}

TEST_F(WeightStoreTest, BrokenSingleFileNamesIt) {
  const std::string full = ReadAll(kBaseFile);
  WriteAll(dir_ + "/model.safetensors", std::string_view(full).substr(0, full.size() / 2));
  auto r = WeightStore::OpenModelDir(dir_);
  EXPECT_TRUE(IsError(r.status(), Status::Code::kCorruption,
                      {dir_ + "/model.safetensors", "model.embed_tokens.weight", "truncated"}));
}

// --- index errors ------------------------------------------------------------------------

TEST_F(WeightStoreTest, MissingShard) {
  WriteSharded([](Json* map) { (*map)["model.norm.weight"] = "model-00003-of-00003.safetensors"; });
  auto r = WeightStore::OpenModelDir(dir_);
  EXPECT_TRUE(IsError(r.status(), Status::Code::kNotFound,
                      {Index(), "\"model-00003-of-00003.safetensors\"", "\"model.norm.weight\"",
                       dir_ + "/model-00003-of-00003.safetensors"}));
}

TEST_F(WeightStoreTest, ListedTensorAbsentFromShard) {
  WriteSharded([](Json* map) { (*map)["model.extra.weight"] = kShard2; });
  auto r = WeightStore::OpenModelDir(dir_);
  EXPECT_TRUE(IsError(r.status(), Status::Code::kCorruption,
                      {Index(), "tensor \"model.extra.weight\"", kShard2, "does not contain it"}));
  // Listed in the wrong shard.
  WriteSharded([](Json* map) { (*map)["model.norm.weight"] = kShard1; });
  r = WeightStore::OpenModelDir(dir_);
  EXPECT_TRUE(IsError(r.status(), Status::Code::kCorruption,
                      {Index(), "tensor \"model.norm.weight\"", kShard1, "does not contain it"}));
}

TEST_F(WeightStoreTest, DuplicateTensorAcrossShards) {
  Json map = Json::object();
  WriteShards(kShard1, kShard2, &map);
  // Shard 1 also carries the final norm (listed under shard 2).
  std::vector<TensorToWrite> s1;
  for (const TensorView& t : base_->tensors()) {
    if (map[t.name] == kShard1 || t.name == "model.norm.weight") s1.push_back(Copy(t.name));
  }
  ASSERT_TRUE(WriteSafetensors(dir_ + "/" + kShard1, s1).ok());
  WriteIndex(map);
  auto r = WeightStore::OpenModelDir(dir_);
  EXPECT_TRUE(IsError(r.status(), Status::Code::kCorruption,
                      {Index(), "tensor \"model.norm.weight\" appears in two shards",
                       dir_ + "/" + kShard1, dir_ + "/" + kShard2}));
}

TEST_F(WeightStoreTest, PathTraversalInShardName) {
  // A real safetensors file outside the folder, so only the name check can stop it.
  fs::copy_file(kBaseFile, root_ + "/outside.safetensors");
  for (const std::string& shard :
       {std::string("../outside.safetensors"), root_ + "/outside.safetensors",
        std::string("sub/../../outside.safetensors"), std::string(".."),
        std::string("..\\outside.safetensors"), std::string("")}) {
    WriteSharded([&](Json* map) { (*map)["model.norm.weight"] = shard; });
    auto r = WeightStore::OpenModelDir(dir_);
    EXPECT_TRUE(IsError(r.status(), Status::Code::kCorruption,
                        {Index(), "tensor \"model.norm.weight\"", "\"" + shard + "\"",
                         "not a relative path inside the model folder"}))
        << shard;
  }
}

TEST_F(WeightStoreTest, MalformedIndex) {
  Json map = Json::object();
  WriteShards(kShard1, kShard2, &map);
  struct Case {
    std::string text;
    std::string expect;
  };
  const Case cases[] = {
      {"{\"weight_map\": {\"a\": ", "malformed JSON"},
      {"", "malformed JSON"},
      {"[]", "not a JSON object"},
      {"{\"metadata\": {}}", "missing or non-object \"weight_map\""},
      {"{\"weight_map\": [\"a\"]}", "missing or non-object \"weight_map\""},
      {"{\"weight_map\": {}}", "\"weight_map\" is empty"},
      {"{\"weight_map\": {\"model.norm.weight\": 2}}",
       "shard of tensor \"model.norm.weight\" is not a string"},
      {"{\"metadata\": 5, \"weight_map\": {\"model.norm.weight\": \"x\"}}",
       "\"metadata\" is not an object"},
  };
  for (const Case& c : cases) {
    WriteAll(Index(), c.text);
    auto r = WeightStore::OpenModelDir(dir_);
    EXPECT_TRUE(IsError(r.status(), Status::Code::kCorruption, {Index(), c.expect})) << c.text;
  }
}

TEST_F(WeightStoreTest, CorruptShardNamesShard) {
  WriteSharded();
  const std::string shard = dir_ + "/" + kShard2;
  const std::string bytes = ReadAll(shard);
  WriteAll(shard, std::string_view(bytes).substr(0, bytes.size() - 10));
  auto r = WeightStore::OpenModelDir(dir_);
  EXPECT_TRUE(IsError(r.status(), Status::Code::kCorruption,
                      {shard, "tensor \"model.norm.weight\"", "truncated"}));
}

}  // namespace
}  // namespace ccguard

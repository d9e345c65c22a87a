#include "weights/safetensors_writer.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "weights/safetensors.h"

namespace ccguard {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<TensorToWrite> CopyTensors(const SafetensorsFile& f) {
  std::vector<const TensorView*> by_offset;
  for (const TensorView& t : f.tensors()) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(),
            [](const TensorView* a, const TensorView* b) { return a->data < b->data; });
  std::vector<TensorToWrite> out;
  for (const TensorView* t : by_offset) {
    out.push_back(
        {t->name, t->dtype, t->shape, std::vector<uint8_t>(t->data, t->data + t->nbytes)});
  }
  return out;
}

class SafetensorsWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "ccguard_writer_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string dir_;
};

// Re-encoding the fixtures' tensors reproduces the published files byte for byte.
TEST_F(SafetensorsWriterTest, ReproducesFixturesExactly) {
  for (const char* rel :
       {"/tiny-a/adapter/adapter_model.safetensors", "/tiny-a/base/model.safetensors"}) {
    const std::string path = std::string(CCGUARD_FIXTURES) + rel;
    auto f = SafetensorsFile::Open(path);
    ASSERT_TRUE(f.ok()) << f.status().ToString();
    Result<std::string> bytes = EncodeSafetensors(CopyTensors(**f), (*f)->metadata());
    ASSERT_TRUE(bytes.ok()) << bytes.status().ToString();
    const std::string original = ReadAll(path);
    ASSERT_EQ(bytes->size(), original.size()) << rel;
    EXPECT_TRUE(*bytes == original) << rel;
  }
}

TEST_F(SafetensorsWriterTest, RoundTrip) {
  std::vector<TensorToWrite> tensors = {
      F32Tensor("w.f32", {2, 3}, {1, 2, 3, 4, 5, 6}),
      Bf16Tensor("w.bf16", {3}, {1.0f, 1.00390625f, -3.5f}),  // the middle one rounds to 1.0
      F32Tensor("scalar", {}, {42.0f}),
      {"empty", DType::kF16, {0, 4}, {}},
      {"ints", DType::kI32, {1}, {0x78, 0x56, 0x34, 0x12}},
  };
  const std::map<std::string, std::string> meta = {{"format", "pt"}, {"note", "héllo"}};
  const std::string path = dir_ + "/rt.safetensors";
  ASSERT_TRUE(WriteSafetensors(path, tensors, meta).ok());

  const std::string raw = ReadAll(path);
  uint64_t n;
  std::memcpy(&n, raw.data(), 8);
  EXPECT_EQ(n % 8, 0u);
  EXPECT_EQ(raw[8], '{');
  EXPECT_EQ(raw.size(), 8 + n + 24 + 6 + 4 + 0 + 4);

  auto r = SafetensorsFile::Open(path);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const SafetensorsFile& f = **r;
  EXPECT_EQ(f.metadata(), meta);
  ASSERT_EQ(f.tensors().size(), 5u);
  for (const TensorToWrite& t : tensors) {
    const TensorView* v = f.Find(t.name);
    ASSERT_NE(v, nullptr) << t.name;
    EXPECT_EQ(v->dtype, t.dtype);
    EXPECT_EQ(v->shape, t.shape);
    ASSERT_EQ(v->nbytes, t.bytes.size());
    EXPECT_EQ(std::vector<uint8_t>(v->data, v->data + v->nbytes), t.bytes) << t.name;
  }
  std::vector<float> bf(3);
  const TensorView* b = f.Find("w.bf16");
  ASSERT_TRUE(ConvertToF32(b->dtype, b->data, 3, bf.data()).ok());
  EXPECT_EQ(bf, (std::vector<float>{1.0f, 1.0f, -3.5f}));
  // Laid out in the order given.
  EXPECT_EQ(f.Find("w.bf16")->data, f.Find("w.f32")->data + 24);
  EXPECT_EQ(f.Find("ints")->data, f.Find("scalar")->data + 4);
}

TEST_F(SafetensorsWriterTest, NoMetadataMeansNoMetadataKey) {
  Result<std::string> bytes = EncodeSafetensors({F32Tensor("a", {1}, {0.5f})});
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(bytes->find("__metadata__"), std::string::npos);
  EXPECT_NE(bytes->find("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}"),
            std::string::npos);
}

// Whatever the reader accepts, the writer can write: even an empty tensor name.
TEST_F(SafetensorsWriterTest, EmptyNameRoundTrips) {
  const std::string path = dir_ + "/empty_name.safetensors";
  ASSERT_TRUE(WriteSafetensors(path, {F32Tensor("", {1}, {7.0f})}).ok());
  auto r = SafetensorsFile::Open(path);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_NE((*r)->Find(""), nullptr);
  EXPECT_EQ((*r)->Find("")->nbytes, 4u);
}

TEST_F(SafetensorsWriterTest, RejectsBadTensors) {
  struct Case {
    std::vector<TensorToWrite> tensors;
    std::string expect;
  };
  const Case cases[] = {
      {{{"w", DType::kF32, {2, 2}, std::vector<uint8_t>(12)}},
       "tensor \"w\": has 12 bytes, but its shape and dtype F32 need 16"},
      {{F32Tensor("w", {1}, {1}), F32Tensor("w", {1}, {2})}, "tensor \"w\": duplicate name"},
      {{{"w", DType::kU8, {-1}, {}}}, "tensor \"w\": negative dimension -1"},
      {{F32Tensor("__metadata__", {1}, {1})}, "reserved name"},
      {{F32Tensor("a\xff", {1}, {1})}, "not valid UTF-8"},
      {{{"w", DType::kU8, {int64_t{1} << 40, int64_t{1} << 40}, {}}}, "overflows"},
  };
  for (const Case& c : cases) {
    Result<std::string> r = EncodeSafetensors(c.tensors);
    ASSERT_FALSE(r.ok()) << c.expect;
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
    EXPECT_NE(r.status().message().find(c.expect), std::string::npos) << r.status().message();
  }
  const std::string path = dir_ + "/bad.safetensors";
  Status s = WriteSafetensors(path, {F32Tensor("__metadata__", {1}, {1})});
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(s.message().find(path), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(path));
}

TEST_F(SafetensorsWriterTest, IOErrorNamesPath) {
  const std::string path = dir_ + "/no/such/dir/x.safetensors";
  Status s = WriteSafetensors(path, {F32Tensor("a", {1}, {1})});
  EXPECT_EQ(s.code(), Status::Code::kIOError);
  EXPECT_NE(s.message().find(path), std::string::npos) << s.message();
  s = WriteRawSafetensors(path, "{}", "");
  EXPECT_EQ(s.code(), Status::Code::kIOError);
}

TEST_F(SafetensorsWriterTest, RawWritesVerbatim) {
  const std::string path = dir_ + "/raw";
  ASSERT_TRUE(WriteRawSafetensors(path, "{bad", std::string("\0\1", 2)).ok());
  EXPECT_EQ(ReadAll(path), std::string("\4\0\0\0\0\0\0\0{bad\0\1", 14));
}

}  // namespace
}  // namespace ccguard

#include "weights/safetensors.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <set>
#include <sstream>
#include <tuple>

#include "weights/safetensors_writer.h"

namespace ccguard {
namespace {

const std::string kBase = std::string(CCGUARD_FIXTURES) + "/tiny-a/base/model.safetensors";
const std::string kAdapter =
    std::string(CCGUARD_FIXTURES) + "/tiny-a/adapter/adapter_model.safetensors";
constexpr size_t kBaseHeaderLen = 2536;  // the fixture's u64 header length
constexpr size_t kBaseFileSize = 9788336;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteAll(const std::string& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

// Passes when `s` has `code` and its message contains every one of `parts`.
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

// {"dtype":..,"shape":..,"data_offsets":..} with the three given JSON texts.
std::string Entry(const std::string& dtype, const std::string& shape, const std::string& offsets) {
  return "{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}";
}

class SafetensorsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "ccguard_safetensors_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

  // Writes a file with the given header text and data; returns its path.
  std::string Raw(const std::string& header, const std::string& data = "",
                  const std::string& name = "t.safetensors") {
    const std::string path = Path(name);
    EXPECT_TRUE(WriteRawSafetensors(path, header, data).ok());
    return path;
  }

  // Opens a file with the given header and data, expecting failure with `code` and a message
  // holding the path and every part.
  void ExpectOpenFails(const std::string& header, const std::string& data, Status::Code code,
                       std::initializer_list<std::string> parts) {
    const std::string path = Raw(header, data);
    auto r = SafetensorsFile::Open(path);
    EXPECT_TRUE(IsError(r.status(), code, {path})) << "header: " << header;
    EXPECT_TRUE(IsError(r.status(), code, parts)) << "header: " << header;
  }

  std::string dir_;
};

// --- the real fixtures -------------------------------------------------------------------

TEST_F(SafetensorsTest, OpensBaseFixture) {
  auto r = SafetensorsFile::Open(kBase);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const SafetensorsFile& f = **r;
  EXPECT_EQ(f.path(), kBase);
  EXPECT_EQ(f.file_size(), kBaseFileSize);
  EXPECT_EQ(f.metadata(), (std::map<std::string, std::string>{{"format", "pt"}}));
  ASSERT_EQ(f.tensors().size(), 24u);  // embed, 2 x 11 per layer, final norm

  const TensorView* embed = f.Find("model.embed_tokens.weight");
  ASSERT_NE(embed, nullptr);
  EXPECT_EQ(embed->name, "model.embed_tokens.weight");
  EXPECT_EQ(embed->dtype, DType::kBF16);
  EXPECT_EQ(embed->shape, (std::vector<int64_t>{151936, 32}));
  EXPECT_EQ(embed->ShapeString(), "[151936, 32]");
  EXPECT_EQ(embed->nbytes, 151936u * 32 * 2);

  struct Want {
    const char* suffix;
    std::vector<int64_t> shape;
  };
  const Want per_layer[] = {
      {"input_layernorm.weight", {32}},          {"mlp.down_proj.weight", {32, 96}},
      {"mlp.gate_proj.weight", {96, 32}},        {"mlp.up_proj.weight", {96, 32}},
      {"post_attention_layernorm.weight", {32}}, {"self_attn.k_norm.weight", {16}},
      {"self_attn.k_proj.weight", {32, 32}},     {"self_attn.o_proj.weight", {32, 64}},
      {"self_attn.q_norm.weight", {16}},         {"self_attn.q_proj.weight", {64, 32}},
      {"self_attn.v_proj.weight", {32, 32}},
  };
  for (int layer = 0; layer < 2; ++layer) {
    for (const Want& w : per_layer) {
      const std::string name = "model.layers." + std::to_string(layer) + "." + w.suffix;
      const TensorView* t = f.Find(name);
      ASSERT_NE(t, nullptr) << name;
      EXPECT_EQ(t->dtype, DType::kBF16) << name;
      EXPECT_EQ(t->shape, w.shape) << name;
      EXPECT_EQ(t->nbytes, static_cast<size_t>(t->numel()) * 2) << name;
    }
  }
  const TensorView* norm = f.Find("model.norm.weight");
  ASSERT_NE(norm, nullptr);
  EXPECT_EQ(norm->shape, (std::vector<int64_t>{32}));
  EXPECT_EQ(f.Find("lm_head.weight"), nullptr);  // tied embeddings
  EXPECT_EQ(f.Find("model.norm"), nullptr);
  EXPECT_EQ(f.Find(""), nullptr);

  // Sorted by name; views point at the right bytes of the file.
  EXPECT_TRUE(
      std::is_sorted(f.tensors().begin(), f.tensors().end(),
                     [](const TensorView& a, const TensorView& b) { return a.name < b.name; }));
  const std::string raw = ReadAll(kBase);
  ASSERT_EQ(raw.size(), kBaseFileSize);
  const uint8_t* data_start = embed->data;  // embed is first in the data section
  EXPECT_EQ(std::memcmp(embed->data, raw.data() + 8 + kBaseHeaderLen, 64), 0);
  EXPECT_EQ(std::memcmp(norm->data, raw.data() + raw.size() - 64, 64), 0);
  EXPECT_EQ(norm->data + norm->nbytes, data_start + (kBaseFileSize - 8 - kBaseHeaderLen));

  // Norm weights are 1 + 0.2 * N(0, 1): a sanity check of the BF16 view.
  std::vector<float> v(32);
  ASSERT_TRUE(ConvertToF32(norm->dtype, norm->data, 32, v.data()).ok());
  double mean = 0;
  for (float x : v) mean += x / 32.0;
  EXPECT_GT(mean, 0.8);
  EXPECT_LT(mean, 1.2);
}

TEST_F(SafetensorsTest, OpensAdapterFixture) {
  auto r = SafetensorsFile::Open(kAdapter);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const SafetensorsFile& f = **r;
  EXPECT_EQ(f.metadata().at("format"), "pt");
  // PEFT names: lora_A is [r, in], lora_B is [out, r], r = 8, all F32.
  struct Module {
    const char* name;
    int64_t in, out;
  };
  const Module modules[] = {{"mlp.down_proj", 96, 32},    {"mlp.gate_proj", 32, 96},
                            {"mlp.up_proj", 32, 96},      {"self_attn.k_proj", 32, 32},
                            {"self_attn.o_proj", 64, 32}, {"self_attn.q_proj", 32, 64},
                            {"self_attn.v_proj", 32, 32}};
  std::vector<std::string> expected;
  for (int layer = 0; layer < 2; ++layer) {
    for (const Module& m : modules) {
      const std::string p =
          "base_model.model.model.layers." + std::to_string(layer) + "." + m.name + ".";
      const TensorView* a = f.Find(p + "lora_A.weight");
      const TensorView* b = f.Find(p + "lora_B.weight");
      ASSERT_NE(a, nullptr) << p;
      ASSERT_NE(b, nullptr) << p;
      EXPECT_EQ(a->dtype, DType::kF32);
      EXPECT_EQ(b->dtype, DType::kF32);
      EXPECT_EQ(a->shape, (std::vector<int64_t>{8, m.in})) << p;
      EXPECT_EQ(b->shape, (std::vector<int64_t>{m.out, 8})) << p;
      expected.push_back(p + "lora_A.weight");
      expected.push_back(p + "lora_B.weight");
    }
  }
  std::sort(expected.begin(), expected.end());
  std::vector<std::string> names;
  for (const TensorView& t : f.tensors()) names.push_back(t.name);
  EXPECT_EQ(names, expected);  // exactly these 28

  // A and B are N(0, 1) * 0.3.
  double sum2 = 0;
  size_t n = 0;
  for (const TensorView& t : f.tensors()) {
    std::vector<float> v(static_cast<size_t>(t.numel()));
    ASSERT_TRUE(ConvertToF32(t.dtype, t.data, v.size(), v.data()).ok());
    for (float x : v) sum2 += static_cast<double>(x) * x;
    n += v.size();
  }
  EXPECT_NEAR(std::sqrt(sum2 / static_cast<double>(n)), 0.3, 0.03);
}

TEST_F(SafetensorsTest, MissingFileIsNotFound) {
  auto r = SafetensorsFile::Open(Path("nope.safetensors"));
  EXPECT_TRUE(IsError(r.status(), Status::Code::kNotFound, {Path("nope.safetensors")}));
}

// --- valid edge cases --------------------------------------------------------------------

TEST_F(SafetensorsTest, AcceptsEdgeCasesTheFormatAllows) {
  std::string data(4 + 8 + 0 + 4, '\0');
  const float one = 1.0f;
  std::memcpy(data.data(), &one, 4);
  // A scalar, an empty tensor between two others, an unknown extra field, header padding.
  const std::string header =
      "{\"s\":" + Entry("F32", "[]", "[0,4]") + ",\"e\":" + Entry("BF16", "[0,7]", "[12,12]") +
      ",\"i\":{\"dtype\":\"I32\",\"shape\":[1,2],\"data_offsets\":[4,12],\"extra\":{\"a\":[1]}}" +
      ",\"z\":" + Entry("U8", "[4]", "[12,16]") + "}  \t\n ";
  auto r = SafetensorsFile::Open(Raw(header, data));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const SafetensorsFile& f = **r;
  EXPECT_TRUE(f.metadata().empty());
  ASSERT_EQ(f.tensors().size(), 4u);
  const TensorView* s = f.Find("s");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->numel(), 1);
  EXPECT_EQ(s->ShapeString(), "[]");
  float got;
  std::memcpy(&got, s->data, 4);
  EXPECT_EQ(got, 1.0f);
  const TensorView* e = f.Find("e");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->numel(), 0);
  EXPECT_EQ(e->nbytes, 0u);
  EXPECT_EQ(f.Find("z")->data, f.Find("i")->data + 8);
}

TEST_F(SafetensorsTest, AcceptsEmptyFile) {
  auto r = SafetensorsFile::Open(Raw("{}"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE((*r)->tensors().empty());
  r = SafetensorsFile::Open(Raw("{\"__metadata__\":{\"k\":\"v\"}}"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)->metadata().at("k"), "v");
}

// --- framing -----------------------------------------------------------------------------

TEST_F(SafetensorsTest, FileShorterThan8Bytes) {
  for (size_t n = 0; n < 8; ++n) {
    const std::string path = Path("short" + std::to_string(n));
    WriteAll(path, std::string(n, '\x01'));
    auto r = SafetensorsFile::Open(path);
    EXPECT_TRUE(IsError(r.status(), Status::Code::kCorruption,
                        {path, std::to_string(n) + " bytes", "8-byte header length"}));
  }
}

TEST_F(SafetensorsTest, HeaderLengthLargerThanFile) {
  std::string bytes(8, '\0');
  const uint64_t len = 1000;
  std::memcpy(bytes.data(), &len, 8);
  bytes += "{\"a\":1}";
  const std::string path = Path("long");
  WriteAll(path, bytes);
  auto r = SafetensorsFile::Open(path);
  EXPECT_TRUE(IsError(r.status(), Status::Code::kCorruption,
                      {path, "header length 1000", "7 bytes after it", "truncated"}));
}

TEST_F(SafetensorsTest, HeaderLengthOverLimitOrZero) {
  for (uint64_t len : {uint64_t{100'000'001}, ~uint64_t{0}, uint64_t{1} << 63}) {
    std::string bytes(8, '\0');
    std::memcpy(bytes.data(), &len, 8);
    bytes += "{}";
    const std::string path = Path("huge");
    WriteAll(path, bytes);
    auto r = SafetensorsFile::Open(path);
    EXPECT_TRUE(IsError(r.status(), Status::Code::kCorruption,
                        {path, std::to_string(len), "exceeds the limit of 100000000"}));
  }
  const std::string path = Path("zero");
  WriteAll(path, std::string(8, '\0') + "{}");
  EXPECT_TRUE(IsError(SafetensorsFile::Open(path).status(), Status::Code::kCorruption,
                      {path, "header length is 0"}));
}

TEST_F(SafetensorsTest, HeaderNotJson) {
  ExpectOpenFails("{not json}", "", Status::Code::kCorruption, {"not valid JSON"});
  ExpectOpenFails("{\"a\":", "", Status::Code::kCorruption, {"not valid JSON"});
  ExpectOpenFails("{\"a\":" + Entry("F32", "[1]", "[0,4]") + "} x", "abcd",
                  Status::Code::kCorruption, {"not valid JSON"});
  ExpectOpenFails("{\"a\":1,}", "", Status::Code::kCorruption, {"not valid JSON"});
  // nlohmann stops at a NUL byte; what follows must not be ignored.
  ExpectOpenFails(std::string("{}\0\0garbage", 11), "", Status::Code::kCorruption,
                  {"NUL byte at byte 2"});
}

TEST_F(SafetensorsTest, HeaderNotObject) {
  for (const char* h : {"[1,2,3]", "\"str\"", "42", "null", " {}", "\n{}"}) {
    ExpectOpenFails(h, "", Status::Code::kCorruption, {"not a JSON object"});
  }
}

TEST_F(SafetensorsTest, HeaderInvalidUtf8) {
  ExpectOpenFails("{\"w\xff\":" + Entry("U8", "[1]", "[0,1]") + "}", "x", Status::Code::kCorruption,
                  {"UTF-8", "byte 3"});
  // A lone surrogate escape is valid ASCII but not valid JSON text for a UTF-8 string.
  ExpectOpenFails("{\"w\\ud800\":" + Entry("U8", "[1]", "[0,1]") + "}", "x",
                  Status::Code::kCorruption, {"not valid JSON"});
}

TEST_F(SafetensorsTest, HeaderTooDeep) {
  std::string deep = "{\"x\":" + std::string(100, '[') + std::string(100, ']') + "}";
  ExpectOpenFails(deep, "", Status::Code::kCorruption, {"nests deeper than 64"});
  // Brackets inside strings do not count.
  std::string in_string = "{\"__metadata__\":{\"k\":\"" + std::string(100, '[') + "\\\"{\"}}";
  EXPECT_TRUE(SafetensorsFile::Open(Raw(in_string)).ok());
}

TEST_F(SafetensorsTest, DuplicateKeys) {
  ExpectOpenFails(
      "{\"w\":" + Entry("U8", "[4]", "[0,4]") + ",\"w\":" + Entry("U8", "[4]", "[4,8]") + "}",
      "12345678", Status::Code::kCorruption, {"duplicate key \"w\""});
  ExpectOpenFails(
      "{\"w\":{\"dtype\":\"U8\",\"shape\":[4],\"dtype\":\"U8\",\"data_offsets\":[0,4]}}", "1234",
      Status::Code::kCorruption, {"duplicate key \"dtype\""});
}

TEST_F(SafetensorsTest, BadMetadata) {
  ExpectOpenFails("{\"__metadata__\":{\"format\":\"pt\",\"n\":1}}", "", Status::Code::kCorruption,
                  {"\"__metadata__\"", "\"n\"", "not a string"});
  ExpectOpenFails("{\"__metadata__\":[\"pt\"]}", "", Status::Code::kCorruption,
                  {"\"__metadata__\" is not an object"});
  ExpectOpenFails("{\"__metadata__\":{\"a\":{\"b\":\"c\"}}}", "", Status::Code::kCorruption,
                  {"\"a\"", "not a string"});
}

// --- tensor entries ----------------------------------------------------------------------

TEST_F(SafetensorsTest, BadEntry) {
  ExpectOpenFails("{\"w\":5}", "", Status::Code::kCorruption, {"tensor \"w\"", "not an object"});
  ExpectOpenFails("{\"w\":{\"shape\":[1],\"data_offsets\":[0,1]}}", "x", Status::Code::kCorruption,
                  {"tensor \"w\"", "\"dtype\""});
  ExpectOpenFails("{\"w\":{\"dtype\":7,\"shape\":[1],\"data_offsets\":[0,1]}}", "x",
                  Status::Code::kCorruption, {"tensor \"w\"", "\"dtype\""});
  ExpectOpenFails("{\"w\":{\"dtype\":\"U8\",\"data_offsets\":[0,1]}}", "x",
                  Status::Code::kCorruption, {"tensor \"w\"", "\"shape\""});
  ExpectOpenFails("{\"w\":{\"dtype\":\"U8\",\"shape\":[1]}}", "x", Status::Code::kCorruption,
                  {"tensor \"w\"", "\"data_offsets\"", "got nothing"});
}

TEST_F(SafetensorsTest, UnknownDType) {
  ExpectOpenFails(
      "{\"ok\":" + Entry("U8", "[1]", "[0,1]") + ",\"w\":" + Entry("Q4_K", "[1]", "[1,2]") + "}",
      "xy", Status::Code::kCorruption, {"tensor \"w\"", "unknown dtype \"Q4_K\""});
  ExpectOpenFails("{\"w\":" + Entry("bf16", "[1]", "[0,2]") + "}", "xy", Status::Code::kCorruption,
                  {"tensor \"w\"", "\"bf16\""});
  ExpectOpenFails("{\"w\":" + Entry("F8_E8M0", "[1]", "[0,1]") + "}", "x",
                  Status::Code::kNotSupported, {"tensor \"w\"", "\"F8_E8M0\""});
}

TEST_F(SafetensorsTest, BadShape) {
  ExpectOpenFails("{\"w\":" + Entry("F32", "[-1,4]", "[0,16]") + "}", std::string(16, 'x'),
                  Status::Code::kCorruption,
                  {"tensor \"w\"", "shape[0] is not a non-negative integer: -1"});
  ExpectOpenFails("{\"w\":" + Entry("F32", "[2.0,2]", "[0,16]") + "}", std::string(16, 'x'),
                  Status::Code::kCorruption, {"tensor \"w\"", "shape[0]", "2.0"});
  ExpectOpenFails("{\"w\":" + Entry("F32", "[2,1.5]", "[0,12]") + "}", std::string(12, 'x'),
                  Status::Code::kCorruption, {"tensor \"w\"", "shape[1]", "1.5"});
  ExpectOpenFails("{\"w\":" + Entry("F32", "[\"4\"]", "[0,16]") + "}", std::string(16, 'x'),
                  Status::Code::kCorruption, {"tensor \"w\"", "shape[0]"});
  ExpectOpenFails("{\"w\":" + Entry("F32", "4", "[0,16]") + "}", std::string(16, 'x'),
                  Status::Code::kCorruption, {"tensor \"w\"", "\"shape\""});
  ExpectOpenFails("{\"w\":" + Entry("F32", "[1e3]", "[0,4000]") + "}", std::string(4000, 'x'),
                  Status::Code::kCorruption, {"tensor \"w\"", "shape[0]"});
  ExpectOpenFails("{\"w\":" + Entry("U8", "[18446744073709551615]", "[0,1]") + "}", "x",
                  Status::Code::kCorruption, {"tensor \"w\"", "shape[0] is too large"});
  ExpectOpenFails("{\"w\":" + Entry("U8", "[18446744073709551616]", "[0,1]") + "}", "x",
                  Status::Code::kCorruption, {"tensor \"w\"", "shape[0]"});
  // Products that wrap around to small numbers must not pass the size check.
  ExpectOpenFails("{\"w\":" + Entry("U8", "[4294967296,4294967296]", "[0,0]") + "}", "",
                  Status::Code::kCorruption, {"tensor \"w\"", "overflows"});
  ExpectOpenFails("{\"w\":" + Entry("F32", "[4611686018427387904]", "[0,0]") + "}", "",
                  Status::Code::kCorruption, {"tensor \"w\"", "overflows"});
}

TEST_F(SafetensorsTest, BadOffsets) {
  const std::string d16(16, 'x');
  ExpectOpenFails("{\"w\":" + Entry("F32", "[4]", "[0,100]") + "}", d16, Status::Code::kCorruption,
                  {"tensor \"w\"", "[0, 100]", "past the data section of 16 bytes"});
  ExpectOpenFails("{\"w\":" + Entry("F32", "[0]", "[8,4]") + "}", d16, Status::Code::kCorruption,
                  {"tensor \"w\"", "begin > end"});
  for (const char* offs : {"[0]", "[0,16,16]", "[-4,12]", "[0,16.0]", "\"0,16\"", "[0,\"16\"]"}) {
    ExpectOpenFails("{\"w\":" + Entry("F32", "[4]", offs) + "}", d16, Status::Code::kCorruption,
                    {"tensor \"w\"", "\"data_offsets\" must be [begin, end]"});
  }
  ExpectOpenFails("{\"w\":" + Entry("F32", "[4]", "[0,18446744073709551616]") + "}", d16,
                  Status::Code::kCorruption, {"tensor \"w\"", "\"data_offsets\""});
}

TEST_F(SafetensorsTest, OffsetsDoNotMatchShape) {
  ExpectOpenFails("{\"w\":" + Entry("F32", "[2,2]", "[0,12]") + "}", std::string(12, 'x'),
                  Status::Code::kCorruption,
                  {"tensor \"w\"", "span 12 bytes", "shape [2, 2] of F32 needs 16"});
  ExpectOpenFails("{\"w\":" + Entry("BF16", "[3]", "[0,12]") + "}", std::string(12, 'x'),
                  Status::Code::kCorruption, {"tensor \"w\"", "needs 6"});
  ExpectOpenFails("{\"w\":" + Entry("F32", "[0]", "[0,4]") + "}", "abcd", Status::Code::kCorruption,
                  {"tensor \"w\"", "needs 0"});
}

// --- layout of the data section ----------------------------------------------------------

TEST_F(SafetensorsTest, OverlappingTensors) {
  ExpectOpenFails(
      "{\"a\":" + Entry("F32", "[4]", "[0,16]") + ",\"b\":" + Entry("F32", "[4]", "[8,24]") + "}",
      std::string(24, 'x'), Status::Code::kCorruption,
      {"tensor \"b\" [8, 24] overlaps tensor \"a\" [0, 16]"});
  // Two names for the same bytes (aliasing).
  ExpectOpenFails(
      "{\"a\":" + Entry("F32", "[4]", "[0,16]") + ",\"b\":" + Entry("F32", "[4]", "[0,16]") + "}",
      std::string(16, 'x'), Status::Code::kCorruption, {"overlaps", "\"a\"", "\"b\""});
  // One tensor inside another.
  ExpectOpenFails("{\"big\":" + Entry("U8", "[16]", "[0,16]") +
                      ",\"small\":" + Entry("U8", "[4]", "[4,8]") + "}",
                  std::string(16, 'x'), Status::Code::kCorruption,
                  {"tensor \"small\" [4, 8] overlaps tensor \"big\" [0, 16]"});
}

TEST_F(SafetensorsTest, HolesAndTrailingBytes) {
  ExpectOpenFails(
      "{\"a\":" + Entry("F32", "[4]", "[0,16]") + ",\"b\":" + Entry("F32", "[4]", "[20,36]") + "}",
      std::string(36, 'x'), Status::Code::kCorruption,
      {"data bytes [16, 20) before tensor \"b\" belong to no tensor"});
  ExpectOpenFails("{\"a\":" + Entry("F32", "[4]", "[4,20]") + "}", std::string(20, 'x'),
                  Status::Code::kCorruption, {"[0, 4) before tensor \"a\""});
  ExpectOpenFails("{\"a\":" + Entry("F32", "[4]", "[0,16]") + "}", std::string(20, 'x'),
                  Status::Code::kCorruption,
                  {"20 bytes but the tensors end at 16", "after tensor \"a\"", "trailing"});
  ExpectOpenFails("{}", "junk", Status::Code::kCorruption, {"4 bytes but the tensors end at 0"});
}

// --- damaged copies of the real fixture --------------------------------------------------

TEST_F(SafetensorsTest, TruncatedFixture) {
  const std::string full = ReadAll(kBase);
  ASSERT_EQ(full.size(), kBaseFileSize);
  const size_t data_start = 8 + kBaseHeaderLen;
  struct Cut {
    size_t size;
    std::string expect;
  };
  const Cut cuts[] = {
      {0, "shorter than the 8-byte header length"},
      {5, "shorter than the 8-byte header length"},
      {8, "header length 2536 is larger than the 0 bytes"},
      {100, "header length 2536 is larger than the 92 bytes"},
      {data_start - 1, "truncated"},
      {data_start, "tensor \"model.embed_tokens.weight\""},
      {data_start + 1, "tensor \"model.embed_tokens.weight\""},
      {data_start + 4000000, "tensor \"model.embed_tokens.weight\""},
      {full.size() - 64, "tensor \"model.norm.weight\""},
      {full.size() - 1, "tensor \"model.norm.weight\""},
  };
  for (const Cut& c : cuts) {
    const std::string path = Path("cut" + std::to_string(c.size));
    WriteAll(path, std::string_view(full).substr(0, c.size));
    auto r = SafetensorsFile::Open(path);
    EXPECT_TRUE(IsError(r.status(), Status::Code::kCorruption, {path, c.expect}))
        << "cut at " << c.size;
    if (c.size > data_start) {
      EXPECT_TRUE(
          IsError(r.status(), Status::Code::kCorruption, {"past the data section", "truncated"}));
    }
  }
  // One byte too many is as bad as one too few.
  const std::string path = Path("longer");
  WriteAll(path, full + "X");
  EXPECT_TRUE(IsError(SafetensorsFile::Open(path).status(), Status::Code::kCorruption,
                      {path, "trailing", "model.norm.weight"}));
}

// Flips chosen bytes of the fixture's header: each must be reported, naming the tensor.
TEST_F(SafetensorsTest, FlippedHeaderBytesInFixture) {
  const std::string full = ReadAll(kBase);
  const std::string header = full.substr(8, kBaseHeaderLen);
  auto flip_and_open = [&](size_t header_pos, char to) {
    std::string copy = full;
    copy[8 + header_pos] = to;
    const std::string path = Path("flipped");
    WriteAll(path, copy);
    return SafetensorsFile::Open(path).status();
  };
  auto find_in = [&](const std::string& tensor, const std::string& what) {
    size_t at = header.find("\"" + tensor + "\"");
    EXPECT_NE(at, std::string::npos);
    at = header.find(what, at);
    EXPECT_NE(at, std::string::npos);
    return at;
  };
  const std::string path = Path("flipped");
  // Structure.
  EXPECT_TRUE(
      IsError(flip_and_open(0, '['), Status::Code::kCorruption, {path, "not a JSON object"}));
  EXPECT_TRUE(IsError(flip_and_open(header.find(':'), ';'), Status::Code::kCorruption,
                      {path, "not valid JSON"}));
  EXPECT_TRUE(IsError(flip_and_open(header.rfind('}'), ' '), Status::Code::kCorruption,
                      {path, "not valid JSON"}));
  EXPECT_TRUE(IsError(flip_and_open(10, '\xC3'), Status::Code::kCorruption, {path, "UTF-8"}));
  // dtype of model.norm.weight: BF16 -> BF36.
  const std::string norm = "model.norm.weight";
  EXPECT_TRUE(IsError(flip_and_open(find_in(norm, "BF16") + 2, '3'), Status::Code::kCorruption,
                      {path, "tensor \"model.norm.weight\"", "\"BF36\""}));
  // Shape [32] -> [33].
  EXPECT_TRUE(IsError(flip_and_open(find_in(norm, "[32]") + 2, '3'), Status::Code::kCorruption,
                      {path, "tensor \"model.norm.weight\"", "shape [33] of BF16 needs 66"}));
  // End offset 9785792 -> 9785793.
  EXPECT_TRUE(IsError(flip_and_open(find_in(norm, "9785792") + 6, '3'), Status::Code::kCorruption,
                      {path, "tensor \"model.norm.weight\""}));
  // Begin offset of the first layer tensor: 9723904 -> 9723905 (size mismatch).
  const std::string ln = "model.layers.0.input_layernorm.weight";
  EXPECT_TRUE(IsError(flip_and_open(find_in(ln, "[9723904,") + 7, '5'), Status::Code::kCorruption,
                      {path, "tensor \"" + ln + "\""}));
  // Layer index 1 -> 0 in a name duplicates a key.
  EXPECT_TRUE(IsError(flip_and_open(header.find("model.layers.1.mlp.up_proj") + 13, '0'),
                      Status::Code::kCorruption,
                      {path, "duplicate key \"model.layers.0.mlp.up_proj.weight\""}));
}

// Every single-bit (and case, and high-bit) flip of both fixtures' headers: a flip is either
// reported as an error naming the file, or (inside a name or metadata string) leaves a file
// whose tensors have the same dtypes, shapes and bytes.
TEST_F(SafetensorsTest, EveryHeaderByteFlipIsCaughtOrHarmless) {
  for (const std::string& fixture : {kAdapter, kBase}) {
    const std::string path = Path("sweep.safetensors");
    WriteAll(path, ReadAll(fixture));
    auto original = SafetensorsFile::Open(path);
    ASSERT_TRUE(original.ok());
    // (data offset, dtype, shape) of every tensor, in file order.
    auto layout = [](const SafetensorsFile& f) {
      const uint8_t* base = f.tensors().front().data;
      for (const TensorView& t : f.tensors()) base = std::min(base, t.data);
      std::vector<std::tuple<ptrdiff_t, DType, std::vector<int64_t>, size_t>> out;
      for (const TensorView& t : f.tensors()) {
        out.emplace_back(t.data - base, t.dtype, t.shape, t.nbytes);
      }
      std::sort(out.begin(), out.end());
      return out;
    };
    const auto want = layout(**original);
    uint64_t n;
    std::memcpy(&n, ReadAll(path).data(), 8);
    original = Status::Internal("unmapped");

    const int fd = ::open(path.c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    int failures = 0, harmless = 0;
    for (uint8_t mask : {0x01, 0x20, 0x80}) {
      for (size_t pos = 8; pos < 8 + n; ++pos) {
        unsigned char orig;
        ASSERT_EQ(::pread(fd, &orig, 1, static_cast<off_t>(pos)), 1);
        const unsigned char flipped = orig ^ mask;
        ASSERT_EQ(::pwrite(fd, &flipped, 1, static_cast<off_t>(pos)), 1);
        {
          auto r = SafetensorsFile::Open(path);
          if (r.ok()) {
            ++harmless;
            EXPECT_EQ(layout(**r), want) << fixture << " byte " << pos << " ^ " << int{mask};
          } else {
            ++failures;
            EXPECT_NE(r.status().message().find(path), std::string::npos) << r.status().ToString();
            EXPECT_TRUE(r.status().code() == Status::Code::kCorruption ||
                        r.status().code() == Status::Code::kNotSupported)
                << r.status().ToString();
          }
        }
        ASSERT_EQ(::pwrite(fd, &orig, 1, static_cast<off_t>(pos)), 1);
      }
    }
    ::close(fd);
    EXPECT_GT(failures, 0);
    EXPECT_GT(harmless, 0);                         // letters inside names flip harmlessly
    ASSERT_TRUE(SafetensorsFile::Open(path).ok());  // restored
  }
}

}  // namespace
}  // namespace ccguard

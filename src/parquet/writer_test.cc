#include "parquet/writer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "parquet/reader.h"

namespace ccguard::parquet {
namespace {

std::string TempPath(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("ccguard_pqw_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return (dir / name).string();
}

std::vector<Json> Rows() {
  return {
      Json{{"row", 0}, {"id", "a"}, {"p_unsafe", 0.25}, {"flagged", false}, {"tags", {"x", 1}}},
      Json{{"row", 1}, {"id", nullptr}, {"p_unsafe", 1}, {"flagged", true}, {"error", "bad"}},
      Json{{"row", 2}, {"id", "ü ✓"}, {"p_unsafe", 0.5}, {"tags", Json::object()}},
  };
}

TEST(ParquetWriterTest, SchemaFromFirstAppearanceAndKinds) {
  SchemaBuilder b;
  for (const Json& r : Rows()) ASSERT_TRUE(b.Add(r).ok());
  ASSERT_EQ(b.columns().size(), 6u);
  using K = WriterColumn::Kind;
  // Json objects iterate their keys sorted: the first row's, then new ones.
  std::vector<std::pair<std::string, K>> want = {{"flagged", K::kBool},    {"id", K::kString},
                                                 {"p_unsafe", K::kDouble}, {"row", K::kInt64},
                                                 {"tags", K::kJson},       {"error", K::kString}};
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(b.columns()[i].name, want[i].first);
    EXPECT_EQ(b.columns()[i].kind, want[i].second) << want[i].first;
  }
  b.MoveToFront({"row", "absent", "id"});
  std::vector<std::string> names;
  for (const auto& c : b.columns()) names.push_back(c.name);
  EXPECT_EQ(names, (std::vector<std::string>{"row", "id", "flagged", "p_unsafe", "tags", "error"}));
  EXPECT_FALSE(b.Add(Json::array()).ok());
}

TEST(ParquetWriterTest, RoundTripsThroughTheReaderWithEveryCodec) {
  SchemaBuilder b;
  for (const Json& r : Rows()) ASSERT_TRUE(b.Add(r).ok());
  for (Codec codec : {Codec::kUncompressed, Codec::kSnappy, Codec::kGzip, Codec::kZstd}) {
    const std::string path = TempPath("rt_" + CodecName(codec) + ".parquet");
    auto w = Writer::Create(path, b.columns(), codec);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    ASSERT_TRUE((*w)->WriteRowGroup(Rows()).ok());
    ASSERT_TRUE((*w)->WriteRowGroup({Rows()[2]}).ok());
    EXPECT_FALSE(std::filesystem::exists(path));  // nothing in place before Close
    ASSERT_TRUE((*w)->Close().ok());
    EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
    auto rows = ReadAll(path, {});
    ASSERT_TRUE(rows.ok()) << rows.status().ToString();
    ASSERT_EQ(rows->size(), 4u);
    EXPECT_EQ((*rows)[0], (Json{{"row", 0},
                                {"id", "a"},
                                {"p_unsafe", 0.25},
                                {"flagged", false},
                                {"tags", "[\"x\",1]"},
                                {"error", nullptr}}));
    EXPECT_EQ((*rows)[1], (Json{{"row", 1},
                                {"id", nullptr},
                                {"p_unsafe", 1.0},
                                {"flagged", true},
                                {"tags", nullptr},
                                {"error", "bad"}}));
    EXPECT_EQ((*rows)[3]["id"], "ü ✓");
    EXPECT_EQ((*rows)[3]["tags"], "{}");
    auto r = Reader::Open(path);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ((*r)->num_row_groups(), 2u);
    EXPECT_EQ((*r)->columns()[4].name, "tags");
    EXPECT_EQ((*r)->columns()[2].name, "p_unsafe");
    EXPECT_EQ((*r)->columns()[4].type, "string");  // JSON text
  }
}

TEST(ParquetWriterTest, AbandonedWriterLeavesNothing) {
  const std::string path = TempPath("abandoned.parquet");
  {
    auto w = Writer::Create(path, {{"a", WriterColumn::Kind::kInt64}});
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->WriteRowGroup({Json{{"a", 1}}}).ok());
    EXPECT_TRUE(std::filesystem::exists(path + ".tmp"));
  }
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
}

TEST(ParquetWriterTest, Errors) {
  const std::string path = TempPath("errors.parquet");
  EXPECT_FALSE(Writer::Create(path, {}).ok());
  EXPECT_FALSE(
      Writer::Create(path, {{"a", WriterColumn::Kind::kBool}, {"a", WriterColumn::Kind::kBool}})
          .ok());
  EXPECT_FALSE(Writer::Create(path, {{"a", WriterColumn::Kind::kBool}}, Codec::kLz4).ok());
  auto w = Writer::Create(path, {{"a", WriterColumn::Kind::kInt64}});
  ASSERT_TRUE(w.ok());
  Status s = (*w)->WriteRowGroup({Json{{"a", 1}}, Json{{"a", "x"}}});
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(s.message().find("row 1, column 'a'"), std::string::npos) << s.message();
  EXPECT_EQ(Writer::Create("/nonexistent/dir/x.parquet", {{"a", WriterColumn::Kind::kBool}})
                .status()
                .code(),
            Status::Code::kIOError);
}

}  // namespace
}  // namespace ccguard::parquet

#include "eval/table.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace ccguard::eval {
namespace {

std::string DataDir() {
  return (std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() / "tests" /
          "data")
      .string();
}

Table MustParse(std::string_view text, TableFormat format = TableFormat::kAuto) {
  auto r = ParseTable(text, "t", format);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : Table{};
}

TEST(TableTest, CsvRowsBecomeStringFields) {
  Table t = MustParse("a,b\n1,\"x\ny\"\n2,\n");
  EXPECT_TRUE(t.csv);
  EXPECT_EQ(t.header, (std::vector<std::string>{"a", "b"}));
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(t.rows[0].line, 2u);
  EXPECT_EQ(t.rows[1].line, 4u);
  EXPECT_EQ(t.rows[0].fields["b"], "x\ny");
  EXPECT_EQ(Where(t, t.rows[1]), "t:4");
  EXPECT_TRUE(HasColumn(t, "a"));
  EXPECT_FALSE(HasColumn(t, "c"));
  EXPECT_TRUE(RequireColumns(t, {"a", "b"}).ok());
  Status s = RequireColumns(t, {"a", "c"});
  EXPECT_EQ(s.code(), Status::Code::kNotFound);
  EXPECT_EQ(s.message(), "t:1: missing column 'c' (columns: a,b)");
  // An empty CSV cell is "no value".
  auto text = GetOptionalText(t, t.rows[1], "b");
  ASSERT_TRUE(text.ok());
  EXPECT_FALSE(text->has_value());
  EXPECT_FALSE(GetText(t, t.rows[1], "b").ok());
}

TEST(TableTest, ParquetReadsOnlyTheColumnsAskedFor) {
  const std::string path = DataDir() + "/parquet/types_v1_gzip.parquet";
  auto t = ReadTable(path, TableFormat::kAuto, {"id", "l", "absent"});
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_TRUE(t->parquet);
  EXPECT_EQ(t->header.size(), 16u);
  ASSERT_EQ(t->rows.size(), 5000u);
  EXPECT_EQ(t->rows[1].fields, (Json{{"id", 1}, {"l", {"a1", nullptr, "ü1"}}}));
  EXPECT_EQ(Where(*t, t->rows[1]), path + ": row 2");
  EXPECT_TRUE(HasColumn(*t, "ns"));  // in the file, though not read
  Status s = RequireColumns(*t, {"id", "absent"});
  EXPECT_EQ(s.code(), Status::Code::kNotFound);
  EXPECT_NE(s.message().find(path + ": missing column 'absent'"), std::string::npos);
  // The same bytes parsed from memory.
  auto whole = ReadTable(path, TableFormat::kParquet);
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(whole->rows[4999].fields.size(), 16u);
}

TEST(TableTest, ParquetColumnsTheReaderCannotReadAreNamed) {
  const std::string path = DataDir() + "/parquet/nested.parquet";
  auto t = ReadTable(path, TableFormat::kAuto, {"name", "mp"});
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  Status s = RequireColumns(*t, {"name", "mp"});
  EXPECT_EQ(s.code(), Status::Code::kNotSupported);
  EXPECT_EQ(s.message(),
            path + ": column 'mp' is a map, which ccguard's Parquet reader does not read");
  auto v = GetText(*t, t->rows[0], "mp");
  EXPECT_EQ(v.status().code(), Status::Code::kNotSupported);
  // Every column: the unreadable ones are left out and named.
  auto all = ReadTable(path);
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(all->unreadable.size(), 4u);
  EXPECT_EQ(all->rows[3].fields, (Json{{"id", 3}, {"name", "n3"}}));
}

TEST(TableTest, AutoDetectsJson) {
  Table t = MustParse("{\"a\":1}\n{\"a\":\"x\",\"b\":null}\n");
  EXPECT_FALSE(t.csv);
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_TRUE(HasColumn(t, "b"));
  EXPECT_TRUE(RequireColumns(t, {"zzz"}).ok());  // JSON: checked per row
  t = MustParse(" [ {\"a\":1} ]");
  EXPECT_EQ(t.rows.size(), 1u);
  // Forced CSV reads the same text as CSV.
  t = MustParse("{\"a\":1}\n", TableFormat::kCsv);
  EXPECT_TRUE(t.csv);
}

TEST(TableTest, ScalarAccessors) {
  Table t = MustParse(
      "{\"s\":\"x\",\"b\":true,\"i\":1,\"f\":0.5,\"n\":null,\"e\":\"\",\"o\":{},\"u\":"
      "\"\\u00fc\"}");
  const TableRow& r = t.rows[0];
  EXPECT_EQ(GetScalar(t, r, "s")->value(), "x");
  EXPECT_EQ(GetScalar(t, r, "b")->value(), "true");
  EXPECT_EQ(GetScalar(t, r, "i")->value(), "1");
  EXPECT_EQ(GetScalar(t, r, "f")->value(), "0.5");
  EXPECT_FALSE(GetScalar(t, r, "n")->has_value());
  EXPECT_FALSE(GetScalar(t, r, "o").ok());
  EXPECT_EQ(GetScalar(t, r, "missing").status().code(), Status::Code::kNotFound);
  EXPECT_FALSE(GetRequiredScalar(t, r, "n").ok());
  EXPECT_FALSE(GetRequiredScalar(t, r, "e").ok());
  EXPECT_EQ(*GetText(t, r, "u"), "\xC3\xBC");
  Status s = GetText(t, r, "i").status();
  EXPECT_EQ(s.message(), "t:1: field 'i' is not a string");
  EXPECT_EQ(GetText(t, r, "missing").status().message(), "t:1: missing field 'missing'");
}

TEST(TableTest, StructuralErrors) {
  auto r = ParseTable("a,a\n1,2\n", "t", TableFormat::kAuto);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("duplicate column 'a'"), std::string::npos);
  r = ParseTable("a,b\n1,2,3\n", "t", TableFormat::kCsv);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "t:2: 3 fields, but the header has 2");
  r = ParseTable("", "t", TableFormat::kCsv);
  EXPECT_FALSE(r.ok());
  r = ParseTable("{\"a\":1}\n[1]\n", "t", TableFormat::kJson);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "t:2: expected a JSON object");
  r = ParseTable("{\"a\":1}\n{}\n", "t", TableFormat::kJson);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "t:2: empty row");
}

}  // namespace
}  // namespace ccguard::eval

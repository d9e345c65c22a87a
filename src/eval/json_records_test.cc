#include "eval/json_records.h"

#include <gtest/gtest.h>

namespace ccguard::eval {
namespace {

TEST(JsonRecordsTest, JsonLinesWithLineNumbers) {
  auto r = ParseJsonRecords("{\"a\":1}\r\n{\"a\":2}\n{\"a\":3}", "f.jsonl");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[2].value["a"], 3);
  EXPECT_EQ((*r)[2].line, 3u);
}

TEST(JsonRecordsTest, ArrayWithElementLines) {
  const char* text =
      "\xEF\xBB\xBF[\n  {\"a\": \"x,]}\\\"\"},\n  {\"a\": [1, {\"b\": 2}]},\n\n  3\n]\n";
  auto r = ParseJsonRecords(text, "f.json");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].value["a"], "x,]}\"");
  EXPECT_EQ((*r)[0].line, 2u);
  EXPECT_EQ((*r)[1].line, 3u);
  EXPECT_EQ((*r)[2].value, 3);
  EXPECT_EQ((*r)[2].line, 5u);
}

TEST(JsonRecordsTest, EmptyArrayAndEmptyText) {
  auto r = ParseJsonRecords(" [ ] \n", "f");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
  r = ParseJsonRecords("", "f");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
}

TEST(JsonRecordsTest, BlankLineIsAnError) {
  auto r = ParseJsonRecords("{\"a\":1}\n\n{\"a\":2}\n", "f.jsonl");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("f.jsonl:2: empty line"), std::string::npos)
      << r.status().message();
}

TEST(JsonRecordsTest, MalformedLineNamesFileAndLine) {
  auto r = ParseJsonRecords("{\"a\":1}\n{\"a\":\n", "f.jsonl");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kCorruption);
  EXPECT_NE(r.status().message().find("f.jsonl:2"), std::string::npos) << r.status().message();
}

TEST(JsonRecordsTest, MalformedArrayElementNamesLine) {
  auto r = ParseJsonRecords("[\n{\"a\":1},\n{\"a\":tru}\n]", "f.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("f.json:3"), std::string::npos) << r.status().message();
}

TEST(JsonRecordsTest, UnterminatedArrayAndTrailingText) {
  EXPECT_FALSE(ParseJsonRecords("[{\"a\":1},", "f").ok());
  EXPECT_FALSE(ParseJsonRecords("[{\"a\":1}", "f").ok());
  EXPECT_FALSE(ParseJsonRecords("[{\"a\":1}] x", "f").ok());
}

}  // namespace
}  // namespace ccguard::eval

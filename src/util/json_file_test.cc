#include "util/json_file.h"

#include <gtest/gtest.h>

#include <string>

namespace ccguard {
namespace {

std::string Nested(int depth) { return std::string(depth, '[') + std::string(depth, ']'); }

TEST(ParseJsonTest, DepthLimitIsExact) {
  EXPECT_TRUE(ParseJson(Nested(kMaxJsonDepth), "t").ok());
  auto r = ParseJson(Nested(kMaxJsonDepth + 1), "t");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "t: JSON nested deeper than 64 levels");
  // 100,000 levels: refused while parsing, no stack overflow anywhere.
  r = ParseJson("{\"id\": " + Nested(100000) + "}", "line 1");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("nested deeper"), std::string::npos);
  // Objects count as levels too.
  std::string objects;
  for (int i = 0; i <= kMaxJsonDepth; ++i) objects += "{\"a\":";
  objects += "1" + std::string(kMaxJsonDepth + 1, '}');
  EXPECT_FALSE(ParseJson(objects, "t").ok());
}

TEST(ParseJsonTest, NumbersOutOfRangeAreErrors) {
  for (const char* text : {"1e400", "[1, -1e999]", "{\"a\": {\"b\": 2e308}}"}) {
    auto r = ParseJson(text, "f.json");
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
    EXPECT_NE(r.status().message().find("f.json: number out of range"), std::string::npos)
        << r.status().message();
  }
  auto big = ParseJson("[1.7976931348623157e308, 18446744073709551615, -9223372036854775808]", "t");
  ASSERT_TRUE(big.ok()) << big.status().message();
}

TEST(ParseJsonTest, DuplicateKeysAreRefusedByName) {
  auto r = ParseJson(R"({"a": 1, "b": {"x": 1, "x": 2}})", "req");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "req: duplicate key \"x\"");
  // The same key in different objects (siblings, array elements) is fine.
  auto ok = ParseJson(R"({"a": {"x": 1}, "b": {"x": 2}, "c": [{"x": 1}, {"x": 2}], "x": 3})", "t");
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  EXPECT_EQ((*ok)["c"][1]["x"], 2);
}

TEST(ParseJsonTest, SyntaxErrorsNameTheByte) {
  auto r = ParseJson("{\"a\": }", "line 7");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("line 7: malformed JSON at byte 7"), std::string::npos)
      << r.status().message();
  EXPECT_FALSE(ParseJson("", "t").ok());
  EXPECT_FALSE(ParseJson("[1] x", "t").ok());
}

TEST(ParseJsonTest, ReadJsonFileReportsCorruption) {
  const std::string path = ::testing::TempDir() + "/ccguard_json_file_test.json";
  {
    FILE* f = std::fopen(path.c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fputs("{\"r\": 1e400}", f);
    std::fclose(f);
  }
  auto r = ReadJsonFile(path);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kCorruption);
  EXPECT_NE(r.status().message().find(path), std::string::npos);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace ccguard

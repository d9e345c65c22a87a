#include "eval/row_source.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace ccguard::eval {
namespace {

namespace fs = std::filesystem;

TEST(RowSourceTest, ShardsCoverEveryRowOnce) {
  for (uint64_t n : {1, 3, 7}) {
    std::vector<int> seen(100, 0);
    for (uint64_t i = 0; i < n; ++i) {
      auto s = ParseShard(std::to_string(i) + "/" + std::to_string(n));
      ASSERT_TRUE(s.ok());
      for (uint64_t r = 0; r < 100; ++r) seen[r] += s->Holds(r);
    }
    for (int c : seen) EXPECT_EQ(c, 1);
  }
  for (const char* bad : {"", "1", "1/1", "3/2", "-1/2", "0/0", "a/b", "0/2/3", "0/2x"}) {
    auto s = ParseShard(bad);
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_NE(s.status().message().find("I/N"), std::string::npos);
  }
}

TEST(RowSourceTest, ExpandInputsSortsGlobsAndRefusesRepeats) {
  const fs::path dir = fs::path(testing::TempDir()) / "row_source";
  fs::create_directories(dir);
  for (const char* n : {"b.csv", "a.csv", "c.jsonl"}) std::ofstream(dir / n) << "x\n";
  auto got = ExpandInputs({(dir / "*.csv").string(), (dir / "c.jsonl").string()});
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, (std::vector<std::string>{(dir / "a.csv").string(), (dir / "b.csv").string(),
                                            (dir / "c.jsonl").string()}));
  EXPECT_EQ(ExpandInputs({(dir / "*.parquet").string()}).status().code(), Status::Code::kNotFound);
  EXPECT_EQ(ExpandInputs({(dir / "none.csv").string()}).status().code(), Status::Code::kNotFound);
  auto twice = ExpandInputs({(dir / "a.csv").string(), (dir / "*.csv").string()});
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.status().message().find("twice"), std::string::npos);
  EXPECT_FALSE(ExpandInputs({}).ok());
}

TEST(RowSourceTest, MappingToItems) {
  auto t = ParseTable(
      "id,text,p,r,conv,extra\n"
      "7,hello,q,a,\"[{\"\"role\"\": \"\"user\"\", \"\"content\"\": \"\"hi\"\"}]\",z\n"
      "8,,q2,,[1,z\n",
      "t.csv", TableFormat::kCsv);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  const auto& row = t->rows[0];
  ColumnMapping text{"text", "", "", "", "", "id", {"extra"}};
  ASSERT_TRUE(ValidateMapping(text).ok());
  EXPECT_EQ(*ItemJsonFromRow(*t, row, text), (Json{{"prompt", "hello"}}));
  EXPECT_EQ(*KeptColumns(*t, row, text), (Json{{"extra", "z"}, {"id", "7"}}));
  ColumnMapping ex{"", "p", "r", "", "", "", {}};
  EXPECT_EQ(*ItemJsonFromRow(*t, row, ex), (Json{{"prompt", "q"}, {"response", "a"}}));
  ColumnMapping conv{"", "", "", "conv", "", "", {}};
  EXPECT_EQ(*ItemJsonFromRow(*t, row, conv),
            (Json{{"messages", Json::array({{{"role", "user"}, {"content", "hi"}}})}}));
  ColumnMapping chat{"", "", "", "", "conv", "", {}};
  EXPECT_TRUE(ItemJsonFromRow(*t, row, chat)->contains("chat"));
  // Row 2: an empty text, an empty response, a conversation that is not JSON.
  const auto& row2 = t->rows[1];
  auto empty = ItemJsonFromRow(*t, row2, text);
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.status().message().find("t.csv:3"), std::string::npos)
      << empty.status().message();
  EXPECT_FALSE(ItemJsonFromRow(*t, row2, ex).ok());
  EXPECT_FALSE(ItemJsonFromRow(*t, row2, conv).ok());
  ColumnMapping missing{"", "", "", "", "", "", {"nope"}};
  missing.text = "text";
  EXPECT_NE(KeptColumns(*t, row, missing).status().message().find("no column 'nope'"),
            std::string::npos);
}

TEST(RowSourceTest, MappingErrors) {
  EXPECT_FALSE(ValidateMapping({}).ok());
  EXPECT_FALSE(ValidateMapping({"t", "p", "", "", "", "", {}}).ok());
  EXPECT_FALSE(ValidateMapping({"t", "", "r", "", "", "", {}}).ok());
  auto clash = ValidateMapping({"t", "", "", "", "", "", {"p_unsafe"}});
  ASSERT_FALSE(clash.ok());
  EXPECT_NE(clash.message().find("'p_unsafe'"), std::string::npos);
}

}  // namespace
}  // namespace ccguard::eval

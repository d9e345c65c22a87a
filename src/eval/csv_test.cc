#include "eval/csv.h"

#include <gtest/gtest.h>

#include "eval/random.h"

namespace ccguard::eval {
namespace {

using Fields = std::vector<std::string>;

std::vector<CsvRecord> Parse(std::string_view text) {
  auto r = ParseCsv(text, "t.csv");
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : std::vector<CsvRecord>{};
}

TEST(CsvTest, SimpleWithAndWithoutFinalNewline) {
  for (std::string_view text : {"a,b\n1,2\n", "a,b\n1,2"}) {
    auto recs = Parse(text);
    ASSERT_EQ(recs.size(), 2u);
    EXPECT_EQ(recs[0].fields, (Fields{"a", "b"}));
    EXPECT_EQ(recs[1].fields, (Fields{"1", "2"}));
    EXPECT_EQ(recs[0].line, 1u);
    EXPECT_EQ(recs[1].line, 2u);
  }
}

TEST(CsvTest, CrlfAndLoneCr) {
  auto recs = Parse("a,b\r\n1,2\r\n3,4");
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[2].fields, (Fields{"3", "4"}));
  EXPECT_EQ(recs[2].line, 3u);
  recs = Parse("a\rb\r");
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[1].fields, (Fields{"b"}));
}

TEST(CsvTest, QuotedFieldsWithSeparatorsQuotesAndNewlines) {
  auto recs = Parse("id,text\n1,\"a, \"\"quoted\"\"\nsecond line\"\n2,\"x\r\ny\"\r\n3,\"\"\n");
  ASSERT_EQ(recs.size(), 4u);
  EXPECT_EQ(recs[1].fields, (Fields{"1", "a, \"quoted\"\nsecond line"}));
  EXPECT_EQ(recs[1].line, 2u);
  EXPECT_EQ(recs[2].fields, (Fields{"2", "x\r\ny"}));  // CRLF inside quotes is data
  EXPECT_EQ(recs[2].line, 4u);
  EXPECT_EQ(recs[3].fields, (Fields{"3", ""}));
  EXPECT_EQ(recs[3].line, 6u);
}

TEST(CsvTest, Bom) {
  auto recs = Parse("\xEF\xBB\xBFid,x\n1,2\n");
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].fields[0], "id");
}

TEST(CsvTest, EmptyFieldsAndTrailingSeparator) {
  auto recs = Parse("a,,c\n,,\nx,");
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[0].fields, (Fields{"a", "", "c"}));
  EXPECT_EQ(recs[1].fields, (Fields{"", "", ""}));
  EXPECT_TRUE(IsEmptyRow(recs[1]));
  EXPECT_EQ(recs[2].fields, (Fields{"x", ""}));
  EXPECT_FALSE(IsEmptyRow(recs[2]));
}

TEST(CsvTest, BlankLineIsAnEmptyRecordNotSkipped) {
  auto recs = Parse("a\n\nb\n");
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_TRUE(IsEmptyRow(recs[1]));
  EXPECT_EQ(recs[1].line, 2u);
  EXPECT_EQ(recs[2].line, 3u);
}

TEST(CsvTest, BareQuoteInsideUnquotedFieldIsLiteral) {
  auto recs = Parse("5\" screen,ok\n");
  ASSERT_EQ(recs.size(), 1u);
  EXPECT_EQ(recs[0].fields, (Fields{"5\" screen", "ok"}));
}

TEST(CsvTest, EmptyInput) {
  EXPECT_TRUE(Parse("").empty());
  EXPECT_TRUE(Parse("\xEF\xBB\xBF").empty());
}

TEST(CsvTest, UnterminatedQuoteNamesTheOpeningLine) {
  auto r = ParseCsv("a,b\n1,2\n3,\"open\nstill open\n", "f.csv");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kCorruption);
  EXPECT_NE(r.status().message().find("f.csv:3"), std::string::npos) << r.status().message();
}

TEST(CsvTest, TextAfterClosingQuoteIsAnError) {
  auto r = ParseCsv("a\n\"x\"y\n", "f.csv");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("f.csv:2"), std::string::npos) << r.status().message();
}

TEST(CsvTest, LineNumbersCountNewlinesInsideQuotes) {
  auto recs = Parse("h\n\"1\n2\n3\"\nnext\n");
  ASSERT_EQ(recs.size(), 3u);
  EXPECT_EQ(recs[2].fields, (Fields{"next"}));
  EXPECT_EQ(recs[2].line, 5u);
}

// Property: any table written with RFC 4180 quoting (fields with separators,
// quotes, CR, LF, or nothing at all) parses back to the same fields.
TEST(CsvTest, RandomRoundTrip) {
  const char kAlphabet[] = {'a', 'b', ',', '"', '\r', '\n', ' ', 'x'};
  SplitMix64 rng(2024);
  for (int iter = 0; iter < 500; ++iter) {
    const size_t cols = 1 + rng.Below(4), rows = 1 + rng.Below(6);
    std::vector<Fields> table(rows, Fields(cols));
    std::string text;
    const char* eol = rng.Below(2) ? "\r\n" : "\n";
    for (auto& row : table) {
      for (size_t c = 0; c < cols; ++c) {
        std::string& f = row[c];
        const size_t len = rng.Below(6);
        for (size_t k = 0; k < len; ++k) f += kAlphabet[rng.Below(sizeof(kAlphabet))];
        if (c > 0) text += ',';
        // Quote whenever needed, and always when the row would otherwise be blank.
        const bool quote = f.find_first_of(",\"\r\n") != std::string::npos || rng.Below(4) == 0 ||
                           (cols == 1 && f.empty());
        if (quote) {
          text += '"';
          for (char ch : f) text += ch == '"' ? std::string("\"\"") : std::string(1, ch);
          text += '"';
        } else {
          text += f;
        }
      }
      text += eol;
    }
    if (rng.Below(2)) text.resize(text.size() - std::string(eol).size());  // no final newline
    auto parsed = ParseCsv(text, "r.csv");
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString() << "\n" << text;
    ASSERT_EQ(parsed->size(), rows) << text;
    for (size_t r = 0; r < rows; ++r) EXPECT_EQ((*parsed)[r].fields, table[r]) << text;
  }
}

}  // namespace
}  // namespace ccguard::eval

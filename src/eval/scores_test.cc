#include "eval/scores.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "util/mapped_file.h"

namespace ccguard::eval {
namespace {

std::string TempPath(const std::string& name) {
  return (std::filesystem::path(testing::TempDir()) / name).string();
}

ScoreRecord Rec(std::string ds, std::string id, bool unsafe, double p,
                std::optional<int64_t> n = std::nullopt) {
  return ScoreRecord{std::move(ds), std::move(id), unsafe, p, n};
}

TEST(ScoresTest, LineFormat) {
  EXPECT_EQ(FormatScoreLine(Rec("xstest", "4", false, 0.25, 57)),
            "{\"dataset\":\"xstest\",\"id\":\"4\",\"label\":\"safe\",\"p_unsafe\":0.25,"
            "\"n_tokens\":57}\n");
  EXPECT_EQ(FormatScoreLine(Rec("a", "b\"c", true, 1.0)),
            "{\"dataset\":\"a\",\"id\":\"b\\\"c\",\"label\":\"unsafe\",\"p_unsafe\":1.0}\n");
}

TEST(ScoresTest, RoundTripIsExact) {
  std::vector<ScoreRecord> in = {Rec("d", "1", true, 0.1 + 0.2, 3), Rec("d", "ü", false, 1e-17),
                                 Rec("e", "x", false, 0.0, 0)};
  std::string text;
  for (const auto& r : in) text += FormatScoreLine(r);
  auto parsed = ParseScores(text, "s.jsonl");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->records.size(), 3u);
  EXPECT_EQ(parsed->complete_lines, 3u);
  EXPECT_EQ(parsed->complete_bytes, text.size());
  EXPECT_EQ(parsed->partial_bytes, 0u);
  for (size_t i = 0; i < in.size(); ++i) {
    EXPECT_EQ(parsed->records[i].dataset, in[i].dataset);
    EXPECT_EQ(parsed->records[i].id, in[i].id);
    EXPECT_EQ(parsed->records[i].unsafe, in[i].unsafe);
    EXPECT_EQ(parsed->records[i].p_unsafe, in[i].p_unsafe);  // bit-exact
    EXPECT_EQ(parsed->records[i].n_tokens, in[i].n_tokens);
  }
}

TEST(ScoresTest, TruncatedLastLineIsReportedNotFatal) {
  std::string full =
      FormatScoreLine(Rec("d", "1", true, 0.5)) + FormatScoreLine(Rec("d", "2", false, 0.25));
  for (std::string tail : {std::string("{\"dataset\":\"d\",\"id\":\"3\",\"lab"),
                           // complete JSON but no newline: still a partial line
                           FormatScoreLine(Rec("d", "3", false, 0.5)).substr(0, 60)}) {
    tail = tail.substr(0, tail.find('\n'));
    auto parsed = ParseScores(full + tail, "s.jsonl");
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_EQ(parsed->complete_lines, 2u);
    EXPECT_EQ(parsed->complete_bytes, full.size());
    EXPECT_EQ(parsed->partial_bytes, tail.size());
  }
}

TEST(ScoresTest, MalformedCompleteLinesAreErrors) {
  const std::string ok = FormatScoreLine(Rec("d", "1", true, 0.5));
  for (const std::string bad :
       {"{\"dataset\":\"d\",\"id\":\"2\",\"label\":\"maybe\",\"p_unsafe\":0.5}\n",
        "{\"dataset\":\"d\",\"id\":\"2\",\"label\":\"safe\",\"p_unsafe\":1.5}\n",
        "{\"dataset\":\"d\",\"id\":\"2\",\"label\":\"safe\"}\n",
        "{\"dataset\":\"d\",\"label\":\"safe\",\"p_unsafe\":0.5}\n",
        "{\"dataset\":\"d\",\"id\":\"2\",\"label\":\"safe\",\"p_unsafe\":0.5,\"n_tokens\":-1}\n",
        "not json\n", "\n", "[1]\n"}) {
    auto parsed = ParseScores(ok + bad + ok, "s.jsonl");
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.status().code(), Status::Code::kCorruption);
    EXPECT_NE(parsed.status().message().find("s.jsonl:2"), std::string::npos)
        << parsed.status().message();
  }
}

TEST(ScoresTest, OptionalTokensAndExtraKeys) {
  auto parsed = ParseScores(
      "{\"dataset\":\"d\",\"id\":\"1\",\"label\":\"safe\",\"p_unsafe\":0,\"n_tokens\":null,"
      "\"extra\":[1]}\n",
      "s");
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  EXPECT_FALSE(parsed->records[0].n_tokens.has_value());
}

TEST(ScoresTest, WriterAppendsAndResumesAfterAKill) {
  const std::string path = TempPath("scores.jsonl");
  {
    auto w = ScoresWriter::Open(path);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    ASSERT_TRUE((*w)->Append(Rec("d", "1", true, 0.9, 10)).ok());
    ASSERT_TRUE((*w)->Append(Rec("d", "2", false, 0.1, 11)).ok());
    EXPECT_FALSE((*w)->Append(Rec("d", "x", false, std::nan(""))).ok());
    ASSERT_TRUE((*w)->Close().ok());
    EXPECT_FALSE((*w)->Append(Rec("d", "3", false, 0.1)).ok());
  }
  // A killed run leaves half a line.
  std::ofstream(path, std::ios::app | std::ios::binary) << "{\"dataset\":\"d\",\"id\":\"3\"";
  auto read = ReadScores(path);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->complete_lines, 2u);
  EXPECT_GT(read->partial_bytes, 0u);
  {
    auto w = ScoresWriter::Open(path, read->complete_bytes);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    ASSERT_TRUE((*w)->Append(Rec("d", "3", true, 0.7, 12)).ok());
  }  // destructor closes
  auto again = ReadScores(path);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  ASSERT_EQ(again->complete_lines, 3u);
  EXPECT_EQ(again->partial_bytes, 0u);
  EXPECT_EQ(again->records[2].id, "3");
  EXPECT_EQ(again->records[2].p_unsafe, 0.7);
  // Resuming past the end is refused.
  EXPECT_FALSE(ScoresWriter::Open(path, again->complete_bytes + 100).ok());
  // Opening without resume truncates.
  ASSERT_TRUE(ScoresWriter::Open(path).ok());
  auto empty = ReadScores(path);
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->complete_lines, 0u);
}

TEST(ScoresTest, MissingFile) {
  auto r = ReadScores(TempPath("nope.jsonl"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kNotFound);
}

}  // namespace
}  // namespace ccguard::eval

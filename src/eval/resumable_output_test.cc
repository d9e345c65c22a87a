#include "eval/resumable_output.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace ccguard::eval {
namespace {

namespace fs = std::filesystem;

std::string Read(const std::string& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Fresh(const std::string& name) {
  const fs::path dir = fs::path(testing::TempDir()) / "resumable_output";
  fs::create_directories(dir);
  const std::string p = (dir / name).string();
  fs::remove(p);
  fs::remove(ResumableOutput::ProgressPath(p));
  return p;
}

const Json kId = {{"compute", "fp32"}, {"shard", "0/2"}};

TEST(ResumableOutputTest, CommitsResumeAndFinish) {
  const std::string p = Fresh("a.jsonl");
  {
    auto o = ResumableOutput::Open(p, kId);
    ASSERT_TRUE(o.ok()) << o.status().ToString();
    EXPECT_EQ((*o)->rows_done(), 0u);
    ASSERT_TRUE((*o)->Append("{\"row\":0}\n{\"row\":2}\n").ok());
    ASSERT_TRUE((*o)->Commit(2).ok());
    // Written but not committed when the process dies: dropped on resume.
    ASSERT_TRUE((*o)->Append("{\"row\":4}\n{\"ro").ok());
  }
  {
    auto o = ResumableOutput::Open(p, kId);
    ASSERT_TRUE(o.ok()) << o.status().ToString();
    EXPECT_EQ((*o)->rows_done(), 2u);
    EXPECT_FALSE((*o)->complete());
    EXPECT_EQ(Read(p), "{\"row\":0}\n{\"row\":2}\n");
    ASSERT_TRUE((*o)->Append("{\"row\":4}\n").ok());
    ASSERT_TRUE((*o)->Commit(1).ok());
    ASSERT_TRUE((*o)->Finish().ok());
  }
  auto done = ResumableOutput::Open(p, kId);
  ASSERT_TRUE(done.ok());
  EXPECT_TRUE((*done)->complete());
  EXPECT_EQ((*done)->rows_done(), 3u);
  EXPECT_EQ(Read(p), "{\"row\":0}\n{\"row\":2}\n{\"row\":4}\n");
}

TEST(ResumableOutputTest, OtherSettingsAreRefusedNamingThem) {
  const std::string p = Fresh("b.jsonl");
  ASSERT_TRUE(ResumableOutput::Open(p, kId).ok());
  Json other = kId;
  other["shard"] = "1/2";
  auto o = ResumableOutput::Open(p, other);
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.status().message().find("shard \"0/2\"; this run has \"1/2\""), std::string::npos)
      << o.status().message();
}

TEST(ResumableOutputTest, NeverOverwritesAFileItDidNotWrite) {
  const std::string p = Fresh("c.jsonl");
  std::ofstream(p) << "precious\n";
  auto o = ResumableOutput::Open(p, kId);
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.status().message().find("not written by a resumable run"), std::string::npos);
  EXPECT_EQ(Read(p), "precious\n");
}

TEST(ResumableOutputTest, CorruptProgressIsAnError) {
  const std::string p = Fresh("d.jsonl");
  {
    auto o = ResumableOutput::Open(p, kId);
    ASSERT_TRUE(o.ok());
    ASSERT_TRUE((*o)->Append("{\"row\":0}\n").ok());
    ASSERT_TRUE((*o)->Commit(1).ok());
  }
  // The output lost bytes the progress file vouches for.
  fs::resize_file(p, 3);
  auto shorter = ResumableOutput::Open(p, kId);
  ASSERT_FALSE(shorter.ok());
  EXPECT_EQ(shorter.status().code(), Status::Code::kCorruption);
  EXPECT_NE(shorter.status().message().find("records 10 bytes"), std::string::npos)
      << shorter.status().message();
  // A progress file that is not a record.
  std::ofstream(ResumableOutput::ProgressPath(p)) << "{\"identity\": {}}";
  auto bad = ResumableOutput::Open(p, kId);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Status::Code::kCorruption);
  std::ofstream(ResumableOutput::ProgressPath(p)) << "{";
  EXPECT_FALSE(ResumableOutput::Open(p, kId).ok());
}

}  // namespace
}  // namespace ccguard::eval

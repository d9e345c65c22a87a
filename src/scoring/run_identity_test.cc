#include "scoring/run_identity.h"

#include <gtest/gtest.h>

namespace ccguard {
namespace {

TEST(RunIdentityTest, SnapshotRevision) {
  const std::string commit = "0123456789abcdef0123456789abcdef01234567";
  EXPECT_EQ(SnapshotRevision("/c/models--Qwen--Qwen3-1.7B/snapshots/" + commit), commit);
  EXPECT_EQ(SnapshotRevision("/c/models--Qwen--Qwen3-1.7B/snapshots/" + commit + "/"), commit);
  EXPECT_FALSE(SnapshotRevision("/models/qwen").has_value());
  EXPECT_FALSE(SnapshotRevision("/c/snapshots/main").has_value());
  EXPECT_FALSE(SnapshotRevision("/c/other/" + commit).has_value());
  EXPECT_FALSE(SnapshotRevision("").has_value());
}

TEST(RunIdentityTest, SameRecordsPass) {
  Json a = {{"compute", "bf16"}, {"model", {{"dir", "/m"}, {"revision", nullptr}}}};
  EXPECT_TRUE(CheckSameIdentity(a, a, "run.json").ok());
}

TEST(RunIdentityTest, DifferencesNameTheSetting) {
  const Json recorded = {{"compute", "fp32"},
                         {"device", "cpu"},
                         {"model", {{"dir", "/m"}, {"revision", "aaaa"}}},
                         {"adapter", nullptr}};
  struct Case {
    Json current;
    const char* needle;
  } cases[] = {
      {{{"compute", "bf16"},
        {"device", "cpu"},
        {"model", {{"dir", "/m"}, {"revision", "aaaa"}}},
        {"adapter", nullptr}},
       "was made with compute \"fp32\"; this run has \"bf16\""},
      {{{"compute", "fp32"},
        {"device", "cpu"},
        {"model", {{"dir", "/m"}, {"revision", "bbbb"}}},
        {"adapter", nullptr}},
       "model.revision \"aaaa\"; this run has \"bbbb\""},
      {{{"compute", "fp32"},
        {"device", "cpu"},
        {"model", {{"dir", "/m"}, {"revision", "aaaa"}}},
        {"adapter", {{"dir", "/a"}, {"revision", nullptr}}}},
       "adapter null; this run has {"},
      // A record of an older version lacks a setting: named too.
      {{{"compute", "fp32"},
        {"device", "cpu"},
        {"model", {{"dir", "/m"}, {"revision", "aaaa"}}},
        {"adapter", nullptr},
        {"backend", "x"}},
       "backend (not recorded); this run has \"x\""},
      {{{"compute", "fp32"},
        {"model", {{"dir", "/m"}, {"revision", "aaaa"}}},
        {"adapter", nullptr}},
       "device \"cpu\"; this run has (not recorded)"},
  };
  for (const auto& c : cases) {
    Status s = CheckSameIdentity(recorded, c.current, "the run in out/ (run.json)");
    ASSERT_FALSE(s.ok()) << c.current.dump();
    EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
    EXPECT_NE(s.message().find(c.needle), std::string::npos) << s.message();
    EXPECT_EQ(s.message().rfind("the run in out/ (run.json) was made with ", 0), 0u) << s.message();
  }
}

TEST(RunIdentityTest, TheChosenSettingIsNamedBeforeWhatFollowsFromIt) {
  // compute changes the backend string too; compute is named (keys sort
  // "backend" first).
  const Json a = {{"backend", "cpu(bf16)"}, {"compute", "bf16"}, {"aaa", 1}};
  const Json b = {{"backend", "cpu(fp32)"}, {"compute", "fp32"}, {"aaa", 2}};
  Status s = CheckSameIdentity(a, b, "run.json");
  EXPECT_NE(s.message().find("with compute \"bf16\""), std::string::npos) << s.message();
}

}  // namespace
}  // namespace ccguard

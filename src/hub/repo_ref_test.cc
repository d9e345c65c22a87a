#include "hub/repo_ref.h"

#include <gtest/gtest.h>

namespace ccguard::hub {
namespace {

TEST(RepoRefTest, ParsesRepoAndRevision) {
  auto r = ParseRepoRef("Qwen/Qwen3-1.7B");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->repo, "Qwen/Qwen3-1.7B");
  EXPECT_EQ(r->revision, "main");
  r = ParseRepoRef("imadreamerboy/constitutional-safety-classifier@v1.0");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->repo, "imadreamerboy/constitutional-safety-classifier");
  EXPECT_EQ(r->revision, "v1.0");
  r = ParseRepoRef("org/name@refs/pr/1");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->revision, "refs/pr/1");
}

TEST(RepoRefTest, RejectsWhatIsNoRepoId) {
  for (const char* bad : {"", "name", "/abs/path", "./rel", "a/b/c", "org/", "/name", "org/..",
                          "../x", "org/na me", "org/name@", "org/name@../x", "org/name@a//b",
                          "o--x/name", "org/name@/abs", "~/models/x"}) {
    auto r = ParseRepoRef(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument) << bad;
      EXPECT_NE(r.status().message().find(bad), std::string::npos) << r.status().message();
    }
  }
}

TEST(RepoRefTest, CommitHash) {
  EXPECT_TRUE(IsCommitHash("0123456789abcdef0123456789abcdef01234567"));
  EXPECT_TRUE(IsCommitHash("0123456789ABCDEF0123456789ABCDEF01234567"));
  EXPECT_FALSE(IsCommitHash("main"));
  EXPECT_FALSE(IsCommitHash("0123456789abcdef0123456789abcdef0123456"));
  EXPECT_FALSE(IsCommitHash("0123456789abcdef0123456789abcdef0123456g"));
}

TEST(RepoRefTest, SafeRelativePath) {
  EXPECT_TRUE(IsSafeRelativePath("model.safetensors"));
  EXPECT_TRUE(IsSafeRelativePath("sub/dir/model-00001-of-00002.safetensors"));
  for (const char* bad : {"", "/etc/passwd", "../x", "a/../b", "a//b", "a/", "./a", "a\\b"}) {
    EXPECT_FALSE(IsSafeRelativePath(bad)) << bad;
  }
  EXPECT_FALSE(IsSafeRelativePath(std::string_view("a\0b", 3)));
}

}  // namespace
}  // namespace ccguard::hub

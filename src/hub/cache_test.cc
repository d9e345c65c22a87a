#include "hub/cache.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "hub/fake_hub.h"
#include "util/mapped_file.h"

namespace ccguard::hub {
namespace {

namespace fs = std::filesystem;
const std::string kCommit = "0123456789abcdef0123456789abcdef01234567";

std::string ReadLink(const std::string& p) { return fs::read_symlink(p).string(); }

TEST(CacheTest, FolderNames) {
  EXPECT_EQ(RepoFolderName("Qwen/Qwen3-1.7B"), "models--Qwen--Qwen3-1.7B");
  RepoCache c("/cache", "org/name");
  EXPECT_EQ(c.dir(), "/cache/models--org--name");
  EXPECT_EQ(c.BlobPath("abc"), "/cache/models--org--name/blobs/abc");
  EXPECT_EQ(c.IncompletePath("abc"), "/cache/models--org--name/blobs/abc.incomplete");
  EXPECT_EQ(c.SnapshotFile(kCommit, "config.json"),
            "/cache/models--org--name/snapshots/" + kCommit + "/config.json");
}

TEST(CacheTest, RefsRoundTripWithoutNewline) {
  testing::TempDir dir;
  RepoCache c(dir.path(), "org/name");
  auto missing = c.ReadRef("main");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Status::Code::kNotFound);
  EXPECT_NE(missing.status().message().find("refs/main"), std::string::npos);
  ASSERT_TRUE(c.WriteRef("main", kCommit).ok());
  ASSERT_TRUE(c.WriteRef("refs/pr/1", kCommit).ok());
  auto content = ReadFileToString(c.dir() + "/refs/main");
  ASSERT_TRUE(content.ok());
  EXPECT_EQ(*content, kCommit);  // exactly as huggingface_hub writes it
  EXPECT_EQ(*c.ReadRef("main"), kCommit);
  EXPECT_EQ(*c.ReadRef("refs/pr/1"), kCommit);
  EXPECT_EQ(*c.ReadRef(kCommit), kCommit);  // a commit names itself
  // A ref written by hand with a newline is read too.
  std::ofstream(c.dir() + "/refs/v1") << kCommit << "\n";
  EXPECT_EQ(*c.ReadRef("v1"), kCommit);
  std::ofstream(c.dir() + "/refs/bad") << "not a commit";
  EXPECT_EQ(c.ReadRef("bad").status().code(), Status::Code::kCorruption);
  EXPECT_FALSE(c.WriteRef("main", "nothex").ok());
  // No temporary files are left behind.
  for (const auto& e : fs::recursive_directory_iterator(c.dir() + "/refs")) {
    EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << e.path();
  }
}

TEST(CacheTest, BlobAndRelativeSymlinks) {
  testing::TempDir dir;
  RepoCache c(dir.path(), "org/name");
  fs::create_directories(c.dir() + "/blobs");
  const std::string etag = "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391";
  EXPECT_FALSE(c.HasBlob(etag));
  std::ofstream(c.IncompletePath(etag)) << "";
  ASSERT_TRUE(c.CommitBlob(c.IncompletePath(etag), etag).ok());
  EXPECT_TRUE(c.HasBlob(etag));
  EXPECT_FALSE(fs::exists(c.IncompletePath(etag)));

  EXPECT_FALSE(c.HasFile(kCommit, "config.json"));
  ASSERT_TRUE(c.LinkSnapshotFile(kCommit, "config.json", etag).ok());
  EXPECT_TRUE(fs::is_symlink(c.SnapshotFile(kCommit, "config.json")));
  EXPECT_EQ(ReadLink(c.SnapshotFile(kCommit, "config.json")), "../../blobs/" + etag);
  EXPECT_TRUE(c.HasFile(kCommit, "config.json"));
  // Nested names get one more "../" per level.
  ASSERT_TRUE(c.LinkSnapshotFile(kCommit, "sub/dir/x.json", etag).ok());
  EXPECT_EQ(ReadLink(c.SnapshotFile(kCommit, "sub/dir/x.json")), "../../../../blobs/" + etag);
  EXPECT_TRUE(c.HasFile(kCommit, "sub/dir/x.json"));
  // Linking again replaces the link.
  ASSERT_TRUE(c.LinkSnapshotFile(kCommit, "config.json", etag).ok());
  // A dangling link is not a file.
  ASSERT_TRUE(c.LinkSnapshotFile(kCommit, "gone.json", "0000").ok());
  EXPECT_FALSE(c.HasFile(kCommit, "gone.json"));
  // Names that would leave the cache are refused.
  EXPECT_FALSE(c.LinkSnapshotFile(kCommit, "../escape", etag).ok());
  EXPECT_FALSE(c.LinkSnapshotFile(kCommit, "x", "../../etc").ok());
  EXPECT_FALSE(c.LockBlob("a/b").ok());
}

TEST(CacheTest, LockFileWhereHuggingfaceHubPutsIt) {
  testing::TempDir dir;
  RepoCache c(dir.path(), "org/name");
  auto lock = c.LockBlob("abc");
  ASSERT_TRUE(lock.ok()) << lock.status().ToString();
  EXPECT_TRUE(fs::exists(dir / ".locks/models--org--name/abc.lock"));
  // A second lock on the same blob (its own open file, as another process has) waits until the
  // first is released.
  std::atomic<bool> second_held{false};
  std::thread other([&] {
    RepoCache c2(dir.path(), "org/name");
    auto l2 = c2.LockBlob("abc");
    second_held = l2.ok();
  });
  ::usleep(200 * 1000);
  EXPECT_FALSE(second_held);
  lock = c.LockBlob("other");  // releases "abc"
  other.join();
  EXPECT_TRUE(second_held);
}

}  // namespace
}  // namespace ccguard::hub

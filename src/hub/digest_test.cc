#include "hub/digest.h"

#include <gtest/gtest.h>

#include <fstream>

#include "hub/fake_hub.h"

namespace ccguard::hub {
namespace {

TEST(DigestTest, KnownVectors) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // `git hash-object` of "hello\n" and of an empty file.
  EXPECT_EQ(GitBlobSha1Hex("hello\n"), "ce013625030ba8dba906f756967f9e9ca394464a");
  EXPECT_EQ(GitBlobSha1Hex(""), "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
}

TEST(DigestTest, FilesMatchStrings) {
  testing::TempDir dir;
  std::string big(3 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 131 + (i >> 9));
  std::ofstream(dir / "f", std::ios::binary) << big;
  auto sha = Sha256File(dir / "f");
  ASSERT_TRUE(sha.ok()) << sha.status().ToString();
  EXPECT_EQ(*sha, Sha256Hex(big));
  auto git = GitBlobSha1File(dir / "f");
  ASSERT_TRUE(git.ok());
  EXPECT_EQ(*git, GitBlobSha1Hex(big));
}

TEST(DigestTest, MissingFileIsIOError) {
  auto r = Sha256File("/nonexistent/ccguard/file");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kIOError);
  EXPECT_NE(r.status().message().find("/nonexistent/ccguard/file"), std::string::npos);
}

}  // namespace
}  // namespace ccguard::hub

#include "hub/client.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "hub/fake_hub.h"
#include "util/digest.h"
#include "util/mapped_file.h"

namespace ccguard::hub {
namespace {

namespace fs = std::filesystem;
using testing::FakeHub;
using testing::FakeRepo;

const std::string kCommit = "1111111111111111111111111111111111111111";
const std::string kBase = std::string(CCGUARD_FIXTURES) + "/tiny-a/base";

class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::IsolateHubEnvironment();
    FakeRepo repo = FakeHub::RepoFromFolder(kBase, kCommit);
    repo.unserved_siblings = {"README.md", ".gitattributes"};
    hub_.AddRepo("tiny/base", repo);
    FakeRepo priv = repo;
    priv.access = FakeRepo::Access::kPrivate;
    hub_.AddRepo("tiny/private", priv);
    FakeRepo gated = repo;
    gated.access = FakeRepo::Access::kGatedDenied;
    hub_.AddRepo("tiny/gated", gated);
  }
  HubClient Client(const std::string& token = "") {
    ClientOptions o;
    o.endpoint = hub_.endpoint();
    o.token = token;
    return HubClient(o);
  }
  std::string Fixture(const std::string& file) { return *ReadFileToString(kBase + "/" + file); }

  FakeHub hub_;
  testing::TempDir dir_;
};

TEST_F(ClientTest, RepoInfo) {
  HubClient c = Client();
  auto info = c.GetRepoInfo("tiny/base", "main");
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->commit, kCommit);
  EXPECT_NE(std::find(info->files.begin(), info->files.end(), "model.safetensors"),
            info->files.end());
  EXPECT_NE(std::find(info->files.begin(), info->files.end(), "README.md"), info->files.end());
  EXPECT_EQ(c.last_failure(), Failure::kNone);
}

TEST_F(ClientTest, MetadataOfASmallFileIsItsGitBlobId) {
  HubClient c = Client();
  auto m = c.GetFileMetadata("tiny/base", "main", "config.json");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->commit, kCommit);
  EXPECT_FALSE(m->lfs);
  EXPECT_EQ(m->etag, GitBlobSha1Hex(Fixture("config.json")));
  EXPECT_EQ(m->size, static_cast<int64_t>(Fixture("config.json").size()));
}

TEST_F(ClientTest, MetadataOfAnLfsFileComesFromTheHubNotTheCdn) {
  HubClient c = Client();
  auto m = c.GetFileMetadata("tiny/base", kCommit, "model.safetensors");
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_TRUE(m->lfs);
  EXPECT_EQ(m->etag, Sha256Hex(Fixture("model.safetensors")));
  EXPECT_EQ(m->size, static_cast<int64_t>(Fixture("model.safetensors").size()));
  EXPECT_EQ(hub_.Count("", "/cdn/"), 0);  // the redirect to another host was not followed
  EXPECT_EQ(hub_.Count("HEAD", "/resolve/"), 1);
}

TEST_F(ClientTest, NotFoundErrors) {
  HubClient c = Client();
  auto r = c.GetRepoInfo("tiny/nope", "main");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kNotFound);
  EXPECT_EQ(c.last_failure(), Failure::kNotFound);
  EXPECT_NE(r.status().message().find("repository 'tiny/nope' not found"), std::string::npos)
      << r.status().message();
  r = c.GetRepoInfo("tiny/base", "v9");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kNotFound);
  EXPECT_NE(r.status().message().find("revision 'v9'"), std::string::npos);
  auto m = c.GetFileMetadata("tiny/base", "main", "missing.json");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), Status::Code::kNotFound);
  EXPECT_NE(m.status().message().find("missing.json"), std::string::npos);
}

TEST_F(ClientTest, PrivateRepoNeedsAToken) {
  HubClient anonymous = Client();
  auto r = anonymous.GetRepoInfo("tiny/private", "main");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(anonymous.last_failure(), Failure::kDenied);
  EXPECT_NE(r.status().message().find("HTTP 401"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("HF_TOKEN"), std::string::npos) << r.status().message();
  hub_.RequireToken("hf_good");
  HubClient wrong = Client("hf_bad");
  r = wrong.GetRepoInfo("tiny/private", "main");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("rejected the token"), std::string::npos);
  HubClient good = Client("hf_good");
  EXPECT_TRUE(good.GetRepoInfo("tiny/private", "main").ok());
}

TEST_F(ClientTest, GatedRepoIsForbidden) {
  HubClient c = Client("hf_any");
  auto r = c.GetRepoInfo("tiny/gated", "main");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(c.last_failure(), Failure::kDenied);
  EXPECT_NE(r.status().message().find("HTTP 403"), std::string::npos);
  EXPECT_NE(r.status().message().find("gated"), std::string::npos) << r.status().message();
}

TEST_F(ClientTest, NetworkDown) {
  const std::string endpoint = hub_.endpoint();
  hub_.Stop();
  HubClient c = Client();
  auto r = c.GetRepoInfo("tiny/base", "main");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(c.last_failure(), Failure::kNetwork);
  EXPECT_EQ(r.status().code(), Status::Code::kIOError);
  EXPECT_NE(r.status().message().find("cannot connect to 127.0.0.1"), std::string::npos)
      << r.status().message();
  EXPECT_NE(r.status().message().find("HF_HUB_OFFLINE"), std::string::npos);
}

TEST_F(ClientTest, BadEndpoint) {
  ClientOptions o;
  o.endpoint = "ftp://127.0.0.1";
  HubClient c(o);
  auto r = c.GetRepoInfo("tiny/base", "main");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
}

TEST_F(ClientTest, DownloadFollowsTheRedirectWithoutTheToken) {
  hub_.RequireToken("hf_secret");
  HubClient c = Client("hf_secret");
  const std::string out = dir_ / "model";
  int64_t last = -1;
  Status s = c.Download(c.FileUrl("tiny/base", "main", "model.safetensors"), out, "model",
                        [&](int64_t done, int64_t) { last = done; });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(*ReadFileToString(out), Fixture("model.safetensors"));
  EXPECT_EQ(last, static_cast<int64_t>(Fixture("model.safetensors").size()));
  int hub_requests = 0, cdn_requests = 0;
  for (const auto& e : hub_.log()) {
    if (e.server == "hub") {
      ++hub_requests;
      EXPECT_EQ(e.authorization, "Bearer hf_secret");
    } else {
      ++cdn_requests;
      EXPECT_EQ(e.authorization, "") << "the token went to the CDN at " << hub_.cdn_ip();
    }
  }
  EXPECT_EQ(hub_requests, 1);
  EXPECT_EQ(cdn_requests, 1);
  // Another host when 127.0.0.2 can be bound, else another port: another origin either way.
  RecordProperty("cdn_ip", hub_.cdn_ip());
}

TEST_F(ClientTest, DownloadResumesWithRange) {
  HubClient c = Client();
  const std::string full = Fixture("model.safetensors");
  const std::string out = dir_ / "model.incomplete";
  std::ofstream(out, std::ios::binary) << full.substr(0, 12345);
  Status s = c.Download(c.FileUrl("tiny/base", "main", "model.safetensors"), out, "model", {});
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(*ReadFileToString(out), full);
  bool ranged = false;
  for (const auto& e : hub_.log()) ranged |= e.server == "cdn" && e.range == "bytes=12345-";
  EXPECT_TRUE(ranged);
  // Already complete: the server answers 416 and the file is left as is.
  ASSERT_TRUE(c.Download(c.FileUrl("tiny/base", "main", "model.safetensors"), out, "m", {}).ok());
  EXPECT_EQ(*ReadFileToString(out), full);
}

TEST_F(ClientTest, CutTransferIsInterruptedAndKeepsWhatArrived) {
  HubClient c = Client();
  const std::string full = Fixture("model.safetensors");
  const std::string out = dir_ / "model.incomplete";
  hub_.CutNextDownloads(1);
  const std::string url = c.FileUrl("tiny/base", "main", "model.safetensors");
  Status s = c.Download(url, out, "model", {});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(c.last_failure(), Failure::kInterrupted);
  EXPECT_NE(s.message().find("broke off"), std::string::npos) << s.message();
  const auto partial = fs::file_size(out);
  EXPECT_GT(partial, 0u);
  EXPECT_LT(partial, full.size());
  ASSERT_TRUE(c.Download(url, out, "model", {}).ok());
  EXPECT_EQ(*ReadFileToString(out), full);
}

TEST_F(ClientTest, DiskFull) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  HubClient c = Client();
  const std::string out = dir_ / "model.incomplete";
  fs::create_symlink("/dev/full", out);  // every write fails with ENOSPC
  Status s = c.Download(c.FileUrl("tiny/base", "main", "config.json"), out, "config", {});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(c.last_failure(), Failure::kDiskFull);
  EXPECT_EQ(s.code(), Status::Code::kResourceExhausted);
  EXPECT_NE(s.message().find("disk full"), std::string::npos) << s.message();
}

TEST_F(ClientTest, FileUrlEncodesRevisionAndName) {
  ClientOptions o;
  o.endpoint = "https://hub.example/";
  HubClient c(o);
  EXPECT_EQ(c.FileUrl("org/name", "refs/pr/1", "sub dir/a+b.json"),
            "https://hub.example/org/name/resolve/refs%2Fpr%2F1/sub%20dir/a%2Bb.json");
}

}  // namespace
}  // namespace ccguard::hub

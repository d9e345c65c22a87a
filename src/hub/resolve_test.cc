// Acceptance tests of the hub module against a local stand-in for the hub (fake_hub.h): fresh
// download, reuse without network, resume, corruption, 401/403/404, offline mode, disk full,
// and caches laid out by hand exactly as huggingface_hub lays them out.
#include "hub/resolve.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "hub/cache.h"
#include "hub/fake_hub.h"
#include "util/digest.h"
#include "util/mapped_file.h"

namespace ccguard::hub {
namespace {

namespace fs = std::filesystem;
using testing::FakeHub;
using testing::FakeRepo;

const std::string kBaseCommit = "1111111111111111111111111111111111111111";
const std::string kAdapterCommit = "2222222222222222222222222222222222222222";
const std::string kNewCommit = "3333333333333333333333333333333333333333";
const std::string kBase = std::string(CCGUARD_FIXTURES) + "/tiny-a/base";
const std::string kAdapter = std::string(CCGUARD_FIXTURES) + "/tiny-a/adapter";
const std::vector<std::string> kBaseFiles = {"config.json", "generation_config.json",
                                             "model.safetensors", "tokenizer.json",
                                             "tokenizer_config.json"};

std::string Read(const std::string& path) {
  auto r = ReadFileToString(path);
  return r.ok() ? *r : "<" + r.status().ToString() + ">";
}

class ResolveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::IsolateHubEnvironment();
    FakeRepo base = FakeHub::RepoFromFolder(kBase, kBaseCommit);
    base.unserved_siblings = {"README.md", ".gitattributes", "pytorch_model.bin", "merges.txt"};
    hub_.AddRepo("tiny/base", base);
    hub_.AddRepo("tiny/adapter", FakeHub::RepoFromFolder(kAdapter, kAdapterCommit));
    opts_.endpoint = hub_.endpoint();
    opts_.cache_dir = cache_.path();
    opts_.warn = [this](const std::string& w) { warnings_.push_back(w); };
  }

  std::string Snapshot(const std::string& repo, const std::string& commit) {
    return RepoCache(cache_.path(), repo).SnapshotDir(commit);
  }

  // The snapshot holds every file of `source` as a relative symlink ../../blobs/<etag> to a
  // blob named by its sha256 (LFS: *.safetensors and files over 1 MB) or git blob sha1, refs/main
  // holds the commit, and nothing else is left in blobs/.
  void ExpectHuggingfaceHubLayout(const std::string& repo, const std::string& commit,
                                  const std::string& source,
                                  const std::vector<std::string>& files) {
    RepoCache c(cache_.path(), repo);
    EXPECT_EQ(Read(c.dir() + "/refs/main"), commit);
    std::set<std::string> blobs;
    for (const auto& f : files) {
      SCOPED_TRACE(f);
      const std::string link = c.SnapshotFile(commit, f);
      ASSERT_TRUE(fs::is_symlink(link));
      const std::string content = Read(source + "/" + f);
      const bool lfs = f.find(".safetensors") != std::string::npos || content.size() > (1u << 20);
      const std::string etag = lfs ? Sha256Hex(content) : GitBlobSha1Hex(content);
      EXPECT_EQ(fs::read_symlink(link).string(), "../../blobs/" + etag);
      EXPECT_TRUE(fs::is_regular_file(c.BlobPath(etag)));
      EXPECT_FALSE(fs::is_symlink(c.BlobPath(etag)));
      EXPECT_EQ(Read(link), content);
      blobs.insert(etag);
    }
    std::set<std::string> in_blobs;
    for (const auto& e : fs::directory_iterator(c.dir() + "/blobs")) {
      in_blobs.insert(e.path().filename().string());
    }
    EXPECT_EQ(in_blobs, blobs);  // no *.incomplete, no temporary files
    size_t entries = 0;
    for (const auto& e : fs::directory_iterator(c.SnapshotDir(commit))) {
      (void)e;
      ++entries;
    }
    EXPECT_EQ(entries, files.size());
  }

  // "bytes=N-" of the requests for `path_part` on `server`, in order ("" for none).
  std::vector<std::string> Ranges(const std::string& server, const std::string& path_part) {
    std::vector<std::string> out;
    for (const auto& e : hub_.log()) {
      if (e.server == server && e.method == "GET" && e.path.find(path_part) != std::string::npos) {
        out.push_back(e.range);
      }
    }
    return out;
  }

  std::string ModelCdnPath() { return FakeHub::CdnPath(Read(kBase + "/model.safetensors")); }
  std::string ModelBlob() {
    return RepoCache(cache_.path(), "tiny/base")
        .BlobPath(Sha256Hex(Read(kBase + "/model.safetensors")));
  }

  FakeHub hub_;
  testing::TempDir cache_;
  ResolveOptions opts_;
  std::vector<std::string> warnings_;
};

TEST_F(ResolveTest, FreshDownloadIntoAnEmptyCache) {
  opts_.progress = true;
  ::testing::internal::CaptureStderr();
  auto dir = Pull("tiny/base", opts_);
  const std::string err = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(dir.ok()) << dir.status().ToString();
  EXPECT_EQ(*dir, Snapshot("tiny/base", kBaseCommit));
  ExpectHuggingfaceHubLayout("tiny/base", kBaseCommit, kBase, kBaseFiles);
  // Only the wanted files were fetched; README, pickles and merges.txt were not.
  for (const char* f : {"README.md", "pytorch_model.bin", "merges.txt", ".gitattributes"}) {
    EXPECT_EQ(hub_.Count("", f), 0) << f;
  }
  // Stderr is no terminal here: one line per downloaded file.
  EXPECT_NE(err.find("downloading tiny/base/model.safetensors (9.79 MB)"), std::string::npos)
      << err;
  EXPECT_TRUE(warnings_.empty());

  auto adapter = ResolveModelRef("tiny/adapter", opts_);
  ASSERT_TRUE(adapter.ok()) << adapter.status().ToString();
  ExpectHuggingfaceHubLayout("tiny/adapter", kAdapterCommit, kAdapter,
                             {"adapter_config.json", "adapter_model.safetensors"});
}

TEST_F(ResolveTest, SecondResolveAsksOnlyForTheCommit) {
  ASSERT_TRUE(Pull("tiny/base", opts_).ok());
  hub_.ClearLog();
  auto dir = ResolveModelRef("tiny/base", opts_);
  ASSERT_TRUE(dir.ok());
  EXPECT_EQ(hub_.Count("", "/api/models/"), 1);
  EXPECT_EQ(hub_.log().size(), 1u);
}

TEST_F(ResolveTest, CacheIsReusedWithoutNetwork) {
  ASSERT_TRUE(Pull("tiny/base", opts_).ok());
  hub_.Stop();  // network down
  auto dir = ResolveModelRef("tiny/base", opts_);
  ASSERT_TRUE(dir.ok()) << dir.status().ToString();
  EXPECT_EQ(*dir, Snapshot("tiny/base", kBaseCommit));
  ASSERT_EQ(warnings_.size(), 1u);
  EXPECT_NE(warnings_[0].find("cannot connect"), std::string::npos) << warnings_[0];
  EXPECT_NE(warnings_[0].find("using the cached snapshot " + kBaseCommit), std::string::npos);
  // A pinned commit already in the cache needs no network at all: no warning.
  warnings_.clear();
  ASSERT_TRUE(ResolveModelRef("tiny/base@" + kBaseCommit, opts_).ok());
  EXPECT_TRUE(warnings_.empty());
  // Offline mode: the cache, silently.
  opts_.offline = true;
  ASSERT_TRUE(ResolveModelRef("tiny/base", opts_).ok());
  EXPECT_TRUE(warnings_.empty());
  // Pull insists on the hub.
  opts_.offline = false;
  auto pulled = Pull("tiny/base", opts_);
  ASSERT_FALSE(pulled.ok());
  EXPECT_EQ(pulled.status().code(), Status::Code::kIOError);
}

TEST_F(ResolveTest, NetworkDownAndNothingCached) {
  hub_.Stop();
  auto dir = ResolveModelRef("tiny/base", opts_);
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.status().code(), Status::Code::kIOError);
  EXPECT_NE(dir.status().message().find("cannot connect"), std::string::npos);
  EXPECT_TRUE(warnings_.empty());
}

TEST_F(ResolveTest, InterruptedTransferIsResumedInTheSameRun) {
  hub_.CutNextDownloads(2, "/cdn/");
  auto dir = Pull("tiny/base", opts_);
  ASSERT_TRUE(dir.ok()) << dir.status().ToString();
  ExpectHuggingfaceHubLayout("tiny/base", kBaseCommit, kBase, kBaseFiles);
  // tokenizer.json and model.safetensors each: cut at half, then resumed from there.
  int resumed = 0;
  for (const auto& e : hub_.log()) resumed += e.server == "cdn" && !e.range.empty();
  EXPECT_EQ(resumed, 2);
}

TEST_F(ResolveTest, InterruptedRunIsResumedByTheNextRun) {
  hub_.CutNextDownloads(4, ModelCdnPath());  // more breaks than one run retries
  auto dir = Pull("tiny/base", opts_);
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.status().code(), Status::Code::kIOError);
  EXPECT_NE(dir.status().message().find("model.safetensors"), std::string::npos);
  EXPECT_NE(dir.status().message().find("broke off"), std::string::npos);
  // Nothing looks complete: no blob, no symlink, no ref; the partial file waits for a resume.
  const std::string blob = ModelBlob();
  EXPECT_FALSE(fs::exists(blob));
  ASSERT_TRUE(fs::exists(blob + ".incomplete"));
  const auto partial = fs::file_size(blob + ".incomplete");
  EXPECT_GT(partial, 0u);
  EXPECT_FALSE(fs::exists(Snapshot("tiny/base", kBaseCommit) + "/model.safetensors"));
  EXPECT_FALSE(fs::exists(cache_ / "models--tiny--base/refs/main"));
  opts_.offline = true;
  EXPECT_FALSE(ResolveModelRef("tiny/base", opts_).ok());
  opts_.offline = false;

  hub_.ClearLog();
  dir = Pull("tiny/base", opts_);
  ASSERT_TRUE(dir.ok()) << dir.status().ToString();
  EXPECT_EQ(Ranges("cdn", ModelCdnPath()),
            std::vector<std::string>{"bytes=" + std::to_string(partial) + "-"});
  ExpectHuggingfaceHubLayout("tiny/base", kBaseCommit, kBase, kBaseFiles);
}

TEST_F(ResolveTest, DownloadLeftByACrashIsResumed) {
  const std::string model = Read(kBase + "/model.safetensors");
  fs::create_directories(fs::path(ModelBlob()).parent_path());
  std::ofstream(ModelBlob() + ".incomplete", std::ios::binary) << model.substr(0, model.size() / 3);
  auto dir = Pull("tiny/base", opts_);
  ASSERT_TRUE(dir.ok()) << dir.status().ToString();
  EXPECT_EQ(Ranges("cdn", ModelCdnPath()),
            std::vector<std::string>{"bytes=" + std::to_string(model.size() / 3) + "-"});
  ExpectHuggingfaceHubLayout("tiny/base", kBaseCommit, kBase, kBaseFiles);
}

TEST_F(ResolveTest, BadBytesLeftByAnEarlierRunAreFetchedAfresh) {
  const std::string model = Read(kBase + "/model.safetensors");
  fs::create_directories(fs::path(ModelBlob()).parent_path());
  std::ofstream(ModelBlob() + ".incomplete", std::ios::binary) << std::string(1000, 'x');
  auto dir = Pull("tiny/base", opts_);
  ASSERT_TRUE(dir.ok()) << dir.status().ToString();
  EXPECT_EQ(Ranges("cdn", ModelCdnPath()), (std::vector<std::string>{"bytes=1000-", ""}));
  ExpectHuggingfaceHubLayout("tiny/base", kBaseCommit, kBase, kBaseFiles);
}

TEST_F(ResolveTest, CorruptedDownloadIsDetectedAndDeleted) {
  hub_.CorruptNextDownloads(1, ModelCdnPath());
  auto dir = Pull("tiny/base", opts_);
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.status().code(), Status::Code::kCorruption);
  const std::string& msg = dir.status().message();
  EXPECT_NE(msg.find("checksum mismatch for tiny/base/model.safetensors"), std::string::npos)
      << msg;
  EXPECT_NE(msg.find("sha256"), std::string::npos) << msg;
  EXPECT_NE(msg.find("deleted"), std::string::npos) << msg;
  EXPECT_FALSE(fs::exists(ModelBlob()));
  EXPECT_FALSE(fs::exists(ModelBlob() + ".incomplete"));
  EXPECT_FALSE(fs::exists(Snapshot("tiny/base", kBaseCommit) + "/model.safetensors"));
  EXPECT_FALSE(fs::exists(cache_ / "models--tiny--base/refs/main"));
  // A small (git blob) file is checked too.
  hub_.CorruptNextDownloads(1, "/resolve/" + kBaseCommit + "/tokenizer_config.json");
  RepoCache c(cache_.path(), "tiny/base");
  fs::remove(c.SnapshotFile(kBaseCommit, "tokenizer_config.json"));
  fs::remove(c.BlobPath(GitBlobSha1Hex(Read(kBase + "/tokenizer_config.json"))));
  dir = Pull("tiny/base", opts_);
  ASSERT_FALSE(dir.ok());
  EXPECT_NE(dir.status().message().find("git blob sha1"), std::string::npos)
      << dir.status().message();
  // The next run succeeds.
  ASSERT_TRUE(Pull("tiny/base", opts_).ok());
  ExpectHuggingfaceHubLayout("tiny/base", kBaseCommit, kBase, kBaseFiles);
}

TEST_F(ResolveTest, TokenIsRequiredSentToTheHubAndNotToTheCdn) {
  hub_.RequireToken("hf_secret");
  auto dir = ResolveModelRef("tiny/base", opts_);
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.status().code(), Status::Code::kIOError);
  EXPECT_NE(dir.status().message().find("401"), std::string::npos);
  EXPECT_NE(dir.status().message().find("HF_TOKEN"), std::string::npos);
  EXPECT_TRUE(warnings_.empty());

  // From HF_TOKEN_PATH (a token file), then from HF_TOKEN, then from the options.
  const std::string token_file = cache_ / "token";
  std::ofstream(token_file) << "hf_secret\n";
  ::setenv("HF_TOKEN_PATH", token_file.c_str(), 1);
  ASSERT_TRUE(Pull("tiny/adapter", opts_).ok());
  ::setenv("HF_TOKEN_PATH", "/nonexistent/ccguard-test/token", 1);
  ::setenv("HF_TOKEN", "hf_secret", 1);
  hub_.ClearLog();
  ASSERT_TRUE(Pull("tiny/base", opts_).ok());
  ::unsetenv("HF_TOKEN");
  opts_.token = "hf_secret";
  ASSERT_TRUE(ResolveModelRef("tiny/base", opts_).ok());
  int cdn = 0;
  for (const auto& e : hub_.log()) {
    if (e.server == "hub") {
      EXPECT_EQ(e.authorization, "Bearer hf_secret") << e.path;
    } else {
      ++cdn;
      EXPECT_EQ(e.authorization, "") << "token sent to the CDN: " << e.path;
    }
  }
  EXPECT_EQ(cdn, 2);  // tokenizer.json and model.safetensors
}

TEST_F(ResolveTest, UnknownRepoOrRevisionIsNotFound) {
  auto dir = ResolveModelRef("tiny/nope", opts_);
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.status().code(), Status::Code::kNotFound);
  EXPECT_NE(dir.status().message().find("repository 'tiny/nope' not found"), std::string::npos)
      << dir.status().message();
  EXPECT_NE(dir.status().message().find("there is no folder 'tiny/nope'"), std::string::npos);
  dir = Pull("tiny/base@v2", opts_);
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.status().code(), Status::Code::kNotFound);
  EXPECT_NE(dir.status().message().find("revision 'v2'"), std::string::npos);
  // Even with the repo in the cache, a 404 is not papered over.
  ASSERT_TRUE(Pull("tiny/base", opts_).ok());
  EXPECT_FALSE(ResolveModelRef("tiny/base@v2", opts_).ok());
  EXPECT_TRUE(warnings_.empty());
}

TEST_F(ResolveTest, GatedRepoIsForbidden) {
  FakeRepo gated = FakeHub::RepoFromFolder(kAdapter, kAdapterCommit);
  gated.access = FakeRepo::Access::kGatedDenied;
  hub_.AddRepo("tiny/gated", gated);
  auto dir = ResolveModelRef("tiny/gated", opts_);
  ASSERT_FALSE(dir.ok());
  EXPECT_NE(dir.status().message().find("403"), std::string::npos);
  EXPECT_NE(dir.status().message().find("gated"), std::string::npos);
}

TEST_F(ResolveTest, OfflineMode) {
  ::setenv("HF_HUB_OFFLINE", "1", 1);
  auto dir = ResolveModelRef("tiny/base", opts_);
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.status().code(), Status::Code::kNotFound);
  EXPECT_NE(dir.status().message().find("offline mode (HF_HUB_OFFLINE)"), std::string::npos);
  EXPECT_NE(dir.status().message().find("refs/main"), std::string::npos) << dir.status().message();
  EXPECT_FALSE(Pull("tiny/base", opts_).ok());
  EXPECT_TRUE(hub_.log().empty());  // no network at all

  ::unsetenv("HF_HUB_OFFLINE");
  ASSERT_TRUE(Pull("tiny/base", opts_).ok());
  hub_.ClearLog();
  ::setenv("HF_HUB_OFFLINE", "1", 1);
  dir = ResolveModelRef("tiny/base", opts_);
  ASSERT_TRUE(dir.ok()) << dir.status().ToString();
  EXPECT_TRUE(Pull("tiny/base", opts_).ok());  // offline pull: checks the cache
  EXPECT_TRUE(hub_.log().empty());
  // A missing file is named.
  fs::remove(ModelBlob());
  dir = ResolveModelRef("tiny/base", opts_);
  ASSERT_FALSE(dir.ok());
  EXPECT_NE(dir.status().message().find("model.safetensors is missing"), std::string::npos)
      << dir.status().message();
  EXPECT_NE(dir.status().message().find("offline"), std::string::npos);
  EXPECT_TRUE(hub_.log().empty());
  ::unsetenv("HF_HUB_OFFLINE");
  // Online again, the missing file is fetched anew.
  ASSERT_TRUE(ResolveModelRef("tiny/base", opts_).ok());
  EXPECT_EQ(hub_.Count("GET", ModelCdnPath()), 1);
}

// A cache laid out by hand exactly as huggingface_hub lays it out is found and used.
TEST_F(ResolveTest, HandMadeHuggingfaceHubCacheIsUsed) {
  const std::string repo_dir = cache_ / "models--tiny--base";
  fs::create_directories(repo_dir + "/blobs");
  fs::create_directories(repo_dir + "/refs");
  fs::create_directories(repo_dir + "/snapshots/" + kBaseCommit);
  for (const auto& f : kBaseFiles) {
    const std::string content = Read(kBase + "/" + f);
    const bool lfs = f.find(".safetensors") != std::string::npos || content.size() > (1u << 20);
    const std::string etag = lfs ? Sha256Hex(content) : GitBlobSha1Hex(content);
    std::ofstream(repo_dir + "/blobs/" + etag, std::ios::binary) << content;
    fs::create_symlink("../../blobs/" + etag, repo_dir + "/snapshots/" + kBaseCommit + "/" + f);
  }
  std::ofstream(repo_dir + "/refs/main") << kBaseCommit;
  // Offline: found.
  opts_.offline = true;
  auto dir = ResolveModelRef("tiny/base", opts_);
  ASSERT_TRUE(dir.ok()) << dir.status().ToString();
  EXPECT_EQ(*dir, repo_dir + "/snapshots/" + kBaseCommit);
  EXPECT_EQ(Read(*dir + "/config.json"), Read(kBase + "/config.json"));
  // Online: the hub names the same commit, so nothing is downloaded.
  opts_.offline = false;
  dir = ResolveModelRef("tiny/base", opts_);
  ASSERT_TRUE(dir.ok()) << dir.status().ToString();
  EXPECT_EQ(hub_.Count("", "/resolve/"), 0);
  EXPECT_EQ(hub_.Count("", "/cdn/"), 0);
  ExpectHuggingfaceHubLayout("tiny/base", kBaseCommit, kBase, kBaseFiles);
}

TEST_F(ResolveTest, MovedBranchGetsANewSnapshotSharingBlobs) {
  ASSERT_TRUE(Pull("tiny/base", opts_).ok());
  FakeRepo updated = FakeHub::RepoFromFolder(kBase, kNewCommit);
  updated.files["generation_config.json"].content = "{\"changed\": true}\n";
  hub_.AddRepo("tiny/base", updated);
  hub_.ClearLog();
  auto dir = ResolveModelRef("tiny/base", opts_);
  ASSERT_TRUE(dir.ok()) << dir.status().ToString();
  EXPECT_EQ(*dir, Snapshot("tiny/base", kNewCommit));
  EXPECT_EQ(Read(*dir + "/generation_config.json"), "{\"changed\": true}\n");
  EXPECT_EQ(Read(cache_ / "models--tiny--base/refs/main"), kNewCommit);
  EXPECT_TRUE(fs::is_directory(Snapshot("tiny/base", kBaseCommit)));  // the old one stays
  EXPECT_EQ(hub_.Count("", "/cdn/"), 0);         // identical contents: blobs reused, only linked
  EXPECT_EQ(hub_.Count("GET", "/resolve/"), 1);  // the changed file only
}

TEST_F(ResolveTest, ShardedModel) {
  FakeRepo sharded;
  sharded.commit = kNewCommit;
  sharded.files["config.json"] = {Read(kBase + "/config.json"), false};
  sharded.files["tokenizer.json"] = {Read(kBase + "/tokenizer.json"), true};
  sharded.files["model.safetensors.index.json"] = {
      R"({"metadata": {}, "weight_map": {"a": "model-00001-of-00002.safetensors",
                                         "b": "model-00002-of-00002.safetensors"}})",
      false};
  sharded.files["model-00001-of-00002.safetensors"] = {"shard one", true};
  sharded.files["model-00002-of-00002.safetensors"] = {"shard two", true};
  sharded.unserved_siblings = {"pytorch_model-00001-of-00002.bin"};
  hub_.AddRepo("tiny/sharded", sharded);
  auto dir = Pull("tiny/sharded", opts_);
  ASSERT_TRUE(dir.ok()) << dir.status().ToString();
  EXPECT_EQ(Read(*dir + "/model-00002-of-00002.safetensors"), "shard two");
  EXPECT_EQ(hub_.Count("", ".bin"), 0);

  // An index naming a shard the repo lacks.
  sharded.files.erase("model-00002-of-00002.safetensors");
  hub_.AddRepo("tiny/broken", sharded);
  dir = Pull("tiny/broken", opts_);
  ASSERT_FALSE(dir.ok());
  EXPECT_NE(dir.status().message().find("model-00002-of-00002.safetensors"), std::string::npos);
}

TEST_F(ResolveTest, RepoWithoutSafetensorsWeights) {
  FakeRepo old;
  old.commit = kNewCommit;
  old.files["config.json"] = {"{}", false};
  old.unserved_siblings = {"pytorch_model.bin"};
  hub_.AddRepo("tiny/pickled", old);
  auto dir = Pull("tiny/pickled", opts_);
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.status().code(), Status::Code::kNotFound);
  EXPECT_NE(dir.status().message().find("no safetensors weights"), std::string::npos);
}

TEST_F(ResolveTest, DiskFull) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  RepoCache c(cache_.path(), "tiny/base");
  fs::create_directories(c.dir() + "/blobs");
  // The first file written: every write to it fails with ENOSPC.
  fs::create_symlink("/dev/full", c.IncompletePath(GitBlobSha1Hex(Read(kBase + "/config.json"))));
  auto dir = Pull("tiny/base", opts_);
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.status().code(), Status::Code::kResourceExhausted);
  EXPECT_NE(dir.status().message().find("disk full"), std::string::npos) << dir.status().message();
  EXPECT_FALSE(fs::exists(c.dir() + "/refs/main"));
}

TEST_F(ResolveTest, LocalFoldersAndBadReferences) {
  auto dir = ResolveModelRef(kBase, opts_);
  ASSERT_TRUE(dir.ok());
  EXPECT_EQ(*dir, kBase);
  EXPECT_TRUE(hub_.log().empty());
  dir = ResolveModelRef("/no/such/folder", opts_);
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.status().code(), Status::Code::kNotFound);
  EXPECT_NE(dir.status().message().find("neither an existing folder nor"), std::string::npos);
  dir = ResolveModelRef(kBase + "/config.json", opts_);
  ASSERT_FALSE(dir.ok());
  EXPECT_EQ(dir.status().code(), Status::Code::kInvalidArgument);
  EXPECT_FALSE(Pull("not a repo", opts_).ok());
  EXPECT_TRUE(hub_.log().empty());
}

TEST_F(ResolveTest, SettingsComeFromTheEnvironment) {
  ::setenv("HF_ENDPOINT", hub_.endpoint().c_str(), 1);
  ::setenv("HF_HOME", (cache_ / "hf_home").c_str(), 1);
  auto dir = ResolveModelRef("tiny/adapter", ResolveOptions{});
  ASSERT_TRUE(dir.ok()) << dir.status().ToString();
  EXPECT_EQ(*dir, cache_ / "hf_home/hub/models--tiny--adapter/snapshots/" + kAdapterCommit);
  ::setenv("HF_HUB_CACHE", (cache_ / "hub_cache").c_str(), 1);
  dir = ResolveModelRef("tiny/adapter", ResolveOptions{});
  ASSERT_TRUE(dir.ok()) << dir.status().ToString();
  EXPECT_EQ(*dir, cache_ / "hub_cache/models--tiny--adapter/snapshots/" + kAdapterCommit);
}

}  // namespace
}  // namespace ccguard::hub

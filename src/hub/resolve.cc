#include "hub/resolve.h"

#include <fnmatch.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <set>

#include "hub/cache.h"
#include "hub/client.h"
#include "hub/env.h"
#include "hub/fetch.h"
#include "hub/progress.h"
#include "hub/repo_files.h"
#include "hub/repo_ref.h"

namespace ccguard::hub {
namespace {

namespace fs = std::filesystem;

struct Settings {
  std::string cache_dir, endpoint, token;
  bool offline = false;
};

Settings Effective(const ResolveOptions& o) {
  Settings s;
  s.cache_dir = o.cache_dir.empty() ? CacheDirFromEnv() : o.cache_dir;
  s.endpoint = o.endpoint.empty() ? EndpointFromEnv() : o.endpoint;
  s.offline = o.offline || OfflineFromEnv();
  if (!s.offline) s.token = o.token.empty() ? TokenFromEnv() : o.token;
  return s;
}

void Warn(const ResolveOptions& o, const std::string& msg) {
  if (o.warn) {
    o.warn(msg);
  } else {
    std::fprintf(stderr, "ccguard: warning: %s\n", msg.c_str());
  }
}

std::string RefName(const RepoRef& r) { return r.repo + "@" + r.revision; }

// The complete cached snapshot of `r`.
Result<std::string> FromCache(const RepoCache& cache, const RepoRef& r) {
  CCG_ASSIGN_OR_RETURN(std::string commit, cache.ReadRef(r.revision));
  const std::string dir = cache.SnapshotDir(commit);
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return Status::NotFound("the cached revision '" + r.revision + "' of '" + r.repo +
                            "' names snapshot " + commit + ", which is missing (" + dir + ")");
  }
  CCG_RETURN_IF_ERROR(CheckFolderFiles(dir));
  return dir;
}

// Offline mode: the cached snapshot, or an error saying why it cannot be used.
Result<std::string> OfflineSnapshot(const RepoCache& cache, const RepoRef& r, const Settings& s) {
  auto dir = FromCache(cache, r);
  if (dir.ok()) return dir;
  return Status::NotFound("'" + RefName(r) + "' is not complete in the Hugging Face cache (" +
                          s.cache_dir + ") and offline mode (HF_HUB_OFFLINE) forbids " +
                          "downloading it: " + dir.status().message());
}

// Asks the hub for the commit and files of `r` and fetches what the snapshot lacks.
Result<std::string> DownloadSnapshot(HubClient& client, const RepoCache& cache, const RepoRef& r,
                                     const ResolveOptions& o) {
  CCG_ASSIGN_OR_RETURN(RepoInfo info, client.GetRepoInfo(r.repo, r.revision));
  CCG_ASSIGN_OR_RETURN(std::vector<std::string> files, SelectFiles(info.files, r.repo));
  FetchOptions fo;
  if (o.progress) {
    const bool tty = StderrIsTerminal();
    fo.progress = [&r, tty](const std::string& file, int64_t size) {
      return std::make_unique<ProgressBar>(r.repo + "/" + file, size, tty);
    };
  }
  const std::set<std::string> have(info.files.begin(), info.files.end());
  for (size_t i = 0; i < files.size(); ++i) {
    CCG_ASSIGN_OR_RETURN(FetchedFile f, FetchFile(client, cache, info.commit, files[i], fo));
    if (files[i] != kIndexFile) continue;
    CCG_ASSIGN_OR_RETURN(std::vector<std::string> shards, IndexShards(f.path));
    for (const auto& shard : shards) {
      if (!have.count(shard)) {
        return Status::NotFound("'" + RefName(r) + "': " + kIndexFile + " names the shard " +
                                shard + ", which the repo does not have");
      }
      files.push_back(shard);
    }
  }
  const std::string dir = cache.SnapshotDir(info.commit);
  Status complete = CheckFolderFiles(dir);
  if (!complete.ok()) {
    return Status::NotFound("'" + RefName(r) +
                            "' is not a usable model or adapter repo: " + complete.message());
  }
  CCG_RETURN_IF_ERROR(cache.WriteRef(r.revision, info.commit));
  return dir;
}

HubClient MakeClient(const Settings& s) {
  ClientOptions c;
  c.endpoint = s.endpoint;
  c.token = s.token;
  c.metadata_timeout_s = SecondsFromEnv("HF_HUB_ETAG_TIMEOUT", c.metadata_timeout_s);
  c.stall_timeout_s = SecondsFromEnv("HF_HUB_DOWNLOAD_TIMEOUT", c.stall_timeout_s);
  return HubClient(c);
}

}  // namespace

Result<std::string> ResolveModelRef(const std::string& ref, const ResolveOptions& o) {
  std::error_code ec;
  if (fs::is_directory(ref, ec)) return ref;
  auto parsed = ParseRepoRef(ref);
  if (!parsed.ok() || fs::exists(ref, ec)) {
    if (fs::exists(ref, ec)) return Status::InvalidArgument("'" + ref + "' is not a folder");
    return Status::NotFound("'" + ref +
                            "' is neither an existing folder nor a Hugging Face repo id "
                            "(org/name[@revision])");
  }
  const RepoRef& r = *parsed;
  const Settings s = Effective(o);
  RepoCache cache(s.cache_dir, r.repo);
  if (s.offline) return OfflineSnapshot(cache, r, s);
  if (IsCommitHash(r.revision)) {
    if (auto dir = FromCache(cache, r); dir.ok()) return dir;
  }
  HubClient client = MakeClient(s);
  auto dir = DownloadSnapshot(client, cache, r, o);
  if (dir.ok()) return dir;
  const Failure f = client.last_failure();
  if (f == Failure::kNetwork || f == Failure::kServer || f == Failure::kInterrupted) {
    if (auto cached = FromCache(cache, r); cached.ok()) {
      Warn(o, dir.status().message() + "; using the cached snapshot " +
                  fs::path(*cached).filename().string() + " of '" + RefName(r) + "'");
      return cached;
    }
  }
  if (f == Failure::kNotFound || f == Failure::kDenied) {
    // The hub also answers 401 for repos that do not exist: a mistyped folder lands here.
    return dir.status().WithContext("there is no folder '" + ref + "'; as a Hugging Face repo");
  }
  return dir.status();
}

Result<std::string> Pull(const std::string& repo_ref, const ResolveOptions& o) {
  CCG_ASSIGN_OR_RETURN(RepoRef r, ParseRepoRef(repo_ref));
  const Settings s = Effective(o);
  RepoCache cache(s.cache_dir, r.repo);
  if (s.offline) return OfflineSnapshot(cache, r, s);
  HubClient client = MakeClient(s);
  return DownloadSnapshot(client, cache, r, o);
}

namespace {

bool IsGlob(const std::string& p) { return p.find_first_of("*?[") != std::string::npos; }

// The files among `have` that `patterns` name; NotFound for a pattern without a match.
Result<std::vector<std::string>> MatchPatterns(const std::vector<std::string>& have,
                                               const std::vector<std::string>& patterns,
                                               const std::string& where) {
  std::set<std::string> out;
  for (const auto& p : patterns) {
    size_t n = 0;
    for (const auto& f : have) {
      if (IsGlob(p) ? ::fnmatch(p.c_str(), f.c_str(), FNM_PATHNAME) == 0 : f == p) {
        out.insert(f);
        ++n;
      }
    }
    if (n == 0) {
      std::string some;
      for (size_t i = 0; i < have.size() && i < 12; ++i) some += (i ? ", " : "") + have[i];
      if (have.size() > 12) some += ", ... (" + std::to_string(have.size()) + " files)";
      return Status::NotFound(where + " has no file " + (IsGlob(p) ? "matching '" : "'") + p + "'" +
                              (have.empty() ? "" : " (it has: " + some + ")"));
    }
  }
  return std::vector<std::string>(out.begin(), out.end());
}

// Files under a cached snapshot, as repo paths (regular files and links to them).
std::vector<std::string> SnapshotFiles(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (fs::is_regular_file(it->path(), ec)) {
      out.push_back(it->path().lexically_relative(dir).generic_string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<DatasetFiles> DatasetFromCache(const RepoCache& cache, const std::string& revision,
                                      const std::vector<std::string>& patterns) {
  CCG_ASSIGN_OR_RETURN(std::string commit, cache.ReadRef(revision));
  const std::string dir = cache.SnapshotDir(commit);
  DatasetFiles d;
  d.repo = cache.repo();
  d.revision = revision;
  d.commit = commit;
  d.from_cache_only = true;
  CCG_ASSIGN_OR_RETURN(d.files,
                       MatchPatterns(SnapshotFiles(dir), patterns, "the cached snapshot " + dir));
  for (const auto& f : d.files) d.paths.push_back(cache.SnapshotFile(commit, f));
  return d;
}

}  // namespace

Result<DatasetFiles> ResolveDatasetFiles(const std::string& repo, const std::string& revision,
                                         const std::vector<std::string>& patterns,
                                         const ResolveOptions& o) {
  CCG_ASSIGN_OR_RETURN(RepoRef r, ParseRepoRef(repo + "@" + revision));
  if (patterns.empty()) return Status::InvalidArgument("dataset '" + repo + "': no file named");
  for (const auto& p : patterns) {
    if (!IsSafeRelativePath(p)) {
      return Status::InvalidArgument("dataset '" + repo + "': the path '" + p +
                                     "' leaves the repo");
    }
  }
  const Settings s = Effective(o);
  RepoCache cache(s.cache_dir, r.repo, RepoType::kDataset);
  const std::string name = "dataset '" + RefName(r) + "'";
  if (s.offline) {
    auto d = DatasetFromCache(cache, r.revision, patterns);
    if (d.ok()) return d;
    return Status::NotFound(
        name + " is not in the Hugging Face cache (" + s.cache_dir +
        ") and offline mode (HF_HUB_OFFLINE) forbids downloading it: " + d.status().message());
  }
  if (IsCommitHash(r.revision)) {
    if (auto d = DatasetFromCache(cache, r.revision, patterns); d.ok()) return d;
  }
  HubClient client = MakeClient(s);
  auto fetched = [&]() -> Result<DatasetFiles> {
    CCG_ASSIGN_OR_RETURN(RepoInfo info, client.GetRepoInfo(r.repo, r.revision, RepoType::kDataset));
    DatasetFiles d;
    d.repo = r.repo;
    d.revision = r.revision;
    d.commit = info.commit;
    std::vector<std::string> have = info.files;
    std::sort(have.begin(), have.end());
    CCG_ASSIGN_OR_RETURN(d.files, MatchPatterns(have, patterns, name));
    FetchOptions fo;
    if (o.progress) {
      const bool tty = StderrIsTerminal();
      fo.progress = [&r, tty](const std::string& file, int64_t size) {
        return std::make_unique<ProgressBar>(r.repo + "/" + file, size, tty);
      };
    }
    for (const auto& f : d.files) {
      CCG_ASSIGN_OR_RETURN(FetchedFile got, FetchFile(client, cache, info.commit, f, fo));
      d.paths.push_back(got.path);
    }
    CCG_RETURN_IF_ERROR(cache.WriteRef(r.revision, info.commit));
    return d;
  }();
  if (fetched.ok()) return fetched;
  const Failure f = client.last_failure();
  if (f == Failure::kNetwork || f == Failure::kServer || f == Failure::kInterrupted) {
    if (auto cached = DatasetFromCache(cache, r.revision, patterns); cached.ok()) {
      Warn(o, fetched.status().message() + "; using the cached snapshot " + cached->commit +
                  " of " + name);
      return cached;
    }
  }
  if (f == Failure::kDenied) {
    return fetched.status().WithContext(
        name + " is gated or private: accept its conditions at " +
        client.RepoPage(r.repo, RepoType::kDataset) +
        " with a Hugging Face account and give ccguard that account's token (HF_TOKEN)");
  }
  return fetched.status().WithContext(name);
}

}  // namespace ccguard::hub

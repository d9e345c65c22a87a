#include "hub/fetch.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "hub/repo_ref.h"
#include "util/digest.h"

namespace ccguard::hub {
namespace {

namespace fs = std::filesystem;

int64_t FileSize(const std::string& path) {
  std::error_code ec;
  auto n = fs::file_size(path, ec);
  return ec ? 0 : static_cast<int64_t>(n);
}

bool IsHex(const std::string& s, size_t n) {
  if (s.size() != n) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// Downloads into `path`, resuming after transfers that break off.
Status DownloadWithRetries(HubClient& client, const std::string& url, const std::string& path,
                           const std::string& what, const std::string& file, int64_t size,
                           const FetchOptions& o) {
  std::unique_ptr<ProgressBar> bar = o.progress ? o.progress(file, size) : nullptr;
  TransferProgress on_progress = [&](int64_t done, int64_t) {
    if (bar) bar->Update(done);
  };
  for (int attempt = 0;; ++attempt) {
    const int64_t before = FileSize(path);
    Status s = client.Download(url, path, what, on_progress);
    if (s.ok()) return s;
    const Failure f = client.last_failure();
    const bool progressed = FileSize(path) > before;
    const bool transient = f == Failure::kInterrupted || f == Failure::kServer ||
                           (f == Failure::kNetwork && progressed);
    if (!transient || attempt >= o.retries) {
      if (bar) bar->Finish();
      return s;
    }
    // A transfer that moved forward resumes at once; one that did not waits a little.
    if (!progressed) std::this_thread::sleep_for(std::chrono::milliseconds(500 << attempt));
  }
}

// OK when `path` has the expected size and digest; otherwise Corruption (the caller deletes).
Status Verify(const std::string& path, const FileMetadata& m, const std::string& what) {
  const int64_t size = FileSize(path);
  if (m.size >= 0 && size != m.size) {
    return Status::Corruption("size mismatch for " + what + ": expected " + std::to_string(m.size) +
                              " bytes, got " + std::to_string(size));
  }
  Result<std::string> digest = std::string();
  std::string kind;
  if (m.lfs && IsHex(m.etag, 64)) {
    kind = "sha256";
    digest = Sha256File(path);
  } else if (!m.lfs && IsHex(m.etag, 40)) {
    kind = "git blob sha1";
    digest = GitBlobSha1File(path);
  } else {
    return Status::Ok();  // an ETag that is no known digest: the size is all we can check
  }
  if (!digest.ok()) return digest.status();
  if (*digest != m.etag) {
    return Status::Corruption("checksum mismatch for " + what + ": expected " + kind + " " +
                              m.etag + ", got " + *digest);
  }
  return Status::Ok();
}

}  // namespace

Result<FetchedFile> FetchFile(HubClient& client, const RepoCache& cache, const std::string& commit,
                              const std::string& file, const FetchOptions& o) {
  FetchedFile out;
  out.path = cache.SnapshotFile(commit, file);
  if (!IsSafeRelativePath(file)) {
    return Status::InvalidArgument("refusing the file name '" + file + "' of '" + cache.repo() +
                                   "': it leaves the snapshot folder");
  }
  if (cache.HasFile(commit, file)) return out;
  const std::string what = cache.repo() + "/" + file;
  CCG_ASSIGN_OR_RETURN(FileMetadata m,
                       client.GetFileMetadata(cache.repo(), commit, file, cache.type()));
  if (!m.commit.empty() && m.commit != commit) {
    return Status::Corruption("the hub answered commit " + m.commit + " for " + what +
                              " requested at commit " + commit);
  }
  CCG_ASSIGN_OR_RETURN(FileLock lock, cache.LockBlob(m.etag));
  if (!cache.HasBlob(m.etag)) {
    std::error_code ec;
    fs::create_directories(fs::path(cache.BlobPath(m.etag)).parent_path(), ec);
    if (ec) return Status::IOError("cannot create the blobs folder of " + cache.dir());
    const std::string incomplete = cache.IncompletePath(m.etag);
    bool resumed = FileSize(incomplete) > 0;
    if (m.size >= 0 && FileSize(incomplete) > m.size) {
      ::unlink(incomplete.c_str());  // longer than the file can be: stale
      resumed = false;
    }
    while (true) {
      if (m.size < 0 || FileSize(incomplete) < m.size) {
        Status s =
            DownloadWithRetries(client, client.FileUrl(cache.repo(), commit, file, cache.type()),
                                incomplete, what, file, m.size, o);
        if (!s.ok()) return s.WithContext("downloading " + what);
        out.downloaded = true;
      }
      Status v = Verify(incomplete, m, what);
      if (v.ok()) break;
      ::unlink(incomplete.c_str());
      if (v.code() != Status::Code::kCorruption) return v.WithContext("verifying " + what);
      if (!resumed) {
        return Status::Corruption(v.message() +
                                  "; the download was deleted: run again to fetch it anew");
      }
      resumed = false;  // the bytes of an earlier run were bad: fetch once from scratch
    }
    CCG_RETURN_IF_ERROR(cache.CommitBlob(incomplete, m.etag));
  }
  CCG_RETURN_IF_ERROR(cache.LinkSnapshotFile(commit, file, m.etag));
  return out;
}

}  // namespace ccguard::hub

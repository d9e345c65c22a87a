#include "hub/cache.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "hub/repo_ref.h"
#include "util/mapped_file.h"

namespace ccguard::hub {
namespace {

namespace fs = std::filesystem;

std::string Errno() { return std::strerror(errno); }

// A unique name beside `path` for writing before rename().
std::string TempName(const std::string& path) {
  static std::atomic<int> counter{0};
  return path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(++counter);
}

Status MakeDirs(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::IOError("cannot create " + dir.string() + ": " + ec.message());
  return Status::Ok();
}

Status WriteFileAtomically(const std::string& path, const std::string& content) {
  CCG_RETURN_IF_ERROR(MakeDirs(fs::path(path).parent_path()));
  const std::string tmp = TempName(path);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IOError("cannot create " + tmp + ": " + Errno());
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int code = n < 0 ? errno : ENOSPC;
      const std::string err = std::strerror(code);
      ::close(fd);
      ::unlink(tmp.c_str());
      return (code == ENOSPC || code == EDQUOT)
                 ? Status::ResourceExhausted("disk full writing " + path + ": " + err)
                 : Status::IOError("cannot write " + path + ": " + err);
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    std::string err = Errno();
    ::unlink(tmp.c_str());
    return Status::IOError("cannot write " + path + ": " + err);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string err = Errno();
    ::unlink(tmp.c_str());
    return Status::IOError("cannot rename " + tmp + " to " + path + ": " + err);
  }
  return Status::Ok();
}

Status CheckEtag(const std::string& etag) {
  if (etag.empty() || !IsSafeRelativePath(etag) || etag.find('/') != std::string::npos) {
    return Status::InvalidArgument("unusable blob name '" + etag + "'");
  }
  return Status::Ok();
}

}  // namespace

std::string RepoFolderName(const std::string& repo, RepoType type) {
  std::string out = std::string(RepoTypePlural(type)) + "--";
  for (char c : repo) {
    if (c == '/') {
      out += "--";
    } else {
      out += c;
    }
  }
  return out;
}

RepoCache::RepoCache(std::string cache_dir, std::string repo, RepoType type)
    : cache_dir_(std::move(cache_dir)),
      repo_(std::move(repo)),
      type_(type),
      dir_((fs::path(cache_dir_) / RepoFolderName(repo_, type_)).string()) {}

std::string RepoCache::BlobPath(const std::string& etag) const {
  return (fs::path(dir_) / "blobs" / etag).string();
}

std::string RepoCache::IncompletePath(const std::string& etag) const {
  return BlobPath(etag) + ".incomplete";
}

std::string RepoCache::SnapshotDir(const std::string& commit) const {
  return (fs::path(dir_) / "snapshots" / commit).string();
}

std::string RepoCache::SnapshotFile(const std::string& commit, const std::string& file) const {
  return (fs::path(SnapshotDir(commit)) / file).string();
}

Result<std::string> RepoCache::ReadRef(const std::string& revision) const {
  if (IsCommitHash(revision)) return revision;
  const std::string path = (fs::path(dir_) / "refs" / revision).string();
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) {
    return Status::NotFound("revision '" + revision + "' of '" + repo_ + "' is not in the cache (" +
                            path + " is missing)");
  }
  auto content = ReadFileToString(path);
  if (!content.ok()) return content.status();
  std::string commit = *content;
  while (!commit.empty() && std::isspace(static_cast<unsigned char>(commit.back()))) {
    commit.pop_back();
  }
  if (!IsCommitHash(commit)) {
    return Status::Corruption(path + " does not hold a commit hash");
  }
  return commit;
}

Status RepoCache::WriteRef(const std::string& revision, const std::string& commit) const {
  if (revision == commit) return Status::Ok();
  if (!IsSafeRelativePath(revision) || !IsCommitHash(commit)) {
    return Status::InvalidArgument("bad ref '" + revision + "' -> '" + commit + "'");
  }
  return WriteFileAtomically((fs::path(dir_) / "refs" / revision).string(), commit);
}

bool RepoCache::HasFile(const std::string& commit, const std::string& file) const {
  std::error_code ec;
  return fs::is_regular_file(SnapshotFile(commit, file), ec);  // follows the symlink
}

bool RepoCache::HasBlob(const std::string& etag) const {
  std::error_code ec;
  return CheckEtag(etag).ok() && fs::is_regular_file(BlobPath(etag), ec);
}

Result<FileLock> RepoCache::LockBlob(const std::string& etag) const {
  CCG_RETURN_IF_ERROR(CheckEtag(etag));
  return FileLock::Acquire(
      (fs::path(cache_dir_) / ".locks" / RepoFolderName(repo_, type_) / (etag + ".lock")).string());
}

Status RepoCache::CommitBlob(const std::string& incomplete, const std::string& etag) const {
  CCG_RETURN_IF_ERROR(CheckEtag(etag));
  const std::string blob = BlobPath(etag);
  if (::rename(incomplete.c_str(), blob.c_str()) != 0) {
    return Status::IOError("cannot rename " + incomplete + " to " + blob + ": " + Errno());
  }
  return Status::Ok();
}

Status RepoCache::LinkSnapshotFile(const std::string& commit, const std::string& file,
                                   const std::string& etag) const {
  CCG_RETURN_IF_ERROR(CheckEtag(etag));
  if (!IsCommitHash(commit) || !IsSafeRelativePath(file)) {
    return Status::InvalidArgument("bad snapshot entry '" + commit + "/" + file + "'");
  }
  const fs::path link = SnapshotFile(commit, file);
  CCG_RETURN_IF_ERROR(MakeDirs(link.parent_path()));
  // ../../blobs/<etag> for a top-level file, one more ../ per folder level of `file`.
  const fs::path target = fs::path(BlobPath(etag)).lexically_relative(link.parent_path());
  const std::string tmp = TempName(link.string());
  if (::symlink(target.c_str(), tmp.c_str()) != 0) {
    return Status::IOError("cannot create symlink " + tmp + ": " + Errno());
  }
  if (::rename(tmp.c_str(), link.c_str()) != 0) {
    std::string err = Errno();
    ::unlink(tmp.c_str());
    return Status::IOError("cannot create " + link.string() + ": " + err);
  }
  return Status::Ok();
}

}  // namespace ccguard::hub

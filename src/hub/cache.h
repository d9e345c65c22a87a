// The Hugging Face hub cache, laid out exactly as huggingface_hub lays it out, so that a cache
// filled by Python is used as is and one filled by ccguard is usable by Python:
//
//   <cache>/models--{org}--{name}/     (datasets: datasets--{org}--{name}/, the same inside)
//     refs/{revision}                  the commit the revision pointed at (no trailing newline)
//     blobs/{etag}                     file contents, named by sha256 (LFS) or git blob sha1
//     blobs/{etag}.incomplete          a download in progress (resumable; never looks complete)
//     snapshots/{commit}/{file}        relative symlink -> ../../blobs/{etag}
//   <cache>/.locks/models--{org}--{name}/{etag}.lock   taken while a blob is written
//
// A blob becomes visible only by rename() once verified, then its symlink is created (replacing
// atomically any old one), and refs are written by rename() too: a crash never leaves a file
// that looks complete but is not.
#pragma once

#include <string>

#include "hub/file_lock.h"
#include "hub/repo_ref.h"
#include "util/status.h"

namespace ccguard::hub {

// "org/name" -> "models--org--name" (datasets: "datasets--org--name").
std::string RepoFolderName(const std::string& repo, RepoType type = RepoType::kModel);

class RepoCache {
 public:
  RepoCache(std::string cache_dir, std::string repo, RepoType type = RepoType::kModel);

  const std::string& repo() const { return repo_; }
  RepoType type() const { return type_; }
  // <cache>/models--org--name
  const std::string& dir() const { return dir_; }
  std::string BlobPath(const std::string& etag) const;
  std::string IncompletePath(const std::string& etag) const;
  std::string SnapshotDir(const std::string& commit) const;
  std::string SnapshotFile(const std::string& commit, const std::string& file) const;

  // The commit `revision` names: the revision itself when it is a commit hash, else the content
  // of refs/<revision>. NotFound naming the ref file when it is absent or empty.
  Result<std::string> ReadRef(const std::string& revision) const;
  // Atomically writes refs/<revision> = commit; nothing to do when revision is the commit.
  Status WriteRef(const std::string& revision, const std::string& commit) const;

  // True when snapshots/<commit>/<file> resolves to a regular file (a dangling link is absent).
  bool HasFile(const std::string& commit, const std::string& file) const;
  bool HasBlob(const std::string& etag) const;

  // Holds the lock huggingface_hub takes for writing blobs/<etag>.
  Result<FileLock> LockBlob(const std::string& etag) const;
  // Makes the verified file `incomplete` the blob <etag> (rename within blobs/).
  Status CommitBlob(const std::string& incomplete, const std::string& etag) const;
  // Points snapshots/<commit>/<file> at blobs/<etag> with a relative symlink.
  Status LinkSnapshotFile(const std::string& commit, const std::string& file,
                          const std::string& etag) const;

 private:
  std::string cache_dir_;
  std::string repo_;
  RepoType type_;
  std::string dir_;
};

}  // namespace ccguard::hub

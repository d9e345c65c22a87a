// A client for the Hugging Face hub's HTTP API (libcurl easy interface).
//
//   GET  {endpoint}/api/models/{repo}/revision/{revision}   -> {"sha": commit, "siblings": [...]}
//        (datasets: /api/datasets/{repo}/..., and /datasets/{repo}/resolve/... below)
//   HEAD {endpoint}/{repo}/resolve/{revision}/{file}        -> X-Repo-Commit, ETag, X-Linked-Etag,
//                                                              X-Linked-Size (redirects to another
//                                                              host are not followed: the hub's
//                                                              own headers are read, as
//                                                              huggingface_hub does)
//   GET  {endpoint}/{repo}/resolve/{revision}/{file}        -> the bytes; LFS files redirect (302)
//                                                              to a CDN
//
// Redirects are followed by the client itself (at most 10, http and https only) so that the
// token ("Authorization: Bearer ...") is sent only to the endpoint's own scheme, host and port,
// never to a CDN. Timeouts: connecting, a whole metadata request, and a download that receives
// nothing for stall_timeout_s.
//
// Every failure is a Status whose message names the repo, file or host and says what to do;
// last_failure() classifies it for callers that fall back to the cache:
//   kNetwork      cannot resolve / connect / timed out (Status IOError)
//   kInterrupted  the connection broke off mid-transfer (IOError; a download can resume)
//   kServer       5xx (IOError) or 429 (ResourceExhausted)
//   kDenied       401 / 403: private or gated repo, missing or rejected token (IOError)
//   kNotFound     404: repo, revision or file (NotFound)
//   kDiskFull     ENOSPC / EDQUOT while writing (ResourceExhausted)
//   kLocal        another local I/O error (IOError)
//   kBadResponse  an answer that is not what the hub sends (Corruption)
// A HubClient is not thread-safe; use one per thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "hub/env.h"
#include "hub/repo_ref.h"
#include "util/status.h"

namespace ccguard::hub {

struct ClientOptions {
  std::string endpoint = kDefaultEndpoint;  // no trailing "/"
  std::string token;                        // empty: anonymous
  long connect_timeout_s = 10;
  long metadata_timeout_s = 10;  // whole API or HEAD request (HF_HUB_ETAG_TIMEOUT)
  long stall_timeout_s = 10;     // download receiving nothing that long (HF_HUB_DOWNLOAD_TIMEOUT)
  std::string user_agent = "ccguard/0.1.0";
};

enum class Failure {
  kNone,
  kNetwork,
  kInterrupted,
  kServer,
  kDenied,
  kNotFound,
  kDiskFull,
  kLocal,
  kBadResponse,
};

struct RepoInfo {
  std::string commit;              // 40-hex
  std::vector<std::string> files;  // siblings' rfilename
};

struct FileMetadata {
  std::string commit;  // X-Repo-Commit (may be empty)
  std::string etag;    // unquoted: sha256 for LFS files, git blob sha1 otherwise
  bool lfs = false;    // the etag came from X-Linked-Etag
  int64_t size = -1;   // X-Linked-Size or Content-Length; -1 when unknown
};

// Bytes of the file present so far (resumed bytes included), and its full size or -1.
using TransferProgress = std::function<void(int64_t done, int64_t total)>;

class HubClient {
 public:
  explicit HubClient(ClientOptions options);

  const ClientOptions& options() const { return options_; }
  Failure last_failure() const { return last_failure_; }

  Result<RepoInfo> GetRepoInfo(const std::string& repo, const std::string& revision,
                               RepoType type = RepoType::kModel);
  Result<FileMetadata> GetFileMetadata(const std::string& repo, const std::string& revision,
                                       const std::string& file, RepoType type = RepoType::kModel);

  // GETs `url` and appends its bytes to `path` (created if missing). When `path` already holds
  // N > 0 bytes the request carries "Range: bytes=N-": a 206 answer is appended, a 200 answer
  // replaces the content, a 416 answer leaves it as is (already complete). The data is flushed
  // to disk (fsync) before OK is returned; on failure what arrived is kept for a later resume.
  // Nothing is verified here. `what` names the file in messages.
  Status Download(const std::string& url, const std::string& path, const std::string& what,
                  const TransferProgress& progress);

  // {endpoint}/{repo}/resolve/{revision}/{file} ({endpoint}/datasets/{repo}/... for datasets),
  // revision and file percent-encoded.
  std::string FileUrl(const std::string& repo, const std::string& revision, const std::string& file,
                      RepoType type = RepoType::kModel) const;
  // The repo's page: {endpoint}/{repo} or {endpoint}/datasets/{repo}.
  std::string RepoPage(const std::string& repo, RepoType type) const;

 private:
  struct Reply;
  struct Sink;
  Status Exchange(bool head, const std::string& url, bool auth, bool metadata, Sink* sink,
                  Reply* reply);
  Status Fetch(bool head, const std::string& url, bool cross_origin, bool metadata, Sink* sink,
               Reply* reply);
  Status HttpError(const Reply& reply, const std::string& what, const std::string& repo,
                   RepoType type = RepoType::kModel);
  Status Fail(Failure kind, Status status);

  ClientOptions options_;
  Failure last_failure_ = Failure::kNone;
};

}  // namespace ccguard::hub

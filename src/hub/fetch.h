// Fetching one file of a repo at a commit into the cache, as huggingface_hub's hf_hub_download:
//
//  1. snapshots/<commit>/<file> already resolves: done, no network.
//  2. HEAD for its ETag; blobs/<etag> already exists (another commit has the same content):
//     only the symlink is made.
//  3. Otherwise, under the blob lock shared with huggingface_hub, the bytes are appended to
//     blobs/<etag>.incomplete, resuming what an earlier, interrupted run left there (HTTP Range);
//     a transfer that breaks off mid-way is resumed up to `retries` more times.
//  4. The file is verified: its size against X-Linked-Size / Content-Length, its content against
//     the ETag (SHA-256 for LFS files, git blob SHA-1 for the others). On a mismatch the file is
//     deleted and Corruption returned (a resumed file that fails is first fetched once afresh).
//  5. rename() to blobs/<etag>, then the relative symlink snapshots/<commit>/<file>.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "hub/cache.h"
#include "hub/client.h"
#include "hub/progress.h"
#include "util/status.h"

namespace ccguard::hub {

struct FetchOptions {
  int retries = 3;
  // Makes the progress display of one download (file name, size or -1); null for none.
  std::function<std::unique_ptr<ProgressBar>(const std::string& file, int64_t size)> progress;
};

struct FetchedFile {
  std::string path;         // snapshots/<commit>/<file>
  bool downloaded = false;  // bytes came over the network in this call
};

Result<FetchedFile> FetchFile(HubClient& client, const RepoCache& cache, const std::string& commit,
                              const std::string& file, const FetchOptions& options);

}  // namespace ccguard::hub

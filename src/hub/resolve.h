// Resolving --model / --adapter references to local folders, downloading from the hub as needed.
//
// A reference is a path to an existing folder (returned as is), or a hub repo id
// "org/name[@revision]" (revision: branch, tag or commit; default "main") found in or fetched
// into the Hugging Face cache (see cache.h for the layout, env.h for the variables).
//
// ResolveModelRef, for a repo id:
//  - offline (opts.offline or HF_HUB_OFFLINE=1): the cache only, no network at all; NotFound
//    naming the missing ref, snapshot or file, and saying that offline mode is on.
//  - a commit id already complete in the cache: used without any network access.
//  - otherwise, as huggingface_hub: ask the hub which commit the revision names and which files
//    it has, fetch the wanted ones that the snapshot lacks (see repo_files.h, fetch.h), then
//    write refs/<revision>. If the hub cannot be reached (network down, timeout, 5xx, transfer
//    cut off) but the cache holds a complete snapshot for the reference, that snapshot is used
//    and a warning says so. 401/403/404 and checksum errors are never papered over.
// A snapshot is complete when CheckFolderFiles (repo_files.h) accepts it.
//
// Pull: the same download, always asking the hub (no fallback to the cache) unless offline, in
// which case it checks the cache as ResolveModelRef does. Both return the snapshot folder.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "util/status.h"

namespace ccguard::hub {

struct ResolveOptions {
  bool offline = false;   // no network; HF_HUB_OFFLINE=1 also turns it on
  bool progress = false;  // progress on stderr: a bar on a terminal, one line per file otherwise
  std::function<void(const std::string&)> warn;  // null: "ccguard: warning: ..." on stderr
  std::string endpoint;                          // empty: HF_ENDPOINT, else https://huggingface.co
  std::string token;                             // empty: HF_TOKEN, else the token file
  std::string cache_dir;  // empty: HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub
};

Result<std::string> ResolveModelRef(const std::string& ref, const ResolveOptions& opts = {});
Result<std::string> Pull(const std::string& repo_ref, const ResolveOptions& opts = {});

// Files of a dataset repo, fetched into the cache (datasets--org--name/, the layout above).
struct DatasetFiles {
  std::string repo, revision;
  std::string commit;              // what the revision resolved to
  std::vector<std::string> files;  // repo paths, sorted
  std::vector<std::string> paths;  // the same files in the cache snapshot
  bool from_cache_only = false;    // no network was used
};

// Resolves `patterns` (repo paths, or globs where '*', '?' and '[...]' do not cross '/') at
// `revision` (a branch, tag, commit, or "refs/convert/parquet" for the hub's Parquet conversion)
// of the dataset `repo`, downloading what the cache lacks, as ResolveModelRef does for models:
// offline mode and a cached commit use the cache alone; an unreachable hub falls back to a
// cached snapshot holding matches for every pattern (with a warning). Errors: a pattern that
// matches no file (NotFound, listing files the repo has), a gated or private dataset (naming its
// page and HF_TOKEN), those of ResolveModelRef.
Result<DatasetFiles> ResolveDatasetFiles(const std::string& repo, const std::string& revision,
                                         const std::vector<std::string>& patterns,
                                         const ResolveOptions& opts = {});

}  // namespace ccguard::hub

// Resolving --model / --adapter arguments: a local folder, or a Hugging Face
// repo id ("org/name[@revision]") found in the local Hugging Face cache.
#pragma once

#include <string>

#include "util/status.h"

namespace ccguard {

// The Hugging Face hub cache folder: $HF_HUB_CACHE, else $HF_HOME/hub, else
// ~/.cache/huggingface/hub.
std::string HfHubCacheDir();

// Returns a folder holding the files of `ref`. A path to an existing folder is
// returned as is; otherwise `ref` is read as a repo id with an optional
// "@revision" (branch, tag or commit) and looked up in the cache layout
// models--{org}--{name}/refs/{revision} -> snapshots/{commit}/.
Result<std::string> ResolveModelRef(const std::string& ref);

}  // namespace ccguard

// The Hugging Face environment variables ccguard honours, read as huggingface_hub reads them.
//
//   HF_HUB_CACHE (or HUGGINGFACE_HUB_CACHE), else $HF_HOME/hub, else
//     $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub   -> the cache folder
//   HF_ENDPOINT, else https://huggingface.co                            -> the hub
//   HF_TOKEN (or HUGGING_FACE_HUB_TOKEN), else the token file: HF_TOKEN_PATH, else
//     $HF_HOME/token, else $XDG_CACHE_HOME/huggingface/token, else ~/.cache/huggingface/token
//   HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) = 1/ON/YES/TRUE            -> no network at all
//   HF_HUB_ETAG_TIMEOUT, HF_HUB_DOWNLOAD_TIMEOUT (seconds, default 10)  -> request timeouts
#pragma once

#include <string>

namespace ccguard::hub {

inline constexpr const char* kDefaultEndpoint = "https://huggingface.co";

// The hub cache folder (not created).
std::string CacheDirFromEnv();
// The endpoint without a trailing "/".
std::string EndpointFromEnv();
// The token, whitespace-trimmed; empty when none is configured.
std::string TokenFromEnv();
// The token file path consulted when HF_TOKEN is unset.
std::string TokenPathFromEnv();
bool OfflineFromEnv();
// A positive number of seconds from `var`, else `fallback`.
long SecondsFromEnv(const char* var, long fallback);

}  // namespace ccguard::hub

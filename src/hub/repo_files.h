// Which files of a hub repo ccguard needs, and whether a folder holds them.
//
// Wanted: config.json, generation_config.json, tokenizer.json, tokenizer_config.json,
// chat_template.jinja, special_tokens_map.json, adapter_config.json, the weights
// model.safetensors (or model.safetensors.index.json and the shards its "weight_map" names:
// the single file wins when both exist, as in transformers) and adapter_model.safetensors.
// A repo is fetched for what it has among these; README, pickled weights and the rest are not.
#pragma once

#include <string>
#include <vector>

#include "util/status.h"

namespace ccguard::hub {

inline constexpr const char* kIndexFile = "model.safetensors.index.json";

// The wanted files among `repo_files`, small ones first (the shards an index names are not
// known yet: see IndexShards). NotFound naming `repo` and listing what it has when it holds
// no safetensors weights at all.
Result<std::vector<std::string>> SelectFiles(const std::vector<std::string>& repo_files,
                                             const std::string& repo);

// The distinct shard names of an index file's "weight_map", each a relative name that stays
// inside the folder. Corruption naming the file otherwise.
Result<std::vector<std::string>> IndexShards(const std::string& index_path);

// OK when `dir` holds an adapter (adapter_config.json + adapter_model.safetensors) or a model
// (config.json, tokenizer.json and weights: model.safetensors, or the index and all its
// shards). NotFound naming the first missing file otherwise. Symlinks are followed: a dangling
// link counts as missing.
Status CheckFolderFiles(const std::string& dir);

}  // namespace ccguard::hub

#include "hub/repo_files.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include "hub/repo_ref.h"
#include "util/json_file.h"

namespace ccguard::hub {
namespace {

namespace fs = std::filesystem;

// Fetch order: metadata first, weights last.
constexpr const char* kSmallFiles[] = {
    "config.json",
    "generation_config.json",
    "tokenizer_config.json",
    "chat_template.jinja",
    "special_tokens_map.json",
    "adapter_config.json",
    "tokenizer.json",
    kIndexFile,
};
constexpr const char* kSingleWeights = "model.safetensors";
constexpr const char* kAdapterWeights = "adapter_model.safetensors";

bool Exists(const fs::path& p) {
  std::error_code ec;
  return fs::is_regular_file(p, ec);
}

}  // namespace

Result<std::vector<std::string>> SelectFiles(const std::vector<std::string>& repo_files,
                                             const std::string& repo) {
  const std::set<std::string> have(repo_files.begin(), repo_files.end());
  std::vector<std::string> out;
  for (const char* f : kSmallFiles) {
    if (f == std::string(kIndexFile) && have.count(kSingleWeights)) continue;
    if (have.count(f)) out.push_back(f);
  }
  for (const char* f : {kSingleWeights, kAdapterWeights}) {
    if (have.count(f)) out.push_back(f);
  }
  if (!have.count(kSingleWeights) && !have.count(kIndexFile) && !have.count(kAdapterWeights)) {
    std::string listing;
    for (const auto& f : repo_files) {
      if (listing.size() > 300) {
        listing += ", ...";
        break;
      }
      listing += (listing.empty() ? "" : ", ") + f;
    }
    return Status::NotFound(
        "'" + repo + "' has no safetensors weights (model.safetensors, " + kIndexFile +
        " or adapter_model.safetensors); it holds: " + (listing.empty() ? "nothing" : listing));
  }
  return out;
}

Result<std::vector<std::string>> IndexShards(const std::string& index_path) {
  auto j = ReadJsonFile(index_path);
  if (!j.ok()) return j.status();
  if (!j->is_object() || !j->contains("weight_map") || !(*j)["weight_map"].is_object() ||
      (*j)["weight_map"].empty()) {
    return Status::Corruption(index_path + ": \"weight_map\" is not a non-empty object");
  }
  std::set<std::string> shards;
  for (const auto& [tensor, shard] : (*j)["weight_map"].items()) {
    if (!shard.is_string() || !IsSafeRelativePath(shard.get<std::string>())) {
      return Status::Corruption(index_path + ": tensor '" + tensor +
                                "' maps to an unusable shard name");
    }
    shards.insert(shard.get<std::string>());
  }
  return std::vector<std::string>(shards.begin(), shards.end());
}

Status CheckFolderFiles(const std::string& dir) {
  const fs::path d(dir);
  auto missing = [&](const std::string& f, const std::string& why) {
    return Status::NotFound((d / f).string() + " is missing" + why);
  };
  if (Exists(d / "adapter_config.json") || Exists(d / kAdapterWeights)) {
    for (const char* f : {"adapter_config.json", kAdapterWeights}) {
      if (!Exists(d / f)) return missing(f, "");
    }
    return Status::Ok();
  }
  for (const char* f : {"config.json", "tokenizer.json"}) {
    if (!Exists(d / f)) return missing(f, "");
  }
  if (Exists(d / kSingleWeights)) return Status::Ok();
  if (!Exists(d / kIndexFile)) {
    return missing(kSingleWeights, std::string(" (and so is ") + kIndexFile + ")");
  }
  auto shards = IndexShards((d / kIndexFile).string());
  if (!shards.ok()) return shards.status();
  for (const auto& s : *shards) {
    if (!Exists(d / s)) return missing(s, std::string(" (named by ") + kIndexFile + ")");
  }
  return Status::Ok();
}

}  // namespace ccguard::hub

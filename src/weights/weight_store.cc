#include "weights/weight_store.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <system_error>
#include <utility>

#include "util/json_file.h"

namespace ccguard {

namespace {

namespace fs = std::filesystem;

std::string Quote(std::string_view s) { return "\"" + std::string(s) + "\""; }

std::string Join(const std::string& dir, const std::string& name) {
  return (fs::path(dir) / name).string();
}

bool IsFile(const std::string& path) {
  std::error_code ec;
  return fs::is_regular_file(path, ec);  // follows symlinks
}

// OK when `shard` names a file inside the model folder.
bool IsSafeShardName(const std::string& shard) {
  if (shard.empty() || shard.front() == '/' || shard.front() == '\\') return false;
  if (shard.find('\0') != std::string::npos) return false;
  size_t start = 0;
  while (start <= shard.size()) {
    size_t end = shard.find_first_of("/\\", start);
    if (end == std::string::npos) end = shard.size();
    if (shard.compare(start, end - start, "..") == 0) return false;
    start = end + 1;
  }
  return true;
}

}  // namespace

Result<std::unique_ptr<WeightStore>> WeightStore::OpenFile(const std::string& path) {
  CCG_ASSIGN_OR_RETURN(std::unique_ptr<SafetensorsFile> file, SafetensorsFile::Open(path));
  std::unique_ptr<WeightStore> store(new WeightStore());
  store->files_.push_back(std::move(file));
  CCG_RETURN_IF_ERROR(store->BuildIndex(path));
  return store;
}

Result<std::unique_ptr<WeightStore>> WeightStore::OpenModelDir(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Status::NotFound(dir + ": no such model folder");

  const std::string single = Join(dir, kSingleFileName);
  if (IsFile(single)) return OpenFile(single);

  const std::string index_path = Join(dir, kIndexFileName);
  if (!IsFile(index_path)) {
    if (IsFile(Join(dir, kPickleFileName)) ||
        IsFile(Join(dir, std::string(kPickleFileName) + ".index.json"))) {
      return Status::NotSupported(
          dir + ": holds only pickled PyTorch weights (" + kPickleFileName +
          "); ccguard requires safetensors (" + kSingleFileName + " or " + kIndexFileName +
          "); convert the checkpoint, e.g. save_pretrained(..., safe_serialization=True)");
    }
    return Status::NotFound(dir + ": neither " + kSingleFileName + " nor " + kIndexFileName +
                            " found");
  }

  CCG_ASSIGN_OR_RETURN(Json index, ReadJsonFile(index_path));
  auto corrupt = [&index_path](const std::string& msg) {
    return Status::Corruption(index_path + ": " + msg);
  };
  if (!index.is_object()) return corrupt("not a JSON object");
  auto meta = index.find("metadata");
  if (meta != index.end() && !meta->is_object()) return corrupt("\"metadata\" is not an object");
  auto map = index.find("weight_map");
  if (map == index.end() || !map->is_object()) {
    return corrupt("missing or non-object \"weight_map\"");
  }
  if (map->empty()) return corrupt("\"weight_map\" is empty");

  std::map<std::string, std::vector<std::string>> tensors_of_shard;
  for (auto it = map->begin(); it != map->end(); ++it) {
    if (!it->is_string()) return corrupt("shard of tensor " + Quote(it.key()) + " is not a string");
    const std::string& shard = it->get_ref<const std::string&>();
    if (!IsSafeShardName(shard)) {
      return corrupt("tensor " + Quote(it.key()) + ": shard name " + Quote(shard) +
                     " is not a relative path inside the model folder");
    }
    tensors_of_shard[shard].push_back(it.key());
  }

  std::unique_ptr<WeightStore> store(new WeightStore());
  for (const auto& [shard, tensors] : tensors_of_shard) {
    const std::string shard_path = Join(dir, shard);
    if (!IsFile(shard_path)) {
      return Status::NotFound(index_path + ": shard " + Quote(shard) + " (listed for " +
                              std::to_string(tensors.size()) + " tensors, e.g. " +
                              Quote(tensors.front()) + ") not found: " + shard_path);
    }
    CCG_ASSIGN_OR_RETURN(std::unique_ptr<SafetensorsFile> file, SafetensorsFile::Open(shard_path));
    for (const std::string& t : tensors) {
      if (file->Find(t) == nullptr) {
        return corrupt("tensor " + Quote(t) + " is listed in shard " + Quote(shard) + " but " +
                       shard_path + " does not contain it");
      }
    }
    store->files_.push_back(std::move(file));
  }
  CCG_RETURN_IF_ERROR(store->BuildIndex(index_path));
  return store;
}

Status WeightStore::BuildIndex(const std::string& what) {
  std::vector<std::pair<const TensorView*, const SafetensorsFile*>> all;
  for (const auto& f : files_) {
    for (const TensorView& t : f->tensors()) all.emplace_back(&t, f.get());
  }
  std::sort(all.begin(), all.end(),
            [](const auto& a, const auto& b) { return a.first->name < b.first->name; });
  by_name_.clear();
  by_name_.reserve(all.size());
  total_bytes_ = 0;
  for (size_t i = 0; i < all.size(); ++i) {
    if (i > 0 && all[i].first->name == all[i - 1].first->name) {
      return Status::Corruption(what + ": tensor " + Quote(all[i].first->name) +
                                " appears in two shards: " + all[i - 1].second->path() + " and " +
                                all[i].second->path());
    }
    by_name_.push_back(all[i].first);
    total_bytes_ += all[i].first->nbytes;
  }
  return Status::Ok();
}

const TensorView* WeightStore::Find(std::string_view name) const {
  auto it = std::lower_bound(by_name_.begin(), by_name_.end(), name,
                             [](const TensorView* t, std::string_view n) { return t->name < n; });
  if (it == by_name_.end() || (*it)->name != name) return nullptr;
  return *it;
}

std::vector<std::string> WeightStore::Names() const {
  std::vector<std::string> names;
  names.reserve(by_name_.size());
  for (const TensorView* t : by_name_) names.push_back(t->name);
  return names;
}

}  // namespace ccguard

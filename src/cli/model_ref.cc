#include "cli/model_ref.h"

#include <cstdlib>
#include <filesystem>

#include "util/mapped_file.h"

namespace ccguard {
namespace {

namespace fs = std::filesystem;

bool LooksLikeRepoId(const std::string& s) {
  auto slash = s.find('/');
  if (slash == std::string::npos || slash == 0 || s.find('/', slash + 1) != std::string::npos) {
    return false;
  }
  for (char c : s) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '-' || c == '_' ||
          c == '.' || c == '@')) {
      return false;
    }
  }
  return s.find("..") == std::string::npos;
}

bool IsCommitHash(const std::string& s) {
  if (s.size() != 40) return false;
  for (char c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace

std::string HfHubCacheDir() {
  if (const char* v = std::getenv("HF_HUB_CACHE"); v && *v) return v;
  if (const char* v = std::getenv("HUGGINGFACE_HUB_CACHE"); v && *v) return v;
  if (const char* v = std::getenv("HF_HOME"); v && *v) return (fs::path(v) / "hub").string();
  std::string home;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) {
    return (fs::path(xdg) / "huggingface" / "hub").string();
  }
  if (const char* h = std::getenv("HOME"); h && *h) home = h;
  return (fs::path(home) / ".cache" / "huggingface" / "hub").string();
}

Result<std::string> ResolveModelRef(const std::string& ref) {
  std::error_code ec;
  if (fs::is_directory(ref, ec)) return ref;
  if (!LooksLikeRepoId(ref)) {
    return Status::NotFound("'" + ref + "' is neither a folder nor a Hugging Face repo id");
  }
  std::string repo = ref, revision = "main";
  if (auto at = ref.find('@'); at != std::string::npos) {
    repo = ref.substr(0, at);
    revision = ref.substr(at + 1);
  }
  std::string folder = "models--" + repo;
  folder.replace(folder.find('/'), 1, "--");
  const fs::path root = fs::path(HfHubCacheDir()) / folder;
  std::string commit = revision;
  if (!IsCommitHash(revision)) {
    auto r = ReadFileToString((root / "refs" / revision).string());
    if (!r.ok()) {
      return Status::NotFound(
          "'" + ref + "' is not a local folder and revision '" + revision +
          "' is not in the Hugging Face cache (" + root.string() +
          "). ccguard cannot download models yet: fetch it first (for example with "
          "`huggingface-cli download " +
          repo + "`), or pass a local folder");
    }
    commit = *r;
    while (!commit.empty() && std::isspace(static_cast<unsigned char>(commit.back()))) {
      commit.pop_back();
    }
  }
  const fs::path snap = root / "snapshots" / commit;
  if (!fs::is_directory(snap, ec)) {
    return Status::NotFound("Hugging Face cache entry for '" + ref + "' points at snapshot " +
                            commit + ", which is missing (" + snap.string() + ")");
  }
  return snap.string();
}

}  // namespace ccguard

#include "hub/repo_ref.h"

namespace ccguard::hub {

const char* RepoTypePlural(RepoType type) {
  return type == RepoType::kDataset ? "datasets" : "models";
}
namespace {

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.';
}

// As huggingface_hub's validate_repo_id: [A-Za-z0-9._-], 1 to 96 characters, starting and
// ending with a letter, digit or "_", and no "--" or "..".
bool IsValidRepoPart(std::string_view part) {
  auto edge = [](char c) { return IsNameChar(c) && c != '-' && c != '.'; };
  if (part.empty() || part.size() > 96 || !edge(part.front()) || !edge(part.back()) ||
      part.find("--") != std::string_view::npos || part.find("..") != std::string_view::npos) {
    return false;
  }
  for (char c : part) {
    if (!IsNameChar(c)) return false;
  }
  return true;
}

bool IsValidRevision(std::string_view rev) {
  if (rev.empty()) return false;
  for (char c : rev) {
    if (!IsNameChar(c) && c != '/') return false;
  }
  return IsSafeRelativePath(rev);
}

}  // namespace

bool IsCommitHash(std::string_view s) {
  if (s.size() != 40) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
      return false;
    }
  }
  return true;
}

bool IsSafeRelativePath(std::string_view path) {
  if (path.empty() || path.front() == '/') return false;
  size_t start = 0;
  while (true) {
    size_t end = path.find('/', start);
    std::string_view part =
        path.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (part.empty() || part == "." || part == "..") return false;
    for (char c : part) {
      if (c == '\\' || c == '\0') return false;
    }
    if (end == std::string_view::npos) return true;
    start = end + 1;
  }
}

Result<RepoRef> ParseRepoRef(std::string_view ref) {
  RepoRef out;
  std::string_view repo = ref;
  if (size_t at = ref.find('@'); at != std::string_view::npos) {
    repo = ref.substr(0, at);
    std::string_view rev = ref.substr(at + 1);
    if (!IsValidRevision(rev)) {
      return Status::InvalidArgument("'" + std::string(ref) + "': invalid revision '" +
                                     std::string(rev) + "'");
    }
    out.revision = std::string(rev);
  }
  size_t slash = repo.find('/');
  if (slash == std::string_view::npos || !IsValidRepoPart(repo.substr(0, slash)) ||
      !IsValidRepoPart(repo.substr(slash + 1))) {
    return Status::InvalidArgument(
        "'" + std::string(ref) + "' is not a Hugging Face repo id (expected org/name[@revision])");
  }
  out.repo = std::string(repo);
  return out;
}

}  // namespace ccguard::hub

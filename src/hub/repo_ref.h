// Hugging Face model references: "org/name" with an optional "@revision".
//
// A repo id is "org/name", each part as huggingface_hub's validate_repo_id allows: 1 to 96 of
// [A-Za-z0-9._-], starting and ending with a letter, digit or "_", no "--" and no "..".
// A revision is a branch, tag or commit; it may contain "/" ("refs/pr/1") but no empty, "." or
// ".." component, and only [A-Za-z0-9._/-] characters. The default revision is "main".
#pragma once

#include <string>
#include <string_view>

#include "util/status.h"

namespace ccguard::hub {

// Models live at {endpoint}/{repo}, datasets at {endpoint}/datasets/{repo}; their cache folders
// are models--org--name and datasets--org--name.
enum class RepoType { kModel, kDataset };

// "models" or "datasets": the hub's URL segment of the type.
const char* RepoTypePlural(RepoType type);

struct RepoRef {
  std::string repo;               // "org/name"
  std::string revision = "main";  // branch, tag or 40-hex commit
};

// Parses "org/name[@revision]"; InvalidArgument naming the reference when malformed.
Result<RepoRef> ParseRepoRef(std::string_view ref);

// True for a full 40-character hexadecimal git commit id.
bool IsCommitHash(std::string_view s);

// True for a relative path with non-empty components, none "." or "..", no backslash or NUL:
// a name that stays inside the folder it is joined to (hub file names, shard names).
bool IsSafeRelativePath(std::string_view path);

}  // namespace ccguard::hub

// ccguard pull REPO[@REVISION]: fetches the files ccguard needs into the Hugging Face cache.
#include <cstdio>
#include <string>

#include "cli/commands.h"
#include "cli/loader.h"
#include "hub/resolve.h"

namespace ccguard::cli {

int RunPull(const std::string& repo_ref) {
  auto dir = hub::Pull(repo_ref, HubOptions());
  if (!dir.ok()) {
    PrintError(dir.status());
    return 1;
  }
  std::printf("%s\n", dir->c_str());
  return 0;
}

}  // namespace ccguard::cli

// ccguard tokenize: stdin JSON Lines {"text": ...} -> stdout {"ids": [...]}.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>

#include "cli/commands.h"
#include "cli/loader.h"
#include "tokenizer/tokenizer.h"
#include "util/json_file.h"

namespace ccguard::cli {

int RunTokenize(const std::string& model, bool literal) {
  auto dir = hub::ResolveModelRef(model, HubOptions());
  if (!dir.ok()) {
    PrintError(dir.status().WithContext("--model"));
    return 1;
  }
  auto tok = Tokenizer::FromFile((std::filesystem::path(*dir) / "tokenizer.json").string());
  if (!tok.ok()) {
    PrintError(tok.status());
    return 1;
  }
  std::string line;
  size_t line_no = 0;
  int rc = 0;
  while (std::getline(std::cin, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    Json out;
    const std::string where = "line " + std::to_string(line_no);
    // Output line i always answers input line i: a blank line gets an error line.
    auto j = line.find_first_not_of(" \t") == std::string::npos
                 ? Result<Json>(Status::InvalidArgument(where + ": blank line (expected a JSON "
                                                                "object)"))
                 : ParseJson(line, where);
    Status err;
    if (!j.ok()) {
      err = j.status();
    } else {
      if (j->is_object() && j->contains("id")) out["id"] = (*j)["id"];
      if (!j->is_object() || !j->contains("text") || !(*j)["text"].is_string()) {
        err = Status::InvalidArgument("line " + std::to_string(line_no) +
                                      ": expected {\"text\": string}");
      } else {
        auto ids = (*tok)->Encode((*j)["text"].get<std::string>(), !literal);
        if (ids.ok()) {
          out["ids"] = *ids;
        } else {
          err = ids.status().WithContext("line " + std::to_string(line_no));
        }
      }
    }
    if (!err.ok()) {
      out["error"] = err.message();
      rc = 3;
    }
    std::cout << DumpJson(out) << '\n';
    if (!std::cout) break;  // stdout is gone: main() reports it
  }
  return rc;
}

}  // namespace ccguard::cli

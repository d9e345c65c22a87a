#include "util/json_file.h"

#include "util/mapped_file.h"

namespace ccguard {

Result<Json> ParseJson(std::string_view text, const std::string& what) {
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& e) {
    return Status::InvalidArgument(what + ": malformed JSON at byte " + std::to_string(e.byte) +
                                   ": " + e.what());
  }
}

Result<Json> ReadJsonFile(const std::string& path) {
  CCG_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  auto r = ParseJson(text, path);
  if (!r.ok()) return Status::Corruption(r.status().message());
  return r;
}

std::string DumpJson(const Json& j) {
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

}  // namespace ccguard

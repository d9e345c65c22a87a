// JSON parsing with errors that name the file and position (nlohmann-json).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "util/status.h"

namespace ccguard {

using Json = nlohmann::json;

// Parses `text`; `what` names the source in error messages (a path, "line 3").
Result<Json> ParseJson(std::string_view text, const std::string& what);

// Reads and parses a JSON file.
Result<Json> ReadJsonFile(const std::string& path);

// Serialises compactly; invalid UTF-8 in strings is replaced with U+FFFD
// rather than throwing.
std::string DumpJson(const Json& j);

}  // namespace ccguard

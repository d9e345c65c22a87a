// JSON parsing with errors that name the file and position (nlohmann-json).
//
// Every JSON text that comes from outside the process (request bodies, JSON
// lines, constitutions, config.json, adapter_config.json, server configs,
// tokenizer.json, score files) goes through ParseJson, which holds it to:
//   - syntax: InvalidArgument "<what>: malformed JSON at byte N: ...";
//   - nesting: at most kMaxJsonDepth arrays/objects deep (deeper documents
//     are refused while parsing, before any recursive walk can overflow the
//     stack): InvalidArgument "<what>: JSON nested deeper than 64 levels";
//   - numbers: a number that does not fit a double (1e400) is
//     InvalidArgument "<what>: number out of range: ...";
//   - keys: an object with the same key twice is refused naming the key
//     (nlohmann would keep the last silently): InvalidArgument
//     "<what>: duplicate key \"id\"".
// No exception escapes. ParseJson is thread-safe (no shared state).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "util/status.h"

namespace ccguard {

using Json = nlohmann::json;

// The deepest nesting of arrays and objects any parsed document may have.
inline constexpr int kMaxJsonDepth = 64;

// Parses `text`; `what` names the source in error messages (a path, "line 3").
Result<Json> ParseJson(std::string_view text, const std::string& what);

// Reads and parses a JSON file; the same checks, errors as Corruption.
Result<Json> ReadJsonFile(const std::string& path);

// Serialises compactly; invalid UTF-8 in strings is replaced with U+FFFD
// rather than throwing.
std::string DumpJson(const Json& j);

}  // namespace ccguard

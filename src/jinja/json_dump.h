// JSON serialisation with the exact output of Python's json.dumps, which is what the
// Hugging Face `tojson` filter calls:
//   json.dumps(x, ensure_ascii=False, indent=indent, separators=separators, sort_keys=False)
// Floats print as Python's repr (NaN, Infinity, -Infinity for non-finite values), tuples as
// arrays, and dicts keep their insertion order unless sort_keys is set.
#pragma once

#include <optional>
#include <string>

#include "jinja/value.h"
#include "util/status.h"

namespace ccguard::jinja {

struct JsonDumpOptions {
  bool ensure_ascii = false;
  // Absent: one line. Present: a newline before each item, indented by this string per level.
  std::optional<std::string> indent;
  std::string item_separator = ", ";
  std::string key_separator = ": ";
  bool sort_keys = false;

  // Python's defaults: separators (", ", ": ") without indent, (",", ": ") with indent.
  static JsonDumpOptions Python(std::optional<std::string> indent);
};

// Fails (InvalidArgument "Object of type X is not JSON serializable") on undefined,
// namespaces and callables, and on nesting deeper than 512.
Result<std::string> JsonDumps(const Value& v, const JsonDumpOptions& options);

}  // namespace ccguard::jinja

// Accessing values the way Jinja2's ImmutableSandboxedEnvironment does: attributes
// (`obj.name`), items (`obj[key]`), slices, iteration, and the methods of str, dict and
// list (`s.startswith(...)`, `d.items()`, ...).
//
// A missing attribute or item gives an undefined value whose hint names it (Jinja2's
// "'dict object' has no attribute 'x'"); only accessing something *on* an undefined value
// is an error. Methods that would mutate a list or dict (append, update, ...) are
// "unsafe" in the immutable sandbox: they resolve to an undefined value that errors when
// called, with Jinja2's SecurityError message.
#pragma once

#include <string_view>
#include <vector>

#include "jinja/value.h"
#include "util/status.h"

namespace ccguard::jinja {

// obj.name
Result<Value> GetAttr(const Value& obj, std::string_view name);
// obj[key]
Result<Value> GetItem(const Value& obj, const Value& key);
// obj[start:stop:step]; null bounds are omitted ones. Unlike GetItem, slicing something
// that cannot be sliced is an error (Jinja2 compiles slices to plain Python subscripts).
Result<Value> GetSlice(const Value& obj, const Value* start, const Value* stop, const Value* step);
// Iteration: list items, dict/namespace-free keys, string code points; undefined iterates
// as empty. Other kinds are an error ("'int' object is not iterable").
Result<std::vector<Value>> Iterate(const Value& v);
// Python len(); undefined has length 0.
Result<int64_t> Length(const Value& v);
// Python `needle in haystack`.
Result<bool> Contains(const Value& haystack, const Value& needle);
// Calls method `name` of a str, dict or list (used by bound methods).
Result<Value> CallMethod(const Value& self, std::string_view name, const CallArgs& args);

}  // namespace ccguard::jinja

// The global functions templates can call without passing them in the context: Jinja2's
// range (capped at 100000 items like the sandbox), dict, namespace and joiner, plus the
// ones transformers adds: raise_exception(message) (fails the render with `message`) and
// strftime_now(format) (local time, Python's datetime.now().strftime). Context variables
// of the same name take precedence.
#pragma once

#include <optional>
#include <string_view>

#include "jinja/value.h"

namespace ccguard::jinja {

// Thread-safe; the returned callables are stateless.
std::optional<Value> FindGlobal(std::string_view name);

// Builds a dict as Python's dict(*args, **kwargs) does (one mapping or iterable of pairs,
// then keyword arguments).
Result<Dict> DictFromArgs(const CallArgs& args);

}  // namespace ccguard::jinja

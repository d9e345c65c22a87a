// Jinja2's builtin tests (`value is name(args)`).
//
// Implemented: boolean, callable, defined, divisibleby, eq, equalto, escaped, even, false,
// filter, float, ge, gt, greaterthan, in, integer, iterable, le, lessthan, lower, lt,
// mapping, ne, none, number, odd, sameas, sequence, string, test, true, undefined, upper,
// and the operator spellings ==, !=, <, <=, >, >=.
#pragma once

#include <string_view>

#include "jinja/runtime.h"
#include "jinja/value.h"
#include "util/status.h"

namespace ccguard::jinja {

using TestFn = Result<bool> (*)(Runtime& rt, const Value& value, const CallArgs& args);

// Null when there is no test called `name`.
TestFn FindTest(std::string_view name);

}  // namespace ccguard::jinja

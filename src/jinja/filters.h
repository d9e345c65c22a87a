// Jinja2's builtin filters (`value|name(args)`), with Hugging Face's `tojson`.
//
// Implemented: abs, attr, batch, capitalize, center, count, d, default, dictsort, e, escape,
// first, float, forceescape, format, indent, int, items, join, last, length, list, lower,
// map, max, min, reject, rejectattr, replace, reverse, round, safe, select, selectattr, sort,
// string, sum, title, tojson, trim, truncate, unique, upper, wordcount. Semantics (defaults,
// case-insensitive sort/unique, "common" rounding, ...) are Jinja2 3.1's with autoescape
// off; safe/escape produce plain strings (there is no Markup type). batch, items, map,
// reject, rejectattr, reverse, select, selectattr and unique return generators (always
// true, no length), as in Jinja2; apply |list to get a list.
#pragma once

#include <string_view>

#include "jinja/runtime.h"
#include "jinja/value.h"
#include "util/status.h"

namespace ccguard::jinja {

using FilterFn = Result<Value> (*)(Runtime& rt, const Value& value, const CallArgs& args);

// Null when there is no filter called `name`.
FilterFn FindFilter(std::string_view name);

}  // namespace ccguard::jinja

// Python string formatting: printf-style `fmt % args` (and Jinja's `format` filter) and
// str.format(). Supported: %s %r %a %d %i %u %o %x %X %e %E %f %F %g %G %c %% with flags,
// width, precision and %(name)s keys; str.format fields {} {0} {name} with .attr / [key]
// lookups, !r/!s/!a conversions and the format-spec mini-language for str, int and float
// (fill, align, sign, #, 0, width, grouping ',' and '_', precision, type). Nested fields in
// a format spec are not supported.
#pragma once

#include <string>
#include <string_view>

#include "jinja/value.h"
#include "util/status.h"

namespace ccguard::jinja {

// fmt % args; `args` is a tuple (positional), a dict (for %(key)s) or a single value.
Result<std::string> PercentFormat(std::string_view fmt, const Value& args);

// fmt.format(*args.args, **args.kwargs)
Result<std::string> StrFormat(std::string_view fmt, const CallArgs& args);

}  // namespace ccguard::jinja

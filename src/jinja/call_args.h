// Binding of call arguments to named parameters, as Python binds def f(a, b=1).
//
// Builtins (filters, tests, methods, globals) declare their parameter names; Bind checks
// counts and names and reports errors the way Python phrases them.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "jinja/value.h"
#include "util/status.h"

namespace ccguard::jinja {

class BoundArgs {
 public:
  // `params` are the parameter names in order; the first `required` must be given.
  static Result<BoundArgs> Bind(std::string_view fn, const CallArgs& args,
                                const std::vector<std::string_view>& params, size_t required);

  // The argument for parameter i, or null when it was not passed.
  const Value* Get(size_t i) const { return given_[i] ? &values_[i] : nullptr; }
  // The argument, or `fallback` when it was not passed.
  Value GetOr(size_t i, Value fallback) const { return given_[i] ? values_[i] : fallback; }

 private:
  std::vector<Value> values_;
  std::vector<bool> given_;
};

// Python int conversion of an index-like argument (int or bool); `what` names it in errors.
Result<int64_t> ToIndex(const Value& v, std::string_view what);
// An optional index: absent or None -> nullopt.
Result<std::optional<int64_t>> ToOptIndex(const Value* v, std::string_view what);
// A str argument; `what` names it in errors.
Result<std::string> ToStr(const Value& v, std::string_view what);
// Absent or None -> nullopt; otherwise must be str.
Result<std::optional<std::string>> ToOptStr(const Value* v, std::string_view what);

}  // namespace ccguard::jinja

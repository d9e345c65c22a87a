// Runtime: what the interpreter offers the builtin filters and tests while a template renders
// (calling other filters and tests by name, and the render's resource budget).
#pragma once

#include <cstddef>
#include <string_view>

#include "jinja/value.h"
#include "util/status.h"

namespace ccguard::jinja {

class Runtime {
 public:
  virtual ~Runtime() = default;
  // value|name(args)
  virtual Result<Value> CallFilter(std::string_view name, const Value& value,
                                   const CallArgs& args) = 0;
  // value is name(args)
  virtual Result<bool> CallTest(std::string_view name, const Value& value,
                                const CallArgs& args) = 0;
  // Accounts for `units` of work (bytes produced, items visited); ResourceExhausted once
  // the render's budget is spent.
  virtual Status Charge(size_t units) = 0;
  // The largest string or list a render may build (Options::max_output_bytes).
  virtual size_t MaxSize() const = 0;
};

}  // namespace ccguard::jinja

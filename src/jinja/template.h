// Template: a Jinja2 template (the subset Hugging Face chat templates use), parsed once and
// rendered many times, byte-identically to Python Jinja2 3.1 as transformers configures it
// (ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, loopcontrols,
// raise_exception / strftime_now globals, json.dumps-based tojson).
//
//   CCG_ASSIGN_OR_RETURN(auto tmpl, jinja::Template::Parse(chat_template));
//   CCG_ASSIGN_OR_RETURN(auto ctx, jinja::Value::ParseJson(R"({"messages": [...]})"));
//   CCG_ASSIGN_OR_RETURN(std::string prompt, tmpl.Render(ctx));
//
// See value.h for values, options.h for limits, interpreter.h for scoping and errors.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "jinja/options.h"
#include "jinja/value.h"
#include "util/status.h"

namespace ccguard::jinja {

namespace ast {
struct Program;
}

class Template {
 public:
  // Parses; syntax errors are InvalidArgument naming the line and column and what was
  // expected; unsupported tags (include, extends, block, import, ...) are NotSupported.
  static Result<Template> Parse(std::string_view source, Options options = {});

  // Renders with `context` (a dict Value; its keys are the template's variables). Errors
  // (undefined callables, type errors, raise_exception(msg), limits exceeded) are returned
  // as a Status whose message starts with "line N: ". Thread-safe: a Template may be
  // rendered concurrently from many threads.
  Result<std::string> Render(const Value& context) const;

  const Options& options() const { return options_; }

 private:
  Template(std::shared_ptr<const ast::Program> program, Options options)
      : program_(std::move(program)), options_(options) {}

  std::shared_ptr<const ast::Program> program_;
  Options options_;
};

}  // namespace ccguard::jinja

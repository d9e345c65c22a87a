// Interpreter: renders a parsed Program with a context, with Jinja2's semantics.
//
// Scoping follows Jinja2: `set` at top level defines a template variable; each for-loop
// iteration, macro call, `with`, set-block and filter-block body gets its own scope, so
// assignments there do not leak out (use a namespace to carry state across iterations);
// `if` bodies share the enclosing scope. Name lookup: scopes innermost first, then the
// context dict, then the globals (globals.h).
//
// Every render gets its own interpreter state, so one Program may be rendered from many
// threads at once. Errors name the template line ("line 7: ...") and keep the code of the
// failure: InvalidArgument for template errors and raise_exception, ResourceExhausted for
// limits, NotSupported for unsupported features.
#pragma once

#include <memory>
#include <string>

#include "jinja/ast.h"
#include "jinja/options.h"
#include "jinja/value.h"
#include "util/status.h"

namespace ccguard::jinja {

// `context` must be a dict (or undefined/none for no variables).
Result<std::string> RenderProgram(std::shared_ptr<const ast::Program> program,
                                  const Options& options, const Value& context);

}  // namespace ccguard::jinja

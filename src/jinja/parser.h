// Parser: tokens -> AST, following Jinja2 3.1's grammar and operator precedence.
//
// Statements: if/elif/else, for (tuple targets, inline `if` filter, else, break/continue),
// set (names, tuples, namespace attributes, and block set with optional filters), macro,
// call blocks, filter blocks, with, print, raw, and transformers' {% generation %}.
// block/extends/include/import/from/autoescape are rejected as NotSupported.
//
// Errors are InvalidArgument("line L, column C: <what was expected / found>").
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "jinja/ast.h"
#include "jinja/lexer.h"
#include "util/status.h"

namespace ccguard::jinja {

// `source` is the normalised source the tokens came from (for error locations).
// `max_depth` bounds the nesting of expressions and statements.
Result<std::unique_ptr<ast::Program>> ParseTokens(std::string_view source,
                                                  const std::vector<Token>& tokens, int max_depth);

}  // namespace ccguard::jinja

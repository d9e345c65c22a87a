// Python's operators on Values: arithmetic (+ - * / // % **, unary - and +), comparisons
// and membership, with Python's results and error messages (TypeError texts, division by
// zero, ...). Using an undefined operand is an error carrying the undefined's message.
//
// Ints are 64-bit: a result that Python would grow into a big int is an error here.
// `max_size` bounds strings and lists built by + and * (ResourceExhausted beyond it).
#pragma once

#include <cstddef>

#include "jinja/ast.h"
#include "jinja/value.h"
#include "util/status.h"

namespace ccguard::jinja {

Result<Value> BinaryOp(ast::BinOp op, const Value& a, const Value& b, size_t max_size);
Result<Value> Negate(const Value& v);
Result<Value> UnaryPlus(const Value& v);
// a op b for ==, !=, <, <=, >, >=, in, not in.
Result<bool> CompareOp(ast::CmpOp op, const Value& a, const Value& b);

}  // namespace ccguard::jinja

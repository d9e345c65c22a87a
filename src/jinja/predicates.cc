#include "jinja/predicates.h"

#include <cmath>
#include <string>

#include "jinja/call_args.h"
#include "jinja/filters.h"
#include "jinja/operators.h"
#include "jinja/pystring.h"

namespace ccguard::jinja {

namespace {

Status NoArgs(std::string_view name, const CallArgs& a) {
  return BoundArgs::Bind(name, a, {}, 0).status();
}

Result<Value> OneArg(std::string_view name, const CallArgs& a) {
  CCG_ASSIGN_OR_RETURN(BoundArgs b, BoundArgs::Bind(name, a, {"other"}, 1));
  return *b.Get(0);
}

#define CCG_SIMPLE_TEST(fn, expr)                                                 \
  Result<bool> fn(Runtime&, [[maybe_unused]] const Value& v, const CallArgs& a) { \
    CCG_RETURN_IF_ERROR(NoArgs(#fn, a));                                          \
    return (expr);                                                                \
  }

CCG_SIMPLE_TEST(TDefined, !v.is_undefined())
CCG_SIMPLE_TEST(TUndefined, v.is_undefined())
CCG_SIMPLE_TEST(TNone, v.is_none())
CCG_SIMPLE_TEST(TBoolean, v.is_bool())
CCG_SIMPLE_TEST(TFalse, v.is_bool() && !v.bool_value())
CCG_SIMPLE_TEST(TTrue, v.is_bool() && v.bool_value())
CCG_SIMPLE_TEST(TInteger, v.is_int())
CCG_SIMPLE_TEST(TFloat, v.is_float())
CCG_SIMPLE_TEST(TNumber, v.is_number())
CCG_SIMPLE_TEST(TString, v.is_string())
CCG_SIMPLE_TEST(TMapping, v.is_dict())
CCG_SIMPLE_TEST(TIterable, v.is_undefined() || v.is_string() || v.is_list() || v.is_dict())
CCG_SIMPLE_TEST(TSequence, v.is_undefined() || v.is_string() || v.is_sequence() || v.is_dict())
// Undefined defines __call__, so Python's callable() says yes.
CCG_SIMPLE_TEST(TCallable, v.is_callable() || v.is_undefined())
CCG_SIMPLE_TEST(TEscaped, false)

#undef CCG_SIMPLE_TEST

Result<Value> Mod(const Value& v, const Value& n) {
  if (v.is_string()) {
    return Status::InvalidArgument("not all arguments converted during string formatting");
  }
  return BinaryOp(ast::BinOp::kMod, v, n, 0);
}

Result<bool> TEven(Runtime&, const Value& v, const CallArgs& a) {
  CCG_RETURN_IF_ERROR(NoArgs("even", a));
  CCG_ASSIGN_OR_RETURN(Value m, Mod(v, Value::Int(2)));
  return m.Equals(Value::Int(0));
}

Result<bool> TOdd(Runtime&, const Value& v, const CallArgs& a) {
  CCG_RETURN_IF_ERROR(NoArgs("odd", a));
  CCG_ASSIGN_OR_RETURN(Value m, Mod(v, Value::Int(2)));
  return m.Equals(Value::Int(1));
}

Result<bool> TDivisibleBy(Runtime&, const Value& v, const CallArgs& a) {
  CCG_ASSIGN_OR_RETURN(BoundArgs b, BoundArgs::Bind("divisibleby", a, {"num"}, 1));
  CCG_ASSIGN_OR_RETURN(Value m, Mod(v, *b.Get(0)));
  return m.Equals(Value::Int(0));
}

Result<bool> TLower(Runtime&, const Value& v, const CallArgs& a) {
  CCG_RETURN_IF_ERROR(NoArgs("lower", a));
  std::string s = v.Str();
  bool cased = false;
  size_t pos = 0;
  while (pos < s.size()) {
    uint32_t c = pystr::DecodeNext(s, &pos);
    if (!pystr::IsCased(c)) continue;
    cased = true;
    if (pystr::ToLower(c) != c) return false;
  }
  return cased;
}

Result<bool> TUpper(Runtime&, const Value& v, const CallArgs& a) {
  CCG_RETURN_IF_ERROR(NoArgs("upper", a));
  std::string s = v.Str();
  bool cased = false;
  size_t pos = 0;
  while (pos < s.size()) {
    uint32_t c = pystr::DecodeNext(s, &pos);
    if (!pystr::IsCased(c)) continue;
    cased = true;
    if (pystr::ToUpper(c) != c) return false;
  }
  return cased;
}

Result<bool> TSameAs(Runtime&, const Value& v, const CallArgs& a) {
  CCG_ASSIGN_OR_RETURN(Value o, OneArg("sameas", a));
  if (v.kind() != o.kind()) return false;
  switch (v.kind()) {
    case Value::Kind::kNone:
      return true;
    case Value::Kind::kBool:
      return v.bool_value() == o.bool_value();
    case Value::Kind::kInt:
      // CPython caches small ints.
      return v.int_value() == o.int_value() && v.int_value() >= -5 && v.int_value() <= 256;
    case Value::Kind::kUndefined:
      return false;
    default:
      return v.Equals(o) && (v.is_namespace() || v.is_callable());
  }
}

template <ast::CmpOp op>
Result<bool> TCompare(Runtime&, const Value& v, const CallArgs& a) {
  CCG_ASSIGN_OR_RETURN(Value o, OneArg("compare", a));
  return CompareOp(op, v, o);
}

Result<bool> TIn(Runtime&, const Value& v, const CallArgs& a) {
  CCG_ASSIGN_OR_RETURN(BoundArgs b, BoundArgs::Bind("in", a, {"seq"}, 1));
  return CompareOp(ast::CmpOp::kIn, v, *b.Get(0));
}

Result<bool> TFilter(Runtime&, const Value& v, const CallArgs& a) {
  CCG_RETURN_IF_ERROR(NoArgs("filter", a));
  return v.is_string() && FindFilter(v.string_value()) != nullptr;
}

Result<bool> TTest(Runtime&, const Value& v, const CallArgs& a) {
  CCG_RETURN_IF_ERROR(NoArgs("test", a));
  return v.is_string() && FindTest(v.string_value()) != nullptr;
}

struct Entry {
  std::string_view name;
  TestFn fn;
};

constexpr Entry kTests[] = {
    {"boolean", TBoolean},
    {"callable", TCallable},
    {"defined", TDefined},
    {"divisibleby", TDivisibleBy},
    {"eq", TCompare<ast::CmpOp::kEq>},
    {"equalto", TCompare<ast::CmpOp::kEq>},
    {"==", TCompare<ast::CmpOp::kEq>},
    {"escaped", TEscaped},
    {"even", TEven},
    {"false", TFalse},
    {"filter", TFilter},
    {"float", TFloat},
    {"ge", TCompare<ast::CmpOp::kGe>},
    {">=", TCompare<ast::CmpOp::kGe>},
    {"gt", TCompare<ast::CmpOp::kGt>},
    {"greaterthan", TCompare<ast::CmpOp::kGt>},
    {">", TCompare<ast::CmpOp::kGt>},
    {"in", TIn},
    {"integer", TInteger},
    {"iterable", TIterable},
    {"le", TCompare<ast::CmpOp::kLe>},
    {"<=", TCompare<ast::CmpOp::kLe>},
    {"lessthan", TCompare<ast::CmpOp::kLt>},
    {"lower", TLower},
    {"lt", TCompare<ast::CmpOp::kLt>},
    {"<", TCompare<ast::CmpOp::kLt>},
    {"mapping", TMapping},
    {"ne", TCompare<ast::CmpOp::kNe>},
    {"!=", TCompare<ast::CmpOp::kNe>},
    {"none", TNone},
    {"number", TNumber},
    {"odd", TOdd},
    {"sameas", TSameAs},
    {"sequence", TSequence},
    {"string", TString},
    {"test", TTest},
    {"true", TTrue},
    {"undefined", TUndefined},
    {"upper", TUpper},
};

}  // namespace

TestFn FindTest(std::string_view name) {
  for (const Entry& e : kTests) {
    if (e.name == name) return e.fn;
  }
  return nullptr;
}

}  // namespace ccguard::jinja

#include "jinja/operators.h"

#include <cmath>
#include <string>

#include "jinja/access.h"
#include "jinja/format.h"

namespace ccguard::jinja {

namespace {

const char* OpSymbol(ast::BinOp op) {
  switch (op) {
    case ast::BinOp::kAdd:
      return "+";
    case ast::BinOp::kSub:
      return "-";
    case ast::BinOp::kMul:
      return "*";
    case ast::BinOp::kDiv:
      return "/";
    case ast::BinOp::kFloorDiv:
      return "//";
    case ast::BinOp::kMod:
      return "%";
    case ast::BinOp::kPow:
      return "** or pow()";
  }
  return "?";
}

Status Unsupported(ast::BinOp op, const Value& a, const Value& b) {
  return Status::InvalidArgument(std::string("unsupported operand type(s) for ") + OpSymbol(op) +
                                 ": '" + a.TypeName() + "' and '" + b.TypeName() + "'");
}

Status Overflow() {
  return Status::InvalidArgument("integer overflow (ints are limited to 64 bits)");
}

Status TooBig(size_t max_size) {
  return Status::ResourceExhausted("result larger than the limit of " + std::to_string(max_size) +
                                   " bytes");
}

bool IsIntLike(const Value& v) { return v.is_int() || v.is_bool(); }

Result<Value> Repeat(const Value& seq, int64_t n, size_t max_size) {
  if (n < 0) n = 0;
  if (seq.is_string()) {
    const std::string& s = seq.string_value();
    if (!s.empty() && static_cast<uint64_t>(n) > max_size / s.size()) return TooBig(max_size);
    std::string out;
    out.reserve(s.size() * static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) out += s;
    return Value::String(std::move(out));
  }
  const auto& items = seq.list_value();
  if (!items.empty() && static_cast<uint64_t>(n) > max_size / (16 * items.size())) {
    return TooBig(max_size);
  }
  std::vector<Value> out;
  out.reserve(items.size() * static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) out.insert(out.end(), items.begin(), items.end());
  return seq.is_tuple() ? Value::Tuple(std::move(out)) : Value::List(std::move(out));
}

double FloatMod(double vx, double wx) {
  double mod = std::fmod(vx, wx);
  if (mod != 0) {
    if ((wx < 0) != (mod < 0)) mod += wx;
  } else {
    mod = std::copysign(0.0, wx);
  }
  return mod;
}

double FloatFloorDiv(double vx, double wx) {
  double mod = std::fmod(vx, wx);
  double div = (vx - mod) / wx;
  if (mod != 0 && ((wx < 0) != (mod < 0))) div -= 1.0;
  if (div != 0) {
    double floordiv = std::floor(div);
    if (div - floordiv > 0.5) floordiv += 1.0;
    return floordiv;
  }
  return std::copysign(0.0, vx / wx);
}

Result<Value> IntPow(int64_t base, int64_t exp) {
  int64_t result = 1;
  while (exp > 0) {
    if (exp & 1) {
      if (__builtin_mul_overflow(result, base, &result)) return Overflow();
    }
    exp >>= 1;
    if (exp > 0 && __builtin_mul_overflow(base, base, &base)) return Overflow();
  }
  return Value::Int(result);
}

Result<Value> Arith(ast::BinOp op, const Value& a, const Value& b) {
  bool ints = IsIntLike(a) && IsIntLike(b);
  int64_t x = a.int_value(), y = b.int_value();
  double fx = a.AsDouble(), fy = b.AsDouble();
  int64_t r;
  switch (op) {
    case ast::BinOp::kAdd:
      if (!ints) return Value::Float(fx + fy);
      if (__builtin_add_overflow(x, y, &r)) return Overflow();
      return Value::Int(r);
    case ast::BinOp::kSub:
      if (!ints) return Value::Float(fx - fy);
      if (__builtin_sub_overflow(x, y, &r)) return Overflow();
      return Value::Int(r);
    case ast::BinOp::kMul:
      if (!ints) return Value::Float(fx * fy);
      if (__builtin_mul_overflow(x, y, &r)) return Overflow();
      return Value::Int(r);
    case ast::BinOp::kDiv:
      if (fy == 0) {
        return Status::InvalidArgument(ints ? "division by zero" : "float division by zero");
      }
      return Value::Float(fx / fy);
    case ast::BinOp::kFloorDiv:
      if (ints) {
        if (y == 0) return Status::InvalidArgument("integer division or modulo by zero");
        if (x == INT64_MIN && y == -1) return Overflow();
        int64_t q = x / y;
        if ((x % y != 0) && ((x < 0) != (y < 0))) --q;
        return Value::Int(q);
      }
      if (fy == 0) return Status::InvalidArgument("float floor division by zero");
      return Value::Float(FloatFloorDiv(fx, fy));
    case ast::BinOp::kMod:
      if (ints) {
        if (y == 0) return Status::InvalidArgument("integer division or modulo by zero");
        if (y == -1) return Value::Int(0);
        int64_t m = x % y;
        if (m != 0 && ((m < 0) != (y < 0))) m += y;
        return Value::Int(m);
      }
      if (fy == 0) return Status::InvalidArgument("float modulo");
      return Value::Float(FloatMod(fx, fy));
    case ast::BinOp::kPow: {
      if (ints && y >= 0) return IntPow(x, y);
      if (fx == 0 && fy < 0) {
        return Status::InvalidArgument("0.0 cannot be raised to a negative power");
      }
      if (fx < 0 && fy != std::floor(fy)) {
        return Status::InvalidArgument("complex results are not supported");
      }
      double p = std::pow(fx, fy);
      if (std::isinf(p) && std::isfinite(fx) && std::isfinite(fy)) {
        return Status::InvalidArgument("(34, 'Numerical result out of range')");
      }
      return Value::Float(p);
    }
  }
  return Status::Internal("bad operator");
}

}  // namespace

Result<Value> BinaryOp(ast::BinOp op, const Value& a, const Value& b, size_t max_size) {
  if (a.is_undefined()) return Status::InvalidArgument(a.UndefinedMessage());
  if (b.is_undefined()) return Status::InvalidArgument(b.UndefinedMessage());
  if (a.is_number() && b.is_number()) return Arith(op, a, b);
  switch (op) {
    case ast::BinOp::kAdd:
      if (a.is_string() && b.is_string()) {
        if (a.string_value().size() + b.string_value().size() > max_size) return TooBig(max_size);
        std::string s;
        s.reserve(a.string_value().size() + b.string_value().size());
        s += a.string_value();
        s += b.string_value();
        return Value::String(std::move(s));
      }
      if (a.is_sequence() && b.is_sequence() && a.is_tuple() == b.is_tuple()) {
        const auto& x = a.list_value();
        const auto& y = b.list_value();
        if ((x.size() + y.size()) * 16 > max_size) return TooBig(max_size);
        std::vector<Value> out;
        out.reserve(x.size() + y.size());
        out.insert(out.end(), x.begin(), x.end());
        out.insert(out.end(), y.begin(), y.end());
        return a.is_tuple() ? Value::Tuple(std::move(out)) : Value::List(std::move(out));
      }
      if (a.is_string() || a.is_sequence()) {
        return Status::InvalidArgument(std::string("can only concatenate ") + a.TypeName() +
                                       " (not \"" + b.TypeName() + "\") to " + a.TypeName());
      }
      return Unsupported(op, a, b);
    case ast::BinOp::kMul:
      if ((a.is_string() || a.is_sequence()) && IsIntLike(b)) {
        return Repeat(a, b.int_value(), max_size);
      }
      if ((b.is_string() || b.is_sequence()) && IsIntLike(a)) {
        return Repeat(b, a.int_value(), max_size);
      }
      if (a.is_string() || a.is_sequence() || b.is_string() || b.is_sequence()) {
        const Value& other = (a.is_string() || a.is_sequence()) ? b : a;
        return Status::InvalidArgument(std::string("can't multiply sequence by non-int of type '") +
                                       other.TypeName() + "'");
      }
      return Unsupported(op, a, b);
    case ast::BinOp::kMod:
      if (a.is_string()) {
        CCG_ASSIGN_OR_RETURN(std::string s, PercentFormat(a.string_value(), b));
        if (s.size() > max_size) return TooBig(max_size);
        return Value::String(std::move(s));
      }
      return Unsupported(op, a, b);
    default:
      return Unsupported(op, a, b);
  }
}

Result<Value> Negate(const Value& v) {
  if (v.is_undefined()) return Status::InvalidArgument(v.UndefinedMessage());
  if (v.is_float()) return Value::Float(-v.float_value());
  if (IsIntLike(v)) {
    if (v.int_value() == INT64_MIN) return Overflow();
    return Value::Int(-v.int_value());
  }
  return Status::InvalidArgument(std::string("bad operand type for unary -: '") + v.TypeName() +
                                 "'");
}

Result<Value> UnaryPlus(const Value& v) {
  if (v.is_undefined()) return Status::InvalidArgument(v.UndefinedMessage());
  if (v.is_float()) return v;
  if (IsIntLike(v)) return Value::Int(v.int_value());
  return Status::InvalidArgument(std::string("bad operand type for unary +: '") + v.TypeName() +
                                 "'");
}

namespace {

const char* CmpSymbol(ast::CmpOp op) {
  switch (op) {
    case ast::CmpOp::kLt:
      return "<";
    case ast::CmpOp::kLe:
      return "<=";
    case ast::CmpOp::kGt:
      return ">";
    default:
      return ">=";
  }
}

template <class T>
bool Apply(ast::CmpOp op, const T& x, const T& y) {
  switch (op) {
    case ast::CmpOp::kLt:
      return x < y;
    case ast::CmpOp::kLe:
      return x <= y;
    case ast::CmpOp::kGt:
      return x > y;
    default:
      return x >= y;
  }
}

Result<bool> Order(ast::CmpOp op, const Value& a, const Value& b, int depth) {
  if (a.is_number() && b.is_number()) {
    if (!a.is_float() && !b.is_float()) return Apply(op, a.int_value(), b.int_value());
    long double x = a.is_float() ? static_cast<long double>(a.float_value())
                                 : static_cast<long double>(a.int_value());
    long double y = b.is_float() ? static_cast<long double>(b.float_value())
                                 : static_cast<long double>(b.int_value());
    return Apply(op, x, y);
  }
  if (a.is_string() && b.is_string()) return Apply(op, a.string_value(), b.string_value());
  if (a.is_sequence() && b.is_sequence() && a.is_tuple() == b.is_tuple() && depth < 1000) {
    const auto& x = a.list_value();
    const auto& y = b.list_value();
    size_t n = std::min(x.size(), y.size());
    for (size_t i = 0; i < n; ++i) {
      if (!x[i].Equals(y[i])) return Order(op, x[i], y[i], depth + 1);
    }
    return Apply(op, x.size(), y.size());
  }
  if (a.is_undefined()) return Status::InvalidArgument(a.UndefinedMessage());
  if (b.is_undefined()) return Status::InvalidArgument(b.UndefinedMessage());
  return Status::InvalidArgument(std::string("'") + CmpSymbol(op) +
                                 "' not supported between instances of '" + a.TypeName() +
                                 "' and '" + b.TypeName() + "'");
}

}  // namespace

Result<bool> CompareOp(ast::CmpOp op, const Value& a, const Value& b) {
  switch (op) {
    case ast::CmpOp::kEq:
      return a.Equals(b);
    case ast::CmpOp::kNe:
      return !a.Equals(b);
    case ast::CmpOp::kIn:
      return Contains(b, a);
    case ast::CmpOp::kNotIn: {
      CCG_ASSIGN_OR_RETURN(bool in, Contains(b, a));
      return !in;
    }
    default:
      return Order(op, a, b, 0);
  }
}

}  // namespace ccguard::jinja

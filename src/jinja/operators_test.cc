#include "jinja/operators.h"

#include <gtest/gtest.h>

#include <string>

namespace ccguard::jinja {
namespace {

using ast::BinOp;
using ast::CmpOp;

std::string Op(BinOp op, const Value& a, const Value& b, size_t max_size = 1 << 20) {
  auto r = BinaryOp(op, a, b, max_size);
  return r.ok() ? r->Repr() : "ERROR: " + r.status().message();
}

TEST(OperatorsTest, Arithmetic) {
  EXPECT_EQ(Op(BinOp::kAdd, Value::Int(1), Value::Float(0.5)), "1.5");
  EXPECT_EQ(Op(BinOp::kAdd, Value::Bool(true), Value::Int(1)), "2");
  EXPECT_EQ(Op(BinOp::kDiv, Value::Int(10), Value::Int(4)), "2.5");
  EXPECT_EQ(Op(BinOp::kDiv, Value::Int(10), Value::Int(5)), "2.0");
  EXPECT_EQ(Op(BinOp::kFloorDiv, Value::Int(-7), Value::Int(2)), "-4");
  EXPECT_EQ(Op(BinOp::kFloorDiv, Value::Float(-7.5), Value::Int(2)), "-4.0");
  EXPECT_EQ(Op(BinOp::kMod, Value::Int(-7), Value::Int(3)), "2");
  EXPECT_EQ(Op(BinOp::kMod, Value::Int(7), Value::Int(-3)), "-2");
  EXPECT_EQ(Op(BinOp::kMod, Value::Float(-7.5), Value::Int(2)), "0.5");
  EXPECT_EQ(Op(BinOp::kPow, Value::Int(2), Value::Int(10)), "1024");
  EXPECT_EQ(Op(BinOp::kPow, Value::Int(2), Value::Int(-1)), "0.5");
  EXPECT_EQ(Op(BinOp::kPow, Value::Int(2), Value::Int(64)),
            "ERROR: integer overflow (ints are limited to 64 bits)");
  EXPECT_EQ(Op(BinOp::kAdd, Value::Int(INT64_MAX), Value::Int(1)),
            "ERROR: integer overflow (ints are limited to 64 bits)");
  EXPECT_EQ(Op(BinOp::kDiv, Value::Int(1), Value::Int(0)), "ERROR: division by zero");
  EXPECT_EQ(Op(BinOp::kDiv, Value::Float(1), Value::Int(0)), "ERROR: float division by zero");
  EXPECT_EQ(Op(BinOp::kPow, Value::Int(0), Value::Int(-1)),
            "ERROR: 0.0 cannot be raised to a negative power");
}

TEST(OperatorsTest, Sequences) {
  EXPECT_EQ(Op(BinOp::kAdd, Value::String("a"), Value::String("b")), "'ab'");
  EXPECT_EQ(Op(BinOp::kMul, Value::Int(3), Value::String("ab")), "'ababab'");
  EXPECT_EQ(Op(BinOp::kMul, Value::String("ab"), Value::Int(-1)), "''");
  EXPECT_EQ(Op(BinOp::kMul, Value::List({Value::Int(1)}), Value::Int(2)), "[1, 1]");
  EXPECT_EQ(Op(BinOp::kAdd, Value::Tuple({Value::Int(1)}), Value::Tuple({Value::Int(2)})),
            "(1, 2)");
  EXPECT_EQ(Op(BinOp::kAdd, Value::List({}), Value::Tuple({})),
            "ERROR: can only concatenate list (not \"tuple\") to list");
  EXPECT_EQ(Op(BinOp::kMod, Value::String("%s!"), Value::String("x")), "'x!'");
  EXPECT_EQ(Op(BinOp::kMul, Value::String("ab"), Value::Int(1000), 100),
            "ERROR: result larger than the limit of 100 bytes");
  EXPECT_EQ(Op(BinOp::kAdd, Value(), Value::Int(1)), "ERROR: value is undefined");
  EXPECT_EQ(Op(BinOp::kSub, Value::String("a"), Value::String("b")),
            "ERROR: unsupported operand type(s) for -: 'str' and 'str'");
}

TEST(OperatorsTest, UnaryAndCompare) {
  EXPECT_EQ(Negate(Value::Bool(true))->Repr(), "-1");
  EXPECT_EQ(Negate(Value::Float(0.0))->Repr(), "-0.0");
  EXPECT_FALSE(Negate(Value::String("a")).ok());
  EXPECT_EQ(UnaryPlus(Value::Bool(true))->Repr(), "1");
  EXPECT_TRUE(*CompareOp(CmpOp::kEq, Value::Int(1), Value::Float(1.0)));
  EXPECT_TRUE(*CompareOp(CmpOp::kLe, Value::String("a"), Value::String("a")));
  EXPECT_TRUE(*CompareOp(CmpOp::kGt, Value::List({Value::Int(2)}),
                         Value::List({Value::Int(1), Value::Int(5)})));
  EXPECT_TRUE(*CompareOp(CmpOp::kNotIn, Value::Int(3), Value::List({Value::Int(1)})));
  auto r = CompareOp(CmpOp::kGe, Value::None(), Value::Int(1));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "'>=' not supported between instances of 'NoneType' and 'int'");
}

}  // namespace
}  // namespace ccguard::jinja

#include "jinja/value.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

namespace ccguard::jinja {
namespace {

TEST(ValueTest, FloatReprMatchesPython) {
  EXPECT_EQ(FloatRepr(1.0), "1.0");
  EXPECT_EQ(FloatRepr(1e16), "1e+16");
  EXPECT_EQ(FloatRepr(1e15), "1000000000000000.0");
  EXPECT_EQ(FloatRepr(1.5e-5), "1.5e-05");
  EXPECT_EQ(FloatRepr(0.0001), "0.0001");
  EXPECT_EQ(FloatRepr(5e-5), "5e-05");
  EXPECT_EQ(FloatRepr(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(FloatRepr(1e22), "1e+22");
  EXPECT_EQ(FloatRepr(-0.0), "-0.0");
  EXPECT_EQ(FloatRepr(0.0), "0.0");
  EXPECT_EQ(FloatRepr(123456789.123), "123456789.123");
  EXPECT_EQ(FloatRepr(5e-324), "5e-324");
  EXPECT_EQ(FloatRepr(1.7976931348623157e308), "1.7976931348623157e+308");
  EXPECT_EQ(FloatRepr(100.0), "100.0");
  EXPECT_EQ(FloatRepr(1.0 / 3), "0.3333333333333333");
  EXPECT_EQ(FloatRepr(12345678901234567.0), "1.2345678901234568e+16");
  EXPECT_EQ(FloatRepr(-2.5), "-2.5");
  EXPECT_EQ(FloatRepr(std::numeric_limits<double>::infinity()), "inf");
  EXPECT_EQ(FloatRepr(-std::numeric_limits<double>::infinity()), "-inf");
  EXPECT_EQ(FloatRepr(std::nan("")), "nan");
}

TEST(ValueTest, StringReprMatchesPython) {
  EXPECT_EQ(StringRepr("abc"), "'abc'");
  EXPECT_EQ(StringRepr("it's"), "\"it's\"");
  EXPECT_EQ(StringRepr("\"q\""), "'\"q\"'");
  EXPECT_EQ(StringRepr("both ' \""), "'both \\' \"'");
  EXPECT_EQ(StringRepr("a\\b\n\t\r"), "'a\\\\b\\n\\t\\r'");
  EXPECT_EQ(StringRepr(std::string("\x00\x1f\x7f", 3)), "'\\x00\\x1f\\x7f'");
  EXPECT_EQ(StringRepr("\u0080\u00a0\u00ad\u2028\u00e9"), "'\\x80\\xa0\\xad\\u2028\u00e9'");
  EXPECT_EQ(StringRepr("\U0001F600\U000E0001"), "'\U0001F600\\U000e0001'");
  // Invalid UTF-8 bytes show as escaped surrogates and never fail.
  EXPECT_EQ(StringRepr("\xff"), "'\\udcff'");
}

TEST(ValueTest, StrAndRepr) {
  EXPECT_EQ(Value().Str(), "");
  EXPECT_EQ(Value().Repr(), "Undefined");
  EXPECT_EQ(Value::None().Str(), "None");
  EXPECT_EQ(Value::Bool(true).Str(), "True");
  EXPECT_EQ(Value::Int(-42).Str(), "-42");
  EXPECT_EQ(Value::Float(2.0).Str(), "2.0");
  EXPECT_EQ(Value::String("x'y").Str(), "x'y");
  EXPECT_EQ(Value::String("x'y").Repr(), "\"x'y\"");
  Value list = Value::List({Value::Int(1), Value::String("a"), Value::None(),
                            Value::Tuple({Value::Int(1)}), Value::Tuple({})});
  EXPECT_EQ(list.Str(), "[1, 'a', None, (1,), ()]");
  Dict d;
  d.Set("b", Value::Bool(false));
  d.Set("a", list);
  EXPECT_EQ(Value::FromDict(d).Str(), "{'b': False, 'a': [1, 'a', None, (1,), ()]}");
  EXPECT_EQ(Value::NewNamespace(d).Str(),
            "<Namespace {'b': False, 'a': [1, 'a', None, (1,), ()]}>");
}

TEST(ValueTest, TruthinessAndTypes) {
  EXPECT_FALSE(Value().Truthy());
  EXPECT_FALSE(Value::None().Truthy());
  EXPECT_FALSE(Value::Int(0).Truthy());
  EXPECT_FALSE(Value::Float(0.0).Truthy());
  EXPECT_FALSE(Value::String("").Truthy());
  EXPECT_FALSE(Value::List({}).Truthy());
  EXPECT_FALSE(Value::FromDict(Dict()).Truthy());
  EXPECT_TRUE(Value::NewNamespace(Dict()).Truthy());
  EXPECT_TRUE(Value::String("0").Truthy());
  EXPECT_TRUE(Value::Float(0.1).Truthy());
  EXPECT_STREQ(Value::Tuple({}).TypeName(), "tuple");
  EXPECT_STREQ(Value::None().TypeName(), "NoneType");
  EXPECT_TRUE(Value::Bool(true).is_number());
  EXPECT_EQ(Value::Bool(true).int_value(), 1);
}

TEST(ValueTest, EqualityIsPythons) {
  EXPECT_TRUE(Value::Int(1).Equals(Value::Float(1.0)));
  EXPECT_TRUE(Value::Bool(true).Equals(Value::Int(1)));
  EXPECT_FALSE(Value::Int(1).Equals(Value::String("1")));
  EXPECT_FALSE(Value::List({Value::Int(1)}).Equals(Value::Tuple({Value::Int(1)})));
  EXPECT_TRUE(Value().Equals(Value::Undefined("x")));
  EXPECT_FALSE(Value().Equals(Value::None()));
  Dict a, b;
  a.Set("x", Value::Int(1));
  a.Set("y", Value::Int(2));
  b.Set("y", Value::Int(2));
  b.Set("x", Value::Float(1.0));
  EXPECT_TRUE(Value::FromDict(a).Equals(Value::FromDict(b)));           // order does not matter
  EXPECT_FALSE(Value::NewNamespace(a).Equals(Value::NewNamespace(a)));  // identity
  EXPECT_TRUE(Value::Int(9007199254740993).Equals(Value::Int(9007199254740993)));
  EXPECT_FALSE(Value::Int(9007199254740993).Equals(Value::Float(9007199254740992.0)));
}

TEST(ValueTest, Ordering) {
  EXPECT_TRUE(*Value::Less(Value::Int(1), Value::Float(1.5)));
  EXPECT_TRUE(*Value::Less(Value::String("B"), Value::String("a")));
  EXPECT_TRUE(*Value::Less(Value::String("z"), Value::String("\u00e9")));
  EXPECT_TRUE(
      *Value::Less(Value::List({Value::Int(1)}), Value::List({Value::Int(1), Value::Int(0)})));
  auto r = Value::Less(Value::Int(1), Value::String("a"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "'<' not supported between instances of 'int' and 'str'");
}

TEST(ValueTest, FromJsonKeepsTypesAndOrder) {
  auto v = Value::ParseJson(R"({"z": 1, "a": [1.0, 2, true, null, "s"], "m": {"k": -3}})");
  ASSERT_TRUE(v.ok());
  ASSERT_TRUE(v->is_dict());
  const auto& e = v->dict_value().entries();
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0].first, "z");  // document order, as Python's json keeps it
  EXPECT_EQ(e[1].first, "a");
  EXPECT_EQ(v->Str(), "{'z': 1, 'a': [1.0, 2, True, None, 's'], 'm': {'k': -3}}");
  // nlohmann::json (std::map) iterates keys sorted.
  Value sorted = Value::FromJson(nlohmann::json::parse(R"({"z": 1, "a": 2})"));
  EXPECT_EQ(sorted.dict_value().entries()[0].first, "a");
  // Unsigned values beyond int64 become floats.
  EXPECT_TRUE(Value::FromJson(nlohmann::json(18446744073709551615ull)).is_float());
  EXPECT_FALSE(Value::ParseJson("{oops").ok());
}

TEST(ValueTest, LargeDictsAreIndexed) {
  Dict d;
  auto key = [](int i) { return std::string("k").append(std::to_string(i)); };
  for (int i = 0; i < 1000; ++i) d.Set(key(i), Value::Int(i));
  d.Set("k5", Value::Int(-5));  // replacing keeps the position
  ASSERT_EQ(d.size(), 1000u);
  EXPECT_EQ(d.entries()[5].second.int_value(), -5);
  for (int i = 0; i < 1000; i += 37) {
    const Value* v = d.Find(key(i));
    ASSERT_NE(v, nullptr);
    EXPECT_EQ(v->int_value(), i == 5 ? -5 : i);
  }
  EXPECT_EQ(d.Find("nope"), nullptr);
}

TEST(ValueTest, DepthAndCalls) {
  Value leaf = Value::Int(1);
  Value l1 = Value::List({leaf});
  Value l2 = Value::List({l1, leaf});
  EXPECT_EQ(leaf.depth(), 0u);
  EXPECT_EQ(l1.depth(), 1u);
  EXPECT_EQ(l2.depth(), 2u);
  Value ns = Value::NewNamespace(Dict());
  ns.namespace_value().Set("x", l2);
  EXPECT_EQ(ns.depth(), 3u);
  Value f = Value::Function("f", [](const CallArgs& a) -> Result<Value> {
    return Value::Int(static_cast<int64_t>(a.args.size()));
  });
  EXPECT_EQ(f.Call({{Value(), Value()}, {}})->int_value(), 2);
  EXPECT_FALSE(Value::Int(1).Call({}).ok());
}

}  // namespace
}  // namespace ccguard::jinja

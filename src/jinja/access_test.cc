#include "jinja/access.h"

#include <gtest/gtest.h>

#include <string>

namespace ccguard::jinja {
namespace {

Value J(const std::string& json) { return *Value::ParseJson(json); }

std::string Show(const Result<Value>& r) {
  if (!r.ok()) return "ERROR: " + r.status().message();
  if (r->is_undefined()) return "Undefined(" + r->undefined_hint() + ")";
  return r->Repr();
}

TEST(AccessTest, Attributes) {
  Value d = J(R"({"role": "user", "items": 5})");
  EXPECT_EQ(Show(GetAttr(d, "role")), "'user'");
  EXPECT_EQ(Show(GetAttr(d, "nope")), "Undefined('dict object' has no attribute 'nope')");
  EXPECT_TRUE(GetAttr(d, "items")->is_callable());           // methods win over keys for obj.name
  EXPECT_EQ(Show(GetItem(d, Value::String("items"))), "5");  // keys win for obj[name]
  EXPECT_EQ(Show(GetAttr(Value::None(), "x")), "Undefined('None' has no attribute 'x')");
  EXPECT_EQ(Show(GetAttr(Value::Undefined("'m' is undefined"), "x")), "ERROR: 'm' is undefined");
  EXPECT_EQ(Show(GetAttr(J("[1]"), "append")),
            "Undefined(access to attribute 'append' of 'list' object is unsafe.)");
  EXPECT_EQ(Show(GetAttr(d, "update")),
            "Undefined(access to attribute 'update' of 'dict' object is unsafe.)");
}

TEST(AccessTest, ItemsAndSlices) {
  Value xs = J("[1, 2, 3]");
  EXPECT_EQ(Show(GetItem(xs, Value::Int(-1))), "3");
  EXPECT_EQ(Show(GetItem(xs, Value::Int(3))), "Undefined(list object has no element 3)");
  EXPECT_EQ(Show(GetItem(xs, Value::Bool(true))), "2");
  EXPECT_EQ(Show(GetItem(Value::String("h\u00e9llo"), Value::Int(1))), "'\u00e9'");
  EXPECT_EQ(Show(GetItem(Value::String("h\u00e9llo"), Value::Int(-4))), "'\u00e9'");
  Value step = Value::Int(-1), one = Value::Int(1), two = Value::Int(2);
  EXPECT_EQ(Show(GetSlice(xs, nullptr, nullptr, &step)), "[3, 2, 1]");
  EXPECT_EQ(Show(GetSlice(xs, &one, nullptr, nullptr)), "[2, 3]");
  EXPECT_EQ(Show(GetSlice(Value::String("h\u00e9llo"), &one, nullptr, &two)), "'\u00e9l'");
  EXPECT_EQ(Show(GetSlice(Value::Tuple({Value::Int(1), Value::Int(2)}), &one, nullptr, nullptr)),
            "(2,)");
  EXPECT_EQ(Show(GetSlice(Value::Int(5), &one, nullptr, nullptr)),
            "ERROR: 'int' object is not subscriptable");
  Value zero = Value::Int(0);
  EXPECT_EQ(Show(GetSlice(xs, nullptr, nullptr, &zero)), "ERROR: slice step cannot be zero");
}

TEST(AccessTest, IterationLengthContains) {
  EXPECT_EQ(Iterate(J(R"({"b": 1, "a": 2})"))->size(), 2u);
  EXPECT_EQ((*Iterate(J(R"({"b": 1, "a": 2})")))[0].string_value(), "b");
  EXPECT_EQ(Iterate(Value::String("h\u00e9"))->size(), 2u);
  EXPECT_TRUE(Iterate(Value())->empty());
  EXPECT_FALSE(Iterate(Value::Int(1)).ok());
  EXPECT_EQ(*Length(Value::String("h\u00e9")), 2);
  EXPECT_EQ(*Length(Value()), 0);
  EXPECT_FALSE(Length(Value::Int(1)).ok());
  EXPECT_TRUE(*Contains(Value::String("abc"), Value::String("bc")));
  EXPECT_TRUE(*Contains(J("[1, 2]"), Value::Float(2.0)));
  EXPECT_TRUE(*Contains(J(R"({"k": 1})"), Value::String("k")));
  EXPECT_FALSE(*Contains(Value(), Value::String("k")));
  EXPECT_FALSE(Contains(Value::String("abc"), Value::Int(1)).ok());
}

TEST(AccessTest, Methods) {
  auto call = [](const Value& self, const char* name, std::vector<Value> args) {
    return Show(CallMethod(self, name, CallArgs{std::move(args), {}}));
  };
  Value s = Value::String("<think>\nr\n</think>\n\nanswer");
  EXPECT_EQ(call(s, "split", {Value::String("</think>")}), "['<think>\\nr\\n', '\\n\\nanswer']");
  EXPECT_EQ(call(s, "startswith", {Value::String("<think>")}), "True");
  EXPECT_EQ(call(s, "endswith", {Value::Tuple({Value::String("x"), Value::String("er")})}), "True");
  EXPECT_EQ(call(Value::String("\n\nx\n"), "strip", {Value::String("\n")}), "'x'");
  EXPECT_EQ(call(Value::String("a b"), "split", {}), "['a', 'b']");
  EXPECT_EQ(call(Value::String("a"), "split", {Value::String("")}), "ERROR: empty separator");
  EXPECT_EQ(call(Value::String("ab"), "index", {Value::String("z")}), "ERROR: substring not found");
  EXPECT_EQ(call(Value::String(","), "join", {J(R"(["a", 1])")}),
            "ERROR: sequence item 1: expected str instance, int found");
  Value d = J(R"({"a": 1})");
  EXPECT_EQ(call(d, "get", {Value::String("a")}), "1");
  EXPECT_EQ(call(d, "get", {Value::String("b")}), "None");
  EXPECT_EQ(call(d, "items", {}), "[('a', 1)]");
  EXPECT_EQ(call(J("[1, 2, 1]"), "count", {Value::Int(1)}), "2");
  EXPECT_EQ(call(J("[1, 2, 1]"), "index", {Value::Int(2)}), "1");
  EXPECT_EQ(call(s, "startswith", {}),
            "ERROR: str.startswith() missing required argument 'prefix'");
}

}  // namespace
}  // namespace ccguard::jinja

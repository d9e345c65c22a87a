#include "jinja/json_dump.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

namespace ccguard::jinja {
namespace {

std::string Dump(const std::string& json, JsonDumpOptions o = {}) {
  auto v = Value::ParseJson(json);
  EXPECT_TRUE(v.ok());
  auto r = JsonDumps(*v, o);
  return r.ok() ? *r : "ERROR: " + r.status().message();
}

TEST(JsonDumpTest, DefaultsMatchPythonJsonDumps) {
  // json.dumps(x, ensure_ascii=False)
  EXPECT_EQ(Dump(R"({"b": [1, 2.5, null, true, false], "a": {}, "c": [], "d": "x"})"),
            R"({"b": [1, 2.5, null, true, false], "a": {}, "c": [], "d": "x"})");
  EXPECT_EQ(Dump(R"([1.0, 1e20, 0.1, 1e-7, -0.0, 123456789012345678])"),
            "[1.0, 1e+20, 0.1, 1e-07, -0.0, 123456789012345678]");
  // Only ", \\ and control characters are escaped; HTML characters, DEL, U+2028 and
  // non-ASCII text are kept.
  EXPECT_EQ(Dump(R"(["q\" b\\ n\n t\t \u0001 \u007f <>& \u00e9 \u2028 \ud83d\ude00"])"),
            "[\"q\\\" b\\\\ n\\n t\\t \\u0001 \x7f <>& \u00e9 \u2028 \U0001F600\"]");
}

TEST(JsonDumpTest, EnsureAscii) {
  JsonDumpOptions o;
  o.ensure_ascii = true;
  EXPECT_EQ(Dump(R"(["\u00e9\u007f\ud83d\ude00"])", o), R"(["\u00e9\u007f\ud83d\ude00"])");
}

TEST(JsonDumpTest, IndentAndSeparators) {
  JsonDumpOptions o = JsonDumpOptions::Python(std::string("  "));
  EXPECT_EQ(Dump(R"({"a": [1, {"b": null}], "c": "x", "e": [], "f": {}})", o),
            "{\n  \"a\": [\n    1,\n    {\n      \"b\": null\n    }\n  ],\n  \"c\": \"x\",\n"
            "  \"e\": [],\n  \"f\": {}\n}");
  o = JsonDumpOptions::Python(std::string());
  EXPECT_EQ(Dump("[1, [2]]", o), "[\n1,\n[\n2\n]\n]");
  o = JsonDumpOptions::Python(std::nullopt);
  o.item_separator = std::string(",");
  o.key_separator = std::string(":");
  EXPECT_EQ(Dump(R"({"a": [1, 2]})", o), R"({"a":[1,2]})");
  o.sort_keys = true;
  EXPECT_EQ(Dump(R"({"b": 1, "a": {"d": 1, "c": 2}})", o), R"({"a":{"c":2,"d":1},"b":1})");
}

TEST(JsonDumpTest, SpecialValues) {
  EXPECT_EQ(*JsonDumps(Value::Float(NAN), {}), "NaN");
  EXPECT_EQ(*JsonDumps(Value::Float(-INFINITY), {}), "-Infinity");
  EXPECT_EQ(*JsonDumps(Value::Tuple({Value::Int(1), Value::String("a")}), {}), "[1, \"a\"]");
  auto r = JsonDumps(Value::List({Value()}), {});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "Object of type Undefined is not JSON serializable");
  EXPECT_FALSE(JsonDumps(Value::NewNamespace(Dict()), {}).ok());
}

}  // namespace
}  // namespace ccguard::jinja

#include "jinja/format.h"

#include <gtest/gtest.h>

#include <string>

namespace ccguard::jinja {
namespace {

std::string Percent(const std::string& fmt, const Value& args) {
  auto r = PercentFormat(fmt, args);
  return r.ok() ? *r : "ERROR: " + r.status().message();
}

std::string Format(const std::string& fmt, CallArgs args) {
  auto r = StrFormat(fmt, args);
  return r.ok() ? *r : "ERROR: " + r.status().message();
}

TEST(FormatTest, PercentMatchesPython) {
  Value args = Value::Tuple({Value::Float(3.14159), Value::Int(42), Value::Int(-42),
                             Value::Int(-255), Value::Int(255), Value::Int(5), Value::Int(5),
                             Value::Float(1.0), Value::String("a"), Value::Int(65),
                             Value::String("abc"), Value::String("x"), Value::String("y")});
  EXPECT_EQ(Percent("%5.2f|%-5d|%05d|%x|%#x|%+d|% d|%s|%r|%c|%%|%.2s|%5s|%-5s|", args),
            " 3.14|42   |-0042|-ff|0xff|+5| 5|1.0|'a'|A|%|ab|    x|y    |");
  EXPECT_EQ(Percent("%d", Value::Float(3.7)), "3");
  EXPECT_EQ(Percent("%s", Value::Tuple({Value::Int(1)})), "1");
  EXPECT_EQ(Percent("%s", Value::List({Value::Int(1)})), "[1]");
  EXPECT_EQ(Percent("abc", Value::List({Value::Int(1)})), "abc");  // lists act as mappings
  Dict d;
  d.Set("a", Value::String("x"));
  d.Set("b", Value::Int(2));
  EXPECT_EQ(Percent("%(a)s-%(b)03d", Value::FromDict(d)), "x-002");
  EXPECT_EQ(Percent("%s", Value::FromDict(d)), "{'a': 'x', 'b': 2}");
  EXPECT_EQ(Percent("%*d|%.*f", Value::Tuple({Value::Int(4), Value::Int(7), Value::Int(1),
                                              Value::Float(2.25)})),
            "   7|2.2");
  EXPECT_EQ(Percent("%s %s", Value::Tuple({Value::Int(1)})),
            "ERROR: not enough arguments for format string");
  EXPECT_EQ(Percent("%s", Value::Tuple({Value::Int(1), Value::Int(2)})),
            "ERROR: not all arguments converted during string formatting");
  EXPECT_EQ(Percent("%d", Value::String("x")),
            "ERROR: %d format: a real number is required, not str");
  EXPECT_EQ(Percent("%y", Value::Int(1)), "ERROR: unsupported format character 'y'");
}

TEST(FormatTest, StrFormatMatchesPython) {
  CallArgs a;
  a.args = {
      Value::Float(3.14159),   Value::String("ab"),  Value::String("c"),    Value::String("mid"),
      Value::Int(7),           Value::Int(1234567),  Value::Int(255),       Value::Float(-3.14159),
      Value::Float(12345.678), Value::Float(0.0001), Value::Float(0.5),     Value::Float(0.25),
      Value::String("q"),      Value::Int(42),       Value::Float(3.14159), Value::Float(1.0),
      Value::Int(5),           Value::Int(8),        Value::Int(42)};
  EXPECT_EQ(Format("{:>8.3f}|{:<6}|{:^7}|{:*^9}|{:+d}|{:,}|{:_x}|{:08.2f}|{:e}|{:g}|{:%}|{:.1%}|"
                   "{!r}|{:5}|{:.2}|{}|{:b}|{:#o}|{:=+8d}",
                   a),
            "   3.142|ab    |   c   |***mid***|+7|1,234,567|ff|-0003.14|1.234568e+04|0.0001|"
            "50.000000%|25.0%|'q'|   42|3.1|1.0|101|0o10|+     42");
  EXPECT_EQ(Format("{}", {{Value::Float(1e20)}, {}}), "1e+20");
  EXPECT_EQ(Format("{:10}", {{Value::Float(1.5)}, {}}), "       1.5");
  EXPECT_EQ(Format("{:.3}", {{Value::Float(2.0)}, {}}), "2.0");
  EXPECT_EQ(Format("{:.2}", {{Value::Float(123.456)}, {}}), "1.2e+02");
  EXPECT_EQ(Format("{:>6}", {{Value::Bool(true)}, {}}), "     1");
  EXPECT_EQ(Format("{0}{1}{0} {{x}}", {{Value::Int(1), Value::Int(2)}, {}}), "121 {x}");
  CallArgs kw;
  Dict d;
  d.Set("k", Value::List({Value::String("v0"), Value::String("v1")}));
  kw.kwargs = {{"name", Value::String("n")}, {"d", Value::FromDict(d)}};
  EXPECT_EQ(Format("{name}:{d[k][1]}:{d.k}", kw), "n:v1:['v0', 'v1']");
  EXPECT_EQ(Format("{} {0}", {{Value::Int(1)}, {}}),
            "ERROR: cannot switch from automatic field numbering to manual field specification");
  EXPECT_EQ(Format("{1}", {{Value::Int(1)}, {}}),
            "ERROR: Replacement index 1 out of range for positional args tuple");
  EXPECT_EQ(Format("a}b", {}), "ERROR: Single '}' encountered in format string");
  EXPECT_EQ(Format("{:d}", {{Value::String("x")}, {}}),
            "ERROR: Unknown format code 'd' for object of type 'str'");
}

}  // namespace
}  // namespace ccguard::jinja

// Tests of the builtin filters (filters.h) and tests (predicates.h), run through templates.
// Expected strings are Python Jinja2 3.1's output with transformers' environment (its
// json.dumps-based tojson), checked by hand against the filters' documented semantics.
#include "jinja/filters.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "jinja/predicates.h"
#include "jinja/template.h"

namespace ccguard::jinja {
namespace {

struct Case {
  const char* tmpl;
  const char* ctx;   // JSON object
  const char* want;  // "ERROR" when rendering must fail
};

std::string RenderOrError(const std::string& tmpl, const std::string& ctx_json) {
  auto ctx = Value::ParseJson(ctx_json);
  if (!ctx.ok()) return "BAD CONTEXT: " + ctx.status().message();
  auto t = Template::Parse(tmpl);
  if (!t.ok()) return "ERROR";
  auto r = t->Render(*ctx);
  return r.ok() ? *r : "ERROR";
}

void RunCases(const std::vector<Case>& cases) {
  for (const Case& c : cases) {
    SCOPED_TRACE(c.tmpl);
    EXPECT_EQ(RenderOrError(c.tmpl, c.ctx), c.want);
  }
}

TEST(FiltersTest, Lookup) {
  EXPECT_NE(FindFilter("tojson"), nullptr);
  EXPECT_NE(FindFilter("d"), nullptr);
  EXPECT_EQ(FindFilter("nope"), nullptr);
  EXPECT_NE(FindTest("defined"), nullptr);
  EXPECT_NE(FindTest("=="), nullptr);
  EXPECT_EQ(FindTest("nope"), nullptr);
}

TEST(FiltersTest, LengthAndConversion) {
  RunCases({
      {"{{ xs|length }} {{ xs|count }} {{ 'héllo'|length }} {{ d|length }} {{ undefined_var|length "
       "}}",
       "{\"xs\": [1, 2], \"d\": {\"a\": 1}}", "2 2 5 1 0"},
      {"{{ 'abc'|list }} {{ d|list }} {{ 5|string ~ 'x' }} {{ [1, 'a']|string }} {{ none|string }}",
       "{\"d\": {\"a\": 1, \"b\": 2}}", "['a', 'b', 'c'] ['a', 'b'] 5x [1, 'a'] None"},
      {"{{ '42'|int + 1 }} {{ '4.7'|int }} {{ 'x'|int }} {{ 'x'|int(7) }} {{ 3.9|int }} {{ "
       "-3.9|int }} {{ '0x1A'|int(0, 16) }} {{ ' 12 '|int }} {{ '1_0'|int }} {{ true|int }} {{ "
       "none|int }} {{ '12'|int(base=8) }}",
       "{}", "43 4 0 7 3 -3 26 12 10 1 0 10"},
      {"{{ '3.5'|float }} {{ 'abc'|float }} {{ 'abc'|float(1.5) }} {{ 2|float }} {{ ' 1e3 '|float "
       "}} {{ 'inf'|float }} {{ '-nan'|float }} {{ '1_0.5'|float }}",
       "{}", "3.5 0.0 1.5 2.0 1000.0 inf nan 10.5"},
      {"{{ -3|abs }} {{ (-3)|abs }} {{ -2.5|abs }} {{ true|abs }}", "{}", "3 3 2.5 1"},
      {"{{ 2.5|round }} {{ 3.5|round }} {{ 2.675|round(2) }} {{ 2.1|round(method='ceil') }} {{ "
       "2.9|round(0, 'floor') }} {{ 5|round }} {{ 1234|round(-2) }} {{ 1250|round(-2) }} {{ "
       "0.5|round }} {{ 1.5|round }} {{ -0.5|round }} {{ 1.005|round(2) }}",
       "{}", "2.0 4.0 2.67 3.0 2.0 5 1200 1200 0.0 2.0 -0.0 1.0"},
  });
}

TEST(FiltersTest, Strings) {
  RunCases({
      {"[{{ '  x '|trim }}] [{{ 'xaxx'|trim('x') }}] [{{ '\\n x\\t'|trim }}]", "{}", "[x] [a] [x]"},
      {"{{ 'abc'|upper }} {{ 'ABC'|lower }} {{ 'hello wORLD'|capitalize }} {{ 'hello wORLD-foo "
       "(bar) [baz] {q} <r>'|title }} {{ \"they're\"|title }}",
       "{}", "ABC abc Hello world Hello World-Foo (Bar) [Baz] {Q} <R> They're"},
      {"{{ 'aaa'|replace('a', 'b', 2) }} {{ 'aaa'|replace('a', 'b') }} {{ 'abc'|replace('', '-') "
       "}} {{ 123|replace(2, 9) }}",
       "{}", "bba bbb -a-b-c- 193"},
      {"[{{ 'x'|center(5) }}] [{{ 'x'|center(4) }}] {{ 'one two  three'|wordcount }} {{ 'héllo "
       "wörld_1 x-y'|wordcount }}",
       "{}", "[  x  ] [ x  ] 3 4"},
      {"{{ '<a href=\"x\">&\\'</a>'|e }} {{ '<b>'|escape }} {{ '<b>'|safe }} {{ 5|e }}", "{}",
       "&lt;a href=&#34;x&#34;&gt;&amp;&#39;&lt;/a&gt; &lt;b&gt; <b> 5"},
      {"{{ 'hello world foo bar'|truncate(9) }}|{{ 'hello world foo bar'|truncate(9, true) }}|{{ "
       "'hello'|truncate(3, end='') }}|{{ 'short'|truncate(10) }}",
       "{}", "hello...|hello ...|hello|short"},
      {"{{ '%s=%s'|format('a', 1) }} {{ '%(x)s'|format(x='y') }} {{ '%5.1f|%-4d|'|format(3.14159, "
       "7) }}",
       "{}", "a=1 y   3.1|7   |"},
      {"{{ 'a\\nb\\n\\nc'|indent }}|{{ 'a\\nb'|indent(2, true) }}|{{ 'a\\n\\nb'|indent(first=true, "
       "blank=true) }}|{{ 'x\\ny'|indent('> ') }}|{{ ''|indent }}|{{ 'x\\n'|indent }}",
       "{}", "a\n    b\n\n    c|  a\n  b|    a\n    \n    b|x\n> y||x\n"},
  });
}

TEST(FiltersTest, Sequences) {
  RunCases({
      {"{{ xs|join(', ') }} {{ xs|join }} {{ ms|join('|', attribute='n') }} {{ xs|first }} {{ "
       "xs|last }} {{ []|first }}|{{ 'abc'|first }} {{ 'abc'|last }} {{ {'a': 1}|first }}",
       "{\"xs\": [1, 2, 3], \"ms\": [{\"n\": \"a\"}, {\"n\": \"b\"}]}",
       "1, 2, 3 123 a|b 1 3 |a c a"},
      {"{{ [3, 1, 2]|sort }} {{ ['b', 'A', 'c']|sort }} {{ ['b', 'A', "
       "'c']|sort(case_sensitive=true) }} {{ [3, 1, 2]|sort(reverse=true) }} {{ "
       "ms|sort(attribute='n')|map(attribute='n')|join }}",
       "{\"ms\": [{\"n\": \"b\"}, {\"n\": \"a\"}]}",
       "[1, 2, 3] ['A', 'b', 'c'] ['A', 'b', 'c'] [3, 2, 1] ab"},
      {"{{ [1, 2, 3]|sum }} {{ ms|sum(attribute='v') }} {{ [1.5, 2]|sum(start=10) }} {{ [[1], "
       "[2]]|sum(start=[]) }}",
       "{\"ms\": [{\"v\": 2}, {\"v\": 3}]}", "6 5 13.5 [1, 2]"},
      {"{{ [1, 5, 3]|max }} {{ [1, 5, 3]|min }} {{ ['a', 'B']|max }} {{ ['a', "
       "'B']|max(case_sensitive=true) }} {{ ms|max(attribute='v') }} {{ []|max }}|",
       "{\"ms\": [{\"v\": 2}, {\"v\": 3}]}", "5 1 B a {'v': 3} |"},
      {"{{ ['a', 'A', 'b', 1, 1.0, true]|unique|list }} {{ ['a', "
       "'A']|unique(case_sensitive=true)|list }} {{ ms|unique(attribute='v')|list|length }}",
       "{\"ms\": [{\"v\": 2}, {\"v\": 2}]}", "['a', 'b', 1] ['a', 'A'] 1"},
      {"{{ [1, 2]|reverse|list }} {{ 'abc'|reverse }} {{ 'héllo'|reverse }} {{ [1, 2, 3, 4, "
       "5]|batch(2)|list }} {{ [1, 2, 3]|batch(2, 'x')|list }}",
       "{}", "[2, 1] cba olléh [[1, 2], [3, 4], [5]] [[1, 2], [3, 'x']]"},
      {"{{ d|items|list }} {{ d|dictsort }} {{ d|dictsort(by='value') }} {{ "
       "d|dictsort(reverse=true) }} {{ d|dictsort(true) }} {{ undefined_var|items|list }}",
       "{\"d\": {\"b\": 1, \"A\": 3, \"c\": 2}}",
       "[('b', 1), ('A', 3), ('c', 2)] [('A', 3), ('b', 1), ('c', 2)] [('b', 1), ('c', 2), ('A', "
       "3)] [('c', 2), ('b', 1), ('A', 3)] [('A', 3), ('b', 1), ('c', 2)] []"},
  });
}

TEST(FiltersTest, SelectAndMap) {
  RunCases({
      {"{{ ms|selectattr('role', 'equalto', 'user')|map(attribute='content')|list }} {{ "
       "ms|rejectattr('role', 'eq', 'user')|list|length }}",
       "{\"ms\": [{\"role\": \"user\", \"content\": \"a\"}, {\"role\": \"assistant\", \"content\": "
       "\"b\", \"x\": 1}]}",
       "['a'] 1"},
      {"{{ ms|map(attribute='missing', default='D')|list }} {{ ms|selectattr('x')|list }} {{ "
       "ms|map(attribute='f.g')|list }} {{ ms|map(attribute='l.0')|list }}",
       "{\"ms\": [{\"f\": {\"g\": 1}, \"l\": [5]}, {\"x\": 1, \"f\": {\"g\": 2}, \"l\": [6]}]}",
       "['D', 'D'] [{'x': 1, 'f': {'g': 2}, 'l': [6]}] [1, 2] [5, 6]"},
      {"{{ [1, 2, 3, 4]|select('odd')|list }} {{ [1, 2, 3, 4]|reject('even')|list }} {{ [0, 1, '', "
       "'a', none]|select|list }} {{ [1, 2, 3]|select('gt', 1)|list }} {{ [1, 2, 3]|select('in', "
       "[2, 3])|list }}",
       "{}", "[1, 3] [1, 3] [1, 'a'] [2, 3] [2, 3]"},
      {"{{ ['a', 'B']|map('upper')|list }} {{ [1, 2]|map('string')|join('-') }} {{ ['a', "
       "'b']|map('replace', 'a', 'z')|list }} {{ [' x ']|map('trim')|first }}",
       "{}", "['A', 'B'] 1-2 ['z', 'b'] x"},
      {"{{ tools|map(attribute='function')|map(attribute='name')|join(', ') }}",
       "{\"tools\": [{\"function\": {\"name\": \"a\"}}, {\"function\": {\"name\": \"b\"}}]}",
       "a, b"},
      {"{{ none|select|list }} {{ 0|map('upper')|list }}", "{}", "[] []"},
  });
}

TEST(FiltersTest, ToJson) {
  RunCases({
      {"{{ x|tojson }}",
       "{\"x\": {\"b\": [1, 2.5, null, true, \"s\\\"\\n\\\\\"], \"a\": {}, \"c\": []}}",
       "{\"b\": [1, 2.5, null, true, \"s\\\"\\n\\\\\"], \"a\": {}, \"c\": []}"},
      {"{{ x|tojson(indent=2) }}", "{\"x\": {\"b\": [1, {\"z\": []}], \"a\": {}}}",
       "{\n  \"b\": [\n    1,\n    {\n      \"z\": []\n    }\n  ],\n  \"a\": {}\n}"},
      {"{{ x|tojson(indent=0) }}|{{ x|tojson(indent='\\t') }}", "{\"x\": [1, [2]]}",
       "[\n1,\n[\n2\n]\n]|[\n\t1,\n\t[\n\t\t2\n\t]\n]"},
      {"{{ x|tojson(sort_keys=true) }} {{ x|tojson(separators=(',', ':')) }} {{ x|tojson(indent=1, "
       "separators=(', ', ' = ')) }}",
       "{\"x\": {\"b\": 1, \"a\": [1, 2]}}",
       "{\"a\": [1, 2], \"b\": 1} {\"b\":1,\"a\":[1,2]} {\n \"b\" = 1, \n \"a\" = [\n  1, \n  2\n "
       "]\n}"},
      {"{{ 'é<>&\\u2028\\x7f\\x01'|tojson }} {{ 'é\\x7f'|tojson(ensure_ascii=true) }} {{ "
       "'😀'|tojson(true) }}",
       "{}", "\"é<>& \177\\u0001\" \"\\u00e9\\u007f\" \"\\ud83d\\ude00\""},
      {"{{ [1.0, 1e20, -0.0, 0.1, 1e-7, 123456789012345678]|tojson }} {{ (1, 'a')|tojson }} {{ "
       "none|tojson }} {{ true|tojson }}",
       "{}", "[1.0, 1e+20, -0.0, 0.1, 1e-07, 123456789012345678] [1, \"a\"] null true"},
      {"{{ tool|tojson }}",
       "{\"tool\": {\"type\": \"function\", \"function\": {\"name\": \"get_weather\", "
       "\"description\": \"Get \\\"weather\\\" <now>\", \"parameters\": {\"type\": \"object\", "
       "\"properties\": {\"city\": {\"type\": \"string\"}}, \"required\": [\"city\"]}}}}",
       "{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": \"Get "
       "\\\"weather\\\" <now>\", \"parameters\": {\"type\": \"object\", \"properties\": {\"city\": "
       "{\"type\": \"string\"}}, \"required\": [\"city\"]}}}"},
  });
}

TEST(FiltersTest, Default) {
  RunCases({
      {"{{ x|default('dflt') }} {{ none|default('n') }} {{ ''|default('e', true) }} {{ 0|d('z', "
       "boolean=true) }} {{ 1|default('o') }} {{ x|default }}|{{ x|d(y)|string }}|",
       "{}", "dflt None e z 1 ||"},
      {"{{ d.missing|default('dm') }} {{ d.k|default('dk') }}", "{\"d\": {\"k\": null}}",
       "dm None"},
  });
}

TEST(FiltersTest, Attr) {
  RunCases({
      {"{{ d|attr('a') }}|{{ 'x'|attr('upper') is callable }}", "{\"d\": {\"a\": 1}}", "|True"},
  });
}

TEST(FiltersTest, Tests) {
  RunCases({
      {"{{ x is defined }} {{ y is undefined }} {{ none is none }} {{ 'a' is string }} {{ 1 is "
       "number }} {{ true is number }} {{ 1.0 is float }} {{ 1 is integer }} {{ true is integer }}",
       "{\"x\": 1}", "True True True True True True True True False"},
      {"{{ true is boolean }} {{ 1 is boolean }} {{ {} is mapping }} {{ [] is mapping }} {{ [] is "
       "iterable }} {{ 'a' is iterable }} {{ 1 is iterable }} {{ 'a' is sequence }} {{ {} is "
       "sequence }} {{ y is iterable }}",
       "{}", "True False True False True True False True True True"},
      {"{{ false is false }} {{ 0 is false }} {{ true is true }} {{ 1 is true }} {{ 4 is even }} "
       "{{ 3 is odd }} {{ 2.0 is even }} {{ 9 is divisibleby(3) }} {{ 9 is divisibleby 4 }}",
       "{}", "True False True False True True True True False"},
      {"{{ 'a' is eq 'a' }} {{ 1 is equalto 1 }} {{ 1 is ne 2 }} {{ 2 is gt 1 }} {{ 2 is ge 2 }} "
       "{{ 1 is lt 2 }} {{ 1 is le 0 }} {{ 2 is greaterthan 1 }} {{ 1 is lessthan 2 }} {{ 1 is in "
       "[1] }}",
       "{}", "True True True True True True False True True True"},
      {"{{ x is not none }} {{ not x is none }} {{ 'ab' is lower }} {{ 'AB' is upper }} {{ 'aB' is "
       "lower }} {{ '1' is lower }} {{ none is sameas none }} {{ true is sameas true }} {{ 1 is "
       "sameas 1 }}",
       "{\"x\": 1}", "True True True True False False True True True"},
      {"{{ range is callable }} {{ 'x' is callable }} {{ 'x'.upper is callable }} {{ 'upper' is "
       "filter }} {{ 'nope' is filter }} {{ 'odd' is test }} {{ 'x' is escaped }}",
       "{}", "True False True True False True False"},
      {"{{ [1, 2, 3]|select('divisibleby', 3)|list }} {{ ms|selectattr('role', 'in', ['a', "
       "'b'])|list|length }}",
       "{\"ms\": [{\"role\": \"a\"}, {\"role\": \"c\"}]}", "[3] 1"},
  });
}

TEST(FiltersTest, Generators) {
  RunCases({
      {"{{ 'yes' if xs|select('odd') else 'no' }} {{ 'yes' if xs|list else 'no' }} {{ 'yes' if "
       "xs|selectattr('a') else 'no' }}",
       "{\"xs\": []}", "yes no yes"},
      {"{{ xs|select('odd')|list|length }} {{ [1, 2]|reverse is sequence }} {{ xs|map('string') is "
       "iterable }} {{ [1, 2]|reverse|reverse }} {{ (xs|select)[0] }}|{{ xs|select('odd')|first }}",
       "{\"xs\": [1, 2, 3]}", "2 False True [1, 2] |1"},
      {"{% for x in xs|select('odd') %}{{ x }}{{ loop.length }}{% endfor %} {{ "
       "xs|map('string')|join('-') }} {{ 3 in xs|select('odd') }}",
       "{\"xs\": [1, 2, 3]}", "1232 1-2-3 True"},
      {"{{ xs|select('odd')|length }}", "{\"xs\": [1]}", "ERROR"},
      {"{{ xs|select|tojson }}", "{\"xs\": [1]}", "ERROR"},
  });
}

TEST(FiltersTest, Errors) {
  RunCases({
      {"{{ 'a'|round }}", "{}", "ERROR"},
      {"{{ 1.5|round(method='up') }}", "{}", "ERROR"},
      {"{{ x|tojson }}", "{}", "ERROR"},
      {"{{ [1, [2]]|unique|list }}", "{}", "ERROR"},
      {"{{ [1, 'a']|sort }}", "{}", "ERROR"},
      {"{{ 5|items|list }}", "{}", "ERROR"},
      {"{{ [1]|map|list }}", "{}", "ERROR"},
      {"{{ 1|indent }}", "{}", "ERROR"},
      {"{{ 'x'|format(1, a=2) }}", "{}", "ERROR"},
      {"{{ 'x'|trim(1) }}", "{}", "ERROR"},
      {"{{ 'x'|upper(1) }}", "{}", "ERROR"},
      {"{{ 'x'|replace('a') }}", "{}", "ERROR"},
      {"{{ ['a']|sum }}", "{}", "ERROR"},
      {"{{ 'a' is even }}", "{}", "ERROR"},
      {"{{ 1 is divisibleby 0 }}", "{}", "ERROR"},
  });
}

}  // namespace
}  // namespace ccguard::jinja

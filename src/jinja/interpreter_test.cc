// Feature and whitespace tests of the interpreter. Expected strings are the output of
// Python Jinja2 3.1 configured as transformers does (ImmutableSandboxedEnvironment,
// trim_blocks, lstrip_blocks, loopcontrols); each was checked by hand against Jinja2's
// documented semantics.
#include "jinja/interpreter.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "jinja/template.h"

namespace ccguard::jinja {
namespace {

struct Case {
  const char* tmpl;
  const char* ctx;   // JSON object
  const char* want;  // "ERROR" when rendering must fail
};

std::string RenderOrError(const std::string& tmpl, const std::string& ctx_json,
                          Options options = {}) {
  auto ctx = Value::ParseJson(ctx_json);
  if (!ctx.ok()) return "BAD CONTEXT: " + ctx.status().message();
  auto t = Template::Parse(tmpl, options);
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

// Renders and returns the failure status (OK if rendering succeeded).
Status RenderStatus(const std::string& tmpl, Options options = {},
                    const std::string& ctx_json = "{}") {
  auto t = Template::Parse(tmpl, options);
  if (!t.ok()) return t.status();
  auto ctx = Value::ParseJson(ctx_json);
  if (!ctx.ok()) return ctx.status();
  auto r = t->Render(*ctx);
  return r.ok() ? Status::Ok() : r.status();
}

TEST(InterpreterTest, WhitespaceControl) {
  RunCases({
      {"a\n  {% if true %}\n  b\n  {% endif %}\nc", "{}", "a\n  b\nc"},
      {"a  {% if true %}  b  {% endif %}  c", "{}", "a    b    c"},
      {"a\n  {%- if true -%}\n  b\n  {%- endif -%}\n  c", "{}", "abc"},
      {"a\n  {%+ if true +%}\n  b\n  {%+ endif +%}\nc", "{}", "a\n  \n  b\n  \nc"},
      {"  {{ x }}  \n  {{- x -}}  \n", "{\"x\": 1}", "  11"},
      {"{# c #}\n  {# c #}\nx {#- c -#}   y\n", "{}", "xy"},
      {"{% raw %}\n  {{ x }}{% if %}\n{% endraw %}\nz", "{}", "\n  {{ x }}{% if %}\nz"},
      {"a\n  {% raw -%}\n  {{ x }}  \n  {%- endraw %}\nz", "{}", "a\n{{ x }}z"},
      {"line1\r\nline2\r{% if true %}\r\n x\r\n{% endif %}\r\n", "{}", "line1\nline2\n x\n"},
      {"trailing\n\n", "{}", "trailing\n"},
      {"trailing\n", "{}", "trailing"},
      {"{% for i in range(3) %}\n  {{ i }}\n{% endfor %}\n", "{}", "  0\n  1\n  2\n"},
      {"\t{% set x = 1 %}\t\n{{ x }}", "{}", "\t\n1"},
      {"x {% set y = 2 %}\n{{ y }}", "{}", "x 2"},
      {"{{ 'a' }}\n  {% if true %}b{% endif %}", "{}", "a\nb"},
      {"{%- for m in ms %}\n    {{- m }}\n{%- endfor %}", "{\"ms\": [\"a\", \"b\"]}", "ab"},
      {"{% if true %}  \n{% endif %}", "{}", "  \n"},
      {"a {# x #}\n  b", "{}", "a   b"},
      {"a\n {#- x #}\nb", "{}", "ab"},
      {"{{ x }}\n{# c #}\n{{ y }}", "{\"x\": 1, \"y\": 2}", "1\n2"},
      {"{% if true %}\r\nA\r\n{% endif %}\r\n", "{}", "A\n"},
      {"  {{- 'v' }}", "{}", "v"},
      {"x\n    {{ 'v' }}", "{}", "x\n    v"},
      {"{%- if true %}\n\n{%- endif %}", "{}", ""},
      {"a{% if true -%}   \n\n  b{%- endif %}", "{}", "ab"},
  });
}

TEST(InterpreterTest, Literals) {
  RunCases({
      {"{{ 1.0 }}|{{ 1e16 }}|{{ 1.5e-5 }}|{{ 0.1 + 0.2 }}|{{ 1/3 }}|{{ 10/2 }}|{{ 123456789.0 "
       "}}|{{ 1e15 }}",
       "{}",
       "1.0|1e+16|1.5e-05|0.30000000000000004|0.3333333333333333|5.0|123456789.0|1000000000000000."
       "0"},
      {"{{ true }}{{ True }}{{ none }}{{ None }}{{ false }}", "{}", "TrueTrueNoneNoneFalse"},
      {"{{ [1, 'a', \"b'c\", none, (1,), (1, 2), {'k': [true]}] }}", "{}",
       "[1, 'a', \"b'c\", None, (1,), (1, 2), {'k': [True]}]"},
      {"{{ 'it\\'s' }}|{{ \"say \\\"hi\\\"\" }}|{{ 'tab\\tnl\\n' }}|{{ '\\u00e9\\x41\\101' }}",
       "{}", "it's|say \"hi\"|tab\tnl\n|éAA"},
      {"{{ ['\\x00\\x7f\\u00a0\\u2028', 'é', \"'\", '\"', '\\\\', 'a\\'b\"c'] }}", "{}",
       "['\\x00\\x7f\\xa0\\u2028', 'é', \"'\", '\"', '\\\\', 'a\\'b\"c']"},
      {"{{ {'a': 1, 'b': {'c': none}} }}", "{}", "{'a': 1, 'b': {'c': None}}"},
      {"{{ 0x10 }} {{ 0o17 }} {{ 0b101 }} {{ 1_000 }} {{ 1.5_0 }} {{ 2e3 }}", "{}",
       "16 15 5 1000 1.5 2000.0"},
      {"{{ 'a' 'b' \"c\" }}", "{}", "abc"},
      {"{{ '\\q\\é' }}", "{}", "\\q\\xe9"},
      {"{{ () }}{{ (1) }}{{ [] }}{{ {} }}{{ [1,] }}{{ {'a': 1,} }}", "{}", "()1[]{}[1]{'a': 1}"},
      {"{{ 1, 2 }}", "{}", "(1, 2)"},
  });
}

TEST(InterpreterTest, Arithmetic) {
  RunCases({
      {"{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % -3 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 2 ** -1 }}", "{}",
       "3 -4 -2 2 1024 0.5"},
      {"{{ 7.5 // 2 }} {{ -7.5 % 2 }} {{ 3 * 'ab' }} {{ [1] * 3 }} {{ 'ab' * 0 }}", "{}",
       "3.0 0.5 ababab [1, 1, 1] "},
      {"{{ 1 + 2 * 3 - 4 / 2 }} {{ (1 + 2) * 3 }} {{ -2 ** 2 }} {{ 2 ** 3 ** 2 }}", "{}",
       "5.0 9 4 64"},
      {"{{ 'a' + 'b' ~ 1 ~ none ~ x ~ 2.0 }}", "{}", "ab1None2.0"},
      {"{{ [1,2] + [3] }} {{ (1,) + (2,) }} {{ true + 1 }} {{ 1.5 + true }} {{ -true }}", "{}",
       "[1, 2, 3] (1, 2) 2 2.5 -1"},
      {"{{ 1 and 'x' }} {{ 0 or 'y' }} {{ '' or [] }} {{ none and 1 }} {{ not 0 }} {{ not 'a' }}",
       "{}", "x y [] None True False"},
      {"{{ 'a' if x else 'b' }} {{ 'c' if true }}|{{ 'd' if false }}|{{ 1 if 0 else 2 if 0 else 3 "
       "}}",
       "{}", "b c||3"},
      {"{{ messages|length - 1 }} {{ -1|abs }} {{ -(xs|length) }}",
       "{\"messages\": [1, 2, 3], \"xs\": [1]}", "2 1 -1"},
      {"{{ -xs|length }}", "{\"xs\": [1]}", "ERROR"},
      {"{{ '%s-%d-%.2f-%05.1f-%x' % ('a', 3, 2.5, 3.14159, 255) }} {{ '%s' % 5 }} {{ '%(a)s' % "
       "{'a': 1} }} {{ '%r' % 'x' }} {{ '100%%' % () }}",
       "{}", "a-3-2.50-003.1-ff 5 1 'x' 100%"},
  });
}

TEST(InterpreterTest, Comparisons) {
  RunCases({
      {"{{ not 1 == 2 }} {{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 1 != 1.0 }}", "{}",
       "True True False False"},
      {"{{ 1 in [1, 2] }} {{ 'b' in 'abc' }} {{ 'k' in {'k': 1} }} {{ 3 not in [1] }} {{ 'x' in "
       "undefined_thing }}",
       "{}", "True True True True False"},
      {"{{ 1 == 1.0 }} {{ true == 1 }} {{ [1] == (1,) }} {{ {'a': 1} == {'a': 1} }} {{ none == "
       "none }} {{ x == y }}",
       "{}", "True True False True True True"},
      {"{{ 'abc' < 'abd' }} {{ [1, 2] < [1, 3] }} {{ 2 >= 2.0 }} {{ 'B' < 'a' }} {{ 'é' > 'z' }}",
       "{}", "True True True True True"},
      {"{{ m == ms[-1] }} {{ m == ms[0] }}",
       "{\"m\": {\"role\": \"user\", \"content\": \"x\"}, \"ms\": [{\"content\": \"y\", \"role\": "
       "\"user\"}, {\"content\": \"x\", \"role\": \"user\"}]}",
       "True False"},
  });
}

TEST(InterpreterTest, SubscriptsAndAttributes) {
  RunCases({
      {"{{ xs[0] }} {{ xs[-1] }} {{ xs[1:] }} {{ xs[::-1] }} {{ xs[:-1] }} {{ xs[10] }}|{{ xs[::2] "
       "}} {{ xs[-10:2] }} {{ xs[3:1:-1] }}",
       "{\"xs\": [1, 2, 3, 4]}", "1 4 [2, 3, 4] [4, 3, 2, 1] [1, 2, 3] |[1, 3] [1, 2] [4, 3]"},
      {"{{ 'hello'[1:3] }} {{ 'héllo'[::-1] }} {{ 'héllo'[1] }} {{ 'héllo'[-1] }} {{ 'abc'.0 }}",
       "{}", "el olléh é o a"},
      {"{{ d.a }} {{ d['a'] }} {{ d.b.c }} {{ d['b']['c'] }} {{ d.missing }}|{{ d['missing'] }}|{{ "
       "d.b.c is defined }}",
       "{\"d\": {\"a\": 1, \"b\": {\"c\": 2}}}", "1 1 2 2 ||True"},
      {"{{ d.get('a') }} {{ d.get('z') }} {{ d.get('z', 5) }} {{ d.keys()|list }} {{ "
       "d.values()|list }} {{ d.items()|list }}",
       "{\"d\": {\"a\": 1, \"y\": [2]}}", "1 None 5 ['a', 'y'] [1, [2]] [('a', 1), ('y', [2])]"},
      {"{{ d['items'] }} {{ d.items()|list }}", "{\"d\": {\"items\": \"val\"}}",
       "val [('items', 'val')]"},
      {"{{ tc.function.name }} {{ tc['function']['arguments']['city'] }}",
       "{\"tc\": {\"function\": {\"name\": \"f\", \"arguments\": {\"city\": \"P\"}}}}", "f P"},
  });
}

TEST(InterpreterTest, StringMethods) {
  RunCases({
      {"{{ 'a,b,,c'.split(',') }} {{ ' a  b '.split() }} {{ 'a b c'.split(' ', 1) }} {{ 'a b "
       "c'.rsplit(' ', 1) }} {{ 'a b c'.split(maxsplit=1) }}",
       "{}", "['a', 'b', '', 'c'] ['a', 'b'] ['a', 'b c'] ['a b', 'c'] ['a', 'b c']"},
      {"[{{ '  x  '.strip() }}] [{{ 'xxhixx'.strip('x') }}] [{{ '\\n\\nhi\\n'.lstrip('\\n') }}] "
       "[{{ 'hi\\n\\n'.rstrip('\\n') }}] [{{ '\\u3000x\\t'.strip() }}]",
       "{}", "[x] [hi] [hi\n] [hi] [x]"},
      {"{{ 'Hello'.startswith('He') }} {{ 'Hello'.endswith(('x', 'lo')) }} {{ "
       "'Hello'.startswith('l', 2) }} {{ 'hello world'.title() }} {{ 'hELLO'.capitalize() }}",
       "{}", "True True True Hello World Hello"},
      {"{{ 'abc'.upper() }} {{ 'ABC'.lower() }} {{ 'aXbX'.replace('X', '-') }} {{ "
       "'aXbX'.replace('X', '-', 1) }} {{ 'ab'.replace('', '.') }}",
       "{}", "ABC abc a-b- a-bX .a.b."},
      {"{{ 'abcabc'.find('c') }} {{ 'abcabc'.rfind('c') }} {{ 'abc'.find('z') }} {{ "
       "'héllo'.find('l') }} {{ 'abcabc'.count('bc') }} {{ 'a'.join(['x', 'y']) }}",
       "{}", "2 5 -1 2 2 xay"},
      {"{{ \"they're bill's\".title() }} {{ '1st 2nd'.title() }} {{ 'a-b'.partition('-') }} {{ "
       "'x'.zfill(3) }} {{ 'ab'.center(6, '*') }}",
       "{}", "They'Re Bill'S 1St 2Nd ('a', '-', 'b') 00x **ab**"},
      {"{{ '{} and {}'.format('a', 'b') }} {{ '{0}{1}{0}'.format(1, 2) }} {{ '{x}!'.format(x=3) }} "
       "{{ '{:>5}|{:.2f}|{!r}'.format('a', 3.14159, 'q') }}",
       "{}", "a and b 121 3!     a|3.14|'q'"},
      {"{{ s.split('</think>')[-1].lstrip('\\n') }}|{{ "
       "s.split('</think>')[0].rstrip('\\n').split('<think>')[-1].lstrip('\\n') }}",
       "{\"s\": \"<think>\\nreason\\n</think>\\n\\nanswer\"}", "answer|reason"},
  });
}

TEST(InterpreterTest, Loops) {
  RunCases({
      {"{% for x in xs %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 "
       "}}{{ loop.first }}{{ loop.last }}{{ loop.length }}|{% endfor %}",
       "{\"xs\": [\"a\", \"b\", \"c\"]}", "1032TrueFalse3|2121FalseFalse3|3210FalseTrue3|"},
      {"{% for x in xs %}{{ loop.previtem }}-{{ loop.nextitem }};{% endfor %}",
       "{\"xs\": [\"a\", \"b\", \"c\"]}", "-b;a-c;b-;"},
      {"{% for x in xs if x > 1 %}{{ x }}{{ loop.index }}{{ loop.last }};{% else %}none{% endfor "
       "%}",
       "{\"xs\": [1, 2, 3]}", "21False;32True;"},
      {"{% for x in [] %}a{% else %}empty{% endfor %}{% for x in undefined_var %}b{% else "
       "%}undef{% endfor %}",
       "{}", "emptyundef"},
      {"{% for a, b in [[1, 2], (3, 4), 'xy'] %}{{ a }}{{ b }}{% endfor %}", "{}", "1234xy"},
      {"{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}{% for k in d %}{{ k }}{% endfor %}",
       "{\"d\": {\"x\": 1, \"y\": \"two\"}}", "x=1;y=two;xy"},
      {"{% for x in 'héj' %}[{{ x }}]{% endfor %}", "{}", "[h][é][j]"},
      {"{% for i in range(2) %}{% for j in range(2) %}{{ loop.index }}{{ i }}{{ j }} {% endfor "
       "%}{{ loop.index }}|{% endfor %}",
       "{}", "100 201 1|110 211 2|"},
      {"{% for x in range(5, 0, -2) %}{{ x }}{% endfor %} {{ range(3)|list }} {{ range(2, 5)|join "
       "}}",
       "{}", "531 [0, 1, 2] 234"},
      {"{% for x in xs %}{{ loop.cycle('odd', 'even') }} {% endfor %}{% for x in [1, 1, 2] %}{{ "
       "loop.changed(x) }}{% endfor %}",
       "{\"xs\": [1, 2, 3]}", "odd even odd TrueFalseTrue"},
      {"{% for m in messages[::-1] %}{% set index = (messages|length - 1) - loop.index0 %}{{ index "
       "}}{{ m }}{% endfor %}",
       "{\"messages\": [\"a\", \"b\", \"c\"]}", "2c1b0a"},
      {"{% for x in xs %}{{ x }}{% endfor %}{{ x }}", "{\"xs\": [1, 2]}", "12"},
  });
}

TEST(InterpreterTest, LoopControls) {
  RunCases({
      {"{% for x in range(10) %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 5 %}{% break "
       "%}{% endif %}{{ x }}{% endfor %}",
       "{}", "0134"},
      {"{% for i in [1, 2] %}{% for j in [1, 2, 3] %}{% if j == 2 %}{% break %}{% endif %}{{ i "
       "}}{{ j }} {% endfor %}{% endfor %}",
       "{}", "11 21 "},
      {"{% for x in [1, 2, 3] %}{% if x == 1 %}{% continue %}{% endif %}{{ x }}{% else %}never{% "
       "endfor %}",
       "{}", "23"},
  });
}

TEST(InterpreterTest, Scoping) {
  RunCases({
      {"{% set x = 1 %}{% for i in [1, 2] %}{{ x }}{% set x = i * 10 %}{{ x }};{% endfor %}{{ x }}",
       "{}", "110;120;1"},
      {"{% for i in [1, 2] %}{% if i == 2 %}{{ y }}{% endif %}{% set y = i %}{% endfor %}[{{ y }}]",
       "{}", "[]"},
      {"{% if true %}{% set z = 5 %}{% endif %}{{ z }}", "{}", "5"},
      {"{% with q = 3, r = 4 %}{{ q + r }}{% endwith %}[{{ q }}]", "{}", "7[]"},
      {"{% set messages = messages[1:] %}{{ messages|length }}", "{\"messages\": [1, 2, 3]}", "2"},
      {"{% set y = 1 %}{% set x %}{% set y = 2 %}{{ y }}{% endset %}{{ x }}{{ y }}", "{}", "21"},
      {"{% set a, b = 1, 2 %}{{ a }}{{ b }}{% set t = 1, 2 %}{{ t }}", "{}", "12(1, 2)"},
      {"{% set s %}block {{ 1 }}{% endset %}[{{ s }}]{% set u | upper | replace('P', 'p') %}up{% "
       "endset %}{{ u }}",
       "{}", "[block 1]Up"},
      {"{% for x in [] %}{% else %}{% set y = 1 %}{% endfor %}[{{ y }}]", "{}", "[]"},
      {"{{ range(2)|list }}{% set range = 5 %}{{ range }}", "{}", "[0, 1]5"},
  });
}

TEST(InterpreterTest, Namespace) {
  RunCases({
      {"{% set ns = namespace(total=0, items=[]) %}{% for i in range(4) %}{% set ns.total = "
       "ns.total + i %}{% set ns.items = ns.items + [i] %}{% endfor %}{{ ns.total }} {{ ns.items "
       "}}",
       "{}", "6 [0, 1, 2, 3]"},
      {"{% set ns = namespace(found=false) %}{% for m in ms %}{% if m.role == 'user' %}{% set "
       "ns.found = true %}{% endif %}{% endfor %}{{ ns.found }} {{ ns.missing is defined }} {{ ns "
       "}}",
       "{\"ms\": [{\"role\": \"user\"}]}", "True False <Namespace {'found': True}>"},
      {"{% set ns = namespace({'a': 1}, b=2) %}{{ ns.a }}{{ ns.b }}{{ ns['a'] }}", "{}", "121"},
  });
}

TEST(InterpreterTest, Macros) {
  RunCases({
      {"{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('Bob') }} "
       "{{ greet('Al', '?') }} {{ greet(name='Cy', punct='.') }} {{ greet() }}",
       "{}", "Hi Bob! Hi Al? Hi Cy. Hi !"},
      {"{% macro f(a) %}{{ a }}{{ varargs }}{{ kwargs }}{% endmacro %}{{ f(1, 2, 3, k=4) }} {{ "
       "f(1) }}",
       "{}", "1(2, 3){'k': 4} 1(){}"},
      {"{% macro f(a, b=a ~ 'x') %}{{ a }}{{ b }}{% endmacro %}{{ f(1) }}", "{}", "11x"},
      {"{% macro fact(n) %}{% if n <= 1 %}1{% else %}{{ n * fact(n - 1)|int }}{% endif %}{% "
       "endmacro %}{{ fact(5) }}",
       "{}", "120"},
      {"{% set g = 'outer' %}{% macro m() %}{{ g }}{% endmacro %}{% set g = 'later' %}{{ m() }}",
       "{}", "later"},
      {"{% for i in [1] %}{% set q = 7 %}{% macro m() %}{{ q }}{% endmacro %}{{ m() }}{% endfor %}",
       "{}", "7"},
      {"{% macro m() %}\n  body\n{% endmacro %}[{{ m() }}]", "{}", "[  body\n]"},
  });
}

TEST(InterpreterTest, CallAndFilterBlocks) {
  RunCases({
      {"{% macro wrap(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}{% call wrap('b') "
       "%}bold{% endcall %}",
       "{}", "<b>bold</b>"},
      {"{% macro m() %}<{{ caller(3) }}>{% endmacro %}{% call(x) m() %}body{{ x }}{% endcall %}",
       "{}", "<body3>"},
      {"{% filter upper %}hello {{ 'world' }}{% endfilter %} {% filter replace('a', 'b')|upper "
       "%}aaa{% endfilter %}",
       "{}", "HELLO WORLD BBB"},
      {"{% print 'x', 1 %}", "{}", "x1"},
  });
}

TEST(InterpreterTest, Globals) {
  RunCases({
      {"{{ dict(a=1, b=2) }} {{ namespace(a=1).a }} {{ range(3) | list }}", "{}",
       "{'a': 1, 'b': 2} 1 [0, 1, 2]"},
      {"{% set j = joiner(', ') %}{% for x in [1, 2, 3] %}{{ j() }}{{ x }}{% endfor %}", "{}",
       "1, 2, 3"},
      {"{{ strftime_now('') }}", "{}", ""},
  });
}

TEST(InterpreterTest, Undefined) {
  RunCases({
      {"{{ missing }}|{{ missing|default('d') }}|{% for x in missing %}{% endfor %}|{{ missing is "
       "defined }}|{{ d.nope }}|{{ d.nope is defined }}|{{ xs[9] is defined }}",
       "{\"d\": {}, \"xs\": []}", "|d||False||False|False"},
      {"{{ missing ~ 'x' }}{{ missing|string }}{{ missing|trim }}{{ missing|upper }}{{ "
       "missing|list }}{{ missing|join }}{{ missing|length }}",
       "{}", "x[]0"},
      {"{{ d.nope.x is defined if d.nope is defined else 'guarded' }}", "{\"d\": {}}", "ERROR"},
      {"{% if message.reasoning_content is defined and message.reasoning_content is not none %}R{% "
       "else %}N{% endif %}",
       "{\"message\": {\"reasoning_content\": null}}", "N"},
      {"{{ none.x }}|{{ 5 .x }}|{{ 'a'.nope }}", "{}", "||"},
  });
}

TEST(InterpreterTest, Unicode) {
  RunCases({
      {"{{ 'ÄÖÜ'|lower }} {{ 'äöü'|upper }} {{ '日本語'|length }} {{ '日本語'[1] }} {{ 'é'|tojson "
       "}} {{ 'é'|tojson(ensure_ascii=true) }} {{ '😀'|tojson(ensure_ascii=true) }}",
       "{}", "äöü ÄÖÜ 3 本 \"é\" \"\\u00e9\" \"\\ud83d\\ude00\""},
      {"{{ ['日本', 'é\\u200b'] }}", "{}", "['日本', 'é\\u200b']"},
      {"{{ s }}{{ s|length }}", "{\"s\": \"emoji 😀 tab\\t crlf\\r\\n end\"}",
       "emoji 😀 tab\t crlf\r\n end23"},
  });
}

TEST(InterpreterTest, ErrorsNameTheLine) {
  Status s = RenderStatus("ok\n\n{{ foo() }}");
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(s.message(), "line 3: 'foo' is undefined");

  s = RenderStatus(
      "a\n{% if true %}\n  {{ raise_exception('Roles must alternate') }}\n{% endif %}");
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(s.message(), "line 3: Roles must alternate");

  s = RenderStatus("{{ 1 + 'a' }}");
  EXPECT_EQ(s.message(), "line 1: unsupported operand type(s) for +: 'int' and 'str'");
  s = RenderStatus("{{ 'a' + 1 }}");
  EXPECT_EQ(s.message(), "line 1: can only concatenate str (not \"int\") to str");
  s = RenderStatus("\n{{ x.y.z }}", {}, R"({"x": {}})");
  EXPECT_EQ(s.message(), "line 2: 'dict object' has no attribute 'y'");
  s = RenderStatus("{{ [1].append(2) }}");
  EXPECT_EQ(s.message(), "line 1: access to attribute 'append' of 'list' object is unsafe.");
  s = RenderStatus("{{ 5() }}");
  EXPECT_EQ(s.message(), "line 1: 'int' object is not callable");
  s = RenderStatus("{{ x|nosuchfilter }}");
  EXPECT_EQ(s.message(), "line 1: No filter named 'nosuchfilter'.");
  s = RenderStatus("{{ x is nosuchtest }}");
  EXPECT_EQ(s.message(), "line 1: No test named 'nosuchtest'.");
  s = RenderStatus("{{ 1 // 0 }}");
  EXPECT_EQ(s.message(), "line 1: integer division or modulo by zero");
  s = RenderStatus("{% for a, b in [[1, 2, 3]] %}{% endfor %}");
  EXPECT_EQ(s.message(), "line 1: too many values to unpack (expected 2)");
  s = RenderStatus("{% set x = 1 %}{% set x.a = 2 %}");
  EXPECT_EQ(s.message(), "line 1: cannot assign attribute on non-namespace object");
  s = RenderStatus("{% macro m(a) %}{% endmacro %}{{ m(1, 2) }}");
  EXPECT_EQ(s.message(), "line 1: macro 'm' takes not more than 1 argument(s)");
  s = RenderStatus("{% macro m(a) %}{% endmacro %}{{ m(b=2) }}");
  EXPECT_EQ(s.message(), "line 1: macro 'm' takes no keyword argument 'b'");
  s = RenderStatus("{{ (x if false).y }}");
  EXPECT_EQ(s.message(),
            "line 1: the inline if-expression on line 1 evaluated to false and no else section "
            "was defined.");
  s = RenderStatus("{{ range(100001)|length }}");
  EXPECT_EQ(s.code(), Status::Code::kResourceExhausted);
}

TEST(InterpreterTest, LoopLimit) {
  Options o;
  o.max_loop_iterations = 100;
  EXPECT_TRUE(RenderStatus("{% for i in range(100) %}{% endfor %}", o).ok());
  Status s = RenderStatus("{% for i in range(101) %}{% endfor %}", o);
  EXPECT_EQ(s.code(), Status::Code::kResourceExhausted);
  EXPECT_NE(s.message().find("loop iteration limit"), std::string::npos) << s.message();
  // The limit is per render, across all loops.
  s = RenderStatus("{% for i in range(20) %}{% for j in range(20) %}{% endfor %}{% endfor %}", o);
  EXPECT_EQ(s.code(), Status::Code::kResourceExhausted);
  // Default limit: a million-step loop nest is refused rather than run for long.
  s = RenderStatus(
      "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}");
  EXPECT_EQ(s.code(), Status::Code::kResourceExhausted);
}

TEST(InterpreterTest, OutputAndSizeLimits) {
  Options o;
  o.max_output_bytes = 100;
  EXPECT_TRUE(RenderStatus("{% for i in range(20) %}xxxxx{% endfor %}", o).ok());
  EXPECT_EQ(RenderStatus("{% for i in range(21) %}xxxxx{% endfor %}", o).code(),
            Status::Code::kResourceExhausted);
  EXPECT_EQ(
      RenderStatus("{% set s %}{% for i in range(30) %}xxxxx{% endfor %}{% endset %}", o).code(),
      Status::Code::kResourceExhausted);
  // Huge values are refused before they are built.
  EXPECT_EQ(RenderStatus("{{ 'x' * 1000000000000 }}").code(), Status::Code::kResourceExhausted);
  EXPECT_EQ(RenderStatus("{{ [1, 2] * 1000000000000 }}").code(), Status::Code::kResourceExhausted);
  EXPECT_EQ(RenderStatus("{{ 'ab'|center(1000000000000) }}").code(),
            Status::Code::kResourceExhausted);
  EXPECT_EQ(RenderStatus("{{ 'ab'.center(1000000000000) }}").code(),
            Status::Code::kResourceExhausted);
  EXPECT_EQ(RenderStatus("{{ ('ab' * 1000)|replace('', 'x' * 100000) }}").code(),
            Status::Code::kResourceExhausted);
  EXPECT_EQ(RenderStatus("{{ '%1000000000d' % 1 }}").code(), Status::Code::kResourceExhausted);
  // Quadratic growth through a namespace stops at the work or size limit.
  o.max_output_bytes = 1 << 20;
  Status s = RenderStatus(
      "{% set ns = namespace(s='') %}{% for i in range(100000) %}"
      "{% set ns.s = ns.s ~ 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' %}{% endfor %}",
      o);
  EXPECT_EQ(s.code(), Status::Code::kResourceExhausted) << s.ToString();
}

TEST(InterpreterTest, RecursionAndNestingLimits) {
  Status s = RenderStatus("{% macro r(n) %}{{ r(n + 1) }}{% endmacro %}{{ r(0) }}");
  EXPECT_EQ(s.code(), Status::Code::kResourceExhausted);
  EXPECT_NE(s.message().find("recursion"), std::string::npos) << s.message();
  // Exponential macro recursion is cut off by the call budget.
  Options o;
  o.max_loop_iterations = 10000;
  s = RenderStatus(
      "{% macro r(n) %}{% if n < 40 %}{{ r(n + 1) }}{{ r(n + 1) }}{% endif %}{% endmacro %}"
      "{{ r(0) }}",
      o);
  EXPECT_EQ(s.code(), Status::Code::kResourceExhausted);
  // Deeply nested data built at runtime is refused before it can exhaust the stack.
  s = RenderStatus(
      "{% set ns = namespace(x=[]) %}{% for i in range(5000) %}{% set ns.x = [ns.x] %}"
      "{% endfor %}{{ ns.x == ns.x }}");
  EXPECT_EQ(s.code(), Status::Code::kResourceExhausted);
  // Self-referencing namespaces render without looping forever.
  EXPECT_EQ(RenderOrError("{% set ns = namespace() %}{% set ns.me = ns %}"
                          "{{ ns.me.me.me is defined }}",
                          "{}"),
            "True");
}

TEST(InterpreterTest, ContextMustBeADict) {
  auto t = Template::Parse("x");
  ASSERT_TRUE(t.ok());
  EXPECT_FALSE(t->Render(Value::Int(1)).ok());
  EXPECT_EQ(*t->Render(Value()), "x");
  EXPECT_EQ(*t->Render(Value::None()), "x");
}

TEST(InterpreterTest, NativeFunctionsInContext) {
  auto t = Template::Parse("{{ strftime_now('%Y') }}|{{ twice(21) }}");
  ASSERT_TRUE(t.ok());
  Dict d;
  d.Set("strftime_now", Value::Function("strftime_now", [](const CallArgs&) -> Result<Value> {
          return Value::String("2024");
        }));
  d.Set("twice", Value::Function("twice", [](const CallArgs& a) -> Result<Value> {
          return Value::Int(a.args.at(0).int_value() * 2);
        }));
  auto r = t->Render(Value::FromDict(std::move(d)));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, "2024|42");
}

}  // namespace
}  // namespace ccguard::jinja

#include "jinja/parser.h"

#include <gtest/gtest.h>

#include <string>

#include "jinja/lexer.h"

namespace ccguard::jinja {
namespace {

using ast::ExprKind;

std::string Show(const ast::Expr* e);

std::string ShowArgs(const ast::Args& a) {
  std::string out;
  for (const auto& x : a.args) out.append(" ").append(Show(x.get()));
  for (const auto& k : a.kwargs)
    out.append(" ").append(k.name).append("=").append(Show(k.value.get()));
  return out;
}

// An S-expression of the tree, to check precedence and structure.
std::string Show(const ast::Expr* e) {
  if (!e) return "_";
  switch (e->kind) {
    case ExprKind::kConst:
      return static_cast<const ast::Const*>(e)->value.Repr();
    case ExprKind::kName:
      return static_cast<const ast::Name*>(e)->name;
    case ExprKind::kList:
    case ExprKind::kTuple: {
      std::string out = e->kind == ExprKind::kList ? "(list" : "(tuple";
      for (const auto& x : static_cast<const ast::Seq*>(e)->items) out += " " + Show(x.get());
      return out + ")";
    }
    case ExprKind::kDict: {
      std::string out = "(dict";
      for (const auto& [k, v] : static_cast<const ast::DictLit*>(e)->items) {
        out += " " + Show(k.get()) + ":" + Show(v.get());
      }
      return out + ")";
    }
    case ExprKind::kGetattr: {
      auto* g = static_cast<const ast::Getattr*>(e);
      return "(. " + Show(g->obj.get()) + " " + g->attr + ")";
    }
    case ExprKind::kGetitem: {
      auto* g = static_cast<const ast::Getitem*>(e);
      return "([] " + Show(g->obj.get()) + " " + Show(g->index.get()) + ")";
    }
    case ExprKind::kSlice: {
      auto* s = static_cast<const ast::Slice*>(e);
      return "(slice " + Show(s->start.get()) + " " + Show(s->stop.get()) + " " +
             Show(s->step.get()) + ")";
    }
    case ExprKind::kCall: {
      auto* c = static_cast<const ast::Call*>(e);
      return "(call " + Show(c->callee.get()) + ShowArgs(c->args) + ")";
    }
    case ExprKind::kFilter: {
      auto* f = static_cast<const ast::Filter*>(e);
      return "(|" + f->name + " " + Show(f->operand.get()) + ShowArgs(f->args) + ")";
    }
    case ExprKind::kTest: {
      auto* t = static_cast<const ast::Test*>(e);
      return "(is-" + t->name + " " + Show(t->operand.get()) + ShowArgs(t->args) + ")";
    }
    case ExprKind::kNot:
      return "(not " + Show(static_cast<const ast::Unary*>(e)->operand.get()) + ")";
    case ExprKind::kNeg:
      return "(neg " + Show(static_cast<const ast::Unary*>(e)->operand.get()) + ")";
    case ExprKind::kPos:
      return "(pos " + Show(static_cast<const ast::Unary*>(e)->operand.get()) + ")";
    case ExprKind::kBinary:
    case ExprKind::kAnd:
    case ExprKind::kOr: {
      auto* b = static_cast<const ast::Binary*>(e);
      static const char* kOps[] = {"+", "-", "*", "/", "//", "%", "**"};
      std::string op = e->kind == ExprKind::kAnd  ? "and"
                       : e->kind == ExprKind::kOr ? "or"
                                                  : kOps[static_cast<int>(b->op)];
      return "(" + op + " " + Show(b->left.get()) + " " + Show(b->right.get()) + ")";
    }
    case ExprKind::kConcat: {
      std::string out = "(~";
      for (const auto& x : static_cast<const ast::Concat*>(e)->items) out += " " + Show(x.get());
      return out + ")";
    }
    case ExprKind::kCompare: {
      auto* c = static_cast<const ast::Compare*>(e);
      static const char* kOps[] = {"==", "!=", "<", "<=", ">", ">=", "in", "notin"};
      std::string out = "(cmp " + Show(c->first.get());
      for (const auto& [op, x] : c->ops)
        out += std::string(" ") + kOps[static_cast<int>(op)] + " " + Show(x.get());
      return out + ")";
    }
    case ExprKind::kCondExpr: {
      auto* c = static_cast<const ast::CondExpr*>(e);
      return "(if " + Show(c->test.get()) + " " + Show(c->then_expr.get()) + " " +
             Show(c->else_expr.get()) + ")";
    }
    case ExprKind::kNSRef: {
      auto* n = static_cast<const ast::NSRef*>(e);
      return "(ns " + n->name + " " + n->attr + ")";
    }
  }
  return "?";
}

Result<std::unique_ptr<ast::Program>> ParseSource(const std::string& src, int max_depth = 256) {
  std::string norm = NormalizeSource(src);
  auto toks = Tokenize(norm, {});
  if (!toks.ok()) return toks.status();
  return ParseTokens(norm, *toks, max_depth);
}

// The S-expression of the expression in "{{ expr }}".
std::string Expr(const std::string& expr) {
  auto p = ParseSource("{{ " + expr + " }}");
  if (!p.ok()) return "ERROR: " + p.status().message();
  if ((*p)->body.size() != 1 || (*p)->body[0]->kind != ast::StmtKind::kPrint) return "?";
  return Show(static_cast<const ast::Print&>(*(*p)->body[0]).expr.get());
}

TEST(ParserTest, Precedence) {
  EXPECT_EQ(Expr("1 + 2 * 3 ** 2"), "(+ 1 (* 2 (** 3 2)))");
  EXPECT_EQ(Expr("2 ** 3 ** 2"), "(** (** 2 3) 2)");  // Jinja's ** is left-associative
  EXPECT_EQ(Expr("-2 ** 2"), "(** (neg 2) 2)");
  EXPECT_EQ(Expr("-x|abs"), "(|abs (neg x))");
  EXPECT_EQ(Expr("messages|length - 1"), "(- (|length messages) 1)");
  EXPECT_EQ(Expr("a ~ b + c"), "(+ (~ a b) c)");
  EXPECT_EQ(Expr("a * b ~ c"), "(~ (* a b) c)");
  EXPECT_EQ(Expr("a or b and not c"), "(or a (and b (not c)))");
  EXPECT_EQ(Expr("not a is defined"), "(not (is-defined a))");
  EXPECT_EQ(Expr("a is not none"), "(not (is-none a))");
  EXPECT_EQ(Expr("a < b <= c"), "(cmp a < b <= c)");
  EXPECT_EQ(Expr("a not in b"), "(cmp a notin b)");
  EXPECT_EQ(Expr("not a in b"), "(not (cmp a in b))");
  EXPECT_EQ(Expr("a if b else c if d else e"), "(if b a (if d c e))");
  EXPECT_EQ(Expr("a if b"), "(if b a _)");
  EXPECT_EQ(Expr("x.y[0].z(1, k=2)|f(3)|g"), "(|g (|f (call (. ([] (. x y) 0) z) 1 k=2) 3))");
  EXPECT_EQ(Expr("x is divisibleby 3"), "(is-divisibleby x 3)");
  EXPECT_EQ(Expr("x is eq(1)"), "(is-eq x 1)");
  EXPECT_EQ(Expr("x[::-1]"), "([] x (slice _ _ (neg 1)))");
  EXPECT_EQ(Expr("x[1:]"), "([] x (slice 1 _ _))");
  EXPECT_EQ(Expr("x[a, b]"), "([] x (tuple a b))");
  EXPECT_EQ(Expr("(1, 2)"), "(tuple 1 2)");
  EXPECT_EQ(Expr("(1,)"), "(tuple 1)");
  EXPECT_EQ(Expr("()"), "(tuple)");
  EXPECT_EQ(Expr("1, 2"), "(tuple 1 2)");
  EXPECT_EQ(Expr("[1, [2], {'a': (3)}]"), "(list 1 (list 2) (dict 'a':3))");
  EXPECT_EQ(Expr("'a' 'b'"), "'ab'");
  EXPECT_EQ(Expr("true, True, none, None, false"), "(tuple True True None None False)");
  EXPECT_EQ(Expr("f(*args, **kw)"), "(call f)");
}

TEST(ParserTest, Statements) {
  auto p = ParseSource(
      "{% for k, v in d.items() if v %}{{ k }}{% else %}e{% endfor %}"
      "{% set ns.x = 1 %}{% set a, b = 1, 2 %}{% set s | upper %}x{% endset %}"
      "{% macro m(a, b=1) %}{{ caller() }}{% endmacro %}{% call m(1) %}c{% endcall %}"
      "{% filter upper %}f{% endfilter %}{% with x = 1 %}{% endwith %}"
      "{% if a %}{% elif b %}{% else %}{% endif %}{% raw %}{{ r }}{% endraw %}"
      "{% generation %}g{% endgeneration %}{% print 1, 2 %}");
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  const auto& body = (*p)->body;
  ASSERT_EQ(body.size(), 12u);
  const auto& f = static_cast<const ast::For&>(*body[0]);
  EXPECT_EQ(Show(f.target.get()), "(tuple k v)");
  EXPECT_EQ(Show(f.filter.get()), "v");
  EXPECT_FALSE(f.uses_loop);
  EXPECT_EQ(f.else_body.size(), 1u);
  EXPECT_EQ(Show(static_cast<const ast::Set&>(*body[1]).target.get()), "(ns ns x)");
  EXPECT_EQ(body[3]->kind, ast::StmtKind::kSetBlock);
  const auto& m = static_cast<const ast::Macro&>(*body[4]).def;
  EXPECT_EQ(m.params.size(), 2u);
  EXPECT_EQ(m.defaults.size(), 1u);
  EXPECT_TRUE(m.uses_caller);
  EXPECT_FALSE(m.uses_varargs);
  EXPECT_EQ(body[5]->kind, ast::StmtKind::kCallBlock);
  EXPECT_EQ(body[6]->kind, ast::StmtKind::kFilterBlock);
  EXPECT_EQ(body[7]->kind, ast::StmtKind::kWith);
  EXPECT_EQ(static_cast<const ast::If&>(*body[8]).branches.size(), 2u);
  EXPECT_EQ(static_cast<const ast::Data&>(*body[9]).text, "{{ r }}");
  EXPECT_EQ(body[10]->kind, ast::StmtKind::kInline);
  EXPECT_EQ(body[11]->kind, ast::StmtKind::kInline);

  auto loop = ParseSource("{% for x in y %}{{ loop.index }}{% endfor %}");
  ASSERT_TRUE(loop.ok());
  EXPECT_TRUE(static_cast<const ast::For&>(*(*loop)->body[0]).uses_loop);
}

TEST(ParserTest, Errors) {
  auto err = [](const std::string& src) {
    auto p = ParseSource(src);
    return p.ok() ? std::string("OK") : p.status().message();
  };
  EXPECT_EQ(err("{{ }}"), "line 1, column 4: Expected an expression, got 'end of print statement'");
  EXPECT_EQ(err("{% if %}{% endif %}"),
            "line 1, column 7: Expected an expression, got 'end of statement block'");
  EXPECT_EQ(err("{% for x y %}"), "line 1, column 10: expected token 'in', got 'y'");
  EXPECT_EQ(err("{% set 1 = 2 %}"), "line 1: can't assign to 'const'");
  EXPECT_EQ(err("{% set x.y.z = 2 %}"),
            "line 1, column 11: expected token 'end of statement block', got '.'");
  EXPECT_EQ(err("{% foo %}"), "line 1, column 4: Encountered unknown tag 'foo'.");
  EXPECT_EQ(err("{% for x in y %}{% continue %}{% endfor %}{% continue %}"),
            "line 1, column 46: 'continue' outside of a loop");
  EXPECT_EQ(err("{% macro m() %}{% break %}{% endmacro %}"),
            "line 1, column 19: 'break' outside of a loop");
  EXPECT_EQ(err("{{ f(a=1, 2) }}"),
            "line 1, column 5: invalid syntax for function call expression");
  EXPECT_EQ(err("{{ x is eq is none }}"),
            "line 1, column 12: You cannot chain multiple tests with is");
  EXPECT_EQ(err("{% call m %}{% endcall %}"), "line 1, column 4: expected call");
  EXPECT_EQ(err("{% for x in y recursive %}{% endfor %}"),
            "line 1, column 15: recursive for loops are not supported");
  EXPECT_EQ(ParseSource("{% include 'a' %}").status().code(), Status::Code::kNotSupported);
}

TEST(ParserTest, DepthLimit) {
  std::string nested = "{{ " + std::string(20, '(') + "1" + std::string(20, ')') + " }}";
  EXPECT_TRUE(ParseSource(nested, 64).ok());
  EXPECT_FALSE(ParseSource(nested, 16).ok());
  std::string chain = "{{ a";
  for (int i = 0; i < 30; ++i) chain += ".b";
  chain += " }}";
  EXPECT_TRUE(ParseSource(chain, 64).ok());
  auto r = ParseSource(chain, 16);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("nesting exceeds the limit of 16"), std::string::npos);
  std::string ifs;
  for (int i = 0; i < 40; ++i) ifs += "{% if 1 %}";
  for (int i = 0; i < 40; ++i) ifs += "{% endif %}";
  EXPECT_TRUE(ParseSource(ifs, 128).ok());
  EXPECT_FALSE(ParseSource(ifs, 32).ok());
}

}  // namespace
}  // namespace ccguard::jinja

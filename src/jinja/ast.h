// Abstract syntax tree of a parsed template (Jinja2's nodes, reduced to what ccguard runs).
//
// Nodes are immutable after parsing; a Program is shared by all renders of a Template.
// Every node records the template line it came from, for error messages.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "jinja/value.h"

namespace ccguard::jinja::ast {

// ---- Expressions ----

enum class ExprKind {
  kConst,
  kName,
  kList,
  kTuple,
  kDict,
  kGetattr,
  kGetitem,
  kSlice,
  kCall,
  kFilter,
  kTest,
  kNot,
  kNeg,
  kPos,
  kBinary,
  kAnd,
  kOr,
  kConcat,
  kCompare,
  kCondExpr,
  kNSRef,
};

struct Expr {
  Expr(ExprKind k, int l) : kind(k), line(l) {}
  virtual ~Expr() = default;
  ExprKind kind;
  int line;
  int height = 1;  // 1 + the tallest child (the parser bounds it)
};
using ExprPtr = std::unique_ptr<Expr>;

struct Const : Expr {
  Const(int l, Value v) : Expr(ExprKind::kConst, l), value(std::move(v)) {}
  Value value;
};

struct Name : Expr {
  Name(int l, std::string n) : Expr(ExprKind::kName, l), name(std::move(n)) {}
  std::string name;
};

// kList or kTuple.
struct Seq : Expr {
  Seq(ExprKind k, int l) : Expr(k, l) {}
  std::vector<ExprPtr> items;
};

struct DictLit : Expr {
  explicit DictLit(int l) : Expr(ExprKind::kDict, l) {}
  std::vector<std::pair<ExprPtr, ExprPtr>> items;
};

struct Getattr : Expr {
  Getattr(int l, ExprPtr o, std::string a)
      : Expr(ExprKind::kGetattr, l), obj(std::move(o)), attr(std::move(a)) {}
  ExprPtr obj;
  std::string attr;
};

// obj[index]; `index` may be a Slice.
struct Getitem : Expr {
  Getitem(int l, ExprPtr o, ExprPtr i)
      : Expr(ExprKind::kGetitem, l), obj(std::move(o)), index(std::move(i)) {}
  ExprPtr obj;
  ExprPtr index;
};

struct Slice : Expr {
  explicit Slice(int l) : Expr(ExprKind::kSlice, l) {}
  ExprPtr start, stop, step;  // each may be null
};

struct Keyword {
  std::string name;
  ExprPtr value;
};

struct Args {
  std::vector<ExprPtr> args;
  std::vector<Keyword> kwargs;
  ExprPtr dyn_args;    // *args
  ExprPtr dyn_kwargs;  // **kwargs
};

struct Call : Expr {
  Call(int l, ExprPtr c) : Expr(ExprKind::kCall, l), callee(std::move(c)) {}
  ExprPtr callee;
  Args args;
};

// operand|name(args). In filter blocks and `{% set x | f %}` the innermost operand is null
// and stands for the rendered body.
struct Filter : Expr {
  Filter(int l, ExprPtr o, std::string n)
      : Expr(ExprKind::kFilter, l), operand(std::move(o)), name(std::move(n)) {}
  ExprPtr operand;
  std::string name;
  Args args;
};

// operand is name(args)
struct Test : Expr {
  Test(int l, ExprPtr o, std::string n)
      : Expr(ExprKind::kTest, l), operand(std::move(o)), name(std::move(n)) {}
  ExprPtr operand;
  std::string name;
  Args args;
};

// kNot, kNeg, kPos.
struct Unary : Expr {
  Unary(ExprKind k, int l, ExprPtr o) : Expr(k, l), operand(std::move(o)) {}
  ExprPtr operand;
};

enum class BinOp { kAdd, kSub, kMul, kDiv, kFloorDiv, kMod, kPow };

// kBinary (with op), kAnd, kOr.
struct Binary : Expr {
  Binary(ExprKind k, int l, BinOp o, ExprPtr a, ExprPtr b)
      : Expr(k, l), op(o), left(std::move(a)), right(std::move(b)) {}
  BinOp op;
  ExprPtr left, right;
};

// a ~ b ~ c
struct Concat : Expr {
  explicit Concat(int l) : Expr(ExprKind::kConcat, l) {}
  std::vector<ExprPtr> items;
};

enum class CmpOp { kEq, kNe, kLt, kLe, kGt, kGe, kIn, kNotIn };

// first op1 e1 op2 e2 ... (chained as in Python)
struct Compare : Expr {
  Compare(int l, ExprPtr f) : Expr(ExprKind::kCompare, l), first(std::move(f)) {}
  ExprPtr first;
  std::vector<std::pair<CmpOp, ExprPtr>> ops;
};

// then_expr if test else else_expr (else_expr may be null: undefined)
struct CondExpr : Expr {
  explicit CondExpr(int l) : Expr(ExprKind::kCondExpr, l) {}
  ExprPtr test, then_expr, else_expr;
};

// ns.attr as an assignment target.
struct NSRef : Expr {
  NSRef(int l, std::string n, std::string a)
      : Expr(ExprKind::kNSRef, l), name(std::move(n)), attr(std::move(a)) {}
  std::string name, attr;
};

// ---- Statements ----

enum class StmtKind {
  kData,
  kPrint,
  kIf,
  kFor,
  kSet,
  kSetBlock,
  kMacro,
  kCallBlock,
  kFilterBlock,
  kWith,
  kBreak,
  kContinue,
  kInline,
};

struct Stmt {
  Stmt(StmtKind k, int l) : kind(k), line(l) {}
  virtual ~Stmt() = default;
  StmtKind kind;
  int line;
};
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

struct Data : Stmt {
  Data(int l, std::string t) : Stmt(StmtKind::kData, l), text(std::move(t)) {}
  std::string text;
};

struct Print : Stmt {
  Print(int l, ExprPtr e) : Stmt(StmtKind::kPrint, l), expr(std::move(e)) {}
  ExprPtr expr;
};

struct If : Stmt {
  explicit If(int l) : Stmt(StmtKind::kIf, l) {}
  std::vector<std::pair<ExprPtr, Body>> branches;  // if, elif...
  Body else_body;
};

struct For : Stmt {
  explicit For(int l) : Stmt(StmtKind::kFor, l) {}
  ExprPtr target;  // Name or Tuple of Names
  ExprPtr iter;
  ExprPtr filter;  // `for x in xs if cond` (may be null)
  Body body, else_body;
  bool uses_loop = false;  // the body mentions `loop`
};

struct Set : Stmt {
  Set(int l, ExprPtr t, ExprPtr v)
      : Stmt(StmtKind::kSet, l), target(std::move(t)), value(std::move(v)) {}
  ExprPtr target;  // Name, Tuple of Names, or NSRef
  ExprPtr value;
};

struct SetBlock : Stmt {
  explicit SetBlock(int l) : Stmt(StmtKind::kSetBlock, l) {}
  ExprPtr target;
  ExprPtr filter;  // may be null
  Body body;
};

struct MacroDef {
  std::string name;
  std::vector<std::string> params;
  std::vector<ExprPtr> defaults;  // for the last defaults.size() params
  Body body;
  bool uses_caller = false, uses_varargs = false, uses_kwargs = false;
};

struct Macro : Stmt {
  explicit Macro(int l) : Stmt(StmtKind::kMacro, l) {}
  MacroDef def;
};

struct CallBlock : Stmt {
  explicit CallBlock(int l) : Stmt(StmtKind::kCallBlock, l) {}
  ExprPtr call;     // a Call expression
  MacroDef caller;  // the body, callable as caller(...)
};

struct FilterBlock : Stmt {
  explicit FilterBlock(int l) : Stmt(StmtKind::kFilterBlock, l) {}
  ExprPtr filter;
  Body body;
};

struct With : Stmt {
  explicit With(int l) : Stmt(StmtKind::kWith, l) {}
  std::vector<ExprPtr> targets, values;
  Body body;
};

// kBreak, kContinue.
struct Simple : Stmt {
  Simple(StmtKind k, int l) : Stmt(k, l) {}
};

// A body run in the current scope (e.g. transformers' {% generation %}).
struct Inline : Stmt {
  explicit Inline(int l) : Stmt(StmtKind::kInline, l) {}
  Body body;
};

struct Program {
  Body body;
};

}  // namespace ccguard::jinja::ast

#include "jinja/parser.h"

#include <algorithm>
#include <string>
#include <utility>

namespace ccguard::jinja {

namespace {

using ast::Body;
using ast::ExprKind;
using ast::ExprPtr;
using ast::StmtPtr;

// A token expectation, as Jinja2 writes them: a token type, an operator or "name:word".
struct Want {
  enum Kind { kType, kOp, kName } kind;
  TokenType type = TokenType::kEof;
  std::string text;

  static Want Type(TokenType t) { return {kType, t, {}}; }
  static Want Op(std::string o) { return {kOp, TokenType::kOperator, std::move(o)}; }
  static Want Word(std::string w) { return {kName, TokenType::kName, std::move(w)}; }

  bool Matches(const Token& t) const {
    switch (kind) {
      case kType:
        return t.type == type;
      case kOp:
        return t.type == TokenType::kOperator && t.value == text;
      case kName:
        return t.type == TokenType::kName && t.value == text;
    }
    return false;
  }
  std::string Describe() const {
    if (kind != kType) return text;
    Token t;
    t.type = type;
    if (type == TokenType::kName) return "name";
    return DescribeToken(t);
  }
};

class Parser {
 public:
  Parser(std::string_view source, const std::vector<Token>& tokens, int max_depth)
      : src_(source), toks_(tokens), max_depth_(max_depth) {}

  Result<std::unique_ptr<ast::Program>> Run() {
    auto program = std::make_unique<ast::Program>();
    CCG_ASSIGN_OR_RETURN(program->body, Subparse(nullptr));
    return program;
  }

 private:
  // ---- token stream ----
  const Token& Cur() const { return toks_[std::min(pos_, toks_.size() - 1)]; }
  const Token& Look() const { return toks_[std::min(pos_ + 1, toks_.size() - 1)]; }
  const Token& Next() {
    const Token& t = Cur();
    if (pos_ < toks_.size() - 1) ++pos_;
    return t;
  }
  bool AtName(std::string_view w) const {
    return Cur().type == TokenType::kName && Cur().value == w;
  }
  bool AtOp(std::string_view o) const {
    return Cur().type == TokenType::kOperator && Cur().value == o;
  }
  bool AtType(TokenType t) const { return Cur().type == t; }
  bool SkipName(std::string_view w) {
    if (!AtName(w)) return false;
    Next();
    return true;
  }
  bool SkipOp(std::string_view o) {
    if (!AtOp(o)) return false;
    Next();
    return true;
  }

  Status Fail(const Token& at, const std::string& msg) const {
    return Status::InvalidArgument(DescribeLocation(src_, at.offset) + ": " + msg);
  }

  Result<Token> Expect(const Want& w) {
    if (w.Matches(Cur())) return Next();
    if (Cur().type == TokenType::kEof) {
      return Fail(Cur(), "unexpected end of template, expected '" + w.Describe() + "'.");
    }
    return Fail(Cur(), "expected token '" + w.Describe() + "', got '" + DescribeToken(Cur()) + "'");
  }
  Status ExpectOk(const Want& w) {
    auto r = Expect(w);
    return r.ok() ? Status::Ok() : r.status();
  }

  // ---- nesting guard ----
  struct Depth {
    explicit Depth(Parser* p) : p(p) { ++p->depth_; }
    ~Depth() { --p->depth_; }
    Parser* p;
  };
  Status CheckDepth() const {
    if (depth_ > max_depth_) {
      return Fail(Cur(), "template nesting exceeds the limit of " + std::to_string(max_depth_));
    }
    return Status::Ok();
  }

  // Sets e->height from its children; fails past max_depth (deep trees would exhaust the
  // stack when evaluated or destroyed).
  Result<ExprPtr> Fin(ExprPtr e) {
    int h = 0;
    auto upd = [&h](const ExprPtr& c) {
      if (c) h = std::max(h, c->height);
    };
    auto upd_args = [&](const ast::Args& a) {
      for (const auto& x : a.args) upd(x);
      for (const auto& k : a.kwargs) upd(k.value);
      upd(a.dyn_args);
      upd(a.dyn_kwargs);
    };
    switch (e->kind) {
      case ExprKind::kList:
      case ExprKind::kTuple:
        for (const auto& x : static_cast<ast::Seq&>(*e).items) upd(x);
        break;
      case ExprKind::kDict:
        for (const auto& [k, v] : static_cast<ast::DictLit&>(*e).items) {
          upd(k);
          upd(v);
        }
        break;
      case ExprKind::kGetattr:
        upd(static_cast<ast::Getattr&>(*e).obj);
        break;
      case ExprKind::kGetitem:
        upd(static_cast<ast::Getitem&>(*e).obj);
        upd(static_cast<ast::Getitem&>(*e).index);
        break;
      case ExprKind::kSlice: {
        auto& s = static_cast<ast::Slice&>(*e);
        upd(s.start);
        upd(s.stop);
        upd(s.step);
        break;
      }
      case ExprKind::kCall:
        upd(static_cast<ast::Call&>(*e).callee);
        upd_args(static_cast<ast::Call&>(*e).args);
        break;
      case ExprKind::kFilter:
        upd(static_cast<ast::Filter&>(*e).operand);
        upd_args(static_cast<ast::Filter&>(*e).args);
        break;
      case ExprKind::kTest:
        upd(static_cast<ast::Test&>(*e).operand);
        upd_args(static_cast<ast::Test&>(*e).args);
        break;
      case ExprKind::kNot:
      case ExprKind::kNeg:
      case ExprKind::kPos:
        upd(static_cast<ast::Unary&>(*e).operand);
        break;
      case ExprKind::kBinary:
      case ExprKind::kAnd:
      case ExprKind::kOr:
        upd(static_cast<ast::Binary&>(*e).left);
        upd(static_cast<ast::Binary&>(*e).right);
        break;
      case ExprKind::kConcat:
        for (const auto& x : static_cast<ast::Concat&>(*e).items) upd(x);
        break;
      case ExprKind::kCompare:
        upd(static_cast<ast::Compare&>(*e).first);
        for (const auto& [op, x] : static_cast<ast::Compare&>(*e).ops) upd(x);
        break;
      case ExprKind::kCondExpr: {
        auto& c = static_cast<ast::CondExpr&>(*e);
        upd(c.test);
        upd(c.then_expr);
        upd(c.else_expr);
        break;
      }
      default:
        break;
    }
    e->height = h + 1;
    if (e->height > max_depth_) {
      return Fail(Cur(), "expression nesting exceeds the limit of " + std::to_string(max_depth_));
    }
    return e;
  }

  // ---- end-of-template / unknown tag messages (Jinja2's _fail_ut_eof) ----
  Status FailUnknownOrEof(const std::string* name, const std::vector<Want>* extra,
                          const Token& at) const {
    std::vector<std::vector<Want>> stack = end_stack_;
    if (extra) stack.push_back(*extra);
    std::string msg =
        name ? "Encountered unknown tag '" + *name + "'." : "Unexpected end of template.";
    if (!stack.empty()) {
      std::string looking;
      for (const Want& w : stack.back()) {
        if (!looking.empty()) looking += " or ";
        looking += '\'';
        looking += w.Describe();
        looking += '\'';
      }
      bool expected = false;
      if (name) {
        for (const auto& level : stack) {
          for (const Want& w : level) expected |= w.Describe() == *name;
        }
      }
      if (expected) {
        msg +=
            " You probably made a nesting mistake. Jinja is expecting this tag, but currently"
            " looking for " +
            looking + ".";
      } else {
        msg += " Jinja was looking for the following tags: " + looking + ".";
      }
    }
    if (!tag_stack_.empty()) {
      msg += " The innermost block that needs to be closed is '" + tag_stack_.back() + "'.";
    }
    return Fail(at, msg);
  }

  // ---- statements ----
  bool AtAny(const std::vector<Want>& ws) const {
    for (const Want& w : ws) {
      if (w.Matches(Cur())) return true;
    }
    return false;
  }

  Result<Body> Subparse(const std::vector<Want>* end_tokens) {
    Depth d(this);
    CCG_RETURN_IF_ERROR(CheckDepth());
    if (end_tokens) end_stack_.push_back(*end_tokens);
    auto r = SubparseImpl(end_tokens);
    if (end_tokens) end_stack_.pop_back();
    return r;
  }

  Result<Body> SubparseImpl(const std::vector<Want>* end_tokens) {
    Body body;
    while (!AtType(TokenType::kEof)) {
      const Token& t = Cur();
      if (t.type == TokenType::kData) {
        body.push_back(std::make_unique<ast::Data>(t.line, t.value));
        Next();
      } else if (t.type == TokenType::kVariableBegin) {
        Next();
        int line = Cur().line;
        CCG_ASSIGN_OR_RETURN(ExprPtr e, ParseTuple(false, true, {}, false, false));
        CCG_RETURN_IF_ERROR(ExpectOk(Want::Type(TokenType::kVariableEnd)));
        body.push_back(std::make_unique<ast::Print>(line, std::move(e)));
      } else if (t.type == TokenType::kBlockBegin) {
        Next();
        if (end_tokens && AtAny(*end_tokens)) return body;
        CCG_ASSIGN_OR_RETURN(StmtPtr s, ParseStatement());
        if (s) body.push_back(std::move(s));
        CCG_RETURN_IF_ERROR(ExpectOk(Want::Type(TokenType::kBlockEnd)));
      } else {
        return Fail(t, "unexpected '" + DescribeToken(t) + "'");
      }
    }
    return body;
  }

  // Parses `: %} body` up to one of end_tokens; the end token is left current unless
  // drop_needle.
  Result<Body> ParseStatements(const std::vector<Want>& end_tokens, bool drop_needle) {
    SkipOp(":");
    CCG_RETURN_IF_ERROR(ExpectOk(Want::Type(TokenType::kBlockEnd)));
    CCG_ASSIGN_OR_RETURN(Body body, Subparse(&end_tokens));
    if (AtType(TokenType::kEof)) return FailUnknownOrEof(nullptr, &end_tokens, Cur());
    if (drop_needle) Next();
    return body;
  }

  Result<StmtPtr> ParseStatement() {
    const Token& t = Cur();
    if (t.type != TokenType::kName) return Fail(t, "tag name expected");
    std::string name = t.value;
    static const char* kUnsupported[] = {"block",  "extends", "include",
                                         "import", "from",    "autoescape"};
    for (const char* u : kUnsupported) {
      if (name == u) {
        return Status::NotSupported(DescribeLocation(src_, t.offset) + ": the '" + name +
                                    "' tag is not supported");
      }
    }
    tag_stack_.push_back(name);
    Result<StmtPtr> r = Status::Internal("unreached");
    if (name == "for") {
      r = ParseFor();
    } else if (name == "if") {
      r = ParseIf();
    } else if (name == "set") {
      r = ParseSet();
    } else if (name == "macro") {
      r = ParseMacro();
    } else if (name == "call") {
      r = ParseCallBlock();
    } else if (name == "filter") {
      r = ParseFilterBlock();
    } else if (name == "with") {
      r = ParseWith();
    } else if (name == "print") {
      r = ParsePrint();
    } else if (name == "generation") {
      r = ParseGeneration();
    } else if (name == "break" || name == "continue") {
      Next();
      if (loop_depth_ == 0) {
        r = Fail(t, "'" + name + "' outside of a loop");
      } else {
        r = StmtPtr(std::make_unique<ast::Simple>(
            name == "break" ? ast::StmtKind::kBreak : ast::StmtKind::kContinue, t.line));
      }
    } else {
      tag_stack_.pop_back();
      return FailUnknownOrEof(&name, nullptr, t);
    }
    tag_stack_.pop_back();
    return r;
  }

  Result<StmtPtr> ParseFor() {
    int line = Next().line;
    auto node = std::make_unique<ast::For>(line);
    CCG_ASSIGN_OR_RETURN(node->target, ParseAssignTarget(true, false, {Want::Word("in")}, false));
    CCG_RETURN_IF_ERROR(ExpectOk(Want::Word("in")));
    CCG_ASSIGN_OR_RETURN(node->iter,
                         ParseTuple(false, false, {Want::Word("recursive")}, false, false));
    if (SkipName("if")) {
      CCG_ASSIGN_OR_RETURN(node->filter, ParseExpression(true));
    }
    if (AtName("recursive")) return Fail(Cur(), "recursive for loops are not supported");
    size_t names_before = names_.size();
    ++loop_depth_;
    auto body = ParseStatements({Want::Word("endfor"), Want::Word("else")}, false);
    --loop_depth_;
    if (!body.ok()) return body.status();
    node->body = std::move(body).value();
    for (size_t i = names_before; i < names_.size(); ++i) node->uses_loop |= names_[i] == "loop";
    if (Next().value == "else") {
      // The else clause runs outside the loop: break/continue there belong to an outer loop.
      CCG_ASSIGN_OR_RETURN(node->else_body, ParseStatements({Want::Word("endfor")}, true));
    }
    return StmtPtr(std::move(node));
  }

  Result<StmtPtr> ParseIf() {
    int line = Next().line;
    auto node = std::make_unique<ast::If>(line);
    while (true) {
      CCG_ASSIGN_OR_RETURN(ExprPtr test, ParseTuple(false, false, {}, false, false));
      CCG_ASSIGN_OR_RETURN(
          Body body,
          ParseStatements({Want::Word("elif"), Want::Word("else"), Want::Word("endif")}, false));
      node->branches.emplace_back(std::move(test), std::move(body));
      const Token& t = Next();
      if (t.value == "elif") continue;
      if (t.value == "else") {
        CCG_ASSIGN_OR_RETURN(node->else_body, ParseStatements({Want::Word("endif")}, true));
      }
      break;
    }
    return StmtPtr(std::move(node));
  }

  Result<StmtPtr> ParseSet() {
    int line = Next().line;
    CCG_ASSIGN_OR_RETURN(ExprPtr target, ParseAssignTarget(true, false, {}, true));
    if (SkipOp("=")) {
      CCG_ASSIGN_OR_RETURN(ExprPtr value, ParseTuple(false, true, {}, false, false));
      return StmtPtr(std::make_unique<ast::Set>(line, std::move(target), std::move(value)));
    }
    auto node = std::make_unique<ast::SetBlock>(line);
    node->target = std::move(target);
    if (AtOp("|")) {
      CCG_ASSIGN_OR_RETURN(node->filter, ParseFilter(nullptr, false));
    }
    CCG_ASSIGN_OR_RETURN(node->body, ParseStatements({Want::Word("endset")}, true));
    return StmtPtr(std::move(node));
  }

  Status ParseSignature(ast::MacroDef* def) {
    CCG_RETURN_IF_ERROR(ExpectOk(Want::Op("(")));
    while (!AtOp(")")) {
      if (!def->params.empty()) CCG_RETURN_IF_ERROR(ExpectOk(Want::Op(",")));
      CCG_ASSIGN_OR_RETURN(Token name, Expect(Want::Type(TokenType::kName)));
      if (SkipOp("=")) {
        CCG_ASSIGN_OR_RETURN(ExprPtr d, ParseExpression(true));
        def->defaults.push_back(std::move(d));
      } else if (!def->defaults.empty()) {
        return Fail(name, "non-default argument follows default argument");
      }
      def->params.push_back(name.value);
    }
    return ExpectOk(Want::Op(")"));
  }

  Status ParseMacroBody(ast::MacroDef* def, const std::string& end_tag) {
    size_t names_before = names_.size();
    int saved_loop_depth = loop_depth_;
    loop_depth_ = 0;
    auto body = ParseStatements({Want::Word(end_tag)}, true);
    loop_depth_ = saved_loop_depth;
    if (!body.ok()) return body.status();
    def->body = std::move(body).value();
    for (size_t i = names_before; i < names_.size(); ++i) {
      def->uses_caller |= names_[i] == "caller";
      def->uses_varargs |= names_[i] == "varargs";
      def->uses_kwargs |= names_[i] == "kwargs";
    }
    return Status::Ok();
  }

  Result<StmtPtr> ParseMacro() {
    int line = Next().line;
    auto node = std::make_unique<ast::Macro>(line);
    CCG_ASSIGN_OR_RETURN(Token name, Expect(Want::Type(TokenType::kName)));
    node->def.name = name.value;
    CCG_RETURN_IF_ERROR(ParseSignature(&node->def));
    CCG_RETURN_IF_ERROR(ParseMacroBody(&node->def, "endmacro"));
    return StmtPtr(std::move(node));
  }

  Result<StmtPtr> ParseCallBlock() {
    const Token& start = Next();
    auto node = std::make_unique<ast::CallBlock>(start.line);
    node->caller.name = "caller";
    if (AtOp("(")) CCG_RETURN_IF_ERROR(ParseSignature(&node->caller));
    CCG_ASSIGN_OR_RETURN(node->call, ParseExpression(true));
    if (node->call->kind != ExprKind::kCall) return Fail(start, "expected call");
    CCG_RETURN_IF_ERROR(ParseMacroBody(&node->caller, "endcall"));
    return StmtPtr(std::move(node));
  }

  Result<StmtPtr> ParseFilterBlock() {
    int line = Next().line;
    auto node = std::make_unique<ast::FilterBlock>(line);
    CCG_ASSIGN_OR_RETURN(node->filter, ParseFilter(nullptr, true));
    CCG_ASSIGN_OR_RETURN(node->body, ParseStatements({Want::Word("endfilter")}, true));
    return StmtPtr(std::move(node));
  }

  Result<StmtPtr> ParseWith() {
    int line = Next().line;
    auto node = std::make_unique<ast::With>(line);
    while (!AtType(TokenType::kBlockEnd)) {
      if (!node->targets.empty()) CCG_RETURN_IF_ERROR(ExpectOk(Want::Op(",")));
      CCG_ASSIGN_OR_RETURN(ExprPtr target, ParseAssignTarget(true, false, {}, false));
      CCG_RETURN_IF_ERROR(ExpectOk(Want::Op("=")));
      CCG_ASSIGN_OR_RETURN(ExprPtr value, ParseExpression(true));
      node->targets.push_back(std::move(target));
      node->values.push_back(std::move(value));
      if (AtType(TokenType::kEof)) break;
    }
    CCG_ASSIGN_OR_RETURN(node->body, ParseStatements({Want::Word("endwith")}, true));
    return StmtPtr(std::move(node));
  }

  Result<StmtPtr> ParsePrint() {
    int line = Next().line;
    auto seq = std::make_unique<ast::Seq>(ExprKind::kTuple, line);
    while (!AtType(TokenType::kBlockEnd)) {
      if (!seq->items.empty()) CCG_RETURN_IF_ERROR(ExpectOk(Want::Op(",")));
      CCG_ASSIGN_OR_RETURN(ExprPtr e, ParseExpression(true));
      seq->items.push_back(std::move(e));
      if (AtType(TokenType::kEof)) break;
    }
    // Jinja's Output node prints each expression in turn.
    auto node = std::make_unique<ast::Inline>(line);
    for (auto& e : seq->items) {
      int l = e->line;
      node->body.push_back(std::make_unique<ast::Print>(l, std::move(e)));
    }
    return StmtPtr(std::move(node));
  }

  Result<StmtPtr> ParseGeneration() {
    int line = Next().line;
    auto node = std::make_unique<ast::Inline>(line);
    CCG_ASSIGN_OR_RETURN(node->body, ParseStatements({Want::Word("endgeneration")}, true));
    return StmtPtr(std::move(node));
  }

  // ---- assignment targets ----

  Result<ExprPtr> ParseAssignTarget(bool with_tuple, bool name_only,
                                    const std::vector<Want>& extra_end, bool with_namespace) {
    ExprPtr target;
    if (name_only) {
      CCG_ASSIGN_OR_RETURN(Token t, Expect(Want::Type(TokenType::kName)));
      target = std::make_unique<ast::Name>(t.line, t.value);
    } else if (with_tuple) {
      CCG_ASSIGN_OR_RETURN(target, ParseTuple(true, true, extra_end, false, with_namespace));
    } else {
      CCG_ASSIGN_OR_RETURN(target, ParsePrimary(with_namespace));
    }
    auto can_assign = [](const ast::Expr& e) {
      return e.kind == ExprKind::kName || e.kind == ExprKind::kNSRef;
    };
    bool ok = can_assign(*target);
    if (target->kind == ExprKind::kTuple) {
      ok = true;
      for (const auto& item : static_cast<ast::Seq&>(*target).items) {
        ok &= item->kind == ExprKind::kName;
      }
    }
    if (!ok) {
      std::string what = target->kind == ExprKind::kConst   ? "const"
                         : target->kind == ExprKind::kTuple ? "tuple"
                         : target->kind == ExprKind::kList  ? "list"
                         : target->kind == ExprKind::kDict  ? "dict"
                                                            : "expression";
      return Status::InvalidArgument("line " + std::to_string(target->line) +
                                     ": can't assign to '" + what + "'");
    }
    return target;
  }

  // ---- expressions ----

  Result<ExprPtr> ParseExpression(bool with_condexpr) {
    Depth d(this);
    CCG_RETURN_IF_ERROR(CheckDepth());
    if (with_condexpr) return ParseCondExpr();
    return ParseOr();
  }

  Result<ExprPtr> ParseCondExpr() {
    int line = Cur().line;
    CCG_ASSIGN_OR_RETURN(ExprPtr expr1, ParseOr());
    while (SkipName("if")) {
      auto node = std::make_unique<ast::CondExpr>(line);
      CCG_ASSIGN_OR_RETURN(node->test, ParseOr());
      if (SkipName("else")) {
        Depth d(this);
        CCG_RETURN_IF_ERROR(CheckDepth());
        CCG_ASSIGN_OR_RETURN(node->else_expr, ParseCondExpr());
      }
      node->then_expr = std::move(expr1);
      CCG_ASSIGN_OR_RETURN(expr1, Fin(std::move(node)));
      line = Cur().line;
    }
    return expr1;
  }

  Result<ExprPtr> ParseOr() {
    int line = Cur().line;
    CCG_ASSIGN_OR_RETURN(ExprPtr left, ParseAnd());
    while (SkipName("or")) {
      CCG_ASSIGN_OR_RETURN(ExprPtr right, ParseAnd());
      CCG_ASSIGN_OR_RETURN(left,
                           Fin(std::make_unique<ast::Binary>(ExprKind::kOr, line, ast::BinOp::kAdd,
                                                             std::move(left), std::move(right))));
      line = Cur().line;
    }
    return left;
  }

  Result<ExprPtr> ParseAnd() {
    int line = Cur().line;
    CCG_ASSIGN_OR_RETURN(ExprPtr left, ParseNot());
    while (SkipName("and")) {
      CCG_ASSIGN_OR_RETURN(ExprPtr right, ParseNot());
      CCG_ASSIGN_OR_RETURN(left,
                           Fin(std::make_unique<ast::Binary>(ExprKind::kAnd, line, ast::BinOp::kAdd,
                                                             std::move(left), std::move(right))));
      line = Cur().line;
    }
    return left;
  }

  Result<ExprPtr> ParseNot() {
    if (AtName("not")) {
      int line = Next().line;
      Depth d(this);
      CCG_RETURN_IF_ERROR(CheckDepth());
      CCG_ASSIGN_OR_RETURN(ExprPtr operand, ParseNot());
      return Fin(std::make_unique<ast::Unary>(ExprKind::kNot, line, std::move(operand)));
    }
    return ParseCompare();
  }

  Result<ExprPtr> ParseCompare() {
    int line = Cur().line;
    CCG_ASSIGN_OR_RETURN(ExprPtr expr, ParseMath1());
    std::unique_ptr<ast::Compare> cmp;
    while (true) {
      ast::CmpOp op;
      const Token& t = Cur();
      if (t.type == TokenType::kOperator &&
          (t.value == "==" || t.value == "!=" || t.value == "<" || t.value == "<=" ||
           t.value == ">" || t.value == ">=")) {
        op = t.value == "=="   ? ast::CmpOp::kEq
             : t.value == "!=" ? ast::CmpOp::kNe
             : t.value == "<"  ? ast::CmpOp::kLt
             : t.value == "<=" ? ast::CmpOp::kLe
             : t.value == ">"  ? ast::CmpOp::kGt
                               : ast::CmpOp::kGe;
        Next();
      } else if (SkipName("in")) {
        op = ast::CmpOp::kIn;
      } else if (AtName("not") && Look().type == TokenType::kName && Look().value == "in") {
        Next();
        Next();
        op = ast::CmpOp::kNotIn;
      } else {
        break;
      }
      CCG_ASSIGN_OR_RETURN(ExprPtr rhs, ParseMath1());
      if (!cmp) cmp = std::make_unique<ast::Compare>(line, std::move(expr));
      cmp->ops.emplace_back(op, std::move(rhs));
      line = Cur().line;
    }
    if (!cmp) return expr;
    cmp->line = line;
    return Fin(std::move(cmp));
  }

  Result<ExprPtr> ParseMath1() {
    int line = Cur().line;
    CCG_ASSIGN_OR_RETURN(ExprPtr left, ParseConcat());
    while (AtOp("+") || AtOp("-")) {
      ast::BinOp op = Next().value == "+" ? ast::BinOp::kAdd : ast::BinOp::kSub;
      CCG_ASSIGN_OR_RETURN(ExprPtr right, ParseConcat());
      CCG_ASSIGN_OR_RETURN(
          left, Fin(std::make_unique<ast::Binary>(ExprKind::kBinary, line, op, std::move(left),
                                                  std::move(right))));
      line = Cur().line;
    }
    return left;
  }

  Result<ExprPtr> ParseConcat() {
    int line = Cur().line;
    CCG_ASSIGN_OR_RETURN(ExprPtr first, ParseMath2());
    if (!AtOp("~")) return first;
    auto node = std::make_unique<ast::Concat>(line);
    node->items.push_back(std::move(first));
    while (SkipOp("~")) {
      CCG_ASSIGN_OR_RETURN(ExprPtr e, ParseMath2());
      node->items.push_back(std::move(e));
    }
    return Fin(std::move(node));
  }

  Result<ExprPtr> ParseMath2() {
    int line = Cur().line;
    CCG_ASSIGN_OR_RETURN(ExprPtr left, ParsePow());
    while (AtOp("*") || AtOp("/") || AtOp("//") || AtOp("%")) {
      const std::string& v = Next().value;
      ast::BinOp op = v == "*"    ? ast::BinOp::kMul
                      : v == "/"  ? ast::BinOp::kDiv
                      : v == "//" ? ast::BinOp::kFloorDiv
                                  : ast::BinOp::kMod;
      CCG_ASSIGN_OR_RETURN(ExprPtr right, ParsePow());
      CCG_ASSIGN_OR_RETURN(
          left, Fin(std::make_unique<ast::Binary>(ExprKind::kBinary, line, op, std::move(left),
                                                  std::move(right))));
      line = Cur().line;
    }
    return left;
  }

  Result<ExprPtr> ParsePow() {
    int line = Cur().line;
    CCG_ASSIGN_OR_RETURN(ExprPtr left, ParseUnary(true));
    while (SkipOp("**")) {
      CCG_ASSIGN_OR_RETURN(ExprPtr right, ParseUnary(true));
      CCG_ASSIGN_OR_RETURN(
          left, Fin(std::make_unique<ast::Binary>(ExprKind::kBinary, line, ast::BinOp::kPow,
                                                  std::move(left), std::move(right))));
      line = Cur().line;
    }
    return left;
  }

  Result<ExprPtr> ParseUnary(bool with_filter) {
    Depth d(this);
    CCG_RETURN_IF_ERROR(CheckDepth());
    int line = Cur().line;
    ExprPtr node;
    if (AtOp("-") || AtOp("+")) {
      ExprKind k = Next().value == "-" ? ExprKind::kNeg : ExprKind::kPos;
      CCG_ASSIGN_OR_RETURN(ExprPtr operand, ParseUnary(false));
      CCG_ASSIGN_OR_RETURN(node, Fin(std::make_unique<ast::Unary>(k, line, std::move(operand))));
    } else {
      CCG_ASSIGN_OR_RETURN(node, ParsePrimary(false));
    }
    CCG_ASSIGN_OR_RETURN(node, ParsePostfix(std::move(node)));
    if (with_filter) {
      CCG_ASSIGN_OR_RETURN(node, ParseFilterExpr(std::move(node)));
    }
    return node;
  }

  Result<ExprPtr> ParsePrimary(bool with_namespace) {
    const Token& t = Cur();
    if (t.type == TokenType::kName) {
      Next();
      if (t.value == "true" || t.value == "True") {
        return ExprPtr(std::make_unique<ast::Const>(t.line, Value::Bool(true)));
      }
      if (t.value == "false" || t.value == "False") {
        return ExprPtr(std::make_unique<ast::Const>(t.line, Value::Bool(false)));
      }
      if (t.value == "none" || t.value == "None") {
        return ExprPtr(std::make_unique<ast::Const>(t.line, Value::None()));
      }
      if (with_namespace && AtOp(".")) {
        Next();
        CCG_ASSIGN_OR_RETURN(Token attr, Expect(Want::Type(TokenType::kName)));
        names_.push_back(t.value);
        return ExprPtr(std::make_unique<ast::NSRef>(t.line, t.value, attr.value));
      }
      names_.push_back(t.value);
      return ExprPtr(std::make_unique<ast::Name>(t.line, t.value));
    }
    if (t.type == TokenType::kString) {
      int line = t.line;
      std::string buf = Next().value;
      while (AtType(TokenType::kString)) buf += Next().value;
      return ExprPtr(std::make_unique<ast::Const>(line, Value::String(std::move(buf))));
    }
    if (t.type == TokenType::kInteger) {
      Next();
      return ExprPtr(std::make_unique<ast::Const>(t.line, Value::Int(t.int_value)));
    }
    if (t.type == TokenType::kFloat) {
      Next();
      return ExprPtr(std::make_unique<ast::Const>(t.line, Value::Float(t.float_value)));
    }
    if (AtOp("(")) {
      Next();
      CCG_ASSIGN_OR_RETURN(ExprPtr e, ParseTuple(false, true, {}, true, false));
      CCG_RETURN_IF_ERROR(ExpectOk(Want::Op(")")));
      return e;
    }
    if (AtOp("[")) return ParseList();
    if (AtOp("{")) return ParseDict();
    if (t.type == TokenType::kEof) return Fail(t, "unexpected end of template");
    return Fail(t, "unexpected '" + DescribeToken(t) + "'");
  }

  bool IsTupleEnd(const std::vector<Want>& extra) const {
    if (AtType(TokenType::kVariableEnd) || AtType(TokenType::kBlockEnd) || AtOp(")")) {
      return true;
    }
    return AtAny(extra);
  }

  Result<ExprPtr> ParseTuple(bool simplified, bool with_condexpr, const std::vector<Want>& extra,
                             bool explicit_parens, bool with_namespace) {
    Depth d(this);
    CCG_RETURN_IF_ERROR(CheckDepth());
    int line = Cur().line;
    std::vector<ExprPtr> args;
    bool is_tuple = false;
    while (true) {
      if (!args.empty()) CCG_RETURN_IF_ERROR(ExpectOk(Want::Op(",")));
      if (IsTupleEnd(extra)) break;
      ExprPtr e;
      if (simplified) {
        CCG_ASSIGN_OR_RETURN(e, ParsePrimary(with_namespace));
      } else {
        CCG_ASSIGN_OR_RETURN(e, ParseExpression(with_condexpr));
      }
      args.push_back(std::move(e));
      if (AtOp(",")) {
        is_tuple = true;
      } else {
        break;
      }
      line = Cur().line;
    }
    if (!is_tuple) {
      if (!args.empty()) return std::move(args[0]);
      if (!explicit_parens) {
        if (AtType(TokenType::kEof)) return Fail(Cur(), "unexpected end of template");
        return Fail(Cur(), "Expected an expression, got '" + DescribeToken(Cur()) + "'");
      }
    }
    auto tuple = std::make_unique<ast::Seq>(ExprKind::kTuple, line);
    tuple->items = std::move(args);
    return Fin(std::move(tuple));
  }

  Result<ExprPtr> ParseList() {
    CCG_ASSIGN_OR_RETURN(Token open, Expect(Want::Op("[")));
    auto node = std::make_unique<ast::Seq>(ExprKind::kList, open.line);
    while (!AtOp("]")) {
      if (!node->items.empty()) CCG_RETURN_IF_ERROR(ExpectOk(Want::Op(",")));
      if (AtOp("]")) break;
      CCG_ASSIGN_OR_RETURN(ExprPtr e, ParseExpression(true));
      node->items.push_back(std::move(e));
    }
    CCG_RETURN_IF_ERROR(ExpectOk(Want::Op("]")));
    return Fin(std::move(node));
  }

  Result<ExprPtr> ParseDict() {
    CCG_ASSIGN_OR_RETURN(Token open, Expect(Want::Op("{")));
    auto node = std::make_unique<ast::DictLit>(open.line);
    while (!AtOp("}")) {
      if (!node->items.empty()) CCG_RETURN_IF_ERROR(ExpectOk(Want::Op(",")));
      if (AtOp("}")) break;
      CCG_ASSIGN_OR_RETURN(ExprPtr k, ParseExpression(true));
      CCG_RETURN_IF_ERROR(ExpectOk(Want::Op(":")));
      CCG_ASSIGN_OR_RETURN(ExprPtr v, ParseExpression(true));
      node->items.emplace_back(std::move(k), std::move(v));
    }
    CCG_RETURN_IF_ERROR(ExpectOk(Want::Op("}")));
    return Fin(std::move(node));
  }

  Result<ExprPtr> ParsePostfix(ExprPtr node) {
    while (true) {
      if (AtOp(".") || AtOp("[")) {
        CCG_ASSIGN_OR_RETURN(node, ParseSubscript(std::move(node)));
      } else if (AtOp("(")) {
        CCG_ASSIGN_OR_RETURN(node, ParseCall(std::move(node)));
      } else {
        break;
      }
    }
    return node;
  }

  Result<ExprPtr> ParseFilterExpr(ExprPtr node) {
    while (true) {
      if (AtOp("|")) {
        CCG_ASSIGN_OR_RETURN(node, ParseFilter(std::move(node), false));
      } else if (AtName("is")) {
        CCG_ASSIGN_OR_RETURN(node, ParseTest(std::move(node)));
      } else if (AtOp("(")) {
        CCG_ASSIGN_OR_RETURN(node, ParseCall(std::move(node)));
      } else {
        break;
      }
    }
    return node;
  }

  Result<ExprPtr> ParseSubscript(ExprPtr node) {
    const Token& t = Next();
    if (t.value == ".") {
      const Token& attr = Cur();
      Next();
      if (attr.type == TokenType::kName) {
        return Fin(std::make_unique<ast::Getattr>(t.line, std::move(node), attr.value));
      }
      if (attr.type != TokenType::kInteger) return Fail(attr, "expected name or number");
      auto idx = std::make_unique<ast::Const>(attr.line, Value::Int(attr.int_value));
      return Fin(std::make_unique<ast::Getitem>(t.line, std::move(node), std::move(idx)));
    }
    // '['
    std::vector<ExprPtr> args;
    while (!AtOp("]")) {
      if (!args.empty()) CCG_RETURN_IF_ERROR(ExpectOk(Want::Op(",")));
      CCG_ASSIGN_OR_RETURN(ExprPtr a, ParseSubscribed());
      args.push_back(std::move(a));
      if (AtType(TokenType::kEof)) break;
    }
    CCG_RETURN_IF_ERROR(ExpectOk(Want::Op("]")));
    ExprPtr arg;
    if (args.size() == 1) {
      arg = std::move(args[0]);
    } else {
      auto tuple = std::make_unique<ast::Seq>(ExprKind::kTuple, t.line);
      tuple->items = std::move(args);
      CCG_ASSIGN_OR_RETURN(arg, Fin(std::move(tuple)));
    }
    return Fin(std::make_unique<ast::Getitem>(t.line, std::move(node), std::move(arg)));
  }

  Result<ExprPtr> ParseSubscribed() {
    int line = Cur().line;
    auto slice = std::make_unique<ast::Slice>(line);
    if (AtOp(":")) {
      Next();
    } else {
      CCG_ASSIGN_OR_RETURN(ExprPtr e, ParseExpression(true));
      if (!AtOp(":")) return e;
      Next();
      slice->start = std::move(e);
    }
    if (!AtOp(":") && !AtOp("]") && !AtOp(",")) {
      CCG_ASSIGN_OR_RETURN(slice->stop, ParseExpression(true));
    }
    if (AtOp(":")) {
      Next();
      if (!AtOp("]") && !AtOp(",")) {
        CCG_ASSIGN_OR_RETURN(slice->step, ParseExpression(true));
      }
    }
    return Fin(std::move(slice));
  }

  Status ParseCallArgs(ast::Args* out) {
    CCG_ASSIGN_OR_RETURN(Token open, Expect(Want::Op("(")));
    bool require_comma = false;
    auto ensure = [&](bool ok) {
      return ok ? Status::Ok() : Fail(open, "invalid syntax for function call expression");
    };
    while (!AtOp(")")) {
      if (require_comma) {
        CCG_RETURN_IF_ERROR(ExpectOk(Want::Op(",")));
        if (AtOp(")")) break;
      }
      if (AtOp("*")) {
        CCG_RETURN_IF_ERROR(ensure(!out->dyn_args && !out->dyn_kwargs));
        Next();
        CCG_ASSIGN_OR_RETURN(out->dyn_args, ParseExpression(true));
      } else if (AtOp("**")) {
        CCG_RETURN_IF_ERROR(ensure(!out->dyn_kwargs));
        Next();
        CCG_ASSIGN_OR_RETURN(out->dyn_kwargs, ParseExpression(true));
      } else if (AtType(TokenType::kName) && Look().type == TokenType::kOperator &&
                 Look().value == "=") {
        CCG_RETURN_IF_ERROR(ensure(!out->dyn_kwargs));
        std::string key = Next().value;
        Next();
        CCG_ASSIGN_OR_RETURN(ExprPtr v, ParseExpression(true));
        out->kwargs.push_back({std::move(key), std::move(v)});
      } else {
        CCG_RETURN_IF_ERROR(ensure(!out->dyn_args && !out->dyn_kwargs && out->kwargs.empty()));
        CCG_ASSIGN_OR_RETURN(ExprPtr v, ParseExpression(true));
        out->args.push_back(std::move(v));
      }
      require_comma = true;
      if (AtType(TokenType::kEof)) break;
    }
    return ExpectOk(Want::Op(")"));
  }

  Result<ExprPtr> ParseCall(ExprPtr node) {
    int line = Cur().line;
    auto call = std::make_unique<ast::Call>(line, std::move(node));
    CCG_RETURN_IF_ERROR(ParseCallArgs(&call->args));
    return Fin(std::move(call));
  }

  Result<ExprPtr> ParseFilter(ExprPtr node, bool start_inline) {
    while (AtOp("|") || start_inline) {
      if (!start_inline) Next();
      CCG_ASSIGN_OR_RETURN(Token t, Expect(Want::Type(TokenType::kName)));
      std::string name = t.value;
      while (AtOp(".")) {
        Next();
        CCG_ASSIGN_OR_RETURN(Token part, Expect(Want::Type(TokenType::kName)));
        name += "." + part.value;
      }
      auto f = std::make_unique<ast::Filter>(t.line, std::move(node), name);
      if (AtOp("(")) CCG_RETURN_IF_ERROR(ParseCallArgs(&f->args));
      CCG_ASSIGN_OR_RETURN(node, Fin(std::move(f)));
      start_inline = false;
    }
    return node;
  }

  Result<ExprPtr> ParseTest(ExprPtr node) {
    const Token& is = Next();
    bool negated = SkipName("not");
    CCG_ASSIGN_OR_RETURN(Token t, Expect(Want::Type(TokenType::kName)));
    std::string name = t.value;
    while (AtOp(".")) {
      Next();
      CCG_ASSIGN_OR_RETURN(Token part, Expect(Want::Type(TokenType::kName)));
      name += "." + part.value;
    }
    auto test = std::make_unique<ast::Test>(is.line, std::move(node), name);
    const Token& c = Cur();
    bool arg_start = c.type == TokenType::kName || c.type == TokenType::kString ||
                     c.type == TokenType::kInteger || c.type == TokenType::kFloat || AtOp("(") ||
                     AtOp("[") || AtOp("{");
    if (AtOp("(")) {
      CCG_RETURN_IF_ERROR(ParseCallArgs(&test->args));
    } else if (arg_start && !AtName("else") && !AtName("or") && !AtName("and")) {
      if (AtName("is")) return Fail(c, "You cannot chain multiple tests with is");
      CCG_ASSIGN_OR_RETURN(ExprPtr arg, ParsePrimary(false));
      CCG_ASSIGN_OR_RETURN(arg, ParsePostfix(std::move(arg)));
      test->args.args.push_back(std::move(arg));
    }
    CCG_ASSIGN_OR_RETURN(ExprPtr node_out, Fin(std::move(test)));
    if (negated) {
      return Fin(std::make_unique<ast::Unary>(ExprKind::kNot, is.line, std::move(node_out)));
    }
    return node_out;
  }

  std::string_view src_;
  const std::vector<Token>& toks_;
  size_t pos_ = 0;
  int depth_ = 0;
  int max_depth_;
  int loop_depth_ = 0;
  std::vector<std::vector<Want>> end_stack_;
  std::vector<std::string> tag_stack_;
  std::vector<std::string> names_;  // every Name parsed, in order (for usage scans)
};

}  // namespace

Result<std::unique_ptr<ast::Program>> ParseTokens(std::string_view source,
                                                  const std::vector<Token>& tokens, int max_depth) {
  if (tokens.empty() || tokens.back().type != TokenType::kEof) {
    return Status::Internal("token stream must end with EOF");
  }
  return Parser(source, tokens, max_depth).Run();
}

}  // namespace ccguard::jinja

#include "jinja/interpreter.h"

#include <algorithm>
#include <exception>
#include <new>
#include <optional>
#include <utility>
#include <vector>

#include "jinja/access.h"
#include "jinja/filters.h"
#include "jinja/globals.h"
#include "jinja/operators.h"
#include "jinja/predicates.h"
#include "jinja/runtime.h"

namespace ccguard::jinja {

namespace {

constexpr uint32_t kMaxValueDepth = 1000;

using ast::ExprKind;
using ast::StmtKind;

struct Scope {
  explicit Scope(std::shared_ptr<Scope> p) : parent(std::move(p)) {}
  Value* FindLocal(std::string_view name) {
    for (auto& [k, v] : vars) {
      if (k == name) return &v;
    }
    return nullptr;
  }
  void Set(std::string_view name, Value v) {
    if (Value* p = FindLocal(name)) {
      *p = std::move(v);
    } else {
      vars.emplace_back(std::string(name), std::move(v));
    }
  }
  std::shared_ptr<Scope> parent;
  std::vector<std::pair<std::string, Value>> vars;
};

enum class Flow { kNormal, kBreak, kContinue };

class Renderer : public Runtime, public std::enable_shared_from_this<Renderer> {
 public:
  Renderer(std::shared_ptr<const ast::Program> program, const Options& o, Value context)
      : program_(std::move(program)), o_(o), context_(std::move(context)) {
    size_t base = std::max<size_t>(o.max_output_bytes, 1 << 20);
    work_budget_ = base > SIZE_MAX / 16 ? SIZE_MAX : base * 16;
    max_runtime_depth_ = std::max(o.max_depth, 16) * 3;
  }

  ~Renderer() override {
    // Namespaces may reference themselves (ns.x = ns); empty them to break such cycles.
    for (Value& ns : namespaces_) ns.namespace_value() = Dict();
  }

  Result<std::string> Run() {
    if (!context_.is_dict() && !context_.is_undefined() && !context_.is_none()) {
      return Status::InvalidArgument("the render context must be a dict");
    }
    scope_ = std::make_shared<Scope>(nullptr);
    std::string out;
    out_ = &out;
    Flow flow;
    CCG_RETURN_IF_ERROR(Exec(program_->body, &flow));
    return out;
  }

  // ---- Runtime ----

  Result<Value> CallFilter(std::string_view name, const Value& value,
                           const CallArgs& args) override {
    FilterFn fn = FindFilter(name);
    if (!fn) return Status::InvalidArgument("No filter named '" + std::string(name) + "'.");
    return fn(*this, value, args);
  }

  Result<bool> CallTest(std::string_view name, const Value& value, const CallArgs& args) override {
    TestFn fn = FindTest(name);
    if (!fn) return Status::InvalidArgument("No test named '" + std::string(name) + "'.");
    return fn(*this, value, args);
  }

  Status Charge(size_t units) override {
    work_ += units;
    if (work_ > work_budget_) {
      return Status::ResourceExhausted("render work limit exceeded (" +
                                       std::to_string(work_budget_) + " units)");
    }
    return Status::Ok();
  }

  size_t MaxSize() const override { return o_.max_output_bytes; }

 private:
  struct DepthGuard {
    explicit DepthGuard(Renderer* r) : r(r) { ++r->depth_; }
    ~DepthGuard() { --r->depth_; }
    Renderer* r;
  };

  [[gnu::noinline]] Status Locate(int line, Status st) {
    if (located_ || st.ok()) return st;
    located_ = true;
    return st.WithContext("line " + std::to_string(line));
  }

  Status CheckDepth() const {
    if (depth_ > max_runtime_depth_) {
      return Status::ResourceExhausted("recursion depth limit of " +
                                       std::to_string(max_runtime_depth_) + " exceeded");
    }
    return Status::Ok();
  }

  Status CountIteration() {
    if (++iterations_ > o_.max_loop_iterations) {
      return Status::ResourceExhausted("loop iteration limit of " +
                                       std::to_string(o_.max_loop_iterations) +
                                       " exceeded (loop iterations and macro calls)");
    }
    return Status::Ok();
  }

  Status Emit(std::string_view s) {
    if (out_->size() + s.size() > o_.max_output_bytes) {
      return Status::ResourceExhausted("output exceeds the limit of " +
                                       std::to_string(o_.max_output_bytes) + " bytes");
    }
    CCG_RETURN_IF_ERROR(Charge(s.size()));
    out_->append(s);
    return Status::Ok();
  }

  // Bounds a value built by an operation (size, nesting) and charges it as work.
  Result<Value> Produced(Value v) {
    if (v.is_string()) {
      if (v.string_value().size() > o_.max_output_bytes) {
        return Status::ResourceExhausted("string exceeds the limit of " +
                                         std::to_string(o_.max_output_bytes) + " bytes");
      }
      CCG_RETURN_IF_ERROR(Charge(v.string_value().size()));
    } else if (v.is_list() || v.is_dict()) {
      if (v.depth() > kMaxValueDepth) {
        return Status::ResourceExhausted("data nesting exceeds " + std::to_string(kMaxValueDepth) +
                                         " levels");
      }
      size_t n = v.is_list() ? v.list_value().size() : v.dict_value().size();
      CCG_RETURN_IF_ERROR(Charge(n));
    }
    return v;
  }

  // ---- names ----

  Value Lookup(std::string_view name) {
    for (Scope* s = scope_.get(); s; s = s->parent.get()) {
      if (Value* v = s->FindLocal(name)) return *v;
    }
    if (context_.is_dict()) {
      if (const Value* v = context_.dict_value().Find(name)) return *v;
    }
    if (name == "namespace") return NamespaceFunction();
    if (std::optional<Value> g = FindGlobal(name)) return *g;
    return Value::Undefined(StringRepr(name) + " is undefined");
  }

  Value NamespaceFunction() {
    if (namespace_fn_.is_undefined()) {
      std::weak_ptr<Renderer> self = weak_from_this();
      namespace_fn_ = Value::Function("namespace", [self](const CallArgs& a) -> Result<Value> {
        CCG_ASSIGN_OR_RETURN(Dict d, DictFromArgs(a));
        if (d.depth() > kMaxValueDepth) {
          return Status::ResourceExhausted("data nesting too deep");
        }
        Value ns = Value::NewNamespace(std::move(d));
        if (auto r = self.lock()) r->namespaces_.push_back(ns);
        return ns;
      });
    }
    return namespace_fn_;
  }

  Status Assign(const ast::Expr& target, const Value& value) {
    switch (target.kind) {
      case ExprKind::kName:
        scope_->Set(static_cast<const ast::Name&>(target).name, value);
        return Status::Ok();
      case ExprKind::kTuple: {
        const auto& names = static_cast<const ast::Seq&>(target).items;
        CCG_ASSIGN_OR_RETURN(std::vector<Value> items, Unpack(value, names.size()));
        for (size_t i = 0; i < names.size(); ++i) CCG_RETURN_IF_ERROR(Assign(*names[i], items[i]));
        return Status::Ok();
      }
      case ExprKind::kNSRef: {
        const auto& ref = static_cast<const ast::NSRef&>(target);
        Value ns = Lookup(ref.name);
        if (!ns.is_namespace()) {
          return Status::InvalidArgument("cannot assign attribute on non-namespace object");
        }
        if (value.depth() + 1 > kMaxValueDepth) {
          return Status::ResourceExhausted("data nesting too deep");
        }
        ns.namespace_value().Set(ref.attr, value);
        return Status::Ok();
      }
      default:
        return Status::Internal("bad assignment target");
    }
  }

  static Result<std::vector<Value>> Unpack(const Value& value, size_t n) {
    if (!value.is_list() && !value.is_string() && !value.is_dict()) {
      return Status::InvalidArgument(std::string("cannot unpack non-iterable ") + value.TypeName() +
                                     " object");
    }
    CCG_ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(value));
    if (items.size() > n) {
      return Status::InvalidArgument("too many values to unpack (expected " + std::to_string(n) +
                                     ")");
    }
    if (items.size() < n) {
      return Status::InvalidArgument("not enough values to unpack (expected " + std::to_string(n) +
                                     ", got " + std::to_string(items.size()) + ")");
    }
    return items;
  }

  // ---- statements ----

  Status Exec(const ast::Body& body, Flow* flow) {
    *flow = Flow::kNormal;
    for (const auto& s : body) {
      CCG_RETURN_IF_ERROR(ExecStmt(*s, flow));
      if (*flow != Flow::kNormal) return Status::Ok();
    }
    return Status::Ok();
  }

  Status ExecStmt(const ast::Stmt& s, Flow* flow) {
    DepthGuard g(this);
    Status st = CheckDepth();
    if (st.ok()) st = ExecStmtImpl(s, flow);
    return Locate(s.line, std::move(st));
  }

  Status ExecStmtImpl(const ast::Stmt& s, Flow* flow) {
    switch (s.kind) {
      case StmtKind::kData:
        return Emit(static_cast<const ast::Data&>(s).text);
      case StmtKind::kPrint:
        return ExecPrint(static_cast<const ast::Print&>(s));
      case StmtKind::kIf:
        return ExecIf(static_cast<const ast::If&>(s), flow);
      case StmtKind::kFor:
        return ExecFor(static_cast<const ast::For&>(s), flow);
      case StmtKind::kSet:
        return ExecSet(static_cast<const ast::Set&>(s));
      case StmtKind::kSetBlock:
        return ExecSetBlock(static_cast<const ast::SetBlock&>(s));
      case StmtKind::kMacro: {
        const auto& def = static_cast<const ast::Macro&>(s).def;
        scope_->Set(def.name, MakeMacro(def));
        return Status::Ok();
      }
      case StmtKind::kCallBlock:
        return ExecCallBlock(static_cast<const ast::CallBlock&>(s));
      case StmtKind::kFilterBlock:
        return ExecFilterBlock(static_cast<const ast::FilterBlock&>(s));
      case StmtKind::kWith:
        return ExecWith(static_cast<const ast::With&>(s), flow);
      case StmtKind::kBreak:
        *flow = Flow::kBreak;
        return Status::Ok();
      case StmtKind::kContinue:
        *flow = Flow::kContinue;
        return Status::Ok();
      case StmtKind::kInline:
        return Exec(static_cast<const ast::Inline&>(s).body, flow);
    }
    return Status::Internal("unknown statement");
  }

  [[gnu::noinline]] Status ExecPrint(const ast::Print& node) {
    CCG_ASSIGN_OR_RETURN(Value v, Eval(*node.expr));
    if (v.is_string()) return Emit(v.string_value());
    return Emit(v.Str());
  }

  [[gnu::noinline]] Status ExecIf(const ast::If& node, Flow* flow) {
    for (const auto& [test, body] : node.branches) {
      CCG_ASSIGN_OR_RETURN(Value t, Eval(*test));
      if (t.Truthy()) return Exec(body, flow);
    }
    return Exec(node.else_body, flow);
  }

  [[gnu::noinline]] Status ExecSet(const ast::Set& node) {
    CCG_ASSIGN_OR_RETURN(Value v, Eval(*node.value));
    return Assign(*node.target, v);
  }

  [[gnu::noinline]] Status ExecSetBlock(const ast::SetBlock& node) {
    CCG_ASSIGN_OR_RETURN(std::string text, Capture(node.body));
    Value v = Value::String(std::move(text));
    if (node.filter) {
      CCG_ASSIGN_OR_RETURN(v, EvalWithInput(*node.filter, v));
    }
    return Assign(*node.target, v);
  }

  [[gnu::noinline]] Status ExecCallBlock(const ast::CallBlock& node) {
    const auto& call = static_cast<const ast::Call&>(*node.call);
    CCG_ASSIGN_OR_RETURN(Value callee, Eval(*call.callee));
    CCG_ASSIGN_OR_RETURN(CallArgs args, EvalArgs(call.args));
    args.kwargs.emplace_back("caller", MakeMacro(node.caller));
    CCG_ASSIGN_OR_RETURN(Value v, Invoke(callee, args));
    return Emit(v.Str());
  }

  [[gnu::noinline]] Status ExecFilterBlock(const ast::FilterBlock& node) {
    CCG_ASSIGN_OR_RETURN(std::string text, Capture(node.body));
    CCG_ASSIGN_OR_RETURN(Value v, EvalWithInput(*node.filter, Value::String(std::move(text))));
    return Emit(v.Str());
  }

  [[gnu::noinline]] Status ExecWith(const ast::With& node, Flow* flow) {
    std::vector<Value> values;
    for (const auto& e : node.values) {
      CCG_ASSIGN_OR_RETURN(Value v, Eval(*e));
      values.push_back(std::move(v));
    }
    auto saved = scope_;
    scope_ = std::make_shared<Scope>(saved);
    Status st;
    for (size_t i = 0; i < values.size() && st.ok(); ++i) st = Assign(*node.targets[i], values[i]);
    if (st.ok()) st = Exec(node.body, flow);
    scope_ = saved;
    return st;
  }

  // Renders `body` in a child scope into a string.
  Result<std::string> Capture(const ast::Body& body) {
    std::string buf;
    std::string* saved_out = out_;
    auto saved_scope = scope_;
    out_ = &buf;
    scope_ = std::make_shared<Scope>(saved_scope);
    Flow flow;
    Status st = Exec(body, &flow);
    out_ = saved_out;
    scope_ = saved_scope;
    CCG_RETURN_IF_ERROR(st);
    if (flow != Flow::kNormal) {
      return Status::NotSupported("break/continue inside a set or filter block");
    }
    return buf;
  }

  Result<Value> EvalWithInput(const ast::Expr& filter, const Value& input) {
    const Value* saved = block_input_;
    block_input_ = &input;
    auto r = Eval(filter);
    block_input_ = saved;
    return r;
  }

  Value MakeLoop(const std::vector<Value>& items, size_t i,
                 const std::shared_ptr<std::optional<Value>>& changed_state) {
    int64_t n = static_cast<int64_t>(items.size()), k = static_cast<int64_t>(i);
    Dict d;
    d.Set("index", Value::Int(k + 1));
    d.Set("index0", Value::Int(k));
    d.Set("revindex", Value::Int(n - k));
    d.Set("revindex0", Value::Int(n - k - 1));
    d.Set("first", Value::Bool(k == 0));
    d.Set("last", Value::Bool(k == n - 1));
    d.Set("length", Value::Int(n));
    d.Set("depth", Value::Int(1));
    d.Set("depth0", Value::Int(0));
    if (k > 0) d.Set("previtem", items[i - 1]);
    if (k + 1 < n) d.Set("nextitem", items[i + 1]);
    d.Set("cycle", Value::Function("cycle", [k](const CallArgs& a) -> Result<Value> {
            if (a.args.empty()) return Status::InvalidArgument("no items for cycling given");
            return a.args[static_cast<size_t>(k) % a.args.size()];
          }));
    d.Set("changed",
          Value::Function("changed", [changed_state](const CallArgs& a) -> Result<Value> {
            Value now = Value::Tuple(a.args);
            if (*changed_state && (*changed_state)->Equals(now)) return Value::Bool(false);
            *changed_state = now;
            return Value::Bool(true);
          }));
    return Value::FromDict(std::move(d));
  }

  [[gnu::noinline]] Status ExecFor(const ast::For& node, Flow* flow) {
    CCG_ASSIGN_OR_RETURN(Value iterable, Eval(*node.iter));
    CCG_ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(iterable));
    CCG_RETURN_IF_ERROR(Charge(items.size()));
    auto outer = scope_;
    if (node.filter) {
      std::vector<Value> kept;
      for (Value& item : items) {
        CCG_RETURN_IF_ERROR(CountIteration());
        scope_ = std::make_shared<Scope>(outer);
        Status st = Assign(*node.target, item);
        Result<Value> keep = st.ok() ? Eval(*node.filter) : Result<Value>(st);
        scope_ = outer;
        if (!keep.ok()) return keep.status();
        if (keep->Truthy()) kept.push_back(std::move(item));
      }
      items = std::move(kept);
    }
    *flow = Flow::kNormal;
    if (items.empty()) {
      scope_ = std::make_shared<Scope>(outer);
      Status st = Exec(node.else_body, flow);
      scope_ = outer;
      return st;
    }
    std::shared_ptr<std::optional<Value>> changed_state;
    if (node.uses_loop) changed_state = std::make_shared<std::optional<Value>>();
    for (size_t i = 0; i < items.size(); ++i) {
      CCG_RETURN_IF_ERROR(CountIteration());
      scope_ = std::make_shared<Scope>(outer);
      Status st = Assign(*node.target, items[i]);
      if (st.ok() && node.uses_loop) scope_->Set("loop", MakeLoop(items, i, changed_state));
      Flow inner = Flow::kNormal;
      if (st.ok()) st = Exec(node.body, &inner);
      scope_ = outer;
      CCG_RETURN_IF_ERROR(st);
      if (inner == Flow::kBreak) break;
    }
    return Status::Ok();
  }

  // ---- macros ----

  Value MakeMacro(const ast::MacroDef& def) {
    captured_scopes_.push_back(scope_);
    std::weak_ptr<Renderer> self = weak_from_this();
    std::weak_ptr<Scope> closure = scope_;
    const ast::MacroDef* d = &def;
    return Value::Function(def.name, [self, closure, d](const CallArgs& args) -> Result<Value> {
      auto r = self.lock();
      auto s = closure.lock();
      if (!r || !s) {
        return Status::InvalidArgument("macro '" + d->name +
                                       "' called after its template finished rendering");
      }
      return r->CallMacro(*d, s, args);
    });
  }

  Result<Value> CallMacro(const ast::MacroDef& def, const std::shared_ptr<Scope>& closure,
                          const CallArgs& args) {
    DepthGuard g(this);
    CCG_RETURN_IF_ERROR(CheckDepth());
    CCG_RETURN_IF_ERROR(CountIteration());
    const std::string quoted = StringRepr(def.name);
    auto scope = std::make_shared<Scope>(closure);
    size_t n = def.params.size();
    size_t off = std::min(n, args.args.size());
    std::vector<std::pair<std::string, Value>> kwargs = args.kwargs;
    std::vector<bool> given(n, false);
    for (size_t i = 0; i < off; ++i) {
      scope->Set(def.params[i], args.args[i]);
      given[i] = true;
    }
    auto pop_kwarg = [&kwargs](std::string_view name, Value* out) {
      for (auto it = kwargs.begin(); it != kwargs.end(); ++it) {
        if (it->first == name) {
          *out = std::move(it->second);
          kwargs.erase(it);
          return true;
        }
      }
      return false;
    };
    for (size_t i = off; i < n; ++i) {
      Value v;
      if (pop_kwarg(def.params[i], &v)) {
        scope->Set(def.params[i], std::move(v));
        given[i] = true;
      }
    }
    if (def.uses_caller) {
      Value caller;
      if (!pop_kwarg("caller", &caller)) caller = Value::Undefined("No caller defined");
      scope->Set("caller", std::move(caller));
    }
    if (def.uses_kwargs) {
      Dict d;
      for (auto& [k, v] : kwargs) d.Set(k, v);
      scope->Set("kwargs", Value::FromDict(std::move(d)));
    } else if (!kwargs.empty()) {
      for (const auto& kw : kwargs) {
        if (kw.first == "caller") {
          return Status::InvalidArgument("macro " + quoted +
                                         " was invoked with two values for the special caller "
                                         "argument. This is most likely a bug.");
        }
      }
      return Status::InvalidArgument("macro " + quoted + " takes no keyword argument " +
                                     StringRepr(kwargs.front().first));
    }
    if (def.uses_varargs) {
      std::vector<Value> rest;
      for (size_t i = n; i < args.args.size(); ++i) rest.push_back(args.args[i]);
      scope->Set("varargs", Value::Tuple(std::move(rest)));
    } else if (args.args.size() > n) {
      return Status::InvalidArgument("macro " + quoted + " takes not more than " +
                                     std::to_string(n) + " argument(s)");
    }
    // Defaults are evaluated in the macro's scope, after the given arguments are bound.
    auto saved_scope = scope_;
    std::string* saved_out = out_;
    scope_ = scope;
    Status st;
    size_t first_default = n - def.defaults.size();
    for (size_t i = 0; i < n && st.ok(); ++i) {
      if (given[i]) continue;
      if (i >= first_default) {
        auto r = Eval(*def.defaults[i - first_default]);
        if (r.ok()) {
          scope->Set(def.params[i], std::move(r).value());
        } else {
          st = r.status();
        }
      } else {
        scope->Set(def.params[i], Value::Undefined("parameter " + StringRepr(def.params[i]) +
                                                   " was not provided"));
      }
    }
    std::string buf;
    out_ = &buf;
    Flow flow;
    if (st.ok()) st = Exec(def.body, &flow);
    scope_ = saved_scope;
    out_ = saved_out;
    CCG_RETURN_IF_ERROR(st);
    return Value::String(std::move(buf));
  }

  // ---- expressions ----

  Result<Value> Eval(const ast::Expr& e) {
    DepthGuard g(this);
    Status st = CheckDepth();
    if (!st.ok()) return Locate(e.line, st);
    Result<Value> r = EvalImpl(e);
    if (!r.ok()) return Locate(e.line, r.status());
    return r;
  }

  Result<CallArgs> EvalArgs(const ast::Args& a) {
    CallArgs out;
    for (const auto& x : a.args) {
      CCG_ASSIGN_OR_RETURN(Value v, Eval(*x));
      out.args.push_back(std::move(v));
    }
    if (a.dyn_args) {
      CCG_ASSIGN_OR_RETURN(Value v, Eval(*a.dyn_args));
      CCG_ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(v));
      CCG_RETURN_IF_ERROR(Charge(items.size()));
      out.args.insert(out.args.end(), items.begin(), items.end());
    }
    for (const auto& kw : a.kwargs) {
      CCG_ASSIGN_OR_RETURN(Value v, Eval(*kw.value));
      out.kwargs.emplace_back(kw.name, std::move(v));
    }
    if (a.dyn_kwargs) {
      CCG_ASSIGN_OR_RETURN(Value v, Eval(*a.dyn_kwargs));
      if (!v.is_dict()) {
        return Status::InvalidArgument(std::string("argument after ** must be a mapping, not ") +
                                       v.TypeName());
      }
      for (const auto& [k, x] : v.dict_value().entries()) out.kwargs.emplace_back(k, x);
    }
    return out;
  }

  Result<Value> Invoke(const Value& callee, const CallArgs& args) {
    if (callee.is_undefined()) return Status::InvalidArgument(callee.UndefinedMessage());
    if (!callee.is_callable()) {
      return Status::InvalidArgument(std::string("'") + callee.TypeName() +
                                     "' object is not callable");
    }
    CCG_ASSIGN_OR_RETURN(Value v, callee.Call(args));
    return Produced(std::move(v));
  }

  // Each kind is evaluated in its own function so that the recursive path through
  // Eval/EvalImpl keeps small stack frames (deep templates recurse through it).
  Result<Value> EvalImpl(const ast::Expr& e) {
    switch (e.kind) {
      case ExprKind::kConst:
        return static_cast<const ast::Const&>(e).value;
      case ExprKind::kName:
        return Lookup(static_cast<const ast::Name&>(e).name);
      case ExprKind::kList:
      case ExprKind::kTuple:
        return EvalSeq(static_cast<const ast::Seq&>(e));
      case ExprKind::kDict:
        return EvalDict(static_cast<const ast::DictLit&>(e));
      case ExprKind::kGetattr:
        return EvalGetattr(static_cast<const ast::Getattr&>(e));
      case ExprKind::kGetitem:
        return EvalGetitem(static_cast<const ast::Getitem&>(e));
      case ExprKind::kSlice:
        return Status::InvalidArgument("slice outside of a subscript");
      case ExprKind::kCall:
        return EvalCall(static_cast<const ast::Call&>(e));
      case ExprKind::kFilter:
        return EvalFilter(static_cast<const ast::Filter&>(e));
      case ExprKind::kTest:
        return EvalTest(static_cast<const ast::Test&>(e));
      case ExprKind::kNot:
      case ExprKind::kNeg:
      case ExprKind::kPos:
        return EvalUnary(static_cast<const ast::Unary&>(e));
      case ExprKind::kBinary:
        return EvalBinary(static_cast<const ast::Binary&>(e));
      case ExprKind::kAnd:
      case ExprKind::kOr:
        return EvalLogical(static_cast<const ast::Binary&>(e));
      case ExprKind::kConcat:
        return EvalConcat(static_cast<const ast::Concat&>(e));
      case ExprKind::kCompare:
        return EvalCompare(static_cast<const ast::Compare&>(e));
      case ExprKind::kCondExpr:
        return EvalCondExpr(static_cast<const ast::CondExpr&>(e));
      case ExprKind::kNSRef:
        return Status::InvalidArgument("namespace reference used as a value");
    }
    return Status::Internal("unknown expression");
  }

  [[gnu::noinline]] Result<Value> EvalSeq(const ast::Seq& node) {
    std::vector<Value> items;
    items.reserve(node.items.size());
    for (const auto& x : node.items) {
      CCG_ASSIGN_OR_RETURN(Value v, Eval(*x));
      items.push_back(std::move(v));
    }
    return Produced(node.kind == ExprKind::kList ? Value::List(std::move(items))
                                                 : Value::Tuple(std::move(items)));
  }

  [[gnu::noinline]] Result<Value> EvalDict(const ast::DictLit& node) {
    Dict d;
    for (const auto& [k, v] : node.items) {
      CCG_ASSIGN_OR_RETURN(Value key, Eval(*k));
      CCG_ASSIGN_OR_RETURN(Value val, Eval(*v));
      if (!key.is_string()) {
        return Status::NotSupported(std::string("dict keys must be strings, not ") +
                                    key.TypeName());
      }
      d.Set(key.string_value(), std::move(val));
    }
    return Produced(Value::FromDict(std::move(d)));
  }

  [[gnu::noinline]] Result<Value> EvalGetattr(const ast::Getattr& node) {
    CCG_ASSIGN_OR_RETURN(Value obj, Eval(*node.obj));
    return GetAttr(obj, node.attr);
  }

  [[gnu::noinline]] Result<Value> EvalGetitem(const ast::Getitem& node) {
    CCG_ASSIGN_OR_RETURN(Value obj, Eval(*node.obj));
    if (node.index->kind == ExprKind::kSlice) {
      const auto& sl = static_cast<const ast::Slice&>(*node.index);
      Value parts[3];
      const ast::ExprPtr* exprs[3] = {&sl.start, &sl.stop, &sl.step};
      for (int i = 0; i < 3; ++i) {
        if (*exprs[i]) {
          CCG_ASSIGN_OR_RETURN(parts[i], Eval(**exprs[i]));
        }
      }
      CCG_ASSIGN_OR_RETURN(
          Value v, GetSlice(obj, sl.start ? &parts[0] : nullptr, sl.stop ? &parts[1] : nullptr,
                            sl.step ? &parts[2] : nullptr));
      return Produced(std::move(v));
    }
    CCG_ASSIGN_OR_RETURN(Value key, Eval(*node.index));
    return GetItem(obj, key);
  }

  [[gnu::noinline]] Result<Value> EvalCall(const ast::Call& node) {
    CCG_ASSIGN_OR_RETURN(Value callee, Eval(*node.callee));
    CCG_ASSIGN_OR_RETURN(CallArgs args, EvalArgs(node.args));
    return Invoke(callee, args);
  }

  [[gnu::noinline]] Result<Value> EvalFilter(const ast::Filter& node) {
    Value v;
    if (node.operand) {
      CCG_ASSIGN_OR_RETURN(v, Eval(*node.operand));
    } else if (block_input_) {
      v = *block_input_;
    }
    CCG_ASSIGN_OR_RETURN(CallArgs args, EvalArgs(node.args));
    CCG_ASSIGN_OR_RETURN(Value r, CallFilter(node.name, v, args));
    return Produced(std::move(r));
  }

  [[gnu::noinline]] Result<Value> EvalTest(const ast::Test& node) {
    CCG_ASSIGN_OR_RETURN(Value v, Eval(*node.operand));
    CCG_ASSIGN_OR_RETURN(CallArgs args, EvalArgs(node.args));
    CCG_ASSIGN_OR_RETURN(bool r, CallTest(node.name, v, args));
    return Value::Bool(r);
  }

  [[gnu::noinline]] Result<Value> EvalUnary(const ast::Unary& node) {
    CCG_ASSIGN_OR_RETURN(Value v, Eval(*node.operand));
    if (node.kind == ExprKind::kNot) return Value::Bool(!v.Truthy());
    if (node.kind == ExprKind::kNeg) return Negate(v);
    return UnaryPlus(v);
  }

  [[gnu::noinline]] Result<Value> EvalBinary(const ast::Binary& node) {
    CCG_ASSIGN_OR_RETURN(Value a, Eval(*node.left));
    CCG_ASSIGN_OR_RETURN(Value b, Eval(*node.right));
    CCG_ASSIGN_OR_RETURN(Value r, BinaryOp(node.op, a, b, o_.max_output_bytes));
    return Produced(std::move(r));
  }

  [[gnu::noinline]] Result<Value> EvalLogical(const ast::Binary& node) {
    CCG_ASSIGN_OR_RETURN(Value a, Eval(*node.left));
    if (a.Truthy() == (node.kind == ExprKind::kOr)) return a;
    return Eval(*node.right);
  }

  [[gnu::noinline]] Result<Value> EvalConcat(const ast::Concat& node) {
    std::string out;
    for (const auto& x : node.items) {
      CCG_ASSIGN_OR_RETURN(Value v, Eval(*x));
      if (v.is_string()) {
        out += v.string_value();
      } else {
        out += v.Str();
      }
      if (out.size() > o_.max_output_bytes) break;
    }
    return Produced(Value::String(std::move(out)));
  }

  [[gnu::noinline]] Result<Value> EvalCompare(const ast::Compare& node) {
    CCG_ASSIGN_OR_RETURN(Value left, Eval(*node.first));
    for (const auto& [op, x] : node.ops) {
      CCG_ASSIGN_OR_RETURN(Value right, Eval(*x));
      CCG_ASSIGN_OR_RETURN(bool r, CompareOp(op, left, right));
      if (!r) return Value::Bool(false);
      left = std::move(right);
    }
    return Value::Bool(true);
  }

  [[gnu::noinline]] Result<Value> EvalCondExpr(const ast::CondExpr& node) {
    CCG_ASSIGN_OR_RETURN(Value t, Eval(*node.test));
    if (t.Truthy()) return Eval(*node.then_expr);
    if (node.else_expr) return Eval(*node.else_expr);
    return Value::Undefined("the inline if-expression on line " + std::to_string(node.line) +
                            " evaluated to false and no else section was defined.");
  }

  std::shared_ptr<const ast::Program> program_;
  Options o_;
  Value context_;
  std::shared_ptr<Scope> scope_;
  std::string* out_ = nullptr;
  const Value* block_input_ = nullptr;
  Value namespace_fn_;
  std::vector<Value> namespaces_;
  std::vector<std::shared_ptr<Scope>> captured_scopes_;
  size_t work_ = 0, work_budget_ = 0;
  size_t iterations_ = 0;
  int depth_ = 0, max_runtime_depth_ = 0;
  bool located_ = false;
};

}  // namespace

Result<std::string> RenderProgram(std::shared_ptr<const ast::Program> program,
                                  const Options& options, const Value& context) {
  try {
    auto r = std::make_shared<Renderer>(std::move(program), options, context);
    return r->Run();
  } catch (const std::bad_alloc&) {
    return Status::ResourceExhausted("out of memory while rendering the template");
  } catch (const std::exception& e) {
    return Status::Internal(std::string("template render failed: ") + e.what());
  }
}

}  // namespace ccguard::jinja

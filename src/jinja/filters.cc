#include "jinja/filters.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include "jinja/access.h"
#include "jinja/call_args.h"
#include "jinja/format.h"
#include "jinja/json_dump.h"
#include "jinja/operators.h"
#include "jinja/pystring.h"

namespace ccguard::jinja {

namespace {

Result<BoundArgs> Bind(std::string_view fn, const CallArgs& args,
                       const std::vector<std::string_view>& params, size_t required = 0) {
  return BoundArgs::Bind(fn, args, params, required);
}

Status NoArgs(std::string_view fn, const CallArgs& args) { return Bind(fn, args, {}).status(); }

// Jinja's soft_str: str() of anything (undefined -> "").
std::string SoftStr(const Value& v) { return v.Str(); }

Status CheckSize(Runtime& rt, size_t size) {
  if (size > rt.MaxSize()) {
    return Status::ResourceExhausted("filter result larger than the limit of " +
                                     std::to_string(rt.MaxSize()) + " bytes");
  }
  return rt.Charge(size);
}

// ---- attribute getters (make_attrgetter) ----

struct AttrGetter {
  std::vector<Value> parts;
  std::optional<Value> default_value;

  static AttrGetter Make(const Value& attribute, std::optional<Value> default_value = {}) {
    AttrGetter g;
    g.default_value = std::move(default_value);
    if (attribute.is_string()) {
      for (auto& part : pystr::Split(attribute.string_value(), std::string("."), -1)) {
        bool digits = !part.empty() && part.size() < 18 &&
                      part.find_first_not_of("0123456789") == std::string::npos;
        g.parts.push_back(digits ? Value::Int(std::strtoll(part.c_str(), nullptr, 10))
                                 : Value::String(std::move(part)));
      }
    } else {
      g.parts.push_back(attribute);
    }
    return g;
  }

  Result<Value> operator()(Value item) const {
    for (const Value& part : parts) {
      CCG_ASSIGN_OR_RETURN(item, GetItem(item, part));
      if (default_value && item.is_undefined()) item = *default_value;
    }
    return item;
  }
};

Value LowerIfString(const Value& v, bool case_sensitive) {
  if (!case_sensitive && v.is_string()) return Value::String(pystr::Lower(v.string_value()));
  return v;
}

// ---- individual filters ----

Result<Value> FAbs(Runtime&, const Value& v, const CallArgs& a) {
  CCG_RETURN_IF_ERROR(NoArgs("abs", a));
  if (v.is_float()) return Value::Float(std::fabs(v.float_value()));
  if (v.is_int() || v.is_bool()) {
    if (v.int_value() == INT64_MIN) return Status::InvalidArgument("integer overflow");
    return Value::Int(std::llabs(v.int_value()));
  }
  if (v.is_undefined()) return Status::InvalidArgument(v.UndefinedMessage());
  return Status::InvalidArgument(std::string("bad operand type for abs(): '") + v.TypeName() + "'");
}

Result<Value> FAttr(Runtime&, const Value& v, const CallArgs& a) {
  CCG_ASSIGN_OR_RETURN(BoundArgs b, Bind("attr", a, {"name"}, 1));
  CCG_ASSIGN_OR_RETURN(std::string name, ToStr(*b.Get(0), "attr"));
  if (v.is_dict()) {
    // getattr() on a dict sees its methods, not its keys.
    CCG_ASSIGN_OR_RETURN(Value m, GetAttr(Value::FromDict(Dict()), name));
    if (m.is_callable()) return GetAttr(v, name);
    return Value::Undefined("'dict object' has no attribute " + StringRepr(name));
  }
  return GetAttr(v, name);
}

Result<Value> FBatch(Runtime& rt, const Value& v, const CallArgs& a) {
  CCG_ASSIGN_OR_RETURN(BoundArgs b, Bind("batch", a, {"linecount", "fill_with"}, 1));
  CCG_ASSIGN_OR_RETURN(int64_t n, ToIndex(*b.Get(0), "batch"));
  if (n <= 0) return Status::InvalidArgument("batch: linecount must be positive");
  CCG_ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(v));
  CCG_RETURN_IF_ERROR(rt.Charge(items.size()));
  std::vector<Value> out, cur;
  for (Value& item : items) {
    cur.push_back(std::move(item));
    if (static_cast<int64_t>(cur.size()) == n) {
      out.push_back(Value::List(std::move(cur)));
      cur.clear();
    }
  }
  if (!cur.empty()) {
    if (const Value* fill = b.Get(1); fill && !fill->is_none()) {
      while (static_cast<int64_t>(cur.size()) < n) cur.push_back(*fill);
    }
    out.push_back(Value::List(std::move(cur)));
  }
  return Value::Generator(std::move(out));
}

Result<Value> FCapitalize(Runtime&, const Value& v, const CallArgs& a) {
  CCG_RETURN_IF_ERROR(NoArgs("capitalize", a));
  return Value::String(pystr::Capitalize(SoftStr(v)));
}

Result<Value> FCenter(Runtime& rt, const Value& v, const CallArgs& a) {
  CCG_ASSIGN_OR_RETURN(BoundArgs b, Bind("center", a, {"width"}));
  int64_t width = 80;
  if (b.Get(0)) {
    CCG_ASSIGN_OR_RETURN(width, ToIndex(*b.Get(0), "center"));
  }
  if (width > 0) CCG_RETURN_IF_ERROR(CheckSize(rt, static_cast<size_t>(width)));
  return Value::String(pystr::Pad(SoftStr(v), width, ' ', 0));
}

Result<Value> FDefault(Runtime&, const Value& v, const CallArgs& a) {
  CCG_ASSIGN_OR_RETURN(BoundArgs b, Bind("default", a, {"default_value", "boolean"}));
  bool boolean = b.Get(1) && b.Get(1)->Truthy();
  if (v.is_undefined() || (boolean && !v.Truthy())) return b.GetOr(0, Value::String(""));
  return v;
}

Result<Value> FDictsort(Runtime& rt, const Value& v, const CallArgs& a) {
  CCG_ASSIGN_OR_RETURN(BoundArgs b, Bind("dictsort", a, {"case_sensitive", "by", "reverse"}));
  bool case_sensitive = b.Get(0) && b.Get(0)->Truthy();
  bool reverse = b.Get(2) && b.Get(2)->Truthy();
  int pos = 0;
  if (b.Get(1)) {
    CCG_ASSIGN_OR_RETURN(std::string by, ToStr(*b.Get(1), "dictsort"));
    if (by == "value") {
      pos = 1;
    } else if (by != "key") {
      return Status::InvalidArgument("You can only sort by either \"key\" or \"value\"");
    }
  }
  if (!v.is_dict()) return Status::InvalidArgument("dictsort: can only sort a mapping");
  std::vector<Value> items;
  for (const auto& [k, val] : v.dict_value().entries()) {
    items.push_back(Value::Tuple({Value::String(k), val}));
  }
  CCG_RETURN_IF_ERROR(rt.Charge(items.size() * 8));
  Status err;
  std::stable_sort(items.begin(), items.end(), [&](const Value& x, const Value& y) {
    Value kx = LowerIfString(x.list_value()[pos], case_sensitive);
    Value ky = LowerIfString(y.list_value()[pos], case_sensitive);
    auto r = reverse ? Value::Less(ky, kx) : Value::Less(kx, ky);
    if (!r.ok()) {
      if (err.ok()) err = r.status();
      return false;
    }
    return *r;
  });
  CCG_RETURN_IF_ERROR(err);
  return Value::List(std::move(items));
}

Result<Value> FEscape(Runtime&, const Value& v, const CallArgs& a) {
  CCG_RETURN_IF_ERROR(NoArgs("escape", a));
  std::string s = SoftStr(v), out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '\'':
        out += "&#39;";
        break;
      case '"':
        out += "&#34;";
        break;
      default:
        out.push_back(c);
    }
  }
  return Value::String(std::move(out));
}

Result<Value> FFirst(Runtime&, const Value& v, const CallArgs& a) {
  CCG_RETURN_IF_ERROR(NoArgs("first", a));
  if (v.is_list()) {
    if (v.list_value().empty()) return Value::Undefined("No first item, sequence was empty.");
    return v.list_value().front();
  }
  CCG_ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(v));
  if (items.empty()) return Value::Undefined("No first item, sequence was empty.");
  return items.front();
}

Result<Value> FLast(Runtime&, const Value& v, const CallArgs& a) {
  CCG_RETURN_IF_ERROR(NoArgs("last", a));
  if (v.is_generator()) return Status::InvalidArgument("'generator' object is not reversible");
  CCG_ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(v));
  if (items.empty()) return Value::Undefined("No last item, sequence was empty.");
  return items.back();
}

// Python float(str): optional whitespace, sign, digits with single underscores, inf/nan.
std::optional<double> ParsePyFloat(const std::string& text) {
  std::string t = pystr::Strip(text, std::nullopt, true, true);
  std::string clean;
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i] == '_') {
      bool ok = i > 0 && i + 1 < t.size() && std::isdigit(static_cast<unsigned char>(t[i - 1])) &&
                std::isdigit(static_cast<unsigned char>(t[i + 1]));
      if (!ok) return std::nullopt;
      continue;
    }
    clean.push_back(t[i]);
  }
  if (clean.empty()) return std::nullopt;
  std::string lower = pystr::Lower(clean);
  size_t sign = (lower[0] == '+' || lower[0] == '-') ? 1 : 0;
  std::string body = lower.substr(sign);
  if (body == "inf" || body == "infinity" || body == "nan") {
    double r = body == "nan" ? NAN : INFINITY;
    return lower[0] == '-' ? -r : r;
  }
  // Only digits, '.', 'e', signs after 'e'.
  if (body.find_first_not_of("0123456789.e+-") != std::string::npos) return std::nullopt;
  if (body.find('x') != std::string::npos) return std::nullopt;
  char* end = nullptr;
  double d = std::strtod(clean.c_str(), &end);
  if (end != clean.c_str() + clean.size()) return std::nullopt;
  bool has_digit = body.find_first_of("0123456789") != std::string::npos;
  if (!has_digit) return std::nullopt;
  return d;
}

// Python int(str, base).
std::optional<int64_t> ParsePyInt(const std::string& text, int64_t base) {
  std::string t = pystr::Strip(text, std::nullopt, true, true);
  size_t i = 0;
  bool neg = false;
  if (i < t.size() && (t[i] == '+' || t[i] == '-')) neg = t[i++] == '-';
  if ((base == 0 || base == 16 || base == 8 || base == 2) && i + 1 < t.size() && t[i] == '0') {
    char k = static_cast<char>(t[i + 1] | 0x20);
    int64_t pb = k == 'x' ? 16 : k == 'o' ? 8 : k == 'b' ? 2 : 0;
    if (pb && (base == 0 || base == pb)) {
      base = pb;
      i += 2;
      if (i < t.size() && t[i] == '_') ++i;
    }
  }
  if (base == 0) base = 10;
  if (base < 2 || base > 36 || i >= t.size()) return std::nullopt;
  uint64_t v = 0;
  bool prev_digit = false;
  for (; i < t.size(); ++i) {
    char c = t[i];
    if (c == '_') {
      if (!prev_digit || i + 1 >= t.size()) return std::nullopt;
      prev_digit = false;
      continue;
    }
    int d = std::isdigit(static_cast<unsigned char>(c))   ? c - '0'
            : std::isalpha(static_cast<unsigned char>(c)) ? (c | 0x20) - 'a' + 10
                                                          : 99;
    if (d >= base) return std::nullopt;
    if (v > (static_cast<uint64_t>(INT64_MAX) - d) / static_cast<uint64_t>(base)) {
      return std::nullopt;
    }
    v = v * base + d;
    prev_digit = true;
  }
  if (!prev_digit) return std::nullopt;
  return neg ? -static_cast<int64_t>(v) : static_cast<int64_t>(v);
}

Result<Value> FFloat(Runtime&, const Value& v, const CallArgs& a) {
  CCG_ASSIGN_OR_RETURN(BoundArgs b, Bind("float", a, {"default"}));
  Value fallback = b.GetOr(0, Value::Float(0.0));
  if (v.is_number()) return Value::Float(v.AsDouble());
  if (v.is_undefined()) return Status::InvalidArgument(v.UndefinedMessage());
  if (v.is_string()) {
    if (auto d = ParsePyFloat(v.string_value())) return Value::Float(*d);
  }
  return fallback;
}

Result<Value> FInt(Runtime&, const Value& v, const CallArgs& a) {
  CCG_ASSIGN_OR_RETURN(BoundArgs b, Bind("int", a, {"default", "base"}));
  Value fallback = b.GetOr(0, Value::Int(0));
  // A base that is not an int makes Python's int(value, base) raise TypeError, which the
  // filter swallows before trying int(float(value)).
  int64_t base = 10;
  bool base_ok = true;
  if (const Value* bv = b.Get(1)) {
    base_ok = bv->is_int() || bv->is_bool();
    if (base_ok) base = bv->int_value();
  }
  if (v.is_int() || v.is_bool()) return Value::Int(v.int_value());
  if (v.is_undefined()) return Status::InvalidArgument(v.UndefinedMessage());
  auto from_double = [&](double d) -> Result<Value> {
    if (std::isnan(d)) return fallback;
    if (std::isinf(d)) return Status::InvalidArgument("cannot convert float infinity to integer");
    if (d >= 9.2233720368547758e18 || d < -9.2233720368547758e18) {
      return Status::InvalidArgument("integer overflow (ints are limited to 64 bits)");
    }
    return Value::Int(static_cast<int64_t>(d));
  };
  if (v.is_float()) return from_double(v.float_value());
  if (v.is_string()) {
    if (base_ok) {
      if (auto i = ParsePyInt(v.string_value(), base)) return Value::Int(*i);
    }
    if (auto d = ParsePyFloat(v.string_value())) return from_double(*d);
  }
  return fallback;
}

Result<Value> FFormat(Runtime& rt, const Value& v, const CallArgs& a) {
  if (!a.args.empty() && !a.kwargs.empty()) {
    return Status::InvalidArgument(
        "can't handle positional and keyword arguments at the same time");
  }
  Value args;
  if (!a.kwargs.empty()) {
    Dict d;
    for (const auto& [k, val] : a.kwargs) d.Set(k, val);
    args = Value::FromDict(std::move(d));
  } else {
    args = Value::Tuple(a.args);
  }
  CCG_ASSIGN_OR_RETURN(std::string s, PercentFormat(SoftStr(v), args));
  CCG_RETURN_IF_ERROR(CheckSize(rt, s.size()));
  return Value::String(std::move(s));
}

Result<Value> FIndent(Runtime& rt, const Value& v, const CallArgs& a) {
  CCG_ASSIGN_OR_RETURN(BoundArgs b, Bind("indent", a, {"width", "first", "blank"}));
  std::string indention = "    ";
  if (const Value* w = b.Get(0)) {
    if (w->is_string()) {
      indention = w->string_value();
    } else {
      CCG_ASSIGN_OR_RETURN(int64_t n, ToIndex(*w, "indent"));
      if (n > static_cast<int64_t>(rt.MaxSize())) return CheckSize(rt, static_cast<size_t>(n));
      indention.assign(n > 0 ? static_cast<size_t>(n) : 0, ' ');
    }
  }
  bool first = b.Get(1) && b.Get(1)->Truthy();
  bool blank = b.Get(2) && b.Get(2)->Truthy();
  if (!v.is_string()) {
    if (v.is_undefined()) return Status::InvalidArgument(v.UndefinedMessage());
    return Status::InvalidArgument(std::string("unsupported operand type(s) for +=: '") +
                                   v.TypeName() + "' and 'str'");
  }
  std::string s = v.string_value() + "\n";
  std::vector<std::string> lines = pystr::SplitLines(s);
  CCG_RETURN_IF_ERROR(CheckSize(rt, s.size() + lines.size() * indention.size()));
  std::string rv;
  if (blank) {
    for (size_t i = 0; i < lines.size(); ++i) {
      if (i) rv += "\n" + indention;
      rv += lines[i];
    }
  } else {
    rv = lines.empty() ? "" : lines[0];
    if (lines.size() > 1) {
      rv += "\n";
      for (size_t i = 1; i < lines.size(); ++i) {
        if (i > 1) rv += "\n";
        if (!lines[i].empty()) rv += indention;
        rv += lines[i];
      }
    }
  }
  if (first) rv = indention + rv;
  return Value::String(std::move(rv));
}

Result<Value> FItems(Runtime&, const Value& v, const CallArgs& a) {
  CCG_RETURN_IF_ERROR(NoArgs("items", a));
  if (v.is_undefined()) return Value::Generator({});
  if (!v.is_dict()) return Status::InvalidArgument("Can only get item pairs from a mapping.");
  std::vector<Value> out;
  for (const auto& [k, val] : v.dict_value().entries()) {
    out.push_back(Value::Tuple({Value::String(k), val}));
  }
  return Value::Generator(std::move(out));
}

Result<Value> FJoin(Runtime& rt, const Value& v, const CallArgs& a) {
  CCG_ASSIGN_OR_RETURN(BoundArgs b, Bind("join", a, {"d", "attribute"}));
  std::string sep = b.Get(0) ? SoftStr(*b.Get(0)) : "";
  CCG_ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(v));
  std::optional<AttrGetter> getter;
  if (const Value* attr = b.Get(1); attr && !attr->is_none()) getter = AttrGetter::Make(*attr);
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i) out += sep;
    if (getter) {
      CCG_ASSIGN_OR_RETURN(Value item, (*getter)(items[i]));
      out += SoftStr(item);
    } else {
      out += SoftStr(items[i]);
    }
    if (out.size() > rt.MaxSize()) return CheckSize(rt, out.size());
  }
  CCG_RETURN_IF_ERROR(CheckSize(rt, out.size()));
  return Value::String(std::move(out));
}

Result<Value> FLength(Runtime&, const Value& v, const CallArgs& a) {
  CCG_RETURN_IF_ERROR(NoArgs("length", a));
  CCG_ASSIGN_OR_RETURN(int64_t n, Length(v));
  return Value::Int(n);
}

Result<Value> FList(Runtime&, const Value& v, const CallArgs& a) {
  CCG_RETURN_IF_ERROR(NoArgs("list", a));
  CCG_ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(v));
  return Value::List(std::move(items));
}

Result<Value> FLower(Runtime&, const Value& v, const CallArgs& a) {
  CCG_RETURN_IF_ERROR(NoArgs("lower", a));
  return Value::String(pystr::Lower(SoftStr(v)));
}

Result<Value> FUpper(Runtime&, const Value& v, const CallArgs& a) {
  CCG_RETURN_IF_ERROR(NoArgs("upper", a));
  return Value::String(pystr::Upper(SoftStr(v)));
}

Result<Value> FTitle(Runtime&, const Value& v, const CallArgs& a) {
  CCG_RETURN_IF_ERROR(NoArgs("title", a));
  return Value::String(pystr::JinjaTitle(SoftStr(v)));
}

Result<Value> FMap(Runtime& rt, const Value& v, const CallArgs& a) {
  // Jinja's map/select/reject only iterate a truthy value (`if value: ...`).
  if (!v.Truthy()) return Value::Generator({});
  CCG_ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(v));
  CCG_RETURN_IF_ERROR(rt.Charge(items.size()));
  std::vector<Value> out;
  out.reserve(items.size());
  bool by_attribute = a.args.empty() && std::any_of(a.kwargs.begin(), a.kwargs.end(), [](auto& kw) {
                        return kw.first == "attribute";
                      });
  if (by_attribute) {
    CCG_ASSIGN_OR_RETURN(BoundArgs b, Bind("map", a, {"attribute", "default"}));
    std::optional<Value> def;
    if (b.Get(1) && !b.Get(1)->is_none()) def = *b.Get(1);
    AttrGetter getter = AttrGetter::Make(*b.Get(0), def);
    for (const Value& item : items) {
      CCG_ASSIGN_OR_RETURN(Value x, getter(item));
      out.push_back(std::move(x));
    }
    return Value::Generator(std::move(out));
  }
  if (a.args.empty()) return Status::InvalidArgument("map requires a filter argument");
  CCG_ASSIGN_OR_RETURN(std::string name, ToStr(a.args[0], "map"));
  CallArgs rest{std::vector<Value>(a.args.begin() + 1, a.args.end()), a.kwargs};
  for (const Value& item : items) {
    CCG_ASSIGN_OR_RETURN(Value x, rt.CallFilter(name, item, rest));
    out.push_back(std::move(x));
  }
  return Value::Generator(std::move(out));
}

// select/reject/selectattr/rejectattr.
Result<Value> SelectOrReject(Runtime& rt, const Value& v, const CallArgs& a, bool lookup_attr,
                             bool select) {
  if (!v.Truthy()) return Value::Generator({});
  CCG_ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(v));
  CCG_RETURN_IF_ERROR(rt.Charge(items.size()));
  size_t off = 0;
  std::optional<AttrGetter> getter;
  if (lookup_attr) {
    if (a.args.empty()) return Status::InvalidArgument("Missing parameter for attribute name");
    getter = AttrGetter::Make(a.args[0]);
    off = 1;
  }
  std::optional<std::string> test;
  CallArgs rest;
  if (a.args.size() > off) {
    CCG_ASSIGN_OR_RETURN(std::string t, ToStr(a.args[off], "select"));
    test = t;
    rest.args.assign(a.args.begin() + off + 1, a.args.end());
    rest.kwargs = a.kwargs;
  }
  std::vector<Value> out;
  for (const Value& item : items) {
    Value x = item;
    if (getter) {
      CCG_ASSIGN_OR_RETURN(x, (*getter)(item));
    }
    bool r;
    if (test) {
      CCG_ASSIGN_OR_RETURN(r, rt.CallTest(*test, x, rest));
    } else {
      r = x.Truthy();
    }
    if (r == select) out.push_back(item);
  }
  return Value::Generator(std::move(out));
}

Result<Value> FSelect(Runtime& rt, const Value& v, const CallArgs& a) {
  return SelectOrReject(rt, v, a, false, true);
}
Result<Value> FReject(Runtime& rt, const Value& v, const CallArgs& a) {
  return SelectOrReject(rt, v, a, false, false);
}
Result<Value> FSelectAttr(Runtime& rt, const Value& v, const CallArgs& a) {
  return SelectOrReject(rt, v, a, true, true);
}
Result<Value> FRejectAttr(Runtime& rt, const Value& v, const CallArgs& a) {
  return SelectOrReject(rt, v, a, true, false);
}

Result<Value> MinOrMax(Runtime& rt, const Value& v, const CallArgs& a, bool want_max) {
  CCG_ASSIGN_OR_RETURN(BoundArgs b,
                       Bind(want_max ? "max" : "min", a, {"case_sensitive", "attribute"}));
  bool case_sensitive = b.Get(0) && b.Get(0)->Truthy();
  std::optional<AttrGetter> getter;
  if (const Value* attr = b.Get(1); attr && !attr->is_none()) getter = AttrGetter::Make(*attr);
  CCG_ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(v));
  CCG_RETURN_IF_ERROR(rt.Charge(items.size()));
  if (items.empty()) return Value::Undefined("No aggregated item, sequence was empty.");
  auto key = [&](const Value& x) -> Result<Value> {
    Value k = x;
    if (getter) {
      CCG_ASSIGN_OR_RETURN(k, (*getter)(x));
    }
    return LowerIfString(k, case_sensitive);
  };
  size_t best = 0;
  CCG_ASSIGN_OR_RETURN(Value best_key, key(items[0]));
  for (size_t i = 1; i < items.size(); ++i) {
    CCG_ASSIGN_OR_RETURN(Value k, key(items[i]));
    CCG_ASSIGN_OR_RETURN(bool better,
                         want_max ? Value::Less(best_key, k) : Value::Less(k, best_key));
    if (better) {
      best = i;
      best_key = k;
    }
  }
  return items[best];
}

Result<Value> FMax(Runtime& rt, const Value& v, const CallArgs& a) {
  return MinOrMax(rt, v, a, true);
}
Result<Value> FMin(Runtime& rt, const Value& v, const CallArgs& a) {
  return MinOrMax(rt, v, a, false);
}

Result<Value> FReplace(Runtime& rt, const Value& v, const CallArgs& a) {
  CCG_ASSIGN_OR_RETURN(BoundArgs b, Bind("replace", a, {"old", "new", "count"}, 2));
  std::string s = SoftStr(v), old = SoftStr(*b.Get(0)), repl = SoftStr(*b.Get(1));
  int64_t count = -1;
  if (const Value* c = b.Get(2); c && !c->is_none()) {
    CCG_ASSIGN_OR_RETURN(count, ToIndex(*c, "replace"));
  }
  // Bound the result before building it.
  int64_t occurrences = old.empty() ? static_cast<int64_t>(pystr::Length(s)) + 1
                                    : pystr::Count(s, old, std::nullopt, std::nullopt);
  if (count >= 0) occurrences = std::min(occurrences, count);
  size_t bound = s.size() + static_cast<size_t>(occurrences) * repl.size();
  CCG_RETURN_IF_ERROR(CheckSize(rt, bound));
  return Value::String(pystr::Replace(s, old, repl, count));
}

Result<Value> FReverse(Runtime&, const Value& v, const CallArgs& a) {
  CCG_RETURN_IF_ERROR(NoArgs("reverse", a));
  if (v.is_string()) {
    std::vector<uint32_t> cps = pystr::CodePoints(v.string_value());
    std::reverse(cps.begin(), cps.end());
    return Value::String(pystr::FromCodePoints(cps, 0, cps.size()));
  }
  CCG_ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(v));
  std::reverse(items.begin(), items.end());
  // reversed() gives an iterator; a generator is not reversible, so Jinja lists it first.
  if (v.is_generator()) return Value::List(std::move(items));
  return Value::Generator(std::move(items));
}

Result<Value> FRound(Runtime&, const Value& v, const CallArgs& a) {
  CCG_ASSIGN_OR_RETURN(BoundArgs b, Bind("round", a, {"precision", "method"}));
  int64_t precision = 0;
  if (b.Get(0)) {
    CCG_ASSIGN_OR_RETURN(precision, ToIndex(*b.Get(0), "round"));
  }
  std::string method = "common";
  if (b.Get(1)) {
    CCG_ASSIGN_OR_RETURN(method, ToStr(*b.Get(1), "round"));
  }
  if (method != "common" && method != "ceil" && method != "floor") {
    return Status::InvalidArgument("method must be common, ceil or floor");
  }
  if (v.is_undefined()) return Status::InvalidArgument(v.UndefinedMessage());
  if (!v.is_number()) {
    return Status::InvalidArgument(std::string("type ") + v.TypeName() +
                                   " doesn't define __round__ method");
  }
  if (method == "common") {
    if (!v.is_float()) {
      if (precision >= 0) return Value::Int(v.int_value());
      // round(int, -n): round half to even at 10**n.
      if (precision < -18) return Value::Int(0);
      int64_t p = 1;
      for (int64_t i = 0; i < -precision; ++i) p *= 10;
      int64_t x = v.int_value(), q = x / p, r = x % p;
      if (r < 0) {
        r += p;
        --q;
      }
      if (2 * r > p || (2 * r == p && (q & 1))) ++q;
      return Value::Int(q * p);
    }
    double d = v.float_value();
    if (!std::isfinite(d)) return v;
    if (precision > 300) return v;
    if (precision < -308) return Value::Float(0.0 * d);
    if (precision >= 0) {
      // Correctly rounded, half to even on the exact binary value, as Python's round().
      char buf[512];
      std::snprintf(buf, sizeof(buf), "%.*f", static_cast<int>(precision), d);
      return Value::Float(std::strtod(buf, nullptr));
    }
    double p = std::pow(10.0, static_cast<double>(-precision));
    double y = d / p;
    double z = std::nearbyint(y);
    return Value::Float(z * p);
  }
  double p = std::pow(10.0, static_cast<double>(precision));
  double x = v.AsDouble() * p;
  double r = method == "ceil" ? std::ceil(x) : std::floor(x);
  return Value::Float(r / p);
}

Result<Value> FSafe(Runtime&, const Value& v, const CallArgs& a) {
  CCG_RETURN_IF_ERROR(NoArgs("safe", a));
  return v.is_string() ? v : Value::String(SoftStr(v));
}

Result<Value> FSort(Runtime& rt, const Value& v, const CallArgs& a) {
  CCG_ASSIGN_OR_RETURN(BoundArgs b, Bind("sort", a, {"reverse", "case_sensitive", "attribute"}));
  bool reverse = b.Get(0) && b.Get(0)->Truthy();
  bool case_sensitive = b.Get(1) && b.Get(1)->Truthy();
  std::optional<AttrGetter> getter;
  if (const Value* attr = b.Get(2); attr && !attr->is_none()) getter = AttrGetter::Make(*attr);
  CCG_ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(v));
  CCG_RETURN_IF_ERROR(rt.Charge(items.size() * 8));
  std::vector<std::pair<Value, Value>> keyed;
  keyed.reserve(items.size());
  for (Value& item : items) {
    Value k = item;
    if (getter) {
      CCG_ASSIGN_OR_RETURN(k, (*getter)(item));
    }
    keyed.emplace_back(LowerIfString(k, case_sensitive), std::move(item));
  }
  Status err;
  std::stable_sort(keyed.begin(), keyed.end(), [&](const auto& x, const auto& y) {
    auto r = reverse ? Value::Less(y.first, x.first) : Value::Less(x.first, y.first);
    if (!r.ok()) {
      if (err.ok()) err = r.status();
      return false;
    }
    return *r;
  });
  CCG_RETURN_IF_ERROR(err);
  std::vector<Value> out;
  out.reserve(keyed.size());
  for (auto& kv : keyed) out.push_back(std::move(kv.second));
  return Value::List(std::move(out));
}

Result<Value> FString(Runtime&, const Value& v, const CallArgs& a) {
  CCG_RETURN_IF_ERROR(NoArgs("string", a));
  return v.is_string() ? v : Value::String(SoftStr(v));
}

Result<Value> FSum(Runtime& rt, const Value& v, const CallArgs& a) {
  CCG_ASSIGN_OR_RETURN(BoundArgs b, Bind("sum", a, {"attribute", "start"}));
  std::optional<AttrGetter> getter;
  if (const Value* attr = b.Get(0); attr && !attr->is_none()) getter = AttrGetter::Make(*attr);
  Value total = b.GetOr(1, Value::Int(0));
  CCG_ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(v));
  CCG_RETURN_IF_ERROR(rt.Charge(items.size()));
  for (const Value& item : items) {
    Value x = item;
    if (getter) {
      CCG_ASSIGN_OR_RETURN(x, (*getter)(item));
    }
    if (total.is_string()) {
      return Status::InvalidArgument("sum() can't sum strings [use ''.join(seq) instead]");
    }
    CCG_ASSIGN_OR_RETURN(total, BinaryOp(ast::BinOp::kAdd, total, x, rt.MaxSize()));
    if (total.is_list()) CCG_RETURN_IF_ERROR(rt.Charge(total.list_value().size()));
  }
  return total;
}

Result<Value> FToJson(Runtime& rt, const Value& v, const CallArgs& a) {
  CCG_ASSIGN_OR_RETURN(BoundArgs b,
                       Bind("tojson", a, {"ensure_ascii", "indent", "separators", "sort_keys"}));
  std::optional<std::string> indent;
  if (const Value* i = b.Get(1); i && !i->is_none()) {
    if (i->is_string()) {
      indent = i->string_value();
    } else {
      CCG_ASSIGN_OR_RETURN(int64_t n, ToIndex(*i, "tojson indent"));
      if (n > 1024) return Status::ResourceExhausted("tojson: indent too large");
      indent = std::string(n > 0 ? static_cast<size_t>(n) : 0, ' ');
    }
  }
  JsonDumpOptions o = JsonDumpOptions::Python(indent);
  o.ensure_ascii = b.Get(0) && b.Get(0)->Truthy();
  o.sort_keys = b.Get(3) && b.Get(3)->Truthy();
  if (const Value* s = b.Get(2); s && !s->is_none()) {
    if (!s->is_list() || s->list_value().size() != 2 || !s->list_value()[0].is_string() ||
        !s->list_value()[1].is_string()) {
      return Status::InvalidArgument("tojson: separators must be a pair of strings");
    }
    o.item_separator = s->list_value()[0].string_value();
    o.key_separator = s->list_value()[1].string_value();
  }
  CCG_ASSIGN_OR_RETURN(std::string out, JsonDumps(v, o));
  CCG_RETURN_IF_ERROR(CheckSize(rt, out.size()));
  return Value::String(std::move(out));
}

Result<Value> FTrim(Runtime&, const Value& v, const CallArgs& a) {
  CCG_ASSIGN_OR_RETURN(BoundArgs b, Bind("trim", a, {"chars"}));
  CCG_ASSIGN_OR_RETURN(auto chars, ToOptStr(b.Get(0), "trim"));
  return Value::String(pystr::Strip(SoftStr(v), chars, true, true));
}

Result<Value> FTruncate(Runtime&, const Value& v, const CallArgs& a) {
  CCG_ASSIGN_OR_RETURN(BoundArgs b, Bind("truncate", a, {"length", "killwords", "end", "leeway"}));
  int64_t length = 255, leeway = 5;
  if (b.Get(0)) {
    CCG_ASSIGN_OR_RETURN(length, ToIndex(*b.Get(0), "truncate"));
  }
  bool killwords = b.Get(1) && b.Get(1)->Truthy();
  std::string end = "...";
  if (b.Get(2)) {
    CCG_ASSIGN_OR_RETURN(end, ToStr(*b.Get(2), "truncate"));
  }
  if (const Value* l = b.Get(3); l && !l->is_none()) {
    CCG_ASSIGN_OR_RETURN(leeway, ToIndex(*l, "truncate"));
  }
  int64_t end_len = static_cast<int64_t>(pystr::Length(end));
  if (length < end_len) {
    return Status::InvalidArgument("expected length >= " + std::to_string(end_len) + ", got " +
                                   std::to_string(length));
  }
  if (leeway < 0)
    return Status::InvalidArgument("expected leeway >= 0, got " + std::to_string(leeway));
  if (!v.is_string()) {
    // len(s) must work; anything short enough is returned unchanged.
    CCG_ASSIGN_OR_RETURN(int64_t n, Length(v));
    if (n <= length + leeway) return v;
    return Status::NotSupported("truncate: only strings can be truncated");
  }
  const std::string& s = v.string_value();
  std::vector<uint32_t> cps = pystr::CodePoints(s);
  if (static_cast<int64_t>(cps.size()) <= length + leeway) return v;
  std::string head = pystr::FromCodePoints(cps, 0, static_cast<size_t>(length - end_len));
  if (killwords) return Value::String(head + end);
  return Value::String(pystr::RSplit(head, std::string(" "), 1)[0] + end);
}

Result<Value> FUnique(Runtime& rt, const Value& v, const CallArgs& a) {
  CCG_ASSIGN_OR_RETURN(BoundArgs b, Bind("unique", a, {"case_sensitive", "attribute"}));
  bool case_sensitive = b.Get(0) && b.Get(0)->Truthy();
  std::optional<AttrGetter> getter;
  if (const Value* attr = b.Get(1); attr && !attr->is_none()) getter = AttrGetter::Make(*attr);
  CCG_ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(v));
  CCG_RETURN_IF_ERROR(rt.Charge(items.size() * 8));
  std::unordered_set<std::string> seen;
  std::vector<Value> out;
  for (const Value& item : items) {
    Value k = item;
    if (getter) {
      CCG_ASSIGN_OR_RETURN(k, (*getter)(item));
    }
    k = LowerIfString(k, case_sensitive);
    // Python hashing: equal numbers hash alike; lists and dicts are unhashable.
    std::string key;
    if (k.is_number()) {
      double d = k.AsDouble();
      if (!k.is_float()) {
        key = std::string("n").append(std::to_string(k.int_value()));
      } else if (d == std::floor(d) && std::fabs(d) < 9e18) {
        key = std::string("n").append(std::to_string(static_cast<int64_t>(d)));
      } else {
        key = std::string("f").append(FloatRepr(d));
      }
    } else if (k.is_sequence() && !k.is_tuple()) {
      return Status::InvalidArgument("unhashable type: 'list'");
    } else if (k.is_dict() || k.is_namespace()) {
      return Status::InvalidArgument(std::string("unhashable type: '") + k.TypeName() + "'");
    } else {
      key = std::string(k.TypeName()) + ":" + k.Repr();
    }
    if (seen.insert(key).second) out.push_back(item);
  }
  return Value::Generator(std::move(out));
}

Result<Value> FWordcount(Runtime&, const Value& v, const CallArgs& a) {
  CCG_RETURN_IF_ERROR(NoArgs("wordcount", a));
  std::string s = SoftStr(v);
  int64_t n = 0;
  bool in_word = false;
  size_t pos = 0;
  while (pos < s.size()) {
    bool w = pystr::IsWordChar(pystr::DecodeNext(s, &pos));
    if (w && !in_word) ++n;
    in_word = w;
  }
  return Value::Int(n);
}

struct Entry {
  std::string_view name;
  FilterFn fn;
};

constexpr Entry kFilters[] = {
    {"abs", FAbs},           {"attr", FAttr},
    {"batch", FBatch},       {"capitalize", FCapitalize},
    {"center", FCenter},     {"count", FLength},
    {"d", FDefault},         {"default", FDefault},
    {"dictsort", FDictsort}, {"e", FEscape},
    {"escape", FEscape},     {"first", FFirst},
    {"float", FFloat},       {"forceescape", FEscape},
    {"format", FFormat},     {"indent", FIndent},
    {"int", FInt},           {"items", FItems},
    {"join", FJoin},         {"last", FLast},
    {"length", FLength},     {"list", FList},
    {"lower", FLower},       {"map", FMap},
    {"max", FMax},           {"min", FMin},
    {"reject", FReject},     {"rejectattr", FRejectAttr},
    {"replace", FReplace},   {"reverse", FReverse},
    {"round", FRound},       {"safe", FSafe},
    {"select", FSelect},     {"selectattr", FSelectAttr},
    {"sort", FSort},         {"string", FString},
    {"sum", FSum},           {"title", FTitle},
    {"tojson", FToJson},     {"trim", FTrim},
    {"truncate", FTruncate}, {"unique", FUnique},
    {"upper", FUpper},       {"wordcount", FWordcount},
};

}  // namespace

FilterFn FindFilter(std::string_view name) {
  for (const Entry& e : kFilters) {
    if (e.name == name) return e.fn;
  }
  return nullptr;
}

}  // namespace ccguard::jinja

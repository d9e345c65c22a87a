#include "jinja/value.h"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "jinja/pystring.h"

namespace ccguard::jinja {

namespace {

constexpr size_t kIndexThreshold = 8;  // dicts larger than this get a hash index
constexpr int kMaxReprDepth = 64;
constexpr int kMaxJsonDepth = 512;

struct Fn {
  std::string name;
  NativeFunction fn;
};

const std::string& EmptyString() {
  static const std::string* s = new std::string();
  return *s;
}

uint64_t HashKey(std::string_view s) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

template <class J>
Value FromJsonImpl(const J& j, int depth) {
  if (depth > kMaxJsonDepth) return Value::None();
  switch (j.type()) {
    case J::value_t::null:
      return Value::None();
    case J::value_t::boolean:
      return Value::Bool(j.template get<bool>());
    case J::value_t::number_integer:
      return Value::Int(j.template get<int64_t>());
    case J::value_t::number_unsigned: {
      uint64_t u = j.template get<uint64_t>();
      if (u <= static_cast<uint64_t>(INT64_MAX)) return Value::Int(static_cast<int64_t>(u));
      return Value::Float(static_cast<double>(u));
    }
    case J::value_t::number_float:
      return Value::Float(j.template get<double>());
    case J::value_t::string:
      return Value::String(j.template get<std::string>());
    case J::value_t::array: {
      std::vector<Value> items;
      items.reserve(j.size());
      for (const auto& e : j) items.push_back(FromJsonImpl(e, depth + 1));
      return Value::List(std::move(items));
    }
    case J::value_t::object: {
      Dict d;
      for (auto it = j.begin(); it != j.end(); ++it) {
        d.Set(it.key(), FromJsonImpl(it.value(), depth + 1));
      }
      return Value::FromDict(std::move(d));
    }
    default:  // binary, discarded
      return Value::None();
  }
}

int TypeRank(const Value& v) {
  return v.is_number() ? 1 : v.is_string() ? 2 : v.is_sequence() ? (v.is_tuple() ? 4 : 3) : 0;
}

}  // namespace

// ---- Dict ----

const Value* Dict::Find(std::string_view key) const {
  if (index_.empty()) {
    for (const auto& [k, v] : entries_) {
      if (k == key) return &v;
    }
    return nullptr;
  }
  size_t mask = index_.size() - 1;
  for (size_t i = HashKey(key) & mask;; i = (i + 1) & mask) {
    uint32_t slot = index_[i];
    if (slot == 0) return nullptr;
    if (entries_[slot - 1].first == key) return &entries_[slot - 1].second;
  }
}

void Dict::Set(std::string key, Value value) {
  if (const Value* v = Find(key)) {
    depth_ = std::max(depth_, value.depth() + 1);
    *const_cast<Value*>(v) = std::move(value);
    return;
  }
  depth_ = std::max(depth_, value.depth() + 1);
  entries_.emplace_back(std::move(key), std::move(value));
  if (entries_.size() > kIndexThreshold && entries_.size() * 2 > index_.size()) {
    Rehash();
  } else if (!index_.empty()) {
    size_t mask = index_.size() - 1;
    size_t i = HashKey(entries_.back().first) & mask;
    while (index_[i] != 0) i = (i + 1) & mask;
    index_[i] = static_cast<uint32_t>(entries_.size());
  }
}

void Dict::Rehash() {
  size_t cap = 16;
  while (cap < entries_.size() * 4) cap *= 2;
  index_.assign(cap, 0);
  size_t mask = cap - 1;
  for (size_t e = 0; e < entries_.size(); ++e) {
    size_t i = HashKey(entries_[e].first) & mask;
    while (index_[i] != 0) i = (i + 1) & mask;
    index_[i] = static_cast<uint32_t>(e + 1);
  }
}

// ---- Value construction ----

Value Value::Undefined(std::string hint) {
  Value v;
  if (!hint.empty()) v.obj_ = std::make_shared<std::string>(std::move(hint));
  return v;
}

Value Value::None() {
  Value v;
  v.kind_ = Kind::kNone;
  return v;
}

Value Value::Bool(bool b) {
  Value v;
  v.kind_ = Kind::kBool;
  v.b_ = b;
  v.i_ = b ? 1 : 0;
  return v;
}

Value Value::Int(int64_t i) {
  Value v;
  v.kind_ = Kind::kInt;
  v.i_ = i;
  return v;
}

Value Value::Float(double d) {
  Value v;
  v.kind_ = Kind::kFloat;
  v.d_ = d;
  return v;
}

Value Value::String(std::string s) {
  Value v;
  v.kind_ = Kind::kString;
  v.obj_ = std::make_shared<std::string>(std::move(s));
  return v;
}

Value Value::List(std::vector<Value> items) {
  Value v;
  v.kind_ = Kind::kList;
  uint32_t d = 0;
  for (const Value& item : items) d = std::max(d, item.depth());
  v.depth_ = d + 1;
  v.obj_ = std::make_shared<std::vector<Value>>(std::move(items));
  return v;
}

Value Value::Tuple(std::vector<Value> items) {
  Value v = List(std::move(items));
  v.tuple_ = true;
  return v;
}

Value Value::Generator(std::vector<Value> items) {
  Value v = List(std::move(items));
  v.generator_ = true;
  return v;
}

Value Value::FromDict(Dict d) {
  Value v;
  v.kind_ = Kind::kDict;
  v.depth_ = d.depth();
  v.obj_ = std::make_shared<Dict>(std::move(d));
  return v;
}

Value Value::NewNamespace(Dict initial) {
  Value v;
  v.kind_ = Kind::kNamespace;
  v.obj_ = std::make_shared<Dict>(std::move(initial));
  return v;
}

Value Value::Function(std::string name, NativeFunction fn) {
  Value v;
  v.kind_ = Kind::kCallable;
  v.obj_ = std::make_shared<Fn>(Fn{std::move(name), std::move(fn)});
  return v;
}

Value Value::FromJson(const nlohmann::json& j) { return FromJsonImpl(j, 0); }
Value Value::FromJson(const nlohmann::ordered_json& j) { return FromJsonImpl(j, 0); }

Result<Value> Value::ParseJson(std::string_view text) {
  try {
    return FromJson(nlohmann::ordered_json::parse(text.begin(), text.end()));
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("malformed JSON: ") + e.what());
  }
}

// ---- Accessors ----

uint32_t Value::depth() const {
  if (kind_ == Kind::kNamespace) return namespace_value().depth();
  return depth_;
}

double Value::AsDouble() const {
  if (kind_ == Kind::kFloat) return d_;
  return static_cast<double>(i_);
}

const std::string& Value::string_value() const {
  assert(kind_ == Kind::kString);
  if (kind_ != Kind::kString) return EmptyString();
  return *static_cast<const std::string*>(obj_.get());
}

const std::vector<Value>& Value::list_value() const {
  static const std::vector<Value>* empty = new std::vector<Value>();
  assert(kind_ == Kind::kList);
  if (kind_ != Kind::kList) return *empty;
  return *static_cast<const std::vector<Value>*>(obj_.get());
}

const Dict& Value::dict_value() const {
  static const Dict* empty = new Dict();
  assert(kind_ == Kind::kDict || kind_ == Kind::kNamespace);
  if (kind_ != Kind::kDict && kind_ != Kind::kNamespace) return *empty;
  return *static_cast<const Dict*>(obj_.get());
}

Dict& Value::namespace_value() const {
  static Dict* scratch = new Dict();
  assert(kind_ == Kind::kNamespace);
  if (kind_ != Kind::kNamespace) return *scratch;
  return *static_cast<Dict*>(obj_.get());
}

const std::string& Value::function_name() const {
  if (kind_ != Kind::kCallable) return EmptyString();
  return static_cast<const Fn*>(obj_.get())->name;
}

Result<Value> Value::Call(const CallArgs& args) const {
  if (kind_ != Kind::kCallable) {
    return Status::InvalidArgument(std::string("'") + TypeName() + "' object is not callable");
  }
  return static_cast<const Fn*>(obj_.get())->fn(args);
}

const std::string& Value::undefined_hint() const {
  if (kind_ != Kind::kUndefined || !obj_) return EmptyString();
  return *static_cast<const std::string*>(obj_.get());
}

std::string Value::UndefinedMessage() const {
  const std::string& h = undefined_hint();
  return h.empty() ? std::string("value is undefined") : h;
}

// ---- Python semantics ----

bool Value::Truthy() const {
  switch (kind_) {
    case Kind::kUndefined:
    case Kind::kNone:
      return false;
    case Kind::kBool:
      return b_;
    case Kind::kInt:
      return i_ != 0;
    case Kind::kFloat:
      return d_ != 0;
    case Kind::kString:
      return !string_value().empty();
    case Kind::kList:
      return generator_ || !list_value().empty();
    case Kind::kDict:
      return !dict_value().empty();
    case Kind::kNamespace:
    case Kind::kCallable:
      return true;
  }
  return false;
}

const char* Value::TypeName() const {
  switch (kind_) {
    case Kind::kUndefined:
      return "Undefined";
    case Kind::kNone:
      return "NoneType";
    case Kind::kBool:
      return "bool";
    case Kind::kInt:
      return "int";
    case Kind::kFloat:
      return "float";
    case Kind::kString:
      return "str";
    case Kind::kList:
      return generator_ ? "generator" : tuple_ ? "tuple" : "list";
    case Kind::kDict:
      return "dict";
    case Kind::kNamespace:
      return "Namespace";
    case Kind::kCallable:
      return "function";
  }
  return "object";
}

std::string Value::Str() const {
  switch (kind_) {
    case Kind::kUndefined:
      return "";
    case Kind::kString:
      return string_value();
    default: {
      std::string out;
      AppendRepr(&out, 0);
      return out;
    }
  }
}

std::string Value::Repr() const {
  std::string out;
  AppendRepr(&out, 0);
  return out;
}

void Value::AppendRepr(std::string* out, int depth) const {
  if (depth > kMaxReprDepth) {
    out->append("...");
    return;
  }
  switch (kind_) {
    case Kind::kUndefined:
      out->append("Undefined");
      return;
    case Kind::kNone:
      out->append("None");
      return;
    case Kind::kBool:
      out->append(b_ ? "True" : "False");
      return;
    case Kind::kInt:
      out->append(std::to_string(i_));
      return;
    case Kind::kFloat:
      out->append(FloatRepr(d_));
      return;
    case Kind::kString:
      out->append(StringRepr(string_value()));
      return;
    case Kind::kList: {
      if (generator_) {
        out->append("<generator object>");
        return;
      }
      const auto& items = list_value();
      out->push_back(tuple_ ? '(' : '[');
      for (size_t i = 0; i < items.size(); ++i) {
        if (i) out->append(", ");
        items[i].AppendRepr(out, depth + 1);
      }
      if (tuple_ && items.size() == 1) out->push_back(',');
      out->push_back(tuple_ ? ')' : ']');
      return;
    }
    case Kind::kDict:
    case Kind::kNamespace: {
      if (kind_ == Kind::kNamespace) out->append("<Namespace ");
      out->push_back('{');
      bool first = true;
      for (const auto& [k, v] : dict_value().entries()) {
        if (!first) out->append(", ");
        first = false;
        out->append(StringRepr(k));
        out->append(": ");
        v.AppendRepr(out, depth + 1);
      }
      out->push_back('}');
      if (kind_ == Kind::kNamespace) out->push_back('>');
      return;
    }
    case Kind::kCallable:
      out->append("<function " + function_name() + ">");
      return;
  }
}

bool Value::Equals(const Value& o) const {
  if (is_number() && o.is_number()) {
    if (kind_ != Kind::kFloat && o.kind_ != Kind::kFloat) return i_ == o.i_;
    long double a =
        kind_ == Kind::kFloat ? static_cast<long double>(d_) : static_cast<long double>(i_);
    long double b =
        o.kind_ == Kind::kFloat ? static_cast<long double>(o.d_) : static_cast<long double>(o.i_);
    return a == b;
  }
  if (kind_ != o.kind_) return false;
  switch (kind_) {
    case Kind::kUndefined:
    case Kind::kNone:
      return true;
    case Kind::kString:
      return string_value() == o.string_value();
    case Kind::kList: {
      if (generator_ || o.generator_) return obj_ == o.obj_;
      if (tuple_ != o.tuple_) return false;
      const auto& a = list_value();
      const auto& b = o.list_value();
      if (a.size() != b.size()) return false;
      for (size_t i = 0; i < a.size(); ++i) {
        if (!a[i].Equals(b[i])) return false;
      }
      return true;
    }
    case Kind::kDict: {
      const Dict& a = dict_value();
      const Dict& b = o.dict_value();
      if (a.size() != b.size()) return false;
      for (const auto& [k, v] : a.entries()) {
        const Value* w = b.Find(k);
        if (!w || !v.Equals(*w)) return false;
      }
      return true;
    }
    default:
      return obj_ == o.obj_;
  }
}

Result<bool> Value::Less(const Value& a, const Value& b) {
  int ra = TypeRank(a), rb = TypeRank(b);
  if (ra != 0 && ra == rb) {
    if (ra == 1) {
      if (!a.is_float() && !b.is_float()) return a.i_ < b.i_;
      long double x =
          a.is_float() ? static_cast<long double>(a.d_) : static_cast<long double>(a.i_);
      long double y =
          b.is_float() ? static_cast<long double>(b.d_) : static_cast<long double>(b.i_);
      return x < y;
    }
    if (ra == 2) return a.string_value() < b.string_value();
    const auto& x = a.list_value();
    const auto& y = b.list_value();
    size_t n = std::min(x.size(), y.size());
    for (size_t i = 0; i < n; ++i) {
      if (!x[i].Equals(y[i])) return Less(x[i], y[i]);
    }
    return x.size() < y.size();
  }
  if (a.is_undefined()) return Status::InvalidArgument(a.UndefinedMessage());
  if (b.is_undefined()) return Status::InvalidArgument(b.UndefinedMessage());
  return Status::InvalidArgument(std::string("'<' not supported between instances of '") +
                                 a.TypeName() + "' and '" + b.TypeName() + "'");
}

// ---- Formatting ----

std::string FloatRepr(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d < 0 ? "-inf" : "inf";
  if (d == 0) return std::signbit(d) ? "-0.0" : "0.0";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::scientific);
  std::string sci(buf, res.ptr);
  bool neg = false;
  size_t p = 0;
  if (sci[0] == '-') {
    neg = true;
    p = 1;
  }
  size_t e_pos = sci.find('e');
  std::string digits;
  for (size_t i = p; i < e_pos; ++i) {
    if (sci[i] != '.') digits.push_back(sci[i]);
  }
  int exp = std::atoi(sci.c_str() + e_pos + 1);
  std::string out = neg ? "-" : "";
  if (exp < -4 || exp >= 16) {
    out.push_back(digits[0]);
    if (digits.size() > 1) {
      out.push_back('.');
      out.append(digits, 1, std::string::npos);
    }
    char eb[16];
    std::snprintf(eb, sizeof(eb), "e%c%02d", exp < 0 ? '-' : '+', exp < 0 ? -exp : exp);
    out.append(eb);
    return out;
  }
  if (exp < 0) {
    out.append("0.");
    out.append(static_cast<size_t>(-exp - 1), '0');
    out.append(digits);
    return out;
  }
  size_t int_len = static_cast<size_t>(exp) + 1;
  if (digits.size() <= int_len) {
    out.append(digits);
    out.append(int_len - digits.size(), '0');
    out.append(".0");
  } else {
    out.append(digits, 0, int_len);
    out.push_back('.');
    out.append(digits, int_len, std::string::npos);
  }
  return out;
}

std::string StringRepr(std::string_view s) {
  bool has_single = s.find('\'') != std::string_view::npos;
  bool has_double = s.find('"') != std::string_view::npos;
  char quote = (has_single && !has_double) ? '"' : '\'';
  std::string out;
  out.reserve(s.size() + 2);
  out.push_back(quote);
  size_t pos = 0;
  char buf[16];
  while (pos < s.size()) {
    size_t start = pos;
    uint32_t c = pystr::DecodeNext(s, &pos);
    if (c == static_cast<uint32_t>(quote) || c == '\\') {
      out.push_back('\\');
      out.push_back(static_cast<char>(c));
    } else if (c == '\t') {
      out.append("\\t");
    } else if (c == '\n') {
      out.append("\\n");
    } else if (c == '\r') {
      out.append("\\r");
    } else if (c < 0x20 || c == 0x7F) {
      std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      out.append(buf);
    } else if (c < 0x7F) {
      out.push_back(static_cast<char>(c));
    } else if (pystr::IsPrintable(c)) {
      out.append(s.substr(start, pos - start));
    } else {
      if (c <= 0xFF) {
        std::snprintf(buf, sizeof(buf), "\\x%02x", c);
      } else if (c <= 0xFFFF) {
        std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      } else {
        std::snprintf(buf, sizeof(buf), "\\U%08x", c);
      }
      out.append(buf);
    }
  }
  out.push_back(quote);
  return out;
}

}  // namespace ccguard::jinja

#include "jinja/access.h"

#include <algorithm>
#include <optional>

#include "jinja/call_args.h"
#include "jinja/format.h"
#include "jinja/pystring.h"

namespace ccguard::jinja {

namespace {

// Jinja2's object_type_repr.
std::string ObjectTypeRepr(const Value& v) {
  if (v.is_none()) return "None";
  if (v.is_namespace()) return "jinja2.utils.Namespace object";
  return std::string(v.TypeName()) + " object";
}

Value NoAttribute(const Value& obj, std::string_view name) {
  return Value::Undefined(StringRepr(ObjectTypeRepr(obj)) + " has no attribute " +
                          StringRepr(name));
}

Value NoElement(const Value& obj, const Value& key) {
  return Value::Undefined(ObjectTypeRepr(obj) + " has no element " + key.Repr());
}

Value Unsafe(const Value& obj, std::string_view name) {
  return Value::Undefined("access to attribute " + StringRepr(name) + " of " +
                          StringRepr(obj.TypeName()) + " object is unsafe.");
}

template <size_t N>
bool IsOneOf(std::string_view name, const std::string_view (&names)[N]) {
  return std::find(std::begin(names), std::end(names), name) != std::end(names);
}

constexpr std::string_view kStrMethods[] = {
    "capitalize", "casefold",  "center",     "count",      "endswith",     "find",
    "format",     "index",     "isalnum",    "isalpha",    "isdecimal",    "isdigit",
    "islower",    "isnumeric", "isspace",    "istitle",    "isupper",      "join",
    "ljust",      "lower",     "lstrip",     "partition",  "removeprefix", "removesuffix",
    "replace",    "rfind",     "rindex",     "rjust",      "rpartition",   "rsplit",
    "rstrip",     "split",     "splitlines", "startswith", "strip",        "swapcase",
    "title",      "upper",     "zfill"};
constexpr std::string_view kDictMethods[] = {"items", "keys", "values", "get", "copy"};
constexpr std::string_view kDictUnsafe[] = {"clear", "pop", "popitem", "setdefault", "update"};
constexpr std::string_view kListMethods[] = {"count", "index", "copy"};
constexpr std::string_view kListUnsafe[] = {"append", "clear",  "extend",  "insert",
                                            "pop",    "remove", "reverse", "sort"};

Value BoundMethod(const Value& self, std::string_view name) {
  std::string n(name);
  return Value::Function(std::string(self.TypeName()) + "." + n,
                         [self, n](const CallArgs& args) { return CallMethod(self, n, args); });
}

// Returns the method value if `name` is a method of obj's type (or an unsafe one).
std::optional<Value> LookupMethod(const Value& obj, std::string_view name) {
  if (obj.is_string() && IsOneOf(name, kStrMethods)) return BoundMethod(obj, name);
  if (obj.is_dict()) {
    if (IsOneOf(name, kDictMethods)) return BoundMethod(obj, name);
    if (IsOneOf(name, kDictUnsafe)) return Unsafe(obj, name);
  }
  if (obj.is_sequence()) {
    if (IsOneOf(name, kListMethods)) return BoundMethod(obj, name);
    if (!obj.is_tuple() && IsOneOf(name, kListUnsafe)) return Unsafe(obj, name);
  }
  return std::nullopt;
}

Value StrList(std::vector<std::string> parts) {
  std::vector<Value> items;
  items.reserve(parts.size());
  for (auto& p : parts) items.push_back(Value::String(std::move(p)));
  return Value::List(std::move(items));
}

Result<bool> AffixMatch(const std::string& s, const Value& affix, const BoundArgs& b, bool at_end,
                        std::string_view fn) {
  CCG_ASSIGN_OR_RETURN(auto start, ToOptIndex(b.Get(1), fn));
  CCG_ASSIGN_OR_RETURN(auto end, ToOptIndex(b.Get(2), fn));
  std::vector<std::string> options;
  if (affix.is_tuple()) {
    for (const Value& v : affix.list_value()) {
      if (!v.is_string()) {
        return Status::InvalidArgument(std::string("tuple for ") + std::string(fn) +
                                       " must only contain str, not " + v.TypeName());
      }
      options.push_back(v.string_value());
    }
  } else if (affix.is_string()) {
    options.push_back(affix.string_value());
  } else {
    return Status::InvalidArgument(
        std::string(fn) + " first arg must be str or a tuple of str, not " + affix.TypeName());
  }
  for (const auto& o : options) {
    if (at_end ? pystr::EndsWith(s, o, start, end) : pystr::StartsWith(s, o, start, end)) {
      return true;
    }
  }
  return false;
}

template <class Pred>
Value AllChars(const std::string& s, Pred pred) {
  if (s.empty()) return Value::Bool(false);
  size_t pos = 0;
  while (pos < s.size()) {
    if (!pred(pystr::DecodeNext(s, &pos))) return Value::Bool(false);
  }
  return Value::Bool(true);
}

Result<Value> StrMethod(const std::string& s, std::string_view name, const CallArgs& args) {
  std::string fn = "str." + std::string(name);
  auto bind = [&](const std::vector<std::string_view>& params, size_t required) {
    return BoundArgs::Bind(fn, args, params, required);
  };
  if (name == "startswith" || name == "endswith") {
    CCG_ASSIGN_OR_RETURN(BoundArgs b, bind({"prefix", "start", "end"}, 1));
    CCG_ASSIGN_OR_RETURN(bool r, AffixMatch(s, *b.Get(0), b, name == "endswith", name));
    return Value::Bool(r);
  }
  if (name == "split" || name == "rsplit") {
    CCG_ASSIGN_OR_RETURN(BoundArgs b, bind({"sep", "maxsplit"}, 0));
    CCG_ASSIGN_OR_RETURN(auto sep, ToOptStr(b.Get(0), fn));
    int64_t maxsplit = -1;
    if (b.Get(1)) {
      CCG_ASSIGN_OR_RETURN(maxsplit, ToIndex(*b.Get(1), fn));
    }
    if (sep && sep->empty()) return Status::InvalidArgument("empty separator");
    return StrList(name == "split" ? pystr::Split(s, sep, maxsplit)
                                   : pystr::RSplit(s, sep, maxsplit));
  }
  if (name == "strip" || name == "lstrip" || name == "rstrip") {
    CCG_ASSIGN_OR_RETURN(BoundArgs b, bind({"chars"}, 0));
    CCG_ASSIGN_OR_RETURN(auto chars, ToOptStr(b.Get(0), fn));
    return Value::String(pystr::Strip(s, chars, name != "rstrip", name != "lstrip"));
  }
  if (name == "upper" || name == "lower" || name == "casefold" || name == "title" ||
      name == "capitalize" || name == "swapcase") {
    CCG_RETURN_IF_ERROR(bind({}, 0).status());
    if (name == "upper") return Value::String(pystr::Upper(s));
    if (name == "lower" || name == "casefold") return Value::String(pystr::Lower(s));
    if (name == "title") return Value::String(pystr::Title(s));
    if (name == "capitalize") return Value::String(pystr::Capitalize(s));
    return Value::String(pystr::SwapCase(s));
  }
  if (name == "replace") {
    CCG_ASSIGN_OR_RETURN(BoundArgs b, bind({"old", "new", "count"}, 2));
    CCG_ASSIGN_OR_RETURN(std::string old, ToStr(*b.Get(0), fn));
    CCG_ASSIGN_OR_RETURN(std::string repl, ToStr(*b.Get(1), fn));
    int64_t count = -1;
    if (b.Get(2)) {
      CCG_ASSIGN_OR_RETURN(count, ToIndex(*b.Get(2), fn));
    }
    return Value::String(pystr::Replace(s, old, repl, count));
  }
  if (name == "find" || name == "rfind" || name == "index" || name == "rindex" || name == "count") {
    CCG_ASSIGN_OR_RETURN(BoundArgs b, bind({"sub", "start", "end"}, 1));
    CCG_ASSIGN_OR_RETURN(std::string sub, ToStr(*b.Get(0), fn));
    CCG_ASSIGN_OR_RETURN(auto start, ToOptIndex(b.Get(1), fn));
    CCG_ASSIGN_OR_RETURN(auto end, ToOptIndex(b.Get(2), fn));
    if (name == "count") return Value::Int(pystr::Count(s, sub, start, end));
    int64_t r = pystr::Find(s, sub, start, end, name[0] == 'r');
    if (r < 0 && (name == "index" || name == "rindex")) {
      return Status::InvalidArgument("substring not found");
    }
    return Value::Int(r);
  }
  if (name == "join") {
    CCG_ASSIGN_OR_RETURN(BoundArgs b, bind({"iterable"}, 1));
    CCG_ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(*b.Get(0)));
    std::string out;
    for (size_t i = 0; i < items.size(); ++i) {
      if (!items[i].is_string()) {
        return Status::InvalidArgument("sequence item " + std::to_string(i) +
                                       ": expected str instance, " + items[i].TypeName() +
                                       " found");
      }
      if (i) out += s;
      out += items[i].string_value();
    }
    return Value::String(std::move(out));
  }
  if (name == "center" || name == "ljust" || name == "rjust") {
    CCG_ASSIGN_OR_RETURN(BoundArgs b, bind({"width", "fillchar"}, 1));
    CCG_ASSIGN_OR_RETURN(int64_t width, ToIndex(*b.Get(0), fn));
    uint32_t fill = ' ';
    if (b.Get(1)) {
      CCG_ASSIGN_OR_RETURN(std::string f, ToStr(*b.Get(1), fn));
      if (pystr::Length(f) != 1) {
        return Status::InvalidArgument("The fill character must be exactly one character long");
      }
      size_t p = 0;
      fill = pystr::DecodeNext(f, &p);
    }
    if (width > (1 << 26)) return Status::ResourceExhausted(fn + ": width too large");
    return Value::String(pystr::Pad(s, width, fill,
                                    name == "center"  ? 0
                                    : name == "ljust" ? -1
                                                      : 1));
  }
  if (name == "zfill") {
    CCG_ASSIGN_OR_RETURN(BoundArgs b, bind({"width"}, 1));
    CCG_ASSIGN_OR_RETURN(int64_t width, ToIndex(*b.Get(0), fn));
    if (width > (1 << 26)) return Status::ResourceExhausted(fn + ": width too large");
    int64_t len = static_cast<int64_t>(pystr::Length(s));
    if (width <= len) return Value::String(s);
    std::string out;
    size_t sign = (!s.empty() && (s[0] == '+' || s[0] == '-')) ? 1 : 0;
    out.append(s, 0, sign);
    out.append(static_cast<size_t>(width - len), '0');
    out.append(s, sign, std::string::npos);
    return Value::String(std::move(out));
  }
  if (name == "partition" || name == "rpartition") {
    CCG_ASSIGN_OR_RETURN(BoundArgs b, bind({"sep"}, 1));
    CCG_ASSIGN_OR_RETURN(std::string sep, ToStr(*b.Get(0), fn));
    if (sep.empty()) return Status::InvalidArgument("empty separator");
    size_t at = name == "partition" ? s.find(sep) : s.rfind(sep);
    std::vector<Value> parts;
    if (at == std::string::npos) {
      if (name == "partition") {
        parts = {Value::String(s), Value::String(""), Value::String("")};
      } else {
        parts = {Value::String(""), Value::String(""), Value::String(s)};
      }
    } else {
      parts = {Value::String(s.substr(0, at)), Value::String(sep),
               Value::String(s.substr(at + sep.size()))};
    }
    return Value::Tuple(std::move(parts));
  }
  if (name == "removeprefix" || name == "removesuffix") {
    CCG_ASSIGN_OR_RETURN(BoundArgs b, bind({"affix"}, 1));
    CCG_ASSIGN_OR_RETURN(std::string a, ToStr(*b.Get(0), fn));
    if (name == "removeprefix") {
      if (s.compare(0, a.size(), a) == 0) return Value::String(s.substr(a.size()));
    } else if (s.size() >= a.size() && s.compare(s.size() - a.size(), a.size(), a) == 0) {
      return Value::String(s.substr(0, s.size() - a.size()));
    }
    return Value::String(s);
  }
  if (name == "splitlines") {
    CCG_ASSIGN_OR_RETURN(BoundArgs b, bind({"keepends"}, 0));
    if (b.Get(0) && b.Get(0)->Truthy()) {
      return Status::NotSupported("str.splitlines(keepends=True) is not supported");
    }
    return StrList(pystr::SplitLines(s));
  }
  if (name == "format") {
    CCG_ASSIGN_OR_RETURN(std::string out, StrFormat(s, args));
    return Value::String(std::move(out));
  }
  if (name == "isspace") return AllChars(s, pystr::IsSpace);
  if (name == "isalnum") return AllChars(s, pystr::IsAlnum);
  if (name == "isalpha") {
    return AllChars(s, pystr::IsAlpha);
  }
  if (name == "isdigit" || name == "isdecimal" || name == "isnumeric") {
    return AllChars(s, pystr::IsDecimal);
  }
  if (name == "isupper" || name == "islower") {
    bool upper = name == "isupper";
    bool any_cased = false;
    size_t pos = 0;
    while (pos < s.size()) {
      uint32_t c = pystr::DecodeNext(s, &pos);
      if (!pystr::IsCased(c)) continue;
      any_cased = true;
      if (upper ? pystr::ToUpper(c) != c : pystr::ToLower(c) != c) return Value::Bool(false);
    }
    return Value::Bool(any_cased);
  }
  if (name == "istitle") return Value::Bool(!s.empty() && pystr::Title(s) == s);
  return Status::InvalidArgument("'str' object has no attribute '" + std::string(name) + "'");
}

Result<Value> DictMethod(const Value& self, std::string_view name, const CallArgs& args) {
  std::string fn = "dict." + std::string(name);
  const Dict& d = self.dict_value();
  if (name == "get") {
    CCG_ASSIGN_OR_RETURN(BoundArgs b, BoundArgs::Bind(fn, args, {"key", "default"}, 1));
    const Value& key = *b.Get(0);
    if (key.is_string()) {
      if (const Value* v = d.Find(key.string_value())) return *v;
    }
    return b.GetOr(1, Value::None());
  }
  CCG_RETURN_IF_ERROR(BoundArgs::Bind(fn, args, {}, 0).status());
  if (name == "copy") return self;
  std::vector<Value> out;
  out.reserve(d.size());
  for (const auto& [k, v] : d.entries()) {
    if (name == "items") {
      out.push_back(Value::Tuple({Value::String(k), v}));
    } else if (name == "keys") {
      out.push_back(Value::String(k));
    } else {
      out.push_back(v);
    }
  }
  return Value::List(std::move(out));
}

Result<Value> ListMethod(const Value& self, std::string_view name, const CallArgs& args) {
  std::string fn = std::string(self.TypeName()) + "." + std::string(name);
  const auto& items = self.list_value();
  if (name == "copy") {
    CCG_RETURN_IF_ERROR(BoundArgs::Bind(fn, args, {}, 0).status());
    return self;
  }
  CCG_ASSIGN_OR_RETURN(BoundArgs b, BoundArgs::Bind(fn, args, {"value", "start", "stop"}, 1));
  const Value& x = *b.Get(0);
  if (name == "count") {
    int64_t n = 0;
    for (const Value& v : items) n += v.Equals(x) ? 1 : 0;
    return Value::Int(n);
  }
  int64_t begin, end;
  CCG_ASSIGN_OR_RETURN(auto start, ToOptIndex(b.Get(1), fn));
  CCG_ASSIGN_OR_RETURN(auto stop, ToOptIndex(b.Get(2), fn));
  pystr::AdjustIndices(start, stop, static_cast<int64_t>(items.size()), &begin, &end);
  for (int64_t i = begin; i < end; ++i) {
    if (items[i].Equals(x)) return Value::Int(i);
  }
  return Status::InvalidArgument(x.Repr() + " is not in list");
}

// Python slice index normalisation (PySlice_AdjustIndices); returns the item count.
int64_t AdjustSlice(int64_t len, std::optional<int64_t> start_in, std::optional<int64_t> stop_in,
                    int64_t step, int64_t* start, int64_t* stop) {
  auto fix = [&](std::optional<int64_t> v, bool is_start) {
    if (!v) {
      if (is_start) return step < 0 ? len - 1 : 0;
      return step < 0 ? -1 : len;
    }
    int64_t x = *v;
    if (x < 0) {
      x += len;
      if (x < 0) x = step < 0 ? -1 : 0;
    } else if (x >= len) {
      x = step < 0 ? len - 1 : len;
    }
    return x;
  };
  *start = fix(start_in, true);
  *stop = fix(stop_in, false);
  if (step < 0) {
    if (*stop < *start) return (*start - *stop - 1) / (-step) + 1;
  } else if (*start < *stop) {
    return (*stop - *start - 1) / step + 1;
  }
  return 0;
}

}  // namespace

Result<Value> GetAttr(const Value& obj, std::string_view name) {
  if (obj.is_undefined()) return Status::InvalidArgument(obj.UndefinedMessage());
  if (std::optional<Value> m = LookupMethod(obj, name)) return *m;
  if (obj.is_dict() || obj.is_namespace()) {
    if (const Value* v = obj.dict_value().Find(name)) return *v;
  }
  return NoAttribute(obj, name);
}

Result<Value> GetItem(const Value& obj, const Value& key) {
  if (obj.is_undefined()) return Status::InvalidArgument(obj.UndefinedMessage());
  if (obj.is_dict() && key.is_string()) {
    if (const Value* v = obj.dict_value().Find(key.string_value())) return *v;
  } else if ((obj.is_sequence() || obj.is_string()) && (key.is_int() || key.is_bool())) {
    int64_t i = key.int_value();
    if (obj.is_list()) {
      const auto& items = obj.list_value();
      int64_t n = static_cast<int64_t>(items.size());
      if (i < 0) i += n;
      if (i >= 0 && i < n) return items[i];
    } else {
      const std::string& s = obj.string_value();
      if (i >= 0) {
        size_t pos = 0;
        for (int64_t k = 0; pos < s.size(); ++k) {
          size_t start = pos;
          pystr::DecodeNext(s, &pos);
          if (k == i) return Value::String(s.substr(start, pos - start));
        }
      } else {
        std::vector<uint32_t> cps = pystr::CodePoints(s);
        int64_t n = static_cast<int64_t>(cps.size());
        if (i + n >= 0) return Value::String(pystr::FromCodePoints(cps, i + n, i + n + 1));
      }
    }
  }
  // Fall back to attribute lookup for string keys (Jinja's getitem).
  if (key.is_string()) {
    if (std::optional<Value> m = LookupMethod(obj, key.string_value())) return *m;
    if (obj.is_namespace()) {
      if (const Value* v = obj.dict_value().Find(key.string_value())) return *v;
    }
    return NoAttribute(obj, key.string_value());
  }
  return NoElement(obj, key);
}

Result<Value> GetSlice(const Value& obj, const Value* start, const Value* stop, const Value* step) {
  // Jinja compiles slices to plain Python subscripts, so failures are errors here (unlike
  // obj[key], which gives undefined).
  if (obj.is_undefined()) return Status::InvalidArgument(obj.UndefinedMessage());
  if (obj.is_dict()) return Status::InvalidArgument("unhashable type: 'slice'");
  if (!obj.is_sequence() && !obj.is_string()) {
    return Status::InvalidArgument(std::string("'") + obj.TypeName() +
                                   "' object is not subscriptable");
  }
  auto as_index = [](const Value* v, std::optional<int64_t>* out) -> Status {
    if (!v || v->is_none()) return Status::Ok();
    if (v->is_undefined()) return Status::InvalidArgument(v->UndefinedMessage());
    if (!v->is_int() && !v->is_bool()) {
      return Status::InvalidArgument(
          "slice indices must be integers or None or have an __index__ method");
    }
    *out = v->int_value();
    return Status::Ok();
  };
  std::optional<int64_t> b, e, st;
  CCG_RETURN_IF_ERROR(as_index(start, &b));
  CCG_RETURN_IF_ERROR(as_index(stop, &e));
  CCG_RETURN_IF_ERROR(as_index(step, &st));
  int64_t s = st.value_or(1);
  if (s == 0) return Status::InvalidArgument("slice step cannot be zero");
  if (obj.is_list()) {
    const auto& items = obj.list_value();
    int64_t from, to;
    int64_t n = AdjustSlice(static_cast<int64_t>(items.size()), b, e, s, &from, &to);
    std::vector<Value> out;
    out.reserve(n);
    for (int64_t k = 0, i = from; k < n; ++k, i += s) out.push_back(items[i]);
    return obj.is_tuple() ? Value::Tuple(std::move(out)) : Value::List(std::move(out));
  }
  std::vector<uint32_t> cps = pystr::CodePoints(obj.string_value());
  int64_t from, to;
  int64_t n = AdjustSlice(static_cast<int64_t>(cps.size()), b, e, s, &from, &to);
  std::string out;
  for (int64_t k = 0, i = from; k < n; ++k, i += s) pystr::AppendCodePoint(cps[i], &out);
  return Value::String(std::move(out));
}

Result<std::vector<Value>> Iterate(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined:
      return std::vector<Value>();
    case Value::Kind::kList:
      return v.list_value();
    case Value::Kind::kDict: {
      std::vector<Value> keys;
      keys.reserve(v.dict_value().size());
      for (const auto& [k, unused] : v.dict_value().entries()) keys.push_back(Value::String(k));
      return keys;
    }
    case Value::Kind::kString: {
      std::vector<Value> chars;
      const std::string& s = v.string_value();
      size_t pos = 0;
      while (pos < s.size()) {
        size_t start = pos;
        pystr::DecodeNext(s, &pos);
        chars.push_back(Value::String(s.substr(start, pos - start)));
      }
      return chars;
    }
    default:
      return Status::InvalidArgument(std::string("'") + v.TypeName() + "' object is not iterable");
  }
}

Result<int64_t> Length(const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kUndefined:
      return 0;
    case Value::Kind::kString:
      return static_cast<int64_t>(pystr::Length(v.string_value()));
    case Value::Kind::kList:
      if (v.is_generator()) {
        return Status::InvalidArgument("object of type 'generator' has no len()");
      }
      return static_cast<int64_t>(v.list_value().size());
    case Value::Kind::kDict:
      return static_cast<int64_t>(v.dict_value().size());
    default:
      return Status::InvalidArgument(std::string("object of type '") + v.TypeName() +
                                     "' has no len()");
  }
}

Result<bool> Contains(const Value& haystack, const Value& needle) {
  switch (haystack.kind()) {
    case Value::Kind::kUndefined:
      return false;
    case Value::Kind::kString:
      if (!needle.is_string()) {
        if (needle.is_undefined()) return Status::InvalidArgument(needle.UndefinedMessage());
        return Status::InvalidArgument(std::string("'in <string>' requires string as left "
                                                   "operand, not ") +
                                       needle.TypeName());
      }
      return haystack.string_value().find(needle.string_value()) != std::string::npos;
    case Value::Kind::kList:
      for (const Value& v : haystack.list_value()) {
        if (v.Equals(needle)) return true;
      }
      return false;
    case Value::Kind::kDict:
      if (!needle.is_string()) {
        if (needle.is_sequence() && !needle.is_tuple()) {
          return Status::InvalidArgument("unhashable type: 'list'");
        }
        return false;
      }
      return haystack.dict_value().Find(needle.string_value()) != nullptr;
    default:
      return Status::InvalidArgument(std::string("argument of type '") + haystack.TypeName() +
                                     "' is not iterable");
  }
}

Result<Value> CallMethod(const Value& self, std::string_view name, const CallArgs& args) {
  if (self.is_string()) return StrMethod(self.string_value(), name, args);
  if (self.is_dict()) return DictMethod(self, name, args);
  if (self.is_sequence()) return ListMethod(self, name, args);
  return Status::InvalidArgument(std::string("'") + self.TypeName() + "' object has no method '" +
                                 std::string(name) + "'");
}

}  // namespace ccguard::jinja

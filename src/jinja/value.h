// Value: a Jinja/Python value as seen by templates.
//
// Kinds: undefined, none, bool, int (int64), float (double), string (UTF-8 bytes; Python
// semantics are applied per code point where it matters), list (or tuple, or generator), dict
// (insertion-ordered, string keys), namespace (a mutable attribute bag created by
// `namespace(...)`) and callable (a native function).
//
// Values are cheap to copy: strings, lists, dicts and callables are shared, immutable
// objects, safe to share between threads. A namespace is shared *and* mutable (Python
// reference semantics); templates create their own with namespace(...), and a namespace
// passed in a render context must not be shared by concurrent renders.
//
// Str() and Repr() follow Python's str() and repr(): 1.0 prints "1.0", True prints "True",
// None prints "None", lists print as "['a', 1]".
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/status.h"

namespace ccguard::jinja {

class Value;
class Dict;
struct CallArgs;

// A native function. It must be thread-safe if the Value is shared between renders.
using NativeFunction = std::function<Result<Value>(const CallArgs&)>;

class Value {
 public:
  enum class Kind {
    kUndefined,
    kNone,
    kBool,
    kInt,
    kFloat,
    kString,
    kList,
    kDict,
    kNamespace,
    kCallable
  };

  // An undefined value. `hint` is the message of the error raised when it is used in a
  // way Jinja2 forbids (e.g. "'foo' is undefined").
  Value() = default;
  static Value Undefined(std::string hint = {});
  static Value None();
  static Value Bool(bool b);
  static Value Int(int64_t i);
  static Value Float(double d);
  static Value String(std::string s);
  static Value List(std::vector<Value> items);
  static Value Tuple(std::vector<Value> items);
  // A one-shot iterator as Jinja's select/map/... filters return (Python generators):
  // iterable, always true, but without len(), indexing or a printable value.
  static Value Generator(std::vector<Value> items);
  static Value FromDict(Dict d);
  // A callable; `name` is used in error messages and repr.
  static Value Function(std::string name, NativeFunction fn);

  // JSON -> Value: objects become dicts in the JSON object's iteration order (nlohmann::json
  // sorts keys; use the ordered_json overload or ParseJson to keep the document's order, as
  // Python's json module does), numbers become int when integral in the JSON text.
  static Value FromJson(const nlohmann::json& j);
  static Value FromJson(const nlohmann::ordered_json& j);
  // Parses JSON text keeping object key order.
  static Result<Value> ParseJson(std::string_view text);

  Kind kind() const { return kind_; }
  bool is_undefined() const { return kind_ == Kind::kUndefined; }
  bool is_none() const { return kind_ == Kind::kNone; }
  bool is_bool() const { return kind_ == Kind::kBool; }
  bool is_int() const { return kind_ == Kind::kInt; }
  bool is_float() const { return kind_ == Kind::kFloat; }
  // bool, int or float (Python's numbers.Number).
  bool is_number() const {
    return kind_ == Kind::kBool || kind_ == Kind::kInt || kind_ == Kind::kFloat;
  }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_list() const { return kind_ == Kind::kList; }  // lists, tuples, generators
  bool is_tuple() const { return kind_ == Kind::kList && tuple_; }
  bool is_generator() const { return kind_ == Kind::kList && generator_; }
  // A real list or tuple (not a generator).
  bool is_sequence() const { return kind_ == Kind::kList && !generator_; }
  bool is_dict() const { return kind_ == Kind::kDict; }
  bool is_namespace() const { return kind_ == Kind::kNamespace; }
  bool is_callable() const { return kind_ == Kind::kCallable; }

  // Accessors; calling one for another kind is a bug (asserts, returns a default).
  bool bool_value() const { return b_; }
  int64_t int_value() const { return i_; }  // bool gives 0/1
  double float_value() const { return d_; }
  // int/bool/float as double.
  double AsDouble() const;
  const std::string& string_value() const;
  const std::vector<Value>& list_value() const;
  const Dict& dict_value() const;
  // Namespaces are mutable through any copy.
  Dict& namespace_value() const;
  const std::string& function_name() const;
  Result<Value> Call(const CallArgs& args) const;
  // The undefined hint, or "" for other kinds.
  const std::string& undefined_hint() const;
  // The error message for using an undefined value: its hint, or "value is undefined".
  std::string UndefinedMessage() const;

  // Python truthiness (undefined is false).
  bool Truthy() const;
  // Python str() (undefined -> "").
  std::string Str() const;
  // Python repr() (undefined -> "Undefined").
  std::string Repr() const;
  // Python type name ("str", "int", "NoneType", ...).
  const char* TypeName() const;
  // Python ==. Undefined equals only undefined.
  bool Equals(const Value& other) const;
  // Python <; an error for unordered types.
  static Result<bool> Less(const Value& a, const Value& b);

  // Creates a namespace (used by the `namespace()` global).
  static Value NewNamespace(Dict initial);

  // Container nesting depth: 0 for scalars, 1 + the deepest element for lists, dicts and
  // namespaces. The interpreter bounds it so that deep structures cannot exhaust the stack.
  uint32_t depth() const;

 private:
  Kind kind_ = Kind::kUndefined;
  bool b_ = false;
  bool tuple_ = false;
  bool generator_ = false;
  int64_t i_ = 0;
  uint32_t depth_ = 0;
  double d_ = 0;
  std::shared_ptr<void> obj_;  // std::string, std::vector<Value>, Dict, Dict (namespace), Fn
  void AppendRepr(std::string* out, int depth) const;
};

// Arguments of a call: positional then keyword (in call order).
struct CallArgs {
  std::vector<Value> args;
  std::vector<std::pair<std::string, Value>> kwargs;
};

// An insertion-ordered mapping from string keys to values.
class Dict {
 public:
  Dict() = default;
  size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  // Null when absent.
  const Value* Find(std::string_view key) const;
  // Inserts or replaces (a replaced key keeps its position, as in Python).
  void Set(std::string key, Value value);
  const std::vector<std::pair<std::string, Value>>& entries() const { return entries_; }
  // Nesting depth: 1 + the deepest value stored (an upper bound after replacements).
  uint32_t depth() const { return depth_; }

 private:
  std::vector<std::pair<std::string, Value>> entries_;
  uint32_t depth_ = 1;
  std::vector<uint32_t> index_;  // open-addressing hash table into entries_ (when large)
  void Rehash();
};

// Python float repr: shortest round-trip digits, "1.0", "1e+16", "1.5e-05", "inf", "nan".
std::string FloatRepr(double d);
// Python repr of a str (quotes chosen as Python does, non-printables escaped).
std::string StringRepr(std::string_view s);

}  // namespace ccguard::jinja

#include "jinja/call_args.h"

namespace ccguard::jinja {

Result<BoundArgs> BoundArgs::Bind(std::string_view fn, const CallArgs& args,
                                  const std::vector<std::string_view>& params, size_t required) {
  BoundArgs b;
  b.values_.resize(params.size());
  b.given_.assign(params.size(), false);
  if (args.args.size() > params.size()) {
    return Status::InvalidArgument(std::string(fn) + "() takes at most " +
                                   std::to_string(params.size()) + " argument(s) (" +
                                   std::to_string(args.args.size()) + " given)");
  }
  for (size_t i = 0; i < args.args.size(); ++i) {
    b.values_[i] = args.args[i];
    b.given_[i] = true;
  }
  for (const auto& [name, value] : args.kwargs) {
    size_t i = 0;
    while (i < params.size() && params[i] != name) ++i;
    if (i == params.size()) {
      return Status::InvalidArgument(std::string(fn) + "() got an unexpected keyword argument '" +
                                     name + "'");
    }
    if (b.given_[i]) {
      return Status::InvalidArgument(std::string(fn) + "() got multiple values for argument '" +
                                     name + "'");
    }
    b.values_[i] = value;
    b.given_[i] = true;
  }
  for (size_t i = 0; i < required; ++i) {
    if (!b.given_[i]) {
      return Status::InvalidArgument(std::string(fn) + "() missing required argument '" +
                                     std::string(params[i]) + "'");
    }
  }
  return b;
}

Result<int64_t> ToIndex(const Value& v, std::string_view what) {
  if (v.is_int() || v.is_bool()) return v.int_value();
  if (v.is_undefined()) return Status::InvalidArgument(v.UndefinedMessage());
  return Status::InvalidArgument(std::string(what) + ": '" + v.TypeName() +
                                 "' object cannot be interpreted as an integer");
}

Result<std::optional<int64_t>> ToOptIndex(const Value* v, std::string_view what) {
  if (!v || v->is_none()) return std::optional<int64_t>();
  CCG_ASSIGN_OR_RETURN(int64_t i, ToIndex(*v, what));
  return std::optional<int64_t>(i);
}

Result<std::string> ToStr(const Value& v, std::string_view what) {
  if (v.is_string()) return v.string_value();
  if (v.is_undefined()) return Status::InvalidArgument(v.UndefinedMessage());
  return Status::InvalidArgument(std::string(what) + " must be str, not " + v.TypeName());
}

Result<std::optional<std::string>> ToOptStr(const Value* v, std::string_view what) {
  if (!v || v->is_none()) return std::optional<std::string>();
  CCG_ASSIGN_OR_RETURN(std::string s, ToStr(*v, what));
  return std::optional<std::string>(std::move(s));
}

}  // namespace ccguard::jinja

#include "jinja/globals.h"

#include <sys/time.h>

#include <ctime>
#include <memory>
#include <string>

#include "jinja/access.h"
#include "jinja/call_args.h"

namespace ccguard::jinja {

namespace {

constexpr int64_t kMaxRange = 100000;  // jinja2.sandbox.MAX_RANGE

Result<Value> Range(const CallArgs& a) {
  if (!a.kwargs.empty()) return Status::InvalidArgument("range() takes no keyword arguments");
  if (a.args.empty() || a.args.size() > 3) {
    return Status::InvalidArgument("range expected 1 to 3 arguments, got " +
                                   std::to_string(a.args.size()));
  }
  int64_t v[3];
  for (size_t i = 0; i < a.args.size(); ++i) {
    CCG_ASSIGN_OR_RETURN(v[i], ToIndex(a.args[i], "range"));
  }
  int64_t start = 0, stop, step = 1;
  if (a.args.size() == 1) {
    stop = v[0];
  } else {
    start = v[0];
    stop = v[1];
    if (a.args.size() == 3) step = v[2];
  }
  if (step == 0) return Status::InvalidArgument("range() arg 3 must not be zero");
  // Length without overflow.
  uint64_t len = 0;
  if (step > 0 && start < stop) {
    uint64_t diff = static_cast<uint64_t>(stop) - static_cast<uint64_t>(start);
    len = (diff - 1) / static_cast<uint64_t>(step) + 1;
  } else if (step < 0 && start > stop) {
    uint64_t diff = static_cast<uint64_t>(start) - static_cast<uint64_t>(stop);
    uint64_t mag = static_cast<uint64_t>(-(step + 1)) + 1;
    len = (diff - 1) / mag + 1;
  }
  if (len > static_cast<uint64_t>(kMaxRange)) {
    return Status::ResourceExhausted(
        "Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
  }
  std::vector<Value> out;
  out.reserve(static_cast<size_t>(len));
  for (int64_t i = 0; i < static_cast<int64_t>(len); ++i)
    out.push_back(Value::Int(start + i * step));
  return Value::List(std::move(out));
}

Result<Value> RaiseException(const CallArgs& a) {
  CCG_ASSIGN_OR_RETURN(BoundArgs b, BoundArgs::Bind("raise_exception", a, {"message"}, 1));
  return Status::InvalidArgument(b.Get(0)->Str());
}

Result<Value> StrftimeNow(const CallArgs& a) {
  CCG_ASSIGN_OR_RETURN(BoundArgs b, BoundArgs::Bind("strftime_now", a, {"format"}, 1));
  CCG_ASSIGN_OR_RETURN(std::string fmt, ToStr(*b.Get(0), "strftime_now"));
  if (fmt.size() > 4096) return Status::InvalidArgument("strftime_now: format too long");
  struct timeval tv;
  gettimeofday(&tv, nullptr);
  time_t secs = tv.tv_sec;
  struct tm tm;
  localtime_r(&secs, &tm);
  // datetime.strftime handles %f, %z and %Z itself (naive datetime: %z and %Z are empty).
  std::string pre;
  for (size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] == '%' && i + 1 < fmt.size()) {
      char c = fmt[i + 1];
      if (c == 'f') {
        char buf[16];
        std::snprintf(buf, sizeof(buf), "%06ld", static_cast<long>(tv.tv_usec));
        pre += buf;
        ++i;
        continue;
      }
      if (c == 'z' || c == 'Z') {
        ++i;
        continue;
      }
      pre += fmt[i];
      pre += c;
      ++i;
      continue;
    }
    pre += fmt[i];
  }
  if (pre.empty()) return Value::String("");
  // strftime returns 0 both for "buffer too small" and for an empty result; append a marker.
  pre += '\x01';
  for (size_t cap = 256; cap <= (1u << 20); cap *= 4) {
    std::string buf(cap, '\0');
    size_t n = std::strftime(buf.data(), buf.size(), pre.c_str(), &tm);
    if (n > 0) {
      buf.resize(n - 1);
      return Value::String(std::move(buf));
    }
  }
  return Status::InvalidArgument("strftime_now: result too long");
}

Result<Value> MakeDict(const CallArgs& a) {
  CCG_ASSIGN_OR_RETURN(Dict d, DictFromArgs(a));
  return Value::FromDict(std::move(d));
}

Result<Value> MakeNamespace(const CallArgs& a) {
  CCG_ASSIGN_OR_RETURN(Dict d, DictFromArgs(a));
  return Value::NewNamespace(std::move(d));
}

Result<Value> Joiner(const CallArgs& a) {
  CCG_ASSIGN_OR_RETURN(BoundArgs b, BoundArgs::Bind("joiner", a, {"sep"}, 0));
  std::string sep = b.Get(0) ? b.Get(0)->Str() : ", ";
  auto used = std::make_shared<bool>(false);
  return Value::Function("joiner", [sep, used](const CallArgs& args) -> Result<Value> {
    CCG_RETURN_IF_ERROR(BoundArgs::Bind("joiner", args, {}, 0).status());
    if (!*used) {
      *used = true;
      return Value::String("");
    }
    return Value::String(sep);
  });
}

}  // namespace

Result<Dict> DictFromArgs(const CallArgs& a) {
  if (a.args.size() > 1) {
    return Status::InvalidArgument("dict expected at most 1 argument, got " +
                                   std::to_string(a.args.size()));
  }
  Dict d;
  if (!a.args.empty()) {
    const Value& src = a.args[0];
    if (src.is_dict() || src.is_namespace()) {
      for (const auto& [k, v] : src.dict_value().entries()) d.Set(k, v);
    } else {
      CCG_ASSIGN_OR_RETURN(std::vector<Value> items, Iterate(src));
      for (size_t i = 0; i < items.size(); ++i) {
        const Value& pair = items[i];
        if (!pair.is_list() || pair.list_value().size() != 2) {
          return Status::InvalidArgument("dictionary update sequence element #" +
                                         std::to_string(i) + " has wrong length");
        }
        const Value& key = pair.list_value()[0];
        if (!key.is_string()) {
          return Status::NotSupported("dict keys must be strings");
        }
        d.Set(key.string_value(), pair.list_value()[1]);
      }
    }
  }
  for (const auto& [k, v] : a.kwargs) d.Set(k, v);
  return d;
}

std::optional<Value> FindGlobal(std::string_view name) {
  static const auto* globals = new std::vector<std::pair<std::string, Value>>{
      {"range", Value::Function("range", Range)},
      {"dict", Value::Function("dict", MakeDict)},
      {"namespace", Value::Function("namespace", MakeNamespace)},
      {"joiner", Value::Function("joiner", Joiner)},
      {"raise_exception", Value::Function("raise_exception", RaiseException)},
      {"strftime_now", Value::Function("strftime_now", StrftimeNow)},
  };
  for (const auto& [n, v] : *globals) {
    if (n == name) return v;
  }
  return std::nullopt;
}

}  // namespace ccguard::jinja

#include "server/config.h"

#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <set>

#include "kernels/kernels.h"
#include "prompt/constitution.h"

namespace ccguard::server {
namespace {

namespace fs = std::filesystem;

std::string Where(const std::string& what, const std::string& key) {
  return what + ": '" + key + "'";
}

Status WantType(const Json& v, bool ok, const char* type, const std::string& where) {
  if (ok) return Status::Ok();
  return Status::InvalidArgument(where + " must be " + type + ", got " + v.type_name());
}

Status GetString(const Json& v, const std::string& where, std::string* out) {
  CCG_RETURN_IF_ERROR(WantType(v, v.is_string(), "a string", where));
  *out = v.get<std::string>();
  return Status::Ok();
}

Status GetBool(const Json& v, const std::string& where, bool* out) {
  CCG_RETURN_IF_ERROR(WantType(v, v.is_boolean(), "true or false", where));
  *out = v.get<bool>();
  return Status::Ok();
}

Status GetInt64(const Json& v, const std::string& where, int64_t* out) {
  CCG_RETURN_IF_ERROR(WantType(v, v.is_number_integer(), "an integer", where));
  if (v.is_number_unsigned() && v.get<uint64_t>() > uint64_t{INT64_MAX}) {
    return Status::InvalidArgument(where + " is too large");
  }
  *out = v.get<int64_t>();
  return Status::Ok();
}

Status GetInt(const Json& v, const std::string& where, int* out) {
  int64_t x = 0;
  CCG_RETURN_IF_ERROR(GetInt64(v, where, &x));
  if (x < std::numeric_limits<int>::min() || x > std::numeric_limits<int>::max()) {
    return Status::InvalidArgument(where + " is out of range");
  }
  *out = static_cast<int>(x);
  return Status::Ok();
}

Status GetDouble(const Json& v, const std::string& where, double* out) {
  CCG_RETURN_IF_ERROR(WantType(v, v.is_number(), "a number", where));
  *out = v.get<double>();
  return Status::Ok();
}

// A path relative to the config file's folder.
std::string Rebase(const std::string& base_dir, const std::string& p) {
  if (p.empty() || p == "-" || fs::path(p).is_absolute() || base_dir.empty()) return p;
  return (fs::path(base_dir) / p).lexically_normal().string();
}

// A model reference: a folder relative to the config file if one exists
// there, else as written (a repo id or a path relative to the working folder).
std::string RebaseModel(const std::string& base_dir, const std::string& ref) {
  const std::string p = Rebase(base_dir, ref);
  std::error_code ec;
  return p != ref && fs::is_directory(p, ec) ? p : ref;
}

// A guard profile: a built-in name as written, else a file relative to the
// config file's folder.
std::string RebaseGuard(const std::string& base_dir, const std::string& p) {
  if (!Constitution::BuiltinName(p).empty()) return p;
  return Rebase(base_dir, p);
}

Status ParseConstitution(const Json& v, const std::string& base_dir, const std::string& where,
                         ConstitutionSpec* out) {
  if (v.is_string()) {
    // "FILE" or "NAME=FILE"
    const std::string s = v.get<std::string>();
    const size_t eq = s.find('=');
    if (eq != std::string::npos) {
      out->name = s.substr(0, eq);
      out->path = RebaseGuard(base_dir, s.substr(eq + 1));
    } else {
      out->path = RebaseGuard(base_dir, s);
    }
    return Status::Ok();
  }
  CCG_RETURN_IF_ERROR(WantType(v, v.is_object(), "a path or an object", where));
  for (const auto& [key, val] : v.items()) {
    const std::string w = where + "." + key;
    if (key == "name") {
      CCG_RETURN_IF_ERROR(GetString(val, w, &out->name));
    } else if (key == "path") {
      if (!val.is_null()) {
        CCG_RETURN_IF_ERROR(GetString(val, w, &out->path));
        out->path = RebaseGuard(base_dir, out->path);
      }
    } else if (key == "threshold") {
      double t = 0;
      CCG_RETURN_IF_ERROR(GetDouble(val, w, &t));
      out->threshold = t;
    } else {
      return Status::InvalidArgument(w + ": unknown key (expected name, path, threshold)");
    }
  }
  return Status::Ok();
}

}  // namespace

Status ApplyConfigJson(const Json& j, const std::string& base_dir, const std::string& what,
                       ServerConfig* c) {
  if (!j.is_object()) {
    return Status::InvalidArgument(what + ": the config must be a JSON object, got " +
                                   j.type_name());
  }
  using Setter = std::function<Status(const Json&, const std::string&)>;
  auto str = [](std::string* f) -> Setter {
    return [f](const Json& v, const std::string& w) { return GetString(v, w, f); };
  };
  auto path = [&base_dir](std::string* f) -> Setter {
    return [f, &base_dir](const Json& v, const std::string& w) {
      CCG_RETURN_IF_ERROR(GetString(v, w, f));
      *f = Rebase(base_dir, *f);
      return Status::Ok();
    };
  };
  auto model = [&base_dir](std::string* f) -> Setter {
    return [f, &base_dir](const Json& v, const std::string& w) {
      CCG_RETURN_IF_ERROR(GetString(v, w, f));
      *f = RebaseModel(base_dir, *f);
      return Status::Ok();
    };
  };
  auto boolean = [](bool* f) -> Setter {
    return [f](const Json& v, const std::string& w) { return GetBool(v, w, f); };
  };
  auto i32 = [](int* f) -> Setter {
    return [f](const Json& v, const std::string& w) { return GetInt(v, w, f); };
  };
  auto i64 = [](int64_t* f) -> Setter {
    return [f](const Json& v, const std::string& w) { return GetInt64(v, w, f); };
  };
  auto dbl = [](double* f) -> Setter {
    return [f](const Json& v, const std::string& w) { return GetDouble(v, w, f); };
  };
  const std::map<std::string, Setter> setters = {
      {"model", model(&c->model)},
      {"adapter", model(&c->adapter)},
      {"no_adapter", boolean(&c->no_adapter)},
      {"hf_special_tokens", boolean(&c->hf_special_tokens)},
      {"threads", i32(&c->threads)},
      {"compute", str(&c->compute)},
      {"device", str(&c->device)},
      {"prefix_cache", boolean(&c->prefix_cache)},
      {"categories", boolean(&c->categories)},
      {"constitutions",
       [&](const Json& v, const std::string& w) {
         CCG_RETURN_IF_ERROR(WantType(v, v.is_array(), "a list", w));
         c->constitutions.clear();
         for (size_t i = 0; i < v.size(); ++i) {
           ConstitutionSpec spec;
           CCG_RETURN_IF_ERROR(
               ParseConstitution(v[i], base_dir, w + "[" + std::to_string(i) + "]", &spec));
           c->constitutions.push_back(std::move(spec));
         }
         return Status::Ok();
       }},
      {"default_constitution", str(&c->default_constitution)},
      {"host", str(&c->host)},
      {"port", i32(&c->port)},
      {"port_file", path(&c->port_file)},
      {"http_threads", i32(&c->http_threads)},
      {"read_timeout_s", i32(&c->read_timeout_s)},
      {"keep_alive_timeout_s", i32(&c->keep_alive_timeout_s)},
      {"head_timeout_s", i32(&c->head_timeout_s)},
      {"api_keys_file", path(&c->api_keys_file)},
      {"api_keys_env", str(&c->api_keys_env)},
      {"require_auth", boolean(&c->require_auth)},
      {"public_metrics", boolean(&c->public_metrics)},
      {"max_body_bytes", i64(&c->max_body_bytes)},
      {"max_item_tokens", i64(&c->max_item_tokens)},
      {"max_items_per_request", i32(&c->max_items_per_request)},
      {"request_timeout_ms", i32(&c->request_timeout_ms)},
      {"batch_window_us", i32(&c->batch_window_us)},
      {"max_batch_items", i32(&c->max_batch_items)},
      {"max_batch_tokens", i64(&c->max_batch_tokens)},
      {"max_queue_items", i32(&c->max_queue_items)},
      {"max_sessions", i32(&c->max_sessions)},
      {"session_idle_timeout_s", dbl(&c->session_idle_timeout_s)},
      {"session_max_tokens", i64(&c->session_max_tokens)},
      {"session_max_kv_bytes", i64(&c->session_max_kv_bytes)},
      {"session_kv_reserve_bytes", i64(&c->session_kv_reserve_bytes)},
      {"max_event_streams", i32(&c->max_event_streams)},
      {"access_log", path(&c->access_log)},
  };
  for (const auto& [key, val] : j.items()) {
    auto it = setters.find(key);
    if (it == setters.end()) {
      if (!key.empty() && key[0] == '_') continue;  // "_comment" and the like
      return Status::InvalidArgument(Where(what, key) + ": unknown key (see docs/server.md)");
    }
    CCG_RETURN_IF_ERROR(it->second(val, Where(what, key)));
  }
  return Status::Ok();
}

Status ApplyConfigFile(const std::string& path, ServerConfig* config) {
  CCG_ASSIGN_OR_RETURN(Json j, ReadJsonFile(path));
  const std::string base = fs::path(path).parent_path().string();
  return ApplyConfigJson(j, base.empty() ? "." : base, path, config);
}

Status ValidateConfig(const ServerConfig& c) {
  auto range = [](const char* name, int64_t v, int64_t lo, int64_t hi) -> Status {
    if (v < lo || v > hi) {
      return Status::InvalidArgument(std::string(name) + " must be in [" + std::to_string(lo) +
                                     ", " + std::to_string(hi) + "], got " + std::to_string(v));
    }
    return Status::Ok();
  };
  CCG_RETURN_IF_ERROR(range("port", c.port, 0, 65535));
  CCG_RETURN_IF_ERROR(range("threads", c.threads, 0, 1024));
  if (c.compute != "auto" && c.compute != "fp32" && c.compute != "bf16" && c.compute != "int8") {
    return Status::InvalidArgument("compute must be one of auto, fp32, bf16, int8, got '" +
                                   c.compute + "'");
  }
  CCG_RETURN_IF_ERROR(range("http_threads", c.http_threads, 2, 4096));
  CCG_RETURN_IF_ERROR(range("read_timeout_s", c.read_timeout_s, 1, 3600));
  CCG_RETURN_IF_ERROR(range("keep_alive_timeout_s", c.keep_alive_timeout_s, 1, 3600));
  CCG_RETURN_IF_ERROR(range("head_timeout_s", c.head_timeout_s, 1, 3600));
  CCG_RETURN_IF_ERROR(range("max_body_bytes", c.max_body_bytes, 1024, int64_t{1} << 32));
  CCG_RETURN_IF_ERROR(range("max_item_tokens", c.max_item_tokens, 16, 1 << 20));
  CCG_RETURN_IF_ERROR(range("max_items_per_request", c.max_items_per_request, 1, 1 << 16));
  CCG_RETURN_IF_ERROR(range("request_timeout_ms", c.request_timeout_ms, 1, 3600 * 1000));
  CCG_RETURN_IF_ERROR(range("batch_window_us", c.batch_window_us, 0, 1000 * 1000));
  CCG_RETURN_IF_ERROR(range("max_batch_items", c.max_batch_items, 1, 1 << 16));
  if (c.max_batch_tokens != 0) {
    CCG_RETURN_IF_ERROR(range("max_batch_tokens", c.max_batch_tokens, 16, 1 << 24));
  }
  auto device = kernels::ParseDevice(c.device);
  if (!device.ok()) return device.status();
  CCG_RETURN_IF_ERROR(range("max_queue_items", c.max_queue_items, 1, 1 << 24));
  CCG_RETURN_IF_ERROR(range("max_sessions", c.max_sessions, 0, 1 << 20));
  CCG_RETURN_IF_ERROR(range("session_max_tokens", c.session_max_tokens, 16, 1 << 20));
  CCG_RETURN_IF_ERROR(
      range("session_max_kv_bytes", c.session_max_kv_bytes, int64_t{1} << 16, int64_t{1} << 50));
  if (c.session_kv_reserve_bytes < 0 || c.session_kv_reserve_bytes > c.session_max_kv_bytes) {
    return Status::InvalidArgument(
        "session_kv_reserve_bytes must be in [0, session_max_kv_bytes = " +
        std::to_string(c.session_max_kv_bytes) + "], got " +
        std::to_string(c.session_kv_reserve_bytes));
  }
  if (c.session_kv_reserve_bytes > 0 && device->cuda) {
    return Status::InvalidArgument(
        "session_kv_reserve_bytes reserves host memory, for the CPU backends; on " + c.device +
        " sessions keep their keys and values in device memory");
  }
  CCG_RETURN_IF_ERROR(range("max_event_streams", c.max_event_streams, 0, 1 << 16));
  if (!(c.session_idle_timeout_s > 0 && c.session_idle_timeout_s <= 7 * 24 * 3600)) {
    return Status::InvalidArgument("session_idle_timeout_s must be in (0, 604800]");
  }
  if (c.max_event_streams >= c.http_threads) {
    return Status::InvalidArgument(
        "max_event_streams must be below http_threads (each listener holds a connection "
        "thread)");
  }
  if (c.host.empty()) return Status::InvalidArgument("host must not be empty");
  std::set<std::string> names;
  for (size_t i = 0; i < c.constitutions.size(); ++i) {
    const auto& s = c.constitutions[i];
    if (s.threshold && !(*s.threshold >= 0 && *s.threshold <= 1)) {
      return Status::InvalidArgument("constitutions[" + std::to_string(i) +
                                     "].threshold must be in [0, 1]");
    }
    if (!s.name.empty() && !names.insert(s.name).second) {
      return Status::InvalidArgument("constitution name '" + s.name + "' is used twice");
    }
  }
  return Status::Ok();
}

Json ConfigToJson(const ServerConfig& c) {
  Json cons = Json::array();
  for (const auto& s : c.constitutions) {
    Json e = {{"name", s.name}, {"path", s.path.empty() ? Json() : Json(s.path)}};
    if (s.threshold) e["threshold"] = *s.threshold;
    cons.push_back(std::move(e));
  }
  return {{"model", c.model},
          {"adapter", c.no_adapter ? Json() : Json(c.adapter)},
          {"hf_special_tokens", c.hf_special_tokens},
          {"threads", c.threads},
          {"compute", c.compute},
          {"device", c.device},
          {"prefix_cache", c.prefix_cache},
          {"categories", c.categories},
          {"constitutions", cons},
          {"default_constitution", c.default_constitution},
          {"host", c.host},
          {"port", c.port},
          {"http_threads", c.http_threads},
          {"read_timeout_s", c.read_timeout_s},
          {"keep_alive_timeout_s", c.keep_alive_timeout_s},
          {"head_timeout_s", c.head_timeout_s},
          {"api_keys_file", c.api_keys_file},
          {"api_keys_env", c.api_keys_env},
          {"api_key_flags", c.api_keys.size()},  // how many --api-key, never the keys
          {"require_auth", c.require_auth},
          {"public_metrics", c.public_metrics},
          {"max_body_bytes", c.max_body_bytes},
          {"max_item_tokens", c.max_item_tokens},
          {"max_items_per_request", c.max_items_per_request},
          {"request_timeout_ms", c.request_timeout_ms},
          {"batch_window_us", c.batch_window_us},
          {"max_batch_items", c.max_batch_items},
          {"max_batch_tokens", c.max_batch_tokens},
          {"max_queue_items", c.max_queue_items},
          {"max_sessions", c.max_sessions},
          {"session_idle_timeout_s", c.session_idle_timeout_s},
          {"session_max_tokens", c.session_max_tokens},
          {"session_max_kv_bytes", c.session_max_kv_bytes},
          {"session_kv_reserve_bytes", c.session_kv_reserve_bytes},
          {"max_event_streams", c.max_event_streams},
          {"access_log", c.access_log}};
}

}  // namespace ccguard::server

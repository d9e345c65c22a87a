#include "scoring/run_identity.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <vector>

#include "util/digest.h"

namespace ccguard {
namespace {

#ifndef CCGUARD_VERSION
#define CCGUARD_VERSION "unknown"
#endif

// A model or adapter: its folder (absolute, links resolved: the same folder
// named two ways is one) and its commit.
Json Ref(const std::string& dir) {
  std::error_code ec;
  auto canonical = std::filesystem::weakly_canonical(std::filesystem::absolute(dir, ec), ec);
  const std::string path = ec ? dir : canonical.string();
  auto rev = SnapshotRevision(path);
  return {{"dir", path}, {"revision", rev ? Json(*rev) : Json()}};
}

std::string Show(const Json* v) { return v == nullptr ? "(not recorded)" : v->dump(); }

// The first dotted key where a and b differ, with their values; empty if equal.
bool FirstDifference(const Json& a, const Json& b, const std::string& prefix, std::string* key,
                     const Json** va, const Json** vb) {
  if (a.is_object() && b.is_object()) {
    for (const auto& [k, v] : a.items()) {
      const std::string name = prefix.empty() ? k : prefix + "." + k;
      auto it = b.find(k);
      if (it == b.end()) {
        *key = name;
        *va = &v;
        *vb = nullptr;
        return true;
      }
      if (FirstDifference(v, *it, name, key, va, vb)) return true;
    }
    for (const auto& [k, v] : b.items()) {
      if (!a.contains(k)) {
        *key = prefix.empty() ? k : prefix + "." + k;
        *va = nullptr;
        *vb = &v;
        return true;
      }
    }
    return false;
  }
  if (a == b) return false;
  *key = prefix.empty() ? "(the whole record)" : prefix;
  *va = &a;
  *vb = &b;
  return true;
}

}  // namespace

const char* CcguardVersion() { return CCGUARD_VERSION; }

std::optional<std::string> SnapshotRevision(const std::string& dir) {
  if (dir.empty()) return std::nullopt;
  std::filesystem::path p(dir);
  if (!p.has_filename()) p = p.parent_path();  // a trailing slash
  const std::string name = p.filename().string();
  if (p.parent_path().filename() != "snapshots" || name.size() != 40) return std::nullopt;
  for (char c : name) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return std::nullopt;
  }
  return name;
}

Json ScoringIdentity(const Classifier& c, const IdentityInputs& in) {
  Engine& engine = *c.shared_engine();
  const EngineOptions& o = engine.options();
  const Constitution& con = c.constitution();
  const char* source = in.threshold_flag             ? "--threshold"
                       : con.threshold().has_value() ? "constitution"
                                                     : "default";
  return {{"ccguard_version", CcguardVersion()},
          {"model", Ref(in.model_dir)},
          {"adapter", in.adapter_dir.empty() ? Json() : Ref(in.adapter_dir)},
          {"constitution", {{"name", con.name()}, {"sha256", Sha256Hex(con.json().dump())}}},
          {"compute", kernels::PrecisionName(o.model.precision)},
          {"device", o.model.device.ToString()},
          {"backend", engine.model().backend_name()},
          {"threads", engine.model().threads()},
          {"hf_special_tokens", o.hf_special_tokens},
          {"threshold", c.threshold()},
          {"threshold_source", source}};
}

Status CheckSameIdentity(const Json& recorded, const Json& current, const std::string& what) {
  std::string key;
  const Json* was = nullptr;
  const Json* now = nullptr;
  // The settings a user chooses are named before what follows from them (the
  // backend string follows from compute and the CPU).
  static const char* const kFirst[] = {"compute",        "device",           "model",
                                       "adapter",        "constitution",     "hf_special_tokens",
                                       "threshold",      "threshold_source", "backend",
                                       "ccguard_version"};
  bool differs = false;
  if (recorded.is_object() && current.is_object()) {
    for (const char* k : kFirst) {
      const auto a = recorded.find(k);
      const auto b = current.find(k);
      const bool in_a = a != recorded.end(), in_b = b != current.end();
      if (!in_a && !in_b) continue;
      if (in_a != in_b) {
        key = k;
        was = in_a ? &*a : nullptr;
        now = in_b ? &*b : nullptr;
        differs = true;
        break;
      }
      if (FirstDifference(*a, *b, k, &key, &was, &now)) {
        differs = true;
        break;
      }
    }
  }
  if (!differs && !FirstDifference(recorded, current, "", &key, &was, &now)) return Status::Ok();
  return Status::InvalidArgument(what + " was made with " + key + " " + Show(was) +
                                 "; this run has " + Show(now) +
                                 " (results of different settings are never mixed: run with the "
                                 "same settings to resume, or write elsewhere)");
}

}  // namespace ccguard

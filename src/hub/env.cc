#include "hub/env.h"

#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>

namespace ccguard::hub {
namespace {

namespace fs = std::filesystem;

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

std::string Trim(std::string s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return s.substr(b, e - b);
}

// ~/.cache/huggingface (or $XDG_CACHE_HOME/huggingface), or $HF_HOME when set.
fs::path HfHome() {
  if (std::string v = Env("HF_HOME"); !v.empty()) return v;
  if (std::string v = Env("XDG_CACHE_HOME"); !v.empty()) return fs::path(v) / "huggingface";
  return fs::path(Env("HOME")) / ".cache" / "huggingface";
}

bool IsTrue(std::string v) {
  for (char& c : v) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  v = Trim(v);
  return v == "1" || v == "ON" || v == "YES" || v == "TRUE";
}

}  // namespace

std::string CacheDirFromEnv() {
  if (std::string v = Env("HF_HUB_CACHE"); !v.empty()) return v;
  if (std::string v = Env("HUGGINGFACE_HUB_CACHE"); !v.empty()) return v;
  return (HfHome() / "hub").string();
}

std::string EndpointFromEnv() {
  std::string v = Trim(Env("HF_ENDPOINT"));
  if (v.empty()) v = kDefaultEndpoint;
  while (!v.empty() && v.back() == '/') v.pop_back();
  return v;
}

std::string TokenPathFromEnv() {
  if (std::string v = Env("HF_TOKEN_PATH"); !v.empty()) return v;
  return (HfHome() / "token").string();
}

std::string TokenFromEnv() {
  if (std::string v = Trim(Env("HF_TOKEN")); !v.empty()) return v;
  if (std::string v = Trim(Env("HUGGING_FACE_HUB_TOKEN")); !v.empty()) return v;
  std::ifstream in(TokenPathFromEnv(), std::ios::binary);
  if (!in) return "";
  std::ostringstream ss;
  ss << in.rdbuf();
  return Trim(ss.str());
}

bool OfflineFromEnv() {
  return IsTrue(Env("HF_HUB_OFFLINE")) || IsTrue(Env("TRANSFORMERS_OFFLINE"));
}

long SecondsFromEnv(const char* var, long fallback) {
  std::string v = Trim(Env(var));
  if (v.empty()) return fallback;
  char* end = nullptr;
  double d = std::strtod(v.c_str(), &end);
  if (end == v.c_str() || *end != '\0' || !(d > 0) || d > 86400) return fallback;
  long s = static_cast<long>(d);
  return s < 1 ? 1 : s;
}

}  // namespace ccguard::hub

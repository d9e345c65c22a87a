#include "server/auth.h"

#include <cstdlib>

#include "util/mapped_file.h"

namespace ccguard::server {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

bool ConstantTimeEquals(const Sha256Digest& a, const Sha256Digest& b) {
  volatile uint8_t diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff = diff | (a[i] ^ b[i]);
  return diff == 0;
}

Status ApiKeys::Add(std::string_view key, const std::string& where) {
  if (key.empty() || key.size() > 4096) {
    return Status::InvalidArgument(where + ": an API key must be 1 to 4096 characters");
  }
  for (char c : key) {
    if (c <= ' ' || c > '~') {
      return Status::InvalidArgument(where + ": an API key must be printable ASCII without spaces");
    }
  }
  digests_.push_back(Sha256(key));
  return Status::Ok();
}

Result<ApiKeys> ApiKeys::FromList(const std::vector<std::string>& keys) {
  ApiKeys k;
  for (size_t i = 0; i < keys.size(); ++i) {
    CCG_RETURN_IF_ERROR(k.Add(keys[i], "key " + std::to_string(i)));
  }
  return k;
}

Result<ApiKeys> ApiKeys::Load(const std::string& file, const std::string& env_var,
                              const std::vector<std::string>& keys) {
  ApiKeys k;
  if (!file.empty()) {
    auto text = ReadFileToString(file);
    if (!text.ok()) return text.status().WithContext("API keys file");
    std::string_view rest = *text;
    int line_no = 0;
    while (!rest.empty()) {
      const size_t nl = rest.find('\n');
      std::string_view line = rest.substr(0, nl);
      rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
      ++line_no;
      line = Trim(line);
      if (line.empty() || line.front() == '#') continue;
      CCG_RETURN_IF_ERROR(k.Add(line, file + ":" + std::to_string(line_no)));
    }
    // A keys file that names no key must not turn authentication off.
    if (!k.enabled()) {
      return Status::InvalidArgument("API keys file " + file +
                                     " holds no key (only blank or comment lines): refusing to "
                                     "start without authentication; remove api_keys_file to "
                                     "run without keys");
    }
  }
  if (!env_var.empty()) {
    if (const char* v = std::getenv(env_var.c_str()); v != nullptr) {
      std::string_view rest = v;
      const size_t before = k.size();
      while (!rest.empty()) {
        size_t i = 0;
        while (i < rest.size() && rest[i] != ',' && !IsSpace(rest[i])) ++i;
        if (i > 0) CCG_RETURN_IF_ERROR(k.Add(rest.substr(0, i), "$" + env_var));
        rest.remove_prefix(i == rest.size() ? i : i + 1);
      }
      // Set but empty (or only separators) is a mistake, not "no auth".
      if (k.size() == before) {
        return Status::InvalidArgument("$" + env_var +
                                       " is set but holds no key: refusing to start without "
                                       "authentication; unset it to run without keys");
      }
    }
  }
  for (size_t i = 0; i < keys.size(); ++i) {  // after the file's and the variable's
    CCG_RETURN_IF_ERROR(k.Add(keys[i], "--api-key " + std::to_string(i + 1)));
  }
  return k;
}

std::optional<std::string_view> ApiKeys::BearerToken(std::string_view h) {
  h = Trim(h);
  constexpr std::string_view kScheme = "bearer";
  if (h.size() <= kScheme.size() || !IsSpace(h[kScheme.size()])) return std::nullopt;
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if ((h[i] | 0x20) != kScheme[i]) return std::nullopt;
  }
  std::string_view token = Trim(h.substr(kScheme.size()));
  if (token.empty()) return std::nullopt;
  return token;
}

int ApiKeys::Check(std::string_view authorization) const {
  auto token = BearerToken(authorization);
  if (!token) return -1;
  const Sha256Digest d = Sha256(*token);
  // Every digest is compared in full (no early exit): the time does not
  // reveal how much of a key matched, nor which key did.
  int found = -1;
  for (size_t i = 0; i < digests_.size(); ++i) {
    if (ConstantTimeEquals(d, digests_[i]) && found < 0) found = static_cast<int>(i);
  }
  return found;
}

}  // namespace ccguard::server

// API keys for the service: "Authorization: Bearer <key>".
//
// Keys come from a file (one per line; blank lines and lines starting with
// '#' are ignored) and/or an environment variable (keys separated by commas
// or whitespace). With no keys, authentication is off. Keys are kept only as
// SHA-256 digests; a presented key is hashed and compared with every stored
// digest in constant time, so the time taken depends neither on which key
// matches nor on how much of a key matches (nor on the keys' lengths).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "util/digest.h"
#include "util/status.h"

namespace ccguard::server {

class ApiKeys {
 public:
  ApiKeys() = default;  // no keys: authentication off

  // Reads `file` (if not empty) and the variable named `env_var` (if not
  // empty and set). A key must be 1-4096 printable ASCII characters without
  // spaces. A missing or unreadable file is an error; so is a file that
  // holds no key, and a variable that is set but holds no key (either would
  // otherwise turn authentication off silently). An unset variable is not.
  // `keys` are added too, after the others (`--api-key`, named "--api-key N"
  // in errors). A key's index (the access log's "key") follows this order.
  static Result<ApiKeys> Load(const std::string& file, const std::string& env_var,
                              const std::vector<std::string>& keys = {});
  static Result<ApiKeys> FromList(const std::vector<std::string>& keys);

  bool enabled() const { return !digests_.empty(); }
  size_t size() const { return digests_.size(); }

  // The index of the key presented in an Authorization header value, or -1
  // (missing header, another scheme, unknown key).
  int Check(std::string_view authorization) const;

  // "Bearer <token>" (scheme case-insensitive) -> token; else nullopt.
  static std::optional<std::string_view> BearerToken(std::string_view authorization);

 private:
  Status Add(std::string_view key, const std::string& where);
  std::vector<Sha256Digest> digests_;
};

// Compares two digests without data-dependent branches.
bool ConstantTimeEquals(const Sha256Digest& a, const Sha256Digest& b);

}  // namespace ccguard::server

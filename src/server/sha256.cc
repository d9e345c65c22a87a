#include "server/sha256.h"

#include <openssl/evp.h>

#include <cstdlib>

namespace ccguard::server {

Sha256Digest Sha256(std::string_view data) {
  Sha256Digest d{};
  unsigned int n = 0;
  // EVP_Digest only fails when libcrypto cannot allocate; an API key must
  // never compare equal by accident, so that is fatal.
  if (EVP_Digest(data.data(), data.size(), d.data(), &n, EVP_sha256(), nullptr) != 1 ||
      n != d.size()) {
    std::abort();
  }
  return d;
}

std::string ToHex(const Sha256Digest& d) {
  static const char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(2 * d.size());
  for (uint8_t b : d) {
    s += kHex[b >> 4];
    s += kHex[b & 15];
  }
  return s;
}

}  // namespace ccguard::server

// SHA-256 (OpenSSL libcrypto), for comparing API keys by digest in constant time.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace ccguard::server {

using Sha256Digest = std::array<uint8_t, 32>;

Sha256Digest Sha256(std::string_view data);

// Lower-case hex of `d`.
std::string ToHex(const Sha256Digest& d);

}  // namespace ccguard::server

// Digests, computed with OpenSSL's libcrypto (EVP API): the one place ccguard hashes.
//
// SHA-256: API keys compared by digest (server/auth), the run identity's file and constitution
// hashes (scoring/run_identity), hub LFS files (named by the SHA-256 of their content,
// X-Linked-Etag). Git blob ids: the hub names its other files by SHA-1 of "blob <size>\0"
// followed by the content (ETag). Hex digests are lowercase. Thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "util/status.h"

namespace ccguard {

using Sha256Digest = std::array<uint8_t, 32>;

// The raw digest. libcrypto failing to allocate aborts: a digest must never be wrong silently
// (an API key must never compare equal by accident).
Sha256Digest Sha256(std::string_view data);

std::string Sha256Hex(std::string_view data);
std::string GitBlobSha1Hex(std::string_view data);

// The same digests of a file, read in chunks. IOError when the file cannot be read.
Result<std::string> Sha256File(const std::string& path);
Result<std::string> GitBlobSha1File(const std::string& path);

}  // namespace ccguard

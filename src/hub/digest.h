// The checksums the hub publishes, computed with OpenSSL's libcrypto (EVP API).
//
// LFS files are named by the SHA-256 of their content (X-Linked-Etag); other files by their git
// blob id, SHA-1 of "blob <size>\0" followed by the content (ETag). Digests are lowercase hex.
#pragma once

#include <string>
#include <string_view>

#include "util/status.h"

namespace ccguard::hub {

std::string Sha256Hex(std::string_view data);
std::string GitBlobSha1Hex(std::string_view data);

// The same digests of a file, read in chunks. IOError when the file cannot be read.
Result<std::string> Sha256File(const std::string& path);
Result<std::string> GitBlobSha1File(const std::string& path);

}  // namespace ccguard::hub

#include "util/digest.h"

#include <openssl/evp.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

namespace ccguard {
namespace {

struct CtxDeleter {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using Ctx = std::unique_ptr<EVP_MD_CTX, CtxDeleter>;

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

std::string Hex(const unsigned char* d, unsigned n) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out(2 * n, '0');
  for (unsigned i = 0; i < n; ++i) {
    out[2 * i] = kDigits[d[i] >> 4];
    out[2 * i + 1] = kDigits[d[i] & 15];
  }
  return out;
}

Ctx NewCtx(const EVP_MD* md) {
  Ctx c(EVP_MD_CTX_new());
  if (c && EVP_DigestInit_ex(c.get(), md, nullptr) != 1) c.reset();
  return c;
}

std::string Final(EVP_MD_CTX* c) {
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  if (EVP_DigestFinal_ex(c, d, &n) != 1) return "";
  return Hex(d, n);
}

std::string GitHeader(unsigned long long size) { return "blob " + std::to_string(size) + '\0'; }

// Hashes `header` then the file's bytes.
Result<std::string> DigestFile(const EVP_MD* md, const std::string& path, bool git_blob) {
  std::unique_ptr<std::FILE, FileCloser> f(std::fopen(path.c_str(), "rb"));
  if (!f) return Status::IOError("cannot open " + path + ": " + std::strerror(errno));
  Ctx c = NewCtx(md);
  if (!c) return Status::Internal("OpenSSL digest initialisation failed");
  if (git_blob) {
    if (std::fseek(f.get(), 0, SEEK_END) != 0) {
      return Status::IOError("cannot seek " + path + ": " + std::strerror(errno));
    }
    long size = std::ftell(f.get());
    if (size < 0) return Status::IOError("cannot size " + path + ": " + std::strerror(errno));
    std::rewind(f.get());
    std::string h = GitHeader(static_cast<unsigned long long>(size));
    EVP_DigestUpdate(c.get(), h.data(), h.size());
  }
  std::vector<char> buf(1 << 20);
  while (true) {
    size_t n = std::fread(buf.data(), 1, buf.size(), f.get());
    if (n > 0) EVP_DigestUpdate(c.get(), buf.data(), n);
    if (n < buf.size()) {
      if (std::ferror(f.get())) {
        return Status::IOError("cannot read " + path + ": " + std::strerror(errno));
      }
      break;
    }
  }
  std::string hex = Final(c.get());
  if (hex.empty()) return Status::Internal("OpenSSL digest failed");
  return hex;
}

std::string DigestString(const EVP_MD* md, std::string_view prefix, std::string_view data) {
  Ctx c = NewCtx(md);
  if (!c) return "";
  EVP_DigestUpdate(c.get(), prefix.data(), prefix.size());
  EVP_DigestUpdate(c.get(), data.data(), data.size());
  return Final(c.get());
}

}  // namespace

Sha256Digest Sha256(std::string_view data) {
  Sha256Digest d{};
  unsigned int n = 0;
  if (EVP_Digest(data.data(), data.size(), d.data(), &n, EVP_sha256(), nullptr) != 1 ||
      n != d.size()) {
    std::abort();
  }
  return d;
}

std::string Sha256Hex(std::string_view data) {
  const Sha256Digest d = Sha256(data);
  return Hex(d.data(), static_cast<unsigned>(d.size()));
}

std::string GitBlobSha1Hex(std::string_view data) {
  return DigestString(EVP_sha1(), GitHeader(data.size()), data);
}

Result<std::string> Sha256File(const std::string& path) {
  return DigestFile(EVP_sha256(), path, false);
}

Result<std::string> GitBlobSha1File(const std::string& path) {
  return DigestFile(EVP_sha1(), path, true);
}

}  // namespace ccguard

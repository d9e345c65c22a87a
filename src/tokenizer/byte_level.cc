#include "tokenizer/byte_level.h"

#include <array>

#include "util/utf8.h"

namespace ccguard {
namespace {

struct ByteTables {
  std::array<uint32_t, 256> to_cp;    // byte -> code point
  std::array<int16_t, 324> to_byte;   // code point -> byte, -1 outside the alphabet
  std::array<std::string, 256> utf8;  // byte -> UTF-8 of its code point

  ByteTables() {
    to_byte.fill(-1);
    uint32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE);
      to_cp[b] = printable ? static_cast<uint32_t>(b) : next++;
      to_byte[to_cp[b]] = static_cast<int16_t>(b);
      AppendUtf8(to_cp[b], &utf8[b]);
    }
  }
};

const ByteTables& Tables() {
  static const ByteTables tables;
  return tables;
}

// Decodes one code point of valid UTF-8 at s[*i], advancing *i. On a bad
// sequence returns 0xFFFFFFFF and advances by one byte.
uint32_t NextCodePoint(std::string_view s, size_t* i) {
  auto c = static_cast<unsigned char>(s[*i]);
  size_t len = c < 0x80             ? 1
               : (c & 0xE0) == 0xC0 ? 2
               : (c & 0xF0) == 0xE0 ? 3
               : (c & 0xF8) == 0xF0 ? 4
                                    : 0;
  if (len == 0 || *i + len > s.size()) {
    ++*i;
    return 0xFFFFFFFF;
  }
  uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
  for (size_t k = 1; k < len; ++k) {
    auto cc = static_cast<unsigned char>(s[*i + k]);
    if ((cc & 0xC0) != 0x80) {
      ++*i;
      return 0xFFFFFFFF;
    }
    cp = (cp << 6) | (cc & 0x3F);
  }
  *i += len;
  return cp;
}

}  // namespace

void ByteLevelEncode(std::string_view bytes, std::string* out) {
  const ByteTables& t = Tables();
  out->reserve(out->size() + bytes.size() * 2);
  for (char ch : bytes) out->append(t.utf8[static_cast<unsigned char>(ch)]);
}

int ByteLevelByteOf(uint32_t cp) {
  const ByteTables& t = Tables();
  return cp < t.to_byte.size() ? t.to_byte[cp] : -1;
}

void ByteLevelDecodeToken(std::string_view token, std::string* out) {
  size_t start = out->size();
  size_t i = 0;
  while (i < token.size()) {
    int b = ByteLevelByteOf(NextCodePoint(token, &i));
    if (b < 0) {
      out->resize(start);
      out->append(token);
      return;
    }
    out->push_back(static_cast<char>(b));
  }
}

std::string Utf8Lossy(std::string_view bytes) {
  static constexpr char kReplacement[] = "\xEF\xBF\xBD";
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t n = bytes.size();
  std::string out;
  out.reserve(n);
  size_t i = 0;
  while (i < n) {
    unsigned char c = p[i];
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    // Expected length and the valid range of the second byte (Unicode Table 3-7).
    size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;
      if (c == 0xED) hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;
      if (c == 0xF4) hi = 0x8F;
    }
    if (len == 0) {  // 0x80..0xC1, 0xF5..0xFF: never valid
      out.append(kReplacement);
      ++i;
      continue;
    }
    size_t k = 1;
    for (; k < len && i + k < n; ++k) {
      unsigned char cc = p[i + k];
      unsigned char klo = k == 1 ? lo : 0x80, khi = k == 1 ? hi : 0xBF;
      if (cc < klo || cc > khi) break;
    }
    if (k == len) {
      out.append(bytes.substr(i, len));
    } else {
      out.append(kReplacement);  // one U+FFFD for the maximal valid prefix
    }
    i += k;
  }
  return out;
}

}  // namespace ccguard

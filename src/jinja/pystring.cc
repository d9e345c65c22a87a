#include "jinja/pystring.h"

#include <utf8proc.h>

#include <algorithm>

#include "util/utf8.h"

namespace ccguard::jinja::pystr {

namespace {

constexpr uint32_t kRawByteBase = 0xDC00;  // invalid byte b decodes to U+DC00+b (b >= 0x80)

bool IsCont(unsigned char c) { return (c & 0xC0) == 0x80; }

utf8proc_category_t Category(uint32_t cp) {
  if (cp > 0x10FFFF) return UTF8PROC_CATEGORY_CN;
  return utf8proc_category(static_cast<utf8proc_int32_t>(cp));
}

bool InSet(uint32_t cp, const std::vector<uint32_t>& set) {
  return std::find(set.begin(), set.end(), cp) != set.end();
}

// Byte offset of code point index `idx` (clamped to the end).
size_t ByteOffset(std::string_view s, int64_t idx) {
  size_t pos = 0;
  for (int64_t i = 0; i < idx && pos < s.size(); ++i) DecodeNext(s, &pos);
  return pos;
}

// Unconditional multi-character case mappings of Unicode's SpecialCasing.txt that Python
// applies (the common ones: German sharp s, Latin ligatures, n-apostrophe, dotted capital I).
struct SpecialCase {
  uint32_t cp;
  const char* upper;
  const char* title;
  const char* lower;
};
constexpr SpecialCase kSpecialCases[] = {
    {0x00DF, "SS", "Ss", nullptr},         {0x0149, "\u02BCN", "\u02BCN", nullptr},
    {0x0130, nullptr, nullptr, "i\u0307"}, {0xFB00, "FF", "Ff", nullptr},
    {0xFB01, "FI", "Fi", nullptr},         {0xFB02, "FL", "Fl", nullptr},
    {0xFB03, "FFI", "Ffi", nullptr},       {0xFB04, "FFL", "Ffl", nullptr},
    {0xFB05, "ST", "St", nullptr},         {0xFB06, "ST", "St", nullptr},
};

const SpecialCase* FindSpecial(uint32_t cp) {
  if (cp < 0xDF) return nullptr;
  for (const SpecialCase& c : kSpecialCases) {
    if (c.cp == cp) return &c;
  }
  return nullptr;
}

enum class CaseKind { kUpper, kLower, kTitle };

void AppendCased(uint32_t cp, CaseKind kind, std::string* out) {
  if (const SpecialCase* sc = FindSpecial(cp)) {
    const char* m = kind == CaseKind::kUpper   ? sc->upper
                    : kind == CaseKind::kTitle ? sc->title
                                               : sc->lower;
    if (m) {
      out->append(m);
      return;
    }
  }
  AppendCodePoint(kind == CaseKind::kUpper   ? ToUpper(cp)
                  : kind == CaseKind::kTitle ? ToTitle(cp)
                                             : ToLower(cp),
                  out);
}

template <class F>
std::string MapChars(std::string_view s, F f) {
  std::string out;
  out.reserve(s.size());
  size_t pos = 0;
  while (pos < s.size()) AppendCodePoint(f(DecodeNext(s, &pos)), &out);
  return out;
}

}  // namespace

uint32_t DecodeNext(std::string_view s, size_t* pos) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t i = *pos, n = s.size();
  unsigned char c = p[i];
  if (c < 0x80) {
    *pos = i + 1;
    return c;
  }
  size_t len;
  uint32_t cp;
  if ((c & 0xE0) == 0xC0) {
    len = 2;
    cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    len = 3;
    cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    len = 4;
    cp = c & 0x07;
  } else {
    *pos = i + 1;
    return kRawByteBase + c;
  }
  if (i + len > n) {
    *pos = i + 1;
    return kRawByteBase + c;
  }
  for (size_t k = 1; k < len; ++k) {
    if (!IsCont(p[i + k])) {
      *pos = i + 1;
      return kRawByteBase + c;
    }
    cp = (cp << 6) | (p[i + k] & 0x3F);
  }
  if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
      cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    *pos = i + 1;
    return kRawByteBase + c;
  }
  *pos = i + len;
  return cp;
}

void AppendCodePoint(uint32_t cp, std::string* out) {
  if (cp >= kRawByteBase + 0x80 && cp <= kRawByteBase + 0xFF) {
    out->push_back(static_cast<char>(cp - kRawByteBase));
    return;
  }
  AppendUtf8(cp, out);
}

std::vector<uint32_t> CodePoints(std::string_view s) {
  std::vector<uint32_t> out;
  out.reserve(s.size());
  size_t pos = 0;
  while (pos < s.size()) out.push_back(DecodeNext(s, &pos));
  return out;
}

std::string FromCodePoints(const std::vector<uint32_t>& cps, size_t begin, size_t end) {
  std::string out;
  for (size_t i = begin; i < end && i < cps.size(); ++i) AppendCodePoint(cps[i], &out);
  return out;
}

size_t Length(std::string_view s) {
  size_t n = 0, pos = 0;
  while (pos < s.size()) {
    DecodeNext(s, &pos);
    ++n;
  }
  return n;
}

bool IsSpace(uint32_t cp) {
  if (cp < 0x80) return (cp >= 9 && cp <= 13) || (cp >= 0x1C && cp <= 0x20);
  return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
         cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

bool IsPrintable(uint32_t cp) {
  if (cp == ' ') return true;
  switch (Category(cp)) {
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_CS:
    case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_CN:
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP:
    case UTF8PROC_CATEGORY_ZS:
      return false;
    default:
      return true;
  }
}

bool IsCased(uint32_t cp) {
  auto c = Category(cp);
  return c == UTF8PROC_CATEGORY_LU || c == UTF8PROC_CATEGORY_LL || c == UTF8PROC_CATEGORY_LT;
}

bool IsAlnum(uint32_t cp) {
  switch (Category(cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
      return true;
    default:
      return false;
  }
}

bool IsAlpha(uint32_t cp) {
  switch (Category(cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
      return true;
    default:
      return false;
  }
}

bool IsDecimal(uint32_t cp) { return Category(cp) == UTF8PROC_CATEGORY_ND; }

bool IsWordChar(uint32_t cp) { return cp == '_' || IsAlnum(cp); }

bool IsLineBreak(uint32_t cp) {
  return cp == '\n' || cp == '\r' || cp == 0x0B || cp == 0x0C || cp == 0x1C || cp == 0x1D ||
         cp == 0x1E || cp == 0x85 || cp == 0x2028 || cp == 0x2029;
}

uint32_t ToUpper(uint32_t cp) {
  if (cp < 0x80) return (cp >= 'a' && cp <= 'z') ? cp - 32 : cp;
  if (cp == 0xDF) return cp;  // Python maps it to "SS" (see AppendCased), never to U+1E9E
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return cp;
  return static_cast<uint32_t>(utf8proc_toupper(static_cast<utf8proc_int32_t>(cp)));
}

uint32_t ToLower(uint32_t cp) {
  if (cp < 0x80) return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return cp;
  return static_cast<uint32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(cp)));
}

uint32_t ToTitle(uint32_t cp) {
  if (cp < 0x80) return ToUpper(cp);
  if (cp == 0xDF) return cp;
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return cp;
  return static_cast<uint32_t>(utf8proc_totitle(static_cast<utf8proc_int32_t>(cp)));
}

std::string Upper(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t pos = 0;
  while (pos < s.size()) AppendCased(DecodeNext(s, &pos), CaseKind::kUpper, &out);
  return out;
}

std::string Lower(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t pos = 0;
  while (pos < s.size()) AppendCased(DecodeNext(s, &pos), CaseKind::kLower, &out);
  return out;
}

std::string SwapCase(std::string_view s) {
  return MapChars(s, [](uint32_t c) {
    auto cat = Category(c);
    if (cat == UTF8PROC_CATEGORY_LU) return ToLower(c);
    if (cat == UTF8PROC_CATEGORY_LL) return ToUpper(c);
    return c;
  });
}

std::string Capitalize(std::string_view s) {
  std::string out;
  size_t pos = 0;
  bool first = true;
  while (pos < s.size()) {
    uint32_t c = DecodeNext(s, &pos);
    AppendCased(c, first ? CaseKind::kTitle : CaseKind::kLower, &out);
    first = false;
  }
  return out;
}

std::string Title(std::string_view s) {
  std::string out;
  size_t pos = 0;
  bool prev_cased = false;
  while (pos < s.size()) {
    uint32_t c = DecodeNext(s, &pos);
    AppendCased(c, prev_cased ? CaseKind::kLower : CaseKind::kTitle, &out);
    prev_cased = IsCased(c);
  }
  return out;
}

std::string JinjaTitle(std::string_view s) {
  auto is_sep = [](uint32_t c) {
    return c == '-' || c == '(' || c == '{' || c == '[' || c == '<' || IsSpace(c);
  };
  std::string out;
  size_t pos = 0;
  bool have_prev = false, prev_sep = false;
  while (pos < s.size()) {
    uint32_t c = DecodeNext(s, &pos);
    bool sep = is_sep(c);
    bool start = !have_prev || sep != prev_sep;
    AppendCased(c, start ? CaseKind::kUpper : CaseKind::kLower, &out);
    have_prev = true;
    prev_sep = sep;
  }
  return out;
}

std::string Strip(std::string_view s, const std::optional<std::string>& chars, bool left,
                  bool right) {
  std::vector<uint32_t> set;
  if (chars) set = CodePoints(*chars);
  auto strip_it = [&](uint32_t c) { return chars ? InSet(c, set) : IsSpace(c); };
  size_t begin = 0, end = s.size();
  if (left) {
    while (begin < end) {
      size_t p = begin;
      uint32_t c = DecodeNext(s, &p);
      if (!strip_it(c)) break;
      begin = p;
    }
  }
  if (right) {
    // Walk forward remembering the end of the last non-stripped code point.
    size_t p = begin, last_keep = begin;
    while (p < end) {
      uint32_t c = DecodeNext(s, &p);
      if (!strip_it(c)) last_keep = p;
    }
    end = last_keep;
  }
  return std::string(s.substr(begin, end - begin));
}

std::vector<std::string> Split(std::string_view s, const std::optional<std::string>& sep,
                               int64_t maxsplit) {
  std::vector<std::string> out;
  if (maxsplit < 0) maxsplit = INT64_MAX;
  if (sep) {
    size_t start = 0;
    while (maxsplit-- > 0) {
      size_t at = s.find(*sep, start);
      if (at == std::string_view::npos) break;
      out.emplace_back(s.substr(start, at - start));
      start = at + sep->size();
    }
    out.emplace_back(s.substr(start));
    return out;
  }
  size_t i = 0, n = s.size();
  auto space_at = [&](size_t p, size_t* next) {
    uint32_t c = DecodeNext(s, next);
    (void)p;
    return IsSpace(c);
  };
  while (maxsplit-- > 0) {
    while (i < n) {
      size_t p = i;
      if (!space_at(i, &p)) break;
      i = p;
    }
    if (i == n) break;
    size_t j = i;
    while (i < n) {
      size_t p = i;
      if (space_at(i, &p)) break;
      i = p;
    }
    out.emplace_back(s.substr(j, i - j));
  }
  if (i < n) {
    while (i < n) {
      size_t p = i;
      if (!space_at(i, &p)) break;
      i = p;
    }
    if (i < n) out.emplace_back(s.substr(i));
  }
  return out;
}

std::vector<std::string> RSplit(std::string_view s, const std::optional<std::string>& sep,
                                int64_t maxsplit) {
  std::vector<std::string> out;
  if (maxsplit < 0) maxsplit = INT64_MAX;
  if (sep) {
    size_t end = s.size();
    while (maxsplit-- > 0) {
      if (end < sep->size()) break;
      size_t at = s.rfind(*sep, end - sep->size());
      if (at == std::string_view::npos) break;
      out.emplace_back(s.substr(at + sep->size(), end - at - sep->size()));
      end = at;
    }
    out.emplace_back(s.substr(0, end));
    std::reverse(out.begin(), out.end());
    return out;
  }
  // Work on code points from the right.
  std::vector<uint32_t> cps = CodePoints(s);
  int64_t i = static_cast<int64_t>(cps.size()) - 1;
  while (maxsplit-- > 0) {
    while (i >= 0 && IsSpace(cps[i])) --i;
    if (i < 0) break;
    int64_t j = i;
    while (i >= 0 && !IsSpace(cps[i])) --i;
    out.push_back(FromCodePoints(cps, i + 1, j + 1));
  }
  if (i >= 0) {
    while (i >= 0 && IsSpace(cps[i])) --i;
    if (i >= 0) out.push_back(FromCodePoints(cps, 0, i + 1));
  }
  std::reverse(out.begin(), out.end());
  return out;
}

std::vector<std::string> SplitLines(std::string_view s) {
  std::vector<std::string> out;
  size_t pos = 0, line_start = 0;
  while (pos < s.size()) {
    size_t here = pos;
    uint32_t c = DecodeNext(s, &pos);
    if (IsLineBreak(c)) {
      out.emplace_back(s.substr(line_start, here - line_start));
      if (c == '\r' && pos < s.size() && s[pos] == '\n') ++pos;
      line_start = pos;
    }
  }
  if (line_start < s.size()) out.emplace_back(s.substr(line_start));
  return out;
}

std::string Replace(std::string_view s, std::string_view old, std::string_view repl,
                    int64_t count) {
  if (count < 0) count = INT64_MAX;
  std::string out;
  if (old.empty()) {
    size_t pos = 0;
    while (pos < s.size()) {
      if (count > 0) {
        out.append(repl);
        --count;
      }
      size_t p = pos;
      DecodeNext(s, &p);
      out.append(s.substr(pos, p - pos));
      pos = p;
    }
    if (count > 0) out.append(repl);
    return out;
  }
  size_t start = 0;
  while (count-- > 0) {
    size_t at = s.find(old, start);
    if (at == std::string_view::npos) break;
    out.append(s.substr(start, at - start));
    out.append(repl);
    start = at + old.size();
  }
  out.append(s.substr(start));
  return out;
}

void AdjustIndices(std::optional<int64_t> start, std::optional<int64_t> end, int64_t n, int64_t* b,
                   int64_t* e) {
  int64_t st = start.value_or(0), en = end.value_or(n);
  if (en > n) {
    en = n;
  } else if (en < 0) {
    en += n;
    if (en < 0) en = 0;
  }
  if (st < 0) {
    st += n;
    if (st < 0) st = 0;
  }
  *b = st;
  *e = en;
}

int64_t Find(std::string_view s, std::string_view sub, std::optional<int64_t> start,
             std::optional<int64_t> end, bool reverse) {
  int64_t n = static_cast<int64_t>(Length(s)), b, e;
  AdjustIndices(start, end, n, &b, &e);
  int64_t sub_len = static_cast<int64_t>(Length(sub));
  if (e - b < sub_len) return -1;
  size_t bb = ByteOffset(s, b), eb = ByteOffset(s, e);
  std::string_view window = s.substr(bb, eb - bb);
  size_t at = reverse ? window.rfind(sub) : window.find(sub);
  if (at == std::string_view::npos) return -1;
  return b + static_cast<int64_t>(Length(window.substr(0, at)));
}

int64_t Count(std::string_view s, std::string_view sub, std::optional<int64_t> start,
              std::optional<int64_t> end) {
  int64_t n = static_cast<int64_t>(Length(s)), b, e;
  AdjustIndices(start, end, n, &b, &e);
  if (b > n) return 0;
  if (sub.empty()) return e >= b ? e - b + 1 : 0;
  if (e < b) return 0;
  size_t bb = ByteOffset(s, b), eb = ByteOffset(s, e);
  std::string_view window = s.substr(bb, eb - bb);
  int64_t count = 0;
  size_t at = 0;
  while ((at = window.find(sub, at)) != std::string_view::npos) {
    ++count;
    at += sub.size();
  }
  return count;
}

static bool TailMatch(std::string_view s, std::string_view affix, std::optional<int64_t> start,
                      std::optional<int64_t> end, bool at_end) {
  int64_t n = static_cast<int64_t>(Length(s)), b, e;
  AdjustIndices(start, end, n, &b, &e);
  int64_t alen = static_cast<int64_t>(Length(affix));
  if (e - alen < b) return false;
  if (alen == 0) return true;
  size_t bb = ByteOffset(s, b), eb = ByteOffset(s, e);
  std::string_view window = s.substr(bb, eb - bb);
  if (affix.size() > window.size()) return false;
  return at_end ? window.substr(window.size() - affix.size()) == affix
                : window.substr(0, affix.size()) == affix;
}

bool StartsWith(std::string_view s, std::string_view prefix, std::optional<int64_t> start,
                std::optional<int64_t> end) {
  if (!start && !end) return s.substr(0, prefix.size()) == prefix;
  return TailMatch(s, prefix, start, end, false);
}

bool EndsWith(std::string_view s, std::string_view suffix, std::optional<int64_t> start,
              std::optional<int64_t> end) {
  if (!start && !end) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
  }
  return TailMatch(s, suffix, start, end, true);
}

std::string Pad(std::string_view s, int64_t width, uint32_t fill, int where) {
  int64_t len = static_cast<int64_t>(Length(s));
  if (width <= len) return std::string(s);
  int64_t marg = width - len, left;
  if (where < 0) {
    left = 0;
  } else if (where > 0) {
    left = marg;
  } else {
    left = marg / 2 + (marg & width & 1);
  }
  std::string f;
  AppendCodePoint(fill, &f);
  std::string out;
  for (int64_t i = 0; i < left; ++i) out += f;
  out.append(s);
  for (int64_t i = 0; i < marg - left; ++i) out += f;
  return out;
}

}  // namespace ccguard::jinja::pystr

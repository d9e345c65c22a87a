// Python str semantics on UTF-8 strings.
//
// Templates index, slice, count, strip and split strings per code point, as Python does.
// Bytes that are not valid UTF-8 are treated as one code point each (U+DC80..U+DCFF, like
// Python's surrogateescape) and are copied through unchanged; nothing here fails on them.
// Case mapping is Unicode's simple case mapping (utf8proc) plus the common unconditional
// multi-character mappings Python applies ("ß".upper() == "SS", ligatures, "İ".lower());
// context-sensitive rules (Greek final sigma) are not reproduced.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ccguard::jinja::pystr {

// Decodes the code point at byte offset *pos and advances *pos past it.
uint32_t DecodeNext(std::string_view s, size_t* pos);
// Appends code point `cp` (U+DC80..U+DCFF from DecodeNext are written back as the raw byte).
void AppendCodePoint(uint32_t cp, std::string* out);
// Splits into code points.
std::vector<uint32_t> CodePoints(std::string_view s);
// The string of code points [begin, end) of `cps`.
std::string FromCodePoints(const std::vector<uint32_t>& cps, size_t begin, size_t end);
size_t Length(std::string_view s);  // code points

// Character classes, as Python's str methods define them.
bool IsSpace(uint32_t cp);      // str.isspace
bool IsPrintable(uint32_t cp);  // str.isprintable (repr escapes the others)
bool IsCased(uint32_t cp);      // Lu, Ll, Lt
bool IsAlnum(uint32_t cp);      // letters and digits
bool IsAlpha(uint32_t cp);      // letters (L*)
bool IsDecimal(uint32_t cp);    // decimal digits (Nd)
bool IsWordChar(uint32_t cp);   // regex \w
bool IsLineBreak(uint32_t cp);  // str.splitlines boundaries
uint32_t ToUpper(uint32_t cp);
uint32_t ToLower(uint32_t cp);
uint32_t ToTitle(uint32_t cp);

std::string Upper(std::string_view s);
std::string Lower(std::string_view s);
std::string Capitalize(std::string_view s);  // str.capitalize
std::string Title(std::string_view s);       // str.title
std::string JinjaTitle(std::string_view s);  // Jinja's `title` filter (splits on -\s({[<)
std::string SwapCase(std::string_view s);

// strip/lstrip/rstrip; `chars` absent strips whitespace.
std::string Strip(std::string_view s, const std::optional<std::string>& chars, bool left,
                  bool right);
// str.split / str.rsplit. `sep` absent splits on whitespace runs. maxsplit < 0: unlimited.
// An empty `sep` is the caller's error (Python raises ValueError).
std::vector<std::string> Split(std::string_view s, const std::optional<std::string>& sep,
                               int64_t maxsplit);
std::vector<std::string> RSplit(std::string_view s, const std::optional<std::string>& sep,
                                int64_t maxsplit);
// str.splitlines(keepends=False).
std::vector<std::string> SplitLines(std::string_view s);
// str.replace; count < 0: all.
std::string Replace(std::string_view s, std::string_view old, std::string_view repl, int64_t count);
// Python slice-index normalisation of [start, end) for a sequence of length n.
void AdjustIndices(std::optional<int64_t> start, std::optional<int64_t> end, int64_t n, int64_t* b,
                   int64_t* e);
// str.find / str.rfind with optional start/end in code points; -1 when absent.
int64_t Find(std::string_view s, std::string_view sub, std::optional<int64_t> start,
             std::optional<int64_t> end, bool reverse);
// str.count.
int64_t Count(std::string_view s, std::string_view sub, std::optional<int64_t> start,
              std::optional<int64_t> end);
// str.startswith/endswith for one affix.
bool StartsWith(std::string_view s, std::string_view prefix, std::optional<int64_t> start,
                std::optional<int64_t> end);
bool EndsWith(std::string_view s, std::string_view suffix, std::optional<int64_t> start,
              std::optional<int64_t> end);
// str.center/ljust/rjust (fill is one code point).
std::string Pad(std::string_view s, int64_t width, uint32_t fill, int where /*-1 l,0 c,1 r*/);

}  // namespace ccguard::jinja::pystr

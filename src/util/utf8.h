// UTF-8 validation and small helpers.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "util/status.h"

namespace ccguard {

// True when `s` is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
// On failure, *error_offset (if given) is the byte offset of the first bad byte.
bool IsValidUtf8(std::string_view s, size_t* error_offset = nullptr);

// OK, or InvalidArgument("<what>: invalid UTF-8 at byte N").
Status CheckUtf8(std::string_view s, std::string_view what);

// Appends the UTF-8 encoding of code point `cp` to `out`.
void AppendUtf8(uint32_t cp, std::string* out);

}  // namespace ccguard

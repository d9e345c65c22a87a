// GPT-2 byte-level mapping (Hugging Face `ByteLevel` pre-tokenizer and decoder).
//
// Every byte 0..255 is mapped to one printable Unicode code point (the
// `bytes_to_unicode` table of GPT-2): printable Latin-1 bytes map to
// themselves, the 68 others to U+0100..U+0143. Byte-level BPE vocabularies are
// written in this alphabet.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace ccguard {

// Appends the UTF-8 encoding of the byte-level code point of every byte of
// `bytes` to *out.
void ByteLevelEncode(std::string_view bytes, std::string* out);

// Appends to *out the bytes that token `token` (UTF-8, byte-level alphabet)
// stands for. If some code point of `token` is outside the byte-level
// alphabet (e.g. an added token such as "<|im_end|>" written with
// characters outside it), appends the raw bytes of `token` instead, as
// Hugging Face's ByteLevel decoder does.
void ByteLevelDecodeToken(std::string_view token, std::string* out);

// The byte `cp` stands for, or -1 if `cp` is outside the byte-level alphabet.
int ByteLevelByteOf(uint32_t cp);

// Returns `bytes` with every maximal invalid UTF-8 subsequence replaced by
// U+FFFD, exactly as Rust's String::from_utf8_lossy (and so Hugging Face's
// decoders) do ("substitution of maximal subparts", Unicode 15, 3.9).
std::string Utf8Lossy(std::string_view bytes);

}  // namespace ccguard

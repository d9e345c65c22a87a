#include "tokenizer/byte_level.h"

#include <gtest/gtest.h>

#include <string>

namespace ccguard {
namespace {

std::string Encode(std::string_view bytes) {
  std::string out;
  ByteLevelEncode(bytes, &out);
  return out;
}

std::string DecodeToken(std::string_view token) {
  std::string out;
  ByteLevelDecodeToken(token, &out);
  return out;
}

TEST(ByteLevelTest, Gpt2Table) {
  EXPECT_EQ(Encode(" "), "\xC4\xA0");     // U+0120 'Ġ'
  EXPECT_EQ(Encode("\n"), "\xC4\x8A");    // U+010A 'Ċ'
  EXPECT_EQ(Encode("a!~"), "a!~");        // printable ASCII maps to itself
  EXPECT_EQ(Encode("\xA1"), "\xC2\xA1");  // printable Latin-1 maps to itself
  EXPECT_EQ(Encode("\xAD"), "\xC5\x83");  // soft hyphen: last of the 68 -> U+0143
  EXPECT_EQ(Encode(std::string_view("\0", 1)), "\xC4\x80");  // U+0100
  EXPECT_EQ(ByteLevelByteOf(0x120), 0x20);
  EXPECT_EQ(ByteLevelByteOf('a'), 'a');
  EXPECT_EQ(ByteLevelByteOf(0x20), -1);  // a raw space is not in the alphabet
  EXPECT_EQ(ByteLevelByteOf(0x144), -1);
  EXPECT_EQ(ByteLevelByteOf(0x4E2D), -1);
}

TEST(ByteLevelTest, AllBytesRoundTrip) {
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  std::string encoded = Encode(all);
  EXPECT_EQ(DecodeToken(encoded), all);
  // Every byte maps to a distinct code point.
  for (int b = 0; b < 256; ++b) {
    std::string one(1, static_cast<char>(b));
    EXPECT_EQ(DecodeToken(Encode(one)), one) << b;
  }
}

TEST(ByteLevelTest, TokensOutsideTheAlphabetAreKeptRaw) {
  EXPECT_EQ(DecodeToken("<|im_end|>"), "<|im_end|>");  // all printable ASCII
  EXPECT_EQ(DecodeToken("a b"), "a b");                // raw space: whole token raw
  EXPECT_EQ(DecodeToken("\xC4\xA0"
                        "\xE4\xB8\xAD"),
            "\xC4\xA0\xE4\xB8\xAD");
  EXPECT_EQ(DecodeToken("\xC4\xA0"
                        "hi"),
            " hi");
}

TEST(ByteLevelTest, Utf8LossyKeepsValidText) {
  EXPECT_EQ(Utf8Lossy(""), "");
  EXPECT_EQ(Utf8Lossy("plain ascii"), "plain ascii");
  EXPECT_EQ(Utf8Lossy("\xE4\xB8\xAD\xF0\x9F\x98\x80\xC3\xA9"),
            "\xE4\xB8\xAD\xF0\x9F\x98\x80\xC3\xA9");
  EXPECT_EQ(Utf8Lossy(std::string("a\0b", 3)), std::string("a\0b", 3));
}

TEST(ByteLevelTest, Utf8LossyReplacesMaximalSubparts) {
  const std::string r = "\xEF\xBF\xBD";
  EXPECT_EQ(Utf8Lossy("\xE4\xB8"
                      "a"),
            r + "a");                                       // truncated 3-byte sequence
  EXPECT_EQ(Utf8Lossy("\xE4\xB8"), r);                      // truncated at the end
  EXPECT_EQ(Utf8Lossy("\xF1\x80\x80"), r);                  // truncated 4-byte sequence
  EXPECT_EQ(Utf8Lossy("\xF0\x80\x80\x80"), r + r + r + r);  // overlong: F0 needs 90..BF
  EXPECT_EQ(Utf8Lossy("\xED\xA0\x80"), r + r + r);          // surrogate: ED needs 80..9F
  EXPECT_EQ(Utf8Lossy("\xC0\xAF"), r + r);                  // C0, C1 never valid
  EXPECT_EQ(Utf8Lossy("\xF4\x90\x80\x80"), r + r + r + r);  // above U+10FFFF
  EXPECT_EQ(Utf8Lossy("\xFF\xFE"), r + r);
  EXPECT_EQ(Utf8Lossy("\x80"
                      "a\xBF"),
            r + "a" + r);  // lone continuation bytes
  EXPECT_EQ(Utf8Lossy("\xE0\xA0"
                      "\xE4\xB8\xAD"),
            r + "\xE4\xB8\xAD");
}

}  // namespace
}  // namespace ccguard

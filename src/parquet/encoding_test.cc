#include "parquet/encoding.h"

#include <gtest/gtest.h>

namespace ccguard::parquet {
namespace {

std::vector<uint8_t> B(std::initializer_list<int> v) {
  std::vector<uint8_t> out;
  for (int x : v) out.push_back(static_cast<uint8_t>(x));
  return out;
}

TEST(EncodingTest, BitWidth) {
  EXPECT_EQ(BitWidth(0), 0);
  EXPECT_EQ(BitWidth(1), 1);
  EXPECT_EQ(BitWidth(3), 2);
  EXPECT_EQ(BitWidth(4), 3);
}

// The hybrid's examples: an RLE run and a bit-packed run of 0..7 at width 3
// (the Parquet spec's bit-packing example: 0 1 2 3 4 5 6 7 ->
// 10001000 11000110 11111010).
TEST(EncodingTest, RleAndBitPackedRuns) {
  auto data = B({0x06, 0x05, 0x03, 0x88, 0xC6, 0xFA});  // 3 x 5, then 1 group of 8 at width 3
  RleBitPackedDecoder dec(data.data(), data.size(), 3);
  std::vector<uint32_t> out(11);
  ASSERT_TRUE(dec.Get(11, out.data()).ok());
  EXPECT_EQ(out, (std::vector<uint32_t>{5, 5, 5, 0, 1, 2, 3, 4, 5, 6, 7}));
  uint32_t more;
  EXPECT_EQ(dec.Get(1, &more).code(), Status::Code::kCorruption);
  RleBitPackedDecoder wide(data.data(), data.size(), 33);
  EXPECT_FALSE(wide.Get(1, &more).ok());
}

TEST(EncodingTest, RleEncoderRoundTrips) {
  std::vector<uint32_t> v = {1, 1, 1, 0, 0, 1, 0, 1, 1};
  std::string s;
  EncodeRle(v, 1, &s);
  RleBitPackedDecoder dec(reinterpret_cast<const uint8_t*>(s.data()), s.size(), 1);
  std::vector<uint32_t> out(v.size());
  ASSERT_TRUE(dec.Get(v.size(), out.data()).ok());
  EXPECT_EQ(out, v);
}

// The spec's DELTA_BINARY_PACKED example 1: 1 2 3 4 5 (block 128, 4
// miniblocks, min delta 1, all bit widths 0).
TEST(EncodingTest, DeltaBinaryPackedSpecExample) {
  auto data = B({0x80, 0x01, 0x04, 0x05, 0x02, 0x02, 0, 0, 0, 0});
  size_t used = 0;
  auto v = DecodeDeltaBinaryPacked(data.data(), data.size(), 5, &used);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(*v, (std::vector<int64_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(used, data.size());
  // More values than the caller expects: refused before allocating.
  EXPECT_FALSE(DecodeDeltaBinaryPacked(data.data(), data.size(), 4, &used).ok());
  // Truncated header.
  EXPECT_FALSE(DecodeDeltaBinaryPacked(data.data(), 3, 5, &used).ok());
}

// Example 2 of the spec: 7 5 3 1 2 3 4 5: deltas -2 -2 -2 1 1 1 1, min -2,
// relative 0 0 0 3 3 3 3 at bit width 2 in the first miniblock.
TEST(EncodingTest, DeltaBinaryPackedNegativeDeltas) {
  // header: block 128, 4 miniblocks, 8 values, first 7 (zigzag 14)
  // block: min delta -2 (zigzag 3), widths 2 0 0 0, miniblock of 32 values at width 2 (8 bytes)
  auto data = B({0x80, 0x01, 0x04, 0x08, 0x0E, 0x03, 2, 0, 0, 0, 0xC0, 0x3F, 0x00, 0x00, 0x00, 0x00,
                 0x00, 0x00});
  size_t used = 0;
  auto v = DecodeDeltaBinaryPacked(data.data(), data.size(), 8, &used);
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  EXPECT_EQ(*v, (std::vector<int64_t>{7, 5, 3, 1, 2, 3, 4, 5}));
}

// The spec's DELTA_BYTE_ARRAY example: axis axle babble babyhood ->
// prefixes 0 2 0 3, suffixes axis le babble yhood.
TEST(EncodingTest, DeltaByteArraySpecExample) {
  std::vector<uint8_t> data;
  // prefix lengths 0 2 0 3: first 0, deltas 2 -2 3, min -2 -> 4 0 5 at width 3
  for (int b : {0x80, 0x01, 0x04, 0x04, 0x00, 0x03, 3, 0, 0, 0})
    data.push_back(static_cast<uint8_t>(b));
  // 4 0 5 at width 3: bits 100 000 101 -> byte0 = 0b01000100? (LSB first)
  // value0=4 -> bits 0-2 = 0,0,1; value1=0 -> bits 3-5 = 0; value2=5 -> bits 6-8 = 1,0,1
  data.push_back(0x44);                            // bit2 (4) and bit6 (from 5's low bit)
  data.push_back(0x01);                            // bit8 (5's high bit)
  for (int i = 0; i < 10; ++i) data.push_back(0);  // rest of the 32-value miniblock (12 bytes)
  // suffix lengths 4 2 6 5: first 4, deltas -2 4 -1, min -2 -> 0 6 1 at width 3
  for (int b : {0x80, 0x01, 0x04, 0x04, 0x08, 0x03, 3, 0, 0, 0})
    data.push_back(static_cast<uint8_t>(b));
  // 0 6 1: bits 000 011 100 -> byte0 bits 3,4 (6 = 0b110 -> bits 4,5), value2=1 -> bit 6
  data.push_back(0x70);
  data.push_back(0x00);
  for (int i = 0; i < 10; ++i) data.push_back(0);
  for (char c : std::string("axislebabbleyhood")) data.push_back(static_cast<uint8_t>(c));
  std::vector<std::string> out;
  Status s = DecodeDeltaByteArray(data.data(), data.size(), 4, &out);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(out, (std::vector<std::string>{"axis", "axle", "babble", "babyhood"}));
  // A prefix longer than the previous value is corruption.
  data[10] = 0x47;  // the first prefix becomes 5, longer than the (empty) previous value
  EXPECT_FALSE(DecodeDeltaByteArray(data.data(), data.size(), 4, &out).ok());
}

TEST(EncodingTest, ByteStreamSplit) {
  auto data = B({1, 2, 3, 10, 20, 30});  // 3 values of width 2
  std::string out;
  ASSERT_TRUE(DecodeByteStreamSplit(data.data(), data.size(), 3, 2, &out).ok());
  EXPECT_EQ(out, std::string("\x01\x0a\x02\x14\x03\x1e", 6));
  EXPECT_FALSE(DecodeByteStreamSplit(data.data(), data.size(), 4, 2, &out).ok());
}

}  // namespace
}  // namespace ccguard::parquet

#include "weights/dtype.h"

#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

namespace ccguard {
namespace {

float FromBits(uint32_t b) { return std::bit_cast<float>(b); }
uint32_t Bits(float f) { return std::bit_cast<uint32_t>(f); }

TEST(DTypeTest, NamesAndSizesRoundTrip) {
  struct Case {
    const char* name;
    DType dtype;
    size_t size;
  };
  const Case cases[] = {
      {"BOOL", DType::kBool, 1}, {"U8", DType::kU8, 1},          {"I8", DType::kI8, 1},
      {"I16", DType::kI16, 2},   {"U16", DType::kU16, 2},        {"F16", DType::kF16, 2},
      {"BF16", DType::kBF16, 2}, {"I32", DType::kI32, 4},        {"U32", DType::kU32, 4},
      {"F32", DType::kF32, 4},   {"F64", DType::kF64, 8},        {"I64", DType::kI64, 8},
      {"U64", DType::kU64, 8},   {"F8_E4M3", DType::kF8E4M3, 1}, {"F8_E5M2", DType::kF8E5M2, 1},
  };
  for (const Case& c : cases) {
    Result<DType> d = ParseDType(c.name);
    ASSERT_TRUE(d.ok()) << c.name << ": " << d.status().ToString();
    EXPECT_EQ(*d, c.dtype) << c.name;
    EXPECT_STREQ(DTypeName(c.dtype), c.name);
    EXPECT_EQ(DTypeSize(c.dtype), c.size) << c.name;
  }
}

TEST(DTypeTest, UnknownNamesAreCorruption) {
  for (const char* name : {"bf16", "FP32", "", "F8", "BF16 ", "float32"}) {
    Result<DType> d = ParseDType(name);
    ASSERT_FALSE(d.ok()) << name;
    EXPECT_EQ(d.status().code(), Status::Code::kCorruption) << name;
    EXPECT_NE(d.status().message().find("\"" + std::string(name) + "\""), std::string::npos)
        << d.status().message();
  }
}

TEST(DTypeTest, NewerSafetensorsDTypesAreNotSupported) {
  for (const char* name : {"F8_E8M0", "F4", "F6_E2M3", "F6_E3M2", "C64"}) {
    Result<DType> d = ParseDType(name);
    ASSERT_FALSE(d.ok()) << name;
    EXPECT_EQ(d.status().code(), Status::Code::kNotSupported) << name;
    EXPECT_NE(d.status().message().find(name), std::string::npos);
  }
}

TEST(DTypeTest, Bf16ToF32KnownBits) {
  EXPECT_EQ(Bf16ToF32(0x3F80), 1.0f);
  EXPECT_EQ(Bf16ToF32(0xC000), -2.0f);
  EXPECT_EQ(Bf16ToF32(0x3E20), 0.15625f);
  EXPECT_EQ(Bf16ToF32(0x7F7F), FromBits(0x7F7F0000));  // largest finite bf16
  EXPECT_EQ(Bf16ToF32(0x0001), FromBits(0x00010000));  // smallest subnormal, 2^-133
  EXPECT_EQ(Bits(Bf16ToF32(0x8000)), 0x80000000u);     // -0
  EXPECT_EQ(Bf16ToF32(0x7F80), std::numeric_limits<float>::infinity());
  EXPECT_EQ(Bf16ToF32(0xFF80), -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(Bf16ToF32(0x7FC0)));
  EXPECT_TRUE(std::isnan(Bf16ToF32(0x7F81)));
}

TEST(DTypeTest, F16ToF32KnownBits) {
  EXPECT_EQ(F16ToF32(0x3C00), 1.0f);
  EXPECT_EQ(F16ToF32(0xC000), -2.0f);
  EXPECT_EQ(F16ToF32(0x3555), 0.333251953125f);
  EXPECT_EQ(F16ToF32(0x7BFF), 65504.0f);                  // largest finite
  EXPECT_EQ(F16ToF32(0x0400), std::ldexp(1.0f, -14));     // smallest normal
  EXPECT_EQ(F16ToF32(0x0001), std::ldexp(1.0f, -24));     // smallest subnormal
  EXPECT_EQ(F16ToF32(0x03FF), std::ldexp(1023.0f, -24));  // largest subnormal
  EXPECT_EQ(F16ToF32(0x8001), -std::ldexp(1.0f, -24));
  EXPECT_EQ(F16ToF32(0x0200), std::ldexp(1.0f, -15));
  EXPECT_EQ(Bits(F16ToF32(0x0000)), 0x00000000u);
  EXPECT_EQ(Bits(F16ToF32(0x8000)), 0x80000000u);  // -0 keeps its sign
  EXPECT_EQ(F16ToF32(0x7C00), std::numeric_limits<float>::infinity());
  EXPECT_EQ(F16ToF32(0xFC00), -std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(F16ToF32(0x7E00)));
  EXPECT_TRUE(std::isnan(F16ToF32(0x7C01)));  // signalling NaN is not inf
  EXPECT_TRUE(std::isnan(F16ToF32(0xFE00)));
  EXPECT_TRUE(std::signbit(F16ToF32(0xFE00)));
}

// Every half value against an independent formula.
TEST(DTypeTest, F16ToF32AllValues) {
  for (uint32_t v = 0; v < 0x10000; ++v) {
    const uint32_t sign = v >> 15, exp = (v >> 10) & 0x1F, mant = v & 0x3FF;
    const float got = F16ToF32(static_cast<uint16_t>(v));
    if (exp == 0x1F) {
      EXPECT_EQ(std::isnan(got), mant != 0) << std::hex << v;
      EXPECT_EQ(std::isinf(got), mant == 0) << std::hex << v;
      continue;
    }
    double want = exp == 0
                      ? std::ldexp(static_cast<double>(mant), -24)
                      : std::ldexp(static_cast<double>(1024 + mant), static_cast<int>(exp) - 25);
    if (sign) want = -want;
    ASSERT_EQ(static_cast<double>(got), want) << std::hex << v;
    ASSERT_EQ(std::signbit(got), sign != 0) << std::hex << v;
  }
}

TEST(DTypeTest, F32ToBf16RoundsToNearestEven) {
  EXPECT_EQ(F32ToBf16(1.0f), 0x3F80);
  EXPECT_EQ(F32ToBf16(-2.0f), 0xC000);
  EXPECT_EQ(F32ToBf16(FromBits(0x3F807FFF)), 0x3F80);  // below half: down
  EXPECT_EQ(F32ToBf16(FromBits(0x3F808000)), 0x3F80);  // tie, 0x3F80 even: down
  EXPECT_EQ(F32ToBf16(FromBits(0x3F808001)), 0x3F81);  // above half: up
  EXPECT_EQ(F32ToBf16(FromBits(0x3F818000)), 0x3F82);  // tie, 0x3F81 odd: up to even
  EXPECT_EQ(F32ToBf16(FromBits(0xBF818000)), 0xBF82);  // same for negatives
  EXPECT_EQ(F32ToBf16(FromBits(0x3F7FFFFF)), 0x3F80);  // carries into the exponent
  EXPECT_EQ(F32ToBf16(FromBits(0x00008000)), 0x0000);  // subnormal tie to even
  EXPECT_EQ(F32ToBf16(FromBits(0x00018000)), 0x0002);
  EXPECT_EQ(F32ToBf16(-0.0f), 0x8000);
  EXPECT_EQ(F32ToBf16(std::numeric_limits<float>::max()), 0x7F80);  // overflows to inf
  EXPECT_EQ(F32ToBf16(FromBits(0x7F7F7FFF)), 0x7F7F);
  EXPECT_EQ(F32ToBf16(std::numeric_limits<float>::infinity()), 0x7F80);
  EXPECT_EQ(F32ToBf16(-std::numeric_limits<float>::infinity()), 0xFF80);
}

TEST(DTypeTest, F32ToBf16KeepsNaN) {
  // 0x7F800001 truncates to 0x7F80 (inf) and would round to inf: it must stay NaN.
  for (uint32_t bits :
       {0x7FC00000u, 0x7F800001u, 0x7FFFFFFFu, 0x7F80FFFFu, 0xFFC00000u, 0xFF800001u}) {
    const uint16_t h = F32ToBf16(FromBits(bits));
    EXPECT_TRUE(std::isnan(Bf16ToF32(h))) << std::hex << bits << " -> " << h;
    EXPECT_EQ(h & 0x8000, (bits >> 16) & 0x8000) << std::hex << bits;  // sign kept
  }
}

TEST(DTypeTest, Bf16RoundTripsExactly) {
  for (uint32_t v = 0; v < 0x10000; ++v) {
    const float f = Bf16ToF32(static_cast<uint16_t>(v));
    if (std::isnan(f)) {
      EXPECT_TRUE(std::isnan(Bf16ToF32(F32ToBf16(f)))) << std::hex << v;
    } else {
      ASSERT_EQ(F32ToBf16(f), v) << std::hex << v;
    }
  }
}

TEST(DTypeTest, ConvertToF32) {
  const std::vector<float> f32 = {1.5f, -0.0f, 3e-40f, 1e30f};
  std::vector<float> out(4);
  ASSERT_TRUE(ConvertToF32(DType::kF32, f32.data(), 4, out.data()).ok());
  EXPECT_EQ(std::memcmp(out.data(), f32.data(), sizeof(float) * 4), 0);

  // BF16 and F16 from an odd (misaligned) address.
  const uint16_t bf16[] = {0x3F80, 0xC000, 0x7F80, 0x0001};
  const uint16_t f16[] = {0x3C00, 0xC000, 0x7C00, 0x0001};
  std::vector<uint8_t> buf(1 + sizeof(bf16));
  std::memcpy(buf.data() + 1, bf16, sizeof(bf16));
  ASSERT_TRUE(ConvertToF32(DType::kBF16, buf.data() + 1, 4, out.data()).ok());
  EXPECT_EQ(out, (std::vector<float>{1.0f, -2.0f, std::numeric_limits<float>::infinity(),
                                     FromBits(0x00010000)}));
  std::memcpy(buf.data() + 1, f16, sizeof(f16));
  ASSERT_TRUE(ConvertToF32(DType::kF16, buf.data() + 1, 4, out.data()).ok());
  EXPECT_EQ(out, (std::vector<float>{1.0f, -2.0f, std::numeric_limits<float>::infinity(),
                                     std::ldexp(1.0f, -24)}));

  EXPECT_TRUE(ConvertToF32(DType::kBF16, nullptr, 0, out.data()).ok());
}

TEST(DTypeTest, ConvertToF32RejectsNonFloatTypes) {
  const uint8_t src[8] = {};
  float out[8];
  for (DType d : {DType::kI32, DType::kU8, DType::kBool, DType::kF64, DType::kF8E4M3,
                  DType::kF8E5M2, DType::kI64}) {
    Status s = ConvertToF32(d, src, 1, out);
    ASSERT_FALSE(s.ok()) << DTypeName(d);
    EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
    EXPECT_NE(s.message().find(DTypeName(d)), std::string::npos) << s.message();
    EXPECT_FALSE(IsConvertibleToF32(d));
  }
  EXPECT_TRUE(IsConvertibleToF32(DType::kF32));
  EXPECT_TRUE(IsConvertibleToF32(DType::kF16));
  EXPECT_TRUE(IsConvertibleToF32(DType::kBF16));
}

}  // namespace
}  // namespace ccguard

#include "util/status.h"

#include <gtest/gtest.h>

#include "util/utf8.h"

namespace ccguard {
namespace {

Result<int> Half(int x) {
  if (x % 2) return Status::InvalidArgument("odd: " + std::to_string(x));
  return x / 2;
}

Result<int> Quarter(int x) {
  CCG_ASSIGN_OR_RETURN(int h, Half(x));
  CCG_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

TEST(StatusTest, OkAndErrors) {
  EXPECT_TRUE(Status::Ok().ok());
  Status s = Status::Corruption("x.safetensors: truncated");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Status::Code::kCorruption);
  EXPECT_EQ(s.ToString(), "corruption: x.safetensors: truncated");
  EXPECT_EQ(s.WithContext("loading model").message(), "loading model: x.safetensors: truncated");
}

TEST(StatusTest, ResultPropagates) {
  EXPECT_EQ(*Quarter(8), 2);
  auto r = Quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "odd: 3");
}

TEST(Utf8Test, Validation) {
  size_t off = 99;
  EXPECT_TRUE(IsValidUtf8("héllo 世界 🙂"));
  EXPECT_FALSE(IsValidUtf8("ab\xff", &off));
  EXPECT_EQ(off, 2u);
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xe4\xb8"));          // truncated
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // > U+10FFFF
  EXPECT_EQ(CheckUtf8("a\x80", "item 3").message(), "item 3: invalid UTF-8 at byte 1");
  std::string out;
  AppendUtf8(0x1F642, &out);
  EXPECT_EQ(out, "🙂");
}

}  // namespace
}  // namespace ccguard
